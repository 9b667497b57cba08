package agstest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodExtent = `{"xmin":3950569,"ymin":4015211,"xmax":3951304,"ymax":4016043,"spatialReference":{"wkid":102100}}`

// addTileLayer adds a hosted tile layer: a map service cached in the
// ArcGIS Online scheme over goodExtent.
func addTileLayer(srv *Server, fold, name string) {
	srv.AddService(fold, name, "MapServer", nil)
	srv.SetTileScheme(fold, name, "MapServer", WebMercatorScheme(20, [4]float64{3950569, 4015211, 3951304, 4016043}))
}

func TestUpdateTilesValidation(t *testing.T) {
	t.Parallel()
	srv := start(t)
	addTileLayer(srv, "", "WorldService")
	c := login(t, srv)
	const op = "/rest/admin/services/WorldService/MapServer/updateTiles"

	r := c.post(op, url.Values{"levels": {"0-5,10,11-20"}, "extent": {goodExtent}, "mergeBundle": {"true"}, "replaceTiles": {"false"}})
	requireShape(t, "update-tiles-ok", r.body)
	assert.Equal(t, "Success", r.body["status"])
	assert.Equal(t, "WorldService", r.body["name"])
	assert.Equal(t, "Map Service", r.body["type"])
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, r.body["jobId"])

	// GET is the documented method.
	r = c.get(op, url.Values{"levels": {"3"}, "extent": {goodExtent}})
	requireShape(t, "update-tiles-ok", r.body)

	badExtents := []string{
		"",
		"not json",
		`{"xmin":1,"ymin":1,"xmax":2,"ymax":2}`, // no spatial reference
		`{"xmin":1,"ymin":1,"xmax":2,"spatialReference":{"wkid":3857}}`,          // missing ymax
		`{"xmin":2,"ymin":1,"xmax":2,"ymax":3,"spatialReference":{"wkid":3857}}`, // xmin >= xmax
		`{"xmin":1,"ymin":3,"xmax":2,"ymax":1,"spatialReference":{"wkid":3857}}`, // ymin >= ymax
		`{"xmin":"1","ymin":1,"xmax":2,"ymax":3,"spatialReference":{"wkid":3857}}`,
		`{"xmin":1,"ymin":1,"xmax":2,"ymax":3,"spatialReference":{}}`,
	}
	for _, e := range badExtents {
		r := c.post(op, url.Values{"levels": {"1"}, "extent": {e}})
		requireShape(t, "update-tiles-error-extent", r.body)
		assert.Equal(t, loadFixture(t, "update-tiles-error-extent"), any(r.body), e)
	}
	for _, l := range []string{"", "a", "5-3", "1,,2", "-1", "0-99", "1-", "1.5"} {
		r := c.post(op, url.Values{"levels": {l}, "extent": {goodExtent}})
		requireShape(t, "update-tiles-error-levels", r.body)
		assert.Equal(t, loadFixture(t, "update-tiles-error-levels"), any(r.body), l)
	}
	r = c.post(op, url.Values{"levels": {"1"}, "extent": {goodExtent}, "mergeBundle": {"maybe"}})
	code, _, _ := restErr(t, r)
	assert.Equal(t, 400, code)

	// The service must exist as a MapServer.
	r = c.post("/rest/admin/services/Nope/MapServer/updateTiles", url.Values{"levels": {"1"}, "extent": {goodExtent}})
	code, msg, _ := restErr(t, r)
	assert.Equal(t, 404, code)
	assert.Equal(t, "Service Nope/MapServer not found ", msg)

	// A service in a folder is found with or without the folder in the path.
	addTileLayer(srv, "Hosted", "Parcels")
	requireShape(t, "update-tiles-ok", c.post("/rest/admin/services/Hosted/Parcels/MapServer/updateTiles", url.Values{"levels": {"1"}, "extent": {goodExtent}}).body)
	requireShape(t, "update-tiles-ok", c.post("/rest/admin/services/Parcels/MapServer/updateTiles", url.Values{"levels": {"1"}, "extent": {goodExtent}}).body)

	// An absurd extent is refused at once, not counted tile by tile.
	for _, huge := range []string{
		`{"xmin":0,"ymin":0,"xmax":1e30,"ymax":1,"spatialReference":{"wkid":102100}}`,
		`{"xmin":-1e300,"ymin":-1e300,"xmax":1e300,"ymax":1e300,"spatialReference":{"wkid":102100}}`,
	} {
		r = c.post(op, url.Values{"levels": {"0-20"}, "extent": {huge}})
		code, _, details := restErr(t, r)
		assert.Equal(t, 400, code, huge)
		assert.Contains(t, strings.Join(details, " "), "at most", huge)
	}

	// A service without a tiling scheme has no tiles to update or delete.
	srv.AddService("", "Plain", "MapServer", nil)
	for _, op := range []string{"updateTiles", "deleteTiles"} {
		r = c.post("/rest/admin/services/Plain/MapServer/"+op, url.Values{"levels": {"1"}, "extent": {goodExtent}})
		code, _, details := restErr(t, r)
		assert.Equal(t, 400, code, op)
		assert.Equal(t, []string{"The service is not cached: it has no tiling scheme."}, details, op)
	}
}

