package ags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hosted tile layer of Esri's updateTiles example.
var tilesService = ServiceRef{Name: "WorldService", Type: MapServer}

const (
	tilesJobID = "e2e8a0bb-4b40-46ac-813a-0bbdf522195f" // jobId of update-tiles-ok.json
	tilesAdmin = "/arcgis/rest/admin/services/WorldService/MapServer/"
)

// tilesExampleStats is the job statistics example of
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
// (the levelStats entry cut to the fields the page shows).
const tilesExampleStats = `{
  "jobId" : "26e8bec6-08c2-464b-a5c6-ecb21ce3d333",
  "type" : "CACHECOOKER",
  "jobStatus" : "DONE",
  "percentComplete" : 100,
  "message" : "",
  "startTime" : 1355205763560,
  "submitTime" : 1355205760817,
  "lastTime" : 1355209575477,
  "extent" : {
    "xmin" : -18341650.9613, "ymin" : 2428377.3527, "xmax" : -7454985.1505, "ymax" : 11203410.6593,
    "spatialReference" : { "wkid" : 102100, "latestWkid" : 3857 }
  },
  "numTasks" : 6, "numDoneTasks" : 6, "numErrorTasks" : 0, "numCanceledTasks" : 0,
  "numSubmittedTasks" : 0, "numProcessingTasks" : 0,
  "estimatedNumTiles" : 125, "numTiles" : 125, "estimatedTilesSize" : 1280000, "tilesSize" : 151873,
  "averageTaskTime" : 13.7777044, "totalTaskTime" : 82.6662264,
  "levelStats" : [ { "level" : 0, "processingTime" : 9.842994, "numTasks" : 1, "numDoneTasks" : 1,
    "estimatedNumTiles" : 1, "numTiles" : 1 } ]
}`

// tilesExampleSummary is the example of
// https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary
const tilesExampleSummary = `{
  "total" : 1,
  "jobs" : [ {
      "id" : "e2e8a0bb-4b40-46ac-813a-0bbdf522195f",
      "status" : "DONE",
      "type" : "UpdateTiles",
      "submitTime" : 1355169626437, "startTime" : 1355169628180, "endTime" : 1355169658457,
      "lodInfos" : [ { "levelID" : 2, "tileCount" : 4, "expectedTileCount" : 4, "tilesSize" : 8427, "status" : "DONE" } ],
      "extent" : { "xmin" : -18341650.9613, "ymin" : 4752555.08098706, "xmax" : -7454985.1505, "ymax" : 11203410.6593,
        "spatialReference" : { "wkid" : 102100, "latestWkid" : 3857 } } } ]
}`

// tilesExampleRequest is the updateTiles call (Esri's example extent).
func tilesExampleRequest(t *testing.T) UpdateTilesRequest {
	t.Helper()
	levels, err := ParseLevels("0-5,10,11-20")
	require.NoError(t, err)
	return UpdateTilesRequest{
		Extent: &Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043,
			SpatialReference: &SpatialReference{WKID: 102100}},
		Levels: levels, MergeBundle: Ptr(true), ReplaceTiles: Ptr(false),
	}
}

// tilesRequest is one request as a handler saw it.
type tilesRequest struct {
	method, path, rawPath, query string
	auth                         string
	body                         []byte
}

// tilesRecorder records requests and answers each with the next of its
// answers (the last one repeats).
type tilesRecorder struct {
	t       *testing.T
	mu      sync.Mutex
	seen    []tilesRequest
	answers []string
}

func (rec *tilesRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	assert.NoError(rec.t, err)
	rec.mu.Lock()
	n := len(rec.seen)
	rec.seen = append(rec.seen, tilesRequest{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(),
		query: r.URL.RawQuery, auth: r.Header.Get("X-Esri-Authorization"), body: body})
	ans := rec.answers[min(n, len(rec.answers)-1)]
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = io.WriteString(w, ans)
}

func (rec *tilesRecorder) requests() []tilesRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]tilesRequest(nil), rec.seen...)
}

func newTilesRecorder(t *testing.T, answers ...string) *tilesRecorder {
	return &tilesRecorder{t: t, answers: answers}
}

// tilesGolden compares a form body with testdata/requests/<name>: one
// key=value per line, sorted, decoded, with the token masked as REDACTED.
// UPDATE_GOLDEN=1 writes the file instead.
func tilesGolden(t *testing.T, name string, body []byte) url.Values {
	t.Helper()
	vals, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	for k, v := range vals {
		require.Len(t, v, 1, "field %s is sent once", k)
	}
	require.Equal(t, []string{testToken}, vals["token"], "a POST carries the token in its body")
	vals.Set("token", "REDACTED")
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range vals[k] {
			require.NotContains(t, v, "\n")
			b.WriteString(k + "=" + v + "\n")
		}
	}
	got := b.String()
	require.NotContains(t, got, testToken)
	path := filepath.Join("testdata", "requests", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with UPDATE_GOLDEN=1 to write %s", path)
	assert.Equal(t, string(want), got, "request body differs from %s", path)
	return vals
}

// tilesNoRequest fails the test on any request: bad input must be caught
// before the network.
func tilesNoRequest(t *testing.T, mux *http.ServeMux) {
	mux.HandleFunc("/arcgis/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, "no", http.StatusTeapot)
	})
}

