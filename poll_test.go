package ags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --- classifiers -----------------------------------------------------------

func TestClassifyGPStatus(t *testing.T) {
	// Every documented jobStatus (REST-REFERENCE §4.2) plus the notebook
	// server's expectedFailure.
	tests := []struct {
		status string
		want   JobState
	}{
		{"esriJobNew", JobQueued},
		{"esriJobSubmitted", JobQueued},
		{"esriJobWaiting", JobQueued},
		{"esriJobExecuting", JobRunning},
		{"esriJobCancelling", JobRunning},
		{"esriJobDeleting", JobRunning},
		{"esriJobSucceeded", JobSucceeded},
		{"esriJobFailed", JobFailed},
		{"expectedFailure", JobFailed},
		{"esriJobTimedOut", JobTimedOut},
		{"esriJobCancelled", JobCancelled},
		{"esriJobDeleted", JobCancelled},
		// case and spacing variants
		{"ESRIJOBSUCCEEDED", JobSucceeded},
		{"esrijobsucceeded", JobSucceeded},
		{"  esriJobExecuting\n", JobRunning},
		{"EsriJobTimedOut", JobTimedOut},
		{"EXPECTEDFAILURE", JobFailed},
		{"esriJobCanceled", JobCancelled}, // American spelling
		// unknown: never terminal
		{"", JobUnknown},
		{"esriJobSomethingNew", JobUnknown},
		{"DONE", JobUnknown},
		{"4", JobUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			got := ClassifyGPStatus(tt.status)
			assert.Equal(t, tt.want, got, "%q", tt.status)
			assert.Equal(t, tt.want >= JobSucceeded, got.Terminal())
		})
	}
}

func TestClassifyTileStatus(t *testing.T) {
	// The hosted tile job vocabulary (job statistics and vector tile jobs),
	// which the docs spell both upper case and Title case.
	tests := []struct {
		status string
		want   JobState
	}{
		{"SUBMITTED", JobQueued},
		{"Submitted", JobQueued},
		{"submitted", JobQueued},
		{"INPROGRESS", JobRunning},
		{"InProgress", JobRunning},
		{"inprogress", JobRunning},
		{"IN_PROGRESS", JobRunning},
		{"DONE", JobSucceeded},
		{"Done", JobSucceeded},
		{"CANCELED", JobCancelled},
		{"Canceled", JobCancelled},
		{"CANCELLED", JobCancelled},
		{"PARTIALERROR", JobFailed},
		{"PartialError", JobFailed},
		{"ERROR", JobFailed},
		{"Error", JobFailed},
		{"FAILED", JobFailed},
		{"Failed", JobFailed},
		{" done ", JobSucceeded},
		{"", JobUnknown},
		{"CACHECOOKER", JobUnknown}, // a job type, not a status
		{"esriJobSucceeded", JobUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			assert.Equal(t, tt.want, ClassifyTileStatus(tt.status), "%q", tt.status)
		})
	}
}

func TestJobStateString(t *testing.T) {
	assert.Equal(t, "succeeded", JobSucceeded.String())
	assert.Equal(t, "timed out", JobTimedOut.String())
	assert.Equal(t, "unknown", JobState(-1).String())
	assert.Equal(t, "unknown", JobState(99).String())
	for _, s := range []JobState{JobUnknown, JobQueued, JobRunning} {
		assert.False(t, s.Terminal(), s.String())
	}
	for _, s := range []JobState{JobSucceeded, JobFailed, JobCancelled, JobTimedOut} {
		assert.True(t, s.Terminal(), s.String())
	}
}

// --- JobError --------------------------------------------------------------

