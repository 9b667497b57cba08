package transport

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func response(status int, header ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}
}

func dialErr(inner error) error {
	return &url.Error{Op: "Post", URL: "https://gis.example.com/arcgis/admin?x=1",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: inner}}
}

// TestShouldRetry is the retry decision matrix: idempotency × outcome.
func TestShouldRetry(t *testing.T) {
	reset := &url.Error{Op: "Post", URL: "https://h/p", Err: &net.OpError{Op: "read", Net: "tcp",
		Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	tests := []struct {
		name          string
		resp          *http.Response
		err           error
		idem, nonIdem bool
	}{
		{"200", response(200), nil, false, false},
		{"400", response(400), nil, false, false},
		{"401", response(401), nil, false, false},
		{"404", response(404), nil, false, false},
		{"429", response(429), nil, true, true},
		{"429 with Retry-After", response(429, "Retry-After", "3"), nil, true, true},
		{"500", response(500), nil, true, false},
		{"501", response(501), nil, false, false},
		{"502", response(502), nil, true, false},
		{"503", response(503), nil, true, false},
		{"503 with Retry-After", response(503, "Retry-After", "1"), nil, true, true},
		{"504", response(504), nil, true, false},
		{"connection refused", nil, dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), true, true},
		{"dial timeout", nil, dialErr(errors.New("i/o timeout")), true, true},
		{"DNS failure", nil, &url.Error{Op: "Get", URL: "https://h", Err: &net.DNSError{Err: "no such host", Name: "h"}}, true, true},
		{"connection reset", nil, reset, true, false},
		{"EOF", nil, &url.Error{Op: "Post", URL: "https://h", Err: io.EOF}, true, false},
		{"unexpected EOF", nil, io.ErrUnexpectedEOF, true, false},
		{"canceled", nil, &url.Error{Op: "Get", URL: "https://h", Err: context.Canceled}, false, false},
		{"deadline", nil, context.DeadlineExceeded, false, false},
		{"redirect refused", nil, &url.Error{Op: "Get", URL: "https://h", Err: ErrRedirectRefused}, false, false},
		{"unknown authority", nil, &url.Error{Op: "Get", URL: "https://h", Err: x509.UnknownAuthorityError{}}, false, false},
		{"hostname mismatch", nil, &url.Error{Op: "Get", URL: "https://h", Err: x509.HostnameError{Host: "h"}}, false, false},
		{"no response, no error", nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.idem, ShouldRetry(true, tt.resp, tt.err), "idempotent")
			assert.Equal(t, tt.nonIdem, ShouldRetry(false, tt.resp, tt.err), "not idempotent")
		})
	}
}

func TestNotSent(t *testing.T) {
	assert.True(t, NotSent(dialErr(errors.New("x"))))
	assert.True(t, NotSent(syscall.ECONNREFUSED))
	assert.True(t, NotSent(&net.DNSError{}))
	assert.False(t, NotSent(io.EOF))
	assert.False(t, NotSent(&net.OpError{Op: "read", Err: syscall.ECONNRESET}))
}

func TestBackoff(t *testing.T) {
	min, max := 100*time.Millisecond, 2*time.Second
	one := func() float64 { return 0.999999 }
	zero := func() float64 { return 0 }
	half := func() float64 { return 0.5 }

	t.Run("exponential ceiling, full jitter, capped", func(t *testing.T) {
		for n, want := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000} {
			got := Backoff(min, max, n, nil, one)
			assert.InDelta(t, float64(want*time.Millisecond), float64(got), float64(time.Millisecond), "attempt %d", n)
		}
		assert.Equal(t, 400*time.Millisecond, Backoff(min, max, 3, nil, half))
		assert.Equal(t, min, Backoff(min, max, 5, nil, zero), "never below min")
		assert.InDelta(t, float64(max), float64(Backoff(min, max, 5000, nil, one)), float64(time.Millisecond), "no overflow")
	})
	t.Run("Retry-After seconds", func(t *testing.T) {
		assert.Equal(t, time.Second, Backoff(min, max, 0, response(429, "Retry-After", "1"), zero))
		assert.Equal(t, time.Second, Backoff(min, max, 3, response(503, "Retry-After", "1"), one))
		assert.Equal(t, max, Backoff(min, max, 0, response(503, "Retry-After", "3600"), zero), "capped")
		assert.Equal(t, min, Backoff(min, max, 0, response(503, "Retry-After", "0"), zero), "floored")
	})
	t.Run("Retry-After HTTP date", func(t *testing.T) {
		fixed := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		now = func() time.Time { return fixed }
		t.Cleanup(func() { now = time.Now })
		date := fixed.Add(1500 * time.Millisecond).Add(500 * time.Millisecond).Format(http.TimeFormat)
		assert.Equal(t, 2*time.Second, Backoff(min, 10*time.Second, 0, response(429, "Retry-After", date), zero))
		late := fixed.Add(time.Hour).Format(http.TimeFormat)
		assert.Equal(t, max, Backoff(min, max, 0, response(503, "Retry-After", late), zero), "capped")
	})
	t.Run("Retry-After ignored elsewhere", func(t *testing.T) {
		assert.Equal(t, min, Backoff(min, max, 0, response(500, "Retry-After", "9"), zero))
		assert.Equal(t, min, Backoff(min, max, 0, response(503, "Retry-After", "soon"), zero))
	})
}

