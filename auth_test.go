package ags

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPassword = "pw-SECRET-4b1d"

// tokenRequest is what the fake token service saw.
type tokenRequest struct {
	path, method, rawQuery, referer string
	form                            url.Values
	token                           string // X-Esri-Authorization, for data requests
}

// fakeAuth is an ArcGIS Server's token machinery on a setupNoAuth mux:
// rest/info, tokens/generateToken, admin/generateToken, and protected
// resources that check the token in the header (GET) or body (POST).
type fakeAuth struct {
	t        *testing.T
	clock    *fakeClock
	lifetime time.Duration

	info         func(w http.ResponseWriter) // rest/info answer; nil: default discovery
	infoCalls    atomic.Int32
	tokenCalls   atomic.Int32
	tokenHold    func(r *http.Request) // optional: runs before a token request is answered
	tokenFail    atomic.Int32          // answer this many token requests with an error
	rejectTokens atomic.Int32          // answer this many data requests with 498 (in the endpoint's envelope)

	mu       sync.Mutex
	valid    map[string]time.Time // issued token → expiry
	tokenReq []tokenRequest
	dataReq  []tokenRequest
	allReq   []*http.Request
	bodies   []string
}

func newFakeAuth(t *testing.T, mux *http.ServeMux, site string, clock *fakeClock) *fakeAuth {
	f := &fakeAuth{t: t, clock: clock, lifetime: time.Hour, valid: map[string]time.Time{}}
	record := func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		f.mu.Lock()
		f.allReq = append(f.allReq, r)
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
	}
	mux.HandleFunc("/arcgis/rest/info", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		f.infoCalls.Add(1)
		if f.info != nil {
			f.info(w)
			return
		}
		fmt.Fprintf(w, `{"currentVersion":11.3,"fullVersion":"11.3.0","authInfo":{"isTokenBasedSecurity":true,`+
			`"tokenServicesUrl":%q,"shortLivedTokenValidity":60}}`, site+"/tokens/generateToken")
	})
	issue := func(w http.ResponseWriter, r *http.Request, stringExpires bool) {
		record(r)
		n := f.tokenCalls.Add(1)
		require.NoError(t, r.ParseForm())
		f.mu.Lock()
		f.tokenReq = append(f.tokenReq, tokenRequest{r.URL.Path, r.Method, r.URL.RawQuery, r.Header.Get("Referer"), r.PostForm, ""})
		f.mu.Unlock()
		if f.tokenHold != nil {
			f.tokenHold(r)
		}
		if f.tokenFail.Load() > 0 {
			f.tokenFail.Add(-1)
			_, _ = io.WriteString(w, `{"error":{"code":400,"message":"Unable to generate token.","details":["Invalid username or password."]}}`)
			return
		}
		if r.Method != http.MethodPost || r.PostForm.Get("password") != testPassword || r.PostForm.Get("username") != "admin" {
			_, _ = io.WriteString(w, `{"error":{"code":400,"message":"Unable to generate token.","details":["Invalid username or password."]}}`)
			return
		}
		tok := fmt.Sprintf("issued-%d-%s", n, strings.Repeat("x", 8))
		exp := f.clock.Now().Add(f.lifetime)
		f.mu.Lock()
		f.valid[tok] = exp
		f.mu.Unlock()
		if stringExpires {
			fmt.Fprintf(w, `{"token":%q,"expires":"%d"}`, tok, exp.UnixMilli())
			return
		}
		fmt.Fprintf(w, `{"token":%q,"expires":%d,"ssl":false}`, tok, exp.UnixMilli())
	}
	mux.HandleFunc("/arcgis/tokens/generateToken", func(w http.ResponseWriter, r *http.Request) { issue(w, r, false) })
	mux.HandleFunc("/arcgis/security/tokens/generateToken", func(w http.ResponseWriter, r *http.Request) { issue(w, r, false) })
	mux.HandleFunc("/arcgis/admin/generateToken", func(w http.ResponseWriter, r *http.Request) { issue(w, r, true) })

	// Protected resources: the REST envelope under rest/, the admin one under admin/.
	protected := func(admin bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			record(r)
			require.NoError(t, r.ParseForm())
			tok := strings.TrimPrefix(r.Header.Get("X-Esri-Authorization"), "Bearer ")
			if r.Method == http.MethodPost && r.PostForm.Get("token") != tok {
				t.Errorf("POST body token %q differs from header", r.PostForm.Get("token"))
			}
			f.mu.Lock()
			f.dataReq = append(f.dataReq, tokenRequest{r.URL.Path, r.Method, r.URL.RawQuery, r.Header.Get("Referer"), r.PostForm, tok})
			exp, ok := f.valid[tok]
			f.mu.Unlock()
			reject := f.rejectTokens.Load() > 0
			if reject {
				f.rejectTokens.Add(-1)
			}
			switch {
			case tok == "":
				if admin {
					_, _ = io.WriteString(w, `{"status":"error","messages":["Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation."],"code":499}`)
				} else {
					_, _ = io.WriteString(w, `{"error":{"code":499,"message":"Token Required","details":[]}}`)
				}
			case reject || !ok || !f.clock.Now().Before(exp):
				if admin {
					_, _ = io.WriteString(w, `{"status":"error","messages":["Token Expired."],"code":498}`)
				} else {
					_, _ = io.WriteString(w, `{"error":{"code":498,"message":"Invalid Token.","details":["Token would have expired, regenerate token and send the request again."]}}`)
				}
			default:
				_, _ = io.WriteString(w, `{"status":"success","token_seen":true}`)
			}
		}
	}
	mux.HandleFunc("/arcgis/rest/services/", protected(false))
	mux.HandleFunc("/arcgis/admin/services/", protected(true))
	return f
}

