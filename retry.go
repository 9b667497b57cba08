package ags

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/seed9bfd6bbc/ags/internal/transport"
)

// defaultRetryPolicy is the retry policy of a new Client; see RetryPolicy.
var defaultRetryPolicy = RetryPolicy{MaxRetries: 4, MinDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}

// RetryPolicy bounds the retries of one call (WithRetryPolicy). Zero fields
// take their defaults: MaxRetries 4, MinDelay 500 ms, MaxDelay 30 s. A
// negative MaxRetries disables retries.
//
// MaxRetries is one budget for the whole call: a call makes at most
// MaxRetries+1 attempts, whether they fail with a 502, a dropped connection
// or the admin "store busy" answer (plus one replay after a rejected token
// is renewed).
//
// What is retried: any call after 429, 503 with Retry-After, a connection
// that never opened, or the admin "another administrative operation" answer
// (the server refused before acting); idempotent calls (reads, job status,
// token requests, Refresh Service, start, stop) also after 500, 502, 503,
// 504 and dropped connections. Other calls that change the server are never
// sent twice after they may have acted: createService, createFolder and
// delete read back what happened when the answer is lost, and the rest
// (submitJob, updateTiles, edit, uploads) are sent at most once.
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt
	MinDelay   time.Duration // first backoff ceiling (full jitter, doubling)
	MaxDelay   time.Duration // cap on any one wait, Retry-After included
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := defaultRetryPolicy
	if p.MaxRetries > 0 {
		d.MaxRetries = p.MaxRetries
	} else if p.MaxRetries < 0 {
		d.MaxRetries = 0
	}
	if p.MinDelay > 0 {
		d.MinDelay = p.MinDelay
	}
	if p.MaxDelay > 0 {
		d.MaxDelay = p.MaxDelay
	}
	if d.MaxDelay < d.MinDelay {
		d.MaxDelay = d.MinDelay
	}
	return d
}

// RetryEvent describes a retry about to happen, for WithRetryHook.
type RetryEvent struct {
	Op      string        // the operation, when known ("" for transport-level retries)
	Attempt int           // the attempt that failed, from 1
	Method  string        // HTTP method
	Host    string        // host[:port]
	Path    string        // URL path; never the query
	Status  int           // HTTP status; 0 when no response arrived
	Err     error         // transport error or the server's busy answer
	Wait    time.Duration // backoff before the next attempt
}

// Connection limits of DefaultTransport.
const (
	defaultMaxConnsPerHost     = 64
	defaultMaxIdleConnsPerHost = 64
)

// DefaultTransport returns the transport a Client uses when WithHTTPClient
// is not given: http.DefaultTransport's settings (proxy from the
// environment, timeouts, HTTP/2) with at most 64 connections to one host,
// all of which may stay idle for reuse. However many jobs are waited on at
// once, a Client opens no more than that; requests beyond it queue. Start
// from it to add a proxy, CAs or client certificates, and pass it in with
// WithHTTPClient.
func DefaultTransport() *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
			TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 90 * time.Second}
	}
	t.MaxConnsPerHost = defaultMaxConnsPerHost
	t.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	return t
}

// guardRedirects returns a copy of hc that refuses redirects to another
// host or from https to http, so a token in a header or a body never
// follows a redirect off the site.
func (c *Client) guardRedirects(hc *http.Client) *http.Client {
	cp := *hc
	prev := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if !strings.EqualFold(req.URL.Host, first.Host) || (first.Scheme == "https" && req.URL.Scheme != "https") {
			return fmt.Errorf("%w: %s://%s to %s://%s", transport.ErrRedirectRefused,
				first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
		}
		// net/http turns a POST answered 301, 302 or 303 into a GET without
		// its form, and the JSON found there would pass for the write's
		// answer. A write is followed only where its method and body go
		// along (307, 308); otherwise the call fails, saying so. Reads
		// follow any same-host redirect.
		if m := via[0].Method; req.Method != m && !transport.Idempotent(req.Context()) {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return fmt.Errorf("%w: the server answered the %s with a %d redirect to %s, which would resend it as a %s without its parameters; the call was not repeated",
				transport.ErrRedirectRefused, m, status, req.URL.Path, req.Method)
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("%w: stopped after 10 redirects", transport.ErrRedirectRefused)
		}
		return nil
	}
	return &cp
}

func (c *Client) transportHook() func(transport.Event) {
	if c.retryHook == nil && c.logger == nil {
		return nil
	}
	return func(e transport.Event) {
		c.onRetry(RetryEvent{Attempt: e.Attempt, Method: e.Method, Host: e.Host, Path: e.Path,
			Status: e.Status, Err: e.Err, Wait: e.Wait})
	}
}

func (c *Client) onRetry(e RetryEvent) {
	if c.logger != nil {
		c.logger.Debug("ags: retrying", "op", e.Op, "method", e.Method, "host", e.Host, "path", e.Path,
			"status", e.Status, "attempt", e.Attempt, "wait", e.Wait)
	}
	if c.retryHook != nil {
		c.retryHook(e)
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
