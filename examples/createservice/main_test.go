package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateServiceAgainstEmulator(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-folder", "Transport"}, &out), out.String())
	assert.Contains(t, out.String(), "Created folder Transport")
	assert.Contains(t, out.String(), "Created Transport/Roads.MapServer: configured STARTED")
}

func TestCreateServiceRejectsBadDefinition(t *testing.T) {
	t.Setenv("AGS_URL", "")
	f := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(f, []byte(`{"serviceName":"has space","type":"MapServer"}`), 0o644))
	var out bytes.Buffer
	err := run(t.Context(), []string{"-f", f}, &out)
	require.Error(t, err)
	assert.NotContains(t, out.String(), "emulator", "bad input is refused before connecting")
}
