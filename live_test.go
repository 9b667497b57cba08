package ags_test

// The live suite runs against a real ArcGIS Server when AGS_URL,
// AGS_USERNAME and AGS_PASSWORD are set, and is skipped otherwise:
//
//	AGS_URL=https://gis.example.com:6443/arcgis AGS_USERNAME=admin AGS_PASSWORD=... \
//	AGS_LIVE_SERVICE_JSON=./scratch-service.json go test -run Live -v .
//
// AGS_LIVE_SERVICE_JSON names a service definition the server can create
// (for a map service, its properties must point at data the server can
// read); the scratch tests need it and say so when it is missing. Everything
// the suite creates lives in a scratch folder deleted at the end, even when
// a test fails.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func liveClient(t *testing.T) *ags.Client {
	t.Helper()
	site, user, pass := os.Getenv("AGS_URL"), os.Getenv("AGS_USERNAME"), os.Getenv("AGS_PASSWORD")
	if site == "" || user == "" || pass == "" {
		t.Skip("live suite: set AGS_URL, AGS_USERNAME and AGS_PASSWORD to run it against a real server")
	}
	c, err := ags.NewClient(site, ags.WithCredentials(user, pass))
	require.NoError(t, err)
	return c
}

func liveContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestLiveSignInAndList(t *testing.T) {
	c := liveClient(t)
	ctx := liveContext(t, time.Minute)
	root, err := c.Services.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, "/", root.FolderName)
	t.Logf("root folder: %d folders, %d services", len(root.Folders), len(root.Services))
	for _, f := range root.Folders {
		_, err := c.Services.List(ctx, f)
		assert.NoError(t, err, "folder %s", f)
	}
}

func TestLiveScratchServiceLifecycle(t *testing.T) {
	c := liveClient(t)
	path := os.Getenv("AGS_LIVE_SERVICE_JSON")
	if path == "" {
		t.Skip("live suite: set AGS_LIVE_SERVICE_JSON to a service definition this server can create")
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var def ags.ServiceDefinition
	require.NoError(t, json.Unmarshal(b, &def))
	def.ServiceName = fmt.Sprintf("ags_live_%d", rand.IntN(1_000_000))
	folder := fmt.Sprintf("ags_live_%d", rand.IntN(1_000_000))
	ctx := liveContext(t, 15*time.Minute)

	require.NoError(t, c.Services.CreateFolder(ctx, folder, "scratch folder of the ags live suite"))
	t.Cleanup(func() {
		// A fresh context: clean up even when the test's own has ended.
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.Services.Delete(cctx, ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type}); err != nil && !isNotFound(err) {
			t.Errorf("cleanup: delete service: %v", err)
		}
		// deleteFolder is reached through the escape hatch.
		if err := c.Post(cctx, "admin/services/"+folder+"/deleteFolder", nil, nil); err != nil {
			t.Errorf("cleanup: delete folder %s: %v", folder, err)
		}
	})

	can, err := c.Services.CanCreate(ctx, folder, def)
	require.NoError(t, err)
	require.True(t, can.OK, "canCreateService: %v", can.Reasons)
	require.NoError(t, c.Services.Create(ctx, folder, def))
	err = c.Services.Create(ctx, folder, def)
	assert.ErrorIs(t, err, ags.ErrServiceExists, "a second create names the duplicate")

	got, err := c.Services.Get(ctx, ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type})
	require.NoError(t, err)
	assert.Equal(t, def.ServiceName, got.ServiceName)
	st, err := c.Services.Status(ctx, ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type})
	require.NoError(t, err)
	t.Logf("status: configured %s, running %s", st.ConfiguredState, st.RealTimeState)

	switch def.Type {
	case ags.ImageServer, ags.MapServer, ags.FeatureServer, ags.SceneServer:
		res, err := c.Services.RefreshAndWait(ctx, ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type},
			&ags.PollOptions{OnStatus: func(s ags.JobStatus) {
				for _, m := range s.NewMessages {
					t.Logf("refresh: %s", m.Description)
				}
			}})
		require.NoError(t, err)
		t.Logf("refresh job %s: %s %s", res.JobID, res.Status, res.Results)
	default:
		t.Logf("Refresh Service does not take %s services; not refreshed", def.Type)
	}

	require.NoError(t, c.Services.Stop(ctx, ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type}))
	require.NoError(t, c.Services.Start(ctx, ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type}))
}

func isNotFound(err error) bool { return errors.Is(err, ags.ErrNotFound) }
