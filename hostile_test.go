package ags

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags/agstest"
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
		http.Redirect(w, r, sitePrefix+"admin/moved", http.StatusFound)
	})
	mux.HandleFunc(sitePrefix+"admin/moved", rec.handler(`{"status":"success"}`))
	// Where the client reads back whether the folder exists: it does not.
	mux.HandleFunc(sitePrefix+"admin/services", (&formRecorder{}).handler(`{"folderName":"/","folders":[],"services":[]}`))
	err := c.Services.CreateFolder(t.Context(), "Roads", "")
	require.Error(t, err, "a redirected write was reported done")
	assert.Contains(t, err.Error(), "redirect")
	assert.Contains(t, err.Error(), "302")
	assert.NotContains(t, err.Error(), testToken)
	assert.Empty(t, rec.paths, "the write was resent as a GET")

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

// A token the server echoes back in job messages is masked in *JobError,
// in the statuses OnStatus sees, and in every fmt verb.
func TestJobMessagesMaskEchoedToken(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	echo := "Invalid request token=" + testToken + " for user"
	(&fakeTask{t: t, task: hotspotTask, jobID: "j1",
		status: func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				fmt.Fprintf(w, `{"jobId":"j1","jobStatus":"esriJobExecuting","progress":{"type":"default","message":%q}}`, echo)
				return
			}
			fmt.Fprint(w, gpStatusBody(t, "j1", "esriJobFailed", []JobMessage{msg("Error", echo), msg("Error", "Failed.")}, nil))
		},
	}).mount(mux)
	job, err := c.GP.SubmitJob(t.Context(), hotspotTask, nil)
	require.NoError(t, err)
	var seen []JobStatus
	_, err = job.Wait(t.Context(), &PollOptions{OnStatus: func(st JobStatus) { seen = append(seen, st) }})
	var je *JobError
	require.ErrorAs(t, err, &je)
	for _, v := range []any{err, je, *je, seen} {
		out := fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
		assert.NotContains(t, out, testToken)
	}
	assert.Contains(t, err.Error(), "Invalid request token=REDACTED for user")
}

// A tile job's message is masked the same way.
func TestTileJobMessageMasksEchoedToken(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	mux.HandleFunc(sitePrefix+"rest/admin/services/World/MapServer/jobs/t1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"jobId":"t1","jobStatus":"ERROR","message":"token %s was rejected"}`, testToken)
	})
	job, err := c.Tiles.Job(ServiceRef{Name: "World", Type: MapServer}, "t1")
	require.NoError(t, err)
	_, err = job.Wait(t.Context(), nil)
	require.Error(t, err)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), testToken)
	var je *JobError
	if assert.ErrorAs(t, err, &je) {
		assert.NotContains(t, fmt.Sprintf("%#v", *je), testToken)
	}
}

