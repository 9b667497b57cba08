package ags

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webMercatorLODs are the first levels of the ArcGIS Online / Bing / Google
// scheme (256 px, 96 dpi), as map services list them.
var webMercatorLODs = []LOD{
	{0, 156543.03392800014, 5.91657527591555e8},
	{1, 78271.51696399994, 2.95828763795777e8},
	{2, 39135.75848200009, 1.47914381897889e8},
	{13, 19.109257071294063, 72223.819286},
	{14, 9.554628535647032, 36111.909643},
	{15, 4.777314267823516, 18055.954822},
	{16, 2.388657133911758, 9027.977411},
	{17, 1.194328566955879, 4513.988705},
	{18, 0.5971642834779395, 2256.994353},
}

func webMercatorScheme() *TileScheme {
	return &TileScheme{Rows: 256, Cols: 256, DPI: 96, Format: "PNG",
		Origin:           Point{X: -20037508.342787, Y: 20037508.342787},
		SpatialReference: &SpatialReference{WKID: 102100, LatestWKID: 3857},
		LODs:             append([]LOD(nil), webMercatorLODs...)}
}

// mapServiceJSON is a cached map service's description in the shape of the
// services directory (https://developers.arcgis.com/rest/services-reference/enterprise/map-service/),
// trimmed to the fields the scheme is read from. Written for this test, not
// recorded from a server.
func mapServiceJSON(lods []LOD) string {
	parts := make([]string, len(lods))
	for i, l := range lods {
		parts[i] = fmt.Sprintf(`{"level":%d,"resolution":%v,"scale":%v}`, l.Level, l.Resolution, l.Scale)
	}
	return `{"currentVersion":11.3,"serviceDescription":"","mapName":"Layers","singleFusedMapCache":true,
	"spatialReference":{"wkid":102100,"latestWkid":3857},
	"tileInfo":{"rows":256,"cols":256,"dpi":96,"format":"PNG","compressionQuality":0,
	  "origin":{"x":-20037508.342787,"y":20037508.342787},
	  "spatialReference":{"wkid":102100,"latestWkid":3857},
	  "lods":[` + strings.Join(parts, ",") + `]},
	"initialExtent":{"xmin":-13655000,"ymin":5700000,"xmax":-13630000,"ymax":5710000,"spatialReference":{"wkid":102100,"latestWkid":3857}},
	"fullExtent":{"xmin":-13660000,"ymin":5690000,"xmax":-13620000,"ymax":5720000,"spatialReference":{"wkid":102100,"latestWkid":3857}},
	"units":"esriMeters"}`
}

func TestTilesScheme(t *testing.T) {
	c, mux, _ := setup(t)
	rec := newTilesRecorder(t, mapServiceJSON(webMercatorLODs))
	mux.Handle("/arcgis/rest/services/Basemaps/Streets/MapServer", rec)
	sch, err := c.Tiles.Scheme(context.Background(), ServiceRef{Folder: "Basemaps", Name: "Streets"})
	require.NoError(t, err)
	assert.Equal(t, 256, sch.Rows)
	assert.Equal(t, 256, sch.Cols)
	assert.Equal(t, 96, sch.DPI)
	assert.Equal(t, "PNG", sch.Format)
	assert.Equal(t, Point{X: -20037508.342787, Y: 20037508.342787}, sch.Origin)
	assert.Equal(t, &SpatialReference{WKID: 102100, LatestWKID: 3857}, sch.SpatialReference)
	assert.Equal(t, webMercatorLODs, sch.LODs)
	require.NotNil(t, sch.FullExtent)
	assert.Equal(t, -13660000.0, sch.FullExtent.XMin)
	require.NotNil(t, sch.InitialExtent)
	reqs := rec.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].method) // authenticated: the token in the body
	assert.NotContains(t, reqs[0].query, "token")
}

func TestTilesSchemeAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		check      func(t *testing.T, err error)
	}{
		{"not cached", `{"currentVersion":11.3,"singleFusedMapCache":false,"spatialReference":{"wkid":3857}}`, func(t *testing.T, err error) {
			assert.True(t, errors.Is(err, ErrNoTileScheme), "%v", err)
		}},
		{"no levels", `{"tileInfo":{"rows":256,"cols":256,"origin":{"x":0,"y":0},"spatialReference":{"wkid":3857},"lods":[]}}`, func(t *testing.T, err error) {
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, re.Reason, "no levels")
		}},
		{"zero tile", `{"tileInfo":{"rows":0,"cols":256,"origin":{"x":0,"y":0},"lods":[{"level":0,"resolution":1,"scale":1}]}}`, func(t *testing.T, err error) {
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, re.Reason, "tile size")
		}},
		{"no spatial reference", `{"tileInfo":{"rows":256,"cols":256,"origin":{"x":0,"y":0},"lods":[{"level":0,"resolution":1,"scale":1}]}}`, func(t *testing.T, err error) {
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, re.Reason, "spatial reference")
		}},
		{"zero resolution", `{"spatialReference":{"wkid":3857},"tileInfo":{"rows":256,"cols":256,"origin":{"x":0,"y":0},"lods":[{"level":0,"resolution":0,"scale":1}]}}`, func(t *testing.T, err error) {
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, re.Reason, "level 0 has resolution 0")
		}},
		{"not found", string(fixture(t, "error-403-no-permission-mock.json")), func(t *testing.T, err error) {
			assert.True(t, errors.Is(err, ErrForbidden), "%v", err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.Handle("/arcgis/rest/services/Streets/MapServer", newTilesRecorder(t, tc.body))
			_, err := c.Tiles.Scheme(context.Background(), ServiceRef{Name: "Streets"})
			require.Error(t, err)
			tc.check(t, err)
		})
	}
	c, mux, _ := setup(t)
	tilesNoRequest(t, mux)
	_, err := c.Tiles.Scheme(context.Background(), ServiceRef{Name: "Streets", Type: FeatureServer})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
}

