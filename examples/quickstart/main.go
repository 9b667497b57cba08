// Command quickstart runs the main job of the SDK end to end: sign in,
// create a map service in a folder, refresh it (waiting with progress),
// update the tiles of a hosted tile layer for a few levels inside an extent
// (waiting with progress), and show the service's status.
//
//	go run ./examples/quickstart
//
// runs against an embedded ArcGIS Server emulator, which also holds a
// hosted tile layer (Hosted/Basemap.MapServer) for the tiles step. Against
// a real site:
//
//	AGS_PASSWORD=... go run ./examples/quickstart -url https://gis.example.com:6443/arcgis \
//	    -user publisher -f service.json -folder Quickstart -tiles Hosted/Basemap.MapServer
//
// where service.json is a service definition your server can create (a map
// service's "properties" must point at a file the server can read). An
// existing service of that name is used as it is. updateTiles exists only
// on hosted tile layers: without -tiles the tiles step is skipped (a
// standalone server's caches are rebuilt with Manage Map Cache Tiles, as
// examples/cachetiles does).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	folder := fs.String("folder", "Quickstart", "folder to create the service in")
	name := fs.String("name", "Roads", "name of the service to create (with -f, the definition's serviceName wins)")
	defFile := fs.String("f", "", "service definition JSON file (default: a small map service)")
	levelsFlag := fs.String("levels", "12-15", "tile levels to update, e.g. 0-5,10")
	extentFlag := fs.String("extent", "-13046000,4035000,-13042000,4039000,102100", "extent to update: xmin,ymin,xmax,ymax,wkid")
	tilesFlag := fs.String("tiles", "", "hosted tile layer to update, e.g. Hosted/Basemap.MapServer (default on the emulator: that one; empty on a real site: skip the tiles step)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var layer ags.ServiceRef
	if *tilesFlag != "" {
		var err error
		if layer, err = ags.ParseServiceRef(*tilesFlag); err != nil {
			return err
		}
	}
	levels, err := ags.ParseLevels(*levelsFlag)
	if err != nil {
		return err
	}
	extent, err := cli.ParseExtent(*extentFlag)
	if err != nil {
		return err
	}
	def, err := definition(*defFile, *name)
	if err != nil {
		return err
	}

	emulated := site.URL == ""
	if emulated && layer.IsZero() {
		layer = demoLayer
	}
	site.Seed = func(srv *agstest.Server) { seedTileLayer(srv, extent) }
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

	// 1. Sign in: the first call fetches a token.
	root, err := c.Services.List(ctx, "")
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	fmt.Fprintf(stdout, "1. Signed in as %s: %d folders, %d services in the root folder\n",
		site.User, len(root.Folders), len(root.Services))

	// 2. A folder and a service in it.
	if !slices.Contains(root.Folders, *folder) {
		if err := c.Services.CreateFolder(ctx, *folder, "Created by the ags quickstart"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "2. Created folder %s\n", *folder)
	}
	ref := ags.ServiceRef{Folder: *folder, Name: def.ServiceName, Type: def.Type}
	label := ref.String()
	switch err := c.Services.Create(ctx, *folder, def); {
	case err == nil:
		fmt.Fprintf(stdout, "2. Created service %s\n", label)
	case errors.Is(err, ags.ErrServiceExists):
		fmt.Fprintf(stdout, "2. Service %s already exists; using it\n", label)
	default:
		return err
	}

	// 3. Refresh it, watching the job.
	progress := cli.NewProgress(stdout)
	job, err := c.Services.Refresh(ctx, ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "3. Refresh Service job %s submitted\n", job.ID())
	if _, err := job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("refresh")}); err != nil {
		progress.Done()
		return err
	}
	progress.Done()

	// 4. Update a hosted tile layer's tiles for the levels and extent,
	// watching the job.
	if layer.IsZero() {
		fmt.Fprintln(stdout, "4. No -tiles layer given: skipping updateTiles (hosted tile layers only)")
	} else if err := updateTiles(ctx, c, layer, levels, extent, progress, stdout); err != nil {
		return err
	}

	// 5. The service's status.
	st, err := c.Services.Status(ctx, ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "5. %s: configured %s, running %s\n", label, st.ConfiguredState, st.RealTimeState)
	return nil
}

// definition reads a service definition file, or returns a small map service.
func definition(path, name string) (ags.ServiceDefinition, error) {
	if path == "" {
		return ags.ServiceDefinition{
			ServiceName: name, Type: ags.MapServer, Description: "Roads, created by the ags quickstart",
			Capabilities: "Map,Query,Data", MinInstancesPerNode: 1, MaxInstancesPerNode: 2,
			Properties: ags.ServiceProperties{"filePath": `\\share\data\roads.mapx`, "isCached": "true"},
		}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ags.ServiceDefinition{}, err
	}
	var def ags.ServiceDefinition
	if err := json.Unmarshal(b, &def); err != nil {
		return ags.ServiceDefinition{}, fmt.Errorf("%s: %w", path, err)
	}
	if def.ServiceName == "" {
		def.ServiceName = name
	}
	return def, def.Validate()
}

// demoLayer is the hosted tile layer the embedded emulator holds.
var demoLayer = ags.ServiceRef{Folder: "Hosted", Name: "Basemap", Type: ags.MapServer}

// seedTileLayer gives the embedded emulator a hosted tile layer, cached in
// the ArcGIS Online tiling scheme over the quickstart's extent.
func seedTileLayer(srv *agstest.Server, extent *ags.Extent) {
	srv.AddService(demoLayer.Folder, demoLayer.Name, string(demoLayer.Type), nil)
	srv.SetTileScheme(demoLayer.Folder, demoLayer.Name, string(demoLayer.Type),
		agstest.WebMercatorScheme(19, [4]float64{extent.XMin, extent.YMin, extent.XMax, extent.YMax}))
}

// updateTiles rebuilds the layer's tiles of levels inside extent and waits
// for the tile job, showing its progress.
func updateTiles(ctx context.Context, c *ags.Client, layer ags.ServiceRef, levels ags.Levels, extent *ags.Extent,
	progress *cli.Progress, stdout io.Writer) error {
	tiles, err := c.Tiles.Update(ctx, layer, ags.UpdateTilesRequest{Levels: levels, Extent: extent})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "4. updateTiles job %s submitted for %s, levels %s\n", tiles.ID(), layer, levels)
	stats, err := tiles.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("updateTiles")})
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "4. Tiles updated: %d of ~%d tiles, %d bytes, %d tasks\n",
		stats.NumTiles, stats.EstimatedNumTiles, stats.TilesSize, stats.NumTasks)
	return nil
}
