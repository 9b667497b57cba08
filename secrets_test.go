package ags

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretsNeverLeak runs calls of every outcome with a password and
// tokens in play and a debug logger capturing everything, then looks for
// the secrets in every log line, error text, URL the server saw, retry
// event and fmt rendering of the client, its options, tokens and errors.
func TestSecretsNeverLeak(t *testing.T) {
	var logs safeBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
	var evMu sync.Mutex
	var events []RetryEvent
	hook := func(e RetryEvent) { evMu.Lock(); events = append(events, e); evMu.Unlock() }

	opts := []Option{
		WithCredentials("admin", testPassword),
		WithLogger(logger),
		WithRetryHook(hook),
		WithReferer("https://app.example.com"),
	}
	clock := newFakeClock()
	c, mux, site := setupNoAuth(t, opts...)
	f := newFakeAuth(t, mux, site, clock)
	useClock(c, clock)
	cs := c.tokens.source().(*credentialSource)

	// Endpoints that misbehave, some by echoing the secrets back.
	var flaky atomic.Int32
	mux.HandleFunc("/arcgis/misc/echo-error", func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("X-Esri-Authorization"), "Bearer ")
		fmt.Fprintf(w, `{"error":{"code":400,"message":"bad request with token %s","details":["password %s"]}}`, tok, testPassword)
	})
	mux.HandleFunc("/arcgis/misc/echo-html", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "<html>upstream said token=%s</html>", strings.TrimPrefix(r.Header.Get("X-Esri-Authorization"), "Bearer "))
	})
	mux.HandleFunc("/arcgis/misc/admin-error", serveRaw(200, "application/json",
		`{"status":"error","messages":["Another administrative operation is currently accessing the store. Please try again later."],"code":500}`))
	mux.HandleFunc("/arcgis/misc/flaky", func(w http.ResponseWriter, _ *http.Request) {
		if flaky.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("/arcgis/misc/reset", func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})

	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	ctx := t.Context()
	q := map[string]any{"where": "1=1"}
	// Success.
	require.NoError(t, c.Get(ctx, "rest/services/Maps/MapServer", q, nil))
	require.NoError(t, c.Post(ctx, "admin/services/Maps.MapServer/start", q, nil))
	// Error envelopes, echoed secrets, an HTML page.
	collect(c.Get(ctx, "misc/echo-error", q, nil))
	collect(c.Post(ctx, "misc/echo-error", q, nil))
	collect(c.Get(ctx, "misc/echo-html", q, nil))
	collect(c.Post(ctx, "misc/admin-error", nil, nil))
	// Retries.
	require.NoError(t, c.Get(ctx, "misc/flaky", q, nil))
	// A rejected token, twice: refresh, replay, then the error.
	f.rejectTokens.Store(2)
	collect(c.Get(ctx, "rest/services/Maps/MapServer", q, nil))
	collect(c.Post(ctx, "admin/services/Maps.MapServer/stop", q, nil))
	// Transport failures.
	collect(c.Get(ctx, "misc/reset", q, nil))
	collect(c.Post(ctx, "misc/reset", q, nil))
	// A failed generateToken.
	clock.Advance(2 * time.Hour)
	f.tokenFail.Store(1)
	collect(c.Get(ctx, "rest/services/Maps/MapServer", q, nil))
	// A token service that cannot be reached.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + ln.Addr().String() + "/arcgis/tokens/generateToken"
	require.NoError(t, ln.Close())
	c2, err := NewClient(site, WithCredentials("admin", testPassword), WithTokenURL(dead), WithInsecureHTTP(),
		WithLogger(logger), WithRetryHook(hook), WithRetryPolicy(RetryPolicy{MaxRetries: 1, MinDelay: 1, MaxDelay: 1}))
	require.NoError(t, err)
	collect(c2.Get(ctx, "rest/services/Maps/MapServer", q, nil))
	require.GreaterOrEqual(t, len(errs), 9)

	// The secrets: the password and every token the server issued.
	secrets := []string{testPassword}
	f.mu.Lock()
	for tok := range f.valid {
		secrets = append(secrets, tok)
	}
	var urls []string
	for _, r := range f.allReq {
		urls = append(urls, r.URL.String(), r.Header.Get("Referer"))
	}
	f.mu.Unlock()
	require.GreaterOrEqual(t, len(secrets), 3, "the password and several tokens")

	var texts []string
	add := func(what string, s string) { texts = append(texts, what+": "+s) }
	add("logs", logs.String())
	require.Contains(t, logs.String(), "ags: http attempt")
	require.Contains(t, logs.String(), "ags: retrying")
	for _, e := range errs {
		add("err.Error", e.Error())
		add("err fmt", fmt.Sprintf("%v %+v %#v %s", e, e, e, e))
	}
	for _, u := range urls {
		add("url", u)
	}
	evMu.Lock()
	require.NotEmpty(t, events)
	for _, e := range events {
		add("event", fmt.Sprintf("%v %+v %#v", e, e, e))
	}
	evMu.Unlock()
	tok, err := cs.Token(ctx)
	require.NoError(t, err)
	secrets = append(secrets, tok.Value())
	for _, v := range []any{c, c2, cs, tok, &tok, opts, c.tokens, c.GP, c.Services, c.Tiles} {
		add(fmt.Sprintf("fmt %T", v), fmt.Sprintf("%v %+v %#v", v, v, v))
	}

	// Held in the unexported fields of a caller's struct, where fmt cannot
	// call Format and prints what it reaches raw, under any verb.
	c3, err := NewClient(site, WithToken(testToken), WithInsecureHTTP())
	require.NoError(t, err)
	secrets = append(secrets, testToken)
	holder := struct {
		c, c3 *Client
		cs    *credentialSource
		tok   Token
		ts    TokenSource
		st    TokenSource
	}{c, c3, cs, tok, c.tokens.source(), c3.tokens.source()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		add("holder "+verb, fmt.Sprintf(verb, holder))
		add("holder ptr "+verb, fmt.Sprintf(verb, &holder))
	}

	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("secret %q leaked in %s", s[:6]+"…", text)
			}
		}
	}
	// The echoed secrets are masked, not dropped silently.
	assert.Contains(t, errs[0].Error(), "bad request with token REDACTED")
	assert.Contains(t, errs[0].Error(), "password REDACTED")
	assert.Contains(t, errs[2].Error(), "token=REDACTED")
	for _, u := range urls {
		pu, err := url.Parse(u)
		require.NoError(t, err)
		assert.False(t, pu.Query().Has("token"), u)
		assert.False(t, pu.Query().Has("password"), u)
	}
}

