// Command jobbench runs N geoprocessing jobs, C at a time, through the SDK
// and prints one JSON line: jobs, ok, failed, wall time, CPU time and peak
// RSS of this process, per-job latency, and requests by kind.
//
//	go run ./examples/jobbench -jobs 200 -concurrency 50 -job-ms 500
//
// Without -url it starts an emulator (agstest) in a child process, so the
// CPU and memory figures are the client's alone. With -url it submits the
// Refresh Service task (or -task) for -service/-type on that site.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		serve()
		return
	}
	cli.Main(run)
}

// Report is the JSON line jobbench prints.
type Report struct {
	Client      string       `json:"client"`
	Version     string       `json:"version"`
	Jobs        int          `json:"jobs"`
	Concurrency int          `json:"concurrency"`
	JobMS       int          `json:"job_length_ms,omitempty"`
	OK          int          `json:"ok"`
	Failed      int          `json:"failed"`
	WallMS      int64        `json:"wall_ms"`
	IdealMS     int64        `json:"ideal_ms,omitempty"`
	CPUMS       int64        `json:"cpu_ms"`
	PeakRSSMB   float64      `json:"peak_rss_mb"`
	Latency     Percentiles  `json:"job_ms"`
	Requests    RequestCount `json:"requests"`
	PerJob      float64      `json:"requests_per_job"`
	MaxConns    int64        `json:"max_open_connections"`
	FirstError  string       `json:"first_error,omitempty"`
}

// Percentiles of per-job time from submit to seen done, in ms.
type Percentiles struct {
	P50 int64 `json:"p50"`
	P95 int64 `json:"p95"`
	Max int64 `json:"max"`
}