func TestJobError(t *testing.T) {
	e := &JobError{JobID: "j1", Status: "esriJobFailed", State: JobFailed, Op: "Refresh Service",
		Messages: []JobMessage{
			{Type: "esriJobMessageTypeInformative", Description: "Submitted."},
			{Type: "esriJobMessageTypeError", Description: "ERROR 000732: first"},
			{Type: "esriJobMessageTypeError", Description: "ERROR 001369: the last error"},
			{Type: "esriJobMessageTypeInformative", Description: "Failed at Mon Jan 1"},
		}}
	assert.Equal(t, "Refresh Service: job j1 failed (esriJobFailed): ERROR 001369: the last error", e.Error())
	assert.ErrorIs(t, e, ErrJobFailed)
	assert.NotErrorIs(t, e, ErrJobCancelled)
	assert.NotErrorIs(t, e, ErrJobTimedOut)

	wrapped := fmt.Errorf("outer: %w", e)
	var je *JobError
	require.ErrorAs(t, wrapped, &je)
	assert.Equal(t, "j1", je.JobID)

	c := &JobError{JobID: "j2", Status: "esriJobCancelled", State: JobCancelled,
		Messages: []JobMessage{{Type: "esriJobMessageTypeInformative", Description: "Cancel complete."}}}
	assert.Equal(t, "job j2 cancelled (esriJobCancelled): Cancel complete.", c.Error())
	assert.ErrorIs(t, c, ErrJobCancelled)
	assert.NotErrorIs(t, c, ErrJobFailed)

	to := &JobError{JobID: "j3", Status: "esriJobTimedOut", State: JobTimedOut}
	assert.Equal(t, "job j3 timed out (esriJobTimedOut)", to.Error())
	assert.ErrorIs(t, to, ErrJobTimedOut)

	abort := &JobError{JobID: "j4", Status: "esriJobFailed", State: JobFailed,
		Messages: []JobMessage{{Type: "esriJobMessageTypeAbort", Description: "aborted by user"}, {Type: "esriJobMessageTypeEmpty"}}}
	assert.Contains(t, abort.Error(), "aborted by user")
}

func TestJobProgressUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want JobProgress
	}{
		{`{"type":"step","message":"Rendering","percent":42}`, JobProgress{Type: "step", Message: "Rendering", Percent: 42}},
		{`{"type":"default","message":"Working","percent":"12.5"}`, JobProgress{Type: "default", Message: "Working", Percent: 12.5}},
		{`{"message":"x","percentage":7}`, JobProgress{Type: "", Message: "x", Percent: 7}},
		{`{"message":"x","percent":null}`, JobProgress{Type: "", Message: "x", Percent: 0}},
		{`{"message":"x","percent":"n/a"}`, JobProgress{Type: "", Message: "x", Percent: 0}},
		{`{}`, JobProgress{}},
	}
	for _, tt := range tests {
		var p JobProgress
		require.NoError(t, json.Unmarshal([]byte(tt.in), &p), tt.in)
		assert.Equal(t, tt.want, p, tt.in)
	}
	var p JobProgress
	assert.Error(t, json.Unmarshal([]byte(`"text"`), &p))
}

// --- poll options and delays -----------------------------------------------

func TestPollOptionsDefaults(t *testing.T) {
	var nilOpts *PollOptions
	d := nilOpts.withDefaults()
	assert.Equal(t, 500*time.Millisecond, d.MinDelay)
	assert.Equal(t, 2300*time.Millisecond, d.Interval)
	assert.Equal(t, 20*time.Second, d.MaxDelay)
	assert.Equal(t, 3.0, d.Factor)
	assert.Equal(t, 0.1, d.Jitter)
	assert.Equal(t, 5, d.MaxConsecutiveErrors)
	assert.Equal(t, d, (&PollOptions{}).withDefaults())

	o := (&PollOptions{MinDelay: time.Second, MaxDelay: time.Millisecond, Factor: math.NaN(),
		Jitter: math.NaN(), MaxConsecutiveErrors: -1}).withDefaults()
	assert.Equal(t, time.Second, o.MaxDelay, "MaxDelay raised to MinDelay")
	assert.Equal(t, time.Second, o.Interval, "Interval within MinDelay..MaxDelay")
	assert.Equal(t, 3.0, o.Factor)
	assert.Equal(t, 0.1, o.Jitter)
	assert.Equal(t, 0, o.MaxConsecutiveErrors)

	o = (&PollOptions{Factor: 0.5, Jitter: -1, Interval: time.Millisecond}).withDefaults()
	assert.Equal(t, 3.0, o.Factor)
	assert.Equal(t, 0.0, o.Jitter)
	assert.Equal(t, 500*time.Millisecond, o.Interval, "raised to MinDelay")
	o = (&PollOptions{Factor: math.Inf(1), Jitter: 7, Interval: time.Hour}).withDefaults()
	assert.Equal(t, 3.0, o.Factor)
	assert.Equal(t, 1.0, o.Jitter)
	assert.Equal(t, 20*time.Second, o.Interval, "lowered to MaxDelay")
}

