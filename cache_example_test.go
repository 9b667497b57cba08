package ags_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// Read a cached service's tiling scheme, turn a GeoJSON file of changed
// areas into the service's spatial reference, and count the tiles a
// rebuild of levels 15-17 would cost before starting it.
func ExampleTileScheme_Estimate() {
	c, srv := emulator()
	defer srv.Close()
	srv.AddService("Basemaps", "Streets", "MapServer", nil)
	srv.SetTileScheme("Basemaps", "Streets", "MapServer", agstest.WebMercatorScheme(19, [4]float64{0, 0, 1, 1}))
	ctx := context.Background()
	streets := ags.ServiceRef{Folder: "Basemaps", Name: "Streets", Type: ags.MapServer}

	scheme, err := c.Tiles.Scheme(ctx, streets)
	if err != nil {
		fmt.Println(err)
		return
	}
	changed := []byte(`{"type":"Polygon","coordinates":[[[35.49,33.89],[35.51,33.89],[35.51,33.91],[35.49,33.91],[35.49,33.89]]]}`)
	area, err := ags.GeoJSONArea(changed, *scheme.SpatialReference)
	if err != nil {
		fmt.Println(err)
		return
	}
	levels, _ := ags.ParseLevels("15-17")
	est, err := scheme.Estimate(*area.Extent, levels)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range est.Levels {
		fmt.Printf("level %d (1:%v): %d tiles\n", l.Level, l.Scale, l.Tiles)
	}
	fmt.Println("total", est.Total)
	// Output:
	// level 15 (1:18055.954822): 9 tiles
	// level 16 (1:9027.977411): 25 tiles
	// level 17 (1:4513.988705): 80 tiles
	// total 114
}

// A hosted tile layer's update fails part way: the statistics come back
// with the error, and the failed parts are rerun from the job ID.
func ExampleTilesService_Rerun() {
	c, srv := emulator()
	defer srv.Close()
	srv.AddService("", "WorldService", "MapServer", nil)
	srv.SetTileScheme("", "WorldService", "MapServer", agstest.WebMercatorScheme(19, [4]float64{0, 0, 1, 1}))
	srv.FailTiles(17)
	ctx := context.Background()
	world := ags.ServiceRef{Name: "WorldService", Type: ags.MapServer}

	levels, _ := ags.ParseLevels("16-17")
	extent := &ags.Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043,
		SpatialReference: &ags.SpatialReference{WKID: 102100}}
	job, err := c.Tiles.Update(ctx, world, ags.UpdateTilesRequest{Levels: levels, Extent: extent})
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := job.Wait(ctx, nil)
	var failed *ags.TileJobError
	if errors.As(err, &failed) {
		for _, l := range stats.LevelStats {
			fmt.Printf("level %d: %d of %d tiles\n", l.Level, l.NumTiles, l.EstimatedNumTiles)
		}
		fmt.Println("to redo:", stats.UnfinishedLevels())
	}
	job, err = c.Tiles.Rerun(ctx, world, job.ID(), ags.RerunErrors) // the stored job ID is enough
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err = job.Wait(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(stats.JobStatus, "nothing left:", stats.UnfinishedLevels().IsZero())
	// Output:
	// level 16: 4 of 4 tiles
	// level 17: 8 of 16 tiles
	// to redo: 17
	// DONE nothing left: true
}
