package ags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// JobProgress is a job's progress report, when the server gives one (GP
// services from ArcGIS Pro 2.6+ on Server 10.8.1+, and tile jobs).
type JobProgress struct {
	Type    string  `json:"type"`    // "default" or "step" (GP)
	Message string  `json:"message"` // what the job is doing
	Percent float64 `json:"percent"` // 0..100; 0 when not reported
	// Levels is the progress per cache level, in level order, when the
	// job reports it (a tile job's levelStats or lodInfos); nil otherwise.
	Levels []LevelProgress `json:"levels,omitempty"`
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

// PollOptions tune Job.Wait and WaitAll. A nil *PollOptions means all
// defaults; zero fields take their defaults.
//
// The schedule: the first poll comes MinDelay (500 ms) after the submit,
// the waits then grow by Factor (3) up to Interval (2.3 s), so polls come
// at 0.5 s, 2 s, 4.3 s, 6.6 s, ...; once a sixteenth of the time waited
// beyond the first 40 s is longer than Interval (after about 77 s), each
// wait is that sixteenth, capped at MaxDelay (20 s). Waits above MinDelay
// vary by up to ±Jitter/2 of themselves, so jobs submitted together do not
// poll in step. When the job reports progress that moves (a tile job's
// percentComplete, a GP step progressor's percent), its end is predicted
// from the rate since the first report and the next poll comes just after
// it, if that is sooner: never sooner than MinDelay, never later than the
// plain schedule. After a failed poll answered with Retry-After (429, 503)
// the next wait is at least that long (up to 10 minutes). The trade-off:
// against a client that polls every 2 s, this costs the server no more
// requests on jobs of half a second to two minutes and about a quarter of
// them on a ten-minute job, and sees a half-second job done at once; the
// price is that a job without progress reports that runs more than about
// a minute is seen done later, by up to a sixteenth of its length (at most
// MaxDelay), where progress reports bring that back to about 1 %.
type PollOptions struct {
	MinDelay             time.Duration // the first wait and the shortest; default 500 ms
	Interval             time.Duration // the steady wait of the first minute; default 2.3 s
	MaxDelay             time.Duration // the longest wait; default 20 s
	Factor               float64       // growth from MinDelay to Interval, default 3
	Jitter               float64       // 0..1, default 0.1; negative for none (never below MinDelay)
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
	DefaultPollMinDelay             = 500 * time.Millisecond
	DefaultPollInterval             = 2300 * time.Millisecond
	DefaultPollMaxDelay             = 20 * time.Second
	DefaultPollFactor               = 3.0
	DefaultPollJitter               = 0.1
	DefaultPollMaxConsecutiveErrors = 5
)

// The long-job part of the schedule: a wait is growthShare of the time
// waited beyond growthAfter, when that is longer than Interval.
const (
	growthAfter = 40 * time.Second
	growthShare = 1.0 / 16
	// maxRetryAfterWait caps how long a server's Retry-After holds a poll.
	maxRetryAfterWait = 10 * time.Minute
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
	if p.Interval <= 0 {
		p.Interval = DefaultPollInterval
	}
	p.Interval = min(max(p.Interval, p.MinDelay), p.MaxDelay)
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

// pollDelay is the plain schedule's wait before poll n+1 (n counts from 0)
// after waiting `waited` since the job was submitted or re-attached: see
// PollOptions. It is never below MinDelay nor above MaxDelay, and the first
// wait is never jittered, so a 500 ms job is seen done at 500 ms.
func (p PollOptions) pollDelay(n int, waited time.Duration, rnd func() float64) time.Duration {
	lo, hi := float64(p.MinDelay), float64(p.MaxDelay)
	d := lo * math.Pow(p.Factor, float64(n))
	if d > float64(p.Interval) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.Interval)
	}
	if g := float64(waited-growthAfter) * growthShare; g > d {
		d = g
	}
	d = min(d, hi)
	if p.Jitter > 0 && d > lo && rnd != nil {
		r := rnd()
		if !(r >= 0) { // NaN or negative
			r = 0
		} else if r > 1 {
			r = 1
		}
		d = min(max(d+d*p.Jitter*(r-0.5), lo), hi)
	}
	return time.Duration(d)
}

// progressClock predicts a job's end from its progress reports. Percents
// are whole numbers on the wire (REST-REFERENCE §7.7 for GP; tile jobs'
// percentComplete likewise), so the rate is taken one point low: the
// predicted end is then, for steady progress, just after the real one,
// and the poll sent there finds the job done rather than nearly done.
type progressClock struct {
	anchorAt  time.Duration // time waited at the first report of this run
	endAt     time.Duration
	anchorPct float32 // float32: percents need no more, and WaitAll keeps one per job
	lastPct   float32 // 0: no report to build on
}

