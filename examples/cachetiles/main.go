// Command cachetiles is a nightly cache maintenance job: it reads a GeoJSON
// file of the areas that changed and a range of levels, prints the tiles
// each level will cost, refuses to start past -max-tiles, rebuilds those
// tiles with per-level progress, prints a per-level report, exits non-zero
// when part of the work failed, and resumes a failed run from its job ID.
//
// A cached map or image service on ArcGIS Server (the Manage Map Cache
// Tiles task; resumed with RECREATE_EMPTY_TILES):
//
//	AGS_PASSWORD=... go run ./examples/cachetiles -url https://gis.example.com:6443/arcgis \
//	    -user admin -service Basemaps/Streets.MapServer -changes changed.geojson -levels 14-17
//	AGS_PASSWORD=... go run ./examples/cachetiles -url ... -service Basemaps/Streets.MapServer -resume j0123...
//
// A hosted tile layer (updateTiles; resumed by rerunning its failed parts):
//
//	AGS_PASSWORD=... go run ./examples/cachetiles -hosted -url https://tiles.arcgis.com/tiles/<orgId>/arcgis \
//	    -user publisher -service WorldService.MapServer -changes changed.geojson -levels 14-17
//
// Without -url it runs a demo on an embedded emulator: create the cache,
// estimate, update (a level fails part way), resume, report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

