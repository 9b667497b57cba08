package ags

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags/internal/transport"
)

func TestNewClientSiteURL(t *testing.T) {
	tests := []struct {
		in, site, services, admin, hosted string
	}{
		{"https://gis.example.com:6443/arcgis", "https://gis.example.com:6443/arcgis/",
			"https://gis.example.com:6443/arcgis/rest/services/", "https://gis.example.com:6443/arcgis/admin/",
			"https://gis.example.com:6443/arcgis/rest/admin/"},
		{"https://gis.example.com:6443/arcgis/", "https://gis.example.com:6443/arcgis/",
			"https://gis.example.com:6443/arcgis/rest/services/", "https://gis.example.com:6443/arcgis/admin/",
			"https://gis.example.com:6443/arcgis/rest/admin/"},
		{"https://gis.example.com/server", "https://gis.example.com/server/",
			"https://gis.example.com/server/rest/services/", "https://gis.example.com/server/admin/",
			"https://gis.example.com/server/rest/admin/"},
		{" https://gis.example.com ", "https://gis.example.com/",
			"https://gis.example.com/rest/services/", "https://gis.example.com/admin/", "https://gis.example.com/rest/admin/"},
		{"https://tiles.arcgis.com/tiles/ORG/arcgis", "https://tiles.arcgis.com/tiles/ORG/arcgis/",
			"https://tiles.arcgis.com/tiles/ORG/arcgis/rest/services/", "https://tiles.arcgis.com/tiles/ORG/arcgis/admin/",
			"https://tiles.arcgis.com/tiles/ORG/arcgis/rest/admin/"},
		{"https://h/my%20site", "https://h/my%20site/",
			"https://h/my%20site/rest/services/", "https://h/my%20site/admin/", "https://h/my%20site/rest/admin/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := NewClient(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.site, c.SiteURL())
			assert.Equal(t, tt.services, c.roots[rootServices].String())
			assert.Equal(t, tt.admin, c.roots[rootAdmin].String())
			assert.Equal(t, tt.hosted, c.roots[rootHostedAdmin].String())
			assert.Equal(t, strings.TrimSuffix(tt.services, "/")+"/Maps/Roads/MapServer",
				c.endpoint(rootServices, "Maps/Roads", "MapServer").String())
		})
	}
	for _, bad := range []string{"", "gis.example.com/arcgis", "ftp://gis.example.com/arcgis", "https://",
		"https://user:pw@gis.example.com/arcgis", "https://gis.example.com/arcgis?token=x", "https://gis.example.com/arcgis#x", "://x"} {
		_, err := NewClient(bad)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, "%q", bad)
		if err != nil {
			assert.NotContains(t, err.Error(), "pw")
		}
	}
}

func TestWithRoots(t *testing.T) {
	c, err := NewClient("https://gis.example.com/server", WithRoots(Roots{
		Services: "rest/services/",
		Admin:    "https://admin.example.com/arcgis/admin",
	}))
	require.NoError(t, err)
	assert.Equal(t, "https://gis.example.com/server/rest/services/", c.roots[rootServices].String())
	assert.Equal(t, "https://admin.example.com/arcgis/admin/", c.roots[rootAdmin].String())
	assert.Equal(t, "https://gis.example.com/server/rest/admin/", c.roots[rootHostedAdmin].String(), "empty keeps the default")

	_, err = NewClient("https://gis.example.com/server", WithRoots(Roots{Admin: "https://admin.example.com/admin?x=1"}))
	assert.Error(t, err)
	_, err = NewClient("https://gis.example.com/server", WithRoots(Roots{Admin: "ftp://admin.example.com/admin"}))
	assert.Error(t, err)
	_, err = NewClient("https://gis.example.com/server", WithToken("t"), WithRoots(Roots{Admin: "http://admin.example.com/admin"}))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve, "a token never goes to a plain-http root")
	assert.Contains(t, err.Error(), "plain http")
}

