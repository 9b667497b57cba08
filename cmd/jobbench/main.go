// Command jobbench measures how the SDK waits on jobs: N geoprocessing
// jobs, C at a time, waited on by ags (Job.Wait, or WaitAll with -waitall)
// and then, in the same run on the same workload, by a client that polls
// every 2 s (ArcGIS REST JS's interval). It prints one JSON line: for each
// client the status requests per job, the delay from each job's end to the
// poll that saw it done (mean, p95, max), per-job latency, wall time, CPU
// time and peak RSS of this process, and the ratios of the two.
//
//	go run ./cmd/jobbench -jobs 200 -concurrency 50 -job-ms 500
//	go run ./cmd/jobbench -jobs 200 -concurrency 200 -mix 500ms,2m -seed 1
//
// Without -url it starts an emulator (agstest) in a child process, so the
// CPU and memory figures are the client's alone; a fresh one for each
// client, with the same seeded job lengths, and the emulator says when each
// job ended. With -url it submits the Refresh Service task (or -task) for
// -service/-type on that site, and the detect delay is not measured.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		if err := serve(os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Report is the JSON line jobbench prints.
type Report struct {
	Version  string    `json:"version"`
	Workload Workload  `json:"workload"`
	Ags      Run       `json:"ags"`
	Fixed    *Run      `json:"fixed_2s,omitempty"`
	Ratio    *Ratios   `json:"ags_vs_fixed,omitempty"`
	Lengths  *Spread   `json:"job_length_ms,omitempty"`
	Started  time.Time `json:"started"`
}

// Workload is what was run.
type Workload struct {
	Jobs        int    `json:"jobs"`
	Concurrency int    `json:"concurrency"`
	JobMS       int    `json:"job_ms,omitempty"`
	Mix         string `json:"mix,omitempty"` // lo,hi: log-uniform lengths
	Seed        uint64 `json:"seed,omitempty"`
	WaitAll     bool   `json:"waitall,omitempty"`
}

// Run is one client's figures.
type Run struct {
	Client        string       `json:"client"`
	OK            int          `json:"ok"`
	Failed        int          `json:"failed"`
	WallMS        int64        `json:"wall_ms"`
	IdealMS       int64        `json:"ideal_ms,omitempty"`
	CPUMS         int64        `json:"cpu_ms"`
	PeakRSSMB     float64      `json:"peak_rss_mb,omitempty"` // ags only: the baseline runs later in the same process, whose peak includes ags's
	StatusPerJob  float64      `json:"status_requests_per_job"`
	PerJob        float64      `json:"requests_per_job"`
	DetectDelayMS *Spread      `json:"detect_delay_ms,omitempty"`
	Latency       Spread       `json:"job_ms"`
	Requests      RequestCount `json:"requests"`
	MaxConns      int64        `json:"max_open_connections"`
	FirstError    string       `json:"first_error,omitempty"`
}

// Ratios compare ags with the fixed poller.
type Ratios struct {
	StatusRequests  float64 `json:"status_requests"`
	DelayMean       float64 `json:"detect_delay_mean,omitempty"`
	DelayP95        float64 `json:"detect_delay_p95,omitempty"`
	LatencyP95Ratio float64 `json:"job_ms_p95"`
}

// Spread of durations, in ms.
type Spread struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
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