func TestPollDelay(t *testing.T) {
	mid := func() float64 { return 0.5 } // no jitter
	zero := func() float64 { return 0 }
	one := func() float64 { return 1 }
	def := (*PollOptions)(nil).withDefaults()
	ms, s := time.Millisecond, time.Second
	tests := []struct {
		name   string
		p      PollOptions
		n      int
		waited time.Duration
		rnd    func() float64
		want   time.Duration
	}{
		{"first wait is MinDelay", def, 0, 0, mid, 500 * ms},
		{"then Factor times more", def, 1, 500 * ms, mid, 1500 * ms},
		{"up to Interval", def, 2, 2 * s, mid, 2300 * ms},
		{"Interval for the first minute", def, 20, 60 * s, mid, 2300 * ms},
		{"a sixteenth beyond 40 s once longer", def, 40, 120 * s, mid, 5 * s},
		{"capped at MaxDelay", def, 100, 10 * time.Minute, mid, 20 * s},
		{"huge n does not overflow", def, 1 << 20, time.Hour, mid, 20 * s},
		{"jitter shortens by up to half of Jitter", def, 40, 120 * s, zero, 4750 * ms},
		{"and lengthens", def, 40, 120 * s, one, 5250 * ms},
		{"never above MaxDelay", def, 100, time.Hour, one, 20 * s},
		{"never below MinDelay", PollOptions{MinDelay: 500 * ms, Interval: 520 * ms, MaxDelay: s, Factor: 3, Jitter: 1},
			5, 2 * s, zero, 500 * ms},
		{"no jitter on the first wait", def, 0, 0, one, 500 * ms},
		{"a bad random value counts as the lowest", def, 40, 120 * s, func() float64 { return math.NaN() }, 4750 * ms},
		{"a fixed poller", PollOptions{MinDelay: 2 * s, Interval: 2 * s, MaxDelay: 2 * s, Factor: 3}, 500, time.Hour, one, 2 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.pollDelay(tt.n, tt.waited, tt.rnd))
		})
	}
}

// --- the poller, over a synthetic job --------------------------------------

// pollClient is a client whose poller sleeps on a fake clock; no server.
func pollClient(t *testing.T) (*Client, *fakeClock) {
	t.Helper()
	c, err := NewClient("https://gis.example.com/arcgis")
	require.NoError(t, err)
	c.rnd = func() float64 { return 0 }
	return c, installClock(c)
}

// script is a synthetic job: poll n (from 1) answers with step(n).
type script struct {
	mu      sync.Mutex
	polls   int
	cancels int
	step    func(n int) (JobStatus, error)
}

func (s *script) job(c *Client, fresh bool) *Job[string] {
	spec := jobSpec[string, string]{
		op:     "Test Task",
		result: snapshotIsResult[string],
		poll: func(ctx context.Context) (JobStatus, string, error) {
			s.mu.Lock()
			s.polls++
			n := s.polls
			s.mu.Unlock()
			st, err := s.step(n)
			if err != nil {
				return JobStatus{}, "", err
			}
			if st.JobID == "" {
				st.JobID = "job-42"
			}
			return st, fmt.Sprintf("snapshot %d", n), nil
		},
		cancel: func(ctx context.Context) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.mu.Lock()
			s.cancels++
			s.mu.Unlock()
			return nil
		},
	}
	return newJob(c, "job-42", "https://gis.example.com/arcgis/rest/services/T/GPServer/Test/jobs/job-42", spec, fresh)
}

