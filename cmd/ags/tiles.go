package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

func (a *app) tilesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tiles",
		Short: "Read tiling schemes; rebuild and delete the tiles of hosted tile layers",
		Long: `Commands on tile caches. For update, delete, delete-all, rerun and jobs,
REF names a hosted tile layer (a MapServer under rest/admin/services), e.g.
Hosted/Basemap.MapServer. scheme and estimate read any cached map or image
service, including those the caching tools of 'ags cache' build.`,
	}
	group(cmd).AddCommand(a.tilesSchemeCmd(), a.tilesEstimateCmd(), a.tilesUpdateCmd(), a.tilesDeleteCmd(),
		a.tilesDeleteAllCmd(), a.tilesRerunCmd(), a.tilesJobsCmd())
	return cmd
}

// tileLayer reads the REF of a hosted tile layer: a MapServer.
func tileLayer(s string) (ags.ServiceRef, error) {
	r, err := ags.ParseServiceRef(s)
	if err != nil {
		return r, err
	}
	if r.Type != ags.MapServer {
		return r, usageErr("%s: a hosted tile layer is a MapServer", r.String())
	}
	return r, nil
}

func (a *app) tilesUpdateCmd() *cobra.Command {
	var w waitFlags
	var levels string
	var where areaFlags
	var merge, replace bool
	cmd := &cobra.Command{
		Use:   "update REF --levels LEVELS (--extent XMIN,YMIN,XMAX,YMAX --sr WKID | --aoi FILE.geojson)",
		Short: "Rebuild some levels of a tile cache inside an area (updateTiles)",
		Long: `Rebuild the tiles of the given levels inside an area: an extent in a spatial
reference, or the envelope of the polygons of a GeoJSON file (--aoi: a
Polygon, MultiPolygon, Feature or FeatureCollection of those; GeoJSON
coordinates are longitude and latitude, WKID 4326). With --aoi the layer's
tiling scheme is read first and the envelope is sent in its spatial
reference, Web Mercator or WGS84; a layer in another one takes --extent
(exit 2 before the job). The job is waited for unless --no-wait; a job that
ends PARTIALERROR exits 6.`,
		Example: `  ags tiles update Hosted/Basemap.MapServer --levels 0-5,10 \
    --extent -13686000,5696000,-13620000,5730000 --sr 3857 --merge-bundle
  ags tiles update Hosted/Basemap.MapServer --levels 12-16 --aoi changed.geojson --no-wait`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := tileLayer(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			req := ags.UpdateTilesRequest{}
			var area *aoiFile
			if levels == "" {
				return usageErr("--levels is required, e.g. --levels 0-5,10")
			}
			if req.Levels, err = ags.ParseLevels(levels); err != nil {
				return err
			}
			if req.Extent, area, err = where.parse(); err != nil {
				return err
			}
			switch {
			case area != nil:
				// Checked with the file's WGS84 envelope; sent in the
				// layer's spatial reference, once its scheme is read.
				req.Extent = area.wgs84.Extent
			case req.Extent == nil:
				return usageErr("an area is required: --extent XMIN,YMIN,XMAX,YMAX --sr WKID, or --aoi FILE.geojson")
			}
			if cmd.Flags().Changed("merge-bundle") {
				req.MergeBundle = ags.Ptr(merge)
			}
			if cmd.Flags().Changed("replace-tiles") {
				req.ReplaceTiles = ags.Ptr(replace)
			}
			if err := req.Validate(); err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				req := req
				if area != nil {
					ext, err := area.extentIn(ctx, s.c, ref)
					if err != nil {
						return err
					}
					req.Extent = ext
				}
				job, err := s.c.Tiles.Update(ctx, ref, req)
				if err != nil {
					return err
				}
				return submittedTileJob(ctx, s, &w, ref, job)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&levels, "levels", "", "cache levels, e.g. 0-5,10,11-20")
	where.add(cmd, "area: xmin,ymin,xmax,ymax in --sr", "area: the envelope of a GeoJSON file's polygons")
	f.BoolVar(&merge, "merge-bundle", false, "merge new bundles into the existing ones (compact caches)")
	f.BoolVar(&replace, "replace-tiles", false, "with --merge-bundle, new tiles replace existing ones")
	w.add(cmd, true)
	return cmd
}

// tileResult is what a finished tile job shows: its totals and, per
// level, the tiles built against those expected and the tasks done, with
// the levels whose work is unfinished (what a rerun redoes).
func tileResult(_ context.Context, st *ags.TileJobStats) any {
	if st == nil {
		return nil
	}
	type level struct {
		Level          int   `json:"level"`
		NumTiles       int64 `json:"num_tiles"`
		EstimatedTiles int64 `json:"estimated_num_tiles"`
		NumTasks       int64 `json:"num_tasks"`
		NumDoneTasks   int64 `json:"num_done_tasks"`
	}
	res := map[string]any{"num_tiles": st.NumTiles, "tiles_size": st.TilesSize,
		"num_error_tasks": st.NumErrorTasks, "percent_complete": st.PercentComplete}
	if len(st.LevelStats) > 0 {
		levels := make([]level, 0, len(st.LevelStats))
		for _, l := range st.LevelStats {
			levels = append(levels, level{Level: int(l.Level), NumTiles: int64(l.NumTiles),
				EstimatedTiles: int64(l.EstimatedNumTiles), NumTasks: int64(l.NumTasks), NumDoneTasks: int64(l.NumDoneTasks)})
		}
		res["levels"] = levels
	}
	if u := st.UnfinishedLevels(); !u.IsZero() {
		res["unfinished_levels"] = u.String()
	}
	return res
}

// tileLevelTable prints the per-level statistics of a tile job, finished
// or not (table mode).
func tileLevelTable(p *printer, target string, st *ags.TileJobStats) {
	if p.mode != modeTable || st == nil || len(st.LevelStats) == 0 {
		return
	}
	rows := make([][]string, 0, len(st.LevelStats))
	for _, l := range st.LevelStats {
		rows = append(rows, []string{strconv.Itoa(int(l.Level)), strconv.FormatInt(int64(l.NumTiles), 10),
			strconv.FormatInt(int64(l.EstimatedNumTiles), 10), fmt.Sprintf("%d/%d", l.NumDoneTasks, l.NumTasks)})
	}
	note := target + ": tiles built per level"
	if u := st.UnfinishedLevels(); !u.IsZero() {
		note += "; unfinished levels " + u.String()
	}
	p.write(p.out, []byte(note+"\n"))
	p.table([]string{"LEVEL", "TILES", "EXPECTED", "TASKS-DONE"}, rows)
}

func (a *app) tilesDeleteCmd() *cobra.Command {
	var w waitFlags
	var levels string
	var where areaFlags
	cmd := &cobra.Command{
		Use:   "delete REF --levels LEVELS [--extent XMIN,YMIN,XMAX,YMAX --sr WKID | --aoi FILE.geojson]",
		Short: "Delete the tiles of some levels of a hosted tile layer (deleteTiles)",
		Long: `Delete the tiles of the given levels of a hosted tile layer: everywhere, or
inside an extent, or inside the envelope of the polygons of a GeoJSON file
(--aoi, WKID 4326; sent in the spatial reference of the layer's tiling
scheme, read first, as 'ags tiles update' does). The tiling scheme stays.
The job is waited for unless --no-wait; re-attach with 'ags job wait',
cancel with 'ags job cancel'.`,
		Example: `  ags tiles delete Hosted/Basemap.MapServer --levels 17-19 --aoi demolished.geojson
  ags tiles delete Hosted/Basemap.MapServer --levels 19 --no-wait`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := tileLayer(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			req := ags.DeleteTilesRequest{}
			var area *aoiFile
			if levels == "" {
				return usageErr("--levels is required, e.g. --levels 17-19")
			}
			if req.Levels, err = ags.ParseLevels(levels); err != nil {
				return err
			}
			if req.Extent, area, err = where.parse(); err != nil {
				return err
			}
			if err := req.Validate(); err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				req := req
				if area != nil {
					// Sent in the layer's spatial reference, once its
					// scheme is read.
					ext, err := area.extentIn(ctx, s.c, ref)
					if err != nil {
						return err
					}
					req.Extent = ext
				}
				job, err := s.c.Tiles.DeleteTiles(ctx, ref, req)
				if err != nil {
					return err
				}
				return submittedTileJob(ctx, s, &w, ref, job)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&levels, "levels", "", "cache levels, e.g. 17-19")
	where.add(cmd, "area: xmin,ymin,xmax,ymax in --sr (default: everywhere)", "area: the envelope of a GeoJSON file's polygons")
	w.add(cmd, true)
	return cmd
}

// submittedTileJob reports a tile job just submitted on ref and, unless
// --no-wait, waits for it.
func submittedTileJob(ctx context.Context, s *site, w *waitFlags, ref ags.ServiceRef, job *ags.Job[*ags.TileJobStats]) error {
	jr := jobRef{Kind: kindTiles, Path: ref.String(), ID: job.ID()}
	recs := []jobRecord{{Job: jr.String(), Kind: jr.Kind, ID: jr.ID, Target: ref.String()}}
	submitted(s, recs, !w.waiting())
	if !w.waiting() {
		return nil
	}
	return codesErr(waitJobs(ctx, s, w, []*ags.Job[*ags.TileJobStats]{job}, recs, tileResult))
}

func (a *app) tilesDeleteAllCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete-all REF --yes",
		Short: "Delete every tile of a hosted tile layer (deleteAllTiles)",
		Long: `Delete every tile of a hosted tile layer, at every level; the tiling scheme
stays, and the tiles must be built again with 'ags tiles update'. Nothing
is deleted without --yes (exit 2, before any request).`,
		Example: `  ags tiles delete-all Hosted/Basemap.MapServer --yes`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := tileLayer(argv[0])
			if err != nil {
				return err
			}
			if !yes {
				return usageErr("tiles delete-all deletes every tile of %s: add --yes to confirm", ref.String())
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				if err := s.c.Tiles.DeleteAllTiles(ctx, ref); err != nil {
					return err
				}
				s.p.done("deleted every tile of %s", ref.String())
				rec := map[string]any{"service": ref.String(), "deleted_all_tiles": true}
				s.p.event("deleted", rec)
				s.p.doc(rec)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: delete every tile")
	return cmd
}

func (a *app) tilesRerunCmd() *cobra.Command {
	var w waitFlags
	var code string
	cmd := &cobra.Command{
		Use:   "rerun REF JOB [--code error|canceled|all]",
		Short: "Run a tile job again: its failed or cancelled parts, or all of it",
		Long: `Run a hosted tile job again (jobs/<id>/rerun): only the parts that failed
(--code error, the default: resume a job that ended PARTIALERROR), only
those a cancel stopped (--code canceled), or the whole job (--code all).
JOB is the job's ID, or the reference ags printed for it. The rerun is
waited for unless --no-wait; it runs under the same job ID.

The request is sent once: if its answer is lost (exit 5), read the job's
state with 'ags job status' before rerunning it again.`,
		Example: `  ags tiles rerun Hosted/Basemap.MapServer 8f3e0c1d --code error
  ags tiles rerun Hosted/Basemap.MapServer "$JOB" --code canceled --timeout 2h`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := tileLayer(argv[0])
			if err != nil {
				return err
			}
			id := argv[1]
			if strings.HasPrefix(id, kindTiles+":") {
				jr, err := parseJobRef(id)
				if err != nil {
					return err
				}
				if jr.Path != ref.String() {
					return usageErr("job %s is a job of %s, not of %s", id, jr.Path, ref.String())
				}
				id = jr.ID
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			rc := ags.RerunCode(strings.ToUpper(strings.TrimSpace(code)))
			switch rc {
			case ags.RerunErrors, ags.RerunCanceled, ags.RerunAll:
			default:
				return usageErr("--code %q: want error, canceled or all", code)
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				job, err := s.c.Tiles.Rerun(ctx, ref, id, rc)
				if err != nil {
					return err
				}
				return submittedTileJob(ctx, s, &w, ref, job)
			})
		},
	}
	cmd.Flags().StringVar(&code, "code", "error", "what to run again: error, canceled or all")
	w.add(cmd, true)
	return cmd
}

// parseExtent reads "xmin,ymin,xmax,ymax" in spatial reference wkid.
func parseExtent(s string, wkid int) (*ags.Extent, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, usageErr("--extent %q: want xmin,ymin,xmax,ymax", s)
	}
	if wkid <= 0 {
		return nil, usageErr("--extent needs --sr WKID, e.g. --sr 3857")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, usageErr("--extent %q: %q is not a number", s, p)
		}
		v[i] = f
	}
	e := &ags.Extent{XMin: v[0], YMin: v[1], XMax: v[2], YMax: v[3],
		SpatialReference: &ags.SpatialReference{WKID: wkid}}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

