package agstest

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// box is the updateTiles example's extent (a 735 x 832 m box, Web Mercator).
var box = [4]float64{3950569, 4015211, 3951304, 4016043}

func TestServiceDescriptionTileInfo(t *testing.T) {
	t.Parallel()
	srv := start(t)
	srv.AddService("Basemaps", "Streets", "MapServer", nil)
	srv.AddService("", "Plain", "MapServer", nil)
	srv.SetTileScheme("Basemaps", "Streets", "MapServer", WebMercatorScheme(18, box))
	c := login(t, srv)

	r := c.get("/rest/services/Basemaps/Streets/MapServer", nil)
	assert.Equal(t, true, r.body["singleFusedMapCache"])
	ti := r.obj("tileInfo")
	require.NotNil(t, ti)
	assert.Equal(t, 256.0, ti["rows"])
	assert.Equal(t, 256.0, ti["cols"])
	assert.Equal(t, map[string]any{"x": -20037508.342787, "y": 20037508.342787}, ti["origin"])
	lods := ti["lods"].([]any)
	require.Len(t, lods, 19)
	l17 := lods[17].(map[string]any)
	assert.Equal(t, 17.0, l17["level"])
	assert.Equal(t, 4513.988705, l17["scale"])
	assert.InDelta(t, 1.194328566955879, l17["resolution"], 1e-9)
	assert.Equal(t, 3950569.0, r.obj("fullExtent")["xmin"])

	r = c.get("/rest/services/Plain/MapServer", nil)
	assert.Nil(t, r.obj("tileInfo"), "a service that is not cached has no tileInfo")
	_, msg, _ := restErr(t, c.get("/rest/services/Nope/MapServer", nil))
	assert.Equal(t, "Service Nope/MapServer not found ", msg)
}

// TestHostedTileJobsOnScheme: tile counts come from the scheme and the
// extent (level 14: 1 tile, 15: 1, 16: 4, 17: 16, worked out by hand), a FailTiles
// level ends PARTIALERROR with its failures, a rerun of the errors builds
// what is missing, deleteTiles and deleteAllTiles empty the cache.
func TestHostedTileJobsOnScheme(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	srv.AddService("", "WorldService", "MapServer", nil)
	srv.SetTileScheme("", "WorldService", "MapServer", WebMercatorScheme(18, box))
	c := login(t, srv)
	const base = "/rest/admin/services/WorldService/MapServer"
	levelsOf := func(r response) map[float64][3]float64 {
		out := map[float64][3]float64{}
		for _, ls := range r.body["levelStats"].([]any) {
			m := ls.(map[string]any)
			out[m["level"].(float64)] = [3]float64{m["estimatedNumTiles"].(float64), m["numTiles"].(float64), m["numDoneTasks"].(float64)}
		}
		return out
	}

	id := c.post(base+"/updateTiles", url.Values{"levels": {"14-16"}, "extent": {goodExtent}}).body["jobId"].(string)
	r := c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, 6.0, r.body["estimatedNumTiles"], "estimates from the scheme before the job runs")
	clock.Advance(time.Second)
	r = c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, "DONE", r.body["jobStatus"])
	assert.Equal(t, map[float64][3]float64{14: {1, 1, 1}, 15: {1, 1, 1}, 16: {4, 4, 1}}, levelsOf(r))
	assert.Equal(t, 4, srv.TileCount("", "WorldService", "MapServer", 16))

	srv.FailTiles(17)
	id = c.post(base+"/updateTiles", url.Values{"levels": {"16-17"}, "extent": {goodExtent}}).body["jobId"].(string)
	clock.Advance(time.Second)
	r = c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, "PARTIALERROR", r.body["jobStatus"])
	assert.Equal(t, "8 of 20 tiles failed (levels 17).", r.body["message"])
	assert.Equal(t, map[float64][3]float64{16: {4, 4, 1}, 17: {16, 8, 0}}, levelsOf(r))
	assert.Equal(t, 1.0, r.body["numErrorTasks"])
	assert.Equal(t, 8, srv.TileCount("", "WorldService", "MapServer", 17))

	code, _, details := restErr(t, c.post(base+"/jobs/"+id+"/cancel", nil))
	assert.Equal(t, 400, code)
	assert.Equal(t, []string{"Unable to cancel job."}, details, "an ended job cannot be cancelled")

	r = c.post(base+"/jobs/"+id+"/rerun", url.Values{"code": {"ERROR"}})
	assert.Equal(t, map[string]any{"success": true}, r.body)
	r = c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, "SUBMITTED", r.body["jobStatus"], "the same job runs again")
	clock.Advance(time.Second)
	r = c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, "DONE", r.body["jobStatus"])
	assert.Equal(t, map[float64][3]float64{17: {16, 16, 1}}, levelsOf(r), "only the failed level runs again")
	assert.Equal(t, 16, srv.TileCount("", "WorldService", "MapServer", 17))
	code, _, details = restErr(t, c.post(base+"/jobs/"+id+"/rerun", url.Values{"code": {"SOME"}}))
	assert.Equal(t, []string{"Unable to rerun job."}, details)
	assert.Equal(t, 400, code)

	r = c.post(base+"/deleteTiles", url.Values{"levels": {"17"}, "extent": {"3950569,4015211,3951304,4016043"}})
	requireShape(t, "tile-delete-tiles-ok", r.body)
	id = r.body["jobId"].(string)
	clock.Advance(time.Second)
	r = c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, "CACHEDELETE", r.body["type"])
	assert.Equal(t, "DONE", r.body["jobStatus"])
	assert.Equal(t, 0, srv.TileCount("", "WorldService", "MapServer", 17))
	assert.Equal(t, loadFixture(t, "tile-delete-tiles-error-404-levels"), any(c.post(base+"/deleteTiles", nil).body))

	r = c.post(base+"/deleteAllTiles", nil)
	requireShape(t, "tile-delete-all-tiles-ok", r.body)
	assert.Equal(t, "true", r.body["success"])
	assert.Equal(t, 0, srv.TileCount("", "WorldService", "MapServer", 16))
}