func running() (JobStatus, error) {
	return JobStatus{State: JobRunning, Status: "esriJobExecuting"}, nil
}

func succeeded() (JobStatus, error) {
	return JobStatus{State: JobSucceeded, Status: "esriJobSucceeded"}, nil
}

func TestWaitFreshJobWaitsFirstAndReattachedPollsAtOnce(t *testing.T) {
	c, ns := pollClient(t)
	s := &script{step: func(n int) (JobStatus, error) { return succeeded() }}
	got, err := s.job(c, true).Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "snapshot 1", got)
	assert.Equal(t, []time.Duration{500 * time.Millisecond}, ns.Sleeps())

	c2, ns2 := pollClient(t)
	s2 := &script{step: func(n int) (JobStatus, error) { return succeeded() }}
	_, err = s2.job(c2, false).Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, ns2.Sleeps(), "a re-attached job is polled at once")
	assert.Equal(t, 1, s2.polls)
}

func TestWaitScheduleSequenceAndCap(t *testing.T) {
	c, ns := pollClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 120
	ns.OnSleep(func(k int) {
		if k == n {
			cancel()
		}
	})
	s := &script{step: func(int) (JobStatus, error) { return running() }}
	_, err := s.job(c, true).Wait(ctx, &PollOptions{Jitter: -1})
	require.ErrorIs(t, err, context.Canceled)

	sl := ns.Sleeps()
	require.Len(t, sl, n)
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{500 * ms, 1500 * ms, 2300 * ms}, sl[:3])
	var waited time.Duration
	for i, d := range sl {
		assert.GreaterOrEqual(t, d, 500*ms, "wait %d", i)
		assert.LessOrEqual(t, d, 20*time.Second, "wait %d", i)
		if waited < 76*time.Second && i >= 2 {
			assert.Equal(t, 2300*ms, d, "wait %d after %v: Interval", i, waited)
		}
		if waited > 80*time.Second && d < 20*time.Second {
			assert.Equal(t, (waited-40*time.Second)/16, d, "wait %d after %v: a sixteenth beyond 40 s", i, waited)
		}
		if i > 0 {
			assert.GreaterOrEqual(t, d, sl[i-1], "without jitter the waits never shrink (wait %d)", i)
		}
		waited += d
	}
	assert.Equal(t, 20*time.Second, sl[n-1], "the cap is reached")
	assert.Equal(t, n-1, s.polls)
}

func TestWaitJitterBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		rnd  func() float64
	}{
		{"max", func() float64 { return 0.999999 }},
		{"min", func() float64 { return 0 }},
		{"pseudo-random", func() func() float64 {
			x := uint32(12345)
			return func() float64 { x = x*1664525 + 1013904223; return float64(x) / (1 << 32) }
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ns := pollClient(t)
			c.rnd = tc.rnd
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ns.OnSleep(func(k int) {
				if k == 100 {
					cancel()
				}
			})
			s := &script{step: func(int) (JobStatus, error) { return running() }}
			_, err := s.job(c, true).Wait(ctx, &PollOptions{Jitter: 0.3})
			require.ErrorIs(t, err, context.Canceled)

			p := (&PollOptions{Jitter: -1}).withDefaults()
			var waited time.Duration
			jittered := 0
			for i, d := range ns.Sleeps() {
				full := p.pollDelay(i, waited, nil)
				low := max(time.Duration(float64(full)*0.85), p.MinDelay)
				high := min(time.Duration(float64(full)*1.15)+1, p.MaxDelay)
				assert.GreaterOrEqual(t, d, low, "wait %d", i)
				assert.LessOrEqual(t, d, high, "wait %d", i)
				if d != full {
					jittered++
				}
				waited += d
			}
			assert.Greater(t, jittered, 50, "waits above MinDelay are jittered")
		})
	}
}

