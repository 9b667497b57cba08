package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheTilesAgainstEmulator(t *testing.T) {
	t.Setenv("AGS_URL", "")
	aoi := filepath.Join(t.TempDir(), "aoi.json")
	require.NoError(t, os.WriteFile(aoi, []byte(`{"geometryType":"esriGeometryPolygon","spatialReference":{"wkid":102100},
		"features":[{"geometry":{"rings":[[[0,0],[0,10],[10,10],[10,0],[0,0]]]}}]}`), 0o644))
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-aoi", aoi}, &out), out.String())
	assert.Contains(t, out.String(), "RECREATE_ALL_TILES, 2 scales")
	assert.Contains(t, out.String(), "esriJobSucceeded")
}

func TestCacheTilesRejectsBadMode(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-mode", "EVERYTHING"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "EVERYTHING")
}
