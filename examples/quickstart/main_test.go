package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartAgainstEmulator(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), nil, &out), out.String())
	s := out.String()
	for _, want := range []string{
		"embedded ArcGIS Server emulator",
		"1. Signed in as admin",
		"2. Created folder Quickstart",
		"2. Created service Quickstart/Roads.MapServer",
		"3. Refresh Service job",
		"4. updateTiles job",
		"submitted for Hosted/Basemap.MapServer, levels 12-15",
		"4. Tiles updated: 25 of ~25 tiles",
		"5. Quickstart/Roads.MapServer: configured STARTED, running STARTED",
	} {
		assert.Contains(t, s, want)
	}
}

func TestQuickstartRejectsBadLevels(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-levels", "5-2"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5-2")
	assert.Empty(t, out.String(), "nothing is started on bad input")
}

func TestQuickstartRejectsBadTileLayer(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-tiles", "Hosted/Basemap.NotAType!"}, &out)
	require.Error(t, err)
	assert.Empty(t, out.String(), "nothing is started on bad input")
}
