// Package fakeclock is the clock the tests drive, for the client and the
// emulator alike, so that "now", token expiry, job progress and the waits
// between polls all agree and no test waits on the wall clock.
//
// Time moves when a test calls Advance, or when every goroutine taking part
// is asleep on the clock: it then jumps to the earliest wake-up. A goroutine
// that sleeps without having joined is taken to be alone, so its sleep
// returns at once, the clock moved on by its length. Goroutines that
// Join sleep together: while any of them is busy (sending a request, say)
// time stands still, so a run of minutes of fake time takes milliseconds
// and comes out the same however busy the machine is.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Start is where a New clock starts.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a fake clock. It is safe for concurrent use.
type Clock struct {
	mu       sync.Mutex
	now      time.Time
	slept    []time.Duration
	active   int // goroutines that joined
	sleepers []*sleeper
	onSleep  func(n int)
	onJump   func(from, to time.Time)
}

type sleeper struct {
	wake time.Time
	done chan struct{}
}

// New returns a clock at Start.
func New() *Clock { return NewAt(Start) }

// NewAt returns a clock at t.
func NewAt(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d, waking the sleepers then due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	from := c.now
	c.now = c.now.Add(d)
	due := c.dueLocked()
	jump := c.onJump
	c.mu.Unlock()
	c.release(jump, from, due)
}

// Sleep waits d of the clock's time, or until ctx is done. The sleep is
// recorded (Sleeps), and after it the OnSleep callback runs; Sleep then
// returns ctx.Err(), so a callback may end the caller's context.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := &sleeper{done: make(chan struct{})}
	c.mu.Lock()
	s.wake = c.now.Add(d)
	c.slept = append(c.slept, d)
	n, cb := len(c.slept), c.onSleep
	c.sleepers = append(c.sleepers, s)
	c.mu.Unlock()
	c.step()
	select {
	case <-s.done:
	case <-ctx.Done():
		c.mu.Lock()
		for i, o := range c.sleepers {
			if o == s {
				c.sleepers = append(c.sleepers[:i], c.sleepers[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		c.step() // one sleeper less may not hold the others back
		return ctx.Err()
	}
	if cb != nil {
		cb(n)
	}
	return ctx.Err()
}

// Sleeps returns the length of every sleep so far, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// OnSleep sets a callback run after each sleep with the number of sleeps
// so far (nil for none).
func (c *Clock) OnSleep(f func(n int)) {
	c.mu.Lock()
	c.onSleep = f
	c.mu.Unlock()
}

// OnJump sets a callback run each time the clock moves, before any sleeper
// it wakes runs (nil for none).
func (c *Clock) OnJump(f func(from, to time.Time)) {
	c.mu.Lock()
	c.onJump = f
	c.mu.Unlock()
}

// Join counts the calling goroutine among those the clock waits for: time
// moves only when every one of them sleeps. Call Leave when it is done.
func (c *Clock) Join() {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
}

// Leave undoes Join.
func (c *Clock) Leave() {
	c.mu.Lock()
	c.active--
	c.mu.Unlock()
	c.step()
}

// step jumps to the earliest wake-up and wakes whoever is due, once every
// goroutine taking part sleeps (a sleeper that never joined counts as one
// taking part).
func (c *Clock) step() {
	c.mu.Lock()
	if len(c.sleepers) == 0 || len(c.sleepers) < c.active {
		c.mu.Unlock()
		return
	}
	from, to := c.now, c.sleepers[0].wake
	for _, s := range c.sleepers {
		if s.wake.Before(to) {
			to = s.wake
		}
	}
	if to.After(from) {
		c.now = to
	}
	due := c.dueLocked()
	jump := c.onJump
	c.mu.Unlock()
	c.release(jump, from, due)
}

// dueLocked removes and returns the sleepers due by now.
func (c *Clock) dueLocked() []*sleeper {
	var due []*sleeper
	rest := c.sleepers[:0]
	for _, s := range c.sleepers {
		if s.wake.After(c.now) {
			rest = append(rest, s)
		} else {
			due = append(due, s)
		}
	}
	c.sleepers = rest
	return due
}

// release reports a move of the clock and wakes the due sleepers.
func (c *Clock) release(jump func(from, to time.Time), from time.Time, due []*sleeper) {
	if to := c.Now(); jump != nil && to.After(from) {
		jump(from, to)
	}
	for _, s := range due {
		close(s.done)
	}
}
