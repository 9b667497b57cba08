package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() { demoJobDuration = 100 * time.Millisecond }

// TestCacheTilesDemo: create, estimate, update with a partial failure,
// resume, report, on the embedded emulator.
func TestCacheTilesDemo(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), nil, &out), out.String())
	s := out.String()
	assert.Contains(t, s, "Create Map Cache job")
	assert.Contains(t, s, "Estimate for Basemaps/Streets.MapServer")
	// The changed area's envelope is 2226 x 2682 m (Web Mercator): 9
	// tiles at level 15, 25 at 16, 80 at 17, worked out by hand.
	assert.Contains(t, s, "over 2226 x 2682 map units")
	assert.Regexp(t, `level 15  1:18055\.954822 +9 tiles`, s)
	assert.Regexp(t, `level 17  1:4513\.988705 +80 tiles`, s)
	assert.Contains(t, s, "total 114 tiles")
	assert.Contains(t, s, "Level 17 (scale 4513.988705): 40 of 80 tiles failed.")
	assert.Regexp(t, `level 17 +80 tiles  not confirmed`, s)
	assert.Contains(t, s, "A nightly run would exit non-zero here")
	assert.Contains(t, s, "(RECREATE_EMPTY_TILES)")
	assert.Regexp(t, `level 17 +80 tiles  built`, s)
}

func TestCacheTilesDemoHosted(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-hosted", "-service", "WorldService.MapServer"}, &out), out.String())
	s := out.String()
	assert.Contains(t, s, "updateTiles job")
	assert.Regexp(t, `L16 \d+/25  L17 \d+/80`, s, "per-level progress from the job's own statistics")
	assert.Regexp(t, `level 16 +25 of +25 tiles  done`, s)
	assert.Regexp(t, `level 17 +40 of +80 tiles  UNFINISHED`, s)
	assert.Contains(t, s, "Rerunning the failed parts of job")
	assert.Regexp(t, `level 17 +80 of +80 tiles  done`, s)
}

func TestCacheTilesRefusesPastBudget(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-hosted", "-service", "WorldService.MapServer", "-max-tiles", "10"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing to start: 114 tiles is more than -max-tiles 10")
}

func TestCacheTilesBadInput(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	assert.Error(t, run(t.Context(), []string{"-levels", "5-3"}, &out))
	bad := filepath.Join(t.TempDir(), "bad.geojson")
	require.NoError(t, os.WriteFile(bad, []byte(`{"type":"Point","coordinates":[1,2]}`), 0o644))
	err := run(t.Context(), []string{"-hosted", "-service", "WorldService.MapServer", "-changes", bad}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Point")
	var pf *partialFailure
	assert.False(t, errors.As(err, &pf))
	err = run(t.Context(), []string{"-hosted", "-service", "WorldService.MapServer", "-resume", "../x"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "job ID")
}