// TestCacheLifecycleGP: Create Map Cache, Manage Map Cache Tiles with a
// partial failure, RECREATE_EMPTY_TILES building only the empty tiles, the
// status report, new scales, DeleteCache.
func TestCacheLifecycleGP(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	srv.AddService("Basemaps", "Streets", "MapServer", nil)
	c := login(t, srv)
	run := func(task string, form url.Values) response {
		t.Helper()
		id := submit(t, c, "/rest/services/"+task, form)
		clock.Advance(time.Second)
		return c.get("/rest/services/"+task+"/jobs/"+id, nil)
	}
	result := func(task string, r response, name string) map[string]any {
		t.Helper()
		v := c.get("/rest/services/"+task+"/jobs/"+r.body["jobId"].(string)+"/results/"+name, nil).body["value"].(string)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(v), &m), v)
		return m
	}

	r := run(CreateMapCacheTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "out_folder": {`c:\arcgiscache`},
		"levels": {"4513.988705;9027.977411"}, "dpi": {"96"}, "tile_width": {"256"}, "tile_height": {"256"},
		"tile_origin": {"-20037508.342787 20037508.342787"}})
	require.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))
	ti := c.get("/rest/services/Basemaps/Streets/MapServer", nil).obj("tileInfo")
	require.NotNil(t, ti)
	lods := ti["lods"].([]any)
	require.Len(t, lods, 2)
	l1 := lods[1].(map[string]any)
	assert.Equal(t, 4513.988705, l1["scale"])
	assert.InDelta(t, 4513.988705*0.0254/96, l1["resolution"], 1e-12, "resolution = scale x 0.0254 / dpi")

	srv.FailTiles(1)
	r = run(ManageMapCacheTilesTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "levels": {"9027.977411;4513.988705"},
		"thread_count": {"2"}, "update_mode": {"RECREATE_ALL_TILES"}, "constraining_extent": {"-500;-500;500;500"}})
	assert.Equal(t, "esriJobFailed", r.body["jobStatus"])
	msgs := strings.Join(messages(r), "\n")
	assert.Contains(t, msgs, "Level 1 (scale 4513.988705): 8 of 16 tiles failed.")
	assert.Equal(t, 8, srv.TileCount("Basemaps", "Streets", "MapServer", 1))

	r = run(ManageMapCacheTilesTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "levels": {"9027.977411;4513.988705"},
		"thread_count": {"2"}, "update_mode": {"RECREATE_EMPTY_TILES"}, "constraining_extent": {"-500;-500;500;500"}})
	require.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))
	res := result(ManageMapCacheTilesTask, r, "result")
	assert.Equal(t, []any{
		map[string]any{"level": 0.0, "scale": 9027.977411, "tiles": 4.0, "built": 0.0, "skipped": 4.0, "failed": 0.0},
		map[string]any{"level": 1.0, "scale": 4513.988705, "tiles": 16.0, "built": 8.0, "skipped": 8.0, "failed": 0.0},
	}, res["levels"], "only the empty tiles are built")
	assert.Equal(t, 16, srv.TileCount("Basemaps", "Streets", "MapServer", 1))

	// The job modes belong to CachingControllers only.
	resume := url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "levels": {"4513.988705"},
		"thread_count": {"2"}, "update_mode": {"RESUME_JOB"}, "jobid": {"j1"}, "constraining_extent": {"-500;-500;500;500"}}
	r = run(ManageMapCacheTilesTask, resume)
	assert.Contains(t, strings.Join(messages(r), "\n"), "ERROR 000800: The value is not a member of RECREATE_EMPTY_TILES | RECREATE_ALL_TILES | DELETE_TILES.")
	r = run("System/CachingControllers/GPServer/Manage Map Cache Tiles", resume)
	assert.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))

	r = run(ManageMapCacheStatusTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "validate_mode": {"REPORT_TILE_STATUS"}})
	require.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))
	assert.Len(t, result(ManageMapCacheStatusTask, r, "result")["levels"], 2)

	r = run(ManageMapCacheScalesTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "levels": {"4513.988705;2256.994353"}})
	require.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))
	lods = c.get("/rest/services/Basemaps/Streets/MapServer", nil).obj("tileInfo")["lods"].([]any)
	require.Len(t, lods, 2)
	assert.Equal(t, 4513.988705, lods[0].(map[string]any)["scale"])
	assert.Equal(t, 16, srv.TileCount("Basemaps", "Streets", "MapServer", 0), "the kept scale keeps its tiles")

	r = run(DeleteCacheTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}})
	require.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))
	assert.Nil(t, c.get("/rest/services/Basemaps/Streets/MapServer", nil).obj("tileInfo"))
	// A service without a cache fails DeleteCache as it fails the other
	// caching tools: the cache just deleted, and one never made.
	srv.AddService("Basemaps", "Plain", "MapServer", nil)
	for _, svc := range []string{"Basemaps/Streets:MapServer", "Basemaps/Plain:MapServer"} {
		r = run(DeleteCacheTask, url.Values{"service_url": {svc}})
		assert.Equal(t, "esriJobFailed", r.body["jobStatus"], svc)
		assert.Contains(t, strings.Join(messages(r), "\n"), "ERROR 001497: Service '"+strings.Replace(svc, ":", ".", 1)+"' is not cached.")
	}

	r = run(ManageMapCacheTilesTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "levels": {"4513.988705"},
		"thread_count": {"2"}, "update_mode": {"RECREATE_ALL_TILES"}})
	assert.Contains(t, strings.Join(messages(r), "\n"), "is not cached")
	r = run(ManageMapCacheStatusTask, url.Values{"service_url": {"Basemaps/Streets:MapServer"}, "validate_mode": {"SOMETIMES"}})
	assert.Contains(t, strings.Join(messages(r), "\n"), "ERROR 000800")
}
