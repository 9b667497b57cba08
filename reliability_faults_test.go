package ags_test

// The faults a real site throws, each against the agstest emulator with
// its clock driven by the test: a site that goes away and comes back (with
// and without invalidating every token), clock skew with short tokens, a
// busy configuration store, and gateway 502s on every kind of request.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/internal/fakeclock"
)

// faultPoll polls quickly and rides out a site that is away for a while.
var faultPoll = &ags.PollOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxConsecutiveErrors: 20}

// submitRefreshes submits n refreshes and returns their jobs.
func submitRefreshes(t *testing.T, h *harness, n int) []*ags.Job[*ags.RefreshResult] {
	t.Helper()
	jobs := make([]*ags.Job[*ags.RefreshResult], n)
	for i := range jobs {
		job, err := h.client.Services.Refresh(t.Context(), relRefresh)
		require.NoError(t, err, "refresh %d", i)
		h.keep(job)
		jobs[i] = job
	}
	return jobs
}

// waitAll waits for every job in its own goroutine and returns a function
// that collects the errors.
func waitAll(ctx context.Context, h *harness, jobs []*ags.Job[*ags.RefreshResult]) func() []error {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := job.Wait(ctx, faultPoll)
			h.keep(res, err)
			errs[i] = err
		}()
	}
	return func() []error { wg.Wait(); return errs }
}

func countFaults(srv *agstest.Server, fault string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Fault == fault {
			n++
		}
	}
	return n
}

// tokenGrants counts the token requests the server answered.
func tokenGrants(srv *agstest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "generateToken") && r.Fault == "" {
			n++
		}
	}
	return n
}

// TestReliabilityServerGoesAway: the site closes every connection without
// an answer for a while, then comes back, with or without having forgotten
// every token. Every job ends ok, with one token renewal per invalidation.
func TestReliabilityServerGoesAway(t *testing.T) {
	for _, invalidate := range []bool{false, true} {
		t.Run(fmt.Sprintf("invalidate=%v", invalidate), func(t *testing.T) {
			clk := fakeclock.NewAt(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
			srv := agstest.NewServer(agstest.WithSeed(11), agstest.WithClock(clk.Now), agstest.WithJobDuration(time.Minute))
			t.Cleanup(srv.Close)
			relAddTarget(srv)
			h := newHarness(t, srv)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()

			const n = 20
			collect := waitAll(ctx, h, submitRefreshes(t, h, n))
			srv.SetFaults(agstest.Faults{Down: true})
			require.Eventually(t, func() bool { return countFaults(srv, "down") >= n }, 20*time.Second, 5*time.Millisecond,
				"the waiters never met the site away")
			clk.Advance(5 * time.Second) // the site is away for a few seconds
			if invalidate {
				srv.InvalidateTokens() // a restart forgets every token
			}
			srv.SetFaults(agstest.Faults{})
			clk.Advance(2 * time.Minute) // and the jobs finish
			for i, err := range collect() {
				assert.NoError(t, err, "job %d", i)
			}
			want := 1
			if invalidate {
				want = 2
			}
			assert.Equal(t, want, tokenGrants(srv), "token requests: one sign-in, one renewal per invalidation")
			t.Logf("%d requests dropped while the site was away", countFaults(srv, "down"))
			h.checkNoSecrets()
		})
	}
}

// TestReliabilityClockSkew: the site's clock is an hour ahead of the
// client's, or an hour behind, and its tokens live two minutes. Every job
// ends ok, with about one renewal per token lifetime: no renewal storm.
func TestReliabilityClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			const lifetime, jobTime = 2 * time.Minute, 10 * time.Minute
			clk := fakeclock.NewAt(time.Now().Add(skew))
			srv := agstest.NewServer(agstest.WithSeed(12), agstest.WithClock(clk.Now),
				agstest.WithTokenLifetime(lifetime), agstest.WithJobDuration(jobTime))
			t.Cleanup(srv.Close)
			relAddTarget(srv)
			h := newHarness(t, srv)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()

			collect := waitAll(ctx, h, submitRefreshes(t, h, 10))
			// Drive the site's clock through the jobs, ten seconds a step,
			// while the waiters poll.
			done := make(chan struct{})
			var advanced time.Duration
			go func() {
				defer close(done)
				for advanced < jobTime+time.Minute && ctx.Err() == nil {
					clk.Advance(10 * time.Second)
					advanced += 10 * time.Second
					time.Sleep(2 * time.Millisecond)
				}
			}()
			errs := collect()
			<-done
			for i, err := range errs {
				assert.NoError(t, err, "job %d", i)
			}
			grants := tokenGrants(srv)
			bound := int(advanced/lifetime) + 2
			t.Logf("skew %v: %d token requests over %v of site time (bound %d)", skew, grants, advanced, bound)
			assert.LessOrEqual(t, grants, bound, "renewal storm")
			h.checkNoSecrets()
		})
	}
}

