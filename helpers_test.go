package ags

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testToken is the static token setup gives every client; tests assert it
// never leaks.
const testToken = "tok-SECRET-7f3a9c"

// sitePrefix is where setup mounts the site: any request outside it fails
// the test, so an endpoint built from the wrong root is caught.
const sitePrefix = "/arcgis/"

// setup starts an httptest server and returns a client for its site, the
// mux to register handlers on (paths under /arcgis/), and the site URL.
// The client has a static token, allows plain http, and retries quickly.
// Extra options are applied after the defaults.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle(sitePrefix, mux)
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the site: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside the site", http.StatusNotFound)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	site := srv.URL + "/arcgis"
	all := append([]Option{
		WithToken(testToken),
		WithInsecureHTTP(),
		WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	}, opts...)
	c, err := NewClient(site, all...)
	require.NoError(t, err)
	return c, mux, site
}

// noSleep replaces the client's sleeps with a recorder that returns at
// once (unless ctx is done) and advances the client's clock, so poll and
// backoff sequences are tested without real waiting.
type noSleep struct {
	mu     sync.Mutex
	now    time.Time
	slept  []time.Duration
	onCall func(n int) // optional: called with the number of sleeps so far
}

func installNoSleep(c *Client) *noSleep {
	ns := &noSleep{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.sleep = ns.sleep
	c.now = ns.clock
	return ns
}

func (n *noSleep) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	n.slept = append(n.slept, d)
	n.now = n.now.Add(d)
	count, cb := len(n.slept), n.onCall
	n.mu.Unlock()
	if cb != nil {
		cb(count)
	}
	return ctx.Err()
}

func (n *noSleep) clock() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

func (n *noSleep) sleeps() []time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Duration(nil), n.slept...)
}

// fixture returns the bytes of testdata/fixtures/name.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	require.NoError(t, err)
	return b
}

// serveFixture answers with a recorded fixture, HTTP 200, as ArcGIS does.
func serveFixture(t *testing.T, name string) http.HandlerFunc {
	b := fixture(t, name)
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(b)
	}
}

// setupNoAuth is setup without the static token, for tests that bring
// their own authentication (WithCredentials, WithTokenSource) or none.
// The client allows plain http and retries quickly.
func setupNoAuth(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle(sitePrefix, mux)
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the site: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside the site", http.StatusNotFound)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	site := srv.URL + "/arcgis"
	all := append([]Option{
		WithInsecureHTTP(),
		WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	}, opts...)
	c, err := NewClient(site, all...)
	require.NoError(t, err)
	return c, mux, site
}

// serveRaw answers with the given status, content type and body.
func serveRaw(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}