func TestParseLevels(t *testing.T) {
	t.Parallel()
	l, ok := parseLevels("0-2, 10,11-12,2")
	require.True(t, ok)
	assert.Equal(t, []int{0, 1, 2, 10, 11, 12}, l)
}

func TestTileJobDrivenByClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(10*time.Second))
	addTileLayer(srv, "", "WorldService")
	c := login(t, srv)
	const base = "/rest/admin/services/WorldService/MapServer"

	r := c.post(base+"/updateTiles", url.Values{"levels": {"0-3"}, "extent": {goodExtent}})
	id := r.body["jobId"].(string)
	stats := func() response { return c.get(base+"/jobs/"+id, nil) }

	r = stats()
	assert.Equal(t, "SUBMITTED", r.body["jobStatus"])
	assert.Equal(t, "CACHECOOKER", r.body["type"])
	assert.Equal(t, 0.0, r.body["percentComplete"])
	assert.Equal(t, 4.0, r.body["numTasks"])
	assert.Equal(t, 4.0, r.body["numSubmittedTasks"])
	assert.Equal(t, float64(clock.Now().UnixMilli()), r.body["submitTime"])
	assert.Equal(t, map[string]any{"xmin": 3950569.0, "ymin": 4015211.0, "xmax": 3951304.0, "ymax": 4016043.0, "spatialReference": map[string]any{"wkid": 102100.0}}, r.body["extent"])
	levelStats := r.body["levelStats"].([]any)
	require.Len(t, levelStats, 4)
	for i, ls := range levelStats {
		m := ls.(map[string]any)
		assert.Equal(t, float64(i), m["level"])
		for _, k := range []string{"processingTime", "numTasks", "numDoneTasks", "estimatedNumTiles", "numTiles"} {
			assert.Contains(t, m, k)
		}
	}
	keys := []string{"jobId", "type", "jobStatus", "percentComplete", "message", "submitTime", "startTime", "lastTime", "extent",
		"numTasks", "numDoneTasks", "numErrorTasks", "numCanceledTasks", "numSubmittedTasks", "numProcessingTasks",
		"estimatedNumTiles", "numTiles", "estimatedTilesSize", "tilesSize", "averageTaskTime", "totalTaskTime", "levelStats"}
	assert.Len(t, r.body, len(keys))
	for _, k := range keys {
		assert.Contains(t, r.body, k)
	}

	clock.Advance(6 * time.Second) // 60%: levels 0 and 1 done, level 2 cooking
	r = stats()
	assert.Equal(t, "INPROGRESS", r.body["jobStatus"])
	assert.Equal(t, 60.0, r.body["percentComplete"])
	assert.Equal(t, 2.0, r.body["numDoneTasks"])
	assert.Equal(t, 1.0, r.body["numProcessingTasks"])
	assert.Equal(t, 1.0, r.body["numSubmittedTasks"])
	prev := r.body["numTiles"].(float64)
	assert.Greater(t, prev, 0.0)

	clock.Advance(2 * time.Second)
	r = stats()
	assert.Equal(t, 80.0, r.body["percentComplete"])
	assert.Greater(t, r.body["numTiles"].(float64), prev)

	clock.Advance(2 * time.Second)
	r = stats()
	assert.Equal(t, "DONE", r.body["jobStatus"])
	assert.Equal(t, 100.0, r.body["percentComplete"])
	assert.Equal(t, 4.0, r.body["numDoneTasks"])
	assert.Equal(t, r.body["estimatedNumTiles"], r.body["numTiles"])
	assert.Equal(t, r.body["estimatedTilesSize"], r.body["tilesSize"])

	// Summary.
	r = c.get(base+"/jobs", nil)
	assert.Equal(t, 1.0, r.body["total"])
	job := r.body["jobs"].([]any)[0].(map[string]any)
	assert.Equal(t, id, job["id"])
	assert.Equal(t, "DONE", job["status"])
	assert.Equal(t, "UpdateTiles", job["type"])
	assert.Len(t, job["lodInfos"], 4)
	lod := job["lodInfos"].([]any)[0].(map[string]any)
	for _, k := range []string{"levelID", "tileCount", "expectedTileCount", "tilesSize", "status"} {
		assert.Contains(t, lod, k)
	}
	for _, k := range []string{"submitTime", "startTime", "endTime", "extent"} {
		assert.Contains(t, job, k)
	}

	// Unknown job.
	code, _, _ := restErr(t, c.get(base+"/jobs/nope", nil))
	assert.Equal(t, 404, code)
}

