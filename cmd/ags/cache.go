package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

func (a *app) cacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the tile caches of map and image services on ArcGIS Server",
		Long: `Commands on the tile caches of map and image services on a standalone or
federated ArcGIS Server, run as jobs of the System/CachingTools
geoprocessing service: create a cache (its tiling scheme), build, replace
or delete its tiles, report or rebuild its status, change its scales, and
delete it. REF is the service, e.g. Maps/Roads.MapServer. Each job is waited
for unless --no-wait; re-attach with 'ags job wait', cancel with
'ags job cancel'. Read a cache's scheme with 'ags tiles scheme', and count
a job's tiles before running it with 'ags tiles estimate'.`,
	}
	group(cmd).AddCommand(a.cacheCreateCmd(), a.cacheManageCmd(), a.cacheStatusCmd(), a.cacheScalesCmd(), a.cacheDeleteCmd())
	return cmd
}

func (a *app) cacheManageCmd() *cobra.Command {
	var w waitFlags
	var levels, scales, mode, task string
	var instances int
	var where areaFlags
	cmd := &cobra.Command{
		Use:   "manage REF (--levels LEVELS | --scales SCALES) --mode MODE [--extent XMIN,YMIN,XMAX,YMAX --sr WKID | --aoi FILE.geojson]",
		Short: "Create, update or delete the tiles of some levels (Manage Map Cache Tiles)",
		Long: `Run the Manage Map Cache Tiles task on a cached map or image service: create,
replace or delete the tiles of the given levels (or scales), everywhere,
inside an extent, or inside the polygons of a GeoJSON file (--aoi: a
Polygon, MultiPolygon, Feature or FeatureCollection of those, in longitude
and latitude; sent in the service's spatial reference when it is Web
Mercator or WGS84, else in WKID 4326 for the server to project).

MODE is RECREATE_ALL_TILES, RECREATE_EMPTY_TILES or DELETE_TILES (or one of
the job modes COMPLETE_JOB, FIX_JOB, RESUME_JOB). LEVELS are levels of the
cache's tiling scheme, e.g. 14-16 or 0-5,10, sent as the scheme's exact
scales; or give SCALES, scale denominators of the scheme, e.g.
4513.99,2256.99. 'ags tiles scheme REF' lists both.`,
		Example: `  ags cache manage Maps/Roads.MapServer --levels 17-18 --mode RECREATE_ALL_TILES \
    --aoi changed.geojson --timeout 4h
  ags cache manage Maps/Roads.MapServer --scales 4513.99,2256.99 --mode DELETE_TILES \
    --extent -13686000,5696000,-13620000,5730000 --sr 3857`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			var area *aoiFile
			req := ags.ManageCacheRequest{Service: ref, UpdateMode: ags.CacheUpdateMode(strings.ToUpper(mode)),
				Instances: instances, TaskPath: task}
			switch {
			case levels != "" && scales != "":
				return usageErr("--levels and --scales: give one")
			case levels == "" && scales == "":
				return usageErr("--levels or --scales is required, e.g. --levels 14-16")
			case levels != "":
				if req.Levels, err = ags.ParseLevels(levels); err != nil {
					return flagErr(err, manageFlags)
				}
			default:
				if req.Scales, err = parseScales(scales, true); err != nil {
					return err
				}
			}
			if req.Extent, area, err = where.parse(); err != nil {
				return err
			}
			// The SDK's rules, before any request: with --aoi the scheme
			// is read before ManageCache would check the request. The
			// area itself was checked by readAOI.
			if err := req.Validate(); err != nil {
				return flagErr(err, manageFlags)
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
					// A level or scale the scheme does not have.
					return flagErr(err, manageFlags)
				}
				return submittedGPJob(ctx, s, &w, taskPath, ref, job)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&levels, "levels", "", "levels of the tiling scheme, e.g. 14-16 or 0-5,10")
	f.StringVar(&scales, "scales", "", "scale denominators instead of levels, e.g. 4513.99,2256.99")
	f.StringVar(&mode, "mode", "", "RECREATE_ALL_TILES, RECREATE_EMPTY_TILES or DELETE_TILES")
	where.add(cmd, "area: xmin,ymin,xmax,ymax in --sr", "area: the polygons of a GeoJSON file")
	f.IntVar(&instances, "instances", 0, "CachingTools instances to use (default: as many as the server allows)")
	f.StringVar(&task, "task", "", "the task's path, e.g. \"System/CachingControllers/GPServer/Manage Map Cache Tiles\" (default the CachingTools one)")
	w.add(cmd, true)
	return cmd
}