func (f *fakeAuth) tokenRequests() []tokenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tokenRequest(nil), f.tokenReq...)
}

func (f *fakeAuth) dataRequests() []tokenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tokenRequest(nil), f.dataReq...)
}

// credClient is a client signing in as admin against a fakeAuth whose
// clock it shares.
func credClient(t *testing.T, opts ...Option) (*Client, *fakeAuth, *credentialSource, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	var f *fakeAuth
	var mux *http.ServeMux
	c, mux, site := setupNoAuth(t, append([]Option{WithCredentials("admin", testPassword)}, opts...)...)
	f = newFakeAuth(t, mux, site, clock)
	useClock(c, clock)
	cs := c.tokens.source().(*credentialSource)
	return c, f, cs, clock
}

func TestCredentialsDiscovery(t *testing.T) {
	c, f, cs, clock := credClient(t)
	site := strings.TrimSuffix(c.SiteURL(), "/")
	f.info = func(w http.ResponseWriter) {
		// The 12.0 location: never hard-coded, only discovered.
		fmt.Fprintf(w, `{"currentVersion":12.0,"authInfo":{"isTokenBasedSecurity":true,"tokenServicesUrl":%q}}`,
			site+"/security/tokens/generateToken")
	}
	for range 3 {
		require.NoError(t, c.Get(t.Context(), "rest/services/Maps/MapServer", nil, nil))
	}
	assert.Equal(t, int32(1), f.infoCalls.Load())
	reqs := f.tokenRequests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/arcgis/security/tokens/generateToken", reqs[0].path)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	assert.Equal(t, url.Values{"username": {"admin"}, "password": {testPassword}, "client": {"referer"},
		"referer": {DefaultReferer}, "expiration": {"60"}, "f": {"json"}}, reqs[0].form)
	assert.Empty(t, reqs[0].rawQuery, "credentials only in the POST body")

	// Expires as a number of epoch milliseconds.
	tok, err := cs.Token(t.Context())
	require.NoError(t, err)
	assert.True(t, clock.Now().Add(time.Hour).Equal(tok.Expires), "%v", tok.Expires)

	// A renewal uses the endpoint found the first time.
	cs.Invalidate(tok)
	require.NoError(t, c.Get(t.Context(), "rest/services/Maps/MapServer", nil, nil))
	assert.Equal(t, int32(1), f.infoCalls.Load())
	assert.Equal(t, int32(2), f.tokenCalls.Load())
}