func TestTileJobCancelAndFail(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(10*time.Second))
	addTileLayer(srv, "", "WorldService")
	c := login(t, srv)
	const base = "/rest/admin/services/WorldService/MapServer"
	srv.FailJobs(func(task string, p url.Values) string {
		if task == "updateTiles" && p.Get("levels") == "7" {
			return "Failed to cook level 7."
		}
		return ""
	})

	cancelID := c.post(base+"/updateTiles", url.Values{"levels": {"1-2"}, "extent": {goodExtent}}).body["jobId"].(string)
	failID := c.post(base+"/updateTiles", url.Values{"levels": {"7"}, "extent": {goodExtent}}).body["jobId"].(string)

	clock.Advance(3 * time.Second)
	r := c.post(base+"/jobs/"+cancelID+"/cancel", nil)
	requireShape(t, "tile-cancel-job-ok", r.body)
	assert.Equal(t, true, r.body["success"])
	clock.Advance(time.Minute)
	r = c.get(base+"/jobs/"+cancelID, nil)
	assert.Equal(t, "CANCELED", r.body["jobStatus"])
	assert.Equal(t, 30.0, r.body["percentComplete"])
	assert.Equal(t, 2.0, r.body["numCanceledTasks"])

	r = c.get(base+"/jobs/"+failID, nil)
	assert.Equal(t, "PARTIALERROR", r.body["jobStatus"])
	assert.Equal(t, "Failed to cook level 7.", r.body["message"])
	assert.Equal(t, 1.0, r.body["numErrorTasks"])

	r = c.get(base+"/jobs", nil)
	statuses := map[string]string{}
	for _, j := range r.body["jobs"].([]any) {
		m := j.(map[string]any)
		statuses[m["id"].(string)] = m["status"].(string)
	}
	assert.Equal(t, map[string]string{cancelID: "CANCELED", failID: "FAILED"}, statuses)
}

// TestTileJobExtentInWGS84: on a Web Mercator scheme an updateTiles or
// deleteTiles extent in WGS84 (4326) counts and builds the tiles of that
// area, as the same extent in Web Mercator does; any other spatial
// reference is refused in the shape of the recorded extent error.
func TestTileJobExtentInWGS84(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	srv.AddService("", "Portland", "MapServer", nil)
	srv.AddService("", "Copy", "MapServer", nil)
	for _, name := range []string{"Portland", "Copy"} {
		srv.SetTileScheme("", name, "MapServer", WebMercatorScheme(16, [4]float64{-1.4e7, 5.6e6, -1.3e7, 5.8e6}))
	}
	c := login(t, srv)
	run := func(name, op string, form url.Values) map[string]any {
		t.Helper()
		r := c.post("/rest/admin/services/"+name+"/MapServer/"+op, form)
		requireShape(t, "update-tiles-ok", r.body)
		clock.Advance(2 * time.Second)
		return c.get("/rest/admin/services/"+name+"/MapServer/jobs/"+r.body["jobId"].(string), nil).body
	}
	// Downtown Portland: -122.70,45.50 to -122.60,45.55. In Web Mercator
	// (R = 6378137 m) that is -13658901.520334667, 5700582.732404122 to
	// -13647769.571255341, 5708527.338604557: at level 12 columns 651-653
	// and rows 1464-1465 (6 tiles), level 13 2×4 = 8, level 14 4×6 = 24.
	const lonLat = `{"xmin":-122.70,"ymin":45.50,"xmax":-122.60,"ymax":45.55,"spatialReference":{"wkid":4326}}`
	const metres = `{"xmin":-13658901.520334667,"ymin":5700582.732404122,"xmax":-13647769.571255341,"ymax":5708527.338604557,"spatialReference":{"wkid":102100,"latestWkid":3857}}`
	stats := run("Portland", "updateTiles", url.Values{"levels": {"12-14"}, "extent": {lonLat}})
	require.Equal(t, "DONE", stats["jobStatus"], "%v", stats)
	assert.Equal(t, 38.0, stats["estimatedNumTiles"])
	assert.Equal(t, 38.0, stats["numTiles"])
	assert.Equal(t, 4326.0, stats["extent"].(map[string]any)["spatialReference"].(map[string]any)["wkid"], "the extent is echoed as sent")
	for level, want := range map[int]int{12: 6, 13: 8, 14: 24} {
		assert.Equal(t, want, srv.TileCount("", "Portland", "MapServer", level), "level %d", level)
	}
	stats = run("Copy", "updateTiles", url.Values{"levels": {"12-14"}, "extent": {metres}})
	assert.Equal(t, 38.0, stats["numTiles"], "the same area in Web Mercator")

	// deleteTiles converts the same way: the area's tiles go.
	stats = run("Portland", "deleteTiles", url.Values{"levels": {"14"}, "extent": {lonLat}})
	require.Equal(t, "DONE", stats["jobStatus"], "%v", stats)
	assert.Equal(t, 0, srv.TileCount("", "Portland", "MapServer", 14))
	assert.Equal(t, 8, srv.TileCount("", "Portland", "MapServer", 13))

	// Another spatial reference, or WGS84 out of range, is refused.
	for _, e := range []string{
		`{"xmin":7640000,"ymin":670000,"xmax":7650000,"ymax":680000,"spatialReference":{"wkid":2913}}`,
		`{"xmin":1,"ymin":1,"xmax":2,"ymax":2,"spatialReference":{"wkt":"PROJCS[\"x\"]"}}`,
		`{"xmin":-200,"ymin":45,"xmax":-122,"ymax":46,"spatialReference":{"wkid":4326}}`,
	} {
		for _, op := range []string{"updateTiles", "deleteTiles"} {
			r := c.post("/rest/admin/services/Portland/MapServer/"+op, url.Values{"levels": {"14"}, "extent": {e}})
			requireShape(t, "update-tiles-error-extent", r.body)
			code, msg, details := restErr(t, r)
			assert.Equal(t, 400, code, e)
			assert.Empty(t, msg)
			require.Len(t, details, 2, e)
			assert.Equal(t, "Invalid extent.", details[0])
		}
	}
	r := c.post("/rest/admin/services/Portland/MapServer/updateTiles", url.Values{"levels": {"14"},
		"extent": {`{"xmin":7640000,"ymin":670000,"xmax":7650000,"ymax":680000,"spatialReference":{"wkid":2913}}`}})
	_, _, details := restErr(t, r)
	assert.Equal(t, "the extent is in wkid 2913, the tiling scheme in wkid 102100; only WGS84 (4326) converts, to Web Mercator.", details[1])
	assert.Equal(t, 0, srv.TileCount("", "Portland", "MapServer", 14), "nothing was done")
}