func TestExtentValidate(t *testing.T) {
	sr := &SpatialReference{WKID: 102100}
	valid := []Extent{
		{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043, SpatialReference: sr},
		{XMin: -180, YMin: -90, XMax: 180, YMax: 90, SpatialReference: &SpatialReference{LatestWKID: 4326}},
		{XMin: 0, YMin: 0, XMax: 1e-9, YMax: 1, SpatialReference: &SpatialReference{WKT: `PROJCS["x"]`}},
	}
	for i := range valid {
		assert.NoError(t, valid[i].Validate(), "%+v", valid[i])
	}
	for _, tc := range []struct {
		name   string
		e      *Extent
		field  string
		reason string
	}{
		{"nil", nil, "extent", "missing"},
		{"NaN", &Extent{XMin: math.NaN(), XMax: 1, YMax: 1, SpatialReference: sr}, "extent.xmin", "finite"},
		{"Inf", &Extent{XMax: 1, YMax: math.Inf(1), SpatialReference: sr}, "extent.ymax", "finite"},
		{"empty width", &Extent{XMin: 5, XMax: 5, YMax: 1, SpatialReference: sr}, "extent", "xmin (5) must be less than xmax (5)"},
		{"reversed x", &Extent{XMin: 6, XMax: 5, YMax: 1, SpatialReference: sr}, "extent", "xmin (6) must be less than xmax (5)"},
		{"reversed y", &Extent{XMax: 1, YMin: 2, YMax: 1, SpatialReference: sr}, "extent", "ymin (2) must be less than ymax (1)"},
		{"no spatial reference", &Extent{XMax: 1, YMax: 1}, "extent.spatialReference", "required"},
		{"empty spatial reference", &Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKT: "  "}}, "extent.spatialReference", "required"},
		{"negative wkid", &Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: -1}}, "extent.spatialReference", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ve *ValidationError
			require.ErrorAs(t, tc.e.Validate(), &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Contains(t, ve.Reason, tc.reason)
		})
	}
}

// FuzzExtentJSON: any bytes decoded into an Extent and validated never
// panic; a valid extent re-encodes with its spatialReference and decodes
// back to itself. Seed corpus: testdata/fuzz/FuzzExtentJSON.
func FuzzExtentJSON(f *testing.F) {
	for _, s := range []string{
		`{"xmin":3950569,"ymin":4015211,"xmax":3951304,"ymax":4016043,"spatialReference":{"wkid":102100}}`,
		`{"xmin":1,"ymin":1,"xmax":0,"ymax":2,"spatialReference":{"wkid":4326}}`,
		`{"xmin":0,"ymin":0,"xmax":1,"ymax":1}`,
		`{"xmin":"0","ymin":0,"xmax":1,"ymax":1,"spatialReference":{"wkid":"102100"}}`,
		`{"XMIN":-1e308,"ymin":0,"xmax":1e308,"ymax":1,"spatialReference":{"wkt":"PROJCS[\"x\"]"}}`,
		`null`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Extent
		if json.Unmarshal(b, &e) != nil {
			return
		}
		if err := e.Validate(); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate: want *ValidationError, got %T %v", err, err)
			}
			return
		}
		out, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("a valid extent does not encode: %v", err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(out, &top); err != nil || isNull(top["spatialReference"]) {
			t.Fatalf("re-encoded extent %s lost its spatialReference", out)
		}
		var back Extent
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-encoded extent %s does not decode: %v", out, err)
		}
		if err := back.Validate(); err != nil || !reflect.DeepEqual(e, back) {
			t.Fatalf("round trip of %s: %+v then %+v (%v)", b, e, back, err)
		}
	})
}

func TestTilesUpdate(t *testing.T) {
	c, mux, site := setup(t)
	submit := newTilesRecorder(t, string(fixture(t, "update-tiles-ok.json")))
	mux.Handle(tilesAdmin+"updateTiles", submit)

	job, err := c.Tiles.Update(context.Background(), tilesService, tilesExampleRequest(t))
	require.NoError(t, err)
	assert.Equal(t, tilesJobID, job.ID())
	assert.Equal(t, site+"/rest/admin/services/WorldService/MapServer/jobs/"+tilesJobID, job.URL())

	reqs := submit.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.method)
	assert.NotContains(t, r.query, "token", "the token never travels in a URL")
	assert.Equal(t, "Bearer "+testToken, r.auth)
	vals := tilesGolden(t, "tiles_update.form", r.body)
	assert.Equal(t, "0-5,10-20", vals.Get("levels"), "levels normalised")
	assert.Equal(t, "true", vals.Get("mergeBundle"))
	assert.Equal(t, "false", vals.Get("replaceTiles"))
	assert.Equal(t, "json", vals.Get("f"))
	var ext map[string]any
	require.NoError(t, json.Unmarshal([]byte(vals.Get("extent")), &ext), "extent is one JSON field")
	assert.Equal(t, map[string]any{"wkid": float64(102100)}, ext["spatialReference"], "the extent keeps its spatial reference")
}

// TestTilesUpdateOptionalFields: a folder in the service name, and no
// mergeBundle or replaceTiles on the form when they are not set.
func TestTilesUpdateOptionalFields(t *testing.T) {
	c, mux, _ := setup(t)
	submit := newTilesRecorder(t, string(fixture(t, "update-tiles-ok.json")))
	mux.Handle("/arcgis/rest/admin/services/Hosted/World_2/MapServer/updateTiles", submit)
	levels, err := ParseLevels("3")
	require.NoError(t, err)

	job, err := c.Tiles.Update(context.Background(), ServiceRef{Folder: "Hosted", Name: "World_2"}, UpdateTilesRequest{Levels: levels,
		Extent: &Extent{XMin: -180, YMin: -90, XMax: 180, YMax: 90, SpatialReference: &SpatialReference{WKID: 4326}}})
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(job.URL(), "/rest/admin/services/Hosted/World_2/MapServer/jobs/"+tilesJobID), job.URL())
	reqs := submit.requests()
	require.Len(t, reqs, 1)
	vals, err := url.ParseQuery(string(reqs[0].body))
	require.NoError(t, err)
	assert.Equal(t, []string{"extent", "f", "levels", "token"}, tilesKeys(vals))
	assert.Equal(t, "3", vals.Get("levels"))
	assert.JSONEq(t, `{"xmin":-180,"ymin":-90,"xmax":180,"ymax":90,"spatialReference":{"wkid":4326}}`, vals.Get("extent"))
}

func tilesKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestTilesUpdateRecordedFailures: Esri's two documented failures carry
// their reason in details with an empty message.
func TestTilesUpdateRecordedFailures(t *testing.T) {
	for _, tc := range []struct{ fixture, reason string }{
		{"update-tiles-error-extent.json", "Invalid extent."},
		{"update-tiles-error-levels.json", "Invalid cache levels."},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.HandleFunc(tilesAdmin+"updateTiles", serveFixture(t, tc.fixture))
			job, err := c.Tiles.Update(context.Background(), tilesService, tilesExampleRequest(t))
			require.Error(t, err)
			assert.Nil(t, job)
			var apiErr *Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 400, apiErr.Code)
			assert.Equal(t, []string{tc.reason}, apiErr.Details)
			assert.Contains(t, err.Error(), tc.reason)
			assert.NotContains(t, err.Error(), testToken)
		})
	}
}

// TestTilesUpdateUnexpectedAnswers: a status other than success, or no
// jobId, is an error, never a job that cannot be waited on.
func TestTilesUpdateUnexpectedAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, answer, want string
		apiErr             bool
	}{
		{"pending", `{"id":"x","status":"Pending","jobId":"j1","message":"Queue is full"}`, "Queue is full", true},
		{"no status", `{"id":"x","jobId":"j1"}`, `status ""`, true},
		{"failed with job id", `{"status":"failed","jobId":"j1","message":""}`, "", true},
		{"no job id", `{"id":"x","name":"WorldService","status":"Success","message":"success"}`, "no jobId", false},
		{"blank job id", `{"status":"SUCCESS","jobId":"  "}`, "no jobId", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.Handle(tilesAdmin+"updateTiles", newTilesRecorder(t, tc.answer))
			job, err := c.Tiles.Update(context.Background(), tilesService, tilesExampleRequest(t))
			require.Error(t, err)
			assert.Nil(t, job)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testToken)
			if tc.apiErr {
				var apiErr *Error
				assert.ErrorAs(t, err, &apiErr)
				assert.Equal(t, http.StatusOK, apiErr.HTTPStatus)
				assert.Equal(t, "WorldService.MapServer: updateTiles", apiErr.Op)
			} else {
				var re *ResponseError
				require.ErrorAs(t, err, &re)
				// The decoder reports it, with the answer's status and a snippet.
				assert.Equal(t, http.StatusOK, re.HTTPStatus)
				assert.Equal(t, strings.Join(strings.Fields(tc.answer), " "), re.Snippet)
			}
		})
	}
	// Status is compared without regard to case.
	c, mux, _ := setup(t)
	mux.Handle(tilesAdmin+"updateTiles", newTilesRecorder(t, `{"status":"SUCCESS","jobId":"j1"}`))
	job, err := c.Tiles.Update(context.Background(), tilesService, tilesExampleRequest(t))
	require.NoError(t, err)
	assert.Equal(t, "j1", job.ID())
}

func TestTilesUpdateValidation(t *testing.T) {
	good := tilesExampleRequest(t)
	for _, tc := range []struct {
		name    string
		service ServiceRef
		req     UpdateTilesRequest
		field   string
	}{
		{"empty service", ServiceRef{}, good, "Name"},
		{"nested folder", ServiceRef{Folder: "a/b", Name: "c"}, good, "Folder"},
		{"space", ServiceRef{Name: "World Service"}, good, "Name"},
		{"dot dot", ServiceRef{Folder: "..", Name: "WorldService"}, good, "Folder"},
		{"query", ServiceRef{Name: "World?x"}, good, "Name"},
		{"not a map service", ServiceRef{Name: "World", Type: FeatureServer}, good, "Type"},
		{"no levels", tilesService, UpdateTilesRequest{Extent: good.Extent}, "Levels"},
		{"extent without spatial reference", tilesService, UpdateTilesRequest{Levels: good.Levels,
			Extent: &Extent{XMax: 1, YMax: 1}}, "extent.spatialReference"},
		{"reversed extent", tilesService, UpdateTilesRequest{Levels: good.Levels,
			Extent: &Extent{XMin: 2, XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 3857}}}, "extent"},
		{"no extent", tilesService, UpdateTilesRequest{Levels: good.Levels}, "extent"},
		{"replace without merge", tilesService, UpdateTilesRequest{Levels: good.Levels, Extent: good.Extent,
			ReplaceTiles: Ptr(true)}, "ReplaceTiles"},
		{"replace with merge false", tilesService, UpdateTilesRequest{Levels: good.Levels, Extent: good.Extent,
			ReplaceTiles: Ptr(true), MergeBundle: Ptr(false)}, "ReplaceTiles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			tilesNoRequest(t, mux)
			_, err := c.Tiles.Update(context.Background(), tc.service, tc.req)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
}

// TestTilesUpdateSentOnce: updateTiles is not idempotent, so an HTML 502
// from a proxy is returned, not retried; a job status read (a GET) is.
func TestTilesUpdateSentOnce(t *testing.T) {
	c, mux, _ := setup(t)
	var posts, polls atomic.Int32
	mux.HandleFunc(tilesAdmin+"updateTiles", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	})
	_, err := c.Tiles.Update(context.Background(), tilesService, tilesExampleRequest(t))
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusBadGateway, re.HTTPStatus)
	assert.Equal(t, int32(1), posts.Load(), "updateTiles must be sent exactly once")

	mux.HandleFunc(tilesAdmin+"jobs/"+tilesJobID, func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>Bad Gateway</html>")
			return
		}
		_, _ = io.WriteString(w, tilesExampleStats)
	})
	job, err := c.Tiles.Job(tilesService, tilesJobID)
	require.NoError(t, err)
	st, err := job.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, JobSucceeded, st.State)
	assert.Equal(t, int32(2), polls.Load(), "a status read is retried")
}

