package ags

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formRecorder answers every request with body and keeps the forms it got.
type formRecorder struct {
	mu    sync.Mutex
	forms []url.Values
	paths []string
}

func (f *formRecorder) handler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.paths = append(f.paths, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

func (f *formRecorder) last() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[len(f.forms)-1]
}

// The SDK's own typed constants in a GP parameter map go on the wire as
// their text, not as quoted JSON strings.
func TestGPParamsOfStringKindSentAsText(t *testing.T) {
	c, mux, _ := setup(t)
	rec := &formRecorder{}
	mux.HandleFunc(sitePrefix+"rest/services/System/",
		rec.handler(`{"jobId":"j1","jobStatus":"esriJobSubmitted"}`))
	type level string
	_, err := c.GP.SubmitJob(t.Context(), "System/CachingTools/GPServer/Manage Map Cache Tiles", map[string]any{
		"service_type": ImageServer,
		"update_mode":  RecreateAllTiles,
		"level":        level("7"),
		"thread_count": 2,
	})
	require.NoError(t, err)
	got := rec.last()
	assert.Equal(t, "ImageServer", got.Get("service_type"))
	assert.Equal(t, "RECREATE_ALL_TILES", got.Get("update_mode"))
	assert.Equal(t, "7", got.Get("level"))
	assert.Equal(t, "2", got.Get("thread_count"), "other values stay JSON")
}

// A write answered by a same-host 302 is never reported done: net/http
// would resend it as a GET without its form, and any JSON found there
// would pass for the answer.
func TestRedirectedWriteNotReportedDone(t *testing.T) {
	c, mux, _ := setup(t)
	rec := &formRecorder{}
	mux.HandleFunc(sitePrefix+"admin/services/createFolder", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, sitePrefix+"admin/services", http.StatusFound)
	})
	mux.HandleFunc(sitePrefix+"admin/services", rec.handler(`{"folderName":"/","folders":[],"services":[]}`))
	err := c.Services.CreateFolder(t.Context(), "Roads", "")
	require.Error(t, err, "a redirected write was reported done")
	assert.Contains(t, err.Error(), "redirect")
	assert.Contains(t, err.Error(), "302")
	assert.NotContains(t, err.Error(), testToken)
	for _, p := range rec.paths {
		assert.NotEqual(t, "GET /arcgis/admin/services", p, "the write was resent as a GET")
	}

	// A read follows a same-host redirect as before.
	mux.HandleFunc(sitePrefix+"rest/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, sitePrefix+"admin/services", http.StatusFound)
	})
	var out map[string]any
	require.NoError(t, c.Get(t.Context(), "rest/old", nil, &out))
	assert.Equal(t, "/", out["folderName"])
}

// A 307 or 308 replays the write faithfully: same method, same form.
func TestRedirectedWriteReplayedBy307(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		c, mux, _ := setup(t)
		rec := &formRecorder{}
		mux.HandleFunc(sitePrefix+"admin/services/createFolder", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, sitePrefix+"admin2/services/createFolder", code)
		})
		mux.HandleFunc(sitePrefix+"admin2/services/createFolder", rec.handler(`{"status":"success"}`))
		require.NoError(t, c.Services.CreateFolder(t.Context(), "Roads", "road data"), "%d", code)
		require.Len(t, rec.paths, 1)
		assert.Equal(t, "POST /arcgis/admin2/services/createFolder", rec.paths[0])
		assert.Equal(t, "Roads", rec.last().Get("folderName"))
		assert.Equal(t, testToken, rec.last().Get("token"))
	}
}

// 64 calls at once to a server that declares a 32 MiB body and then stalls
// hold memory for the bytes received, not for the bytes declared.
func TestBodyBufferGrowsWithBytesReceived(t *testing.T) {
	const calls = 64
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(calls)
	firstRead := make(chan struct{}, calls)
	c, mux, _ := setup(t, WithHTTPClient(&http.Client{Transport: &readSignal{base: http.DefaultTransport, ch: firstRead}}))
	mux.HandleFunc(sitePrefix+"rest/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(DefaultMaxResponseBytes))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"a":"`))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	var done sync.WaitGroup
	for range calls {
		done.Add(1)
		go func() {
			defer done.Done()
			_ = c.Get(ctx, "rest/big", nil, nil)
		}()
	}
	for range calls {
		select {
		case <-firstRead:
		case <-time.After(20 * time.Second):
			t.Fatal("the calls never started reading")
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cancel()
	close(release)
	done.Wait()
	t.Logf("heap in use with %d stalled 32 MiB answers: %d MiB", calls, ms.HeapAlloc>>20)
	assert.Less(t, ms.HeapAlloc, uint64(100<<20), "body buffers sized from Content-Length")
}

// readSignal sends on ch when a response body is first read.
type readSignal struct {
	base http.RoundTripper
	ch   chan struct{}
}

func (r *readSignal) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		resp.Body = &signalBody{ReadCloser: resp.Body, ch: r.ch}
	}
	return resp, err
}

type signalBody struct {
	io.ReadCloser
	ch   chan struct{}
	once sync.Once
}

func (b *signalBody) Read(p []byte) (int, error) {
	b.once.Do(func() { b.ch <- struct{}{} })
	return b.ReadCloser.Read(p)
}