func TestTileSchemeScales(t *testing.T) {
	sch := webMercatorScheme()
	l, err := ParseLevels("17-18,14")
	require.NoError(t, err)
	scales, err := sch.Scales(l)
	require.NoError(t, err)
	assert.Equal(t, []float64{36111.909643, 4513.988705, 2256.994353}, scales, "exact values of the scheme, largest first")

	l, _ = ParseLevels("3")
	_, err = sch.Scales(l)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Reason, "level 3 is not in the tiling scheme, whose levels are 0-2,13-18")

	got, err := sch.matchScales("Scales", []float64{4513.99, 2256.99, 4513.988705})
	require.NoError(t, err)
	assert.Equal(t, []float64{4513.988705, 2256.994353}, got, "rounded scales name the scheme's levels; duplicates go")
	_, err = sch.matchScales("Scales", []float64{4513.99, 5000})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Scales[1]", ve.Field)
	assert.Contains(t, ve.Reason, "17:4513.988705")
}

// TestTileSchemeEstimate checks Estimate against grids worked out by hand:
// column = floor((x - originX) / (cols·resolution)), row = floor((originY -
// y) / (rows·resolution)), the last column and row from ceil(...) - 1.
func TestTileSchemeEstimate(t *testing.T) {
	t.Run("web mercator 256 px", func(t *testing.T) {
		sch := webMercatorScheme()
		world := Extent{XMin: -20037508.342787, YMin: -20037508.342787, XMax: 20037508.342787, YMax: 20037508.342787,
			SpatialReference: &SpatialReference{WKID: 3857}}
		l, _ := ParseLevels("0-2")
		est, err := sch.Estimate(world, l)
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 4, 16}, tilesPerLevel(est), "the world is 4^level tiles")
		assert.Equal(t, int64(21), est.Total)

		// The updateTiles example's box: 735 m x 832 m. At level 16 a tile
		// is 256 x 2.388657 = 611.5 m, and the box spans columns 39228-39229
		// and rows 26200-26201.
		box := Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043, SpatialReference: &SpatialReference{WKID: 102100}}
		l, _ = ParseLevels("14-16")
		est, err = sch.Estimate(box, l)
		require.NoError(t, err)
		assert.Equal(t, []LevelEstimate{
			{Level: 14, Scale: 36111.909643, Resolution: 9.554628535647032, MinCol: 9807, MaxCol: 9807, MinRow: 6550, MaxRow: 6550, Tiles: 1},
			{Level: 15, Scale: 18055.954822, Resolution: 4.777314267823516, MinCol: 19614, MaxCol: 19614, MinRow: 13100, MaxRow: 13100, Tiles: 1},
			{Level: 16, Scale: 9027.977411, Resolution: 2.388657133911758, MinCol: 39228, MaxCol: 39229, MinRow: 26200, MaxRow: 26201, Tiles: 4},
		}, est.Levels)

		// A box whose corner sits exactly on the centre of the world: at
		// level 2 (tiles of 10018754 m) it touches only tile (col 2, row 1).
		corner := Extent{XMin: 0, YMin: 0, XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 3857}}
		l, _ = ParseLevels("2")
		est, err = sch.Estimate(corner, l)
		require.NoError(t, err)
		assert.Equal(t, LevelEstimate{Level: 2, Scale: 1.47914381897889e8, Resolution: 39135.75848200009,
			MinCol: 2, MaxCol: 2, MinRow: 1, MaxRow: 1, Tiles: 1}, est.Levels[0])
	})

	t.Run("local projected 512 px", func(t *testing.T) {
		sch := &TileScheme{Rows: 512, Cols: 512, Origin: Point{X: -5000000, Y: 10000000},
			SpatialReference: &SpatialReference{WKID: 2056},
			LODs:             []LOD{{0, 100, 377952.755906}, {1, 50, 188976.377953}, {2, 25, 94488.188976}}}
		// Tiles of 51200, 25600 and 12800 m. x from 105000 to 155000 past
		// the origin, y from 9740000 to 9800000 below it:
		// level 0: cols 2-3, rows 190-191 = 4; level 1: cols 4-6, rows
		// 380-382 = 9; level 2: cols 8-12, rows 760-765 = 30.
		box := Extent{XMin: -4895000, YMin: 200000, XMax: -4845000, YMax: 260000, SpatialReference: &SpatialReference{WKID: 2056}}
		est, err := sch.Estimate(box, Levels{})
		require.NoError(t, err)
		assert.Equal(t, []int64{4, 9, 30}, tilesPerLevel(est))
		assert.Equal(t, int64(43), est.Total)
		assert.Equal(t, [4]int64{8, 12, 760, 765}, [4]int64{est.Levels[2].MinCol, est.Levels[2].MaxCol, est.Levels[2].MinRow, est.Levels[2].MaxRow})
	})

	t.Run("extent crossing the origin", func(t *testing.T) {
		sch := &TileScheme{Rows: 512, Cols: 512, Origin: Point{X: 0, Y: 100000},
			SpatialReference: &SpatialReference{WKT: `PROJCS["Local"]`},
			LODs:             []LOD{{0, 100, 377952.755906}}}
		// Tiles of 51200 m. x from -30000 to 60000: columns -1..1, of which
		// only 0 and 1 exist; y from 50000 to 120000: rows -1..0, of which
		// only row 0 exists. 2 tiles.
		box := Extent{XMin: -30000, YMin: 50000, XMax: 60000, YMax: 120000, SpatialReference: &SpatialReference{WKT: `PROJCS["Local"]`}}
		est, err := sch.Estimate(box, Levels{})
		require.NoError(t, err)
		assert.Equal(t, LevelEstimate{Level: 0, Scale: 377952.755906, Resolution: 100, MinCol: 0, MaxCol: 1, MinRow: 0, MaxRow: 0, Tiles: 2}, est.Levels[0])

		// Wholly above the origin: nothing.
		above := Extent{XMin: 0, YMin: 100001, XMax: 10, YMax: 100010, SpatialReference: box.SpatialReference}
		est, err = sch.Estimate(above, Levels{})
		require.NoError(t, err)
		assert.Equal(t, int64(0), est.Total)
	})

	t.Run("bad input", func(t *testing.T) {
		sch := webMercatorScheme()
		var ve *ValidationError
		_, err := sch.Estimate(Extent{XMin: 0, YMin: 0, XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 2056}}, Levels{})
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "extent.spatialReference", ve.Field)
		assert.Contains(t, ve.Reason, "wkid 2056 is not wkid 102100, and only WGS84 (4326) and Web Mercator (3857) convert here")
		_, err = sch.Estimate(Extent{XMin: 1, YMin: 0, XMax: 0, YMax: 1, SpatialReference: &SpatialReference{WKID: 3857}}, Levels{})
		require.ErrorAs(t, err, &ve)
		l, _ := ParseLevels("20")
		_, err = sch.Estimate(Extent{XMin: 0, YMin: 0, XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 3857}}, l)
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.Reason, "level 20 is not in the tiling scheme")
	})
}

