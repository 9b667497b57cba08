// Package transport sends HTTP requests for the ags client through
// go-retryablehttp with a retry decision that never repeats a request the
// server may already have acted on.
//
// The decision (ShouldRetry):
//
//   - any request: retry 429, 503 with a Retry-After header, and failures to
//     connect (dial errors, refused connections, DNS failures: nothing was sent);
//   - idempotent requests only: also retry 500, 502, 503, 504 and transport
//     failures after the request may have been sent (resets, EOF, timeouts);
//   - never: a done context, TLS certificate errors, redirect refusals.
//
// Whether a request is idempotent travels on its context (WithIdempotent),
// because retryablehttp's CheckRetry never sees the request.
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Policy bounds the retries of one request.
type Policy struct {
	MaxRetries int           // retries after the first attempt; 0 disables retries
	MinDelay   time.Duration // first backoff ceiling
	MaxDelay   time.Duration // cap on any one wait, Retry-After included
}

// Event describes one retry about to happen.
type Event struct {
	Attempt int           // the attempt that failed, from 1
	Method  string        // HTTP method
	Host    string        // host[:port]
	Path    string        // URL path, never the query
	Status  int           // HTTP status, 0 when the attempt got no response
	Err     error         // transport error, nil when a response arrived
	Wait    time.Duration // backoff before the next attempt
}

// Client sends requests with retries. It is safe for concurrent use.
type Client struct {
	hc     *http.Client
	policy Policy
	hook   func(Event)
	rnd    func() float64
	// sleep waits between attempts; nil waits on the wall clock.
	sleep func(context.Context, time.Duration) error
}

// SetSleep makes the client wait between attempts with sleep, which must
// return early when its context ends (the caller's clock, so that tests
// driving a fake clock drive the retries too). Call it before any request.
func (c *Client) SetSleep(sleep func(context.Context, time.Duration) error) { c.sleep = sleep }

type ctxKey struct{}

// state is what one logical request carries on its context: whether it may
// be repeated, the number of attempts so far (for the log line), and its
// retry state. CheckRetry and Backoff run in turn on the caller's
// goroutine, so the retry fields need no lock.
type state struct {
	idempotent bool
	attempts   atomic.Int32
	tries      int // attempts whose outcome CheckRetry saw

	rc                 retryablehttp.Client
	c                  *Client
	method, host, path string
	lastErr            error
	ctx                context.Context // the request's, for the waits between attempts
}

// WithIdempotent marks the requests sent with ctx as safe to repeat (or
// not). Use a fresh mark for every logical request: it also counts attempts.
func WithIdempotent(ctx context.Context, idempotent bool) context.Context {
	st := &state{idempotent: idempotent}
	return context.WithValue(ctx, ctxKey{}, st)
}

// Idempotent reports whether the request sent with ctx was marked safe to
// repeat (WithIdempotent).
func Idempotent(ctx context.Context) bool {
	st := stateOf(ctx)
	return st != nil && st.idempotent
}

func stateOf(ctx context.Context) *state {
	st, _ := ctx.Value(ctxKey{}).(*state)
	return st
}

// New builds a Client over hc, which it copies and never modifies (its
// transport is wrapped for per-attempt logging). logger and hook may be nil.
func New(hc *http.Client, p Policy, hook func(Event), logger *slog.Logger) *Client {
	cp := *hc
	if logger != nil {
		base := cp.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		cp.Transport = &loggingTransport{base: base, logger: logger}
	}
	return &Client{hc: &cp, policy: p, hook: hook, rnd: rand.Float64}
}

// HTTPClient returns the *http.Client requests go through.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// Do sends req with body (nil for none; it is re-read from the start on
// every attempt, so retries cost no copy). A request not marked with
// WithIdempotent is treated as not idempotent.
//
// On a response Do returns it with its body unread, whatever its status
// (after the last retry too, so the caller can decode the server's own
// error); the caller closes it. Otherwise it returns the transport error of
// the last attempt as net/http gave it, or the context's error.
func (c *Client) Do(req *http.Request, body []byte) (*http.Response, error) {
	resp, _, err := c.DoN(req, body, c.policy.MaxRetries)
	return resp, err
}

// DoN is Do with at most maxRetries retries (the caller's remaining
// budget, which may be smaller than the policy's), and it also returns how
// many attempts were made.
func (c *Client) DoN(req *http.Request, body []byte, maxRetries int) (*http.Response, int, error) {
	if body == nil {
		return c.do(req, nil, maxRetries)
	}
	return c.do(req, body, maxRetries)
}

// DoStream is Do with a streamed body: open is called for every attempt
// (and once before the first, to learn the length from a Len() int
// method) and returns the body from its start; an error from it ends the
// request. The body is never held in memory by this package. Whether a
// failed attempt is retried follows the same decision as Do.
func (c *Client) DoStream(req *http.Request, open func() (io.Reader, error)) (*http.Response, error) {
	resp, _, err := c.DoStreamN(req, open, c.policy.MaxRetries)
	return resp, err
}

// DoStreamN is DoStream with at most maxRetries retries; it also returns
// how many attempts were made.
func (c *Client) DoStreamN(req *http.Request, open func() (io.Reader, error), maxRetries int) (*http.Response, int, error) {
	return c.do(req, retryablehttp.ReaderFunc(open), maxRetries)
}