// config is the parsed command line.
type config struct {
	url, user, task, service, stype string
	jobs, conc, jobMS               int
	mixLo, mixHi                    time.Duration
	seed                            uint64
	inProcess, waitAll, baseline    bool
	memProfile                      string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jobbench", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.url, "url", os.Getenv("AGS_URL"), "site URL (default $AGS_URL; empty: an emulator in a child process)")
	fs.StringVar(&cfg.user, "user", os.Getenv("AGS_USERNAME"), "username (default $AGS_USERNAME); the password is read from $AGS_PASSWORD")
	fs.IntVar(&cfg.jobs, "jobs", 200, "number of jobs")
	fs.IntVar(&cfg.conc, "concurrency", 50, "jobs in flight at once")
	fs.StringVar(&cfg.task, "task", ags.RefreshServiceTask, "task path under rest/services")
	fs.StringVar(&cfg.service, "service", "Bench", "service to refresh (with the Refresh Service task)")
	fs.StringVar(&cfg.stype, "type", "ImageServer", "service type to refresh")
	fs.IntVar(&cfg.jobMS, "job-ms", 500, "job length on the emulator, in ms")
	mix := fs.String("mix", "", "job lengths on the emulator drawn log-uniformly between two durations, e.g. 500ms,2m (instead of -job-ms)")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the -mix lengths")
	fs.BoolVar(&cfg.baseline, "baseline", true, "also run the fixed 2 s poller on the same workload, after ags")
	timeout := fs.Duration("timeout", 2*time.Hour, "give up after this long")
	fs.BoolVar(&cfg.inProcess, "inprocess", false, "run the emulator in this process (its CPU then counts too)")
	fs.StringVar(&cfg.memProfile, "memprofile", "", "write a heap profile to this file once all jobs of the first batch are submitted (-waitall)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the ags run (not the baseline) to this file")
	fs.BoolVar(&cfg.waitAll, "waitall", false, "submit jobs in batches of -concurrency and wait on each batch with ags.WaitAll (no goroutine per job)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.jobs < 1 || cfg.conc < 1 {
		return errors.New("-jobs and -concurrency must be at least 1")
	}
	if *mix != "" {
		lo, hi, err := parseMix(*mix)
		if err != nil {
			return err
		}
		cfg.mixLo, cfg.mixHi = lo, hi
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	rep := Report{Version: ags.Version, Started: time.Now().UTC().Truncate(time.Second),
		Workload: Workload{Jobs: cfg.jobs, Concurrency: cfg.conc, WaitAll: cfg.waitAll}}
	if cfg.url == "" {
		if *mix != "" {
			rep.Workload.Mix, rep.Workload.Seed = *mix, cfg.seed
		} else {
			rep.Workload.JobMS = cfg.jobMS
		}
	}
	var lengths []time.Duration
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	r, err := cfg.measure(ctx, false, &lengths)
	stopProfile()
	if err != nil {
		return err
	}
	rep.Ags = r
	if len(lengths) > 0 {
		s := spread(lengths)
		rep.Lengths = &s
	}
	if cfg.baseline {
		f, err := cfg.measure(ctx, true, nil)
		if err != nil {
			return err
		}
		rep.Fixed = &f
		rep.Ratio = &Ratios{StatusRequests: round3(r.StatusPerJob / f.StatusPerJob),
			LatencyP95Ratio: round3(r.Latency.P95 / f.Latency.P95)}
		if r.DetectDelayMS != nil && f.DetectDelayMS != nil {
			rep.Ratio.DelayMean = round3(r.DetectDelayMS.Mean / f.DetectDelayMS.Mean)
			rep.Ratio.DelayP95 = round3(r.DetectDelayMS.P95 / f.DetectDelayMS.P95)
		}
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// parseMix reads "lo,hi".
func parseMix(s string) (lo, hi time.Duration, err error) {
	a, b, ok := strings.Cut(s, ",")
	if ok {
		lo, err = time.ParseDuration(strings.TrimSpace(a))
		if err == nil {
			hi, err = time.ParseDuration(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || lo <= 0 || hi < lo {
		return 0, 0, fmt.Errorf("-mix %q: want two durations lo,hi with 0 < lo <= hi, e.g. 500ms,2m", s)
	}
	return lo, hi, nil
}

// measure runs the workload once with one client: ags, or the fixed 2 s
// poller. lengths, if not nil, receives the emulator's job lengths.
func (cfg *config) measure(ctx context.Context, fixed bool, lengths *[]time.Duration) (Run, error) {
	site, err := cfg.startSite(ctx)
	if err != nil {
		return Run{}, err
	}
	defer site.stop()

	counter := newCountingTransport()
	opts := []ags.Option{ags.WithHTTPClient(&http.Client{Transport: counter})}
	if cfg.url == "" {
		opts = append(opts, ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword), ags.WithInsecureHTTP())
	} else if cfg.user != "" {
		opts = append(opts, ags.WithCredentials(cfg.user, os.Getenv("AGS_PASSWORD")))
	}
	c, err := ags.NewClient(site.url, opts...)
	if err != nil {
		return Run{}, err
	}

	b := &bench{c: c, task: cfg.task, params: map[string]any{"serviceName": cfg.service, "serviceType": cfg.stype},
		lat: make([]time.Duration, cfg.jobs), ids: make([]string, cfg.jobs), seen: make([]int64, cfg.jobs)}
	cpu0 := cpuTime()
	start := time.Now()
	switch {
	case fixed:
		b.runFixed(ctx, cfg.jobs, cfg.conc)
	case cfg.waitAll:
		b.memProfile = cfg.memProfile
		b.runWaitAll(ctx, cfg.jobs, cfg.conc)
	default:
		b.runGoroutines(ctx, cfg.jobs, cfg.conc)
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0

	name := "ags"
	if fixed {
		name = "fixed 2 s poller"
	}
	r := Run{Client: name, OK: int(b.ok.Load()), Failed: int(b.failed.Load()), WallMS: wall.Milliseconds(),
		CPUMS: cpu.Milliseconds(), Latency: spread(b.lat),
		Requests: counter.counts(), MaxConns: counter.maxOpen.Load()}
	if !fixed {
		// The process's peak so far; the fixed poller runs after ags, so
		// its peak could not be told apart and is not reported.
		r.PeakRSSMB = round3(peakRSSMB())
	}
	if cfg.url == "" && cfg.mixLo == 0 {
		waves := (cfg.jobs + cfg.conc - 1) / cfg.conc
		r.IdealMS = int64(waves * cfg.jobMS)
	}
	r.PerJob = round3(float64(r.Requests.Total) / float64(cfg.jobs))
	r.StatusPerJob = round3(float64(r.Requests.Status) / float64(cfg.jobs))
	if v, ok := b.firstErr.Load().(string); ok {
		r.FirstError = v
	}
	if site.jobEnds != nil {
		ends, err := site.jobEnds(b.ids)
		if err != nil {
			return Run{}, err
		}
		var delays, lens []time.Duration
		for i, id := range b.ids {
			end, ok := ends[id]
			if !ok || b.seen[i] == 0 {
				continue
			}
			delays = append(delays, time.Unix(0, b.seen[i]).Sub(end))
			lens = append(lens, end.Sub(b.submitted(i)))
		}
		if len(delays) > 0 {
			s := spread(delays)
			r.DetectDelayMS = &s
		}
		if lengths != nil && cfg.mixLo > 0 {
			*lengths = lens
		}
	}
	return r, nil
}

// bench runs the jobs and keeps the tallies.
type bench struct {
	c          *ags.Client
	task       string
	params     map[string]any
	memProfile string // write a heap profile here after the first batch's submits

	lat        []time.Duration // submit to seen done
	ids        []string
	seen       []int64 // when a poll saw the job done (Unix ns: small, for 10,000s of jobs)
	ok, failed atomic.Int64
	firstErr   atomic.Value
}

func (b *bench) submitted(i int) time.Time { return time.Unix(0, b.seen[i]).Add(-b.lat[i]) }

func (b *bench) record(i int, id string, t0, seen time.Time, err error) {
	if seen.IsZero() {
		seen = time.Now()
	}
	b.ids[i], b.seen[i], b.lat[i] = id, seen.UnixNano(), seen.Sub(t0)
	if err != nil {
		b.failed.Add(1)
		b.firstErr.CompareAndSwap(nil, err.Error())
		return
	}
	b.ok.Add(1)
}

// seenDone returns PollOptions that note when a poll saw a job done.
func seenDone(mu *sync.Mutex, at map[string]time.Time) *ags.PollOptions {
	return &ags.PollOptions{OnStatus: func(st ags.JobStatus) {
		if st.State.Terminal() {
			now := time.Now()
			mu.Lock()
			at[st.JobID] = now
			mu.Unlock()
		}
	}}
}

// inFlight runs job(i) for every job, conc at a time.
func inFlight(ctx context.Context, jobs, conc int, job func(i int)) {
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
			job(i)
		}(i)
	}
	wg.Wait()
}

// runGoroutines keeps conc jobs in flight, one goroutine each submitting
// and waiting (Job.Wait).
func (b *bench) runGoroutines(ctx context.Context, jobs, conc int) {
	var mu sync.Mutex
	doneAt := make(map[string]time.Time, jobs)
	opts := seenDone(&mu, doneAt)
	inFlight(ctx, jobs, conc, func(i int) {
		t0 := time.Now()
		j, err := b.c.GP.SubmitJob(ctx, b.task, b.params)
		if err != nil {
			b.record(i, "", t0, time.Time{}, err)
			return
		}
		_, err = j.Wait(ctx, opts)
		mu.Lock()
		seen := doneAt[j.ID()]
		mu.Unlock()
		b.record(i, j.ID(), t0, seen, err)
	})
}

// runFixed is the baseline: a goroutine per job that reads the job's
// status every 2 s until it has ended, as ArcGIS REST JS does. It only
// reads statuses (it fetches no results): compare status requests.
func (b *bench) runFixed(ctx context.Context, jobs, conc int) {
	inFlight(ctx, jobs, conc, func(i int) {
		t0 := time.Now()
		j, err := b.c.GP.SubmitJob(ctx, b.task, b.params)
		if err != nil {
			b.record(i, "", t0, time.Time{}, err)
			return
		}
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				b.record(i, j.ID(), t0, time.Time{}, ctx.Err())
				return
			case <-tick.C:
			}
			st, err := j.Status(ctx)
			if err != nil {
				b.record(i, j.ID(), t0, time.Time{}, err)
				return
			}
			if st.State.Terminal() {
				if st.State != ags.JobSucceeded {
					err = fmt.Errorf("job %s ended %s", j.ID(), st.State)
				}
				b.record(i, j.ID(), t0, time.Now(), err)
				return
			}
		}
	})
}

// runWaitAll submits conc jobs at a time (from a few goroutines) and waits
// on each batch together with ags.WaitAll.
func (b *bench) runWaitAll(ctx context.Context, jobs, conc int) {
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
					j, err := b.c.GP.SubmitJob(ctx, b.task, b.params)
					if err != nil {
						b.record(first+k, "", submitted[k], time.Time{}, err)
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
		out := ags.WaitAll(ctx, live, &ags.WaitAllOptions{PollOptions: *seenDone(&mu, doneAt)})
		for _, o := range out {
			k := index[o.Job.ID()]
			b.record(first+k, o.Job.ID(), submitted[k], doneAt[o.Job.ID()], o.Err)
		}
	}
}

// site is where one measurement runs.
type site struct {
	url     string
	stop    func()
	jobEnds func(ids []string) (map[string]time.Time, error) // nil with -url
}

// startSite returns the given site, or a fresh emulator.
func (cfg *config) startSite(ctx context.Context) (*site, error) {
	if cfg.url != "" {
		return &site{url: cfg.url, stop: func() {}}, nil
	}
	emu := emulatorArgs{jobMS: cfg.jobMS, mixLo: cfg.mixLo, mixHi: cfg.mixHi, seed: cfg.seed, service: cfg.service, stype: cfg.stype}
	if cfg.inProcess {
		srv := emu.start()
		return &site{url: srv.URL(), stop: srv.Close, jobEnds: func(ids []string) (map[string]time.Time, error) {
			ends := make(map[string]time.Time, len(ids))
			for _, id := range ids {
				if end, ok := srv.JobEnd(id); ok {
					ends[id] = end
				}
			}
			return ends, nil
		}}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"-serve"}, emu.args()...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("starting the emulator: %v", lines.Err())
	}
	s := &site{url: strings.TrimSpace(lines.Text())}
	s.stop = func() {
		_ = stdin.Close() // the child exits when its stdin closes
		_ = cmd.Wait()
	}
	s.jobEnds = func(ids []string) (map[string]time.Time, error) {
		// One ID, one answer: the pipes never hold more than a line, so
		// neither side blocks on a full one.
		ends := make(map[string]time.Time, len(ids))
		for _, id := range ids {
			if _, err := io.WriteString(stdin, id+"\n"); err != nil {
				return nil, err
			}
			if !lines.Scan() {
				return nil, fmt.Errorf("emulator: job end of %s: %v", id, lines.Err())
			}
			if ns, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil && ns > 0 {
				ends[id] = time.Unix(0, ns)
			}
		}
		return ends, nil
	}
	return s, nil
}

// emulatorArgs configure the emulator, in this process or a child.
type emulatorArgs struct {
	jobMS          int
	mixLo, mixHi   time.Duration
	seed           uint64
	service, stype string
}

func (e emulatorArgs) args() []string {
	return []string{strconv.Itoa(e.jobMS), e.mixLo.String(), e.mixHi.String(), strconv.FormatUint(e.seed, 10), e.service, e.stype}
}

func parseEmulatorArgs(a []string) (emulatorArgs, error) {
	var e emulatorArgs
	if len(a) != 6 {
		return e, fmt.Errorf("-serve: want 6 arguments, got %d", len(a))
	}
	var err error
	if e.jobMS, err = strconv.Atoi(a[0]); err != nil {
		return e, err
	}
	if e.mixLo, err = time.ParseDuration(a[1]); err != nil {
		return e, err
	}
	if e.mixHi, err = time.ParseDuration(a[2]); err != nil {
		return e, err
	}
	if e.seed, err = strconv.ParseUint(a[3], 10, 64); err != nil {
		return e, err
	}
	e.service, e.stype = a[4], a[5]
	return e, nil
}

// start starts the emulator. With a mix, the n-th job submitted takes the
// n-th length of a seeded log-uniform sequence, so every run of a seed
// has the same set of lengths.
func (e emulatorArgs) start() *agstest.Server {
	opts := []agstest.Option{agstest.WithJobDuration(time.Duration(e.jobMS) * time.Millisecond)}
	if e.mixLo > 0 {
		var mu sync.Mutex
		r := rand.New(rand.NewPCG(e.seed, 0x6a6f6262656e6368))
		span := math.Log(float64(e.mixHi) / float64(e.mixLo))
		opts = append(opts, agstest.WithJobDurations(func() time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return time.Duration(float64(e.mixLo) * math.Exp(r.Float64()*span))
		}))
	}
	srv := agstest.NewServer(opts...)
	srv.AddService("", e.service, e.stype, nil)
	return srv
}

