package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

func (a *app) tilesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tiles",
		Short: "Rebuild the tile caches of hosted tile layers",
		Long: `Commands on tile caches. REF names a hosted tile layer (a MapServer under
rest/admin/services), e.g. Hosted/Basemap.MapServer.`,
	}
	group(cmd).AddCommand(a.tilesUpdateCmd(), a.tilesJobsCmd())
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
	var levels, extent, aoi string
	var sr int
	var merge, replace bool
	cmd := &cobra.Command{
		Use:   "update REF --levels LEVELS (--extent XMIN,YMIN,XMAX,YMAX --sr WKID | --aoi FILE.geojson)",
		Short: "Rebuild some levels of a tile cache inside an area (updateTiles)",
		Long: `Rebuild the tiles of the given levels inside an area: an extent in a spatial
reference, or the envelope of the polygons of a GeoJSON file (--aoi: a
Polygon, MultiPolygon, Feature or FeatureCollection of those; GeoJSON
coordinates are longitude and latitude, WKID 4326). The job is
waited for unless --no-wait; a job that ends PARTIALERROR exits 6.`,
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
			if levels == "" {
				return usageErr("--levels is required, e.g. --levels 0-5,10")
			}
			if req.Levels, err = ags.ParseLevels(levels); err != nil {
				return err
			}
			switch {
			case extent != "" && aoi != "":
				return usageErr("--extent and --aoi: give one")
			case extent != "":
				if req.Extent, err = parseExtent(extent, sr); err != nil {
					return err
				}
			case aoi != "":
				if sr != 0 {
					return usageErr("--sr goes with --extent; GeoJSON (--aoi) is always WKID 4326")
				}
				area, err := readAOI(aoi)
				if err != nil {
					return err
				}
				req.Extent = area.wgs84.Extent
			default:
				return usageErr("an area is required: --extent XMIN,YMIN,XMAX,YMAX --sr WKID, or --aoi FILE.geojson")
			}
			if cmd.Flags().Changed("merge-bundle") {
				req.MergeBundle = ags.Ptr(merge)
			}
			if cmd.Flags().Changed("replace-tiles") {
				req.ReplaceTiles = ags.Ptr(replace)
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				job, err := s.c.Tiles.Update(ctx, ref, req)
				if err != nil {
					return err
				}
				jr := jobRef{Kind: kindTiles, Path: ref.String(), ID: job.ID()}
				recs := []jobRecord{{Job: jr.String(), Kind: jr.Kind, ID: jr.ID, Target: ref.String()}}
				submitted(s, recs, !w.waiting())
				if !w.waiting() {
					return nil
				}
				return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.TileJobStats]{job}, recs, tileResult))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&levels, "levels", "", "cache levels, e.g. 0-5,10,11-20")
	f.StringVar(&extent, "extent", "", "area: xmin,ymin,xmax,ymax in --sr")
	f.IntVar(&sr, "sr", 0, "WKID of --extent, e.g. 3857")
	f.StringVar(&aoi, "aoi", "", "area: the envelope of a GeoJSON file's polygons")
	f.BoolVar(&merge, "merge-bundle", false, "merge new bundles into the existing ones (compact caches)")
	f.BoolVar(&replace, "replace-tiles", false, "with --merge-bundle, new tiles replace existing ones")
	w.add(cmd, true)
	return cmd
}

// tileResult is what a finished tile job shows.
func tileResult(_ context.Context, st *ags.TileJobStats) any {
	if st == nil {
		return nil
	}
	return map[string]any{"num_tiles": st.NumTiles, "tiles_size": st.TilesSize,
		"num_error_tasks": st.NumErrorTasks, "percent_complete": st.PercentComplete}
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
						State: stateName(j.State()), Status: j.Status, Submit: timeText(j.SubmitTime), End: timeText(j.EndTime)}
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
