package ags

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// JobState is where a server-side job stands, whatever the vocabulary of
// the endpoint that reports it.
type JobState int

// Job states. Only Succeeded, Failed, Cancelled and TimedOut are terminal;
// a status this package does not know is JobUnknown, and waiting goes on.
const (
	JobUnknown   JobState = iota // a status not recognised: not terminal
	JobQueued                    // new, submitted, waiting
	JobRunning                   // executing, in progress, cancelling, deleting
	JobSucceeded                 // done
	JobFailed                    // failed, error, partial error, expected failure
	JobCancelled                 // cancelled or deleted
	JobTimedOut                  // the server timed the job out
)

var jobStateNames = [...]string{"unknown", "queued", "running", "succeeded", "failed", "cancelled", "timed out"}

func (s JobState) String() string {
	if s < 0 || int(s) >= len(jobStateNames) {
		return "unknown"
	}
	return jobStateNames[s]
}

// Terminal reports whether the job has ended.
func (s JobState) Terminal() bool { return s >= JobSucceeded }

// ClassifyGPStatus maps a geoprocessing jobStatus (esriJobSucceeded, ...,
// and the notebook server's expectedFailure) to a JobState, ignoring case.
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-job
func ClassifyGPStatus(status string) JobState {
	s := strings.ToLower(strings.TrimSpace(status))
	switch strings.TrimPrefix(s, "esrijob") {
	case "new", "submitted", "waiting":
		return JobQueued
	case "executing", "cancelling", "canceling", "deleting":
		return JobRunning
	case "succeeded":
		return JobSucceeded
	case "failed", "expectedfailure":
		return JobFailed
	case "cancelled", "canceled", "deleted":
		return JobCancelled
	case "timedout":
		return JobTimedOut
	}
	return JobUnknown
}

// ClassifyTileStatus maps a hosted tile job status (SUBMITTED, INPROGRESS,
// DONE, CANCELED, PARTIALERROR, ERROR, FAILED; any case) to a JobState.
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
func ClassifyTileStatus(status string) JobState {
	s := strings.ToUpper(strings.TrimSpace(status))
	s = strings.NewReplacer("_", "", " ", "", "-", "").Replace(s)
	switch s {
	case "SUBMITTED", "NEW", "WAITING", "QUEUED", "PENDING":
		return JobQueued
	case "INPROGRESS", "PROCESSING", "EXECUTING", "RUNNING", "CANCELING", "CANCELLING":
		return JobRunning
	case "DONE", "SUCCESS", "SUCCEEDED", "COMPLETED":
		return JobSucceeded
	case "PARTIALERROR", "ERROR", "FAILED", "FAILURE":
		return JobFailed
	case "CANCELED", "CANCELLED":
		return JobCancelled
	}
	return JobUnknown
}

// ClassifyAdminStatus maps an admin API async job status (SUBMITTED,
// EXECUTING, CANCELLING, CANCELLED, FAILED, COMPLETED; any case) to a JobState.
// https://developers.arcgis.com/rest/enterprise-administration/enterprise/job
func ClassifyAdminStatus(status string) JobState {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "SUBMITTED", "NEW", "WAITING":
		return JobQueued
	case "EXECUTING", "CANCELLING", "CANCELING", "RUNNING":
		return JobRunning
	case "COMPLETED", "SUCCEEDED", "DONE":
		return JobSucceeded
	case "FAILED", "ERROR":
		return JobFailed
	case "CANCELLED", "CANCELED":
		return JobCancelled
	case "TIMEDOUT":
		return JobTimedOut
	}
	return JobUnknown
}

// JobProgress is a job's progress report, when the server gives one (GP
// services from ArcGIS Pro 2.6+ on Server 10.8.1+, and tile jobs).
type JobProgress struct {
	Type    string  `json:"type"`    // "default" or "step" (GP)
	Message string  `json:"message"` // what the job is doing
	Percent float64 `json:"percent"` // 0..100; 0 when not reported
}