func TestEndpoint(t *testing.T) {
	c, err := NewClient("https://gis.example.com/arcgis")
	require.NoError(t, err)
	tests := []struct {
		root int
		segs []string
		want string
	}{
		{rootServices, []string{"System/PublishingTools/GPServer/Refresh Service", "submitJob"},
			"https://gis.example.com/arcgis/rest/services/System/PublishingTools/GPServer/Refresh%20Service/submitJob"},
		{rootAdmin, []string{"services", "", "/Maps/", "Roads.MapServer", "status"},
			"https://gis.example.com/arcgis/admin/services/Maps/Roads.MapServer/status"},
		{rootServices, []string{"a+b", "c?d", "e#f", "100%"}, "https://gis.example.com/arcgis/rest/services/a+b/c%3Fd/e%23f/100%25"},
		{rootServices, []string{"..", "..", "admin"}, "https://gis.example.com/arcgis/rest/services/%2E%2E/%2E%2E/admin"},
		{rootServices, []string{"evil.com:443", "x"}, "https://gis.example.com/arcgis/rest/services/evil.com:443/x"},
		{rootHostedAdmin, []string{"services", "World", "MapServer", "updateTiles"},
			"https://gis.example.com/arcgis/rest/admin/services/World/MapServer/updateTiles"},
		{rootAdmin, nil, "https://gis.example.com/arcgis/admin/"},
	}
	for _, tt := range tests {
		u := c.endpoint(tt.root, tt.segs...)
		assert.Equal(t, tt.want, u.String(), "%q", tt.segs)
		assert.Equal(t, "gis.example.com", u.Host)
		assert.True(t, strings.HasPrefix(u.Path, c.roots[tt.root].Path), "stays under its root: %s", u.Path)
	}
	assert.Equal(t, "/arcgis/rest/services/System/PublishingTools/GPServer/Refresh Service/submitJob",
		c.endpoint(rootServices, "System/PublishingTools/GPServer/Refresh Service/submitJob").Path)
}

func TestOptionsValidate(t *testing.T) {
	site := "https://gis.example.com/arcgis"
	bad := map[string]Option{
		"WithHTTPClient(nil)":        WithHTTPClient(nil),
		"WithCredentials empty user": WithCredentials(" ", "pw"),
		"WithCredentials empty pw":   WithCredentials("u", ""),
		"WithToken empty":            WithToken(" "),
		"WithTokenSource(nil)":       WithTokenSource(nil),
		"WithReferer empty":          WithReferer(""),
		"WithReferer newline":        WithReferer("https://a\r\nX-Evil: 1"),
		"WithTokenExpiration short":  WithTokenExpiration(30 * time.Second),
		"WithTokenURL empty":         WithTokenURL(""),
		"WithTokenURL query":         WithTokenURL("tokens/generateToken?username=a"),
		"WithTokenURL userinfo":      WithTokenURL("https://u:p@h/tokens"),
		"WithLogger(nil)":            WithLogger(nil),
		"WithRetryPolicy negative":   WithRetryPolicy(RetryPolicy{MinDelay: -1}),
		"WithRetryPolicy min>max":    WithRetryPolicy(RetryPolicy{MinDelay: time.Second, MaxDelay: time.Millisecond}),
		"WithRetryHook(nil)":         WithRetryHook(nil),
		"WithUserAgent empty":        WithUserAgent(""),
		"WithUserAgent newline":      WithUserAgent("a\nb"),
		"WithMaxResponseBytes small": WithMaxResponseBytes(10),
		"WithRoots bad":              WithRoots(Roots{Admin: "://x"}),
		"two auth options":           func(c *config) error { _ = WithToken("a")(c); return WithCredentials("u", "p")(c) },
		"WithTokenURL without creds": WithTokenURL("admin/generateToken"),
		"WithToken and TokenSource": func(c *config) error {
			_ = WithToken("a")(c)
			return WithTokenSource(StaticTokenSource(NewToken("b", time.Time{})))(c)
		},
	}
	for name, opt := range bad {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(site, opt)
			assert.Nil(t, c)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.NotEmpty(t, ve.Reason)
			assert.NotContains(t, err.Error(), "pw")
		})
	}

	good := []Option{
		nil, // skipped
		WithHTTPClient(&http.Client{}),
		WithCredentials("publisher", "pw"),
		WithReferer("https://app.example.com"),
		WithTokenExpiration(90 * time.Minute),
		WithTokenURL("admin/generateToken"),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinDelay: time.Millisecond, MaxDelay: time.Second}),
		WithRetryHook(func(RetryEvent) {}),
		WithUserAgent("my-app/1.0"),
		WithInsecureHTTP(),
		WithMaxResponseBytes(1 << 20),
		WithRoots(Roots{HostedAdmin: "rest/admin"}),
	}
	c, err := NewClient(site, good...)
	require.NoError(t, err)
	assert.Equal(t, "https://app.example.com", c.referer)
	assert.Equal(t, "my-app/1.0", c.userAgent)
	assert.Equal(t, int64(1<<20), c.maxBody)
	assert.Equal(t, RetryPolicy{MaxRetries: 2, MinDelay: time.Millisecond, MaxDelay: time.Second}, c.retry)
	cs, ok := c.tokens.source().(*credentialSource)
	require.True(t, ok)
	assert.Equal(t, 90*time.Minute, cs.expiration)
	assert.Equal(t, "https://app.example.com", cs.referer)
	assert.Equal(t, "admin/generateToken", cs.tokenURL)
}

