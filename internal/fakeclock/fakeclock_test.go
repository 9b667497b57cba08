package fakeclock

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoneSleepReturnsAtOnce(t *testing.T) {
	c := New()
	var calls []int
	c.OnSleep(func(n int) { calls = append(calls, n) })
	require.NoError(t, c.Sleep(t.Context(), time.Second))
	require.NoError(t, c.Sleep(t.Context(), 2*time.Second))
	assert.Equal(t, Start.Add(3*time.Second), c.Now())
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, c.Sleeps())
	assert.Equal(t, []int{1, 2}, calls)

	c.Advance(time.Minute)
	assert.Equal(t, Start.Add(3*time.Second+time.Minute), c.Now())
}

func TestSleepWatchesContext(t *testing.T) {
	c := New()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Second), context.Canceled)
	assert.Empty(t, c.Sleeps(), "a done context sleeps not at all")

	// A callback may end the sleeper's context: the sleep reports it.
	ctx, cancel = context.WithCancel(t.Context())
	c.OnSleep(func(int) { cancel() })
	assert.ErrorIs(t, c.Sleep(ctx, time.Second), context.Canceled)

	// A joined sleeper held back by a busy one gives up with its context.
	c = New()
	c.Join()
	c.Join()
	ctx, cancel = context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, time.Second) }()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, Start, c.Now(), "time did not move")
}

// TestJoinedMoveTogether: time moves only when every goroutine that joined
// sleeps, to the earliest wake-up, and each sleeper wakes at its own time.
func TestJoinedMoveTogether(t *testing.T) {
	c := New()
	var jumps []time.Duration
	c.OnJump(func(from, to time.Time) { jumps = append(jumps, to.Sub(Start)) })
	const n = 3
	woke := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		c.Join()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Leave()
			for range 2 {
				if c.Sleep(t.Context(), time.Duration(i+1)*time.Second) != nil {
					return
				}
				woke[i] = append(woke[i], c.Now().Sub(Start))
			}
		}()
	}
	wg.Wait()
	// Goroutine i sleeps (i+1) s twice: it wakes at (i+1) s and 2(i+1) s.
	for i := range n {
		d := time.Duration(i+1) * time.Second
		assert.Equal(t, []time.Duration{d, 2 * d}, woke[i], "goroutine %d", i)
	}
	assert.Equal(t, []time.Duration{1 * time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 6 * time.Second}, jumps)
}