func TestCredentialsFallback(t *testing.T) {
	for name, info := range map[string]func(w http.ResponseWriter){
		"rest/info 404 page": func(w http.ResponseWriter) { http.Error(w, "<html>not found</html>", http.StatusNotFound) },
		"no authInfo":        func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"currentVersion":10.1}`) },
		"rest/info error":    func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"error":{"code":403,"message":"no"}}`) },
		"relative URL": func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"authInfo":{"tokenServicesUrl":"/elsewhere"}}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, f, cs, _ := credClient(t)
			f.info = info
			require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
			reqs := f.tokenRequests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "/arcgis/tokens/generateToken", reqs[0].path)
			// A definite answer is remembered.
			tok, _ := cs.Token(t.Context())
			cs.Invalidate(tok)
			require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
			assert.Equal(t, int32(1), f.infoCalls.Load())
		})
	}
	t.Run("transient rest/info failure is not remembered", func(t *testing.T) {
		c, f, cs, _ := credClient(t)
		var n atomic.Int32
		f.info = func(w http.ResponseWriter) {
			if n.Add(1) <= 4 { // the first call and its retries
				http.Error(w, "<html>starting</html>", http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, `{"authInfo":{"isTokenBasedSecurity":true}}`)
		}
		require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
		assert.Equal(t, int32(4), f.infoCalls.Load())
		tok, _ := cs.Token(t.Context())
		cs.Invalidate(tok)
		require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
		assert.Equal(t, int32(5), f.infoCalls.Load(), "asked again after a 503")
	})
}

func TestAdminTokenURLStringExpires(t *testing.T) {
	c, f, cs, clock := credClient(t, WithTokenURL("admin/generateToken"), WithTokenExpiration(90*time.Minute))
	f.lifetime = 90 * time.Minute
	require.NoError(t, c.Post(t.Context(), "admin/services/x.MapServer/start", nil, nil))
	assert.Zero(t, f.infoCalls.Load(), "no discovery with WithTokenURL")
	reqs := f.tokenRequests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/arcgis/admin/generateToken", reqs[0].path)
	assert.Equal(t, "90", reqs[0].form.Get("expiration"))
	tok, err := cs.Token(t.Context())
	require.NoError(t, err)
	assert.True(t, clock.Now().Add(90*time.Minute).Equal(tok.Expires), "expires sent as a string: %v", tok.Expires)
}

func TestRefreshMargin(t *testing.T) {
	for lifetime, want := range map[time.Duration]time.Duration{
		24 * time.Hour:   144 * time.Minute, // 10%
		60 * time.Minute: 6 * time.Minute,
		10 * time.Minute: time.Minute, // 10% is 1m
		5 * time.Minute:  time.Minute, // at least a minute
		2 * time.Minute:  24 * time.Second,
		2 * time.Second:  400 * time.Millisecond, // a fifth of a short token, never the whole
	} {
		assert.Equal(t, want, refreshMargin(lifetime), "%v", lifetime)
		assert.Less(t, refreshMargin(lifetime), lifetime)
	}
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, issued.Add(54*time.Minute), renewTime(issued, issued.Add(time.Hour), time.Hour))
	// The server's clock is behind ours: the token looks expired on arrival.
	assert.Equal(t, issued.Add(54*time.Minute), renewTime(issued, issued.Add(-time.Minute), time.Hour))
	assert.Equal(t, issued.Add(54*time.Minute), renewTime(issued, time.Time{}, time.Hour))
}