// tilesStatus is a job statistics answer with the given status fields.
func tilesStatus(status string, percent any, message string) string {
	b, _ := json.Marshal(map[string]any{"jobId": tilesJobID, "type": "CACHECOOKER",
		"jobStatus": status, "percentComplete": percent, "message": message})
	return string(b)
}

// TestTilesJobWait: SUBMITTED, then INPROGRESS with the percentage
// rising, then DONE, through the shared poller; OnStatus sees the progress
// and each new message once; the last statistics are the result.
func TestTilesJobWait(t *testing.T) {
	c, mux, _ := setup(t)
	ns := installClock(c)
	mux.HandleFunc(tilesAdmin+"updateTiles", serveFixture(t, "update-tiles-ok.json"))
	done := strings.Replace(tilesExampleStats, `"jobStatus" : "DONE"`, `"jobStatus" : "Done"`, 1)
	status := newTilesRecorder(t,
		tilesStatus("SUBMITTED", 0, ""),
		tilesStatus("INPROGRESS", 40, "Cooking level 2"),
		tilesStatus("INPROGRESS", 40, "Cooking level 2"),
		tilesStatus("InProgress", "75.5", "Cooking level 5"),
		done)
	mux.Handle(tilesAdmin+"jobs/"+tilesJobID, status)

	ctx := context.Background()
	job, err := c.Tiles.Update(ctx, tilesService, tilesExampleRequest(t))
	require.NoError(t, err)
	var seen []JobStatus
	stats, err := job.Wait(ctx, &PollOptions{OnStatus: func(st JobStatus) { seen = append(seen, st) }})
	require.NoError(t, err)

	require.Len(t, seen, 5)
	var states []JobState
	var percents []float64
	var fresh []string
	for _, st := range seen {
		states = append(states, st.State)
		require.NotNil(t, st.Progress)
		percents = append(percents, st.Progress.Percent)
		for _, m := range st.NewMessages {
			fresh = append(fresh, m.Description)
		}
		assert.Equal(t, tilesJobID, st.JobID)
	}
	assert.Equal(t, []JobState{JobQueued, JobRunning, JobRunning, JobRunning, JobSucceeded}, states)
	assert.Equal(t, []float64{0, 40, 40, 75.5, 100}, percents)
	assert.Equal(t, []string{"Cooking level 2", "Cooking level 5"}, fresh)
	assert.Equal(t, "Cooking level 5", seen[3].Progress.Message)
	assert.Equal(t, "Done", seen[4].Status)
	assert.Nil(t, seen[1].Progress.Levels, "statistics without levelStats report no level")
	assert.Equal(t, []LevelProgress{{Level: 0, Tiles: 1, EstimatedTiles: 1, DoneTasks: 1, Tasks: 1}}, seen[4].Progress.Levels,
		"the progress per level, from levelStats")

	require.NotNil(t, stats)
	assert.Equal(t, "CACHECOOKER", stats.Type)
	assert.Equal(t, float64(100), stats.PercentComplete)
	assert.Equal(t, Int(125), stats.NumTiles)
	assert.Equal(t, Int(125), stats.EstimatedNumTiles)
	assert.Equal(t, Int(151873), stats.TilesSize)
	assert.Equal(t, Int(6), stats.NumDoneTasks)
	assert.InDelta(t, 13.7777044, stats.AverageTaskTime, 1e-9)
	assert.InDelta(t, 82.6662264, stats.TotalTaskTime, 1e-9)
	assert.Equal(t, time.UnixMilli(1355205760817), stats.SubmitTime.Time)
	assert.Equal(t, time.UnixMilli(1355209575477), stats.LastTime.Time)
	require.NotNil(t, stats.Extent)
	require.NoError(t, stats.Extent.Validate())
	assert.Equal(t, 3857, stats.Extent.SpatialReference.LatestWKID)
	require.Len(t, stats.LevelStats, 1)
	assert.InDelta(t, 9.842994, stats.LevelStats[0].ProcessingTime, 1e-9)
	assert.Equal(t, Int(1), stats.LevelStats[0].NumTiles)
	assert.JSONEq(t, done, string(stats.Raw))

	reqs := status.requests()
	require.Len(t, reqs, 5)
	for _, r := range reqs {
		assert.Equal(t, http.MethodPost, r.method, "a read with a token is a POST")
		assert.NotContains(t, r.query, "token")
		assert.Equal(t, "Bearer "+testToken, r.auth)
	}
	assert.Len(t, ns.Sleeps(), 5, "a wait before each poll (the job was just submitted), none of it real")
}

// TestTileLevelProgress: levelStats in level order, numbers as numbers or
// strings; lodInfos when there are no levelStats.
func TestTileLevelProgress(t *testing.T) {
	var st TileJobStats
	require.NoError(t, json.Unmarshal([]byte(`{"jobStatus":"INPROGRESS","levelStats":[
		{"level":15,"numTasks":"4","numDoneTasks":1,"estimatedNumTiles":400,"numTiles":"120"},
		{"level":14,"numTasks":1,"numDoneTasks":1,"estimatedNumTiles":100,"numTiles":100}],
		"lodInfos":[{"levelID":3,"tileCount":1,"expectedTileCount":2}]}`), &st))
	assert.Equal(t, []LevelProgress{
		{Level: 14, Tiles: 100, EstimatedTiles: 100, DoneTasks: 1, Tasks: 1},
		{Level: 15, Tiles: 120, EstimatedTiles: 400, DoneTasks: 1, Tasks: 4},
	}, st.levelProgress())

	st = TileJobStats{LODInfos: []TileLODInfo{{LevelID: 2, TileCount: 4, ExpectedTileCount: 4, Status: "DONE"}}}
	assert.Equal(t, []LevelProgress{{Level: 2, Tiles: 4, EstimatedTiles: 4}}, st.levelProgress(), "lodInfos without levelStats")
	assert.Nil(t, (&TileJobStats{}).levelProgress())
}

