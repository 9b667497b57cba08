package ags

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The poll schedule against a client that polls every 2 s (ArcGIS REST
// JS's interval), on the fake clock: the same simulated jobs, waited on by
// Job.Wait with the default options and by the fixed poller, compared as
// ratios. No wall-clock timing: a change to the schedule that costs the
// server more, or sees jobs done later, fails here.

// simJob is one simulated job: it ends `length` after its submit. With
// progress it reports like agstest's jobs: queued for the first 10 %, then
// running with a whole percent that rises linearly, at most 99.
type simJob struct {
	length   time.Duration
	progress bool
}

// simOutcome is how one waiter saw one job.
type simOutcome struct {
	polls int
	seen  time.Duration // from submit to the poll that saw it done
}

func (o simOutcome) delay(j simJob) time.Duration { return o.seen - j.length }

// waitSim waits on j with Job.Wait and the default options.
func waitSim(t *testing.T, j simJob, rnd func() float64) simOutcome {
	t.Helper()
	c, ns := pollClient(t)
	c.rnd = rnd
	submitted := ns.Now()
	var out simOutcome
	s := &script{step: func(int) (JobStatus, error) {
		el := ns.Now().Sub(submitted)
		switch {
		case el >= j.length:
			out.seen = el
			return succeeded()
		case !j.progress:
			return running()
		case el < j.length/10:
			return JobStatus{State: JobQueued, Status: "esriJobSubmitted"}, nil
		}
		pct := min(math.Floor(100*float64(el)/float64(j.length)), 99)
		return JobStatus{State: JobRunning, Status: "esriJobExecuting", Progress: &JobProgress{Percent: pct}}, nil
	}}
	_, err := s.job(c, true).Wait(context.Background(), nil)
	require.NoError(t, err)
	out.polls = s.polls
	return out
}

// fixedPoller is the baseline: a poll every 2 s from the submit.
func fixedPoller(j simJob) simOutcome {
	var o simOutcome
	for o.seen < j.length {
		o.seen += 2 * time.Second
		o.polls++
	}
	return o
}

// simStats sums up a workload for one waiter.
type simStats struct {
	requestsPerJob float64
	meanDelay      time.Duration
	p95Delay       time.Duration
	maxDelay       time.Duration
	p95Seen        time.Duration
}

func summarize(jobs []simJob, outs []simOutcome) simStats {
	var s simStats
	delays := make([]time.Duration, len(jobs))
	seen := make([]time.Duration, len(jobs))
	var sum time.Duration
	for i, o := range outs {
		s.requestsPerJob += float64(o.polls)
		delays[i], seen[i] = o.delay(jobs[i]), o.seen
		sum += delays[i]
	}
	s.requestsPerJob /= float64(len(jobs))
	s.meanDelay = sum / time.Duration(len(jobs))
	slices.Sort(delays)
	slices.Sort(seen)
	p95 := int(0.95 * float64(len(jobs)-1))
	s.p95Delay, s.maxDelay, s.p95Seen = delays[p95], delays[len(delays)-1], seen[p95]
	return s
}

// runWorkload waits on every job with both waiters.
func runWorkload(t *testing.T, jobs []simJob, seed uint64) (ags, fixed simStats) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1)).Float64
	a, f := make([]simOutcome, len(jobs)), make([]simOutcome, len(jobs))
	for i, j := range jobs {
		a[i], f[i] = waitSim(t, j, rnd), fixedPoller(j)
	}
	return summarize(jobs, a), summarize(jobs, f)
}

// logUniform is n job lengths drawn log-uniformly from lo..hi.
func logUniform(n int, lo, hi time.Duration, progress bool, seed uint64) []simJob {
	r := rand.New(rand.NewPCG(seed, 2))
	jobs := make([]simJob, n)
	span := math.Log(float64(hi) / float64(lo))
	for i := range jobs {
		jobs[i] = simJob{length: time.Duration(float64(lo) * math.Exp(r.Float64()*span)), progress: progress}
	}
	return jobs
}

func same(n int, length time.Duration, progress bool) []simJob {
	jobs := make([]simJob, n)
	for i := range jobs {
		jobs[i] = simJob{length: length, progress: progress}
	}
	return jobs
}

func ratio(a, b float64) float64 { return a / b }