// TestTileSchemeEstimateConverts: an extent in WGS84 counts the tiles of
// its Web Mercator envelope (the changed area of the example, 35.49-35.51 E,
// 33.89-33.91 N: 9, 25 and 80 tiles at levels 15-17, worked out by hand).
func TestTileSchemeEstimateConverts(t *testing.T) {
	sch := webMercatorScheme()
	l, _ := ParseLevels("15-17")
	est, err := sch.Estimate(Extent{XMin: 35.49, YMin: 33.89, XMax: 35.51, YMax: 33.91, SpatialReference: &SpatialReference{WKID: 4326}}, l)
	require.NoError(t, err)
	assert.Equal(t, []int64{9, 25, 80}, tilesPerLevel(est))

	geo := &TileScheme{Rows: 256, Cols: 256, Origin: Point{X: -180, Y: 90}, SpatialReference: &SpatialReference{WKID: 4326},
		LODs: []LOD{{0, 0.703125, 2.95497598570834e8}}}
	// The Web Mercator world is the whole longitude range and ±85.05°: at
	// level 0 (tiles of 180°) that is two tiles, both in row 0.
	est, err = geo.Estimate(Extent{XMin: -20037508.342787, YMin: -20037508.342787, XMax: 20037508.342787, YMax: 20037508.342787,
		SpatialReference: &SpatialReference{WKID: 102100}}, Levels{})
	require.NoError(t, err)
	assert.Equal(t, LevelEstimate{Level: 0, Scale: 2.95497598570834e8, Resolution: 0.703125, MinCol: 0, MaxCol: 1, MinRow: 0, MaxRow: 0, Tiles: 2}, est.Levels[0])
}

func tilesPerLevel(e *TileEstimate) []int64 {
	out := make([]int64, len(e.Levels))
	for i, l := range e.Levels {
		out[i] = l.Tiles
	}
	return out
}

func TestTileSchemeEstimateTooLarge(t *testing.T) {
	sch := &TileScheme{Rows: 1, Cols: 1, SpatialReference: &SpatialReference{WKID: 3857}, LODs: []LOD{{0, 1e-6, 1}}}
	_, err := sch.Estimate(Extent{XMin: 0, YMin: -4e9, XMax: 4e9, YMax: 0, SpatialReference: &SpatialReference{WKID: 3857}}, Levels{})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Reason, "more tiles than can be counted")
}