// TestTilesJobFailures: PARTIALERROR and FAILED end the wait with a
// *TileJobError carrying the server's message and the last statistics,
// which Wait returns too.
func TestTilesJobFailures(t *testing.T) {
	for _, tc := range []struct{ status, message string }{
		{"PARTIALERROR", "2 of 6 tasks failed: bundle locked"},
		{"FAILED", "Cache directory is not writable."},
		{"error", "Tiling scheme mismatch."},
	} {
		t.Run(tc.status, func(t *testing.T) {
			c, mux, _ := setup(t)
			installClock(c)
			mux.Handle(tilesAdmin+"jobs/"+tilesJobID, newTilesRecorder(t,
				tilesStatus("INPROGRESS", 10, "Cooking level 0"),
				tilesStatus(tc.status, 60, tc.message)))
			job, err := c.Tiles.Job(tilesService, tilesJobID)
			require.NoError(t, err)
			var last JobStatus
			stats, err := job.Wait(context.Background(), &PollOptions{OnStatus: func(st JobStatus) { last = st }})
			require.NotNil(t, stats, "the statistics come back with the error")
			assert.Equal(t, tc.status, stats.JobStatus)
			var te *TileJobError
			require.ErrorAs(t, err, &te)
			assert.Same(t, stats, te.Stats)
			var je *JobError
			require.ErrorAs(t, err, &je)
			assert.True(t, errors.Is(err, ErrJobFailed))
			assert.Equal(t, JobFailed, je.State)
			assert.Equal(t, tc.status, je.Status)
			assert.Equal(t, tilesJobID, je.JobID)
			assert.Contains(t, err.Error(), tc.message)
			require.NotEmpty(t, je.Messages)
			assert.True(t, je.Messages[len(je.Messages)-1].IsError())
			assert.Equal(t, []JobMessage{{Type: "esriJobMessageTypeError", Description: tc.message}}, last.NewMessages)
		})
	}
}

// TestTilesJobStatusNames: the status is read from jobStatus, jobstatus or
// status, in any case; an answer without one is an error, not a job that
// never ends.
func TestTilesJobStatusNames(t *testing.T) {
	for _, tc := range []struct {
		body  string
		state JobState
	}{
		{`{"jobid":"j","type":"CacheCooker","jobstatus":"Done"}`, JobSucceeded},
		{`{"jobId":"j","jobStatus":"SUBMITTED"}`, JobQueued},
		{`{"jobId":"j","status":"InProgress"}`, JobRunning},
		{`{"jobId":"j","JOBSTATUS":"canceled"}`, JobCancelled},
		{`{"jobId":"j","status":"FAILED","percentComplete":"12"}`, JobFailed},
	} {
		c, mux, _ := setup(t)
		mux.Handle(tilesAdmin+"jobs/j", newTilesRecorder(t, tc.body))
		job, err := c.Tiles.Job(tilesService, "j")
		require.NoError(t, err)
		st, err := job.Status(context.Background())
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.state, st.State, tc.body)
	}

	c, mux, _ := setup(t)
	mux.Handle(tilesAdmin+"jobs/j", newTilesRecorder(t, `{"jobId":"j","percentComplete":5}`))
	job, err := c.Tiles.Job(tilesService, "j")
	require.NoError(t, err)
	_, err = job.Status(context.Background())
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "no jobStatus in the answer", re.Reason)
	assert.Equal(t, http.StatusOK, re.HTTPStatus)
	assert.Equal(t, `{"jobId":"j","percentComplete":5}`, re.Snippet)
}

// TestTilesJobCancel: the cancel answer {"success": true} (recorded) or
// {"success": "true"} is a success; {"success": false} is a refusal, an
// *Error; an answer that says neither is a *ResponseError
// (REST-REFERENCE §7.5).
func TestTilesJobCancel(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		want         string // "" success, "refused", "unexpected"
	}{
		{"recorded", string(fixture(t, "tile-cancel-job-ok.json")), ""},
		{"string true", `{"success":"true"}`, ""},
		{"admin success", `{"status":"success"}`, ""},
		{"false", `{"success":false}`, "refused"},
		{"string false", `{"success":"false"}`, "refused"},
		{"neither", `{}`, "unexpected"},
		{"error envelope", `{"error":{"code":400,"message":"Unable to cancel job.","details":["Job is already complete."]}}`, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			cancel := newTilesRecorder(t, tc.answer)
			mux.Handle("/arcgis/rest/admin/services/Hosted/WorldService/MapServer/jobs/"+tilesJobID+"/cancel", cancel)
			job, err := c.Tiles.Job(ServiceRef{Folder: "Hosted", Name: "WorldService", Type: "mapserver"}, tilesJobID)
			require.NoError(t, err)
			err = job.Cancel(context.Background())
			switch tc.want {
			case "":
				require.NoError(t, err)
			case "refused":
				var ae *Error
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "Hosted/WorldService.MapServer job "+tilesJobID+": cancel", ae.Op)
				assert.Contains(t, ae.URL, "/jobs/"+tilesJobID+"/cancel")
			case "unexpected":
				var re *ResponseError
				require.ErrorAs(t, err, &re)
			}
			reqs := cancel.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodPost, reqs[0].method)
			assert.NotContains(t, reqs[0].query, "token")
		})
	}
}

func TestTilesJobReattachValidation(t *testing.T) {
	c, mux, _ := setup(t)
	tilesNoRequest(t, mux)
	for _, tc := range []struct {
		service   ServiceRef
		id, field string
	}{
		{tilesService, "", "job ID"},
		{tilesService, "  ", "job ID"},
		{tilesService, "..", "job ID"},
		{tilesService, "a/b", "job ID"},
		{tilesService, "a?b", "job ID"},
		{ServiceRef{Name: "bad name"}, "j", "Name"},
	} {
		_, err := c.Tiles.Job(tc.service, tc.id)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%q %q", tc.service, tc.id)
		assert.Equal(t, tc.field, ve.Field)
	}
}

