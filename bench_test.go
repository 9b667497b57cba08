package ags

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// benchInfo is a small rest/info answer, the size of a typical read.
const benchInfo = `{"currentVersion":11.3,"fullVersion":"11.3.0","soapUrl":"https://gis.example.com/arcgis/services",` +
	`"secureSoapUrl":null,"authInfo":{"isTokenBasedSecurity":true,` +
	`"tokenServicesUrl":"https://gis.example.com/arcgis/tokens/","shortLivedTokenValidity":60}}`

type benchServerInfo struct {
	CurrentVersion float64 `json:"currentVersion"`
	FullVersion    string  `json:"fullVersion"`
	AuthInfo       struct {
		IsTokenBasedSecurity    bool   `json:"isTokenBasedSecurity"`
		TokenServicesURL        string `json:"tokenServicesUrl"`
		ShortLivedTokenValidity int    `json:"shortLivedTokenValidity"`
	} `json:"authInfo"`
}

func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, benchInfo)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkGet_SDK is one small authenticated read through the whole
// pipeline: form encoding, the token in a POST body (and the header),
// retrying transport, bounded read, envelope sniffing and decoding.
func BenchmarkGet_SDK(b *testing.B) {
	srv := benchServer(b)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(srv.URL+"/arcgis", WithToken(testToken), WithInsecureHTTP(),
		WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		var info benchServerInfo
		if err := c.Get(ctx, "rest/info", nil, &info); err != nil {
			b.Fatal(err)
		}
		if info.CurrentVersion != 11.3 {
			b.Fatal("bad decode")
		}
	}
}

// BenchmarkGet_NetHTTP is the same request written by hand with net/http
// and encoding/json: the same POST body, headers and decoding.
func BenchmarkGet_NetHTTP(b *testing.B) {
	srv := benchServer(b)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	u := srv.URL + "/arcgis/rest/info"
	form := "f=json&token=" + url.QueryEscape(testToken)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "bench")
		req.Header.Set("Referer", DefaultReferer)
		req.Header.Set("X-Esri-Authorization", "Bearer "+testToken)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxResponseBytes))
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		var info benchServerInfo
		if err := json.Unmarshal(body, &info); err != nil {
			b.Fatal(err)
		}
		if info.CurrentVersion != 11.3 {
			b.Fatal("bad decode")
		}
	}
}
