package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags/agstest"
)

func TestPublishDemo(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-folder", "Transport", "-part-size", "1048576"}, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "embedded ArcGIS Server emulator")
	assert.Contains(t, out.String(), "upload Roads.sd")
	assert.Contains(t, out.String(), "Published Transport/Roads.MapServer")
	assert.Contains(t, out.String(), "/rest/services/Transport/Roads/MapServer")
}

func TestPublishFileWithName(t *testing.T) {
	t.Setenv("AGS_URL", "")
	path := filepath.Join(t.TempDir(), "Parcels.sd")
	b := new(bytes.Buffer)
	_, err := b.ReadFrom(agstest.FakeSD(10_000))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	var out bytes.Buffer
	err = run(t.Context(), []string{"-name", "Parcels2", path}, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "Published Parcels2.MapServer")
}

func TestPublishRefusesNonSD(t *testing.T) {
	t.Setenv("AGS_URL", "")
	path := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(path, []byte("hello"), 0o644))
	var out bytes.Buffer
	err := run(t.Context(), []string{path}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a service definition")
}

func TestPublishFailureQuotesServer(t *testing.T) {
	t.Setenv("AGS_URL", "")
	const line = "ERROR 001487: Failed to update the published service with the server-side data location."
	var out bytes.Buffer
	err := run(t.Context(), []string{"-demo-error", line}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), line)
}