func TestRetryPolicyDefaults(t *testing.T) {
	assert.Equal(t, RetryPolicy{MaxRetries: 4, MinDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}, RetryPolicy{}.withDefaults(), "the defaults RetryPolicy documents")
	assert.Equal(t, 0, RetryPolicy{MaxRetries: -1}.withDefaults().MaxRetries)
	p := RetryPolicy{MinDelay: time.Minute}.withDefaults()
	assert.Equal(t, time.Minute, p.MaxDelay, "max never below min")
}

// countingTransport counts round trips and records each request.
type countingTransport struct {
	base  http.RoundTripper
	n     atomic.Int32
	mu    sync.Mutex
	seen  []*http.Request
	bodys []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	c.mu.Lock()
	c.seen = append(c.seen, r)
	c.bodys = append(c.bodys, string(b))
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

// TestWithHTTPClientCopied: the caller's client is used (its transport,
// timeout, jar, redirect policy) and never modified.
func TestWithHTTPClientCopied(t *testing.T) {
	_, mux, site := setup(t)
	mux.HandleFunc("/arcgis/rest/info", serveRaw(200, "application/json", `{"currentVersion":11.3}`))
	mux.HandleFunc("/arcgis/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/arcgis/rest/info", http.StatusFound)
	})

	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	ct := &countingTransport{base: base}
	jar, _ := cookiejar.New(nil)
	var redirects atomic.Int32
	checkRedirect := func(*http.Request, []*http.Request) error { redirects.Add(1); return nil }
	hc := &http.Client{Transport: ct, Timeout: 7 * time.Second, Jar: jar, CheckRedirect: checkRedirect}
	before := *hc

	c, err := NewClient(site, WithHTTPClient(hc), WithToken(testToken), WithInsecureHTTP())
	require.NoError(t, err)
	var info map[string]any
	require.NoError(t, c.Get(t.Context(), "rest/info", nil, &info))
	require.NoError(t, c.Get(t.Context(), "moved", nil, &info))

	assert.Equal(t, int32(3), ct.n.Load(), "requests go through the caller's transport")
	assert.Equal(t, int32(1), redirects.Load(), "the caller's redirect policy still applies")
	assert.Same(t, ct, hc.Transport)
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.Same(t, jar, hc.Jar)
	assert.Equal(t, reflect.ValueOf(checkRedirect).Pointer(), reflect.ValueOf(hc.CheckRedirect).Pointer(), "CheckRedirect not replaced")
	assert.NotSame(t, hc, c.http.HTTPClient())
	assert.Equal(t, 7*time.Second, c.http.HTTPClient().Timeout)
}