func TestTilesJobs(t *testing.T) {
	c, mux, _ := setup(t)
	list := newTilesRecorder(t, tilesExampleSummary)
	mux.Handle(tilesAdmin+"jobs", list)
	sum, err := c.Tiles.Jobs(context.Background(), tilesService)
	require.NoError(t, err)
	assert.Equal(t, Int(1), sum.Total)
	require.Len(t, sum.Jobs, 1)
	j := sum.Jobs[0]
	assert.Equal(t, tilesJobID, j.ID)
	assert.Equal(t, JobSucceeded, j.State())
	assert.Equal(t, "UpdateTiles", j.Type)
	assert.Equal(t, time.UnixMilli(1355169658457), j.EndTime.Time)
	assert.Equal(t, []TileLODInfo{{LevelID: 2, TileCount: 4, ExpectedTileCount: 4, TilesSize: 8427, Status: "DONE"}}, j.LODInfos)
	require.NotNil(t, j.Extent)
	assert.Equal(t, 102100, j.Extent.SpatialReference.WKID)
	require.Len(t, list.requests(), 1)
	assert.Equal(t, http.MethodPost, list.requests()[0].method)

	// Esri's syntax shows wkid as a string: the list still reads, without
	// the extent.
	odd := strings.Replace(tilesExampleSummary, `"wkid" : 102100`, `"wkid" : "<wkid>"`, 1)
	list.answers = []string{odd}
	sum, err = c.Tiles.Jobs(context.Background(), tilesService)
	require.NoError(t, err)
	assert.Nil(t, sum.Jobs[0].Extent)
	assert.Equal(t, "DONE", sum.Jobs[0].Status)
}

// The Manage Map Cache Tiles task, as a standalone server runs it.
const tilesCacheTask = "/arcgis/rest/services/System/CachingTools/GPServer/Manage Map Cache Tiles/"

func tilesAOI() *FeatureSet {
	return PolygonFeatureSet(SpatialReference{WKID: 102100},
		[][2]float64{{3950569, 4015211}, {3950569, 4016043}, {3951304, 4016043}, {3951304, 4015211}, {3950569, 4015211}})
}

// TestTilesManageCache: the scheme read first, then the submit body
// (parameter names, the levels as the scheme's exact scales joined with
// ';' largest denominator first, the area of interest as one JSON feature
// set, the token only in the body), then the GP job to success through
// the shared poller.
func TestTilesManageCache(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	scheme := newTilesRecorder(t, mapServiceJSON(webMercatorLODs))
	mux.Handle("/arcgis/rest/services/Basemaps/Streets/MapServer", scheme)
	submit := newTilesRecorder(t, string(fixture(t, "gp-submitjob-ok.json")))
	status := newTilesRecorder(t,
		`{"jobId":"ja892cd2a90d149db9a171fc86ff530b4","jobStatus":"esriJobExecuting","messages":[{"type":"esriJobMessageTypeInformative","description":"Executing..."}]}`,
		`{"jobId":"ja892cd2a90d149db9a171fc86ff530b4","jobStatus":"esriJobSucceeded","messages":[{"type":"esriJobMessageTypeInformative","description":"Executing..."},{"type":"esriJobMessageTypeInformative","description":"Succeeded."}],"results":{"result":{"paramUrl":"results/result"}}}`)
	mux.HandleFunc("/arcgis/rest/services/System/CachingTools/GPServer/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case tilesCacheTask + "submitJob":
			require.Len(t, scheme.requests(), 1, "the scheme is read before the job is submitted")
			submit.ServeHTTP(w, r)
		case tilesCacheTask + "jobs/ja892cd2a90d149db9a171fc86ff530b4":
			status.ServeHTTP(w, r)
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	})

	ctx := context.Background()
	levels, err := ParseLevels("17-18")
	require.NoError(t, err)
	job, err := c.Tiles.ManageCache(ctx, ManageCacheRequest{Service: ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer},
		Levels: levels, UpdateMode: RecreateAllTiles, Instances: 3, AreaOfInterest: tilesAOI()})
	require.NoError(t, err)
	assert.Equal(t, "ja892cd2a90d149db9a171fc86ff530b4", job.ID())

	reqs := submit.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.method)
	assert.Contains(t, r.rawPath, "/Manage%20Map%20Cache%20Tiles/submitJob")
	assert.NotContains(t, r.query, "token")
	vals := tilesGolden(t, "tiles_manage_cache.form", r.body)
	assert.Equal(t, []string{"area_of_interest", "f", "levels", "service_url", "thread_count", "token", "update_mode"}, tilesKeys(vals))
	assert.Equal(t, "Basemaps/Streets:MapServer", vals.Get("service_url"))
	assert.Equal(t, "4513.988705;2256.994353", vals.Get("levels"))
	assert.Equal(t, "3", vals.Get("thread_count"))
	assert.Equal(t, "RECREATE_ALL_TILES", vals.Get("update_mode"))
	var aoi FeatureSet
	require.NoError(t, json.Unmarshal([]byte(vals.Get("area_of_interest")), &aoi))
	assert.Equal(t, "esriGeometryPolygon", aoi.GeometryType)
	assert.Equal(t, &SpatialReference{WKID: 102100}, aoi.SpatialReference)

	var fresh []string
	res, err := job.Wait(ctx, &PollOptions{OnStatus: func(st JobStatus) {
		for _, m := range st.NewMessages {
			fresh = append(fresh, m.Description)
		}
	}})
	require.NoError(t, err)
	assert.Equal(t, "esriJobSucceeded", res.Status)
	assert.Equal(t, []string{"result"}, res.Outputs)
	assert.Equal(t, []string{"Executing...", "Succeeded."}, fresh)
}

