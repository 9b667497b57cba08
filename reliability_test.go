package ags_test

// Faults and load: the SDK against the agstest emulator with injected
// gateway errors, short-lived and revoked tokens, a busy admin store and a
// slow server. Every test here also runs the secrets check (see harness):
// no token the emulator issued and no password shows up in a log line, an
// error, a URL the server saw, or the fmt output of any value the test got
// hold of.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/internal/fakeclock"
)

// relFastRetry keeps transport retries quick: a 502 costs milliseconds.
var relFastRetry = ags.RetryPolicy{MaxRetries: 6, MinDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

// relRefresh is the refresh every load test submits; relAddTarget seeds it.
var relRefresh = ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer}

func relAddTarget(s *agstest.Server) { s.AddService("Imagery", "Portland", "ImageServer", nil) }

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tokenRecorder is an http.RoundTripper that learns every token in play:
// the X-Esri-Authorization values the client sends, and the tokens
// generateToken hands out (whether or not the client ever uses them).
type tokenRecorder struct {
	base http.RoundTripper

	mu      sync.Mutex
	tokens  map[string]bool
	onToken func() // optional: called for each generateToken answer
}

func (r *tokenRecorder) add(tok string) {
	if tok = strings.TrimSpace(tok); tok == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tokens == nil {
		r.tokens = map[string]bool{}
	}
	r.tokens[tok] = true
}

func (r *tokenRecorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.tokens))
	for t := range r.tokens {
		out = append(out, t)
	}
	return out
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if v := req.Header.Get("X-Esri-Authorization"); v != "" {
		r.add(strings.TrimPrefix(v, "Bearer "))
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "generateToken") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	var tr struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(body, &tr) == nil {
		r.add(tr.Token)
	}
	if r.onToken != nil {
		r.onToken()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// harness is a client on an agstest server that records everything a
// secret could leak into: the debug log, the tokens in play, and every
// value (errors, job handles, results, statuses, retry events) the test
// hands to keep.
type harness struct {
	t        *testing.T
	srv      *agstest.Server
	client   *ags.Client
	opts     []ags.Option
	log      *lockedBuffer
	rec      *tokenRecorder
	password string

	mu      sync.Mutex
	values  []any
	retries []ags.RetryEvent
}

// newHarness builds a client for srv signed in with the emulator's default
// credentials, logging at debug level into a buffer, with a retry hook and
// the token recorder in its transport. extra options come last.
func newHarness(t *testing.T, srv *agstest.Server, extra ...ags.Option) *harness {
	t.Helper()
	h := &harness{t: t, srv: srv, log: &lockedBuffer{}, password: agstest.DefaultPassword,
		rec: &tokenRecorder{base: srv.Client().Transport}}
	logger := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.opts = append([]ags.Option{
		ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword),
		ags.WithInsecureHTTP(),
		ags.WithHTTPClient(&http.Client{Transport: h.rec}),
		ags.WithLogger(logger),
		ags.WithRetryPolicy(relFastRetry),
		ags.WithRetryHook(func(e ags.RetryEvent) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.retries = append(h.retries, e)
		}),
	}, extra...)
	c, err := ags.NewClient(srv.URL(), h.opts...)
	require.NoError(t, err)
	h.client = c
	return h
}

// keep records values whose fmt output the secrets check inspects.
func (h *harness) keep(vs ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range vs {
		if v != nil {
			h.values = append(h.values, v)
		}
	}
}

func (h *harness) retryEvents() []ags.RetryEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ags.RetryEvent(nil), h.retries...)
}

// checkNoSecrets fails the test if a token the emulator issued or the
// password appears in the log, in the fmt output (%v, %+v, %#v) of any
// kept value, of the client, its options, or tokens built from the
// captured values, or in any URL the server saw; and if any request
// carried a token in its query.
func (h *harness) checkNoSecrets() {
	t := h.t
	t.Helper()
	for _, f := range h.findLeaks() {
		t.Error(f)
	}
}