// TestTokenPlacement: every authenticated call is a POST with the token in
// its form body, reads included (REST-REFERENCE §7.3), and
// X-Esri-Authorization along; never a token in a URL; f=json always;
// Referer and User-Agent on every request.
func TestTokenPlacement(t *testing.T) {
	type seen struct {
		method, rawQuery, auth, referer, ua, ctype, accept string
		form                                               url.Values
	}
	var mu sync.Mutex
	var reqs []seen
	c, mux, _ := setup(t, WithReferer("https://app.example.com/"), WithUserAgent("agent/1"))
	mux.HandleFunc("/arcgis/", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		body := url.Values{}
		if r.Method == http.MethodPost {
			body = r.PostForm
		}
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.RawQuery, r.Header.Get("X-Esri-Authorization"), r.Header.Get("Referer"),
			r.Header.Get("User-Agent"), r.Header.Get("Content-Type"), r.Header.Get("Accept"), body})
		mu.Unlock()
		_, _ = io.WriteString(w, `{}`)
	})
	ctx := t.Context()
	require.NoError(t, c.Get(ctx, "rest/services", map[string]any{"detail": true}, nil))
	require.NoError(t, c.Post(ctx, "admin/services/createService", url.Values{"service": {`{"serviceName":"x"}`}, "f": {"html"}}, nil))
	require.NoError(t, c.do(ctx, call{op: "start", method: http.MethodPost, url: c.endpoint(rootAdmin, "services", "x.MapServer", "start")}, nil))
	// A GET that would carry a credential goes as a POST.
	require.NoError(t, c.Get(ctx, "rest/services", map[string]string{"token": "other"}, nil))
	// A GET too long for a URL goes as a POST.
	require.NoError(t, c.Get(ctx, "rest/services", map[string]string{"where": strings.Repeat("a", 3000)}, nil))

	require.Len(t, reqs, 5)
	for i, r := range reqs {
		assert.Equal(t, "Bearer "+testToken, r.auth, "request %d", i)
		assert.Equal(t, "https://app.example.com/", r.referer, "request %d", i)
		assert.Equal(t, "agent/1", r.ua, "request %d", i)
		assert.Equal(t, "application/json", r.accept, "request %d", i)
		assert.NotContains(t, r.rawQuery, testToken, "request %d", i)
		assert.NotContains(t, r.rawQuery, "token", "request %d", i)
	}
	for i, r := range reqs {
		assert.Equal(t, "POST", r.method, "request %d", i)
		assert.Empty(t, r.rawQuery, "request %d", i)
		assert.Equal(t, "application/x-www-form-urlencoded", r.ctype)
		assert.Equal(t, testToken, r.form.Get("token"), "request %d", i)
		assert.Len(t, r.form["token"], 1)
		assert.Equal(t, "json", r.form.Get("f"))
	}
	assert.Equal(t, "true", reqs[0].form.Get("detail"), "a read's parameters travel in the body")
	assert.Equal(t, `{"serviceName":"x"}`, reqs[1].form.Get("service"))
	assert.Equal(t, strings.Repeat("a", 3000), reqs[4].form.Get("where"))
}

func TestNoAuthSendsNoToken(t *testing.T) {
	c, mux, _ := setupNoAuth(t)
	mux.HandleFunc("/arcgis/rest/info", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		assert.Empty(t, r.Header.Get("X-Esri-Authorization"))
		assert.Equal(t, DefaultReferer, r.Header.Get("Referer"))
		assert.Equal(t, "ags-go/"+Version, r.Header.Get("User-Agent"))
		assert.False(t, r.Form.Has("token"))
		_, _ = io.WriteString(w, `{}`)
	})
	require.NoError(t, c.Get(t.Context(), "rest/info", nil, nil))
	require.NoError(t, c.Post(t.Context(), "rest/info", nil, nil))
}

func TestGetPostPaths(t *testing.T) {
	c, mux, site := setup(t)
	var got []string
	mux.HandleFunc("/arcgis/", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	ctx := t.Context()
	var out struct{ OK bool }
	require.NoError(t, c.Get(ctx, "admin/services/Maps/Roads.MapServer/iteminfo", nil, &out))
	assert.True(t, out.OK)
	require.NoError(t, c.Get(ctx, "/rest/info", nil, nil))
	require.NoError(t, c.Get(ctx, site+"/rest/services/A%20B", nil, nil))
	require.NoError(t, c.Post(ctx, "admin/services/x.MapServer/stop", nil, nil))
	// With a token, reads go as POSTs too.
	assert.Equal(t, []string{"POST /arcgis/admin/services/Maps/Roads.MapServer/iteminfo", "POST /arcgis/rest/info",
		"POST /arcgis/rest/services/A%20B", "POST /arcgis/admin/services/x.MapServer/stop"}, got)

	for _, bad := range []string{"../admin", "rest/../../x", "rest/./info", "rest/info?token=x", "rest/info#x",
		"https://evil.example.com/arcgis/rest/info", strings.Replace(site, "/arcgis", "/other", 1) + "/rest/info", "mailto:x"} {
		err := c.Get(ctx, bad, nil, nil)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, bad)
		err = c.Post(ctx, bad, nil, nil)
		assert.ErrorAs(t, err, &ve, bad)
	}
	var ve *ValidationError
	assert.ErrorAs(t, c.Get(ctx, "rest/info", 42, nil), &ve, "bad params")
	assert.Len(t, got, 4, "no request for bad input")
}