// submitRecorder answers every GP submit under System/ with the recorded
// submit answer and keeps the forms.
func submitRecorder(t *testing.T, mux *http.ServeMux) func() []url.Values {
	var bodies []url.Values
	var mu sync.Mutex
	mux.HandleFunc("/arcgis/rest/services/System/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		v, err := url.ParseQuery(string(b))
		assert.NoError(t, err)
		mu.Lock()
		bodies = append(bodies, v)
		mu.Unlock()
		_, _ = w.Write(fixture(t, "gp-submitjob-ok.json"))
	})
	return func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), bodies...)
	}
}

// TestTilesManageCacheForms: the other form fields: a root service, an
// image service, the default instance count, scales given as rounded
// values, an update extent as xmin;ymin;xmax;ymax, the controller's jobid,
// extra parameters.
func TestTilesManageCacheForms(t *testing.T) {
	c, mux, _ := setup(t)
	bodies := submitRecorder(t, mux)
	sch := &TileScheme{Rows: 256, Cols: 256, SpatialReference: &SpatialReference{WKID: 3857},
		LODs: []LOD{{0, 264.5838625010584, 1e6}, {1, 132.2919312505292, 500000}}}
	ctx := context.Background()
	_, err := c.Tiles.ManageCache(ctx, ManageCacheRequest{Service: ServiceRef{Name: "Elevation", Type: ImageServer},
		Scales: []float64{1e6}, UpdateMode: DeleteTiles, Scheme: sch,
		Extent:   &Extent{XMin: 1, YMin: 2.5, XMax: 3, YMax: 4, SpatialReference: &SpatialReference{WKID: 102100}},
		TaskPath: ControllerManageMapCacheTilesTask})
	require.NoError(t, err)
	_, err = c.Tiles.ManageCache(ctx, ManageCacheRequest{Service: ServiceRef{Folder: "Basemaps", Name: "Streets"},
		Levels: sch.AllLevels(), UpdateMode: ResumeJob, Scheme: sch, Instances: 2,
		TaskPath: "System/CachingControllers/GPServer/Manage%20Map%20Cache%20Tiles", JobID: "j0123456789abcdef",
		ExtraParams: ExtraParams{"ignore_status": {"TRUE"}, "thread_count": {"4"}}})
	require.NoError(t, err)
	got := bodies()
	require.Len(t, got, 2)
	v := got[0]
	assert.Equal(t, "Elevation:ImageServer", v.Get("service_url"))
	assert.Equal(t, "1000000", v.Get("levels"))
	assert.Equal(t, "-1", v.Get("thread_count"), "0 instances sends -1: as many as allowed")
	assert.Equal(t, "DELETE_TILES", v.Get("update_mode"))
	assert.Equal(t, "1;2.5;3;4", v.Get("constraining_extent"), "the utility's form, in the service's spatial reference")
	assert.False(t, v.Has("area_of_interest"))
	assert.False(t, v.Has("jobid"))
	v = got[1]
	assert.Equal(t, "1000000;500000", v.Get("levels"))
	assert.Equal(t, "RESUME_JOB", v.Get("update_mode"))
	assert.Equal(t, "j0123456789abcdef", v.Get("jobid"))
	assert.Equal(t, "TRUE", v.Get("ignore_status"))
	assert.Equal(t, []string{"4"}, v["thread_count"], "an extra parameter replaces the typed one")
}