// findLeaks does the work of checkNoSecrets and returns one line per kind
// of leak (with how often it happened), so one bug does not bury the rest
// under hundreds of lines.
func (h *harness) findLeaks() []string {
	t := h.t
	t.Helper()
	tokens := h.rec.list()
	require.NotEmpty(t, tokens, "the recorder saw no token: the check would prove nothing")
	secrets := append([]string{h.password}, tokens...)
	type kind struct{ where, what string }
	counts := map[kind]int{}
	var order []kind
	samples := map[kind]string{}
	leak := func(where, text string) {
		for i, s := range secrets {
			if strings.Contains(text, s) {
				what := "the password"
				if i > 0 {
					what = "an issued token"
				}
				k := kind{where, what}
				if counts[k] == 0 {
					order = append(order, k)
					samples[k] = strings.ReplaceAll(text, s, "<<SECRET>>")
				}
				counts[k]++
				return
			}
		}
	}

	logText := h.log.String()
	require.NotEmpty(t, logText, "the debug log is empty: the check would prove nothing")
	for _, line := range strings.Split(logText, "\n") {
		leak("a log line", line)
	}

	h.mu.Lock()
	values := append([]any{h.client, h.client.Services, h.client.GP, h.client.Tiles, h.opts}, h.values...)
	for _, e := range h.retries {
		values = append(values, e)
	}
	h.mu.Unlock()
	for _, tok := range tokens {
		tk := ags.NewToken(tok, time.Now().Add(time.Hour))
		values = append(values, tk, &tk, ags.StaticTokenSource(tk))
	}
	for _, v := range values {
		// The verbs the design promises; TestSecurityFmtVerbsHideSecrets
		// tries every other verb on the same kinds of value.
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			leak(fmt.Sprintf("fmt.Sprintf(%q, %T)", verb, v), fmt.Sprintf(verb, v))
		}
		if err, ok := v.(error); ok {
			leak(fmt.Sprintf("(%T).Error()", v), err.Error())
		}
	}

	for i, r := range h.srv.Requests() {
		if r.TokenInQuery {
			leak(fmt.Sprintf("request %d %s %s: TokenInQuery", i, r.Method, r.Path), h.password)
		}
		leak("a URL path the server saw", r.Path)
		leak("a URL query the server saw", r.Query.Encode())
		leak("a request in the server's log", fmt.Sprintf("%+v", r))
	}

	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s leaks %s (%d times); first: %.600s", k.where, k.what, counts[k], samples[k]))
	}
	return out
}

// TestReliabilityHarnessFindsLeaks plants secrets where the check looks
// and makes sure it sees each of them: a check that never fires proves
// nothing.
func TestReliabilityHarnessFindsLeaks(t *testing.T) {
	t.Parallel()
	srv := agstest.NewServer()
	t.Cleanup(srv.Close)
	relAddTarget(srv)
	h := newHarness(t, srv)
	_, err := h.client.Services.Status(t.Context(), ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
	require.NoError(t, err)
	require.Empty(t, h.findLeaks(), "a clean run")

	tok := h.rec.list()[0]
	h.keep(fmt.Errorf("wrapped: %s", agstest.DefaultPassword), struct{ T string }{tok})
	_, _ = fmt.Fprintf(h.log, "level=DEBUG msg=planted token=%s\n", tok)
	// A token in a URL query: the emulator logs it masked but flags it.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL()+"/rest/info?f=json&token="+url.QueryEscape(tok), nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	found := strings.Join(h.findLeaks(), "\n")
	assert.Contains(t, found, "(*errors.errorString).Error() leaks the password")
	assert.Contains(t, found, `fmt.Sprintf("%v", struct { T string }) leaks an issued token`)
	assert.Contains(t, found, "a log line leaks an issued token")
	assert.Contains(t, found, "TokenInQuery")
}

// relJobResult is one Refresh + Wait of a load test.
type relJobResult struct {
	submitErr error
	waitErr   error
	jobID     string
	results   string
}

// runRefreshes runs n Refresh + Wait calls, conc at a time, and keeps
// every handle, result and error in h for the secrets check.
func runRefreshes(ctx context.Context, h *harness, n, conc int, poll *ags.PollOptions) []relJobResult {
	return runRefreshesThen(ctx, h, n, conc, poll, nil)
}

// runRefreshesThen is runRefreshes calling done (if not nil) as each job's
// goroutine ends.
func runRefreshesThen(ctx context.Context, h *harness, n, conc int, poll *ags.PollOptions, done func()) []relJobResult {
	out := make([]relJobResult, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if done != nil {
				defer done()
			}
			job, err := h.client.Services.Refresh(ctx, relRefresh)
			if err != nil {
				out[i].submitErr = err
				h.keep(err)
				return
			}
			out[i].jobID = job.ID()
			res, err := job.Wait(ctx, poll)
			h.keep(job, res, err)
			if err != nil {
				out[i].waitErr = err
				return
			}
			out[i].results = res.Results
		}()
	}
	wg.Wait()
	return out
}