// RequestCount counts HTTP requests by kind.
type RequestCount struct {
	Submit  int64 `json:"submit"`
	Status  int64 `json:"status"`
	Results int64 `json:"results"`
	Token   int64 `json:"token"`
	Other   int64 `json:"other"`
	Total   int64 `json:"total"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jobbench", flag.ContinueOnError)
	var site cli.Site
	site.AddFlags(fs)
	jobs := fs.Int("jobs", 200, "number of jobs")
	conc := fs.Int("concurrency", 50, "jobs in flight at once")
	task := fs.String("task", ags.RefreshServiceTask, "task path under rest/services")
	service := fs.String("service", "Bench", "service to refresh (with the Refresh Service task)")
	stype := fs.String("type", "ImageServer", "service type to refresh")
	jobMS := fs.Int("job-ms", 500, "job length on the embedded emulator, in ms")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	inProcess := fs.Bool("inprocess", false, "run the embedded emulator in this process (its CPU then counts too)")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file once all jobs of the first batch are submitted (-waitall)")
	waitAll := fs.Bool("waitall", false, "submit jobs in batches of -concurrency and wait on each batch with ags.WaitAll (no goroutine per job)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *jobs < 1 || *conc < 1 {
		return errors.New("-jobs and -concurrency must be at least 1")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	siteURL, stopServer, err := startSite(ctx, site.URL, *inProcess, *jobMS, *service, *stype)
	if err != nil {
		return err
	}
	defer stopServer()

	counter := newCountingTransport()
	hc := &http.Client{Transport: counter}
	opts := []ags.Option{ags.WithHTTPClient(hc)}
	if site.URL == "" {
		opts = append(opts, ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword), ags.WithInsecureHTTP())
	} else if site.User != "" {
		opts = append(opts, ags.WithCredentials(site.User, os.Getenv("AGS_PASSWORD")))
	}
	c, err := ags.NewClient(siteURL, opts...)
	if err != nil {
		return err
	}

	params := map[string]any{"serviceName": *service, "serviceType": *stype}
	cpu0 := cpuTime()
	start := time.Now()
	var b bench
	b.lat = make([]time.Duration, *jobs)
	if *waitAll {
		b.memProfile = *memProfile
		b.runWaitAll(ctx, c, *task, params, *jobs, *conc)
	} else {
		b.runGoroutines(ctx, c, *task, params, *jobs, *conc)
	}
	ok, failed, lat := &b.ok, &b.failed, b.lat
	firstErr := &b.firstErr
	wall := time.Since(start)
	cpu := cpuTime() - cpu0

	rep := Report{Client: "ags", Version: ags.Version, Jobs: *jobs, Concurrency: *conc,
		OK: int(ok.Load()), Failed: int(failed.Load()), WallMS: wall.Milliseconds(),
		CPUMS: cpu.Milliseconds(), PeakRSSMB: peakRSSMB(), Latency: percentiles(lat),
		Requests: counter.counts(), MaxConns: counter.maxOpen.Load()}
	if site.URL == "" {
		rep.JobMS = *jobMS
		waves := (*jobs + *conc - 1) / *conc
		rep.IdealMS = int64(waves * *jobMS)
	}
	rep.PerJob = float64(rep.Requests.Total) / float64(*jobs)
	if v, ok := firstErr.Load().(string); ok {
		rep.FirstError = v
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// bench runs the jobs and keeps the tallies.
type bench struct {
	lat        []time.Duration
	ok, failed atomic.Int64
	firstErr   atomic.Value
	memProfile string // write a heap profile here after the first batch's submits
}

func (b *bench) record(i int, d time.Duration, err error) {
	b.lat[i] = d
	if err != nil {
		b.failed.Add(1)
		b.firstErr.CompareAndSwap(nil, err.Error())
		return
	}
	b.ok.Add(1)
}

// runGoroutines keeps conc jobs in flight, one goroutine each submitting
// and waiting (Job.Wait).
func (b *bench) runGoroutines(ctx context.Context, c *ags.Client, task string, params map[string]any, jobs, conc int) {
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := 0; i < jobs && ctx.Err() == nil; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			_, err := c.GP.SubmitAndWait(ctx, task, params, nil)
			b.record(i, time.Since(t0), err)
		}(i)
	}
	wg.Wait()
}

// runWaitAll submits conc jobs at a time (from a few goroutines) and waits
// on each batch together with ags.WaitAll.
func (b *bench) runWaitAll(ctx context.Context, c *ags.Client, task string, params map[string]any, jobs, conc int) {
	const submitters = 32
	for first := 0; first < jobs && ctx.Err() == nil; first += conc {
		n := min(conc, jobs-first)
		batch := make([]*ags.Job[*ags.GPResult], n)
		submitted := make([]time.Time, n)
		next := atomic.Int64{}
		var wg sync.WaitGroup
		for range min(submitters, n) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := int(next.Add(1)) - 1; k < n; k = int(next.Add(1)) - 1 {
					submitted[k] = time.Now()
					j, err := c.GP.SubmitJob(ctx, task, params)
					if err != nil {
						b.record(first+k, time.Since(submitted[k]), err)
						continue
					}
					batch[k] = j
				}
			}()
		}
		wg.Wait()
		var live []*ags.Job[*ags.GPResult]
		index := map[string]int{}
		for k, j := range batch {
			if j != nil {
				live = append(live, j)
				index[j.ID()] = k
			}
		}
		if b.memProfile != "" && first == 0 {
			writeHeapProfile(b.memProfile)
		}
		var mu sync.Mutex
		doneAt := make(map[string]time.Time, len(live))
		out := ags.WaitAll(ctx, live, &ags.WaitAllOptions{PollOptions: ags.PollOptions{OnStatus: func(st ags.JobStatus) {
			if st.State.Terminal() {
				mu.Lock()
				doneAt[st.JobID] = time.Now()
				mu.Unlock()
			}
		}}})
		for _, o := range out {
			k := index[o.Job.ID()]
			end, seen := doneAt[o.Job.ID()]
			if !seen {
				end = time.Now()
			}
			b.record(first+k, end.Sub(submitted[k]), o.Err)
		}
	}
}

// startSite returns the site URL: the given one, or a child process
// serving the emulator.
func startSite(ctx context.Context, url string, inProcess bool, jobMS int, service, stype string) (string, func(), error) {
	if url != "" {
		return url, func() {}, nil
	}
	if inProcess {
		srv := agstest.NewServer(agstest.WithJobDuration(time.Duration(jobMS) * time.Millisecond))
		srv.AddService("", service, stype, nil)
		return srv.URL(), srv.Close, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-serve", fmt.Sprint(jobMS), service, stype)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", nil, fmt.Errorf("starting the emulator: %w", err)
	}
	stop := func() {
		_ = stdin.Close() // the child exits when its stdin closes
		_ = cmd.Wait()
	}
	return strings.TrimSpace(line), stop, nil
}

// serve runs the emulator until stdin closes: jobbench -serve JOBMS SERVICE TYPE.
func serve() {
	jobMS := 500
	service, stype := "Bench", "ImageServer"
	if len(os.Args) > 2 {
		fmt.Sscan(os.Args[2], &jobMS)
	}
	if len(os.Args) > 4 {
		service, stype = os.Args[3], os.Args[4]
	}
	srv := agstest.NewServer(agstest.WithJobDuration(time.Duration(jobMS) * time.Millisecond))
	srv.AddService("", service, stype, nil)
	fmt.Println(srv.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
}

// countingTransport counts requests by kind, and the connections open at
// once (by wrapping the dialer).
type countingTransport struct {
	base                                         *http.Transport
	submit, status, results, token, other, total atomic.Int64
	open, maxOpen                                atomic.Int64
}

// newCountingTransport wraps the SDK's own default transport, so the
// figures are those of a Client made without WithHTTPClient.
func newCountingTransport() *countingTransport {
	t := &countingTransport{base: ags.DefaultTransport()}
	dial := (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		n := t.open.Add(1)
		for m := t.maxOpen.Load(); n > m && !t.maxOpen.CompareAndSwap(m, n); m = t.maxOpen.Load() {
		}
		return &countedConn{Conn: conn, open: &t.open}, nil
	}
	return t
}

type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	switch {
	case strings.HasSuffix(p, "/submitJob"):
		t.submit.Add(1)
	case strings.Contains(p, "/results/"):
		t.results.Add(1)
	case strings.Contains(p, "/jobs/"):
		t.status.Add(1)
	case strings.HasSuffix(p, "generateToken"):
		t.token.Add(1)
	default:
		t.other.Add(1)
	}
	t.total.Add(1)
	return t.base.RoundTrip(req)
}

func (t *countingTransport) counts() RequestCount {
	return RequestCount{Submit: t.submit.Load(), Status: t.status.Load(), Results: t.results.Load(),
		Token: t.token.Load(), Other: t.other.Load(), Total: t.total.Load()}
}

func percentiles(d []time.Duration) Percentiles {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return Percentiles{}
	}
	at := func(q float64) int64 { return s[int(q*float64(len(s)-1))].Milliseconds() }
	return Percentiles{P50: at(0.50), P95: at(0.95), Max: s[len(s)-1].Milliseconds()}
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memprofile:", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "memprofile:", err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}