// TestSecretParamsWhateverTheirCase: a credential passed through the
// escape hatch under any spelling of its name ("Password", "TOKEN") never
// rides in a URL and is masked in what the server echoes.
func TestSecretParamsWhateverTheirCase(t *testing.T) {
	c, mux, _ := setupNoAuth(t)
	const pw, tok = "Cap1talised-Passw0rd", "UPPERCASE-TOKEN-0123456789"
	var methods []string
	mux.HandleFunc("/arcgis/admin/echo", func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		assert.NotContains(t, r.URL.RawQuery, "Passw0rd", "no credential in the URL")
		assert.NotContains(t, r.URL.RawQuery, "UPPERCASE-TOKEN", "no credential in the URL")
		_ = r.ParseForm()
		fmt.Fprintf(w, `{"status":"error","messages":["bad %s and %s"],"code":400}`, r.PostForm.Get("Password"), r.PostForm.Get("TOKEN"))
	})
	err := c.Get(t.Context(), "admin/echo", url.Values{"Password": {pw}, "TOKEN": {tok}}, nil)
	require.Error(t, err)
	assert.Equal(t, []string{http.MethodPost}, methods, "a read carrying a credential is sent as a POST")
	assert.NotContains(t, err.Error(), pw)
	assert.NotContains(t, err.Error(), tok)
	assert.Contains(t, err.Error(), "bad REDACTED and REDACTED")
}
