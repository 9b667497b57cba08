package ags

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// partialStats is a tile job that ended PARTIALERROR: level 16 done,
// level 17 with one task failed and half its tiles built, level 18 built
// but with a task not done.
const partialStats = `{"jobId":"` + tilesJobID + `","type":"CACHECOOKER","jobStatus":"PARTIALERROR","percentComplete":100,
 "message":"1 of 3 tasks failed","numTasks":3,"numDoneTasks":2,"numErrorTasks":1,"estimatedNumTiles":60,"numTiles":50,
 "levelStats":[{"level":16,"numTasks":1,"numDoneTasks":1,"estimatedNumTiles":4,"numTiles":4},
  {"level":17,"numTasks":1,"numDoneTasks":0,"estimatedNumTiles":20,"numTiles":10},
  {"level":18,"numTasks":2,"numDoneTasks":1,"estimatedNumTiles":36,"numTiles":36}]}`

func TestTileJobErrorStatistics(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	mux.Handle(tilesAdmin+"jobs/"+tilesJobID, newTilesRecorder(t, partialStats))
	job, err := c.Tiles.Job(tilesService, tilesJobID)
	require.NoError(t, err)
	stats, err := job.Wait(context.Background(), nil)
	var te *TileJobError
	require.ErrorAs(t, err, &te)
	assert.True(t, errors.Is(err, ErrJobFailed))
	require.NotNil(t, stats)
	assert.Equal(t, "17-18", stats.UnfinishedLevels().String())
	assert.Equal(t, "17-18", te.Stats.UnfinishedLevels().String())
	assert.Contains(t, err.Error(), "1 of 3 tasks failed")
	assert.Contains(t, err.Error(), "levels with unfinished work: 17-18; 50 of 60 tiles built")

	var sum TileJobSummary
	require.NoError(t, json.Unmarshal([]byte(`{"total":1,"jobs":[{"id":"j","status":"FAILED","lodInfos":[
		{"levelID":2,"tileCount":4,"expectedTileCount":4,"status":"DONE"},{"levelID":3,"tileCount":16,"expectedTileCount":16,"status":"ERROR"},
		{"levelID":4,"tileCount":10,"expectedTileCount":64,"status":""}]}]}`), &sum))
	st := TileJobStats{LODInfos: sum.Jobs[0].LODInfos}
	assert.Equal(t, "3-4", st.UnfinishedLevels().String())
}

func TestTilesDeleteTiles(t *testing.T) {
	c, mux, _ := setup(t)
	submit := newTilesRecorder(t, string(fixture(t, "tile-delete-tiles-ok.json")))
	mux.Handle(tilesAdmin+"deleteTiles", submit)
	levels, _ := ParseLevels("14-16,18")
	job, err := c.Tiles.DeleteTiles(context.Background(), tilesService, DeleteTilesRequest{Levels: levels,
		Extent: &Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043, SpatialReference: &SpatialReference{WKID: 102100}}})
	require.NoError(t, err)
	assert.Equal(t, "bee23b456506f414", job.ID())
	assert.Contains(t, job.URL(), "/rest/admin/services/WorldService/MapServer/jobs/bee23b456506f414")
	reqs := submit.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	tilesGolden(t, "tiles_delete.form", reqs[0].body)

	// Without an extent: levels only.
	_, err = c.Tiles.DeleteTiles(context.Background(), tilesService, DeleteTilesRequest{Levels: levels})
	require.NoError(t, err)
	reqs = submit.requests()
	require.Len(t, reqs, 2)
	assert.NotContains(t, string(reqs[1].body), "extent=")

	// The recorded refusal, code 404 with the reason in details.
	mux.Handle("/arcgis/rest/admin/services/Other/MapServer/deleteTiles", newTilesRecorder(t, string(fixture(t, "tile-delete-tiles-error-404-levels.json"))))
	_, err = c.Tiles.DeleteTiles(context.Background(), ServiceRef{Name: "Other"}, DeleteTilesRequest{Levels: levels})
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, err.Error(), "'levels' parameter cannot be empty")

	c2, mux2, _ := setup(t)
	tilesNoRequest(t, mux2)
	var ve *ValidationError
	_, err = c2.Tiles.DeleteTiles(context.Background(), tilesService, DeleteTilesRequest{})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Levels", ve.Field)
	_, err = c2.Tiles.DeleteTiles(context.Background(), tilesService, DeleteTilesRequest{Levels: levels, Extent: &Extent{XMax: 1, YMax: 1}})
	require.ErrorAs(t, err, &ve)
}