// UnmarshalJSON reads percent as a number or a string, and accepts
// "percentage" as well.
func (p *JobProgress) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type       string          `json:"type"`
		Message    string          `json:"message"`
		Percent    json.RawMessage `json:"percent"`
		Percentage json.RawMessage `json:"percentage"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = JobProgress{Type: raw.Type, Message: raw.Message}
	pct := raw.Percent
	if isNull(pct) {
		pct = raw.Percentage
	}
	p.Percent = rawFloat(pct)
	return nil
}

func rawFloat(raw json.RawMessage) float64 {
	if isNull(raw) {
		return 0
	}
	if s, ok := jsonString(raw); ok {
		raw = json.RawMessage(strings.TrimSpace(s))
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// JobStatus is one observation of a job.
type JobStatus struct {
	JobID       string
	State       JobState
	Status      string       // the server's own word, e.g. "esriJobExecuting" or "INPROGRESS"
	Progress    *JobProgress // nil when the server sent none
	Messages    []JobMessage // every message so far
	NewMessages []JobMessage // in Wait's OnStatus: only the messages not reported before

	outputs   []string          // GP: the result parameters listed
	paramURLs map[string]string // GP: their links
}

// Sentinels a *JobError matches with errors.Is.
var (
	ErrJobFailed    = errors.New("job failed")
	ErrJobCancelled = errors.New("job cancelled")
	ErrJobTimedOut  = errors.New("job timed out")
)

// JobError is a job that ended without succeeding. Messages are the
// server's own words.
type JobError struct {
	JobID    string
	Status   string   // the server's word, e.g. "esriJobFailed" or "PARTIALERROR"
	State    JobState // JobFailed, JobCancelled or JobTimedOut
	Messages []JobMessage
	Op       string // e.g. "Refresh Service"
}

func (e *JobError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "job %s %s (%s)", e.JobID, e.State, e.Status)
	if m := e.lastError(); m != "" {
		b.WriteString(": ")
		b.WriteString(m)
	}
	return b.String()
}

// lastError is the last error message that says what went wrong (not one
// of the generic failure trailers), else the last error message, else the
// last message of any kind.
func (e *JobError) lastError() string {
	last := ""
	for i := len(e.Messages) - 1; i >= 0; i-- {
		d := strings.TrimSpace(e.Messages[i].Description)
		if !e.Messages[i].IsError() || d == "" {
			continue
		}
		if !isFailureTrailer(d) {
			return d
		}
		if last == "" {
			last = d
		}
	}
	if last != "" {
		return last
	}
	if n := len(e.Messages); n > 0 {
		return strings.TrimSpace(e.Messages[n-1].Description)
	}
	return ""
}

// isFailureTrailer reports whether an error message is one of the generic
// lines geoprocessing appends to every failure ("Failed to execute
// (Buffer).", "Failed at Thu Nov 19 ... (Elapsed Time: 0.05 seconds)"),
// which say nothing of the cause.
func isFailureTrailer(msg string) bool {
	return strings.HasPrefix(msg, "Failed to execute") || strings.HasPrefix(msg, "Failed at ") || msg == "Failed."
}

// Is matches ErrJobFailed, ErrJobCancelled or ErrJobTimedOut by state.
func (e *JobError) Is(target error) bool {
	switch target {
	case ErrJobFailed:
		return e.State == JobFailed
	case ErrJobCancelled:
		return e.State == JobCancelled
	case ErrJobTimedOut:
		return e.State == JobTimedOut
	}
	return false
}

// PollOptions tune Job.Wait. A nil *PollOptions means all defaults; zero
// fields take their defaults.
//
// The n-th wait between polls is MinDelay·Factor^n, capped at MaxDelay and
// at a tenth of the time waited so far (but never below MinDelay), then
// shortened by up to Jitter of itself (but again never below MinDelay). So
// a job is seen done soon after it ends: a job that runs T (longer than
// ten MinDelays) is seen done before 1.1·T, a shorter one within MinDelay
// of its end, with O(log T) polls until the waits reach MaxDelay. With the
// defaults a 500 ms job is seen done at 500 ms, a 60 s job before 66 s
// (45 to 50 polls), a 10 min job within 15 s of its end (85 to 95 polls).
type PollOptions struct {
	MinDelay             time.Duration // default 250 ms
	MaxDelay             time.Duration // default 15 s
	Factor               float64       // default 1.5
	Jitter               float64       // 0..1, default 0.1; negative for none (never shortens a wait below MinDelay)
	MaxConsecutiveErrors int           // failed polls tolerated in a row, default 5; negative for none
	// OnStatus is called after every successful poll, from the waiting
	// goroutine, with only the messages not reported before.
	OnStatus func(JobStatus)
	// CancelOnContextDone cancels the server job (with a fresh context,
	// bounded to 10 s) when ctx ends the wait.
	CancelOnContextDone bool
	// Concurrency is, for WaitAll, how many polls run at once (default
	// DefaultWaitAllConcurrency). Job.Wait ignores it.
	Concurrency int
}

// Polling defaults.
const (
	DefaultPollMinDelay             = 250 * time.Millisecond
	DefaultPollMaxDelay             = 15 * time.Second
	DefaultPollFactor               = 1.5
	DefaultPollJitter               = 0.1
	DefaultPollMaxConsecutiveErrors = 5
)

func (o *PollOptions) withDefaults() PollOptions {
	var p PollOptions
	if o != nil {
		p = *o
	}
	if p.MinDelay <= 0 {
		p.MinDelay = DefaultPollMinDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultPollMaxDelay
	}
	if p.MaxDelay < p.MinDelay {
		p.MaxDelay = p.MinDelay
	}
	if !(p.Factor >= 1) || math.IsInf(p.Factor, 0) { // NaN too
		p.Factor = DefaultPollFactor
	}
	switch {
	case p.Jitter == 0 || math.IsNaN(p.Jitter):
		p.Jitter = DefaultPollJitter
	case p.Jitter < 0:
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	if p.Concurrency <= 0 {
		p.Concurrency = DefaultWaitAllConcurrency
	}
	switch {
	case p.MaxConsecutiveErrors == 0:
		p.MaxConsecutiveErrors = DefaultPollMaxConsecutiveErrors
	case p.MaxConsecutiveErrors < 0:
		p.MaxConsecutiveErrors = 0
	}
	return p
}

// pollDelay is the wait before poll n+1 (n counts from 0) after waiting
// `waited` since the job was submitted or re-attached. It is never below
// MinDelay nor above MaxDelay; jitter only shortens a wait, and never
// below MinDelay, so the early polls of a short job stay on the MinDelay
// grid (250 ms, 500 ms, ...) and a 500 ms job is seen done at 500 ms.
func (p PollOptions) pollDelay(n int, waited time.Duration, rnd func() float64) time.Duration {
	lo := float64(p.MinDelay)
	d := lo * math.Pow(p.Factor, float64(n))
	if d > float64(p.MaxDelay) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.MaxDelay)
	}
	if tenth := float64(waited) / 10; d > tenth {
		d = math.Max(tenth, lo)
	}
	if p.Jitter > 0 && d > lo && rnd != nil {
		r := rnd()
		if !(r >= 0) { // NaN or negative
			r = 0
		} else if r > 1 {
			r = 1
		}
		d = math.Max(d-d*p.Jitter*r, lo)
	}
	return time.Duration(d)
}

// newMessages tracks which job messages Wait has already reported. A
// message is new when it appears more often than in any earlier answer, so
// a growing list, a server that only returns its latest messages, and a
// message that legitimately repeats are all reported once per occurrence.
type newMessages struct{ seen map[JobMessage]int }

func (t *newMessages) add(msgs []JobMessage) []JobMessage {
	if len(msgs) == 0 {
		return nil
	}
	if t.seen == nil {
		t.seen = make(map[JobMessage]int, len(msgs))
	}
	counts := make(map[JobMessage]int, len(msgs))
	var out []JobMessage
	for _, m := range msgs {
		counts[m]++
		if counts[m] > t.seen[m] {
			out = append(out, m)
		}
	}
	for m, n := range counts {
		if n > t.seen[m] {
			t.seen[m] = n
		}
	}
	return out
}

// jobSpec is what one job family supplies to the shared poller.
type jobSpec[T any] struct {
	op     string
	poll   func(ctx context.Context) (JobStatus, T, error)            // one status read, classified
	result func(ctx context.Context, st JobStatus, snap T) (T, error) // on success; nil: the snapshot is the result
	cancel func(ctx context.Context) error
}

// Job is a handle on one server-side job: a geoprocessing job, a tile job,
// or an admin job. Its ID is known as soon as it is submitted, so it can be
// stored and the job re-attached later. A Job may be polled from several
// goroutines.
type Job[T any] struct {
	id      string
	url     string // the job resource, no query
	spec    jobSpec[T]
	client  *Client
	started time.Time
	fresh   bool // a status came with the submit answer
}

// newJob builds a handle on job id. fresh says the server has just
// accepted the job (its status came with the submit answer), so Wait first
// waits MinDelay and measures the time waited from now; a re-attached job
// (fresh false) is polled at once.
func newJob[T any](c *Client, id, jobURL string, spec jobSpec[T], fresh bool) *Job[T] {
	j := &Job[T]{id: id, url: jobURL, spec: spec, client: c, fresh: fresh}
	if fresh {
		j.started = c.now()
	}
	return j
}

// ID returns the server's job ID.
func (j *Job[T]) ID() string { return j.id }

// URL returns the job resource's URL (never with a token).
func (j *Job[T]) URL() string { return j.url }

// Status reads the job's status once.
func (j *Job[T]) Status(ctx context.Context) (JobStatus, error) {
	st, _, err := j.spec.poll(ctx)
	return st, err
}

// Cancel asks the server to cancel the job. The job then reads cancelling,
// and later cancelled (a job may also finish before the cancel lands).
func (j *Job[T]) Cancel(ctx context.Context) error {
	if j.spec.cancel == nil {
		return fmt.Errorf("%s: job %s cannot be cancelled", j.spec.op, j.id)
	}
	return j.spec.cancel(ctx)
}

// Wait polls the job until it ends and returns its result. A job that ends
// failed, cancelled or timed out returns a *JobError with the server's
// messages. When ctx ends first, the error wraps ctx.Err() and names the
// job ID (the job goes on running on the server unless
// CancelOnContextDone is set). Up to MaxConsecutiveErrors failed polls in a
// row are tolerated; the next one ends the wait with its error.
//
// Jobs can run for hours: bound the wait with context.WithTimeout.
func (j *Job[T]) Wait(ctx context.Context, opts *PollOptions) (T, error) {
	p := opts.withDefaults()
	w := j.newWaiter(&p)
	for {
		if d := w.delay(); d > 0 {
			if err := j.client.sleep(ctx, d); err != nil {
				var zero T
				return zero, j.waitEnded(ctx, err, p)
			}
		}
		if res, done, err := w.step(ctx); done {
			return res, err
		}
	}
}

// waiter is the state of one wait: the poll loop's body, driven by
// Job.Wait (which sleeps between steps) and by WaitAll (which schedules
// many waiters on a few goroutines).
type waiter[T any] struct {
	j        *Job[T]
	p        *PollOptions
	start    time.Time
	polls    int // polls made, failed ones included
	failures int // failed polls in a row
	msgs     newMessages
}

func (j *Job[T]) newWaiter(p *PollOptions) *waiter[T] {
	start := j.started
	if start.IsZero() {
		start = j.client.now()
	}
	return &waiter[T]{j: j, p: p, start: start}
}

// delay is how long to wait before the next poll: nothing before the
// first poll of a re-attached job, whose status is unknown.
func (w *waiter[T]) delay() time.Duration {
	if w.polls == 0 && !w.j.fresh {
		return 0
	}
	c := w.j.client
	return w.p.pollDelay(w.polls, c.now().Sub(w.start), c.rnd)
}

// step polls once and reports whether the wait is over, with its outcome.
func (w *waiter[T]) step(ctx context.Context) (res T, done bool, err error) {
	j, p := w.j, w.p
	// Checked before polling: after a sleep, a select does not prefer
	// ctx.Done.
	if err := ctx.Err(); err != nil {
		return res, true, j.waitEnded(ctx, err, *p)
	}
	w.polls++
	st, snap, err := j.spec.poll(ctx)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return res, true, j.waitEnded(ctx, cerr, *p)
		}
		if !transientPollError(err) || w.failures >= p.MaxConsecutiveErrors {
			return res, true, fmt.Errorf("%s: wait for job %s: %w", j.spec.op, j.id, err)
		}
		w.failures++
		return res, false, nil
	}
	w.failures = 0
	st.NewMessages = w.msgs.add(st.Messages)
	if p.OnStatus != nil {
		p.OnStatus(st)
	}
	switch st.State {
	case JobSucceeded:
		if j.spec.result == nil {
			return snap, true, nil
		}
		res, err := j.spec.result(ctx, st, snap)
		if err != nil {
			return res, true, fmt.Errorf("%s: job %s succeeded, but reading its result failed: %w", j.spec.op, j.id, err)
		}
		return res, true, nil
	case JobFailed, JobCancelled, JobTimedOut:
		return res, true, &JobError{JobID: j.id, Status: st.Status, State: st.State, Messages: st.Messages, Op: j.spec.op}
	}
	return res, false, nil
}

// Outcome is how one job of WaitAll ended: its result, or the error Wait
// would have returned.
type Outcome[T any] struct {
	Job    *Job[T]
	Result T
	Err    error
}

// DefaultWaitAllConcurrency is how many polls WaitAll runs at once unless
// PollOptions.Concurrency says otherwise.
const DefaultWaitAllConcurrency = 32

// WaitAll waits on many jobs at once and returns their outcomes in the
// order of jobs. Each job is polled on the same schedule, with the same
// rules, as by Job.Wait, but the polls run on at most opts.Concurrency
// goroutines (default 32): a waiting job costs a small struct, not a
// goroutine, so tens of thousands of jobs can be waited on in little memory.
// OnStatus may be called from several goroutines at once. When ctx ends,
// every job not yet ended gets the error Wait would give (after a cancel
// request, with CancelOnContextDone). No goroutine outlives the call.
func WaitAll[T any](ctx context.Context, jobs []*Job[T], opts *PollOptions) []Outcome[T] {
	out := make([]Outcome[T], len(jobs))
	p := opts.withDefaults()
	var queue dueQueue
	waiters := make([]*waiter[T], len(jobs))
	for i, j := range jobs {
		out[i].Job = j
		if j == nil {
			out[i].Err = invalid("jobs", "nil job at index %d", i)
			continue
		}
		waiters[i] = j.newWaiter(&p)
		queue = append(queue, due{at: time.Now().Add(waiters[i].delay()), i: i})
	}
	heap.Init(&queue)
	remaining := int64(len(queue))
	if remaining == 0 {
		return out
	}
	var (
		mu    sync.Mutex // guards queue
		left  atomic.Int64
		wake  = make(chan struct{}, 1)
		ready = make(chan int)
		wg    sync.WaitGroup
	)
	left.Store(remaining)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	workers := min(p.Concurrency, len(queue))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ready {
				res, done, err := waiters[i].step(ctx)
				if done {
					out[i].Result, out[i].Err = res, err
					left.Add(-1)
				} else {
					mu.Lock()
					heap.Push(&queue, due{at: time.Now().Add(waiters[i].delay()), i: i})
					mu.Unlock()
				}
				signal()
			}
		}()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for left.Load() > 0 {
		mu.Lock()
		if queue.Len() == 0 { // every unfinished job is being polled
			mu.Unlock()
			<-wake
			continue
		}
		next := queue[0]
		if d := time.Until(next.at); d > 0 && ctx.Err() == nil {
			mu.Unlock()
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-wake:
			case <-ctx.Done():
			}
			continue
		}
		heap.Pop(&queue)
		mu.Unlock()
		ready <- next.i
	}
	close(ready)
	wg.Wait()
	return out
}

// due is a job of WaitAll and when to poll it next.
type due struct {
	at time.Time
	i  int
}

// dueQueue is a min-heap of due polls.
type dueQueue []due

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(a, b int) bool { return q[a].at.Before(q[b].at) }
func (q dueQueue) Swap(a, b int)      { q[a], q[b] = q[b], q[a] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(due)) }
func (q *dueQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// waitEnded builds the error for a wait that ctx ended, cancelling the
// server job first when asked.
func (j *Job[T]) waitEnded(ctx context.Context, err error, p PollOptions) error {
	if p.CancelOnContextDone && j.spec.cancel != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := j.spec.cancel(cctx); cerr != nil {
			return fmt.Errorf("%s: wait for job %s: %w (cancelling the job failed too: %v)", j.spec.op, j.id, err, cerr)
		}
		return fmt.Errorf("%s: wait for job %s: %w (job cancelled)", j.spec.op, j.id, err)
	}
	return fmt.Errorf("%s: wait for job %s: %w", j.spec.op, j.id, err)
}

// transientPollError reports whether a failed poll may be followed by a
// good one: network trouble, proxy pages, server errors. Answers that will
// not change (not found, forbidden, bad token after renewal, bad input) end
// the wait at once.
func transientPollError(err error) bool {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return false
	}
	permanent := func(code int) bool {
		switch code {
		case 400, 401, 403, 404, 410, 498, 499:
			return true
		}
		return false
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return !permanent(apiErr.code())
	}
	// A non-JSON answer (a proxy's HTML page) with one of these statuses
	// will not change either; a 200 or 5xx page may.
	var re *ResponseError
	if errors.As(err, &re) {
		return !permanent(re.HTTPStatus)
	}
	return true
}

// GPService runs geoprocessing tasks. Reach it as Client.GP.
type GPService service

// GPResult is a geoprocessing job that succeeded: its messages and the
// output parameters it offers. Read an output with Result or Results.
type GPResult struct {
	JobID    string
	Status   string
	Messages []JobMessage
	// Outputs are the names of the result parameters the job lists.
	Outputs []string

	jobURL    *url.URL
	paramURLs map[string]string // output name -> the job's own link, e.g. "results/output_features"
	client    *Client
}

// GPParam is one input or output parameter value of a job.
type GPParam struct {
	ParamName string          `json:"paramName"`
	DataType  string          `json:"dataType"`
	Value     json.RawMessage `json:"value"`
}

// Decode decodes the parameter's value into v.
func (p *GPParam) Decode(v any) error {
	if err := json.Unmarshal(p.Value, v); err != nil {
		return fmt.Errorf("decode %s (%s): %w", p.ParamName, p.DataType, err)
	}
	return nil
}

// String returns a GPString value as it is, other values as JSON text.
func (p *GPParam) String() string {
	if s, ok := jsonString(p.Value); ok {
		return s
	}
	return string(p.Value)
}

// Result reads one output parameter (results/<name>, or the link the job
// gave for it).
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-result
func (r *GPResult) Result(ctx context.Context, name string) (*GPParam, error) {
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "/?#") || name == "." || name == ".." {
		return nil, invalid("result name", "must be a parameter name, got %q", name)
	}
	u := r.jobURL.JoinPath("results", name)
	if rel, ok := r.paramURL(name); ok {
		u = r.jobURL.JoinPath(rel)
	}
	var p GPParam
	if err := r.client.do(ctx, call{op: "job " + r.JobID + " result " + name, method: http.MethodGet, url: u, idempotent: true}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// paramURL returns the job's own relative link for output name, when it
// gave one that stays under the job's results.
func (r *GPResult) paramURL(name string) (string, bool) {
	rel, ok := r.paramURLs[name]
	if !ok {
		for k, v := range r.paramURLs {
			if strings.EqualFold(k, name) {
				rel, ok = v, true
				break
			}
		}
	}
	if !ok {
		return "", false
	}
	u, err := url.Parse(strings.TrimSpace(rel))
	if err != nil || u.IsAbs() || u.Host != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) != 2 || !strings.EqualFold(segs[0], "results") || segs[1] == "" || segs[1] == "." || segs[1] == ".." {
		return "", false
	}
	return "results/" + segs[1], true
}

// Results reads every output parameter the job lists.
func (r *GPResult) Results(ctx context.Context) (map[string]*GPParam, error) {
	out := make(map[string]*GPParam, len(r.Outputs))
	for _, name := range r.Outputs {
		p, err := r.Result(ctx, name)
		if err != nil {
			return nil, err
		}
		out[name] = p
	}
	return out, nil
}

// gpJobInfo is a GP job resource.
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-job
type gpJobInfo struct {
	JobID     string                `json:"jobId"`
	JobStatus string                `json:"jobStatus"`
	Messages  []JobMessage          `json:"messages"`
	Results   map[string]gpParamRef `json:"results"`
	Progress  *JobProgress          `json:"progress"`
}

// gpParamRef is one entry of a job's results or inputs: {"paramUrl": "results/<param>"}.
type gpParamRef struct {
	ParamURL string `json:"paramUrl"`
}

// SubmitJob submits a job to an asynchronous task and returns its handle at
// once. taskPath is relative to rest/services, e.g.
// "System/PublishingTools/GPServer/Refresh Service" (spaces are sent as
// %20; an already escaped path is accepted too). params is url.Values,
// map[string]any (non-string values are sent as JSON, as GP parameters
// want) or a struct with `url` tags. The submit is sent once: it is not
// retried after the server may have acted, so after an error whose outcome
// is unknown look for the job before submitting again.
// https://developers.arcgis.com/rest/services-reference/enterprise/submit-gp-job
func (s *GPService) SubmitJob(ctx context.Context, taskPath string, params any) (*Job[*GPResult], error) {
	return submitGP(ctx, s.client, taskPath, params, gpIdentity)
}

// Job re-attaches to a job submitted earlier, from its task and ID (Job.ID
// of the handle SubmitJob returned). No request is sent until it is used.
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-job
func (s *GPService) Job(taskPath, jobID string) (*Job[*GPResult], error) {
	return attachGP(s.client, taskPath, jobID, gpIdentity)
}

func gpIdentity(_ context.Context, r *GPResult) (*GPResult, error) { return r, nil }

// SubmitAndWait submits a job and waits for it.
func (s *GPService) SubmitAndWait(ctx context.Context, taskPath string, params any, opts *PollOptions) (*GPResult, error) {
	job, err := s.SubmitJob(ctx, taskPath, params)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx, opts)
}

// normTaskPath cleans a task path ("<folder>/<service>/GPServer/<task>"):
// no outer slashes, percent-escapes undone (so "Refresh%20Service" and
// "Refresh Service" are the same task), every segment a plain name.
func normTaskPath(taskPath string) (string, error) {
	p := strings.Trim(strings.TrimSpace(taskPath), "/")
	if p == "" {
		return "", invalid("task path", "must not be empty")
	}
	if strings.Contains(p, "%") {
		u, err := url.PathUnescape(p)
		if err != nil {
			return "", invalid("task path", "bad escape in %q", taskPath)
		}
		p = strings.Trim(u, "/")
	}
	segs := strings.Split(p, "/")
	gp := -1
	for i, seg := range segs {
		if seg == "" || seg == "." || seg == ".." || strings.TrimSpace(seg) != seg ||
			strings.ContainsAny(seg, "?#\\") || strings.ContainsFunc(seg, isControl) {
			return "", invalid("task path", "bad segment %q in %q", seg, taskPath)
		}
		if strings.EqualFold(seg, "GPServer") {
			gp = i
		}
	}
	if gp < 1 || gp != len(segs)-2 {
		return "", invalid("task path", "must name a task as [<folder>/]<service>/GPServer/<task>, got %q", taskPath)
	}
	return p, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func validTaskPath(taskPath string) error {
	_, err := normTaskPath(taskPath)
	return err
}

// validJobID checks a job ID before it goes into a URL path.
func validJobID(jobID string) error {
	if strings.TrimSpace(jobID) == "" || strings.TrimSpace(jobID) != jobID || jobID == "." || jobID == ".." ||
		strings.ContainsAny(jobID, "/?#\\%") || strings.ContainsFunc(jobID, isControl) {
		return invalid("job ID", "must be a job ID, got %q", jobID)
	}
	return nil
}

// submitGP submits to a task and builds a Job whose result is convert'ed
// from the GP result. The tiles code uses it for Manage Map Cache Tiles.
func submitGP[T any](ctx context.Context, c *Client, taskPath string, params any,
	convert func(context.Context, *GPResult) (T, error)) (*Job[T], error) {
	task, err := normTaskPath(taskPath)
	if err != nil {
		return nil, err
	}
	op := taskName(task)
	submitURL := c.endpoint(rootServices, task, "submitJob")
	var info gpJobInfo
	err = c.do(ctx, call{op: op + ": submitJob", method: http.MethodPost, url: submitURL, params: params}, &info)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(info.JobID)
	if id == "" {
		return nil, &ResponseError{Op: op + ": submitJob", URL: cleanURL(submitURL),
			HTTPStatus: http.StatusOK, Reason: "no jobId in the answer"}
	}
	if validJobID(id) != nil {
		return nil, &ResponseError{Op: op + ": submitJob", URL: cleanURL(submitURL),
			HTTPStatus: http.StatusOK, Reason: fmt.Sprintf("jobId %q cannot be used in a URL", truncate(id, 80))}
	}
	return gpJob(c, task, id, convert, true), nil
}

func taskName(taskPath string) string {
	p := strings.Trim(taskPath, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// attachGP re-attaches to a GP job by task and ID. The tiles code uses it
// for Manage Map Cache Tiles.
func attachGP[T any](c *Client, taskPath, jobID string, convert func(context.Context, *GPResult) (T, error)) (*Job[T], error) {
	task, err := normTaskPath(taskPath)
	if err != nil {
		return nil, err
	}
	if err := validJobID(jobID); err != nil {
		return nil, err
	}
	return gpJob(c, task, jobID, convert, false), nil
}

// gpJob builds the handle on GP job jobID of a (normalised) task: status
// with returnMessages, cancel, and results read on success.
func gpJob[T any](c *Client, task, jobID string, convert func(context.Context, *GPResult) (T, error), fresh bool) *Job[T] {
	op := taskName(task)
	jobURL := c.endpoint(rootServices, task, "jobs", jobID)
	spec := jobSpec[T]{
		op: op,
		poll: func(ctx context.Context) (JobStatus, T, error) {
			var zero T
			var info gpJobInfo
			err := c.do(ctx, call{op: op + ": job " + jobID + " status", method: http.MethodGet, url: jobURL,
				params: url.Values{"returnMessages": {"true"}}, idempotent: true}, &info)
			if err != nil {
				return JobStatus{}, zero, err
			}
			if strings.TrimSpace(info.JobStatus) == "" {
				return JobStatus{}, zero, &ResponseError{Op: op + ": job " + jobID + " status", URL: cleanURL(jobURL),
					HTTPStatus: http.StatusOK, Reason: "no jobStatus in the answer"}
			}
			st := JobStatus{JobID: jobID, State: ClassifyGPStatus(info.JobStatus), Status: info.JobStatus,
				Progress: info.Progress, Messages: info.Messages}
			for name := range info.Results {
				st.outputs = append(st.outputs, name)
			}
			sort.Strings(st.outputs)
			st.paramURLs = make(map[string]string, len(info.Results))
			for name, ref := range info.Results {
				if ref.ParamURL != "" {
					st.paramURLs[name] = ref.ParamURL
				}
			}
			return st, zero, nil
		},
		cancel: func(ctx context.Context) error {
			// Cancelling twice is harmless, so the call may be retried.
			// https://developers.arcgis.com/rest/services-reference/enterprise/cancel-gp-job
			return c.do(ctx, call{op: op + ": cancel job " + jobID, method: http.MethodPost,
				url: c.endpoint(rootServices, task, "jobs", jobID, "cancel"), idempotent: true}, nil)
		},
	}
	spec.result = func(ctx context.Context, st JobStatus, _ T) (T, error) {
		return convert(ctx, &GPResult{JobID: jobID, Status: st.Status, Messages: st.Messages,
			Outputs: st.outputs, jobURL: jobURL, paramURLs: st.paramURLs, client: c})
	}
	return newJob(c, jobID, cleanURL(jobURL), spec, fresh)
}