// manageFlags are the flags of 'cache manage' that set the fields of an
// ags.ManageCacheRequest.
var manageFlags = map[string]string{"Service": "REF", "UpdateMode": "--mode", "Instances": "--instances",
	"Scales": "--scales", "Levels": "--levels", "levels": "--levels", "Extent": "--extent", "extent": "--extent", "TaskPath": "--task",
	"task path": "--task"}

// createFlags are the flags of 'cache create' that set the fields of an
// ags.CreateCacheRequest.
var createFlags = map[string]string{"Service": "REF", "OutFolder": "--out-folder", "Scales": "--scales",
	"StorageFormat": "--storage", "TileFormat": "--format", "TileCompressionQuality": "--quality", "DPI": "--dpi",
	"TileWidth": "--tile-size", "TileHeight": "--tile-size", "TileOrigin": "--origin"}

// statusFlags are the flags of 'cache status' that set the fields of an
// ags.CacheStatusRequest.
var statusFlags = map[string]string{"Service": "REF", "Mode": "--mode", "Levels": "--levels", "Scales": "--scales",
	"Extent": "--extent", "extent": "--extent", "Instances": "--instances"}

// scalesFlags and deleteFlags are the flags of 'cache scales' and 'cache
// delete' that set request fields.
var (
	scalesFlags = map[string]string{"Service": "REF", "Scales": "--scales"}
	deleteFlags = map[string]string{"Service": "REF", "Instances": "--instances"}
)

// runCacheTask checks req before any request, naming the flag at fault
// (flags), then on each site submits the caching task and follows its job.
func (a *app) runCacheTask(cmd *cobra.Command, w *waitFlags, ref ags.ServiceRef, task string,
	req interface{ Validate() error }, flags map[string]string,
	submit func(context.Context, *ags.Client) (*ags.Job[*ags.GPResult], error)) error {
	if err := req.Validate(); err != nil {
		return flagErr(err, flags)
	}
	return a.each(cmd, func(ctx context.Context, s *site) error {
		job, err := submit(ctx, s.c)
		if err != nil {
			return err
		}
		return submittedGPJob(ctx, s, w, task, ref, job)
	})
}

// flagErr names the flag of a request's *ags.ValidationError, e.g. "--mode:
// invalid UpdateMode: ...", as a usage error (exit 2). flags maps a field,
// or the part of it before the first '.' or '[', to its flag.
func flagErr(err error, flags map[string]string) error {
	var ve *ags.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	field := ve.Field
	if i := strings.IndexAny(field, ".["); i >= 0 {
		field = field[:i]
	}
	if flag, ok := flags[field]; ok {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", flag, err)}
	}
	return &exitError{code: exitUsage, err: err}
}

// parseScales reads scale denominators separated by ',' or ';', e.g.
// "4513.99,2256.99".
func parseScales(text string, required bool) ([]float64, error) {
	if strings.TrimSpace(text) == "" {
		if required {
			return nil, usageErr("--scales is required, e.g. --scales 4513.99,2256.99")
		}
		return nil, nil
	}
	var out []float64
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' }) {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			return nil, usageErr("--scales: %q is not a scale denominator", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, usageErr("--scales %q: no scale in it", text)
	}
	return out, nil
}

// submittedGPJob reports a caching tools job just submitted for ref and,
// unless --no-wait, waits for it.
func submittedGPJob(ctx context.Context, s *site, w *waitFlags, task string, ref ags.ServiceRef, job *ags.Job[*ags.GPResult]) error {
	jr := jobRef{Kind: kindGP, Path: task, ID: job.ID()}
	recs := []jobRecord{{Job: jr.String(), Kind: jr.Kind, ID: jr.ID, Target: ref.String()}}
	submitted(s, recs, !w.waiting())
	if !w.waiting() {
		return nil
	}
	return codesErr(waitJobs(ctx, s, w, []*ags.Job[*ags.GPResult]{job}, recs, gpResult))
}