// TestPlainHTTPRefused: credentials or a token to an http:// site fail
// before any request unless WithInsecureHTTP is given.
func TestPlainHTTPRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	for name, opt := range map[string]Option{
		"credentials":  WithCredentials("admin", "hunter2"),
		"token":        WithToken(testToken),
		"token source": WithTokenSource(StaticTokenSource(NewToken(testToken, time.Time{}))),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(srv.URL+"/arcgis", opt)
			assert.Nil(t, c)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Contains(t, err.Error(), "refusing to send credentials over plain http")
			assert.Contains(t, err.Error(), "WithInsecureHTTP")
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	assert.Zero(t, hits.Load())

	c, err := NewClient(srv.URL + "/arcgis") // no credentials: plain http is fine
	require.NoError(t, err)
	require.NoError(t, c.Get(t.Context(), "rest/info", nil, nil))

	// An https site whose token service is discovered on plain http.
	_, mux, site := setupNoAuth(t)
	mux.HandleFunc("/arcgis/rest/info", serveRaw(200, "application/json",
		`{"authInfo":{"isTokenBasedSecurity":true,"tokenServicesUrl":"http://tokens.example.com/arcgis/tokens/generateToken"}}`))
	mux.HandleFunc("/arcgis/rest/services", serveRaw(200, "application/json", `{}`))
	cs := &credentialSource{username: "admin", password: box("hunter2"), referer: DefaultReferer, expiration: time.Hour}
	c, err = NewClient(site, WithInsecureHTTP())
	require.NoError(t, err)
	c.allowHTTP = false // the site itself passed; the token URL must be checked too
	cs.client = c
	c.tokens = &tokenBox{cs}
	_, err = cs.Token(t.Context())
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "http://tokens.example.com/arcgis/tokens/generateToken")
}

func TestClientStringsHoldNoSecret(t *testing.T) {
	c, err := NewClient("https://gis.example.com/arcgis", WithCredentials("admin", "hunter2"))
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c), c.String()} {
		assert.Contains(t, s, "ags.Client{https://gis.example.com/arcgis/}")
		assert.NotContains(t, s, "hunter2")
	}
	assert.Equal(t, "ags.Client{https://gis.example.com/arcgis/}", fmt.Sprintf("%#v", c))
}

// --- retries through the client -------------------------------------

// retryClient returns a client over a server running h, with fast retries,
// no keep-alive (so net/http never replays on a reused connection itself),
// and a hook that records retry events.
func retryClient(t *testing.T, h http.HandlerFunc, opts ...Option) (*Client, *[]RetryEvent) {
	t.Helper()
	var mu sync.Mutex
	events := &[]RetryEvent{}
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	all := append([]Option{
		WithHTTPClient(&http.Client{Transport: tr}),
		WithRetryHook(func(e RetryEvent) { mu.Lock(); *events = append(*events, e); mu.Unlock() }),
	}, opts...)
	c, mux, _ := setup(t, all...)
	mux.HandleFunc("/arcgis/", h)
	return c, events
}

// TestRetryMatrixClient: method/idempotency × status or transport error
// → how many times the request reaches the server.
func TestRetryMatrixClient(t *testing.T) {
	type kind int
	const (
		get kind = iota
		post
		idemPost // a POST the pipeline marks idempotent (generateToken, job status as POST)
	)
	fail := func(status int, hdr ...string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":{"code":`+fmt.Sprint(status)+`,"message":"x"}}`)
		}
	}
	reset := func(w http.ResponseWriter) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
	}
	tests := []struct {
		name  string
		fail  func(w http.ResponseWriter)
		calls [3]int // for get, post, idemPost: requests that reached the server (MaxRetries 3)
	}{
		{"500", fail(500), [3]int{4, 1, 4}},
		{"502", fail(502), [3]int{4, 1, 4}},
		{"503", fail(503), [3]int{4, 1, 4}},
		{"503 Retry-After", fail(503, "Retry-After", "0"), [3]int{4, 4, 4}},
		{"504", fail(504), [3]int{4, 1, 4}},
		{"429", fail(429), [3]int{4, 4, 4}},
		{"429 Retry-After", fail(429, "Retry-After", "0"), [3]int{4, 4, 4}},
		{"501", fail(501), [3]int{1, 1, 1}},
		{"400", fail(400), [3]int{1, 1, 1}},
		{"connection reset", reset, [3]int{4, 1, 4}},
	}
	for _, tt := range tests {
		for k, want := range tt.calls {
			t.Run(fmt.Sprintf("%s/%d", tt.name, k), func(t *testing.T) {
				var n atomic.Int32
				c, events := retryClient(t, func(w http.ResponseWriter, _ *http.Request) {
					n.Add(1)
					tt.fail(w)
				})
				var err error
				switch kind(k) {
				case get:
					err = c.Get(t.Context(), "rest/x", nil, nil)
				case post:
					err = c.Post(t.Context(), "admin/services/createService", nil, nil)
				case idemPost:
					err = c.do(t.Context(), call{op: "x", method: http.MethodPost, url: c.endpoint(rootServices, "x"), idempotent: true}, nil)
				}
				require.Error(t, err)
				assert.Equal(t, int32(want), n.Load())
				assert.Len(t, *events, want-1)
			})
		}
	}
}

