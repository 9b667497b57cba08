package ags

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is an ArcGIS token or API key. Its value never appears in fmt, slog
// or JSON output: every verb prints "REDACTED". Read it with Value.
type Token struct {
	value   *secretBox // behind a pointer: see secretBox
	Expires time.Time  // zero when unknown or never
}

// secretBox holds a secret string; it is only ever used through a
// pointer. Where fmt cannot call a Format method (a struct's unexported
// field, or any value printed with a verb it does not fit, such as %s of
// a pointer field) it prints what it reaches raw, but a pointer to a
// string is always printed as an address, never followed. So a token or
// password inside any struct of this package, or of a caller's, never
// shows under any verb. (A pointer to a struct would not do: fmt expands
// one when it reports a bad verb.)
type secretBox string

func box(s string) *secretBox {
	if s == "" {
		return nil
	}
	b := secretBox(s)
	return &b
}

// Format, GoString and LogValue print REDACTED, should a box ever be
// printed by itself.
func (b *secretBox) Format(f fmt.State, _ rune) { io.WriteString(f, "REDACTED") }
func (b *secretBox) GoString() string           { return "REDACTED" }
func (b *secretBox) LogValue() slog.Value       { return slog.StringValue("REDACTED") }

func (b *secretBox) get() string {
	if b == nil {
		return ""
	}
	return string(*b)
}

// NewToken returns a Token with the given value and expiry (zero: unknown).
func NewToken(value string, expires time.Time) Token {
	return Token{value: box(value), Expires: expires}
}

// Value returns the secret itself. Handle with care.
func (t Token) Value() string { return t.value.get() }

// IsZero reports whether the token is empty.
func (t Token) IsZero() bool { return t.value.get() == "" }

func (t Token) String() string {
	if t.Expires.IsZero() {
		return "ags.Token{REDACTED}"
	}
	return "ags.Token{REDACTED, expires " + t.Expires.UTC().Format(time.RFC3339) + "}"
}

// GoString keeps %#v from printing the value.
func (t Token) GoString() string { return t.String() }