// observe records the percent reported after waiting `at`, and predicts
// the end when progress has moved since the previous report. A percent
// that goes back (a new step) starts over.
func (c *progressClock) observe(at time.Duration, percent float64) {
	c.endAt = 0
	if !(percent > 0 && percent < 100) {
		c.lastPct = 0
		return
	}
	pct := float32(percent)
	if c.lastPct == 0 || pct < c.lastPct {
		c.anchorAt, c.anchorPct, c.lastPct = at, pct, pct
		return
	}
	moved := pct > c.lastPct
	c.lastPct = pct
	gained := float64(pct - c.anchorPct - 1)
	if !moved || gained < 1 || at <= c.anchorAt {
		return
	}
	perPoint := float64(at-c.anchorAt) / gained
	if left := float64(100-pct) * perPoint; left < float64(24*time.Hour) {
		c.endAt = at + time.Duration(left)
	}
}

// until is the wait until the predicted end, if there is one.
func (c *progressClock) until(now time.Duration) (time.Duration, bool) {
	if c.endAt == 0 {
		return 0, false
	}
	return c.endAt - now, true
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
	// failed, if set, runs when the job ends failed, cancelled or timed
	// out (PublishSD's clean-up of its upload) and returns the error Wait
	// reports.
	failed  func(ctx context.Context, e *JobError) error
	client  *Client
	started time.Time
	fresh   bool // a status came with the submit answer
}

// newJob builds a handle on job id. fresh says the server has just
// accepted the job (its status came with the submit answer), so Wait first
// waits MinDelay and measures the time waited from now; a re-attached job
// (fresh false) is polled at once.
func newJob[S, T any](c *Client, id, jobURL string, spec jobSpec[S, T], fresh bool) *Job[T] {
	j := &Job[T]{id: id, url: jobURL, op: spec.op, observe: spec.observe, cancel: spec.cancel,
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
	j          *Job[T]
	p          *PollOptions
	start      time.Time
	polls      int32 // polls made, failed ones included
	failures   int32 // failed polls in a row
	msgs       newMessages
	progress   progressClock
	retryAfter time.Duration // the server's Retry-After on the last poll, if it failed
}

func (j *Job[T]) newWaiter(p *PollOptions) *waiter[T] {
	start := j.started
	if start.IsZero() {
		start = j.client.now()
	}
	return &waiter[T]{j: j, p: p, start: start}
}

// delay is how long to wait before the next poll: nothing before the
// first poll of a re-attached job, whose status is unknown; otherwise the
// plain schedule, brought forward to a predicted end, or stretched to the
// server's Retry-After.
func (w *waiter[T]) delay() time.Duration {
	if w.polls == 0 && !w.j.fresh {
		return 0
	}
	c := w.j.client
	waited := c.now().Sub(w.start)
	d := w.p.pollDelay(int(w.polls), waited, c.rnd)
	if until, ok := w.progress.until(waited); ok && until < d {
		d = max(until, w.p.MinDelay)
	}
	if w.retryAfter > d {
		d = min(w.retryAfter, maxRetryAfterWait)
	}
	return d
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
		if !transientPollError(err) || int(w.failures) >= p.MaxConsecutiveErrors {
			if fromPipeline(err) {
				// The job's own calls name it ("<task> job <id>: status").
				return res, true, fmt.Errorf("waiting stopped: %w", err)
			}
			return res, true, fmt.Errorf("%s: wait for job %s: %w", j.op, j.id, err)
		}
		w.failures++
		w.retryAfter = retryAfterOf(err)
		return res, false, nil
	}
	w.failures, w.retryAfter = 0, 0
	if st.State == JobRunning && st.Progress != nil {
		w.progress.observe(j.client.now().Sub(w.start), st.Progress.Percent)
	} else {
		w.progress.observe(0, 0)
	}
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

// fromPipeline reports whether err was built by the request pipeline for
// a labelled call (its Op names the call's scope).
func fromPipeline(err error) bool {
	var ae *Error
	var re *ResponseError
	var qe *RequestError
	switch {
	case errors.As(err, &ae):
		return ae.Op != ""
	case errors.As(err, &re):
		return re.Op != ""
	case errors.As(err, &qe):
		return qe.Op != ""
	}
	return false
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

// retryAfterOf is the Retry-After the server sent with a failed answer,
// as the pipeline read it (zero when none).
func retryAfterOf(err error) time.Duration {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return re.RetryAfter
	}
	return 0
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