func TestPOST502SentOnce(t *testing.T) {
	var n atomic.Int32
	c, events := retryClient(t, func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		serveRaw(http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>")(w, nil)
	})
	err := c.Post(t.Context(), "admin/services/createService", url.Values{"service": {"{}"}}, nil)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusBadGateway, re.HTTPStatus)
	assert.Equal(t, int32(1), n.Load())
	assert.Empty(t, *events)
}

// TestGETSurvivesTwo503: a read goes as a POST when it carries a token,
// and stays a read: it is retried after a 503.
func TestGETSurvivesTwo503(t *testing.T) {
	var n atomic.Int32
	c, events := retryClient(t, func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) <= 2 {
			serveRaw(http.StatusServiceUnavailable, "text/html", "<html>starting</html>")(w, nil)
			return
		}
		_, _ = io.WriteString(w, `{"jobId":"j1","jobStatus":"esriJobExecuting"}`)
	})
	var out fxJob
	require.NoError(t, c.Get(t.Context(), "rest/services/x/GPServer/t/jobs/j1", nil, &out))
	assert.Equal(t, "esriJobExecuting", out.JobStatus)
	assert.Equal(t, int32(3), n.Load())
	require.Len(t, *events, 2)
	for i, e := range *events {
		assert.Equal(t, i+1, e.Attempt)
		assert.Equal(t, http.MethodPost, e.Method)
		assert.Equal(t, "/arcgis/rest/services/x/GPServer/t/jobs/j1", e.Path)
		assert.Equal(t, http.StatusServiceUnavailable, e.Status)
		assert.Nil(t, e.Err)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name  string
		value func() string
		want  time.Duration
	}{
		{"seconds, capped", func() string { return "120" }, 40 * time.Millisecond},
		{"HTTP date, capped", func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) }, 40 * time.Millisecond},
		{"zero, floored", func() string { return "0" }, 2 * time.Millisecond},
		{"date in the past, floored", func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			c, events := retryClient(t, func(w http.ResponseWriter, _ *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.value())
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = io.WriteString(w, `{}`)
			}, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinDelay: 2 * time.Millisecond, MaxDelay: 40 * time.Millisecond}))
			clock := installClock(c) // the wait is on the client's clock
			require.NoError(t, c.Post(t.Context(), "admin/services/createService", nil, nil), "429 is retried even for a POST")
			require.Len(t, *events, 1)
			assert.Equal(t, tt.want, (*events)[0].Wait)
			assert.Equal(t, []time.Duration{tt.want}, clock.Sleeps(), "the retry waited that long")
		})
	}
	// Retry-After itself (one real second) below the cap.
	var n atomic.Int32
	c, events := retryClient(t, func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}, WithRetryPolicy(RetryPolicy{MaxRetries: 1, MinDelay: time.Millisecond, MaxDelay: 5 * time.Second}))
	clock := installClock(c)
	start := clock.Now()
	require.NoError(t, c.Post(t.Context(), "admin/services/x.MapServer/start", nil, nil))
	assert.Equal(t, time.Second, (*events)[0].Wait)
	assert.Equal(t, time.Second, clock.Now().Sub(start), "a second of the client's clock passed, not of the wall's")
}