// Format makes every fmt verb print String.
func (t Token) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// LogValue keeps slog from printing the value.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON writes "REDACTED": a token is never serialised by accident.
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"REDACTED"`), nil }

// TokenSource supplies tokens. Token is called before every request, so it
// must be cheap when it has a valid token, and safe for concurrent use.
//
// A source that can renew a token may also implement
//
//	Invalidate(Token)
//
// which the client calls when the server rejects that token (498 or 499);
// the request is then replayed once with the next token.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// StaticTokenSource returns a source that always gives t (a long-lived
// token or an API key).
func StaticTokenSource(t Token) TokenSource { return staticSource{t} }

type staticSource struct{ t Token }

func (s staticSource) Token(context.Context) (Token, error) { return s.t, nil }
func (s staticSource) String() string                       { return "ags.StaticTokenSource{REDACTED}" }
func (s staticSource) GoString() string                     { return s.String() }
func (s staticSource) Format(f fmt.State, _ rune)           { io.WriteString(f, s.String()) }

// refreshMargin is how long before expiry a token is renewed: 10% of its
// lifetime, and at least a minute or a fifth of the lifetime, whichever is
// less (so a two-second test token is not renewed on every call).
func refreshMargin(lifetime time.Duration) time.Duration {
	m := lifetime / 10
	floor := time.Minute
	if lifetime/5 < floor {
		floor = lifetime / 5
	}
	if m < floor {
		m = floor
	}
	return m
}

// credentialSource gets tokens with a username and password, caches them,
// renews them before they expire with one request however many goroutines
// wait, and never caches a failure.
type credentialSource struct {
	client     *Client
	username   string
	password   *secretBox
	referer    string
	expiration time.Duration
	tokenURL   string // override; "" means discover

	mu        sync.Mutex
	cur       Token
	renewAt   time.Time
	flight    *tokenFlight
	endpoint  *tokenEndpoint // discovered once
	portalTok Token          // federated: the portal token
	portalAt  time.Time
}

type tokenFlight struct {
	done chan struct{}
	tok  Token
	err  error
}

// tokenEndpoint is where and how tokens are obtained.
type tokenEndpoint struct {
	url       *url.URL
	federated bool // url is the portal's generateToken; exchange for a server token
}

func (s *credentialSource) String() string {
	return "ags.credentialSource{user: " + s.username + ", password: REDACTED}"
}
func (s *credentialSource) GoString() string           { return s.String() }
func (s *credentialSource) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// clock is the client's clock: the one every wait, backoff and renewal reads.
func (s *credentialSource) clock() time.Time { return s.client.now() }

// Token returns the cached token or renews it.
func (s *credentialSource) Token(ctx context.Context) (Token, error) {
	for {
		s.mu.Lock()
		if !s.cur.IsZero() && s.clock().Before(s.renewAt) {
			t := s.cur
			s.mu.Unlock()
			return t, nil
		}
		if f := s.flight; f != nil {
			s.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return Token{}, ctx.Err()
			}
			if f.err != nil && isContextErr(f.err) && ctx.Err() == nil {
				continue // the renewing caller gave up; try ourselves
			}
			return f.tok, f.err
		}
		f := &tokenFlight{done: make(chan struct{})}
		s.flight = f
		s.mu.Unlock()

		issued := s.clock()
		tok, err := s.fetch(ctx)

		s.mu.Lock()
		if err == nil {
			s.cur = tok
			s.renewAt = renewTime(issued, tok.Expires, s.expiration)
		}
		f.tok, f.err = tok, err
		s.flight = nil
		close(f.done)
		s.mu.Unlock()
		return tok, err
	}
}

// renewTime is when a token issued at issued and expiring at expires is
// renewed: its margin before expiry. A token without an expiry, or whose
// expiry is not after its issue time by our clock (the server's clock runs
// behind ours), is taken to live for fallback from now; the server says so
// with a 498 if not, and the client renews it then. Without this, a skewed
// clock would make every call fetch a new token.
func renewTime(issued, expires time.Time, fallback time.Duration) time.Time {
	lifetime := expires.Sub(issued)
	if expires.IsZero() || lifetime <= 0 {
		return issued.Add(fallback - refreshMargin(fallback))
	}
	return expires.Add(-refreshMargin(lifetime))
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Invalidate drops t if it is still the cached token, so the next call to
// Token renews it. Tokens rejected after a renewal are ignored.
func (s *credentialSource) Invalidate(t Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Value() == t.Value() {
		s.cur = Token{}
		s.portalTok = Token{} // after a restart the portal token may be gone too
	}
}

// fetch gets a new token: discover the endpoint, then generateToken, with
// the portal exchange for a federated server.
func (s *credentialSource) fetch(ctx context.Context) (Token, error) {
	ep, err := s.discover(ctx)
	if err != nil {
		return Token{}, err
	}
	if !ep.federated {
		return s.generate(ctx, ep.url, s.credentialParams())
	}
	s.mu.Lock()
	portal := s.portalTok
	portalOK := !portal.IsZero() && s.clock().Before(s.portalAt)
	s.mu.Unlock()
	if !portalOK {
		issued := s.clock()
		if portal, err = s.generate(ctx, ep.url, s.credentialParams()); err != nil {
			return Token{}, err
		}
		s.mu.Lock()
		s.portalTok, s.portalAt = portal, renewTime(issued, portal.Expires, s.expiration)
		s.mu.Unlock()
	}
	// Exchange the portal token for a token of this server.
	// https://developers.arcgis.com/rest/users-groups-and-items/generate-token.htm
	params := url.Values{
		"token":      {portal.Value()},
		"serverUrl":  {strings.TrimSuffix(s.client.site.String(), "/")},
		"client":     {"referer"},
		"referer":    {s.referer},
		"expiration": {strconv.Itoa(int(s.expiration / time.Minute))},
	}
	return s.generate(ctx, ep.url, params)
}

func (s *credentialSource) credentialParams() url.Values {
	return url.Values{
		"username":   {s.username},
		"password":   {s.password.get()},
		"client":     {"referer"},
		"referer":    {s.referer},
		"expiration": {strconv.Itoa(int(s.expiration / time.Minute))},
	}
}

// serverInfo is the part of rest/info that says how to authenticate.
// https://developers.arcgis.com/rest/services-reference/enterprise/server-info
type serverInfo struct {
	CurrentVersion  float64 `json:"currentVersion"`
	FullVersion     string  `json:"fullVersion"`
	OwningSystemURL string  `json:"owningSystemUrl"`
	AuthInfo        struct {
		IsTokenBasedSecurity    lenientBool `json:"isTokenBasedSecurity"`
		TokenServicesURL        string      `json:"tokenServicesUrl"`
		ShortLivedTokenValidity Int         `json:"shortLivedTokenValidity"`
	} `json:"authInfo"`
}

// discover finds the token endpoint once: an explicit WithTokenURL; for a
// federated server (rest/info names an owningSystemUrl) the portal's, from
// the portal's own sharing/rest/info; else rest/info's
// authInfo.tokenServicesUrl; else tokens/generateToken.
func (s *credentialSource) discover(ctx context.Context) (*tokenEndpoint, error) {
	s.mu.Lock()
	ep := s.endpoint
	s.mu.Unlock()
	if ep != nil {
		return ep, nil
	}
	c := s.client
	ep = &tokenEndpoint{}
	cache := true
	if s.tokenURL != "" {
		u, err := c.site.Parse(s.tokenURL)
		if err != nil {
			return nil, &ValidationError{Field: "token URL", Reason: err.Error()}
		}
		ep.url = u
	} else {
		var info serverInfo
		infoURL, _ := c.site.Parse("rest/info")
		err := c.do(ctx, call{op: opInfo, scope: "rest", method: http.MethodGet, url: infoURL,
			idempotent: true, noAuth: true}, &info)
		if err != nil && isContextErr(err) {
			return nil, err
		}
		var re *RequestError
		if errors.As(err, &re) {
			// No answer at all, after a full retry cycle: the host is down
			// or unreachable, and the fallback endpoint is on the same
			// host. Asking it too would only double the wait.
			return nil, fmt.Errorf("cannot reach %s: %w", c.site.Host, err)
		}
		fallback, _ := c.site.Parse("tokens/generateToken")
		ep.url = fallback
		switch {
		case err == nil && strings.TrimSpace(info.OwningSystemURL) != "":
			// Federated: the portal issues tokens, exchanged for this
			// server's own. The server's tokenServicesUrl is not trusted
			// to name the portal's (Esri's own example shows it pointing
			// at the server's /tokens): the portal's sharing/rest/info
			// says, as ArcGIS REST JS reads it (REST-REFERENCE §7.4).
			ep.federated = true
			var perr error
			ep.url, cache, perr = c.portalTokenURL(ctx, info.OwningSystemURL)
			if perr != nil {
				return nil, perr
			}
		case err == nil:
			if tu := info.AuthInfo.TokenServicesURL; tu != "" {
				if u, perr := url.Parse(tu); perr == nil && u.IsAbs() {
					ep.url = u
				}
			}
		default:
			// Only a definite answer (the server said there is no rest/info)
			// fixes the fallback for good; after a transport failure or a
			// 5xx the next token request asks again.
			cache = definiteAnswer(err)
			if c.logger != nil {
				c.logger.Debug("ags: rest/info unavailable; using tokens/generateToken", "error", err)
			}
		}
	}
	if ep.url == nil || ep.url.Host == "" || ep.url.User != nil || ep.url.RawQuery != "" {
		return nil, &ValidationError{Field: "token URL", Reason: "could not be determined"}
	}
	if ep.url.Scheme != "https" && !c.allowHTTP {
		return nil, &ValidationError{Field: "token URL",
			Reason: "refusing to send credentials over plain http to " + cleanURL(ep.url) + "; use WithInsecureHTTP for a test server"}
	}
	if !cache {
		return ep, nil
	}
	s.mu.Lock()
	s.endpoint = ep
	s.mu.Unlock()
	return ep, nil
}

// portalTokenURL finds the token endpoint of a federated server's portal:
// authInfo.tokenServicesUrl of <owningSystemUrl>/sharing/rest/info, else
// <owningSystemUrl>/sharing/rest/generateToken. cache is false when the
// portal gave no definite answer, so the next token request asks again.
func (c *Client) portalTokenURL(ctx context.Context, owningSystemURL string) (u *url.URL, cache bool, err error) {
	root := strings.TrimSuffix(strings.TrimSpace(owningSystemURL), "/")
	fallback, perr := url.Parse(root + "/sharing/rest/generateToken")
	infoURL, ierr := url.Parse(root + "/sharing/rest/info")
	if perr != nil || ierr != nil || !infoURL.IsAbs() || infoURL.User != nil || infoURL.RawQuery != "" {
		return nil, false, &ValidationError{Field: "owningSystemUrl", Reason: "rest/info names a portal that is not an absolute URL"}
	}
	var info serverInfo
	err = c.do(ctx, call{op: opInfo, scope: "portal sharing/rest", method: http.MethodGet, url: infoURL,
		idempotent: true, noAuth: true}, &info)
	switch {
	case err != nil && isContextErr(err):
		return nil, false, err
	case err != nil:
		if c.logger != nil {
			c.logger.Debug("ags: portal sharing/rest/info unavailable; using sharing/rest/generateToken", "error", err)
		}
		return fallback, definiteAnswer(err), nil
	}
	if tu := info.AuthInfo.TokenServicesURL; tu != "" {
		if u, perr := url.Parse(tu); perr == nil && u.IsAbs() {
			return u, true, nil
		}
	}
	return fallback, true, nil
}

// definiteAnswer reports whether err is the server's own answer (an
// ArcGIS error, or a page that is not one with a status below 500) rather
// than a failure that may pass.
func definiteAnswer(err error) bool {
	var re *RequestError
	if errors.As(err, &re) {
		return false
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.HTTPStatus < 500
	}
	var rse *ResponseError
	if errors.As(err, &rse) {
		return rse.HTTPStatus < 500
	}
	return false
}

// tokenResponse is generateToken's answer: {token, expires, ssl}, with
// expires as a number or a string of epoch milliseconds; OAuth-style
// {access_token, expires_in} is read too.
type tokenResponse struct {
	Token       string      `json:"token"`
	Expires     Time        `json:"expires"`
	SSL         lenientBool `json:"ssl"`
	AccessToken string      `json:"access_token"`
	ExpiresIn   Int         `json:"expires_in"`
}

func (s *credentialSource) generate(ctx context.Context, u *url.URL, params url.Values) (Token, error) {
	var tr tokenResponse
	now := s.clock()
	err := s.client.do(ctx, call{op: opGenerateToken, method: http.MethodPost, url: u, params: params,
		idempotent: true, noAuth: true, secret: true}, &tr)
	if err != nil {
		return Token{}, err
	}
	return tr.token(now, s.expiration), nil
}

// checkAnswer accepts only an answer that holds a token.
func (tr *tokenResponse) checkAnswer() error {
	if tr.Token == "" && tr.AccessToken == "" {
		return badAnswer("no token in the answer")
	}
	return nil
}

// token reads the answer of a token request made at now (checked by
// decode: it holds a token). An answer without an expiry is taken to live
// for fallback.
func (tr tokenResponse) token(now time.Time, fallback time.Duration) Token {
	tok := NewToken(tr.Token, tr.Expires.Time)
	if tok.IsZero() {
		tok = NewToken(tr.AccessToken, time.Time{})
		if tr.ExpiresIn > 0 && tr.ExpiresIn < 1<<31 {
			tok.Expires = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
		}
	}
	if tok.Expires.IsZero() {
		tok.Expires = now.Add(fallback)
	}
	return tok
}
