// Command updatetiles rebuilds the tiles of a hosted tile service for some
// levels, optionally inside an extent, and waits with progress.
//
//	AGS_PASSWORD=... go run ./examples/updatetiles -url https://tiles.arcgis.com/tiles/<orgId>/arcgis \
//	    -user publisher -service WorldService.MapServer -levels 0-5,10 -extent 3950569,4015211,3951304,4016043,102100
//
// Without -url it runs against an embedded emulator.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("updatetiles", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	service := fs.String("service", "WorldService.MapServer", "hosted tile service: [Folder/]Name.MapServer, or its URL")
	levelsFlag := fs.String("levels", "0-5", "levels to update, e.g. 0-5,10,11-20")
	extentFlag := fs.String("extent", "3950569,4015211,3951304,4016043,102100", "area to update: xmin,ymin,xmax,ymax,wkid")
	merge := fs.Bool("merge", false, "merge new bundles with existing ones (compact caches)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up waiting after this long (the job keeps running)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	levels, err := ags.ParseLevels(*levelsFlag)
	if err != nil {
		return err
	}
	extent, err := cli.ParseExtent(*extentFlag)
	if err != nil {
		return err
	}
	ref, err := ags.ParseServiceRef(*service)
	if err != nil {
		return err
	}
	site.Seed = func(s *agstest.Server) { // a hosted tile layer, cached over the extent
		s.AddService(ref.Folder, ref.Name, string(ref.Type), nil)
		s.SetTileScheme(ref.Folder, ref.Name, string(ref.Type),
			agstest.WebMercatorScheme(19, [4]float64{extent.XMin, extent.YMin, extent.XMax, extent.YMax}))
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

	req := ags.UpdateTilesRequest{Levels: levels, Extent: extent}
	if *merge {
		req.MergeBundle = ags.Ptr(true)
	}
	job, err := c.Tiles.Update(ctx, ref, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "updateTiles job %s submitted for %s, levels %s\n", job.ID(), ref, levels)
	progress := cli.NewProgress(stdout)
	stats, err := job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("updateTiles")})
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Done: %d tiles (%d bytes) in %d tasks\n", stats.NumTiles, stats.TilesSize, stats.NumTasks)
	for _, l := range stats.LevelStats {
		fmt.Fprintf(stdout, "  level %d: %d tiles\n", l.Level, l.NumTiles)
	}
	return nil
}