// TestFailJobsNamesTheTileOperation: FailJobs sees "updateTiles" or
// "deleteTiles", so a test can fail one and not the other.
func TestFailJobsNamesTheTileOperation(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	addTileLayer(srv, "", "WorldService")
	c := login(t, srv)
	const base = "/rest/admin/services/WorldService/MapServer"
	srv.FailJobs(func(task string, _ url.Values) string {
		if task == "deleteTiles" {
			return "Failed to delete."
		}
		return ""
	})
	up := c.post(base+"/updateTiles", url.Values{"levels": {"3"}, "extent": {goodExtent}}).body["jobId"].(string)
	del := c.post(base+"/deleteTiles", url.Values{"levels": {"3"}}).body["jobId"].(string)
	clock.Advance(time.Minute)
	assert.Equal(t, "DONE", c.get(base+"/jobs/"+up, nil).body["jobStatus"])
	r := c.get(base+"/jobs/"+del, nil)
	assert.Equal(t, "PARTIALERROR", r.body["jobStatus"])
	assert.Equal(t, "Failed to delete.", r.body["message"])
}

// TestTileJobWhoseCacheIsDeleted: a tile job whose service loses its cache
// while it runs fails, and it cannot be rerun.
func TestTileJobWhoseCacheIsDeleted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(10*time.Second))
	addTileLayer(srv, "", "WorldService")
	c := login(t, srv)
	const base = "/rest/admin/services/WorldService/MapServer"
	id := c.post(base+"/updateTiles", url.Values{"levels": {"3"}, "extent": {goodExtent}}).body["jobId"].(string)

	del := submit(t, c, "/rest/services/"+DeleteCacheTask, url.Values{"service_url": {"WorldService:MapServer"}})
	clock.Advance(11 * time.Second) // both jobs' time is up; each settles when read
	require.Equal(t, "esriJobSucceeded", c.get("/rest/services/"+DeleteCacheTask+"/jobs/"+del, nil).body["jobStatus"])

	r := c.get(base+"/jobs/"+id, nil)
	assert.Equal(t, "PARTIALERROR", r.body["jobStatus"])
	assert.Equal(t, "The service's cache no longer exists.", r.body["message"])
	code, _, _ := restErr(t, c.post(base+"/jobs/"+id+"/rerun", url.Values{"code": {"ALL"}}))
	assert.Equal(t, 400, code, "no rerun on a service without a cache")
}