func (a *app) cacheCreateCmd() *cobra.Command {
	var w waitFlags
	var outFolder, scales, storage, format, origin string
	var quality, dpi, tileSize int
	var localDir bool
	cmd := &cobra.Command{
		Use:   "create REF --out-folder DIR --scales SCALES [--format PNG] [--storage COMPACT] [--tile-size 256] [--dpi 96]",
		Short: "Give a service a tiling scheme and cache folders (Create Map Cache)",
		Long: `Run the Create Map Cache task: give a map or image service a tile cache in
a registered server cache directory (--out-folder), with one level per scale
denominator (--scales, in any order). No tile is built: build them with
'ags cache manage'. An existing cache of the service is replaced.

--format is PNG (the default), PNG8, PNG24, PNG32, JPEG, MIXED or LERC;
--quality (1-100, default 75) applies to JPEG and MIXED only. --storage is
COMPACT (the default) or EXPLODED. Tiles are 128, 256 (the default), 512
or 1024 pixels square. --origin X,Y is the upper left corner of the tile
grid in the service's spatial reference (default: the server's).`,
		Example: `  ags cache create Maps/Roads.MapServer --out-folder 'c:\arcgisserver\directories\arcgiscache' \
    --scales 591657527.591555,295828763.795778,147914381.897889 --format JPEG --quality 80`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			req := ags.CreateCacheRequest{Service: ref, OutFolder: outFolder,
				StorageFormat: ags.CacheStorageFormat(strings.ToUpper(storage)), TileFormat: ags.CacheTileFormat(strings.ToUpper(format)),
				TileCompressionQuality: quality, DPI: dpi, TileWidth: tileSize, TileHeight: tileSize}
			if req.Scales, err = parseScales(scales, true); err != nil {
				return err
			}
			if origin != "" {
				parts := strings.Split(origin, ",")
				if len(parts) != 2 {
					return usageErr("--origin %q: want X,Y", origin)
				}
				var xy [2]float64
				for i, p := range parts {
					if xy[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
						return usageErr("--origin %q: %q is not a number", origin, p)
					}
				}
				req.TileOrigin = &ags.Point{X: xy[0], Y: xy[1]}
			}
			if cmd.Flags().Changed("local-cache-dir") {
				req.UseLocalCacheDir = ags.Ptr(localDir)
			}
			return a.runCacheTask(cmd, &w, ref, ags.CreateMapCacheTask, req, createFlags,
				func(ctx context.Context, c *ags.Client) (*ags.Job[*ags.GPResult], error) {
					return c.Tiles.CreateCache(ctx, req)
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&outFolder, "out-folder", "", "the server cache directory the cache goes in")
	f.StringVar(&scales, "scales", "", "scale denominators of the levels, e.g. 591657527.591555,295828763.795778")
	f.StringVar(&format, "format", "", "tile format: PNG (default), PNG8, PNG24, PNG32, JPEG, MIXED or LERC")
	f.IntVar(&quality, "quality", 0, "JPEG and MIXED compression quality, 1-100 (default 75)")
	f.StringVar(&storage, "storage", "", "COMPACT (default) or EXPLODED")
	f.IntVar(&tileSize, "tile-size", 0, "tile width and height in pixels: 128, 256 (default), 512 or 1024")
	f.IntVar(&dpi, "dpi", 0, "dots per inch (default 96)")
	f.StringVar(&origin, "origin", "", "tile origin X,Y in the service's spatial reference (default: the server's)")
	f.BoolVar(&localDir, "local-cache-dir", false, "write bundles to a local directory on each machine first (default: the server's)")
	w.add(cmd, true)
	return cmd
}

func (a *app) cacheStatusCmd() *cobra.Command {
	var w waitFlags
	var mode, levels, scales string
	var instances int
	var where areaFlags
	cmd := &cobra.Command{
		Use:   "status REF --mode MODE [--levels LEVELS | --scales SCALES] [--extent XMIN,YMIN,XMAX,YMAX --sr WKID]",
		Short: "Report, rebuild or delete the status of a cache (Manage Map Cache Status)",
		Long: `Run the Manage Map Cache Status task on a cached map or image service. MODE
is one of:

  REPORT_TILE_STATUS, REPORT_BUNDLE_STATUS, REPORT_BUNDLE_SIZE,
  REPORT_BUNDLE_TIME   report on the cache (the task's result is printed)
  REBUILD_CACHE_STATUS rebuild the status the reports are made from
  DELETE_CACHE_STATUS  delete that status

The work covers the given levels (or scales) of the cache's tiling scheme,
every level without either, inside an extent if given.`,
		Example: `  ags cache status Maps/Roads.MapServer --mode REPORT_TILE_STATUS --levels 14-16 -o json
  ags cache status Maps/Roads.MapServer --mode REBUILD_CACHE_STATUS --no-wait`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			req := ags.CacheStatusRequest{Service: ref, Mode: ags.CacheStatusMode(strings.ToUpper(mode)), Instances: instances}
			if levels != "" {
				if req.Levels, err = ags.ParseLevels(levels); err != nil {
					return err
				}
			}
			if req.Scales, err = parseScales(scales, false); err != nil {
				return err
			}
			if req.Extent, _, err = where.parse(); err != nil {
				return err
			}
			return a.runCacheTask(cmd, &w, ref, ags.ManageMapCacheStatusTask, req, statusFlags,
				func(ctx context.Context, c *ags.Client) (*ags.Job[*ags.GPResult], error) {
					return c.Tiles.CacheStatus(ctx, req)
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "", "REPORT_TILE_STATUS, REPORT_BUNDLE_STATUS, REPORT_BUNDLE_SIZE, REPORT_BUNDLE_TIME, REBUILD_CACHE_STATUS or DELETE_CACHE_STATUS")
	f.StringVar(&levels, "levels", "", "cache levels, e.g. 14-16 (default: every level)")
	f.StringVar(&scales, "scales", "", "scale denominators instead of levels, e.g. 4513.99,2256.99")
	where.add(cmd, "area: xmin,ymin,xmax,ymax in --sr", "")
	f.IntVar(&instances, "instances", 0, "CachingTools instances to use (default: as many as the server allows)")
	w.add(cmd, true)
	return cmd
}

func (a *app) cacheScalesCmd() *cobra.Command {
	var w waitFlags
	var scales string
	var yes bool
	cmd := &cobra.Command{
		Use:   "scales REF --scales SCALES --yes",
		Short: "Replace the scales of a cache (Manage Map Cache Scales)",
		Long: `Run the Manage Map Cache Scales task: SCALES becomes the complete list of
the cache's scale denominators. Scales not listed are removed from the
tiling scheme with their tiles; new ones are added without tiles (build
them with 'ags cache manage'). Since tiles may be lost, nothing is sent
without --yes (exit 2, before any request). List the current scales with
'ags tiles scheme REF'.`,
		Example: `  ags cache scales Maps/Roads.MapServer --scales 18055.954822,9027.977411,4513.988705,2256.994353 --yes`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			req := ags.CacheScalesRequest{Service: ref}
			if req.Scales, err = parseScales(scales, true); err != nil {
				return err
			}
			if !yes {
				return usageErr("cache scales removes the scales of %s not listed, and their tiles: add --yes to confirm", ref.String())
			}
			return a.runCacheTask(cmd, &w, ref, ags.ManageMapCacheScalesTask, req, scalesFlags,
				func(ctx context.Context, c *ags.Client) (*ags.Job[*ags.GPResult], error) {
					return c.Tiles.SetCacheScales(ctx, req)
				})
		},
	}
	cmd.Flags().StringVar(&scales, "scales", "", "every scale denominator the cache is to have")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: scales not listed are removed with their tiles")
	w.add(cmd, true)
	return cmd
}

func (a *app) cacheDeleteCmd() *cobra.Command {
	var w waitFlags
	var yes bool
	var instances int
	cmd := &cobra.Command{
		Use:   "delete REF --yes",
		Short: "Delete a service's whole cache and restart the service (DeleteCache)",
		Long: `Run the DeleteCache task: delete every tile of a map or image service's cache
and its tiling scheme, and restart the service. It cannot be undone. To
delete some tiles but keep the cache, use 'ags cache manage --mode
DELETE_TILES'. Nothing is sent without --yes (exit 2, before any request).`,
		Example: `  ags cache delete Maps/Roads.MapServer --yes`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			if !yes {
				return usageErr("cache delete deletes the whole cache of %s, which cannot be undone, and restarts the service: add --yes to confirm", ref.String())
			}
			req := ags.DeleteCacheRequest{Service: ref, Instances: instances}
			return a.runCacheTask(cmd, &w, ref, ags.DeleteCacheTask, req, deleteFlags,
				func(ctx context.Context, c *ags.Client) (*ags.Job[*ags.GPResult], error) {
					return c.Tiles.DeleteCacheAndRestartService(ctx, req)
				})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: delete the whole cache and restart the service")
	cmd.Flags().IntVar(&instances, "instances", 0, "CachingTools instances to use (default: as many as the server allows)")
	w.add(cmd, true)
	return cmd
}