// With the password "admin", the store-busy answer is still read as store
// busy (and retried); only whole occurrences of the password are masked.
func TestCommonWordPasswordDoesNotHideStoreBusy(t *testing.T) {
	srv := agstest.NewServer(agstest.WithUser("siteadmin", "admin"), agstest.WithFaults(agstest.Faults{StoreBusy: 1}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL(), WithCredentials("siteadmin", "admin"), WithInsecureHTTP(),
		WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	require.NoError(t, err)
	require.NoError(t, c.Services.Create(t.Context(), "", ServiceDefinition{ServiceName: "Roads", Type: MapServer}))
	assert.Equal(t, 2, srv.Count("createService"), "busy once, then created")

	srv.SetFaults(agstest.Faults{StoreBusy: 10})
	err = c.Services.Create(t.Context(), "", ServiceDefinition{ServiceName: "Rivers", Type: MapServer})
	require.ErrorIs(t, err, ErrServerBusy)
	assert.Contains(t, err.Error(), "Another administrative operation", "the server's words are shown as written")

	e := &Error{Message: "user admin may not use admin-tools, administrators only; admin."}
	e.redact([]string{"admin"})
	assert.Equal(t, "user REDACTED may not use REDACTED-tools, administrators only; REDACTED.", e.Message)
}

func TestMaskSecrets(t *testing.T) {
	long := "AbCdEfGhIjKlMnOpQrStUv0123456789"
	for _, tt := range []struct{ in, secret, want string }{
		{"Another administrative operation", "admin", "Another administrative operation"},
		{"bad password admin", "admin", "bad password REDACTED"},
		{"code 500", "0", "code 500"},
		{"token 0 expired", "0", "token REDACTED expired"},
		{"token=" + long + "&f=json", long, "token=REDACTED&f=json"},
		{"token%3D" + long + "x", long, "token%3DREDACTEDx"},
		{"p@ss!", "p@ss!", "REDACTED"},
		{"adminadmin admin", "admin", "adminadmin REDACTED"},
	} {
		assert.Equal(t, tt.want, maskSecrets(tt.in, []string{tt.secret}), tt.in)
	}
}

// A wrong username or password is ErrBadCredentials, from every token
// endpoint: the server's, the admin API's and a portal's.
func TestBadCredentialsSentinel(t *testing.T) {
	srv := agstest.NewServer()
	t.Cleanup(srv.Close)
	for _, tokenURL := range []string{"", "admin/generateToken"} {
		opts := []Option{WithCredentials(agstest.DefaultUsername, "wrong"), WithInsecureHTTP()}
		if tokenURL != "" {
			opts = append(opts, WithTokenURL(tokenURL))
		}
		c, err := NewClient(srv.URL(), opts...)
		require.NoError(t, err)
		_, err = c.Services.List(t.Context(), "")
		assert.ErrorIs(t, err, ErrBadCredentials, "token URL %q: %v", tokenURL, err)
		assert.NotErrorIs(t, err, ErrServerBusy)
	}

	// A portal answers the recorded wording.
	c, mux, _ := setupNoAuth(t, WithCredentials("someone", "password"), WithTokenURL("sharing/rest/generateToken"))
	mux.HandleFunc(sitePrefix+"sharing/rest/generateToken", serveFixture(t, "token-error-400-invalid-credentials-mock.json"))
	_, err := c.Services.List(t.Context(), "")
	assert.ErrorIs(t, err, ErrBadCredentials)
	assert.NotErrorIs(t, ErrNotFound, ErrBadCredentials)
}

// One retry budget per call: whatever the mix of 502s, dropped
// connections and store-busy answers, a call makes at most MaxRetries+1
// attempts.
func TestOneRetryBudgetPerCall(t *testing.T) {
	const maxRetries = 4
	busy := `{"status":"error","messages":["Another administrative operation is currently accessing the store. Please try again later."],"code":500}`
	faults := map[string]func(n int, w http.ResponseWriter, r *http.Request){
		"502 then busy": func(n int, w http.ResponseWriter, _ *http.Request) {
			if n%2 == 1 {
				serveRaw(http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>")(w, nil)
				return
			}
			serveRaw(http.StatusOK, "application/json", busy)(w, nil)
		},
		"dropped then busy": func(n int, w http.ResponseWriter, _ *http.Request) {
			if n%2 == 1 {
				panic(http.ErrAbortHandler)
			}
			serveRaw(http.StatusOK, "application/json", busy)(w, nil)
		},
		"busy": func(_ int, w http.ResponseWriter, _ *http.Request) {
			serveRaw(http.StatusOK, "application/json", busy)(w, nil)
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			c, mux, _ := setup(t, WithRetryPolicy(RetryPolicy{MaxRetries: maxRetries, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
			installClock(c)
			var mu sync.Mutex
			n := 0
			handler := func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				k := n
				mu.Unlock()
				fault(k, w, r)
			}
			// canCreateService: a POST that changes nothing, retried like a
			// read. (A GET on a reused connection would also be replayed
			// once by net/http itself when the server drops it.)
			mux.HandleFunc(sitePrefix+"admin/services/canCreateService", handler)
			_, err := c.Services.CanCreate(t.Context(), "", ServiceDefinition{Type: MapServer})
			require.Error(t, err)
			mu.Lock()
			assert.Equal(t, maxRetries+1, n, "attempts of one read")
			n = 0
			mu.Unlock()

			// A write refused before acting (store busy) draws on the same budget.
			mux.HandleFunc(sitePrefix+"admin/services/createFolder", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				mu.Unlock()
				serveRaw(http.StatusOK, "application/json", busy)(w, r)
			})
			err = c.Services.CreateFolder(t.Context(), "Roads", "")
			require.ErrorIs(t, err, ErrServerBusy)
			mu.Lock()
			assert.Equal(t, maxRetries+1, n, "attempts of one write")
			mu.Unlock()
		})
	}
}

// A dead host (connection refused) fails after one retry cycle, naming
// the host: no second cycle on the fallback token endpoint.
func TestDeadHostFailsWithinOneCycle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	const maxRetries = 3
	c, err := NewClient("http://"+addr+"/arcgis", WithCredentials("admin", "secret-pw"), WithInsecureHTTP(),
		WithHTTPClient(&http.Client{Transport: tr}),
		WithRetryPolicy(RetryPolicy{MaxRetries: maxRetries, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	require.NoError(t, err)
	_, err = c.Services.List(t.Context(), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reach "+addr)
	assert.NotContains(t, err.Error(), "secret-pw")
	assert.Equal(t, int32(maxRetries+1), dials.Load(), "connection attempts")
}

// A site URL pasted with its /rest/services or /admin suffix is trimmed
// to the site root, with a debug log.
func TestSiteURLPastedSuffixTrimmed(t *testing.T) {
	for in, want := range map[string]string{
		"https://gis.example.com:6443/arcgis/rest/services":  "https://gis.example.com:6443/arcgis/",
		"https://gis.example.com:6443/arcgis/rest/services/": "https://gis.example.com:6443/arcgis/",
		"https://gis.example.com/server/admin":               "https://gis.example.com/server/",
		"https://gis.example.com/server/admin/":              "https://gis.example.com/server/",
		"https://h/my%20site/rest/services":                  "https://h/my%20site/",
		"https://gis.example.com/arcgis/rest":                "https://gis.example.com/arcgis/rest/",
		"https://gis.example.com/administration":             "https://gis.example.com/administration/",
	} {
		var logs safeBuffer
		c, err := NewClient(in, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		require.NoError(t, err, in)
		assert.Equal(t, want, c.SiteURL(), in)
		assert.Equal(t, want+"rest/services/", c.roots[rootServices].String(), in)
		if strings.TrimSuffix(in, "/")+"/" != want {
			assert.Contains(t, logs.String(), "site URL trimmed", in)
		} else {
			assert.Empty(t, logs.String(), in)
		}
	}
}