func TestWaitOnStatusReportsEachMessageOnce(t *testing.T) {
	c, _ := pollClient(t)
	a := JobMessage{Type: "esriJobMessageTypeInformative", Description: "Submitted."}
	b := JobMessage{Type: "esriJobMessageTypeInformative", Description: "Executing..."}
	w := JobMessage{Type: "esriJobMessageTypeWarning", Description: "Slow."}
	d := JobMessage{Type: "esriJobMessageTypeInformative", Description: "Succeeded."}
	answers := [][]JobMessage{
		{a},
		{a, b},
		{a, b},       // nothing new
		{b, w},       // a server that only keeps its latest messages
		{a, b, w, w}, // the warning repeats: the second one is new
		{a, b, w, w, d},
	}
	prog := &JobProgress{Type: "step", Message: "Rendering", Percent: 40}
	s := &script{step: func(n int) (JobStatus, error) {
		st := JobStatus{State: JobRunning, Status: "esriJobExecuting", Messages: answers[n-1], Progress: prog}
		if n == len(answers) {
			st.State, st.Status, st.Progress = JobSucceeded, "esriJobSucceeded", nil
		}
		return st, nil
	}}
	var got []JobMessage
	var states []JobState
	var progress []*JobProgress
	_, err := s.job(c, true).Wait(context.Background(), &PollOptions{OnStatus: func(st JobStatus) {
		got = append(got, st.NewMessages...)
		states = append(states, st.State)
		progress = append(progress, st.Progress)
		assert.Equal(t, "job-42", st.JobID)
	}})
	require.NoError(t, err)
	assert.Equal(t, []JobMessage{a, b, w, w, d}, got)
	assert.Equal(t, []JobState{JobRunning, JobRunning, JobRunning, JobRunning, JobRunning, JobSucceeded}, states)
	assert.Equal(t, prog, progress[0])
	assert.Nil(t, progress[5])
}

func TestWaitToleratesTransientPollErrors(t *testing.T) {
	boom := func(n int) error { return &Error{Code: 500, Message: fmt.Sprintf("boom %d", n)} }

	t.Run("five tolerated", func(t *testing.T) {
		c, _ := pollClient(t)
		s := &script{step: func(n int) (JobStatus, error) {
			if n <= 5 {
				return JobStatus{}, boom(n)
			}
			return succeeded()
		}}
		got, err := s.job(c, true).Wait(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, "snapshot 6", got)
	})
	t.Run("the sixth ends the wait with the last error", func(t *testing.T) {
		c, _ := pollClient(t)
		s := &script{step: func(n int) (JobStatus, error) { return JobStatus{}, boom(n) }}
		_, err := s.job(c, true).Wait(context.Background(), nil)
		require.Error(t, err)
		assert.Equal(t, 6, s.polls)
		var apiErr *Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "boom 6", apiErr.Message)
		assert.Contains(t, err.Error(), "job-42")
	})
	t.Run("a good poll resets the count", func(t *testing.T) {
		c, _ := pollClient(t)
		s := &script{step: func(n int) (JobStatus, error) {
			switch {
			case n == 20:
				return succeeded()
			case n%4 == 0:
				return running()
			}
			return JobStatus{}, boom(n)
		}}
		_, err := s.job(c, true).Wait(context.Background(), &PollOptions{MaxConsecutiveErrors: 3})
		require.NoError(t, err)
	})
	t.Run("custom limit", func(t *testing.T) {
		c, _ := pollClient(t)
		s := &script{step: func(n int) (JobStatus, error) { return JobStatus{}, boom(n) }}
		_, err := s.job(c, true).Wait(context.Background(), &PollOptions{MaxConsecutiveErrors: 2})
		require.Error(t, err)
		assert.Equal(t, 3, s.polls)
	})
	t.Run("negative: none tolerated", func(t *testing.T) {
		c, _ := pollClient(t)
		s := &script{step: func(n int) (JobStatus, error) { return JobStatus{}, boom(n) }}
		_, err := s.job(c, true).Wait(context.Background(), &PollOptions{MaxConsecutiveErrors: -1})
		require.Error(t, err)
		assert.Equal(t, 1, s.polls)
	})
	t.Run("network errors and odd answers are transient", func(t *testing.T) {
		for _, e := range []error{
			&RequestError{Op: "x", URL: "u", Err: errors.New("connection reset by peer")},
			&ResponseError{HTTPStatus: 200, Reason: "not JSON"},
			&ResponseError{HTTPStatus: 502, Reason: "not JSON"},
			&Error{Code: 500},
			&Error{HTTPStatus: 503},
		} {
			assert.True(t, transientPollError(e), "%v", e)
		}
	})
}

