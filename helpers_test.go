package ags

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags/internal/fakeclock"
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

// setup starts a test site and returns a client for it with a static
// token (see testSite), the mux to register handlers on (paths under
// /arcgis/), and the site URL.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	return testSite(t, append([]Option{WithToken(testToken)}, opts...)...)
}

// setupNoAuth is setup without the static token, for tests that bring
// their own authentication (WithCredentials, WithTokenSource) or none.
func setupNoAuth(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	return testSite(t, opts...)
}

// testSite is the one site-setup helper: an httptest server whose site is
// mounted at /arcgis/ (a request outside it fails the test, so an endpoint
// built from the wrong root is caught), and a client for the site that
// allows plain http and retries quickly, with opts applied last.
func testSite(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
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

// fakeClock is the tests' one clock (see package fakeclock), shared by a
// client (installClock, useClock) and a fake server so that "now", token
// expiry and job progress agree. A lone sleep on it returns at once, the
// clock moved on, so poll and backoff sequences are tested without real
// waiting.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New() }

// installClock makes c read and sleep on a new fakeClock: polling,
// backoff and token renewal alike.
func installClock(c *Client) *fakeClock { return useClock(c, fakeclock.New()) }

// useClock makes c read and sleep on clk.
func useClock(c *Client, clk *fakeClock) *fakeClock {
	c.now, c.sleep = clk.Now, clk.Sleep
	return clk
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