func TestRefreshBeforeExpiry(t *testing.T) {
	for _, tt := range []struct {
		lifetime, margin time.Duration
	}{
		{time.Hour, 6 * time.Minute},
		{5 * time.Minute, time.Minute},
	} {
		t.Run(tt.lifetime.String(), func(t *testing.T) {
			c, f, _, clock := credClient(t)
			f.lifetime = tt.lifetime
			get := func() { require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil)) }
			get()
			require.Equal(t, int32(1), f.tokenCalls.Load())
			clock.Advance(tt.lifetime - tt.margin - time.Second)
			get()
			assert.Equal(t, int32(1), f.tokenCalls.Load(), "still well before expiry")
			clock.Advance(2 * time.Second)
			get()
			assert.Equal(t, int32(2), f.tokenCalls.Load(), "renewed within the margin, before expiry")
			for _, d := range f.dataRequests() {
				assert.NotEmpty(t, d.path)
			}
			// No request was ever refused: the token never expired in use.
			assert.Len(t, f.dataRequests(), 3)
		})
	}
}

func TestClockSkewNoStorm(t *testing.T) {
	c, f, _, clock := credClient(t)
	// The server's clock is an hour behind ours: its tokens look expired a
	// minute before they were issued.
	f.clock = fakeclock.NewAt(clock.Now().Add(-time.Hour))
	f.lifetime = time.Hour - time.Minute
	for range 5 {
		require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
	}
	assert.Equal(t, int32(1), f.tokenCalls.Load(), "one token, not one per call")
}

// TestSingleFlight: 100 goroutines on an expired token make one
// generateToken.
func TestSingleFlight(t *testing.T) {
	c, f, _, clock := credClient(t)
	require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
	require.Equal(t, int32(1), f.tokenCalls.Load())
	clock.Advance(2 * time.Hour) // expired

	for _, err := range getTogether(t, c, f, 100) {
		require.NoError(t, err)
	}
	assert.Equal(t, int32(2), f.tokenCalls.Load(), "exactly one generateToken for the expired token")
	assert.Len(t, f.dataRequests(), 101, "no request was refused")
}

// waitProbe is a context that reports the first time anyone asks for its
// Done channel. A caller of credentialSource.Token asks for it only when
// it starts waiting on a renewal another caller runs, or (the caller
// running the renewal) when its token request is sent.
type waitProbe struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func newWaitProbe(ctx context.Context) *waitProbe {
	return &waitProbe{Context: ctx, asked: make(chan struct{})}
}

func (p *waitProbe) Done() <-chan struct{} {
	p.once.Do(func() { close(p.asked) })
	return p.Context.Done()
}

// getTogether sends n GETs from n goroutines, and returns their errors.
// The fake token service holds the next token request until each of the n
// callers is either sending it or waiting on it, so all n share that one
// renewal, however the goroutines are scheduled.
func getTogether(t *testing.T, c *Client, f *fakeAuth, n int) []error {
	probes := make([]*waitProbe, n)
	for i := range probes {
		probes[i] = newWaitProbe(t.Context())
	}
	var held atomic.Bool
	f.tokenHold = func(*http.Request) {
		if held.CompareAndSwap(false, true) {
			for _, p := range probes {
				<-p.asked
			}
		}
	}
	defer func() { f.tokenHold = nil }()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Get(probes[i], "rest/services/x", nil, nil)
		}()
	}
	wg.Wait()
	return errs
}

// TestFailedRefresh: a failed refresh is returned to every caller that
// waited on it, and is not cached: the next call tries again.
func TestFailedRefresh(t *testing.T) {
	c, f, _, _ := credClient(t)
	f.tokenFail.Store(1)

	for _, err := range getTogether(t, c, f, 20) {
		var apiErr *Error
		require.ErrorAs(t, err, &apiErr, "every waiter gets the failure")
		assert.Equal(t, "generateToken", apiErr.Op)
		assert.Equal(t, []string{"Invalid username or password."}, apiErr.Details)
		assert.Contains(t, err.Error(), "GET rest/services/x: get token: generateToken: Unable to generate token.")
	}
	assert.Equal(t, int32(1), f.tokenCalls.Load(), "one request for all waiters")
	assert.Empty(t, f.dataRequests())

	require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil), "the failure was not cached")
	assert.Equal(t, int32(2), f.tokenCalls.Load())
}