func TestWaitEndsAtOnceOnPermanentErrors(t *testing.T) {
	for _, e := range []error{
		&Error{Code: 404, Message: "Job not found"},
		&Error{Code: 400, Message: "Invalid URL"},
		&Error{Code: 403, Message: "not authorized"},
		&Error{Code: 498, Message: "Invalid token"},
		&Error{Code: 499, Message: "Token required"},
		&Error{HTTPStatus: 401},
		&ResponseError{HTTPStatus: 404, Reason: "not JSON"},
		&ValidationError{Field: "x", Reason: "bad"},
	} {
		t.Run(e.Error(), func(t *testing.T) {
			c, _ := pollClient(t)
			s := &script{step: func(int) (JobStatus, error) { return JobStatus{}, e }}
			_, err := s.job(c, true).Wait(context.Background(), nil)
			require.Error(t, err)
			assert.Equal(t, 1, s.polls)
			assert.ErrorIs(t, err, e)
			assert.Contains(t, err.Error(), "job-42")
		})
	}
}

func TestWaitTerminalFailures(t *testing.T) {
	for _, tc := range []struct {
		state    JobState
		status   string
		sentinel error
	}{
		{JobFailed, "esriJobFailed", ErrJobFailed},
		{JobCancelled, "esriJobCancelled", ErrJobCancelled},
		{JobTimedOut, "esriJobTimedOut", ErrJobTimedOut},
	} {
		t.Run(tc.status, func(t *testing.T) {
			c, _ := pollClient(t)
			msgs := []JobMessage{{Type: "esriJobMessageTypeError", Description: "it broke"}}
			s := &script{step: func(n int) (JobStatus, error) {
				if n < 3 {
					return running()
				}
				return JobStatus{State: tc.state, Status: tc.status, Messages: msgs}, nil
			}}
			_, err := s.job(c, true).Wait(context.Background(), nil)
			var je *JobError
			require.ErrorAs(t, err, &je)
			assert.Equal(t, "job-42", je.JobID)
			assert.Equal(t, tc.status, je.Status)
			assert.Equal(t, msgs, je.Messages)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Contains(t, err.Error(), "it broke")
			assert.Equal(t, 0, s.cancels)
		})
	}
}

func TestWaitContextDeadline(t *testing.T) {
	c, ns := pollClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ns.OnSleep(func(k int) {
		if k == 3 {
			<-ctx.Done() // the deadline passes during the third wait
		}
	})
	s := &script{step: func(int) (JobStatus, error) { return running() }}
	_, err := s.job(c, true).Wait(ctx, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "job-42")
	assert.Equal(t, 2, s.polls)
	assert.Equal(t, 0, s.cancels, "the server job is left running unless asked")
}

func TestWaitCancelOnContextDone(t *testing.T) {
	c, ns := pollClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns.OnSleep(func(k int) {
		if k == 4 {
			cancel()
		}
	})
	s := &script{step: func(int) (JobStatus, error) { return running() }}
	_, err := s.job(c, true).Wait(ctx, &PollOptions{CancelOnContextDone: true})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "job-42")
	assert.Contains(t, err.Error(), "job cancelled")
	assert.Equal(t, 1, s.cancels, "exactly one cancel, sent with a live context")
}

