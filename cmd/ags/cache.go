package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

func (a *app) cacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the tile caches of map and image services on ArcGIS Server",
		Long: `Commands on the tile caches of cached map and image services on ArcGIS Server
(the CachingTools geoprocessing service).`,
	}
	group(cmd).AddCommand(a.cacheManageCmd())
	return cmd
}

func (a *app) cacheManageCmd() *cobra.Command {
	var w waitFlags
	var scales, mode, extent, aoi, task string
	var sr, instances int
	cmd := &cobra.Command{
		Use:   "manage REF --scales SCALES --mode MODE [--extent XMIN,YMIN,XMAX,YMAX --sr WKID | --aoi FILE.geojson]",
		Short: "Create, update or delete the tiles of some scales (Manage Map Cache Tiles)",
		Long: `Run the Manage Map Cache Tiles task on a cached map or image service: create,
replace or delete the tiles of the given scales, everywhere, inside an
extent, or inside the polygons of a GeoJSON file (--aoi: a Polygon,
MultiPolygon, Feature or FeatureCollection of those, in longitude and
latitude; sent in the service's spatial reference when it is Web Mercator
or WGS84, else in WKID 4326 for the server to project).

MODE is RECREATE_ALL_TILES, RECREATE_EMPTY_TILES or DELETE_TILES (or one of
the job modes COMPLETE_JOB, FIX_JOB, RESUME_JOB). SCALES are scale
denominators, e.g. 4513.99,2256.99.`,
		Example: `  ags cache manage Maps/Roads.MapServer --scales 4513.99,2256.99 --mode RECREATE_ALL_TILES \
    --aoi changed.geojson --timeout 4h`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := ags.ParseServiceRef(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			var area *aoiFile
			req := ags.ManageCacheRequest{Service: ref, UpdateMode: ags.CacheUpdateMode(strings.ToUpper(mode)),
				Instances: instances, TaskPath: task}
			if scales == "" {
				return usageErr("--scales is required, e.g. --scales 4513.99,2256.99")
			}
			for _, f := range strings.FieldsFunc(scales, func(r rune) bool { return r == ',' || r == ';' }) {
				v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
				if err != nil || v <= 0 {
					return usageErr("--scales: %q is not a scale denominator", f)
				}
				req.Scales = append(req.Scales, v)
			}
			if mode == "" {
				return usageErr("--mode is required: RECREATE_ALL_TILES, RECREATE_EMPTY_TILES or DELETE_TILES")
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
				if area, err = readAOI(aoi); err != nil {
					return err
				}
			}
			taskPath := task
			if taskPath == "" {
				taskPath = ags.ManageMapCacheTilesTask
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				req := req
				if area != nil {
					// The polygons go in the service's spatial reference
					// when the SDK converts to it; the scheme read for that
					// is the one ManageCache would read.
					sch, err := s.c.Tiles.Scheme(ctx, ref)
					if err != nil {
						return err
					}
					req.Scheme, req.AreaOfInterest = sch, area.in(sch.SpatialReference).FeatureSet
				}
				job, err := s.c.Tiles.ManageCache(ctx, req)
				if err != nil {
					return err
				}
				jr := jobRef{Kind: kindGP, Path: taskPath, ID: job.ID()}
				recs := []jobRecord{{Job: jr.String(), Kind: jr.Kind, ID: jr.ID, Target: ref.String()}}
				submitted(s, recs, !w.waiting())
				if !w.waiting() {
					return nil
				}
				return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.GPResult]{job}, recs, gpResult))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&scales, "scales", "", "scale denominators, e.g. 4513.99,2256.99")
	f.StringVar(&mode, "mode", "", "RECREATE_ALL_TILES, RECREATE_EMPTY_TILES or DELETE_TILES")
	f.StringVar(&extent, "extent", "", "area: xmin,ymin,xmax,ymax in --sr")
	f.IntVar(&sr, "sr", 0, "WKID of --extent, e.g. 3857")
	f.StringVar(&aoi, "aoi", "", "area: the polygons of a GeoJSON file")
	f.IntVar(&instances, "instances", 0, "CachingTools instances to use (default: as many as the server allows)")
	f.StringVar(&task, "task", "", "the task's path, e.g. \"System/CachingControllers/GPServer/Manage Map Cache Tiles\" (default the CachingTools one)")
	w.add(cmd, true)
	return cmd
}