// serve runs the emulator until stdin closes: it prints its URL, then
// answers each job ID read from stdin with the job's end (Unix ns; 0 for
// an unknown job).
func serve(args []string, in io.Reader, out io.Writer) error {
	e, err := parseEmulatorArgs(args)
	if err != nil {
		return err
	}
	srv := e.start()
	defer srv.Close()
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, srv.URL())
	if err := w.Flush(); err != nil {
		return err
	}
	ids := bufio.NewScanner(in)
	for ids.Scan() {
		var ns int64
		if end, ok := srv.JobEnd(strings.TrimSpace(ids.Text())); ok {
			ns = end.UnixNano()
		}
		fmt.Fprintln(w, ns)
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return ids.Err()
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

// spread summarises durations in ms (nearest-rank percentiles).
func spread(d []time.Duration) Spread {
	if len(d) == 0 {
		return Spread{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	ms := func(v time.Duration) float64 { return round3(float64(v) / float64(time.Millisecond)) }
	at := func(q float64) float64 { return ms(s[int(q*float64(len(s)-1))]) }
	return Spread{Mean: ms(sum / time.Duration(len(s))), P50: at(0.50), P95: at(0.95), Max: ms(s[len(s)-1])}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

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

// startCPUProfile profiles the process's CPU into path until the returned
// function is called; with an empty path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		}
	}, nil
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
