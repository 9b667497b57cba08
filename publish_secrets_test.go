package ags_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// TestPublishKeepsSecrets publishes through the reliability harness (debug
// log, token recorder): in one request, in parts, and a failed publish,
// and checks that no token or password leaked into the log, a URL, an
// error or a kept value.
func TestPublishKeepsSecrets(t *testing.T) {
	t.Parallel()
	srv := agstest.NewServer()
	t.Cleanup(srv.Close)
	h := newHarness(t, srv)
	ctx := context.Background()
	for _, up := range []*ags.UploadOptions{nil, {PartSize: 64 << 10, PartThreshold: 1}} {
		job, err := h.client.Services.PublishSD(ctx, ags.PublishSDRequest{Reader: agstest.FakeSD(200 << 10), Name: "Roads.sd",
			ServiceName: "Roads" + string(rune('A'+len(h.values))), Upload: up})
		require.NoError(t, err)
		res, err := job.Wait(ctx, nil)
		require.NoError(t, err)
		h.keep(job, res)
	}
	srv.FailPublish("ERROR 001487: Failed to update the published service with the server-side data location.")
	job, err := h.client.Services.PublishSD(ctx, ags.PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Bad.sd"})
	require.NoError(t, err)
	_, err = job.Wait(ctx, nil)
	require.Error(t, err)
	h.keep(err, h.client.Uploads)
	_, err = h.client.Uploads.Get(ctx, "inope")
	require.Error(t, err)
	h.keep(err)
	h.checkNoSecrets()
}