func (c *Client) do(req *http.Request, body any, maxRetries int) (*http.Response, int, error) {
	if maxRetries < 0 {
		maxRetries = 0
	}
	st := stateOf(req.Context())
	if st == nil {
		st = &state{}
		req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, st))
	}
	d := st
	d.c, d.method, d.host, d.path, d.ctx = c, req.Method, req.URL.Host, req.URL.Path, req.Context()
	// A struct literal, not retryablehttp.NewClient: the latter logs every
	// URL, query included, to stderr. Logger stays nil; loggingTransport
	// logs each attempt without query, headers or body.
	d.rc = retryablehttp.Client{
		HTTPClient:   c.hc,
		RetryWaitMin: c.policy.MinDelay,
		RetryWaitMax: c.policy.MaxDelay,
		RetryMax:     maxRetries,
		CheckRetry:   d.checkRetry,
		Backoff:      d.backoff,
		ErrorHandler: handleLast,
	}
	req.Body, req.GetBody, req.ContentLength = nil, nil, 0
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		if err := rreq.SetBody(body); err != nil {
			return nil, 0, err
		}
	}
	d.tries = 0
	resp, err := d.rc.Do(rreq)
	return resp, max(d.tries, 1), err
}

func (d *state) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	d.tries++
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	d.lastErr = err
	return ShouldRetry(d.idempotent, resp, err), nil
}

func (d *state) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	wait := Backoff(min, max, n, resp, d.c.rnd)
	if d.c.hook != nil {
		ev := Event{Attempt: n + 1, Method: d.method, Host: d.host, Path: d.path, Err: StripURL(d.lastErr), Wait: wait}
		if resp != nil {
			ev.Status = resp.StatusCode
		}
		d.c.hook(ev)
	}
	if d.c.sleep != nil {
		// The wait happens here, on the caller's clock; retryablehttp
		// then waits no longer (and sees a context that ended).
		_ = d.c.sleep(d.ctx, wait)
		return 0
	}
	return wait
}

// handleLast is the ErrorHandler: it runs when the last attempt failed or
// still asked for a retry. A response is handed back undrained, instead of
// retryablehttp's "giving up after N attempts" text, which discards the
// body the caller needs to decode the server's own error. A transport or
// context error is handed back as it is; a response that came with one (a
// refused redirect returns the redirect with its body closed) is closed.
func handleLast(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// StripURL removes net/http's *url.Error wrapper, whose text repeats the
// full request URL, query included; the cause is kept.
func StripURL(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

// ShouldRetry is the retry decision for one attempt's outcome.
func ShouldRetry(idempotent bool, resp *http.Response, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		if isCertError(err) || errors.Is(err, ErrRedirectRefused) {
			return false
		}
		if NotSent(err) {
			return true
		}
		return idempotent
	}
	if resp == nil {
		return false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		if resp.Header.Get("Retry-After") != "" {
			return true
		}
		return idempotent
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// ErrRedirectRefused is returned (wrapped) when a redirect would carry
// credentials to another host or from https to http.
var ErrRedirectRefused = errors.New("redirect refused")

// NotSent reports whether err shows the request never reached a server:
// a failed dial, a refused connection, a failed DNS lookup.
func NotSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// CertError reports whether err is a failed TLS certificate check: the
// request was never sent.
func CertError(err error) bool { return isCertError(err) }

func isCertError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

// Backoff returns the wait before retry number attempt (from 0): full jitter
// over an exponential ceiling min·2^attempt capped at max, never below min.
// A Retry-After header on a 429 or 503 is honoured, capped at max.
func Backoff(min, max time.Duration, attempt int, resp *http.Response, rnd func() float64) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := RetryAfter(resp.Header.Get("Retry-After"), now()); ok {
			if d > max {
				d = max
			}
			if d < min {
				d = min
			}
			return d
		}
	}
	ceil := float64(min) * math.Pow(2, float64(attempt))
	if ceil > float64(max) || math.IsInf(ceil, 0) {
		ceil = float64(max)
	}
	d := time.Duration(rnd() * ceil)
	if d < min {
		d = min
	}
	return d
}

// now is the clock Retry-After dates are read against (tests replace it).
var now = time.Now

// maxRetryAfter bounds a parsed Retry-After: any larger value (a year of
// seconds, a date far ahead) is read as this much, which every policy caps
// further. It keeps the arithmetic far from overflow, so a huge value never
// wraps round into a short one.
const maxRetryAfter = 24 * time.Hour

// RetryAfter parses a Retry-After value in seconds or as an HTTP date
// (RFC 9110 §10.2.3), bounded to [0, 24h].
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		if s > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(s) * time.Second, true
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return maxRetryAfter, true // all digits, too many of them
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now) // saturates rather than wraps
		switch {
		case d < 0:
			d = 0
		case d > maxRetryAfter:
			d = maxRetryAfter
		}
		return d, true
	}
	return 0, false
}

// loggingTransport logs one debug line per attempt: method, host, path (no
// query), status, duration, attempt. Never a header, a token or a body.
type loggingTransport struct {
	base   http.RoundTripper
	logger *slog.Logger
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempt := 1
	if st := stateOf(req.Context()); st != nil {
		attempt = int(st.attempts.Add(1))
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if t.logger != nil && t.logger.Enabled(req.Context(), slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("host", req.URL.Host),
			slog.String("path", req.URL.Path),
			slog.Int("attempt", attempt),
			slog.Duration("duration", time.Since(start)),
		}
		if resp != nil {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", errorKind(err)))
		}
		t.logger.LogAttrs(req.Context(), slog.LevelDebug, "ags: http attempt", attrs...)
	}
	return resp, err
}

// errorKind names a transport failure without the URL net/http puts into
// its error strings.
func errorKind(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case NotSent(err):
		return "connect failed"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case isCertError(err):
		return "tls certificate"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Op + " failed"
	}
	return "transport error"
}