// TestLeaderCancelled: when the caller running a refresh gives up, the
// others renew themselves instead of failing with its context error.
func TestLeaderCancelled(t *testing.T) {
	_, f, cs, _ := credClient(t)
	sent := make(chan struct{})
	f.tokenHold = func(r *http.Request) {
		if f.tokenCalls.Load() == 1 {
			close(sent)
			<-r.Context().Done() // the leader's request, held until it gives up
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	leaderErr := make(chan error, 1)
	go func() {
		_, err := cs.Token(ctx)
		leaderErr <- err
	}()
	<-sent // the leader's renewal is under way

	probe := newWaitProbe(t.Context())
	type result struct {
		tok Token
		err error
	}
	follower := make(chan result, 1)
	go func() {
		tok, err := cs.Token(probe)
		follower <- result{tok, err}
	}()
	<-probe.asked // the follower waits on the leader's renewal
	cancel()      // and the leader gives up

	assert.ErrorIs(t, <-leaderErr, context.Canceled)
	got := <-follower
	require.NoError(t, got.err, "the follower renews itself")
	assert.False(t, got.tok.IsZero())
	assert.Equal(t, int32(2), f.tokenCalls.Load(), "the follower made its own token request")
}

// TestInvalidTokenReplay: 498 or 499 in either envelope causes one
// refresh and one replay; a second rejection is returned, not looped.
func TestInvalidTokenReplay(t *testing.T) {
	calls := map[string]func(c *Client) error{
		"REST envelope GET": func(c *Client) error { return c.Get(context.Background(), "rest/services/x/MapServer", nil, nil) },
		"admin envelope POST": func(c *Client) error {
			return c.Post(context.Background(), "admin/services/x.MapServer/start", nil, nil)
		},
	}
	for name, call := range calls {
		t.Run(name+" once", func(t *testing.T) {
			c, f, _, _ := credClient(t)
			require.NoError(t, call(c))
			f.rejectTokens.Store(1) // e.g. the server restarted
			require.NoError(t, call(c))
			assert.Equal(t, int32(2), f.tokenCalls.Load(), "one refresh")
			d := f.dataRequests()
			require.Len(t, d, 3, "one replay")
			assert.Equal(t, d[0].token, d[1].token, "the rejected request used the cached token")
			assert.NotEqual(t, d[1].token, d[2].token, "the replay carries the renewed token")
		})
		t.Run(name+" twice", func(t *testing.T) {
			c, f, _, _ := credClient(t)
			f.rejectTokens.Store(100)
			err := call(c)
			assert.ErrorIs(t, err, ErrInvalidToken)
			assert.Equal(t, int32(2), f.tokenCalls.Load(), "one refresh, no loop")
			assert.Len(t, f.dataRequests(), 2, "one replay, no loop")
		})
	}
	t.Run("499 is renewed too", func(t *testing.T) {
		var n atomic.Int32
		c, mux, _ := setupNoAuth(t, WithTokenSource(&rotatingSource{}))
		mux.HandleFunc("/arcgis/admin/x", func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				_, _ = io.WriteString(w, `{"status":"error","messages":["Unauthorized access.Token not found."],"code":499}`)
				return
			}
			assert.Equal(t, "tok-2", r.FormValue("token"))
			_, _ = io.WriteString(w, `{"status":"success"}`)
		})
		require.NoError(t, c.Post(t.Context(), "admin/x", nil, nil))
		assert.Equal(t, int32(2), n.Load())
	})
	t.Run("static token is not replayed", func(t *testing.T) {
		var n atomic.Int32
		c, mux, _ := setup(t)
		mux.HandleFunc("/arcgis/rest/x", func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			_, _ = w.Write(fixture(t, "error-498-invalid-token-mock.json"))
		})
		err := c.Get(t.Context(), "rest/x", nil, nil)
		assert.ErrorIs(t, err, ErrInvalidToken)
		assert.Equal(t, int32(1), n.Load())
	})
}

// rotatingSource hands out tok-1, tok-2, ... one per invalidation.
type rotatingSource struct {
	mu sync.Mutex
	n  int
}

