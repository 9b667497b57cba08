package ags

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A square around Portland, OR, counterclockwise as RFC 7946 wants outer
// rings, with a clockwise hole.
const portlandGeoJSON = `{"type":"Polygon","coordinates":[
  [[-122.7,45.5],[-122.6,45.5],[-122.6,45.6],[-122.7,45.6],[-122.7,45.5]],
  [[-122.66,45.54],[-122.66,45.56],[-122.64,45.56],[-122.64,45.54],[-122.66,45.54]]]}`

func TestGeoJSONAreaWebMercator(t *testing.T) {
	a, err := GeoJSONArea([]byte(portlandGeoJSON), SpatialReference{WKID: 102100, LatestWKID: 3857})
	require.NoError(t, err)
	require.Len(t, a.FeatureSet.Features, 1)
	assert.Equal(t, "esriGeometryPolygon", a.FeatureSet.GeometryType)
	assert.Equal(t, &SpatialReference{WKID: 102100, LatestWKID: 3857}, a.FeatureSet.SpatialReference)
	p := a.FeatureSet.Features[0].Geometry.(Polygon)
	require.Len(t, p.Rings, 2)
	// x = R·λ, y = R·ln(tan(π/4 + φ/2)) with R = 6378137 (Web Mercator),
	// worked out for -122.7, 45.5 and -122.6, 45.6.
	const r = 6378137.0
	x := func(lon float64) float64 { return r * lon * math.Pi / 180 }
	y := func(lat float64) float64 { return r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)) }
	assert.InDelta(t, -13658901.52, x(-122.7), 0.01)
	assert.InDelta(t, 5700582.73, y(45.5), 0.01)
	assert.InDelta(t, x(-122.7), a.Extent.XMin, 1e-6)
	assert.InDelta(t, y(45.5), a.Extent.YMin, 1e-6)
	assert.InDelta(t, x(-122.6), a.Extent.XMax, 1e-6)
	assert.InDelta(t, y(45.6), a.Extent.YMax, 1e-6)
	assert.Equal(t, 102100, a.Extent.SpatialReference.WKID)

	// Esri orientation: the outer ring clockwise, the hole counterclockwise.
	assert.Less(t, signedArea(p.Rings[0]), 0.0, "outer ring clockwise")
	assert.Greater(t, signedArea(p.Rings[1]), 0.0, "hole counterclockwise")
	require.NoError(t, a.FeatureSet.validatePolygons("area"))
	require.NoError(t, a.Extent.Validate())
}