// createdOnce checks that the site carried out exactly one createService
// for each name (a duplicate would have been refused "already exists", but
// must never even be sent once the first landed).
func createdOnce(t *testing.T, srv *agstest.Server, names []string) {
	t.Helper()
	carried := map[string]int{}
	for _, r := range srv.Requests() {
		if !strings.HasSuffix(r.Path, "/createService") || (r.Fault != "" && r.Fault != "lost502") {
			continue
		}
		var def struct {
			ServiceName string `json:"serviceName"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Form.Get("service")), &def))
		carried[def.ServiceName]++
	}
	for _, name := range names {
		assert.Equal(t, 1, carried[name], "createService carried out for %s", name)
		_, ok := srv.Service("", name, "MapServer")
		assert.True(t, ok, "%s exists", name)
	}
}

// TestReliabilityStoreBusyRate: 30% of admin writes are answered "store
// busy"; every createService lands exactly once.
func TestReliabilityStoreBusyRate(t *testing.T) {
	srv := agstest.NewServer(agstest.WithSeed(13), agstest.WithFaults(agstest.Faults{StoreBusyRate: 0.3}))
	t.Cleanup(srv.Close)
	h := newHarness(t, srv)
	var names []string
	for i := range 30 {
		name := fmt.Sprintf("Busy%02d", i)
		names = append(names, name)
		err := h.client.Services.Create(t.Context(), "", ags.ServiceDefinition{ServiceName: name, Type: ags.MapServer})
		h.keep(err)
		require.NoError(t, err, name)
	}
	assert.Positive(t, countFaults(srv, "storebusy"))
	createdOnce(t, srv, names)
	h.checkNoSecrets()
}

// TestReliabilityGateway502Everywhere: 20% of all answers are an HTML 502,
// half of them after the site acted. Every Refresh ends ok; createService
// in a loop creates each service exactly once.
func TestReliabilityGateway502Everywhere(t *testing.T) {
	// 10% before acting, then 10% of all (0.1/0.9 of the rest) after.
	faults := agstest.Faults{HTML502Rate: 0.1, LostAnswerRate: 0.1 / 0.9}
	clk := fakeclock.NewAt(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := agstest.NewServer(agstest.WithSeed(14), agstest.WithClock(clk.Now),
		agstest.WithJobDuration(time.Minute), agstest.WithFaults(faults))
	t.Cleanup(srv.Close)
	relAddTarget(srv)
	h := newHarness(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	collect := waitAll(ctx, h, submitRefreshes(t, h, 50))
	clk.Advance(2 * time.Minute)
	for i, err := range collect() {
		assert.NoError(t, err, "refresh %d", i)
	}

	var names []string
	for i := range 30 {
		name := fmt.Sprintf("Gw%02d", i)
		names = append(names, name)
		var err error
		// A caller's loop: try again on a failure that left nothing behind.
		for try := 0; try < 3; try++ {
			err = h.client.Services.Create(ctx, "", ags.ServiceDefinition{ServiceName: name, Type: ags.MapServer})
			h.keep(err)
			if err == nil || errors.Is(err, ags.ErrOutcomeUnknown) || errors.Is(err, ags.ErrServiceExists) {
				break
			}
		}
		require.NoError(t, err, name)
	}
	assert.Positive(t, countFaults(srv, "lost502"), "no answer was lost: the test proved nothing")
	createdOnce(t, srv, names)
	h.checkNoSecrets()
}

// TestReliabilityOneBudgetAtFullFaults: with every answer faulted, a call
// makes MaxRetries+1 attempts, whatever the mix of faults.
func TestReliabilityOneBudgetAtFullFaults(t *testing.T) {
	srv := agstest.NewServer(agstest.WithSeed(15))
	t.Cleanup(srv.Close)
	relAddTarget(srv)
	h := newHarness(t, srv)
	ref := ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer}
	_, err := h.client.Services.Status(t.Context(), ref) // signs in while the site is healthy
	require.NoError(t, err)
	attempts := relFastRetry.MaxRetries + 1

	srv.ResetRequests()
	srv.SetFaults(agstest.Faults{HTML502Rate: 1})
	_, err = h.client.Services.Status(t.Context(), ref)
	require.Error(t, err)
	assert.Equal(t, attempts, srv.Count("/status"), "a read at 100%% 502s")

	// Half 502s, the rest "store busy": start is retried for both, in one budget.
	srv.ResetRequests()
	srv.SetFaults(agstest.Faults{HTML502Rate: 0.5, StoreBusyRate: 1})
	err = h.client.Services.Start(t.Context(), ref)
	require.Error(t, err)
	h.keep(err)
	assert.Equal(t, attempts, srv.Count("/start"), "a write at 100%% faults")
	assert.Positive(t, countFaults(srv, "html502"))
	assert.Positive(t, countFaults(srv, "storebusy"))
	h.checkNoSecrets()
}