func (s *rotatingSource) Token(context.Context) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		s.n = 1
	}
	return NewToken(fmt.Sprintf("tok-%d", s.n), time.Time{}), nil
}

func (s *rotatingSource) Invalidate(Token) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
}

func TestInvalidateIgnoresStaleToken(t *testing.T) {
	_, f, cs, _ := credClient(t)
	old, err := cs.Token(t.Context())
	require.NoError(t, err)
	cs.Invalidate(old)
	fresh, err := cs.Token(t.Context())
	require.NoError(t, err)
	require.NotEqual(t, old.Value(), fresh.Value())
	cs.Invalidate(old) // a late rejection of the old token
	again, err := cs.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, fresh.Value(), again.Value())
	assert.Equal(t, int32(2), f.tokenCalls.Load())
}

// TestRefererEverywhere: the Referer header on every request equals the
// referer the token was generated for.
func TestRefererEverywhere(t *testing.T) {
	const referer = "https://app.example.com/console"
	c, f, _, _ := credClient(t, WithReferer(referer))
	require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
	require.NoError(t, c.Post(t.Context(), "admin/services/x.MapServer/stop", nil, nil))
	reqs := f.tokenRequests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "referer", reqs[0].form.Get("client"))
	assert.Equal(t, referer, reqs[0].form.Get("referer"))
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.allReq, 4) // rest/info, generateToken, GET, POST
	for _, r := range f.allReq {
		assert.Equal(t, referer, r.Header.Get("Referer"), r.URL.Path)
	}
}

// TestCredentialsOnlyInPOSTBody: the password never appears in a URL or a
// header of any request; only in the generateToken body.
func TestCredentialsOnlyInPOSTBody(t *testing.T) {
	c, f, _, _ := credClient(t)
	require.NoError(t, c.Get(t.Context(), "rest/services/x", map[string]any{"detail": true}, nil))
	require.NoError(t, c.Post(t.Context(), "admin/services/x.MapServer/stop", nil, nil))
	d := f.dataRequests()
	require.Len(t, d, 2)
	assert.Equal(t, http.MethodPost, d[0].method, "an authenticated read is a POST with the token in the body")
	assert.Empty(t, d[0].rawQuery)
	f.mu.Lock()
	defer f.mu.Unlock()
	var inBody int
	for i, r := range f.allReq {
		assert.NotContains(t, r.URL.String(), testPassword)
		assert.NotContains(t, r.URL.RawQuery, "username")
		assert.NotContains(t, fmt.Sprint(r.Header), testPassword)
		if strings.Contains(f.bodies[i], testPassword) {
			inBody++
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, "/arcgis/tokens/generateToken", r.URL.Path)
		}
	}
	assert.Equal(t, 1, inBody)
}

