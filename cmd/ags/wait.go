package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/seed9bfd6bbc/ags"
)

// Job kinds of a job reference.
const (
	kindGP    = "gp"    // a geoprocessing job (Refresh Service, Manage Map Cache Tiles, any task)
	kindTiles = "tiles" // a hosted tile layer's updateTiles job
	// kindPublish (publish.go): a Publish Service Definition job
)

// jobRef is what ags prints for a job so that a later step can re-attach
// to it: "KIND:PATH:ID", e.g.
//
//	gp:System/PublishingTools/GPServer/Refresh%20Service:j1a2b3
//	tiles:Hosted/Basemap.MapServer:8f3e...
//	publish:System/PublishingTools/GPServer/Publish%20Service%20Definition:j4c5d6
//
// PATH is the task path (gp, publish) or the tile layer (tiles), with each
// segment path-escaped so the reference holds no space.
type jobRef struct {
	Kind string
	Path string // unescaped
	ID   string
}

func (r jobRef) String() string {
	segs := strings.Split(r.Path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return r.Kind + ":" + strings.Join(segs, "/") + ":" + r.ID
}

// parseJobRef reads what jobRef.String wrote.
func parseJobRef(s string) (jobRef, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i < 0 || (kind != kindGP && kind != kindTiles && kind != kindPublish) {
		return jobRef{}, usageErr("job reference %q: want KIND:PATH:ID as ags printed it, e.g. gp:System/PublishingTools/GPServer/Refresh%%20Service:j1a2b3", s)
	}
	path, err := url.PathUnescape(rest[:i])
	if err != nil || path == "" || rest[i+1:] == "" {
		return jobRef{}, usageErr("job reference %q: want KIND:PATH:ID as ags printed it", s)
	}
	return jobRef{Kind: kind, Path: path, ID: rest[i+1:]}, nil
}

// waitFlags are the flags of commands that submit jobs.
type waitFlags struct {
	wait              bool
	noWait            bool
	timeout           time.Duration
	cancelOnInterrupt bool
	// missing, if set, adds to the error of a job that was not found
	// (exit code 4), e.g. a hint.
	missing func(error) error
}

func (w *waitFlags) add(cmd *cobra.Command, waitByDefault bool) {
	f := cmd.Flags()
	f.BoolVar(&w.wait, "wait", waitByDefault, "wait for the job to end")
	f.BoolVar(&w.noWait, "no-wait", false, "print the job reference and return at once (re-attach with 'ags job wait')")
	f.DurationVar(&w.timeout, "timeout", 0, "stop waiting after this long, e.g. 30m (exit code 5; the job goes on)")
	f.BoolVar(&w.cancelOnInterrupt, "cancel-on-interrupt", false, "when the wait is interrupted (Ctrl-C, SIGTERM) or times out, also cancel the server job")
}

func (w *waitFlags) waiting() bool { return w.wait && !w.noWait }

func (w *waitFlags) check(cmd *cobra.Command) error {
	if f := cmd.Flags().Lookup("wait"); f != nil && f.Changed && w.wait && w.noWait {
		return usageErr("--wait and --no-wait: choose one")
	}
	if w.timeout < 0 {
		return usageErr("--timeout %s: want a positive duration", w.timeout)
	}
	return nil
}

// jobRecord is one job in the output: what -o json lists under "jobs" and
// the ndjson submitted/status/done events carry.
type jobRecord struct {
	Job      string   `json:"job"`              // the job reference, for 'ags job wait'
	Kind     string   `json:"kind"`             // gp, tiles or publish
	ID       string   `json:"id"`               // the server's job ID
	Target   string   `json:"target,omitempty"` // the service (Folder/Name.Type) or task
	State    string   `json:"state"`            // submitted, queued, running, succeeded, partial, failed, cancelled, timed-out, unknown
	Status   string   `json:"status,omitempty"` // the server's own word, e.g. esriJobSucceeded, PARTIALERROR
	Percent  *float64 `json:"percent,omitempty"`
	Message  string   `json:"message,omitempty"`  // progress message
	Messages []string `json:"messages,omitempty"` // the server's messages (status: the new ones; done: all, for a job that did not succeed)
	Result   any      `json:"result,omitempty"`   // done: what the job produced
	Error    string   `json:"error,omitempty"`
	ExitCode *int     `json:"exit_code,omitempty"` // done: this job's exit code
}

// jobsDoc is the -o json document of the job commands.
type jobsDoc struct {
	Jobs []jobRecord `json:"jobs"`
}

// stateName is the SDK's name of a job state as one word ("timed-out"), so
// that table columns split on spaces.
func stateName(s ags.JobState) string { return strings.ReplaceAll(s.String(), " ", "-") }

// statePartial is the state of a tile job that ended PARTIALERROR: some of
// its tasks failed, the others ran (exit code 6).
const statePartial = "partial"

// jobState is the state ags shows for a job: stateName of the SDK's state,
// or statePartial when the server's status is PARTIALERROR.
func jobState(s ags.JobState, status string) string {
	if strings.EqualFold(status, "PARTIALERROR") {
		return statePartial
	}
	return stateName(s)
}

// fullPercent is the progress of a job that succeeded, whatever its last
// status said.
func fullPercent() *float64 {
	p := 100.0
	return &p
}

func messageTexts(ms []ags.JobMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Description)
	}
	return out
}

