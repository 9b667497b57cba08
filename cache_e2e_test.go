package ags_test

// The cache lifecycle end to end against the agstest emulator: the scheme
// read, the estimate agreeing with what the emulator builds, a partial
// failure with its per-level record, and the resume paths.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// changedArea is a GeoJSON polygon of about 2 x 2 km around lon 35.5, lat
// 33.9 (Beirut), well inside Web Mercator.
const changedArea = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":
 {"type":"Polygon","coordinates":[[[35.49,33.89],[35.51,33.89],[35.51,33.91],[35.49,33.91],[35.49,33.89]]]}}]}`

// cacheClient is the reliability harness's client: at the end of each
// test no token or password may show in its log, in the kept values or in
// any URL the server saw.
func cacheClient(t *testing.T, srv *agstest.Server) (*ags.Client, *harness) {
	t.Helper()
	h := newHarness(t, srv)
	return h.client, h
}

var fastPoll = &ags.PollOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

func TestCacheLifecycleStandalone(t *testing.T) {
	srv := agstest.NewServer(agstest.WithJobDuration(20 * time.Millisecond))
	defer srv.Close()
	srv.AddService("Basemaps", "Streets", "MapServer", nil)
	c, h := cacheClient(t, srv)
	defer h.checkNoSecrets()
	ctx := context.Background()
	streets := ags.ServiceRef{Folder: "Basemaps", Name: "Streets", Type: ags.MapServer}

	// Create the cache: scales of the ArcGIS Online scheme, levels 0-3 here.
	job, err := c.Tiles.CreateCache(ctx, ags.CreateCacheRequest{Service: streets, OutFolder: `c:\arcgiscache`,
		Scales:     []float64{72223.819286, 36111.909643, 18055.954822, 9027.977411},
		TileOrigin: &ags.Point{X: -20037508.342787, Y: 20037508.342787}})
	require.NoError(t, err)
	_, err = job.Wait(ctx, fastPoll)
	require.NoError(t, err)

	sch, err := c.Tiles.Scheme(ctx, streets)
	require.NoError(t, err)
	require.Len(t, sch.LODs, 4)
	assert.Equal(t, 18055.954822, sch.LODs[2].Scale)

	area, err := ags.GeoJSONArea([]byte(changedArea), *sch.SpatialReference)
	require.NoError(t, err)
	levels, err := ags.ParseLevels("2-3")
	require.NoError(t, err)
	est, err := sch.Estimate(*area.Extent, levels)
	require.NoError(t, err)
	require.Len(t, est.Levels, 2)

	// Level 3 fails half its tiles.
	srv.FailTiles(3)
	job, err = c.Tiles.ManageCache(ctx, ags.ManageCacheRequest{Service: streets, Levels: levels,
		UpdateMode: ags.RecreateAllTiles, AreaOfInterest: area.FeatureSet, Instances: 2})
	require.NoError(t, err)
	_, err = job.Wait(ctx, fastPoll)
	h.keep(err, job)
	var je *ags.JobError
	require.ErrorAs(t, err, &je)
	assert.True(t, errors.Is(err, ags.ErrJobFailed))
	assert.Equal(t, int(est.Levels[0].Tiles), srv.TileCount("Basemaps", "Streets", "MapServer", 2), "the estimate is what was built")
	n3 := est.Levels[1].Tiles
	assert.Equal(t, int(n3-n3/2), srv.TileCount("Basemaps", "Streets", "MapServer", 3), "every second tile failed")

	// Resume from the stored job ID alone.
	resumed, err := c.Tiles.ResumeCache(ctx, "", je.JobID)
	require.NoError(t, err)
	_, err = resumed.Wait(ctx, fastPoll)
	require.NoError(t, err)
	assert.Equal(t, int(est.Levels[1].Tiles), srv.TileCount("Basemaps", "Streets", "MapServer", 3), "the empty tiles are built")

	// Report, then remove the cache.
	job, err = c.Tiles.CacheStatus(ctx, ags.CacheStatusRequest{Service: streets, Mode: ags.ReportTileStatus})
	require.NoError(t, err)
	_, err = job.Wait(ctx, fastPoll)
	require.NoError(t, err)
	job, err = c.Tiles.DeleteCacheAndRestartService(ctx, ags.DeleteCacheRequest{Service: streets})
	require.NoError(t, err)
	_, err = job.Wait(ctx, fastPoll)
	require.NoError(t, err)
	_, err = c.Tiles.Scheme(ctx, streets)
	assert.ErrorIs(t, err, ags.ErrNoTileScheme)
}

func TestCacheLifecycleHosted(t *testing.T) {
	srv := agstest.NewServer(agstest.WithJobDuration(20 * time.Millisecond))
	defer srv.Close()
	srv.AddService("", "WorldService", "MapServer", nil)
	srv.SetTileScheme("", "WorldService", "MapServer", agstest.WebMercatorScheme(19, [4]float64{3950569, 4015211, 3951304, 4016043}))
	srv.SetTileScheme("", "WorldService", "MapServer", agstest.WebMercatorScheme(18, [4]float64{3940000, 4010000, 3960000, 4020000}))
	c, h := cacheClient(t, srv)
	defer h.checkNoSecrets()
	ctx := context.Background()
	world := ags.ServiceRef{Name: "WorldService"}

	sch, err := c.Tiles.Scheme(ctx, world)
	require.NoError(t, err)
	area, err := ags.GeoJSONArea([]byte(changedArea), *sch.SpatialReference)
	require.NoError(t, err)
	levels, _ := ags.ParseLevels("15-17")
	est, err := sch.Estimate(*area.Extent, levels)
	require.NoError(t, err)

	srv.FailTiles(17)
	job, err := c.Tiles.Update(ctx, world, ags.UpdateTilesRequest{Levels: levels, Extent: area.Extent})
	require.NoError(t, err)
	stats, err := job.Wait(ctx, fastPoll)
	h.keep(err, stats, sch, area, est)
	var te *ags.TileJobError
	require.ErrorAs(t, err, &te)
	require.NotNil(t, stats)
	assert.Equal(t, "PARTIALERROR", stats.JobStatus)
	assert.Equal(t, "17", stats.UnfinishedLevels().String())
	for i, ls := range stats.LevelStats {
		assert.Equal(t, est.Levels[i].Tiles, int64(ls.EstimatedNumTiles), "level %d: the SDK's estimate and the server's agree", ls.Level)
	}

	// Resume from the stored job ID: rerun the failed parts.
	again, err := c.Tiles.Rerun(ctx, world, job.ID(), ags.RerunErrors)
	require.NoError(t, err)
	stats, err = again.Wait(ctx, fastPoll)
	require.NoError(t, err)
	assert.True(t, stats.UnfinishedLevels().IsZero())
	assert.Equal(t, int(est.Levels[2].Tiles), srv.TileCount("", "WorldService", "MapServer", 17))

	del, err := c.Tiles.DeleteTiles(ctx, world, ags.DeleteTilesRequest{Levels: levels, Extent: area.Extent})
	require.NoError(t, err)
	_, err = del.Wait(ctx, fastPoll)
	require.NoError(t, err)
	assert.Zero(t, srv.TileCount("", "WorldService", "MapServer", 17))
	require.NoError(t, c.Tiles.DeleteAllTiles(ctx, world))

	// Cancel a running job, then a cancel of the ended job is refused.
	slow := agstest.NewServer(agstest.WithJobDuration(time.Hour))
	defer slow.Close()
	slow.AddService("", "WorldService", "MapServer", nil)
	slow.SetTileScheme("", "WorldService", "MapServer", agstest.WebMercatorScheme(19, [4]float64{3950569, 4015211, 3951304, 4016043}))
	sc, sh := cacheClient(t, slow)
	defer sh.checkNoSecrets()
	job, err = sc.Tiles.Update(ctx, world, ags.UpdateTilesRequest{Levels: levels, Extent: area.Extent})
	require.NoError(t, err)
	require.NoError(t, job.Cancel(ctx))
	st, err := job.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, ags.JobCancelled, st.State)
	err = job.Cancel(ctx)
	assert.Error(t, err)
	sh.keep(err)
}