// TestReliabilityRefreshLoadWith502s runs 200 Refresh Service jobs, 50 at
// a time, while 5% of all answers are an HTML 502 from a gateway: all 200
// end ok.
func TestReliabilityRefreshLoadWith502s(t *testing.T) {
	jobs, conc := 200, 50
	if testing.Short() {
		jobs, conc = 60, 20
	}
	srv := agstest.NewServer(
		agstest.WithSeed(20250607),
		agstest.WithJobDuration(150*time.Millisecond),
		agstest.WithFaults(agstest.Faults{HTML502Rate: 0.05}),
	)
	t.Cleanup(srv.Close)
	relAddTarget(srv)
	h := newHarness(t, srv)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var statuses atomic.Int64
	poll := &ags.PollOptions{MinDelay: 25 * time.Millisecond, MaxDelay: 150 * time.Millisecond,
		OnStatus: func(st ags.JobStatus) {
			if statuses.Add(1)%16 == 0 {
				h.keep(st)
			}
		}}
	h.keep(poll, relFastRetry)
	start := time.Now()
	results := runRefreshes(ctx, h, jobs, conc, poll)
	t.Logf("%d jobs, %d at a time, in %v", jobs, conc, time.Since(start).Round(time.Millisecond))

	submitFailures := 0
	ids := map[string]bool{}
	for i, r := range results {
		// Refresh Service is idempotent: its submit is retried like a
		// read, so every job is submitted, and every job succeeds: no
		// status or result fault ends a wait.
		if !assert.NoError(t, r.submitErr, "job %d submit", i) {
			submitFailures++
			continue
		}
		if assert.NoError(t, r.waitErr, "job %d (%s)", i, r.jobID) {
			assert.Contains(t, r.results, "success", "job %d refreshResults", i)
		}
		assert.False(t, ids[r.jobID], "job ID %s handed out twice", r.jobID)
		ids[r.jobID] = true
	}

	reqs := srv.Requests()
	var submits, submit502, status502, result502, token502, tokenOK int
	for _, r := range reqs {
		faulted := r.Fault == "html502"
		switch {
		case strings.HasSuffix(r.Path, "/submitJob"):
			submits++
			if faulted {
				submit502++
			}
		case strings.Contains(r.Path, "/results/"):
			if faulted {
				result502++
			}
		case strings.Contains(r.Path, "/jobs/"):
			if faulted {
				status502++
			}
		case strings.HasSuffix(r.Path, "generateToken"):
			if faulted {
				token502++
			} else {
				tokenOK++
			}
		}
	}
	t.Logf("%d requests; 502s on %d of %d submits, %d status polls, %d result reads, %d token requests; %d submit errors",
		len(reqs), submit502, submits, status502, result502, token502, submitFailures)

	// Every Refresh call ended ok; a submit was repeated only after a 502
	// (which the emulator answers without acting), so each call made one job.
	assert.Zero(t, submitFailures, "Refresh submits that failed")
	assert.Positive(t, submit502, "no submit met a 502: the test proved nothing about submits")
	assert.Equal(t, jobs+submit502, submits, "submitJob requests != Refresh calls + 502s")
	assert.Equal(t, jobs, len(ids), "distinct jobs")
	// The faults really were there for the polls to ride out.
	assert.Positive(t, status502, "no status poll met a 502: the test proved nothing about waits")
	// One token for the whole run: 50 goroutines share one sign-in.
	assert.Equal(t, 1, tokenOK, "generateToken answered more than once")

	h.checkNoSecrets()
}