func TestConnectionRefusedRetriedForPOST(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var events []RetryEvent
	c, err := NewClient("http://"+addr+"/arcgis", WithToken(testToken), WithInsecureHTTP(),
		WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinDelay: time.Millisecond, MaxDelay: time.Millisecond}),
		WithRetryHook(func(e RetryEvent) { events = append(events, e) }))
	require.NoError(t, err)
	err = c.Post(t.Context(), "admin/services/createService", url.Values{"service": {"{}"}}, nil)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.True(t, transport.NotSent(err))
	require.Len(t, events, 2, "nothing was sent, so even a POST is retried")
	assert.Zero(t, events[0].Status)
	assert.Error(t, events[0].Err)
	assert.NotContains(t, events[0].Err.Error(), "?")
}

func TestStoreBusyRetried(t *testing.T) {
	const busy = `{"status":"error","messages":["Another administrative operation is currently accessing the store. Please try again later."],"code":500}`
	var n atomic.Int32
	c, mux, _ := setup(t, WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinDelay: 100 * time.Millisecond, MaxDelay: time.Second}))
	ns := installClock(c)
	var events []RetryEvent
	c.retryHook = func(e RetryEvent) { events = append(events, e) }
	mux.HandleFunc("/arcgis/admin/services/createService", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			_, _ = io.WriteString(w, busy)
			return
		}
		_, _ = io.WriteString(w, `{"status":"success"}`)
	})
	mux.HandleFunc("/arcgis/admin/services/x.MapServer/stop", serveRaw(200, "application/json", busy))

	var out fxStatus
	require.NoError(t, c.Post(t.Context(), "admin/services/createService", nil, &out))
	assert.Equal(t, "success", out.Status)
	assert.Equal(t, int32(3), n.Load())
	require.Len(t, ns.Sleeps(), 2)
	for _, d := range ns.Sleeps() {
		assert.GreaterOrEqual(t, d, 100*time.Millisecond)
		assert.LessOrEqual(t, d, time.Second)
	}
	require.Len(t, events, 2)
	assert.Equal(t, "POST admin/services/createService", events[0].Op)
	assert.ErrorIs(t, events[0].Err, ErrServerBusy)

	// Still busy after every retry: the busy answer is returned.
	err := c.Post(t.Context(), "admin/services/x.MapServer/stop", nil, nil)
	assert.ErrorIs(t, err, ErrServerBusy)
	assert.Len(t, ns.Sleeps(), 5)

	// A cancelled context stops the wait.
	ctx, cancel := context.WithCancel(t.Context())
	ns.OnSleep(func(int) { cancel() })
	err = c.Post(ctx, "admin/services/x.MapServer/stop", nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// --- redirects ------------------------------------------------------

// TestRedirectToOtherHostRefused: neither the token nor the password
// reaches another host, for GET (302) and POST (307/308).
func TestRedirectToOtherHostRefused(t *testing.T) {
	var otherHits atomic.Int32
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b)+r.URL.String()+fmt.Sprint(r.Header), "hunter2") ||
			strings.Contains(string(b)+r.URL.String()+fmt.Sprint(r.Header), testToken) {
			leaked.Store(true)
		}
		_, _ = io.WriteString(w, `{"token":"stolen","expires":1}`)
	}))
	t.Cleanup(other.Close)

	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			// A static token.
			c, mux, _ := setup(t)
			mux.HandleFunc("/arcgis/", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, code)
			})
			for _, call := range []func() error{
				func() error { return c.Get(t.Context(), "rest/services", nil, nil) },
				func() error { return c.Post(t.Context(), "admin/services/createService", nil, nil) },
			} {
				err := call()
				var re *RequestError
				require.ErrorAs(t, err, &re)
				assert.ErrorIs(t, err, transport.ErrRedirectRefused)
				assert.Contains(t, err.Error(), "redirect refused")
				assert.NotContains(t, err.Error(), testToken)
			}

			// Credentials: the token request itself is redirected.
			c2, mux2, _ := setupNoAuth(t, WithCredentials("admin", "hunter2"), WithTokenURL("tokens/generateToken"))
			mux2.HandleFunc("/arcgis/tokens/generateToken", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/steal", code)
			})
			err := c2.Get(t.Context(), "rest/services", nil, nil)
			assert.ErrorIs(t, err, transport.ErrRedirectRefused)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	assert.Zero(t, otherHits.Load(), "nothing reached the other host")
	assert.False(t, leaked.Load())
}

