package ags

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func emulatorClient(t *testing.T, opts ...agstest.Option) (*Client, *agstest.Server) {
	t.Helper()
	srv := agstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL(), WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword), WithInsecureHTTP(),
		WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}))
	require.NoError(t, err)
	return c, srv
}

func TestWaitAllOutcomesInOrder(t *testing.T) {
	c, srv := emulatorClient(t, agstest.WithJobDuration(80*time.Millisecond))
	srv.AddService("", "Good", "ImageServer", nil)
	srv.FailJobs(func(task string, p url.Values) string {
		if p.Get("serviceName") == "Good" && p.Get("refreshOptions") == "fail" {
			return "ERROR 999999: refresh failed on purpose"
		}
		return ""
	})
	ctx := t.Context()
	var jobs []*Job[*RefreshResult]
	for i := range 30 {
		var opts []RefreshOption
		if i%10 == 3 {
			opts = append(opts, WithRefreshOptions("fail"))
		}
		j, err := c.Services.Refresh(ctx, ServiceRef{Name: "Good", Type: ImageServer}, opts...)
		require.NoError(t, err)
		jobs = append(jobs, j)
	}
	var statuses atomic.Int64
	out := WaitAll(ctx, jobs, &WaitAllOptions{Concurrency: 4, PollOptions: PollOptions{MinDelay: 20 * time.Millisecond,
		OnStatus: func(JobStatus) { statuses.Add(1) }}})
	require.Len(t, out, 30)
	for i, o := range out {
		assert.Same(t, jobs[i], o.Job, "outcomes in the order of the jobs")
		if i%10 == 3 {
			var jobErr *JobError
			require.ErrorAs(t, o.Err, &jobErr, "job %d", i)
			assert.Equal(t, jobs[i].ID(), jobErr.JobID)
			assert.Contains(t, o.Err.Error(), "refresh failed on purpose")
			continue
		}
		require.NoError(t, o.Err, "job %d", i)
		assert.Equal(t, jobs[i].ID(), o.Result.JobID)
	}
	assert.GreaterOrEqual(t, statuses.Load(), int64(30), "OnStatus sees every job")
	assert.Equal(t, 30, srv.Count("/submitJob"), "WaitAll submits nothing")
}

func TestWaitAllBoundsConcurrentPolls(t *testing.T) {
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	polls := map[string]int{}
	c, mux, _ := setup(t)
	mux.HandleFunc("/arcgis/rest/services/T/GPServer/Task/jobs/", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		mu.Lock()
		polls[id]++
		status := "esriJobExecuting"
		if polls[id] >= 3 {
			status = "esriJobSucceeded"
		}
		mu.Unlock()
		fmt.Fprintf(w, `{"jobId":%q,"jobStatus":%q}`, id, status)
	})
	var jobs []*Job[*GPResult]
	for i := range 40 {
		j, err := c.GP.Job("T/GPServer/Task", fmt.Sprintf("j%02d", i))
		require.NoError(t, err)
		jobs = append(jobs, j)
	}
	out := WaitAll(t.Context(), jobs, &WaitAllOptions{Concurrency: 3, PollOptions: PollOptions{MinDelay: time.Millisecond}})
	for _, o := range out {
		require.NoError(t, o.Err)
	}
	assert.LessOrEqual(t, peak.Load(), int64(3), "no more polls at once than Concurrency")
	for id, n := range polls {
		assert.Equal(t, 3, n, "job %s polled until done, and no more", id)
	}
}

func TestWaitAllContextEndsEveryUnfinishedJob(t *testing.T) {
	c, mux, _ := setup(t)
	var cancels atomic.Int64
	mux.HandleFunc("/arcgis/rest/services/T/GPServer/Task/jobs/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/cancel") {
			cancels.Add(1)
			fmt.Fprint(w, `{"jobId":"x","jobStatus":"esriJobCancelling"}`)
			return
		}
		fmt.Fprint(w, `{"jobId":"x","jobStatus":"esriJobExecuting"}`)
	})
	var jobs []*Job[*GPResult]
	for i := range 5 {
		j, err := c.GP.Job("T/GPServer/Task", fmt.Sprintf("job%d", i))
		require.NoError(t, err)
		jobs = append(jobs, j)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	out := WaitAll(ctx, append(jobs, nil), &WaitAllOptions{PollOptions: PollOptions{MinDelay: 10 * time.Millisecond, CancelOnContextDone: true}})
	assert.Less(t, time.Since(start), 5*time.Second, "returns once ctx ends")
	for i, o := range out[:5] {
		require.ErrorIs(t, o.Err, context.DeadlineExceeded)
		assert.Contains(t, o.Err.Error(), jobs[i].ID())
	}
	var ve *ValidationError
	assert.True(t, errors.As(out[5].Err, &ve), "a nil job is bad input")
	assert.EqualValues(t, 5, cancels.Load(), "each unfinished job cancelled once")
}

func TestWaitAllNoJobs(t *testing.T) {
	assert.Empty(t, WaitAll[*GPResult](t.Context(), nil, nil))
}

// TestWaitAllOnTheClientClock: WaitAll schedules on the client's clock, as
// Wait does: on a fake clock it waits no wall time, and each job is polled
// as often as Wait polls it, no sooner on that clock than Wait would.
func TestWaitAllOnTheClientClock(t *testing.T) {
	endsAt := func(last int) *script {
		return &script{step: func(n int) (JobStatus, error) {
			if n < last {
				return running()
			}
			return JobStatus{State: JobSucceeded, Status: "esriJobSucceeded"}, nil
		}}
	}
	c, clk := pollClient(t)
	start := clk.Now()
	res, err := endsAt(20).job(c, true).Wait(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, "snapshot 20", res)
	waitTook := clk.Now().Sub(start)

	c, clk = pollClient(t)
	start = clk.Now()
	scripts := []*script{endsAt(20), endsAt(20), endsAt(20)}
	var jobs []*Job[string]
	for _, s := range scripts {
		jobs = append(jobs, s.job(c, true))
	}
	out := WaitAll(t.Context(), jobs, nil)
	for i, o := range out {
		require.NoError(t, o.Err, "job %d", i)
		assert.Equal(t, "snapshot 20", o.Result)
		assert.Equal(t, 20, scripts[i].polls, "job %d: polled as often as by Wait", i)
	}
	assert.NotEmpty(t, clk.Sleeps(), "WaitAll waited on the client's clock")
	assert.GreaterOrEqual(t, clk.Now().Sub(start), waitTook, "no job was polled ahead of Wait's schedule")
}