// signedArea is positive for a counterclockwise ring (shoelace formula).
func signedArea(ring [][2]float64) float64 {
	s := 0.0
	for i := 0; i+1 < len(ring); i++ {
		s += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	return s / 2
}

func TestGeoJSONAreaForms(t *testing.T) {
	wgs := SpatialReference{WKID: 4326}
	second := `{"type":"MultiPolygon","coordinates":[[[[10,10],[11,10],[11,11],[10,10]]]]}`
	for _, tc := range []struct {
		name, doc string
		features  int
		ymin      float64
	}{
		{"feature", `{"type":"Feature","properties":{"name":"a"},"geometry":` + portlandGeoJSON + `}`, 1, 45.5},
		{"collection", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":null,"geometry":` + portlandGeoJSON + `}]}`, 1, 45.5},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[[[-122.7,45.5],[-122.6,45.5],[-122.6,45.6],[-122.7,45.5]]],[[[10,10],[11,10],[11,11],[10,10]]]]}`, 2, 10},
		{"collection of two", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + portlandGeoJSON + `},{"type":"Feature","geometry":` + second + `}]}`, 2, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := GeoJSONArea([]byte(tc.doc), wgs)
			require.NoError(t, err)
			assert.Len(t, a.FeatureSet.Features, tc.features, "one feature per polygon")
			assert.Equal(t, -122.7, a.Extent.XMin, "4326 keeps longitude/latitude")
			assert.Equal(t, tc.ymin, a.Extent.YMin)
		})
	}
}

func TestGeoJSONAreaErrors(t *testing.T) {
	wm := SpatialReference{WKID: 3857}
	for _, tc := range []struct {
		name, doc string
		sr        SpatialReference
		field     string
		reason    string
	}{
		{"other spatial reference", portlandGeoJSON, SpatialReference{WKID: 2913}, "spatialReference", "supply Esri JSON polygons"},
		{"wkt", portlandGeoJSON, SpatialReference{WKT: `PROJCS["x"]`}, "spatialReference", "Esri JSON"},
		{"not JSON", `<html>`, wm, "GeoJSON", "not a JSON object"},
		{"point", `{"type":"Point","coordinates":[1,2]}`, wm, "GeoJSON", `type "Point"`},
		{"feature with a line", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}`, wm, "GeoJSON geometry 0", "LineString"},
		{"feature without geometry", `{"type":"Feature","geometry":null}`, wm, "GeoJSON feature", "no geometry"},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, wm, "GeoJSON", "no polygon"},
		{"open ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, wm, "GeoJSON polygon 0 ring 0", "not closed"},
		{"short ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, wm, "GeoJSON polygon 0 ring 0", "at least 4"},
		{"projected coordinates", `{"type":"Polygon","coordinates":[[[-13658888,5700582],[-13647756,5700582],[-13647756,5716000],[-13658888,5700582]]]}`, wm,
			"GeoJSON polygon 0 ring 0", "not a longitude/latitude"},
		{"flat ring", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}`, wm, "GeoJSON polygon 0", "encloses no area"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, wm, "GeoJSON polygon 0", "no rings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GeoJSONArea([]byte(tc.doc), tc.sr)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
			assert.Contains(t, ve.Reason, tc.reason)
		})
	}
}

// FuzzGeoJSONArea: any input gives an area with a valid extent and
// polygons, or a *ValidationError; never a panic.
func FuzzGeoJSONArea(f *testing.F) {
	f.Add([]byte(portlandGeoJSON), 3857)
	f.Add([]byte(`{"type":"MultiPolygon","coordinates":[[[[10,10],[11,10],[11,11],[10,10]]]]}`), 4326)
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null}]}`), 102100)
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[1e308,1],[2,2],[3,1],[1e308,1]]]}`), 3857)
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,-90]]]}`), 3857)
	f.Fuzz(func(t *testing.T, data []byte, wkid int) {
		a, err := GeoJSONArea(data, SpatialReference{WKID: wkid})
		if err != nil {
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			return
		}
		require.NoError(t, a.Extent.Validate())
		require.NoError(t, a.FeatureSet.validatePolygons("area"))
	})
}

// FuzzTileSchemeEstimate: any extent and scheme give counts that are never
// negative, or a *ValidationError; never a panic.
func FuzzTileSchemeEstimate(f *testing.F) {
	f.Add(-20037508.342787, 20037508.342787, 0.0, 0.0, 1.0, 1.0, 256, 156543.03392800014)
	f.Add(0.0, 0.0, -1e300, -1e300, 1e300, 1e300, 512, 1e-300)
	f.Add(0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 0, 0.0)
	f.Fuzz(func(t *testing.T, ox, oy, x0, y0, x1, y1 float64, size int, res float64) {
		sch := &TileScheme{Rows: size, Cols: size, Origin: Point{ox, oy}, SpatialReference: &SpatialReference{WKID: 3857},
			LODs: []LOD{{0, res, 1000}}}
		est, err := sch.Estimate(Extent{XMin: x0, YMin: y0, XMax: x1, YMax: y1, SpatialReference: &SpatialReference{WKID: 3857}}, Levels{})
		if err != nil {
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			return
		}
		for _, l := range est.Levels {
			require.GreaterOrEqual(t, l.Tiles, int64(0))
		}
	})
}
