package ags

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is how one job of WaitAll ended: its result, or the error Wait
// would have returned.
type Outcome[T any] struct {
	Job    *Job[T]
	Result T
	Err    error
}

// DefaultWaitAllConcurrency is how many polls WaitAll runs at once unless
// WaitAllOptions.Concurrency says otherwise.
const DefaultWaitAllConcurrency = 32

// WaitAllOptions tune WaitAll. A nil *WaitAllOptions means all defaults.
type WaitAllOptions struct {
	// PollOptions are each job's schedule and rules, as for Job.Wait.
	PollOptions
	// Concurrency is how many polls run at once (default
	// DefaultWaitAllConcurrency).
	Concurrency int
}

// WaitAll waits on many jobs at once and returns their outcomes in the
// order of jobs. Each job is polled on the same schedule, with the same
// rules, as by Job.Wait, but the polls run on at most opts.Concurrency
// goroutines (default 32): a waiting job costs a small struct, not a
// goroutine, so tens of thousands of jobs can be waited on in little memory.
// OnStatus may be called from several goroutines at once. When ctx ends,
// every job not yet ended gets the error Wait would give (after a cancel
// request, with CancelOnContextDone). No goroutine outlives the call.
// The schedule runs on the clock of the first job's Client.
func WaitAll[T any](ctx context.Context, jobs []*Job[T], opts *WaitAllOptions) []Outcome[T] {
	out := make([]Outcome[T], len(jobs))
	var o WaitAllOptions
	if opts != nil {
		o = *opts
	}
	p := o.PollOptions.withDefaults()
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultWaitAllConcurrency
	}
	var queue dueQueue
	var clk *Client // whose clock the schedule runs on
	waiters := make([]*waiter[T], len(jobs))
	for i, j := range jobs {
		out[i].Job = j
		if j == nil {
			out[i].Err = invalid("jobs", "nil job at index %d", i)
			continue
		}
		if clk == nil {
			clk = j.client
		}
		waiters[i] = j.newWaiter(&p)
		queue = append(queue, due{at: clk.now().Add(waiters[i].delay()), i: i})
	}
	heap.Init(&queue)
	remaining := int64(len(queue))
	if remaining == 0 {
		return out
	}
	var (
		mu    sync.Mutex // guards queue and nap
		nap   context.CancelFunc
		left  atomic.Int64
		wake  = make(chan struct{}, 1)
		ready = make(chan int)
		wg    sync.WaitGroup
	)
	left.Store(remaining)
	// signal tells the dispatcher a poll has ended: it looks at the queue
	// again, cutting short the wait it may be in.
	signal := func() {
		mu.Lock()
		if nap != nil {
			nap()
			nap = nil
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	workers := min(concurrency, len(queue))
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
					heap.Push(&queue, due{at: clk.now().Add(waiters[i].delay()), i: i})
					mu.Unlock()
				}
				signal()
			}
		}()
	}
	for left.Load() > 0 {
		mu.Lock()
		if queue.Len() == 0 { // every unfinished job is being polled
			mu.Unlock()
			<-wake
			continue
		}
		next := queue[0]
		if d := next.at.Sub(clk.now()); d > 0 && ctx.Err() == nil {
			// Wait on the client's clock until the next poll is due, a poll
			// ends (signal) or ctx ends.
			napCtx, cancel := context.WithCancel(ctx)
			nap = cancel
			mu.Unlock()
			_ = clk.sleep(napCtx, d)
			mu.Lock()
			nap = nil
			mu.Unlock()
			cancel()
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