func (a *app) tilesJobsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "jobs REF",
		Short:   "List the tile jobs of a hosted tile layer",
		Example: "  ags tiles jobs Hosted/Basemap.MapServer -o json",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := tileLayer(argv[0])
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				sum, err := s.c.Tiles.Jobs(ctx, ref)
				if err != nil {
					return err
				}
				type rec struct {
					Job    string `json:"job"`
					ID     string `json:"id"`
					Type   string `json:"type"`
					State  string `json:"state"`
					Status string `json:"status"`
					Submit string `json:"submit_time,omitempty"`
					End    string `json:"end_time,omitempty"`
				}
				recs := []rec{}
				var rows [][]string
				for _, j := range sum.Jobs {
					r := rec{Job: jobRef{Kind: kindTiles, Path: ref.String(), ID: j.ID}.String(), ID: j.ID, Type: j.Type,
						State: jobState(j.State(), j.Status), Status: j.Status, Submit: timeText(j.SubmitTime), End: timeText(j.EndTime)}
					recs = append(recs, r)
					rows = append(rows, []string{r.Job, r.Type, r.State, r.Submit})
					s.p.event("job", r)
				}
				s.p.table([]string{"JOB", "TYPE", "STATE", "SUBMITTED"}, rows)
				s.p.doc(map[string]any{"service": ref.String(), "jobs": recs})
				return nil
			})
		},
	}
}