func TestRetryAfter(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{base.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{base.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"tomorrow", 0, false},
		// Huge values saturate; they never wrap round into a short wait.
		{"9999999999", 24 * time.Hour, true},
		{"99999999999999999999999", 24 * time.Hour, true},
		{" 30 ", 30 * time.Second, true},
		{base.AddDate(300, 0, 0).Format(http.TimeFormat), 24 * time.Hour, true},
	} {
		got, ok := RetryAfter(tt.in, base)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestBackoffHugeRetryAfterClampedToMax(t *testing.T) {
	min, max := 10*time.Millisecond, 30*time.Second
	zero := func() float64 { return 0 }
	for _, v := range []string{"9999999999", "18446744073709551616", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		assert.Equal(t, max, Backoff(min, max, 0, response(503, "Retry-After", v), zero), v)
		assert.Equal(t, max, Backoff(min, max, 0, response(429, "Retry-After", v), zero), v)
	}
}

func TestStripURL(t *testing.T) {
	inner := errors.New("boom")
	err := &url.Error{Op: "Get", URL: "https://h/p?token=secret", Err: inner}
	assert.Equal(t, inner, StripURL(err))
	assert.NotContains(t, StripURL(err).Error(), "secret")
	assert.Nil(t, StripURL(nil))
}

func TestHandleLast(t *testing.T) {
	resp := response(503)
	got, err := handleLast(resp, nil, 3)
	assert.NoError(t, err)
	assert.Same(t, resp, got, "the last response is handed back for decoding")

	closed := &closeRecorder{}
	resp = &http.Response{StatusCode: 307, Body: closed}
	got, err = handleLast(resp, ErrRedirectRefused, 1)
	assert.Nil(t, got)
	assert.ErrorIs(t, err, ErrRedirectRefused, "an error is never dropped for a response")
	assert.True(t, closed.closed)
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Read([]byte) (int, error) { return 0, io.EOF }
func (c *closeRecorder) Close() error             { c.closed = true; return nil }

func newClient(t *testing.T, hook func(Event), logger *slog.Logger) *Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c := New(&http.Client{Transport: tr}, Policy{MaxRetries: 3, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}, hook, logger)
	return c
}

func TestNewCopiesHTTPClient(t *testing.T) {
	tr := &http.Transport{}
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(hc, Policy{}, nil, logger)
	assert.NotSame(t, hc, c.HTTPClient())
	assert.Same(t, tr, hc.Transport, "caller's client untouched")
	assert.Equal(t, time.Minute, c.HTTPClient().Timeout)
}

// TestDoRetries drives the real retryablehttp loop: statuses, body rewinds,
// hook events and the last response kept for decoding.
func TestDoRetries(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"busy":true}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	var events []Event
	c := newClient(t, func(e Event) { events = append(events, e) }, nil)
	req, err := http.NewRequestWithContext(WithIdempotent(t.Context(), true), http.MethodPost, srv.URL+"/p?q=1", nil)
	require.NoError(t, err)
	resp, err := c.Do(req, []byte("a=1&b=2"))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, `{"ok":true}`, string(b))
	assert.Equal(t, int32(3), calls.Load())
	mu.Lock()
	assert.Equal(t, []string{"a=1&b=2", "a=1&b=2", "a=1&b=2"}, bodies, "body rewound for every attempt")
	mu.Unlock()
	require.Len(t, events, 2)
	assert.Equal(t, Event{Attempt: 1, Method: "POST", Host: req.URL.Host, Path: "/p", Status: 503, Wait: events[0].Wait}, events[0])
	assert.Equal(t, 2, events[1].Attempt)
}

func TestDoKeepsLastResponse(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	}))
	defer srv.Close()
	c := newClient(t, nil, nil)

	// Idempotent: retried to the end, and the last body is still readable.
	req, _ := http.NewRequestWithContext(WithIdempotent(t.Context(), true), http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req, nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "<html>bad gateway</html>", string(b))
	assert.Equal(t, int32(4), calls.Load(), "1 + MaxRetries")

	// Not idempotent (and unmarked requests count as not idempotent): once.
	calls.Store(0)
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, nil)
	resp, err = c.Do(req, []byte("x=1"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int32(1), calls.Load())
}

func TestDoConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	var events []Event
	c := newClient(t, func(e Event) { events = append(events, e) }, nil)
	req, _ := http.NewRequestWithContext(WithIdempotent(t.Context(), false), http.MethodPost, "http://"+addr+"/p?secret=1", nil)
	_, err = c.Do(req, []byte("x=1"))
	require.Error(t, err)
	assert.True(t, NotSent(err))
	assert.Len(t, events, 3, "a POST that never connected is retried")
	for _, e := range events {
		assert.NotContains(t, e.Err.Error(), "secret", "hook errors carry no URL")
	}
}

func TestDoContextCanceledDuringBackoff(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	c := New(&http.Client{Transport: tr}, Policy{MaxRetries: 5, MinDelay: time.Hour, MaxDelay: time.Hour},
		func(Event) { cancel() }, nil)
	req, _ := http.NewRequestWithContext(WithIdempotent(ctx, true), http.MethodGet, srv.URL, nil)
	_, err := c.Do(req, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestLoggingTransport checks the one debug line per attempt.
func TestLoggingTransport(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, nil, logger)
	req, _ := http.NewRequestWithContext(WithIdempotent(t.Context(), true), http.MethodGet, srv.URL+"/arcgis/rest/info?f=json&token=SECRET", nil)
	req.Header.Set("X-Esri-Authorization", "Bearer SECRET")
	resp, err := c.Do(req, nil)
	require.NoError(t, err)
	resp.Body.Close()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	host := strings.TrimPrefix(srv.URL, "http://")
	for i, l := range lines {
		assert.Contains(t, l, `msg="ags: http attempt"`)
		assert.Contains(t, l, "method=GET")
		assert.Contains(t, l, "host="+host)
		assert.Contains(t, l, "path=/arcgis/rest/info")
		assert.Contains(t, l, "duration=")
		assert.Contains(t, l, "attempt="+string(rune('1'+i)))
		assert.NotContains(t, l, "SECRET")
		assert.NotContains(t, l, "f=json", "no query")
	}
	assert.Contains(t, lines[0], "status=503")
	assert.Contains(t, lines[1], "status=200")
}

func TestLoggingTransportError(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	lt := &loggingTransport{base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	}), logger: logger}
	req, _ := http.NewRequest(http.MethodGet, "https://h/p?token=SECRET", nil)
	_, err := lt.RoundTrip(req)
	require.Error(t, err)
	assert.Contains(t, buf.String(), `error="connect failed"`)
	assert.NotContains(t, buf.String(), "SECRET")
	assert.NotContains(t, buf.String(), "status=")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestErrorKind(t *testing.T) {
	assert.Equal(t, "canceled", errorKind(context.Canceled))
	assert.Equal(t, "deadline exceeded", errorKind(context.DeadlineExceeded))
	assert.Equal(t, "connect failed", errorKind(syscall.ECONNREFUSED))
	assert.Equal(t, "connection reset", errorKind(&net.OpError{Op: "read", Err: syscall.ECONNRESET}))
	assert.Equal(t, "tls certificate", errorKind(x509.UnknownAuthorityError{}))
	assert.Equal(t, "write failed", errorKind(&net.OpError{Op: "write", Err: errors.New("x")}))
	assert.Equal(t, "transport error", errorKind(errors.New("https://h/p?token=x")))
}

// TestDoStream opens the body afresh for every attempt, sends a known
// length as Content-Length and an unknown one chunked, and ends the
// request when the body cannot be opened again.
func TestDoStream(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var got []string
	var lengths []int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		lengths = append(lengths, r.ContentLength)
		mu.Unlock()
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := newClient(t, nil, nil)

	opens := 0
	known := func() (io.Reader, error) { opens++; return strings.NewReader("streamed"), nil }
	req, err := http.NewRequestWithContext(WithIdempotent(t.Context(), true), http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	resp, err := c.DoStream(req, known)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{"streamed", "streamed"}, got, "a retry sends the body again from its start")
	assert.Equal(t, []int64{8, 8}, lengths, "Content-Length from Len()")
	assert.Equal(t, 3, opens, "once to learn the length, once per attempt")

	// Not idempotent: a 502 is not retried.
	calls.Store(0)
	got, lengths = nil, nil
	unknown := func() (io.Reader, error) { return io.MultiReader(strings.NewReader("chunk")), nil }
	req, err = http.NewRequestWithContext(WithIdempotent(t.Context(), false), http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	resp, err = c.DoStream(req, unknown)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, []string{"chunk"}, got)
	assert.Equal(t, []int64{-1}, lengths, "an unknown length goes chunked")

	// A body that cannot be opened again ends the request with its error.
	calls.Store(0)
	errGone := errors.New("gone")
	n := 0
	once := func() (io.Reader, error) {
		n++
		if n > 2 {
			return nil, errGone
		}
		return strings.NewReader("x"), nil
	}
	req, err = http.NewRequestWithContext(WithIdempotent(t.Context(), true), http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	_, err = c.DoStream(req, once)
	assert.ErrorIs(t, err, errGone)
}
