package ags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
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

// classifyAdminStatus maps an admin API async job status (SUBMITTED,
// EXECUTING, CANCELLING, CANCELLED, FAILED, COMPLETED; any case) to a
// JobState. No admin job is wrapped yet; it is the classifier such a job
// family will use.
// https://developers.arcgis.com/rest/enterprise-administration/enterprise/job
func classifyAdminStatus(status string) JobState {
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

// JobStatus is one observation of a job.
type JobStatus struct {
	JobID       string
	State       JobState
	Status      string       // the server's own word, e.g. "esriJobExecuting" or "INPROGRESS"
	Progress    *JobProgress // nil when the server sent none
	Messages    []JobMessage // every message so far
	NewMessages []JobMessage // in Wait's OnStatus: only the messages not reported before
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

// jobSpec is what one job family supplies to the shared poller. S is the
// family's own snapshot of one status read (a GP job resource, tile job
// statistics): poll returns it beside the classified JobStatus, and on
// success result turns that same read's snapshot into the job's result, so
// what only one family knows never rides in JobStatus.
type jobSpec[S, T any] struct {
	op     string
	poll   func(ctx context.Context) (JobStatus, S, error)            // one status read, classified
	result func(ctx context.Context, st JobStatus, snap S) (T, error) // on success
	cancel func(ctx context.Context) error                            // nil: cannot be cancelled
	// failed, if set, runs when the job ends failed, cancelled or timed
	// out (to clean up after it) and returns the error Wait reports.
	failed func(ctx context.Context, e *JobError) error
	// failure, if set, builds what Wait returns for a job that ended
	// failed, cancelled or timed out from that read's snapshot: a result
	// and an error wrapping e (tile jobs: the statistics, in a
	// *TileJobError).
	failure func(snap S, e *JobError) (T, error)
}

// snapshotIsResult is a jobSpec result for a family whose last status read
// is the job's result (tile jobs: their statistics).
func snapshotIsResult[T any](_ context.Context, _ JobStatus, snap T) (T, error) { return snap, nil }

// observed is one status read and what the poller can build from its
// snapshot: the result of a job that has succeeded, or what Wait returns
// for one that ended otherwise. Either is nil when it does not apply.
type observed[T any] struct {
	status  JobStatus
	result  func(context.Context) (T, error)
	failure func(*JobError) (T, error)
}

// observe reads the status once, keeping the snapshot's result or failure.
func (s jobSpec[S, T]) observe(ctx context.Context) (observed[T], error) {
	st, snap, err := s.poll(ctx)
	o := observed[T]{status: st}
	if err != nil {
		return o, err
	}
	switch {
	case st.State == JobSucceeded && s.result != nil:
		o.result = func(ctx context.Context) (T, error) { return s.result(ctx, st, snap) }
	case st.State.Terminal() && st.State != JobSucceeded && s.failure != nil:
		o.failure = func(e *JobError) (T, error) { return s.failure(snap, e) }
	}
	return o, nil
}

// Job is a handle on one server-side job: a geoprocessing job or a tile
// job. Its ID is known as soon as it is submitted, so it can be stored and
// the job re-attached later. A Job may be polled from several goroutines.
type Job[T any] struct {
	id      string
	url     string // the job resource, no query
	op      string
	observe func(ctx context.Context) (observed[T], error) // jobSpec.observe
	cancel  func(ctx context.Context) error
	failed  func(ctx context.Context, e *JobError) error // jobSpec.failed
	client  *Client
	started time.Time
	fresh   bool // a status came with the submit answer
}

// newJob builds a handle on job id. fresh says the server has just
// accepted the job (its status came with the submit answer), so Wait first
// waits MinDelay and measures the time waited from now; a re-attached job
// (fresh false) is polled at once.
func newJob[S, T any](c *Client, id, jobURL string, spec jobSpec[S, T], fresh bool) *Job[T] {
	j := &Job[T]{id: id, url: jobURL, op: spec.op, observe: spec.observe, cancel: spec.cancel, failed: spec.failed,
		client: c, fresh: fresh}
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
	o, err := j.observe(ctx)
	return o.status, err
}

// Cancel asks the server to cancel the job. The job then reads cancelling,
// and later cancelled (a job may also finish before the cancel lands).
func (j *Job[T]) Cancel(ctx context.Context) error {
	if j.cancel == nil {
		return fmt.Errorf("%s: job %s cannot be cancelled", j.op, j.id)
	}
	return j.cancel(ctx)
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
	o, err := j.observe(ctx)
	st := o.status
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return res, true, j.waitEnded(ctx, cerr, *p)
		}
		if !transientPollError(err) || w.failures >= p.MaxConsecutiveErrors {
			return res, true, fmt.Errorf("%s: wait for job %s: %w", j.op, j.id, err)
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
		if o.result == nil {
			return res, true, nil
		}
		res, err := o.result(ctx)
		if err != nil {
			return res, true, fmt.Errorf("%s: job %s succeeded, but reading its result failed: %w", j.op, j.id, err)
		}
		return res, true, nil
	case JobFailed, JobCancelled, JobTimedOut:
		jerr := &JobError{JobID: j.id, Status: st.Status, State: st.State, Messages: st.Messages, Op: j.op}
		var out error = jerr
		if o.failure != nil {
			res, out = o.failure(jerr)
		}
		if j.failed != nil {
			out = j.failed(ctx, jerr)
		}
		return res, true, out
	}
	return res, false, nil
}

// waitEnded builds the error for a wait that ctx ended, cancelling the
// server job first when asked.
func (j *Job[T]) waitEnded(ctx context.Context, err error, p PollOptions) error {
	if p.CancelOnContextDone && j.cancel != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := j.cancel(cctx); cerr != nil {
			return fmt.Errorf("%s: wait for job %s: %w (cancelling the job failed too: %v)", j.op, j.id, err, cerr)
		}
		return fmt.Errorf("%s: wait for job %s: %w (job cancelled)", j.op, j.id, err)
	}
	return fmt.Errorf("%s: wait for job %s: %w", j.op, j.id, err)
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
