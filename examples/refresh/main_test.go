package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRefreshAgainstEmulator(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-service", "Imagery/Portland.ImageServer"}, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "embedded ArcGIS Server emulator")
	assert.Contains(t, out.String(), "Refreshed Imagery/Portland.ImageServer")
}

func TestRefreshRejectsBadType(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-service", "Portland.GPServer"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Type")
}
