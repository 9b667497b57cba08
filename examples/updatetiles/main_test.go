package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpdateTilesAgainstEmulator(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-service", "Basemaps/World.MapServer", "-levels", "0-2,5"}, &out), out.String())
	assert.Contains(t, out.String(), "levels 0-2,5")
	assert.Contains(t, out.String(), "Done:")
	assert.Contains(t, out.String(), "level 5:")
}

func TestUpdateTilesRejectsBadExtent(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-extent", "10,0,5,1,102100"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "xmin")
}