// TestPollScheduleAgainstFixedPoller asserts the schedule's targets.
// Jobs that report progress (as tile jobs and GP step progressors do) meet
// all of them; without progress reports the schedule still costs no more
// requests, but a job that ends while the waits are long is seen done
// later: the mean delay on the mixed workload is bounded at 1.35× the
// fixed poller's instead of 1.1×, and 60 s jobs at 62.5 s instead of 62.
func TestPollScheduleAgainstFixedPoller(t *testing.T) {
	for _, progress := range []bool{true, false} {
		name := map[bool]string{true: "with progress", false: "without progress"}[progress]
		t.Run(name, func(t *testing.T) {
			meanBound, p60 := 1.1, 62*time.Second
			if !progress {
				meanBound, p60 = 1.35, 62500*time.Millisecond
			}
			for seed := uint64(1); seed <= 5; seed++ {
				t.Run(fmt.Sprintf("mix 0.5-120s seed %d", seed), func(t *testing.T) {
					a, f := runWorkload(t, logUniform(200, 500*time.Millisecond, 120*time.Second, progress, seed), seed)
					t.Logf("requests/job %.2f vs %.2f; delay mean %v vs %v, p95 %v vs %v", a.requestsPerJob, f.requestsPerJob,
						a.meanDelay, f.meanDelay, a.p95Delay, f.p95Delay)
					assert.LessOrEqual(t, ratio(a.requestsPerJob, f.requestsPerJob), 1.0, "requests per job")
					assert.LessOrEqual(t, ratio(float64(a.meanDelay), float64(f.meanDelay)), meanBound, "mean detect delay")
					assert.LessOrEqual(t, ratio(float64(a.p95Delay), float64(f.p95Delay)), 1.5, "p95 detect delay")
				})
			}
			t.Run("50 x 60s", func(t *testing.T) {
				a, f := runWorkload(t, same(50, time.Minute, progress), 7)
				t.Logf("requests/job %.2f vs %.2f; p95 seen at %v", a.requestsPerJob, f.requestsPerJob, a.p95Seen)
				assert.LessOrEqual(t, ratio(a.requestsPerJob, f.requestsPerJob), 1.05, "requests per job")
				assert.LessOrEqual(t, a.p95Seen, p60, "p95 job latency")
			})
			t.Run("200 x 0.5s", func(t *testing.T) {
				a, _ := runWorkload(t, same(200, 500*time.Millisecond, progress), 8)
				assert.LessOrEqual(t, a.maxDelay, 100*time.Millisecond, "seen done within 100 ms of the end")
				assert.Equal(t, 1.0, a.requestsPerJob)
			})
			t.Run("10 x 10min", func(t *testing.T) {
				a, f := runWorkload(t, same(10, 10*time.Minute, progress), 9)
				t.Logf("requests/job %.2f vs %.2f; delay max %v", a.requestsPerJob, f.requestsPerJob, a.maxDelay)
				assert.LessOrEqual(t, ratio(a.requestsPerJob, f.requestsPerJob), 0.3, "requests per job")
				assert.LessOrEqual(t, a.maxDelay, 30*time.Second, "detect delay within 5 % of the job")
			})
		})
	}
}

// steadyJob reports progress rising linearly to its end.
func steadyJob(ns *fakeClock, length time.Duration) func(int) (JobStatus, error) {
	start := ns.Now()
	return func(int) (JobStatus, error) {
		el := ns.Now().Sub(start)
		if el >= length {
			return succeeded()
		}
		pct := math.Floor(100 * float64(el) / float64(length))
		return JobStatus{State: JobRunning, Status: "INPROGRESS", Progress: &JobProgress{Percent: pct}}, nil
	}
}

func TestWaitPollsJustAfterThePredictedEnd(t *testing.T) {
	for _, length := range []time.Duration{9 * time.Second, 37 * time.Second, 3 * time.Minute, 47 * time.Minute} {
		t.Run(length.String(), func(t *testing.T) {
			c, ns := pollClient(t)
			s := &script{step: steadyJob(ns, length)}
			_, err := s.job(c, true).Wait(context.Background(), &PollOptions{Jitter: -1})
			require.NoError(t, err)
			plain := (&PollOptions{Jitter: -1}).withDefaults()
			var waited time.Duration
			for i, d := range ns.Sleeps() {
				assert.GreaterOrEqual(t, d, plain.MinDelay, "wait %d", i)
				assert.LessOrEqual(t, d, plain.pollDelay(i, waited, nil), "wait %d: never later than the plain schedule", i)
				waited += d
			}
			assert.GreaterOrEqual(t, waited, length)
			assert.LessOrEqual(t, waited-length, max(length/50, plain.MinDelay), "seen done within 2 %% of the length")
			// The poll aimed at the end finds the job done: no poll is
			// wasted just before it.
			sl := ns.Sleeps()
			assert.Less(t, waited-sl[len(sl)-1], length, "the previous poll was before the end")
		})
	}
}

