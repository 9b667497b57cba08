package ags

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cacheTaskRecorder serves one caching task's submitJob with the recorded
// submit answer, and the Basemaps/Streets description for the scheme.
func cacheTaskRecorder(t *testing.T, mux *http.ServeMux, task string) *tilesRecorder {
	submit := newTilesRecorder(t, string(fixture(t, "gp-submitjob-ok.json")))
	mux.HandleFunc("/arcgis/rest/services/System/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/arcgis/rest/services/"+task+"/submitJob" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		submit.ServeHTTP(w, r)
	})
	mux.Handle("/arcgis/rest/services/Basemaps/Streets/MapServer", newTilesRecorder(t, mapServiceJSON(webMercatorLODs)))
	return submit
}

// TestCachingToolsGoldenRequests: each typed caching task posts its REST
// parameter names to its own task, once, with the token only in the body.
func TestCachingToolsGoldenRequests(t *testing.T) {
	streets := ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer}
	l1718, _ := ParseLevels("17-18")
	for _, tc := range []struct {
		golden, task string
		submit       func(c *Client) (*Job[*GPResult], error)
	}{
		{"cache_create.form", "System/CachingTools/GPServer/Create Map Cache", func(c *Client) (*Job[*GPResult], error) {
			return c.Tiles.CreateCache(context.Background(), CreateCacheRequest{Service: streets,
				OutFolder: `c:\arcgisserver\directories\arcgiscache`, Scales: []float64{2256.994353, 4513.988705, 9027.977411},
				TileOrigin: &Point{X: -20037508.342787, Y: 20037508.342787}, TileFormat: TileFormatJPEG})
		}},
		{"cache_scales.form", "System/CachingTools/GPServer/Manage Map Cache Scales", func(c *Client) (*Job[*GPResult], error) {
			return c.Tiles.SetCacheScales(context.Background(), CacheScalesRequest{Service: streets,
				Scales: []float64{4513.988705, 9027.977411, 4513.988705}})
		}},
		{"cache_status.form", "System/CachingTools/GPServer/Manage Map Cache Status", func(c *Client) (*Job[*GPResult], error) {
			return c.Tiles.CacheStatus(context.Background(), CacheStatusRequest{Service: streets, Mode: ReportTileStatus,
				Levels: l1718, Instances: 2,
				Extent: &Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043, SpatialReference: &SpatialReference{WKID: 3857}}})
		}},
		{"cache_delete.form", "System/CachingTools/GPServer/DeleteCache", func(c *Client) (*Job[*GPResult], error) {
			return c.Tiles.DeleteCacheAndRestartService(context.Background(), DeleteCacheRequest{Service: streets})
		}},
		{"cache_manage_controller.form", "System/CachingControllers/GPServer/Manage Map Cache Tiles", func(c *Client) (*Job[*GPResult], error) {
			return c.Tiles.ManageCache(context.Background(), ManageCacheRequest{Service: streets, Levels: l1718,
				UpdateMode: ResumeJob, TaskPath: ControllerManageMapCacheTilesTask, JobID: "j0123456789abcdef", Instances: 2,
				Extent: &Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043, SpatialReference: &SpatialReference{WKID: 102100}}})
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			c, mux, _ := setup(t)
			submit := cacheTaskRecorder(t, mux, tc.task)
			job, err := tc.submit(c)
			require.NoError(t, err)
			assert.Equal(t, "ja892cd2a90d149db9a171fc86ff530b4", job.ID())
			reqs := submit.requests()
			require.Len(t, reqs, 1, "the submit is sent once")
			assert.Equal(t, http.MethodPost, reqs[0].method)
			assert.NotContains(t, reqs[0].query, "token")
			tilesGolden(t, tc.golden, reqs[0].body)
		})
	}
}