// demoChanges is the demo's changed area: about 2 x 2 km of Beirut.
const demoChanges = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"change":"roads"},"geometry":
 {"type":"Polygon","coordinates":[[[35.49,33.89],[35.51,33.89],[35.51,33.91],[35.49,33.91],[35.49,33.89]]]}}]}`

// demoJobDuration is how long the emulator's jobs take in the demo.
var demoJobDuration = 1500 * time.Millisecond

type config struct {
	ref       ags.ServiceRef
	levels    ags.Levels
	changes   []byte
	maxTiles  int64
	hosted    bool
	instances int
	out       io.Writer
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cachetiles", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	service := fs.String("service", "Basemaps/Streets.MapServer", "cached service: Folder/Name.MapServer or .ImageServer, or its URL")
	changesFile := fs.String("changes", "", "GeoJSON file of the changed areas (longitude/latitude); empty: the whole cache")
	levelsFlag := fs.String("levels", "15-17", "levels to rebuild, e.g. 14-17")
	maxTiles := fs.Int64("max-tiles", 100000, "refuse to start when the estimate is above this many tiles")
	hosted := fs.Bool("hosted", false, "the service is a hosted tile layer (updateTiles), not a cache on ArcGIS Server")
	instances := fs.Int("instances", 0, "caching service instances to use (0: as many as the server allows)")
	resume := fs.String("resume", "", "resume the failed job with this ID instead of starting a new one")
	timeout := fs.Duration("timeout", 6*time.Hour, "give up waiting after this long (the job keeps running)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ref, err := ags.ParseServiceRef(*service)
	if err != nil {
		return err
	}
	levels, err := ags.ParseLevels(*levelsFlag)
	if err != nil {
		return err
	}
	cfg := config{ref: ref, levels: levels, maxTiles: *maxTiles, hosted: *hosted, instances: *instances, out: stdout}
	if *changesFile != "" {
		if cfg.changes, err = os.ReadFile(*changesFile); err != nil {
			return err
		}
	}
	demo := site.URL == ""
	if demo {
		if cfg.changes == nil {
			cfg.changes = []byte(demoChanges)
		}
		site.Emulator = []agstest.Option{agstest.WithJobDuration(demoJobDuration)}
		site.Seed = func(s *agstest.Server) { seedDemo(s, cfg) }
	}
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
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	if *resume != "" {
		return resumeRun(ctx, c, cfg, *resume)
	}
	if demo && !cfg.hosted {
		if err := createDemoCache(ctx, c, cfg); err != nil {
			return err
		}
	}
	jobID, err := nightly(ctx, c, cfg)
	var partial *partialFailure
	if demo && errors.As(err, &partial) {
		fmt.Fprintf(stdout, "\nA nightly run would exit non-zero here. Resuming, as `cachetiles -resume %s` would:\n", jobID)
		return resumeRun(ctx, c, cfg, jobID)
	}
	return err
}

// seedDemo prepares the emulator: the service, a scheme for the hosted
// layer (a standalone cache is created by the demo itself), and a level
// that fails every second tile on the first run.
func seedDemo(s *agstest.Server, cfg config) {
	s.AddService(cfg.ref.Folder, cfg.ref.Name, string(cfg.ref.Type), nil)
	if cfg.hosted {
		s.SetTileScheme(cfg.ref.Folder, cfg.ref.Name, string(cfg.ref.Type),
			agstest.WebMercatorScheme(19, [4]float64{3940000, 4010000, 3960000, 4020000}))
	}
	if l := cfg.levels.List(); len(l) > 0 {
		s.FailTiles(l[len(l)-1])
	}
}

// createDemoCache runs Create Map Cache with the ArcGIS Online scales of
// levels 0-19.
func createDemoCache(ctx context.Context, c *ags.Client, cfg config) error {
	scales := make([]float64, 20)
	for l := range scales {
		scales[l] = math.Round(591657527.591555/math.Ldexp(1, l)*1e6) / 1e6
	}
	job, err := c.Tiles.CreateCache(ctx, ags.CreateCacheRequest{Service: cfg.ref, OutFolder: `c:\arcgisserver\directories\arcgiscache`,
		Scales: scales, TileOrigin: &ags.Point{X: -20037508.342787, Y: 20037508.342787}})
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "Create Map Cache job %s: %d scales for %s\n", job.ID(), len(scales), cfg.ref)
	progress := cli.NewProgress(cfg.out)
	_, err = job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("create")})
	progress.Done()
	return err
}

// partialFailure is a run that ended with part of its work failed.
type partialFailure struct{ err error }

func (p *partialFailure) Error() string { return "part of the cache was not built: " + p.err.Error() }
func (p *partialFailure) Unwrap() error { return p.err }

// plan reads the scheme, the changed areas in the scheme's spatial
// reference, and the estimate per level.
func plan(ctx context.Context, c *ags.Client, cfg config) (*ags.TileScheme, *ags.Area, *ags.Extent, *ags.TileEstimate, error) {
	sch, err := c.Tiles.Scheme(ctx, cfg.ref)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	extent := sch.FullExtent
	var area *ags.Area
	if cfg.changes != nil {
		if area, err = ags.GeoJSONArea(cfg.changes, *sch.SpatialReference); err != nil {
			return nil, nil, nil, nil, err
		}
		extent = area.Extent
	}
	if extent == nil {
		return nil, nil, nil, nil, errors.New("the service reports no full extent: give -changes")
	}
	est, err := sch.Estimate(*extent, cfg.levels)
	return sch, area, extent, est, err
}

// nightly estimates, refuses past the budget, runs and reports. It
// returns the job ID, also on failure, so the run can be resumed.
func nightly(ctx context.Context, c *ags.Client, cfg config) (string, error) {
	sch, area, extent, est, err := plan(ctx, c, cfg)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.out, "Estimate for %s over %.0f x %.0f map units:\n", cfg.ref, extent.XMax-extent.XMin, extent.YMax-extent.YMin)
	for _, l := range est.Levels {
		fmt.Fprintf(cfg.out, "  level %2d  1:%-14s %8d tiles\n", l.Level, fmt.Sprint(l.Scale), l.Tiles)
	}
	fmt.Fprintf(cfg.out, "  total %d tiles (budget %d)\n", est.Total, cfg.maxTiles)
	if est.Total > cfg.maxTiles {
		return "", fmt.Errorf("refusing to start: %d tiles is more than -max-tiles %d", est.Total, cfg.maxTiles)
	}
	if cfg.hosted {
		job, err := c.Tiles.Update(ctx, cfg.ref, ags.UpdateTilesRequest{Levels: cfg.levels, Extent: extent})
		if err != nil {
			return "", err
		}
		fmt.Fprintf(cfg.out, "updateTiles job %s submitted\n", job.ID())
		return job.ID(), waitHosted(ctx, cfg, job)
	}
	req := ags.ManageCacheRequest{Service: cfg.ref, Levels: cfg.levels, UpdateMode: ags.RecreateAllTiles,
		Instances: cfg.instances, Scheme: sch}
	if area != nil {
		req.AreaOfInterest = area.FeatureSet
	}
	job, err := c.Tiles.ManageCache(ctx, req)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.out, "Manage Map Cache Tiles job %s submitted (RECREATE_ALL_TILES, levels %s)\n", job.ID(), cfg.levels)
	return job.ID(), waitStandalone(ctx, c, cfg, job, est)
}

// waitHosted waits for a tile job, printing each level's progress as the
// job's statistics report it, then reports per level.
func waitHosted(ctx context.Context, cfg config, job *ags.Job[*ags.TileJobStats]) error {
	last := ""
	stats, err := job.Wait(ctx, &ags.PollOptions{OnStatus: func(st ags.JobStatus) {
		if st.Progress == nil {
			return
		}
		line := fmt.Sprintf("  %s %3.0f%%", st.Status, st.Progress.Percent)
		for _, l := range st.Progress.Levels {
			line += fmt.Sprintf("  L%d %d/%d", l.Level, l.Tiles, l.EstimatedTiles)
		}
		if line != last {
			fmt.Fprintln(cfg.out, line)
			last = line
		}
	}})
	if stats != nil {
		fmt.Fprintf(cfg.out, "Report for job %s (%s):\n", job.ID(), stats.JobStatus)
		for _, l := range stats.LevelStats {
			state := "done"
			if l.NumDoneTasks < l.NumTasks || l.NumTiles < l.EstimatedNumTiles {
				state = "UNFINISHED"
			}
			fmt.Fprintf(cfg.out, "  level %2d  %6d of %6d tiles  %s\n", l.Level, l.NumTiles, l.EstimatedNumTiles, state)
		}
	}
	var te *ags.TileJobError
	if errors.As(err, &te) && te.Stats != nil && !te.Stats.UnfinishedLevels().IsZero() {
		return &partialFailure{err}
	}
	return err
}

// waitStandalone waits for a Manage Map Cache Tiles job with progress and
// the server's messages, then reports the estimate per level with the
// outcome.
func waitStandalone(ctx context.Context, c *ags.Client, cfg config, job *ags.Job[*ags.GPResult], est *ags.TileEstimate) error {
	progress := cli.NewProgress(cfg.out)
	_, err := job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("cache")})
	progress.Done()
	outcome := "built"
	if err != nil {
		outcome = "not confirmed"
	}
	fmt.Fprintf(cfg.out, "Report for job %s:\n", job.ID())
	for _, l := range est.Levels {
		fmt.Fprintf(cfg.out, "  level %2d  %6d tiles  %s\n", l.Level, l.Tiles, outcome)
	}
	if err != nil {
		fmt.Fprintln(cfg.out, "  The server's messages above say which levels failed; -resume builds only the tiles still missing.")
	}
	var je *ags.JobError
	if errors.As(err, &je) && errors.Is(err, ags.ErrJobFailed) {
		return &partialFailure{err}
	}
	return err
}

// resumeRun resumes a failed job from its ID: a standalone cache rebuilds
// only its empty tiles (RECREATE_EMPTY_TILES), a hosted layer reruns the
// job's failed parts.
func resumeRun(ctx context.Context, c *ags.Client, cfg config, jobID string) error {
	if cfg.hosted {
		job, err := c.Tiles.Rerun(ctx, cfg.ref, jobID, ags.RerunErrors)
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.out, "Rerunning the failed parts of job %s\n", jobID)
		return waitHosted(ctx, cfg, job)
	}
	_, _, _, est, err := plan(ctx, c, cfg)
	if err != nil {
		return err
	}
	job, err := c.Tiles.ResumeCache(ctx, "", jobID)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "Manage Map Cache Tiles job %s resumes job %s (RECREATE_EMPTY_TILES)\n", job.ID(), jobID)
	return waitStandalone(ctx, c, cfg, job, est)
}