func TestRedirectOnSameHostFollowed(t *testing.T) {
	c, mux, _ := setup(t)
	var auth, tokenForm string
	mux.HandleFunc("/arcgis/old/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/arcgis/new/"+strings.TrimPrefix(r.URL.Path, "/arcgis/old/"), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/arcgis/new/", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("X-Esri-Authorization")
		tokenForm = r.FormValue("token")
		_, _ = io.WriteString(w, `{"status":"success"}`)
	})
	require.NoError(t, c.Post(t.Context(), "old/x", nil, nil))
	assert.Equal(t, "Bearer "+testToken, auth)
	assert.Equal(t, testToken, tokenForm, "the body follows a 307 on the same host")
}

// --- logging, bodies, connections -------------------------------------

func TestLoggingOneLinePerAttempt(t *testing.T) {
	var buf safeBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var n atomic.Int32
	c, mux, _ := setup(t, WithLogger(logger))
	mux.HandleFunc("/arcgis/rest/services/x", func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	})
	require.NoError(t, c.Get(t.Context(), "rest/services/x", map[string]any{"where": "q"}, nil))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var attempts, retries []string
	for _, l := range lines {
		switch {
		case strings.Contains(l, `"msg":"ags: http attempt"`):
			attempts = append(attempts, l)
		case strings.Contains(l, `"msg":"ags: retrying"`):
			retries = append(retries, l)
		}
		assert.NotContains(t, l, testToken)
		assert.NotContains(t, l, "where")
		assert.NotContains(t, l, "f=json")
	}
	require.Len(t, attempts, 2, buf.String())
	require.Len(t, retries, 1)
	for i, l := range attempts {
		assert.Contains(t, l, `"method":"POST"`, "a read with a token goes as a POST")
		assert.Contains(t, l, `"host":"127.0.0.1:`)
		assert.Contains(t, l, `"path":"/arcgis/rest/services/x"`)
		assert.Contains(t, l, `"duration":`)
		assert.Contains(t, l, fmt.Sprintf(`"attempt":%d`, i+1))
	}
	assert.Contains(t, attempts[0], `"status":503`)
	assert.Contains(t, attempts[1], `"status":200`)
}

// TestConnectionReused: an error answer is read to the end and closed, so
// the next call reuses the connection.
func TestConnectionReused(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/arcgis/err":
			_, _ = io.WriteString(w, `{"error":{"code":400,"message":"bad","details":["`+strings.Repeat("d", 8000)+`"]}}`)
		case "/arcgis/html":
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "<html>not found</html>")
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(srv.URL+"/arcgis", WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	for range 3 {
		assert.Error(t, c.Get(t.Context(), "err", nil, nil))
		assert.Error(t, c.Get(t.Context(), "html", nil, nil))
		assert.NoError(t, c.Get(t.Context(), "ok", nil, nil))
	}
	assert.Equal(t, int32(1), conns.Load())
}

func TestContextCancelled(t *testing.T) {
	c, mux, _ := setup(t)
	release := make(chan struct{})
	mux.HandleFunc("/arcgis/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := c.Get(ctx, "slow", nil, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var re *RequestError
	assert.ErrorAs(t, err, &re)
}

func TestConcurrentCalls(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/arcgis/rest/info", serveRaw(200, "application/json", `{"currentVersion":11.3}`))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out map[string]any
			errs <- c.Get(t.Context(), "rest/info", nil, &out)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// safeBuffer is a bytes.Buffer safe for concurrent writers (log handlers).
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDefaultTransportBoundsConnections(t *testing.T) {
	tr := DefaultTransport()
	assert.Equal(t, 64, tr.MaxConnsPerHost)
	assert.Equal(t, 64, tr.MaxIdleConnsPerHost)
	assert.NotNil(t, tr.Proxy, "the environment's proxy settings are kept")

	var open, peak atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := open.Add(1)
			for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := NewClient(srv.URL + "/arcgis") // no WithHTTPClient: DefaultTransport
	require.NoError(t, err)
	defer c.http.HTTPClient().CloseIdleConnections()
	var wg sync.WaitGroup
	for range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.Get(t.Context(), "rest/info", nil, nil))
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(64), "300 calls at once open at most 64 connections")
}
