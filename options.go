package ags

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// config gathers options before the client is built.
type config struct {
	httpClient  *http.Client
	tokens      TokenSource
	creds       *credentialSource
	authOptions int
	referer     string
	expiration  time.Duration
	tokenURL    string
	logger      *slog.Logger
	retry       RetryPolicy
	retryHook   func(RetryEvent)
	userAgent   string
	insecure    bool
	maxBody     int64
	roots       Roots
}

// An Option configures a Client. Options check their arguments, and
// NewClient returns the first error.
type Option func(*config) error

// WithHTTPClient sends requests through a copy of hc (its transport, TLS
// settings, proxy and timeout), never modifying hc itself. Use it for custom
// CAs, client certificates and proxies; TLS verification is never turned off
// by this package.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return &ValidationError{Field: "WithHTTPClient", Reason: "nil *http.Client"}
		}
		c.httpClient = hc
		return nil
	}
}

// WithCredentials signs in with a username and password. Tokens are fetched
// from the site's token service (found through rest/info), refreshed before
// they expire, and exchanged through the portal for a federated server. The
// password is only ever sent in a POST body over https.
func WithCredentials(username, password string) Option {
	return func(c *config) error {
		if strings.TrimSpace(username) == "" {
			return &ValidationError{Field: "username", Reason: "must not be empty"}
		}
		if password == "" {
			return &ValidationError{Field: "password", Reason: "must not be empty"}
		}
		c.creds = &credentialSource{username: username, password: box(password)}
		c.authOptions++
		return nil
	}
}

// WithToken uses a fixed token or API key. It is never refreshed: when the
// server rejects it, calls fail with ErrInvalidToken.
func WithToken(token string) Option {
	return func(c *config) error {
		if strings.TrimSpace(token) == "" {
			return &ValidationError{Field: "token", Reason: "must not be empty"}
		}
		c.tokens = StaticTokenSource(NewToken(token, time.Time{}))
		c.authOptions++
		return nil
	}
}

// WithTokenSource takes tokens from ts. If ts also has a method
// Invalidate(Token), a token the server rejects is invalidated and the
// request replayed once with a fresh one.
func WithTokenSource(ts TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return &ValidationError{Field: "WithTokenSource", Reason: "nil TokenSource"}
		}
		c.tokens = ts
		c.authOptions++
		return nil
	}
}

// WithReferer sets the referer tokens are bound to (client=referer) and the
// Referer header sent with every request. Default DefaultReferer.
func WithReferer(referer string) Option {
	return func(c *config) error {
		if strings.TrimSpace(referer) == "" || strings.ContainsAny(referer, "\r\n") {
			return &ValidationError{Field: "referer", Reason: "must be a non-empty single line"}
		}
		c.referer = referer
		return nil
	}
}

// WithTokenExpiration sets the token lifetime asked of generateToken (whole
// minutes, at least one). The server may cap it. Default 60 minutes.
func WithTokenExpiration(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Minute {
			return &ValidationError{Field: "token expiration", Reason: "must be at least one minute"}
		}
		c.expiration = d
		return nil
	}
}

// WithTokenURL sets the generateToken endpoint instead of discovering it
// from rest/info: a path relative to the site ("admin/generateToken" for
// the admin API's own token service) or an absolute https URL.
func WithTokenURL(u string) Option {
	return func(c *config) error {
		if strings.TrimSpace(u) == "" {
			return &ValidationError{Field: "token URL", Reason: "must not be empty"}
		}
		if p, err := url.Parse(u); err != nil || p.RawQuery != "" || p.User != nil {
			return &ValidationError{Field: "token URL", Reason: "must be a path or URL without query or user info"}
		}
		c.tokenURL = u
		return nil
	}
}

// WithLogger logs one debug line per HTTP attempt (method, host, path,
// status, duration, attempt) and one per retry. Never a query, a header, a
// body, a token or a password.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return &ValidationError{Field: "WithLogger", Reason: "nil *slog.Logger"}
		}
		c.logger = l
		return nil
	}
}

// WithRetryPolicy sets how often and how long to retry.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MinDelay < 0 || p.MaxDelay < 0 {
			return &ValidationError{Field: "RetryPolicy", Reason: "delays must not be negative"}
		}
		if p.MaxDelay > 0 && p.MinDelay > p.MaxDelay {
			return &ValidationError{Field: "RetryPolicy", Reason: "MinDelay must not exceed MaxDelay"}
		}
		c.retry = p
		return nil
	}
}

// WithRetryHook calls fn before every retry.
func WithRetryHook(fn func(RetryEvent)) Option {
	return func(c *config) error {
		if fn == nil {
			return &ValidationError{Field: "WithRetryHook", Reason: "nil func"}
		}
		c.retryHook = fn
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return &ValidationError{Field: "user agent", Reason: "must be a non-empty single line"}
		}
		c.userAgent = ua
		return nil
	}
}

// WithInsecureHTTP allows credentials and tokens to be sent over plain
// http://. Meant for test servers only; it does not touch TLS verification.
func WithInsecureHTTP() Option {
	return func(c *config) error {
		c.insecure = true
		return nil
	}
}

// WithMaxResponseBytes caps how much of one response body is read (default
// 32 MiB). A larger body fails the call with a *ResponseError.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n < 1024 {
			return &ValidationError{Field: "max response bytes", Reason: "must be at least 1024"}
		}
		c.maxBody = n
		return nil
	}
}

// WithRoots overrides where the services, admin and hosted-admin APIs live.
// Empty fields keep their defaults.
func WithRoots(r Roots) Option {
	return func(c *config) error {
		if r.Services != "" {
			c.roots.Services = r.Services
		}
		if r.Admin != "" {
			c.roots.Admin = r.Admin
		}
		if r.HostedAdmin != "" {
			c.roots.HostedAdmin = r.HostedAdmin
		}
		return nil
	}
}