func TestTilesDeleteAllTiles(t *testing.T) {
	c, mux, _ := setup(t)
	ok := newTilesRecorder(t, string(fixture(t, "tile-delete-all-tiles-ok.json")))
	mux.Handle(tilesAdmin+"deleteAllTiles", ok)
	require.NoError(t, c.Tiles.DeleteAllTiles(context.Background(), tilesService), `"success":"true" is a string`)
	reqs := ok.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	tilesGolden(t, "tiles_delete_all.form", reqs[0].body)

	for body, check := range map[string]func(error){
		`{"success":"false"}`: func(err error) {
			var apiErr *Error
			require.ErrorAs(t, err, &apiErr)
			assert.Contains(t, err.Error(), `"success": false`)
		},
		`{"done":true}`: func(err error) {
			var re *ResponseError
			require.ErrorAs(t, err, &re)
		},
	} {
		ok.answers = []string{body}
		check(c.Tiles.DeleteAllTiles(context.Background(), tilesService))
	}
}

func TestTilesCancelAnswers(t *testing.T) {
	c, mux, _ := setup(t)
	cancel := newTilesRecorder(t, string(fixture(t, "tile-cancel-job-ok.json")))
	mux.Handle(tilesAdmin+"jobs/"+tilesJobID+"/cancel", cancel)
	job, err := c.Tiles.Job(tilesService, tilesJobID)
	require.NoError(t, err)
	require.NoError(t, job.Cancel(context.Background()))
	cancel.answers = []string{`{"success": false}`}
	err = job.Cancel(context.Background())
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr, "success false is a refusal, not a success")
	cancel.answers = []string{`{"error":{"code":400,"message":"","details":["Unable to cancel job."]}}`}
	err = job.Cancel(context.Background())
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, err.Error(), "Unable to cancel job.")
}

func TestTilesRerun(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	rerun := newTilesRecorder(t, `{"success" : true}`)
	mux.Handle(tilesAdmin+"jobs/"+tilesJobID+"/rerun", rerun)
	mux.Handle(tilesAdmin+"jobs/"+tilesJobID, newTilesRecorder(t, tilesStatus("INPROGRESS", 50, ""), tilesExampleStats))
	job, err := c.Tiles.Rerun(context.Background(), tilesService, tilesJobID, RerunErrors)
	require.NoError(t, err)
	assert.Equal(t, tilesJobID, job.ID())
	reqs := rerun.requests()
	require.Len(t, reqs, 1, "sent once")
	assert.Equal(t, http.MethodPost, reqs[0].method)
	tilesGolden(t, "tiles_rerun.form", reqs[0].body)
	stats, err := job.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "DONE", stats.JobStatus)

	rerun.answers = []string{`{"error":{"code":400,"message":"","details":["Unable to rerun job."]}}`}
	_, err = c.Tiles.Rerun(context.Background(), tilesService, tilesJobID, RerunAll)
	assert.ErrorContains(t, err, "Unable to rerun job.")
	assert.Len(t, rerun.requests(), 2, "a refused rerun is not retried")

	c2, mux2, _ := setup(t)
	tilesNoRequest(t, mux2)
	var ve *ValidationError
	_, err = c2.Tiles.Rerun(context.Background(), tilesService, tilesJobID, "error")
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "code", ve.Field)
	_, err = c2.Tiles.Rerun(context.Background(), tilesService, "../x", RerunAll)
	require.ErrorAs(t, err, &ve)
}

// TestTilesLostAnswers: a rerun or deleteTiles whose answer is lost is
// sent once and says the outcome is unknown; deleteAllTiles, the same
// however often it is sent, is retried.
func TestTilesLostAnswers(t *testing.T) {
	c, mux, _ := setup(t)
	var reruns, deletes, deleteAlls atomic.Int32
	mux.HandleFunc(tilesAdmin+"jobs/"+tilesJobID+"/rerun", func(w http.ResponseWriter, r *http.Request) {
		reruns.Add(1)
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc(tilesAdmin+"deleteTiles", func(w http.ResponseWriter, r *http.Request) {
		deletes.Add(1)
		serveRaw(http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>")(w, r)
	})
	mux.HandleFunc(tilesAdmin+"deleteAllTiles", func(w http.ResponseWriter, r *http.Request) {
		if deleteAlls.Add(1) == 1 {
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write(fixture(t, "tile-delete-all-tiles-ok.json"))
	})
	_, err := c.Tiles.Rerun(context.Background(), tilesService, tilesJobID, RerunErrors)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "Tiles.Job")
	assert.Equal(t, int32(1), reruns.Load())

	levels, _ := ParseLevels("3")
	_, err = c.Tiles.DeleteTiles(context.Background(), tilesService, DeleteTilesRequest{Levels: levels})
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, int32(1), deletes.Load())

	require.NoError(t, c.Tiles.DeleteAllTiles(context.Background(), tilesService))
	assert.Equal(t, int32(2), deleteAlls.Load())
}
