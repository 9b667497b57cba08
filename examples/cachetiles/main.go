// Command cachetiles runs the Manage Map Cache Tiles task on a map or image
// service of a standalone ArcGIS Server, for some scales, optionally only
// inside an area of interest, and waits with progress.
//
//	AGS_PASSWORD=... go run ./examples/cachetiles -url https://gis.example.com:6443/arcgis \
//	    -user admin -service Basemaps/Streets.MapServer -scales '4513.99;2256.99' \
//	    -mode RECREATE_ALL_TILES -aoi boundary.json
//
// -aoi names a JSON file holding a feature set of polygons (the
// area_of_interest parameter), e.g.
//
//	{"geometryType":"esriGeometryPolygon","spatialReference":{"wkid":102100},
//	 "features":[{"geometry":{"rings":[[[x,y],...]]}}]}
//
// Without -url it runs against an embedded emulator.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cachetiles", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	service := fs.String("service", "Basemaps/Streets.MapServer", "cached service: Folder/Name.MapServer or .ImageServer, or its URL")
	scalesFlag := fs.String("scales", "4513.99;2256.99", "scale denominators, ';'-separated")
	mode := fs.String("mode", string(ags.RecreateAllTiles), "update mode: RECREATE_ALL_TILES, RECREATE_EMPTY_TILES, DELETE_TILES, COMPLETE_JOB, FIX_JOB, RESUME_JOB")
	instances := fs.Int("instances", 0, "caching service instances to use (0: as many as the server allows)")
	aoiFile := fs.String("aoi", "", "area of interest: a JSON feature set file of polygons")
	task := fs.String("task", "", "task path (default "+ags.ManageMapCacheTilesTask+")")
	timeout := fs.Duration("timeout", 2*time.Hour, "give up waiting after this long (the job keeps running)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	scales, err := cli.ParseScales(*scalesFlag)
	if err != nil {
		return err
	}
	ref, err := ags.ParseServiceRef(*service)
	if err != nil {
		return err
	}
	req := ags.ManageCacheRequest{Service: ref, Scales: scales,
		UpdateMode: ags.CacheUpdateMode(strings.ToUpper(*mode)), Instances: *instances, TaskPath: *task}
	if *aoiFile != "" {
		b, err := os.ReadFile(*aoiFile)
		if err != nil {
			return err
		}
		var fset ags.FeatureSet
		if err := json.Unmarshal(b, &fset); err != nil {
			return fmt.Errorf("%s: %w", *aoiFile, err)
		}
		req.AreaOfInterest = &fset
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
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	job, err := c.Tiles.ManageCache(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Manage Map Cache Tiles job %s submitted for %s (%s, %d scales)\n", job.ID(), ref, req.UpdateMode, len(scales))
	progress := cli.NewProgress(stdout)
	res, err := job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("cache")})
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Cache job %s %s\n", res.JobID, res.Status)
	return nil
}