// submitted reports jobs just submitted: their references on stdout (one
// per line in table mode, so JOB=$(ags ... --no-wait) works), a
// "submitted" event each, and with --no-wait the json document.
func submitted(s *site, recs []jobRecord, final bool) {
	for i := range recs {
		recs[i].State = "submitted"
		s.p.event("submitted", recs[i])
		if final {
			s.p.data("%s", recs[i].Job)
		} else {
			s.p.note("%s: submitted job %s", recs[i].Target, recs[i].Job)
		}
	}
	if final && len(recs) > 0 {
		s.p.doc(jobsDoc{Jobs: recs})
	}
}

// waitJobs waits for jobs (all of one result type) with the SDK's WaitAll,
// showing progress, and reports how each ended. result turns a job's result
// into what the output shows. It returns each job's exit code.
func waitJobs[T any](ctx context.Context, s *site, w *waitFlags, jobs []*ags.Job[T], recs []jobRecord, result func(context.Context, T) any) []int {
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	byID := map[string]int{}
	for i, j := range jobs {
		byID[j.ID()] = i
	}
	prog := newProgress(s.p, recs)
	opts := &ags.WaitAllOptions{PollOptions: ags.PollOptions{
		CancelOnContextDone: w.cancelOnInterrupt,
		OnStatus: func(st ags.JobStatus) {
			i, ok := byID[st.JobID]
			if !ok {
				return
			}
			prog.update(i, st)
		},
	}}
	outcomes := ags.WaitAll(ctx, jobs, opts)
	ok := make([]bool, len(outcomes))
	for i, o := range outcomes {
		ok[i] = o.Err == nil
	}
	prog.finish(ok)

	codes := make([]int, len(outcomes))
	rows := make([][]string, 0, len(outcomes))
	type tileStatsOf struct {
		target string
		stats  *ags.TileJobStats
	}
	var tileStats []tileStatsOf
	for i, o := range outcomes {
		r := recs[i]
		r.Messages = nil
		code := exitCode(o.Err)
		if code == exitMissing && w.missing != nil {
			o.Err = w.missing(o.Err)
		}
		codes[i] = code
		r.ExitCode = &code
		var je *ags.JobError
		switch {
		case o.Err == nil:
			r.State = stateName(ags.JobSucceeded)
			r.Status = prog.status[i]
			r.Percent = fullPercent()
			r.Result = result(ctx, o.Result)
			if st, ok := any(o.Result).(*ags.TileJobStats); ok {
				tileStats = append(tileStats, tileStatsOf{r.Target, st})
			}
		case errors.As(o.Err, &je):
			r.State = jobState(je.State, je.Status)
			r.Status = je.Status
			r.Messages = messageTexts(je.Messages)
			r.Error = o.Err.Error()
			// A tile job that did not end DONE: its statistics say
			// which levels to redo.
			var tje *ags.TileJobError
			if errors.As(o.Err, &tje) && tje.Stats != nil {
				r.Result = tileResult(ctx, tje.Stats)
				tileStats = append(tileStats, tileStatsOf{r.Target, tje.Stats})
			}
		default:
			r.State = "unknown"
			r.Error = o.Err.Error()
		}
		recs[i] = r
		s.p.event("done", r)
		rows = append(rows, []string{r.Target, r.State, r.Job})
		if o.Err != nil {
			s.p.write(s.p.errw, []byte("ags: "+r.Target+": "+o.Err.Error()+"\n"))
			switch {
			case ctx.Err() == nil || code != exitRetry:
			case w.cancelOnInterrupt:
				s.p.write(s.p.errw, []byte(fmt.Sprintf("ags: stopped waiting and asked the server to cancel the job: ags job status %s\n", r.Job)))
			default:
				s.p.write(s.p.errw, []byte(fmt.Sprintf("ags: stopped waiting; the job may still be running: ags job wait %s\n", r.Job)))
			}
		}
	}
	s.p.table([]string{"TARGET", "STATE", "JOB"}, rows)
	for _, t := range tileStats {
		tileLevelTable(s.p, t.target, t.stats)
	}
	s.p.doc(jobsDoc{Jobs: recs})
	return codes
}

// progress shows how jobs advance: on a terminal, one bar per job, and
// under a tile job one bar per cache level (mpb); otherwise, in table
// mode, a line per change of state and per server message on stderr; in
// ndjson mode, a "status" event per poll. -q draws no bar.
type progress struct {
	p    *printer
	recs []jobRecord

	mu     sync.Mutex
	last   []string // last state line printed per job
	status []string // the server's last status word per job
	bars   []*mpb.Bar
	levels []map[int]*levelBarUI // per job: its level bars, by level
	mpb    *mpb.Progress
}

// barSlots is the room each job has in the bars' order: its own bar, then
// one bar per cache level below it.
const barSlots = ags.MaxLevel + 2

// levelBarUI is a level's bar and the counts its decorator shows.
type levelBarUI struct {
	bar  *mpb.Bar
	text atomic.Pointer[string]
}