func TestWaitCancelOnContextDoneReportsCancelFailure(t *testing.T) {
	c, _ := pollClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spec := jobSpec[string, string]{
		op:     "Test Task",
		poll:   func(context.Context) (JobStatus, string, error) { return running2() },
		cancel: func(context.Context) error { return errors.New("cancel refused") },
	}
	_, err := newJob(c, "job-7", "u", spec, false).Wait(ctx, &PollOptions{CancelOnContextDone: true})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "cancel refused")
	assert.Contains(t, err.Error(), "job-7")
}

func running2() (JobStatus, string, error) {
	st, err := running()
	return st, "", err
}

func TestWaitUnknownStatusKeepsPolling(t *testing.T) {
	c, ns := pollClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns.OnSleep(func(k int) {
		if k == 50 {
			cancel()
		}
	})
	var states []JobState
	s := &script{step: func(int) (JobStatus, error) {
		return JobStatus{State: ClassifyGPStatus("esriJobSomethingNew"), Status: "esriJobSomethingNew"}, nil
	}}
	_, err := s.job(c, true).Wait(ctx, &PollOptions{OnStatus: func(st JobStatus) { states = append(states, st.State) }})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "job-42")
	assert.Equal(t, 49, s.polls)
	for _, st := range states {
		assert.Equal(t, JobUnknown, st)
	}
}

func TestWaitResultErrorNamesTheJob(t *testing.T) {
	c, _ := pollClient(t)
	spec := jobSpec[string, string]{
		op: "Test Task",
		poll: func(context.Context) (JobStatus, string, error) {
			return JobStatus{State: JobSucceeded, Status: "esriJobSucceeded"}, "", nil
		},
		result: func(context.Context, JobStatus, string) (string, error) {
			return "", &Error{Code: 500, Message: "result gone"}
		},
	}
	_, err := newJob(c, "job-9", "u", spec, false).Wait(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "job-9")
	assert.Contains(t, err.Error(), "result gone")
}

func TestJobCancelWithoutSupport(t *testing.T) {
	c, _ := pollClient(t)
	j := newJob(c, "job-1", "u", jobSpec[string, string]{op: "X"}, false)
	err := j.Cancel(context.Background())
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "job-1"))
}

func TestJobErrorSkipsFailureTrailers(t *testing.T) {
	e := &JobError{JobID: "j1", Status: "esriJobFailed", State: JobFailed, Messages: []JobMessage{
		{Type: "esriJobMessageTypeInformative", Description: "Executing..."},
		{Type: "esriJobMessageTypeError", Description: "ERROR 000732: Input Features: Dataset roads does not exist or is not supported"},
		{Type: "esriJobMessageTypeError", Description: "Failed to execute (Buffer)."},
		{Type: "esriJobMessageTypeError", Description: "Failed at Thu Nov 19 10:00:00 2026 (Elapsed Time: 0.05 seconds)"},
	}}
	assert.Equal(t, "job j1 failed (esriJobFailed): ERROR 000732: Input Features: Dataset roads does not exist or is not supported", e.Error())
	onlyTrailers := &JobError{JobID: "j2", Status: "esriJobFailed", State: JobFailed, Messages: e.Messages[2:]}
	assert.Contains(t, onlyTrailers.Error(), "Failed at Thu Nov 19", "with nothing better, the last error is quoted")
}

// TestJobStatusHasNoHiddenFields: what one job family knows travels in its
// own snapshot to its result step, not in hidden fields of the public
// JobStatus (which callers copy, compare and print).
func TestJobStatusHasNoHiddenFields(t *testing.T) {
	typ := reflect.TypeOf(JobStatus{})
	for i := range typ.NumField() {
		assert.True(t, typ.Field(i).IsExported(), "JobStatus.%s", typ.Field(i).Name)
	}
}
