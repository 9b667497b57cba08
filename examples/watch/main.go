// Command watch is the monitoring program of a live image service: it
// watches a folder, and when new files have landed and settled (their size
// unchanged for -settle), it runs Refresh Service once for the batch so the
// service picks them up without a restart. It keeps watching until Ctrl-C.
// A refresh that fails is tried again later, backing off: the wait doubles
// from -interval with each failure in a row, up to -max-backoff.
//
//	AGS_PASSWORD=... go run ./examples/watch -url https://gis.example.com:6443/arcgis \
//	    -user publisher -dir /data/incoming -service Imagery/Portland.ImageServer
//
// Files present when it starts count as already served. Without -url it
// runs against an embedded emulator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	dir := fs.String("dir", "./incoming", "folder to watch for new files")
	service := fs.String("service", "Imagery/Portland.ImageServer", "service to refresh: Folder/Name.Type, or its URL")
	interval := fs.Duration("interval", 2*time.Second, "how often to look at the folder")
	settle := fs.Duration("settle", 5*time.Second, "a file counts as landed when its size has not changed for this long")
	timeout := fs.Duration("job-timeout", 30*time.Minute, "give up waiting for one refresh after this long")
	maxBatches := fs.Int("batches", 0, "stop after this many refreshes (0: run until Ctrl-C)")
	maxBackoff := fs.Duration("max-backoff", 5*time.Minute, "after failed refreshes, wait at most this long before trying again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		return fmt.Errorf("-dir %s: not a folder", *dir)
	}
	ref, err := ags.ParseServiceRef(*service)
	if err != nil {
		return err
	}
	site.Seed = func(s *agstest.Server) { s.AddService(ref.Folder, ref.Name, string(ref.Type), nil) }
	closeSite, err := site.Open(stdout)
	if err != nil {
		return err
	}
	defer closeSite()
	// Tokens are fetched with the username and password, cached and
	// renewed before they expire. The HTTP client is the default transport,
	// or one that trusts the embedded emulator's certificate.
	c, err := ags.NewClient(site.URL,
		ags.WithCredentials(site.User, site.Password),
		ags.WithHTTPClient(site.HTTPClient))
	if err != nil {
		return err
	}

	w := newWatcher(*dir, *settle)
	if err := w.scan(time.Now()); err != nil {
		return err
	}
	w.markAllServed()
	fmt.Fprintf(stdout, "Watching %s (every %s; files settle after %s); Ctrl-C to stop\n", *dir, *interval, *settle)
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	gate := &backoff{base: *interval, max: *maxBackoff}
	batches := 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "Stopped.")
			return nil
		case now := <-tick.C:
			if err := w.scan(now); err != nil {
				fmt.Fprintf(stdout, "scan %s: %v\n", *dir, err)
				continue
			}
			if !gate.ready(now) {
				continue // backing off after a failed refresh
			}
			batch := w.settled(now)
			if len(batch) == 0 {
				continue
			}
			fmt.Fprintf(stdout, "%d new file(s): %s\n", len(batch), strings.Join(batch, ", "))
			if err := refresh(ctx, c, ref, *timeout, stdout); err != nil {
				if ctx.Err() != nil {
					fmt.Fprintln(stdout, "Stopped.")
					return nil
				}
				// Keep watching, and try the batch again later: each
				// failure in a row doubles the wait, up to -max-backoff.
				wait := gate.failed(time.Now())
				fmt.Fprintf(stdout, "refresh failed: %v\n  trying again in %s\n", err, wait)
				w.unserve(batch)
				continue
			}
			gate.succeeded()
			batches++
			if *maxBatches > 0 && batches >= *maxBatches {
				return nil
			}
		}
	}
}

func refresh(ctx context.Context, c *ags.Client, ref ags.ServiceRef, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := c.Services.RefreshAndWait(ctx, ref, &ags.PollOptions{
		OnStatus: func(st ags.JobStatus) {
			for _, m := range st.NewMessages {
				fmt.Fprintf(out, "  job %s: %s\n", st.JobID, m.Description)
			}
		}})
	if err != nil {
		var jobErr *ags.JobError
		if errors.As(err, &jobErr) {
			return fmt.Errorf("job %s ended %s: %w", jobErr.JobID, jobErr.Status, err)
		}
		return err
	}
	fmt.Fprintf(out, "Refreshed %s in %s (job %s)\n", ref,
		time.Since(start).Round(time.Millisecond), res.JobID)
	return nil
}

// watcher tracks the files of a folder and when their sizes last changed.
type watcher struct {
	dir    string
	settle time.Duration
	files  map[string]*fileState
}

type fileState struct {
	size    int64
	changed time.Time
	served  bool
}

func newWatcher(dir string, settle time.Duration) *watcher {
	return &watcher{dir: dir, settle: settle, files: map[string]*fileState{}}
}

// scan records new files and size changes; files that vanished are forgotten.
func (w *watcher) scan(now time.Time) error {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		name := filepath.Join(w.dir, e.Name())
		seen[name] = true
		f, ok := w.files[name]
		switch {
		case !ok:
			w.files[name] = &fileState{size: info.Size(), changed: now}
		case f.size != info.Size():
			f.size, f.changed, f.served = info.Size(), now, false
		}
	}
	for name := range w.files {
		if !seen[name] {
			delete(w.files, name)
		}
	}
	return nil
}

// settled returns the files not yet served whose size has held for the
// settle time, and marks them served. It returns nothing while any new
// file is still growing, so one refresh covers the whole batch.
func (w *watcher) settled(now time.Time) []string {
	var batch []string
	for name, f := range w.files {
		if f.served {
			continue
		}
		if now.Sub(f.changed) < w.settle {
			return nil
		}
		batch = append(batch, name)
	}
	for _, name := range batch {
		w.files[name].served = true
	}
	sort.Strings(batch)
	return batch
}

func (w *watcher) markAllServed() {
	for _, f := range w.files {
		f.served = true
	}
}

func (w *watcher) unserve(batch []string) {
	for _, name := range batch {
		if f, ok := w.files[name]; ok {
			f.served = false
		}
	}
}

// backoff spaces out refreshes after failures: the first retry waits base,
// each further failure in a row doubles the wait, up to max; a success
// resets it.
type backoff struct {
	base, max time.Duration
	failures  int
	next      time.Time
}

// ready reports whether a refresh may be tried at now.
func (b *backoff) ready(now time.Time) bool { return !now.Before(b.next) }

// failed records a failed refresh at now and returns the wait before the next.
func (b *backoff) failed(now time.Time) time.Duration {
	d := b.base
	for i := 0; i < b.failures && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.failures++
	b.next = now.Add(d)
	return d
}

// succeeded resets the backoff.
func (b *backoff) succeeded() { b.failures, b.next = 0, time.Time{} }