func newProgress(p *printer, recs []jobRecord) *progress {
	pr := &progress{p: p, recs: recs, last: make([]string, len(recs)), status: make([]string, len(recs))}
	if p.tty && p.mode == modeTable && !p.quiet {
		// A terminal refreshes on its own; WithAutoRefresh also makes a
		// stand-in for one (a test's buffer) draw.
		pr.mpb = mpb.New(mpb.WithOutput(p.term), mpb.WithWidth(40), mpb.WithAutoRefresh())
		pr.levels = make([]map[int]*levelBarUI, len(recs))
		for i, r := range recs {
			pr.bars = append(pr.bars, pr.mpb.AddBar(100, mpb.BarPriority(i*barSlots),
				mpb.PrependDecorators(decor.Name(r.Target, decor.WCSyncSpaceR)),
				mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace)),
			))
		}
	}
	return pr
}

func (pr *progress) update(i int, st ags.JobStatus) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	r := pr.recs[i]
	r.State, r.Status, r.Messages = jobState(st.State, st.Status), st.Status, messageTexts(st.NewMessages)
	pr.status[i] = st.Status
	if st.Progress != nil {
		pct := st.Progress.Percent
		r.Percent, r.Message = &pct, st.Progress.Message
	}
	if st.State == ags.JobSucceeded {
		// A GP job's last status reports no progress.
		r.Percent = fullPercent()
	}
	pr.p.event("status", r)
	if pr.mpb != nil {
		if r.Percent != nil {
			pr.bars[i].SetCurrent(int64(*r.Percent))
		}
		if r.Kind == kindTiles && st.Progress != nil {
			pr.updateLevelsLocked(i, levelBarStates(st.Progress.Levels))
		}
		return
	}
	if pr.p.mode != modeTable {
		return
	}
	for _, m := range r.Messages {
		pr.p.note("%s: %s", r.Target, m)
	}
	if line := r.State; line != pr.last[i] {
		pr.last[i] = line
		pr.p.note("%s: job %s %s", r.Target, r.ID, line)
	}
}

// updateLevelsLocked draws job i's level bars, adding the bar of a level
// the first time the job reports it. Callers hold pr.mu.
func (pr *progress) updateLevelsLocked(i int, states []levelBar) {
	for _, ls := range states {
		ui := pr.levels[i][ls.level]
		if ui == nil {
			if pr.levels[i] == nil {
				pr.levels[i] = map[int]*levelBarUI{}
			}
			ui = &levelBarUI{}
			ui.text.Store(new(string))
			// Made with total 0, so that the total may change (a level's
			// estimate can come late) and the bar ends only in finish.
			ui.bar = pr.mpb.AddBar(0, mpb.BarPriority(i*barSlots+1+ls.level),
				mpb.PrependDecorators(decor.Name(fmt.Sprintf("  level %d", ls.level), decor.WCSyncSpaceR)),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *ui.text.Load() }, decor.WCSyncSpace)),
			)
			pr.levels[i][ls.level] = ui
		}
		text := ls.text
		ui.text.Store(&text)
		ui.bar.SetTotal(ls.total, false)
		ui.bar.SetCurrent(ls.current)
	}
}

// levelBar is the state of one level's bar.
type levelBar struct {
	level          int
	current, total int64
	text           string // the counts shown beside the bar
}

// levelBarStates turns a tile job's progress per level into its level
// bars: tiles built of the tiles expected, or, for a level without an
// estimate, tasks done of its tasks. A level that reports neither is an
// empty bar.
func levelBarStates(levels []ags.LevelProgress) []levelBar {
	out := make([]levelBar, 0, len(levels))
	for _, l := range levels {
		b := levelBar{level: l.Level}
		switch {
		case l.Level < 0 || l.Level > ags.MaxLevel:
			continue
		case l.EstimatedTiles > 0:
			b.current, b.total = min(max(l.Tiles, 0), l.EstimatedTiles), l.EstimatedTiles
			b.text = fmt.Sprintf("%d/%d tiles", l.Tiles, l.EstimatedTiles)
		case l.Tasks > 0:
			b.current, b.total = min(max(l.DoneTasks, 0), l.Tasks), l.Tasks
			b.text = fmt.Sprintf("%d/%d tasks", l.DoneTasks, l.Tasks)
		default:
			b.total = 1
			b.text = fmt.Sprintf("%d tiles", max(l.Tiles, 0))
		}
		out = append(out, b)
	}
	return out
}

// finish completes the bars of the jobs that succeeded, level bars
// included, aborts the others (leaving them on screen as they last were)
// and waits for mpb's goroutine to end.
func (pr *progress) finish(ok []bool) {
	if pr.mpb == nil {
		return
	}
	for i, b := range pr.bars {
		if ok[i] {
			b.SetCurrent(100)
		} else {
			b.Abort(false)
		}
		for _, l := range pr.levels[i] {
			if ok[i] {
				l.bar.SetTotal(-1, true) // full, at the count reached
			} else {
				l.bar.Abort(false)
			}
		}
	}
	pr.mpb.Wait()
}