func TestCreateCacheDefaults(t *testing.T) {
	p, err := CreateCacheRequest{Service: ServiceRef{Name: "Elevation", Type: ImageServer}, OutFolder: "d:/cache",
		Scales: []float64{1e6}, UseLocalCacheDir: Ptr(false), ExtraParams: ExtraParams{"dpi": {"120"}}}.params()
	require.NoError(t, err)
	assert.Equal(t, url.Values{"service_url": {"Elevation:ImageServer"}, "out_folder": {"d:/cache"}, "levels": {"1000000"},
		"storage_format": {"COMPACT"}, "cache_format": {"PNG"}, "tile_compression_quality": {"0"}, "dpi": {"120"},
		"tile_width": {"256"}, "tile_height": {"256"}, "use_local_cache_dir": {"false"}, "f": {"json"}}, p,
		"documented defaults are sent; no tile_origin leaves it to the server; ExtraParams replace")
	p, err = CreateCacheRequest{Service: ServiceRef{Name: "Streets"}, OutFolder: "d:/cache", Scales: []float64{1e6},
		TileFormat: TileFormatMixed}.params()
	require.NoError(t, err)
	assert.Equal(t, "75", p.Get("tile_compression_quality"))
}

func TestCachingToolsValidation(t *testing.T) {
	good := CreateCacheRequest{Service: ServiceRef{Name: "Streets"}, OutFolder: "d:/cache", Scales: []float64{1e6}}
	create := func(f func(*CreateCacheRequest)) func(c *Client) error {
		r := good
		f(&r)
		return func(c *Client) error { _, err := c.Tiles.CreateCache(context.Background(), r); return err }
	}
	sch := webMercatorScheme()
	for _, tc := range []struct {
		name, field string
		call        func(c *Client) error
	}{
		{"create: feature service", "Service.Type", create(func(r *CreateCacheRequest) { r.Service.Type = FeatureServer })},
		{"create: no folder", "OutFolder", create(func(r *CreateCacheRequest) { r.OutFolder = "" })},
		{"create: no scales", "Scales", create(func(r *CreateCacheRequest) { r.Scales = nil })},
		{"create: bad scale", "Scales[0]", create(func(r *CreateCacheRequest) { r.Scales = []float64{-1} })},
		{"create: storage", "StorageFormat", create(func(r *CreateCacheRequest) { r.StorageFormat = "compact" })},
		{"create: format", "TileFormat", create(func(r *CreateCacheRequest) { r.TileFormat = "GIF" })},
		{"create: quality for PNG", "TileCompressionQuality", create(func(r *CreateCacheRequest) { r.TileCompressionQuality = 80 })},
		{"create: quality over 100", "TileCompressionQuality", create(func(r *CreateCacheRequest) {
			r.TileFormat, r.TileCompressionQuality = TileFormatJPEG, 101
		})},
		{"create: dpi", "DPI", create(func(r *CreateCacheRequest) { r.DPI = -96 })},
		{"create: tile size", "TileWidth", create(func(r *CreateCacheRequest) { r.TileWidth = 300 })},
		{"create: extra f", "ExtraParams", create(func(r *CreateCacheRequest) { r.ExtraParams = ExtraParams{"f": {"html"}} })},
		{"scales: none", "Scales", func(c *Client) error {
			_, err := c.Tiles.SetCacheScales(context.Background(), CacheScalesRequest{Service: ServiceRef{Name: "Streets"}})
			return err
		}},
		{"status: no mode", "Mode", func(c *Client) error {
			_, err := c.Tiles.CacheStatus(context.Background(), CacheStatusRequest{Service: ServiceRef{Name: "Streets"}, Scheme: sch})
			return err
		}},
		{"status: level not in scheme", "Levels", func(c *Client) error {
			l, _ := ParseLevels("25")
			_, err := c.Tiles.CacheStatus(context.Background(), CacheStatusRequest{Service: ServiceRef{Name: "Streets"},
				Mode: RebuildCacheStatus, Levels: l, Scheme: sch})
			return err
		}},
		{"delete: bad name", "Service.Name", func(c *Client) error {
			_, err := c.Tiles.DeleteCacheAndRestartService(context.Background(), DeleteCacheRequest{Service: ServiceRef{Name: "a b"}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			tilesNoRequest(t, mux)
			var ve *ValidationError
			require.ErrorAs(t, tc.call(c), &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
		})
	}
}

func TestTilesResumeCache(t *testing.T) {
	c, mux, _ := setup(t)
	const jobPath = tilesCacheTask + "jobs/jfailed/inputs/"
	submit := newTilesRecorder(t, string(fixture(t, "gp-submitjob-ok.json")))
	inputs := map[string]string{
		"service_url":  `{"paramName":"service_url","dataType":"GPString","value":"Basemaps/Streets:MapServer"}`,
		"levels":       `{"paramName":"levels","dataType":"GPString","value":"4513.988705;2256.994353"}`,
		"thread_count": `{"paramName":"thread_count","dataType":"GPLong","value":3}`,
		"area_of_interest": `{"paramName":"area_of_interest","dataType":"GPFeatureRecordSetLayer","value":` +
			`{"geometryType":"esriGeometryPolygon","spatialReference":{"wkid":102100},"features":[]}}`,
	}
	mux.HandleFunc("/arcgis/rest/services/System/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == tilesCacheTask+"submitJob":
			submit.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, jobPath):
			assert.Equal(t, http.MethodPost, r.Method) // authenticated: the token goes in the body
			body, ok := inputs[strings.TrimPrefix(r.URL.Path, jobPath)]
			if !ok {
				body = `{"error":{"code":400,"message":"Unable to complete operation.","details":["Parameter is not an input of this job."]}}`
			}
			_, _ = w.Write([]byte(body))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		}
	})
	job, err := c.Tiles.ResumeCache(context.Background(), "", "jfailed")
	require.NoError(t, err)
	assert.Equal(t, "ja892cd2a90d149db9a171fc86ff530b4", job.ID())
	reqs := submit.requests()
	require.Len(t, reqs, 1)
	vals := tilesGolden(t, "cache_resume.form", reqs[0].body)
	assert.Equal(t, "RECREATE_EMPTY_TILES", vals.Get("update_mode"))
	assert.False(t, vals.Has("constraining_extent"), "an input the job was not given is left out")

	// An optional input whose read fails for another reason ends the
	// resume: resubmitting without the area would rebuild everywhere.
	inputs["area_of_interest"] = `{"error":{"code":500,"message":"Unable to complete operation.","details":[]}}`
	_, err = c.Tiles.ResumeCache(context.Background(), "", "jfailed")
	assert.ErrorContains(t, err, "resume job jfailed")
	inputs["area_of_interest"] = `{"paramName":"area_of_interest","dataType":"GPFeatureRecordSetLayer","value":null}`
	_, err = c.Tiles.ResumeCache(context.Background(), "", "jfailed")
	require.NoError(t, err, "an optional input without a value is left out")
	assert.Len(t, submit.requests(), 2, "no submit after the failed read")

	delete(inputs, "levels")
	_, err = c.Tiles.ResumeCache(context.Background(), "", "jfailed")
	assert.ErrorContains(t, err, "resume job jfailed")
	inputs["levels"] = `{"paramName":"levels","dataType":"GPString","value":""}`
	_, err = c.Tiles.ResumeCache(context.Background(), "", "jfailed")
	var re *ResponseError
	require.ErrorAs(t, err, &re, "a required input without a value is a bad answer")
	assert.Contains(t, re.Error(), "the job has no levels input")
	var ve *ValidationError
	_, err = c.Tiles.ResumeCache(context.Background(), "System/CachingTools", "jfailed")
	require.ErrorAs(t, err, &ve)
	_, err = c.Tiles.ResumeCache(context.Background(), "", "a/b")
	require.ErrorAs(t, err, &ve)
}

// TestConstrainingExtentConverts: a WGS84 extent for a Web Mercator
// service goes out in metres: x = 6378137·λ, y = 6378137·ln(tan(π/4 + φ/2)).
func TestConstrainingExtentConverts(t *testing.T) {
	got, err := constrainingExtent(Extent{XMin: -122.7, YMin: 45.5, XMax: -122.6, YMax: 45.6,
		SpatialReference: &SpatialReference{WKID: 4326}}, webMercatorScheme())
	require.NoError(t, err)
	parts := strings.Split(got, ";")
	require.Len(t, parts, 4)
	want := []float64{-13658901.520334667, 5700582.732404122, -13647769.571255341, 5716479.015326831}
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		require.NoError(t, err)
		assert.InDelta(t, want[i], v, 1e-3, "corner value %d", i)
	}
}
