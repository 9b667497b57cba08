package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJobbenchReportsOneJSONLine(t *testing.T) {
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-inprocess", "-jobs", "6", "-concurrency", "3", "-job-ms", "60"}, &out))
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	assert.Equal(t, "ags", rep.Client)
	assert.Equal(t, 6, rep.Jobs)
	assert.Equal(t, 6, rep.OK)
	assert.Zero(t, rep.Failed)
	assert.EqualValues(t, 6, rep.Requests.Submit)
	assert.GreaterOrEqual(t, rep.Requests.Status, int64(6))
	assert.EqualValues(t, 1, rep.Requests.Token, "one token for all jobs")
	assert.EqualValues(t, 120, rep.IdealMS, "2 waves of 60 ms")
	assert.Positive(t, rep.WallMS)
	assert.Positive(t, rep.PeakRSSMB)
	assert.Equal(t, rep.Requests.Total, rep.Requests.Submit+rep.Requests.Status+rep.Requests.Results+rep.Requests.Token+rep.Requests.Other)
}