func TestTilesManageCacheValidation(t *testing.T) {
	l17, _ := ParseLevels("17")
	good := ManageCacheRequest{Service: ServiceRef{Folder: "Basemaps", Name: "Streets"}, Levels: l17, UpdateMode: RecreateEmptyTiles,
		Scheme: webMercatorScheme()}
	with := func(f func(*ManageCacheRequest)) ManageCacheRequest {
		r := good
		f(&r)
		return r
	}
	open := PolygonFeatureSet(SpatialReference{WKID: 3857}, [][2]float64{{0, 0}, {0, 1}, {1, 1}, {1, 0}})
	for _, tc := range []struct {
		name   string
		req    ManageCacheRequest
		field  string
		reason string
	}{
		{"no service", with(func(r *ManageCacheRequest) { r.Service = ServiceRef{} }), "Service.Name", ""},
		{"bad folder", with(func(r *ManageCacheRequest) { r.Service.Folder = "Base maps" }), "Service.Folder", ""},
		{"feature service", with(func(r *ManageCacheRequest) { r.Service.Type = FeatureServer }), "Service.Type", ""},
		{"no levels", with(func(r *ManageCacheRequest) { r.Levels = Levels{} }), "Levels", "give the levels"},
		{"levels and scales", with(func(r *ManageCacheRequest) { r.Scales = []float64{4513.99} }), "Levels", "not both"},
		{"level not in scheme", with(func(r *ManageCacheRequest) { r.Levels, _ = ParseLevels("12-13") }), "Levels",
			"level 12 is not in the tiling scheme, whose levels are 0-2,13-18"},
		{"scale not in scheme", with(func(r *ManageCacheRequest) { r.Levels, r.Scales = Levels{}, []float64{4513.99, 3000} }), "Scales[1]",
			"3000 is not a scale of the tiling scheme"},
		{"zero scale", with(func(r *ManageCacheRequest) { r.Levels, r.Scales = Levels{}, []float64{4513.99, 0} }), "Scales[1]", ""},
		{"NaN scale", with(func(r *ManageCacheRequest) { r.Levels, r.Scales = Levels{}, []float64{math.NaN()} }), "Scales[0]", ""},
		{"no mode", with(func(r *ManageCacheRequest) { r.UpdateMode = "" }), "UpdateMode", ""},
		{"display name mode", with(func(r *ManageCacheRequest) { r.UpdateMode = "Recreate All Tiles" }), "UpdateMode", ""},
		{"controller mode on CachingTools", with(func(r *ManageCacheRequest) { r.UpdateMode = ResumeJob }), "UpdateMode",
			"RESUME_JOB is a mode of the System/CachingControllers task only"},
		{"controller mode on another task", with(func(r *ManageCacheRequest) {
			r.UpdateMode, r.TaskPath = CompleteJob, "Custom/Caching/GPServer/Manage Map Cache Tiles"
		}), "UpdateMode", "CachingControllers"},
		{"jobid on CachingTools", with(func(r *ManageCacheRequest) { r.JobID = "j1" }), "JobID", "CachingControllers"},
		{"bad jobid", with(func(r *ManageCacheRequest) { r.JobID, r.TaskPath = "a/b", ControllerManageMapCacheTilesTask }), "job ID", ""},
		{"instances", with(func(r *ManageCacheRequest) { r.Instances = -2 }), "Instances", ""},
		{"extent and area", with(func(r *ManageCacheRequest) {
			r.Extent = &Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 3857}}
			r.AreaOfInterest = tilesAOI()
		}), "Extent", ""},
		{"bad extent", with(func(r *ManageCacheRequest) { r.Extent = &Extent{XMax: 1, YMax: 1} }), "extent.spatialReference", ""},
		{"extent in another spatial reference", with(func(r *ManageCacheRequest) {
			r.Extent = &Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 2913}}
		}), "Extent.spatialReference", "wkid 2913 is not wkid 102100"},
		{"area not polygons", with(func(r *ManageCacheRequest) {
			r.AreaOfInterest = &FeatureSet{GeometryType: "esriGeometryPoint", SpatialReference: &SpatialReference{WKID: 3857},
				Features: []Feature{{Geometry: json.RawMessage(`{"x":1,"y":2}`)}}}
		}), "AreaOfInterest.geometryType", ""},
		{"area without spatial reference", with(func(r *ManageCacheRequest) {
			r.AreaOfInterest = &FeatureSet{GeometryType: "esriGeometryPolygon", Features: tilesAOI().Features}
		}), "AreaOfInterest.spatialReference", ""},
		{"area empty", with(func(r *ManageCacheRequest) {
			r.AreaOfInterest = &FeatureSet{GeometryType: "esriGeometryPolygon", SpatialReference: &SpatialReference{WKID: 3857}}
		}), "AreaOfInterest.features", ""},
		{"open ring", with(func(r *ManageCacheRequest) { r.AreaOfInterest = open }), "AreaOfInterest.features[0].geometry.rings[0]", ""},
		{"no rings", with(func(r *ManageCacheRequest) { r.AreaOfInterest = PolygonFeatureSet(SpatialReference{WKID: 3857}) }),
			"AreaOfInterest.features[0].geometry", ""},
		{"geometry not an object", with(func(r *ManageCacheRequest) {
			r.AreaOfInterest = &FeatureSet{GeometryType: "esriGeometryPolygon", SpatialReference: &SpatialReference{WKID: 3857},
				Features: []Feature{{Geometry: []int{1, 2}}}}
		}), "AreaOfInterest.features[0].geometry", ""},
		{"bad task path", with(func(r *ManageCacheRequest) { r.TaskPath = "System/CachingTools" }), "task path", ""},
		{"extra token", with(func(r *ManageCacheRequest) { r.ExtraParams = ExtraParams{"token": {"x"}} }), "ExtraParams", ""},
		{"extra blank name", with(func(r *ManageCacheRequest) { r.ExtraParams = ExtraParams{" ": {"x"}} }), "ExtraParams", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			tilesNoRequest(t, mux)
			_, err := c.Tiles.ManageCache(context.Background(), tc.req)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
			assert.Contains(t, ve.Reason, tc.reason)
		})
	}
}

// Rebuild only the levels that changed, inside a box, on a hosted tile
// layer, and report progress while the job runs.
func ExampleTilesService_Update() {
	c, err := NewClient("https://tiles.arcgis.com/tiles/ORG_ID/arcgis", WithToken("TOKEN"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	levels, err := ParseLevels("0-5,10,11-20")
	if err != nil {
		panic(err)
	}
	job, err := c.Tiles.Update(ctx, ServiceRef{Name: "WorldService", Type: MapServer}, UpdateTilesRequest{
		Extent: &Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043,
			SpatialReference: &SpatialReference{WKID: 102100}},
		Levels: levels, MergeBundle: Ptr(true), ReplaceTiles: Ptr(false)})
	if err != nil {
		panic(err)
	}
	fmt.Println("job", job.ID()) // store it to re-attach with c.Tiles.Job
	stats, err := job.Wait(ctx, &PollOptions{OnStatus: func(st JobStatus) {
		fmt.Printf("%s %.0f%%\n", st.Status, st.Progress.Percent)
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(stats.NumTiles, "tiles")
}

// Rebuild two levels of a cached map service on ArcGIS Server, only inside
// a polygon.
func ExampleTilesService_ManageCache() {
	c, err := NewClient("https://gis.example.com:6443/arcgis", WithCredentials("admin", "secret"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	aoi := PolygonFeatureSet(SpatialReference{WKID: 102100},
		[][2]float64{{3950569, 4015211}, {3950569, 4016043}, {3951304, 4016043}, {3951304, 4015211}, {3950569, 4015211}})
	levels, err := ParseLevels("17-18")
	if err != nil {
		panic(err)
	}
	job, err := c.Tiles.ManageCache(ctx, ManageCacheRequest{Service: ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer},
		Levels: levels, UpdateMode: RecreateAllTiles, AreaOfInterest: aoi})
	if err != nil {
		panic(err)
	}
	res, err := job.Wait(ctx, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status)
}