// TestFederated: rest/info names an owning portal; the portal's token URL
// comes from the portal's sharing/rest/info (not from the server's
// tokenServicesUrl, which here names the server's own /tokens, as in
// Esri's example); a portal token is got with the credentials and
// exchanged for a server token, each cached with its own expiry.
func TestFederated(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	var portalReqs []url.Values
	var portalCalls, portalInfo atomic.Int32
	var portalURL string
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/portal/sharing/rest/info" {
			portalInfo.Add(1)
			assert.Empty(t, r.Header.Get("X-Esri-Authorization"))
			// The recorded answer of a portal, with this portal's own
			// token URL (testdata/fixtures/portal-sharing-rest-info-agol-captured.json).
			fmt.Fprintf(w, `{"owningSystemUrl":%q,"authInfo":{"tokenServicesUrl":%q,"isTokenBasedSecurity":true}}`,
				portalURL+"/portal", portalURL+"/portal/sharing/rest/generateToken")
			return
		}
		require.Equal(t, "/portal/sharing/rest/generateToken", r.URL.Path)
		require.Equal(t, http.MethodPost, r.Method)
		require.Empty(t, r.URL.RawQuery)
		require.NoError(t, r.ParseForm())
		n := portalCalls.Add(1)
		mu.Lock()
		portalReqs = append(portalReqs, r.PostForm)
		mu.Unlock()
		now := clock.Now()
		if r.PostForm.Get("serverUrl") != "" {
			fmt.Fprintf(w, `{"token":"server-%d","expires":%d,"ssl":false}`, n, now.Add(30*time.Minute).UnixMilli())
			return
		}
		if r.PostForm.Get("password") != testPassword {
			_, _ = io.WriteString(w, `{"error":{"code":400,"message":"Unable to generate token."}}`)
			return
		}
		fmt.Fprintf(w, `{"token":"portal-%d","expires":%d,"ssl":true}`, n, now.Add(2*time.Hour).UnixMilli())
	}))
	t.Cleanup(portal.Close)
	portalURL = portal.URL

	c, mux, site := setupNoAuth(t, WithCredentials("admin", testPassword), WithReferer("https://app.example.com"))
	useClock(c, clock)
	mux.HandleFunc("/arcgis/rest/info", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"currentVersion":11.3,"owningSystemUrl":%q,"authInfo":{"isTokenBasedSecurity":true,"tokenServicesUrl":%q}}`,
			portal.URL+"/portal", site+"/tokens/")
	})
	mux.HandleFunc("/arcgis/tokens/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a federated server's own token service was used: %s", r.URL.Path)
	})
	var used []string
	mux.HandleFunc("/arcgis/rest/services/x", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		used = append(used, r.Header.Get("X-Esri-Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, `{}`)
	})

	require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
	require.Len(t, portalReqs, 2)
	assert.Equal(t, url.Values{"username": {"admin"}, "password": {testPassword}, "client": {"referer"},
		"referer": {"https://app.example.com"}, "expiration": {"60"}, "f": {"json"}}, portalReqs[0])
	assert.Equal(t, url.Values{"token": {"portal-1"}, "serverUrl": {site}, "client": {"referer"},
		"referer": {"https://app.example.com"}, "expiration": {"60"}, "f": {"json"}}, portalReqs[1])
	assert.Equal(t, []string{"Bearer server-2"}, used, "the server token, not the portal token, is used")

	// The server token (30 min) is renewed before the portal token (2 h):
	// only the exchange is repeated.
	clock.Advance(28 * time.Minute)
	require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
	require.Len(t, portalReqs, 3)
	assert.Equal(t, "portal-1", portalReqs[2].Get("token"))
	assert.False(t, portalReqs[2].Has("password"))
	assert.Equal(t, "Bearer server-3", used[1])

	// Past the portal token's renewal, the credentials are sent again.
	clock.Advance(2 * time.Hour)
	require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
	require.Len(t, portalReqs, 5)
	assert.Equal(t, testPassword, portalReqs[3].Get("password"))
	assert.Equal(t, "portal-4", portalReqs[4].Get("token"))
	assert.Equal(t, int32(1), portalInfo.Load(), "the portal's info is read once")
}

// TestFederatedPortalInfoFallback: a portal whose sharing/rest/info names
// no token URL, or fails, is asked at sharing/rest/generateToken; a failure
// that may pass is not cached.
func TestFederatedPortalInfoFallback(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		status     int
		infoCalls  int32
	}{
		{"no tokenServicesUrl", `{"owningSystemUrl":"x","authInfo":{"isTokenBasedSecurity":true}}`, 200, 1},
		{"error answer", `{"error":{"code":400,"message":"Invalid URL","details":[]}}`, 200, 1},
		{"gateway failure, asked again", `<html>502</html>`, http.StatusBadGateway, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			var infoCalls, tokenCalls atomic.Int32
			portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/portal/sharing/rest/info":
					infoCalls.Add(1)
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, tc.info)
				case "/portal/sharing/rest/generateToken":
					n := tokenCalls.Add(1)
					fmt.Fprintf(w, `{"token":"t-%d","expires":%d}`, n, clock.Now().Add(30*time.Minute).UnixMilli())
				default:
					t.Errorf("unexpected portal request %s", r.URL.Path)
				}
			}))
			t.Cleanup(portal.Close)
			c, mux, _ := setupNoAuth(t, WithCredentials("admin", testPassword),
				WithRetryPolicy(RetryPolicy{MaxRetries: -1}))
			useClock(c, clock)
			mux.HandleFunc("/arcgis/rest/info", func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, `{"owningSystemUrl":%q,"authInfo":{"isTokenBasedSecurity":true}}`, portal.URL+"/portal/")
			})
			mux.HandleFunc("/arcgis/rest/services/x", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, `{}`)
			})
			require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
			clock.Advance(time.Hour) // past the token's expiry: a new one is fetched
			require.NoError(t, c.Get(t.Context(), "rest/services/x", nil, nil))
			assert.Equal(t, tc.infoCalls, infoCalls.Load())
			assert.GreaterOrEqual(t, tokenCalls.Load(), int32(2))
		})
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	tok := NewToken("SECRET-VALUE-123", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	for _, s := range []string{
		tok.String(), tok.GoString(), fmt.Sprint(tok), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%d", tok, tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v %+v %#v", &tok, struct{ T Token }{tok}, []Token{tok}),
	} {
		assert.NotContains(t, s, "SECRET-VALUE-123")
		assert.NotContains(t, s, "SECRET")
	}
	assert.Equal(t, "ags.Token{REDACTED, expires 2026-05-01T12:00:00Z}", tok.String())
	assert.Equal(t, "ags.Token{REDACTED}", NewToken("x", time.Time{}).String())
	b, err := json.Marshal(map[string]any{"t": tok})
	require.NoError(t, err)
	assert.Equal(t, `{"t":"REDACTED"}`, string(b))
	assert.Equal(t, "SECRET-VALUE-123", tok.Value())
	assert.False(t, tok.IsZero())
	assert.True(t, Token{}.IsZero())

	var buf safeBuffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	l.Info("t", "token", tok, "ptr", &tok)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("t", "token", tok)
	assert.NotContains(t, buf.String(), "SECRET")

	ts := StaticTokenSource(tok)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", ts, ts, ts), "SECRET")
	got, err := ts.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, tok, got)

	cs := &credentialSource{username: "admin", password: box("hunter2"), cur: tok, portalTok: tok}
	assert.Equal(t, "ags.credentialSource{user: admin, password: REDACTED}", fmt.Sprintf("%#v", cs))
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", cs, cs, cs, cs), fmt.Sprintf("%+v", cs.password)} {
		assert.NotContains(t, s, "hunter2")
		assert.NotContains(t, s, "SECRET")
	}
}

func TestTokenResponseReader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := tokenResponse{AccessToken: "a", ExpiresIn: 7200}.token(now, time.Hour)
	assert.Equal(t, "a", tok.Value())
	assert.Equal(t, now.Add(2*time.Hour), tok.Expires)
	tok = tokenResponse{Token: "b"}.token(now, time.Hour)
	assert.Equal(t, now.Add(time.Hour), tok.Expires, "no expiry: the requested lifetime")
	var empty tokenResponse
	assert.Equal(t, badAnswer("no token in the answer"), empty.checkAnswer())

	// Through the client: an answer with no token is a *ResponseError
	// that quotes nothing of the answer.
	c, mux, _ := setupNoAuth(t, WithCredentials("admin", testPassword), WithTokenURL("custom/generateToken"))
	mux.HandleFunc("/arcgis/custom/generateToken", serveRaw(200, "application/json", `{"expires":1,"note":"`+testPassword+`"}`))
	err := c.Get(t.Context(), "rest/services/x", nil, nil)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "no token in the answer", re.Reason)
	assert.Equal(t, http.StatusOK, re.HTTPStatus)
	assert.Equal(t, "generateToken", re.Op)
	assert.True(t, strings.HasSuffix(re.URL, "/arcgis/custom/generateToken"), re.URL)
	assert.Empty(t, re.Snippet)
	assert.NotContains(t, err.Error(), testPassword)
}
