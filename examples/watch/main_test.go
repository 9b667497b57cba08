package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatchRefreshesOnceForABatch(t *testing.T) {
	t.Setenv("AGS_URL", "")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old.tif"), []byte("old"), 0o644))
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"-dir", dir, "-service", "Imagery/Portland.ImageServer",
			"-interval", "20ms", "-settle", "60ms", "-batches", "1"}, &out)
	}()
	// Wait until the watcher has taken its first look, then drop two files.
	require.Eventually(t, func() bool { return bytes.Contains([]byte(out.String()), []byte("Watching")) },
		10*time.Second, 10*time.Millisecond)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.tif"), []byte("aaaa"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.tif"), []byte("bbbb"), 0o644))
	select {
	case err := <-done:
		require.NoError(t, err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not refresh:\n" + out.String())
	}
	s := out.String()
	assert.Contains(t, s, "2 new file(s)")
	assert.NotContains(t, s, "old.tif", "files present at start are not refreshed for")
	assert.Contains(t, s, "Refreshed Imagery/Portland.ImageServer")
}

func TestWatchStopsCleanlyOnCancel(t *testing.T) {
	t.Setenv("AGS_URL", "")
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-dir", t.TempDir(), "-interval", "10ms"}, &out) }()
	require.Eventually(t, func() bool { return bytes.Contains([]byte(out.String()), []byte("Watching")) },
		10*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
		assert.Contains(t, out.String(), "Stopped.")
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop on cancel")
	}
}

func TestWatcherWaitsForGrowingFiles(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(dir, time.Second)
	t0 := time.Unix(1000, 0)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.tif"), []byte("a"), 0o644))
	require.NoError(t, w.scan(t0))
	assert.Empty(t, w.settled(t0.Add(500*time.Millisecond)), "not settled yet")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.tif"), []byte("aa"), 0o644))
	require.NoError(t, w.scan(t0.Add(900*time.Millisecond)))
	assert.Empty(t, w.settled(t0.Add(1500*time.Millisecond)), "grew at 0.9 s: settles at 1.9 s")
	assert.Equal(t, []string{filepath.Join(dir, "a.tif")}, w.settled(t0.Add(2*time.Second)))
	assert.Empty(t, w.settled(t0.Add(3*time.Second)), "served once")
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	b := &backoff{base: time.Second, max: 5 * time.Second}
	t0 := time.Unix(1000, 0)
	assert.True(t, b.ready(t0))
	var waits []time.Duration
	for range 5 {
		waits = append(waits, b.failed(t0))
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, waits)
	assert.False(t, b.ready(t0.Add(4*time.Second)))
	assert.True(t, b.ready(t0.Add(5*time.Second)))
	b.succeeded()
	assert.True(t, b.ready(t0))
	assert.Equal(t, time.Second, b.failed(t0), "a success resets the wait")
}

// A refresh that keeps failing is not resubmitted every interval: the
// watcher backs off, and says so.
func TestWatchBacksOffOnFailingRefresh(t *testing.T) {
	t.Setenv("AGS_URL", "")
	dir := t.TempDir()
	var out syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		// A GPServer cannot be refreshed: every refresh fails at once.
		done <- run(ctx, []string{"-dir", dir, "-service", "Tools/Buffer.GPServer",
			"-interval", "10ms", "-settle", "10ms", "-max-backoff", "40ms"}, &out)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Watching") }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.tif"), []byte("aaaa"), 0o644))
	require.Eventually(t, func() bool { return strings.Count(out.String(), "refresh failed") >= 4 }, 10*time.Second, 5*time.Millisecond,
		out.String())
	cancel()
	require.NoError(t, <-done)
	s := out.String()
	i10 := strings.Index(s, "trying again in 10ms")
	i20 := strings.Index(s, "trying again in 20ms")
	i40 := strings.Index(s, "trying again in 40ms")
	require.True(t, i10 >= 0 && i20 > i10 && i40 > i20, "waits double:\n%s", s)
	assert.NotContains(t, s, "trying again in 80ms", "capped at -max-backoff")
}