func TestWaitIgnoresProgressThatDoesNotMove(t *testing.T) {
	c, ns := pollClient(t)
	start := ns.Now()
	s := &script{step: func(n int) (JobStatus, error) {
		el := ns.Now().Sub(start)
		if el >= 3*time.Minute {
			return succeeded()
		}
		// Fast to 99 %, then stuck there: a prediction would say "now".
		pct := min(float64(10*n), 99)
		return JobStatus{State: JobRunning, Status: "esriJobExecuting", Progress: &JobProgress{Type: "step", Percent: pct}}, nil
	}}
	_, err := s.job(c, true).Wait(context.Background(), &PollOptions{Jitter: -1})
	require.NoError(t, err)
	plain := (&PollOptions{Jitter: -1}).withDefaults()
	var waited time.Duration
	for i, d := range ns.Sleeps() {
		if i >= 12 { // stuck at 99 since poll 10
			assert.Equal(t, plain.pollDelay(i, waited, nil), d, "wait %d: the plain schedule", i)
		}
		waited += d
	}
	assert.Less(t, s.polls, 80, "no run of MinDelay polls")
}

func TestProgressClock(t *testing.T) {
	s := time.Second
	var c progressClock
	c.observe(10*s, 10)
	_, ok := c.until(10 * s)
	assert.False(t, ok, "one report predicts nothing")
	c.observe(20*s, 11)
	_, ok = c.until(20 * s)
	assert.False(t, ok, "one point of progress is within the rounding")
	c.observe(30*s, 13)
	d, ok := c.until(30 * s)
	require.True(t, ok)
	assert.Equal(t, time.Duration(87*10)*s, d, "two points over 20 s: 87 points to go at 10 s each")
	c.observe(40*s, 13)
	_, ok = c.until(40 * s)
	assert.False(t, ok, "not moving")
	c.observe(50*s, 5)
	_, ok = c.until(50 * s)
	assert.False(t, ok, "going back starts over")
	c.observe(60*s, 8)
	d, ok = c.until(60 * s)
	require.True(t, ok)
	assert.Equal(t, 92*5*s, d, "from the new anchor: two points over 10 s")
	c.observe(70*s, 0)
	_, ok = c.until(70 * s)
	assert.False(t, ok, "no percent")
	c.observe(80*s, 100)
	_, ok = c.until(80 * s)
	assert.False(t, ok)
}

func TestWaitHonoursRetryAfterOnAFailedPoll(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"429 JSON", "application/json", `{"error":{"code":429,"message":"Too many requests."}}`, http.StatusTooManyRequests},
		{"503 HTML", "text/html", "<html><body>Service Unavailable</body></html>", http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setupNoAuth(t, WithRetryPolicy(RetryPolicy{MaxRetries: -1}))
			ns := installClock(c)
			c.rnd = func() float64 { return 0.5 }
			f := (&fakeTask{t: t, task: hotspotTask, jobID: "j1", status: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 2 {
					w.Header().Set("Retry-After", "9")
					w.Header().Set("Content-Type", tc.contentType)
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
					return
				}
				st := "esriJobExecuting"
				if n == 4 {
					st = "esriJobSucceeded"
				}
				_, _ = fmt.Fprintf(w, `{"jobId":"j1","jobStatus":%q}`, st)
			}}).mount(mux)
			job, err := c.GP.Job(hotspotTask, "j1")
			require.NoError(t, err)
			_, err = job.Wait(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, 4, f.polls)
			assert.Equal(t, []time.Duration{1500 * time.Millisecond, 9 * time.Second, 2300 * time.Millisecond}, ns.Sleeps(),
				"the wait after the refused poll is the server's")
		})
	}
}

func TestErrorsCarryRetryAfter(t *testing.T) {
	c, mux, _ := setupNoAuth(t, WithRetryPolicy(RetryPolicy{MaxRetries: -1}))
	installClock(c)
	mux.HandleFunc(sitePrefix+"rest/services/A/MapServer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc(sitePrefix+"rest/services/B/MapServer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusInternalServerError)
	})
	get := func(name string) error {
		return c.do(context.Background(), call{op: "test", method: http.MethodGet, idempotent: true,
			url: c.endpoint(rootServices, name, "MapServer")}, nil)
	}
	err := get("A")
	require.Error(t, err)
	assert.Equal(t, 2*time.Minute, retryAfterOf(err))
	err = get("B")
	require.Error(t, err)
	assert.Zero(t, retryAfterOf(err), "only on 429 and 503")
}
