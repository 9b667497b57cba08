# The ags command-line tool as a static image: a distroless base with CA
# certificates and no shell, running as a non-root user.
#
#   docker build -t ags .
#   docker run --rm -e AGS_URL -e AGS_USERNAME -e AGS_PASSWORD ags services list
#   docker run --rm ags --demo services list
#   docker buildx build --platform linux/amd64,linux/arm64 -t ags .
FROM --platform=$BUILDPLATFORM golang:1.24 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/ags ./cmd/ags

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ags /usr/local/bin/ags
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/ags"]
