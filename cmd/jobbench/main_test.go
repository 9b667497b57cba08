package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runReport(t *testing.T, args ...string) Report {
	t.Helper()
	t.Setenv("AGS_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), append([]string{"-inprocess"}, args...), &out))
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "one JSON line")
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	return rep
}

func TestJobbenchReportsOneJSONLine(t *testing.T) {
	rep := runReport(t, "-jobs", "6", "-concurrency", "3", "-job-ms", "60", "-baseline=false")
	r := rep.Ags
	assert.Equal(t, "ags", r.Client)
	assert.Equal(t, Workload{Jobs: 6, Concurrency: 3, JobMS: 60}, rep.Workload)
	assert.Equal(t, 6, r.OK)
	assert.Zero(t, r.Failed)
	assert.EqualValues(t, 6, r.Requests.Submit)
	assert.GreaterOrEqual(t, r.Requests.Status, int64(6))
	assert.EqualValues(t, 1, r.Requests.Token, "one token for all jobs")
	assert.EqualValues(t, 120, r.IdealMS, "2 waves of 60 ms")
	assert.Positive(t, r.WallMS)
	assert.Positive(t, r.PeakRSSMB)
	assert.InDelta(t, float64(r.Requests.Status)/6, r.StatusPerJob, 0.001)
	require.NotNil(t, r.DetectDelayMS, "the emulator knows when each job ended")
	assert.GreaterOrEqual(t, r.DetectDelayMS.Max, 0.0, "no job seen done before it ended")
	assert.EqualValues(t, 6, r.Requests.Status, "a 60 ms job is seen done at the first poll, 500 ms after the submit")
	assert.Nil(t, rep.Fixed)
	assert.Nil(t, rep.Ratio)
}

func TestJobbenchComparesWithTheFixedPoller(t *testing.T) {
	rep := runReport(t, "-jobs", "4", "-concurrency", "4", "-mix", "100ms,300ms", "-seed", "3")
	assert.Equal(t, Workload{Jobs: 4, Concurrency: 4, Mix: "100ms,300ms", Seed: 3}, rep.Workload)
	require.NotNil(t, rep.Fixed)
	f := rep.Fixed
	assert.Equal(t, 4, f.OK)
	assert.EqualValues(t, 4, f.Requests.Status, "one poll each, at 2 s")
	assert.Zero(t, f.Requests.Results)
	assert.Zero(t, f.PeakRSSMB, "the process's peak includes the ags run: not reported for the baseline")
	assert.Positive(t, rep.Ags.PeakRSSMB)
	require.NotNil(t, f.DetectDelayMS)
	assert.Greater(t, f.DetectDelayMS.Mean, 1500.0, "jobs of at most 300 ms seen done at 2 s")
	require.NotNil(t, rep.Lengths)
	assert.GreaterOrEqual(t, rep.Lengths.P50, 100.0)
	assert.Less(t, rep.Lengths.P50, 1300.0, "300 ms at most, and the submit's round trip")
	require.NotNil(t, rep.Ratio)
	assert.InDelta(t, rep.Ags.StatusPerJob/f.StatusPerJob, rep.Ratio.StatusRequests, 0.001)
	assert.EqualValues(t, 4, rep.Ags.Requests.Status, "ags sees these short jobs done at its first poll, at 500 ms")
	assert.Less(t, rep.Ratio.DelayMean, 1.0)
}

func TestParseMix(t *testing.T) {
	lo, hi, err := parseMix("500ms, 2m")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, lo)
	assert.Equal(t, 2*time.Minute, hi)
	for _, bad := range []string{"", "1s", "2s,1s", "0s,1s", "x,1s"} {
		_, _, err := parseMix(bad)
		assert.Error(t, err, bad)
	}
}

// TestServeAnswersJobEnds drives the child-process emulator's protocol.
func TestServeAnswersJobEnds(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(emulatorArgs{jobMS: 1000, seed: 1, service: "Bench", stype: "ImageServer"}.args(), inR, outW)
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	require.True(t, lines.Scan())
	assert.True(t, strings.HasPrefix(lines.Text(), "http://127.0.0.1:"), lines.Text())
	_, err := io.WriteString(inW, "jnope\n")
	require.NoError(t, err)
	require.True(t, lines.Scan())
	assert.Equal(t, "0", lines.Text(), "an unknown job")
	require.NoError(t, inW.Close())
	require.NoError(t, <-done)

	_, err = parseEmulatorArgs([]string{"1"})
	assert.Error(t, err)
	e := emulatorArgs{jobMS: 7, mixLo: time.Second, mixHi: time.Minute, seed: 9, service: "S", stype: "MapServer"}
	got, err := parseEmulatorArgs(e.args())
	require.NoError(t, err)
	assert.Equal(t, e, got)
}