// runTokenExpiry runs 10 five-second jobs at once against a server whose
// tokens live two seconds, optionally revoking every token mid-run. The
// client and the emulator share a fake clock that moves only when every
// job's goroutine sleeps: the run takes seconds of their time, not of the
// wall clock, and no request is in flight while time moves.
func runTokenExpiry(t *testing.T, invalidate bool) {
	const lifetime = 2 * time.Second
	clock := fakeclock.New()
	srv := agstest.NewServer(agstest.WithTokenLifetime(lifetime), agstest.WithJobDuration(5*time.Second),
		agstest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	relAddTarget(srv)
	h := newHarness(t, srv)
	ags.SetClock(h.client, clock.Now, clock.Sleep)

	start := clock.Now()
	var mu sync.Mutex
	var issued []time.Duration // when each generateToken was answered
	h.rec.onToken = func() {
		mu.Lock()
		issued = append(issued, clock.Now().Sub(start))
		mu.Unlock()
	}
	var revokedAt time.Duration
	if invalidate {
		clock.OnJump(func(from, to time.Time) {
			if revokedAt == 0 && to.Sub(start) >= 2500*time.Millisecond {
				revokedAt = to.Sub(start) // only ever set by the goroutine that made time jump
				srv.InvalidateTokens()
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const jobs = 10
	for range jobs {
		clock.Join()
	}
	results := runRefreshesThen(ctx, h, jobs, jobs, &ags.PollOptions{MinDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond}, clock.Leave)
	elapsed := clock.Now().Sub(start)

	for i, r := range results {
		assert.NoError(t, r.submitErr, "job %d submit", i)
		assert.NoError(t, r.waitErr, "job %d wait", i)
	}
	assert.GreaterOrEqual(t, elapsed, 5*time.Second, "the jobs ran 5 s of the shared clock")
	// Each token is renewed no sooner than 0.4 s before it expires (its
	// expiry travels in whole milliseconds), never per request or per
	// goroutine; the revocation (only) forces one early renewal, as soon as
	// a poll meets the rejection.
	t.Logf("tokens issued at %v", issued)
	early := 0
	for i := 1; i < len(issued); i++ {
		if gap := issued[i] - issued[i-1]; gap < lifetime-400*time.Millisecond-time.Millisecond {
			early++
			if assert.True(t, invalidate, "token %d renewed %v after the one before", i, gap) {
				assert.GreaterOrEqual(t, issued[i], revokedAt, "token %d renewed early before the revocation", i)
				assert.Less(t, issued[i]-revokedAt, 400*time.Millisecond+time.Nanosecond, "the rejection was met at the next poll")
			}
		}
	}
	if invalidate {
		assert.NotZero(t, revokedAt, "the revocation happened mid-run")
		assert.Equal(t, 1, early, "the revocation costs exactly one early renewal")
	}
	// At most about one token per lifetime: the client renews ahead of
	// expiry (here 0.4 s before), never per request or per goroutine. A
	// revocation costs one more.
	bound := elapsed.Seconds()/lifetime.Seconds() + 2
	if invalidate {
		bound++
	}
	n := srv.Count("generateToken")
	t.Logf("elapsed %v on the shared clock, %d generateToken requests (bound %.1f)", elapsed, n, bound)
	assert.LessOrEqual(t, float64(n), bound, "token storm: %d generateToken requests in %v", n, elapsed)
	assert.GreaterOrEqual(t, n, 3, "a 2 s token cannot have lasted a %v run", elapsed)
	h.checkNoSecrets()
}

// TestReliabilityTokenExpiry: tokens that live 2 s, jobs that run 5 s, 10
// at a time; then the same with every token revoked mid-run.
func TestReliabilityTokenExpiry(t *testing.T) {
	t.Run("expiring", func(t *testing.T) { runTokenExpiry(t, false) })
	t.Run("revoked mid-run", func(t *testing.T) { runTokenExpiry(t, true) })
}

// TestReliabilityCreateServiceStoreBusy: the admin "another administrative
// operation is currently accessing the store" refusal is retried with
// backoff, and the service is created once.
func TestReliabilityCreateServiceStoreBusy(t *testing.T) {
	t.Parallel()
	def := ags.ServiceDefinition{ServiceName: "Roads", Type: ags.MapServer, Description: "roads"}

	t.Run("two busy answers", func(t *testing.T) {
		t.Parallel()
		srv := agstest.NewServer(agstest.WithFaults(agstest.Faults{StoreBusy: 2}))
		t.Cleanup(srv.Close)
		h := newHarness(t, srv)
		err := h.client.Services.Create(t.Context(), "", def)
		require.NoError(t, err)

		_, ok := srv.Service("", "Roads", "MapServer")
		assert.True(t, ok, "service not created")
		assert.Equal(t, 3, srv.Count("createService"), "createService requests")
		var busy, done int
		for _, r := range srv.Requests() {
			if strings.HasSuffix(r.Path, "createService") {
				if r.Fault == "storebusy" {
					busy++
				} else {
					done++
				}
			}
		}
		assert.Equal(t, 2, busy)
		assert.Equal(t, 1, done, "the service was created more than once")

		// The retries backed off, and said why.
		var evs []ags.RetryEvent
		for _, e := range h.retryEvents() {
			if e.Op == "createService" {
				evs = append(evs, e)
			}
		}
		if assert.Len(t, evs, 2, "retry events for createService") {
			for _, e := range evs {
				assert.ErrorIs(t, e.Err, ags.ErrServerBusy)
				assert.GreaterOrEqual(t, e.Wait, relFastRetry.MinDelay, "no backoff")
			}
		}

		// The service exists once: creating it again is a duplicate.
		err = h.client.Services.Create(t.Context(), "", def)
		assert.ErrorIs(t, err, ags.ErrServiceExists)
		h.keep(err)
		h.checkNoSecrets()
	})

	t.Run("busy past the retries", func(t *testing.T) {
		t.Parallel()
		srv := agstest.NewServer(agstest.WithFaults(agstest.Faults{StoreBusy: 10}))
		t.Cleanup(srv.Close)
		h := newHarness(t, srv, ags.WithRetryPolicy(ags.RetryPolicy{MaxRetries: 2, MinDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond}))
		err := h.client.Services.Create(t.Context(), "", def)
		require.Error(t, err)
		assert.ErrorIs(t, err, ags.ErrServerBusy)
		var ae *ags.Error
		if assert.ErrorAs(t, err, &ae) {
			assert.Equal(t, "createService", ae.Op)
		}
		assert.Equal(t, 3, srv.Count("createService"), "first attempt + MaxRetries")
		_, ok := srv.Service("", "Roads", "MapServer")
		assert.False(t, ok)
		h.keep(err)
		h.checkNoSecrets()
	})
}

// TestReliabilitySlowServerDeadlines: against a server that answers after
// 3 s, every call returns soon after its context's deadline, with an error
// that is context.DeadlineExceeded.
//
// Not parallel with other tests: the timing bound is tight enough that a
// CPU-heavy neighbour under -race on a 2-core machine could break it.
func TestReliabilitySlowServerDeadlines(t *testing.T) {
	const (
		latency  = 3 * time.Second
		deadline = 300 * time.Millisecond
		margin   = time.Second // generous: a busy 2-core machine under -race
	)
	// slowServer returns a harness whose client already holds a token (so
	// the call under test is the one that meets the latency), and the
	// server, now slow.
	slowServer := func(t *testing.T, jobDuration time.Duration) (*harness, *ags.Job[*ags.RefreshResult]) {
		srv := agstest.NewServer(agstest.WithJobDuration(jobDuration))
		t.Cleanup(srv.Close)
		relAddTarget(srv)
		h := newHarness(t, srv)
		job, err := h.client.Services.Refresh(t.Context(), relRefresh)
		require.NoError(t, err)
		h.keep(job)
		srv.SetFaults(agstest.Faults{Latency: latency})
		return h, job
	}
	within := func(t *testing.T, h *harness, what string, d time.Duration, call func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), d)
		defer cancel()
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		h.keep(err)
		t.Logf("%s: returned after %v: %v", what, took.Round(time.Millisecond), err)
		require.Error(t, err, what)
		assert.ErrorIs(t, err, context.DeadlineExceeded, what)
		assert.LessOrEqual(t, took, d+margin, "%s took %v with a %v deadline", what, took, d)
	}

	t.Run("calls", func(t *testing.T) {
		t.Parallel()
		h, job := slowServer(t, time.Minute)
		within(t, h, "Services.Status", deadline, func(ctx context.Context) error {
			_, err := h.client.Services.Status(ctx, ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
			return err
		})
		within(t, h, "Client.Get", deadline, func(ctx context.Context) error {
			var out map[string]any
			return h.client.Get(ctx, "admin/services", nil, &out)
		})
		within(t, h, "Services.Refresh submit", deadline, func(ctx context.Context) error {
			j, err := h.client.Services.Refresh(ctx, relRefresh)
			h.keep(j)
			return err
		})
		within(t, h, "Job.Wait, poll in flight", 2*deadline, func(ctx context.Context) error {
			_, err := job.Wait(ctx, &ags.PollOptions{MinDelay: 50 * time.Millisecond})
			return err
		})
		h.checkNoSecrets()
	})

	t.Run("wait while the job runs", func(t *testing.T) {
		t.Parallel()
		srv := agstest.NewServer(agstest.WithJobDuration(time.Minute))
		t.Cleanup(srv.Close)
		relAddTarget(srv)
		h := newHarness(t, srv)
		job, err := h.client.Services.Refresh(t.Context(), relRefresh)
		require.NoError(t, err)
		h.keep(job)
		within(t, h, "Job.Wait, long job", deadline, func(ctx context.Context) error {
			_, err := job.Wait(ctx, &ags.PollOptions{MinDelay: 50 * time.Millisecond, MaxDelay: 10 * time.Second})
			return err
		})
		h.checkNoSecrets()
	})

	t.Run("sign-in on a slow server", func(t *testing.T) {
		t.Parallel()
		srv := agstest.NewServer()
		t.Cleanup(srv.Close)
		relAddTarget(srv)
		h := newHarness(t, srv)
		// One call to learn a token for the secrets check, then a fresh
		// client that must sign in through the latency.
		_, err := h.client.Services.Status(t.Context(), ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
		require.NoError(t, err)
		srv.SetFaults(agstest.Faults{Latency: latency})
		cold, err := ags.NewClient(srv.URL(), h.opts...)
		require.NoError(t, err)
		h.keep(cold)
		within(t, h, "Services.Status, cold client", deadline, func(ctx context.Context) error {
			_, err := cold.Services.Status(ctx, ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
			return err
		})
		h.checkNoSecrets()
	})
}
