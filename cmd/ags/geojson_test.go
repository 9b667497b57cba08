package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
)

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }

// An --aoi file is read with the SDK's GeoJSON reader: every polygon form
// gives its envelope in WKID 4326.
func TestReadAOIEnvelope(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		doc                    string
		xmin, ymin, xmax, ymax float64
		polygons               int
	}{
		{`{"type":"Polygon","coordinates":[[[1,2],[3,2],[3,5],[1,5],[1,2]]]}`, 1, 2, 3, 5, 1},
		{`{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[
		  [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[4,2],[2,2]]],
		  [[[20,0],[20,5],[25,5],[20,0]]]]}}`, 0, 0, 25, 10, 2},
		{`{"type":"FeatureCollection","features":[
		  {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-122.7,45.5],[-122.6,45.5],[-122.6,45.55],[-122.7,45.55],[-122.7,45.5]]]}},
		  {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-122.65,45.56],[-122.6,45.56],[-122.6,45.58],[-122.65,45.56]]]}}]}`,
			-122.7, 45.5, -122.6, 45.58, 2},
	} {
		p := filepath.Join(dir, "a.geojson")
		require.NoError(t, writeFile(p, tc.doc))
		f, err := readAOI(p)
		require.NoError(t, err, tc.doc)
		e := f.wgs84.Extent
		assert.Equal(t, []float64{tc.xmin, tc.ymin, tc.xmax, tc.ymax}, []float64{e.XMin, e.YMin, e.XMax, e.YMax}, tc.doc)
		assert.Equal(t, 4326, e.SpatialReference.WKID)
		assert.Len(t, f.wgs84.FeatureSet.Features, tc.polygons, tc.doc)
	}
}

// What is not an area is invalid input, exit 2: it is found before any
// request.
func TestReadAOIRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"Point","coordinates":[1,2]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`,     // not closed
		`{"type":"Polygon","coordinates":[[[0,0],[200,0],[200,1],[0,0]]]}`, // not a longitude
		`not json`,
	} {
		p := filepath.Join(dir, "b.geojson")
		require.NoError(t, writeFile(p, bad))
		_, err := readAOI(p)
		assert.Equal(t, exitUsage, exitCode(err), bad)
	}
	_, err := readAOI(filepath.Join(dir, "missing.geojson"))
	assert.Equal(t, exitUsage, exitCode(err))
}

// The area goes in the service's spatial reference when the SDK converts
// to it (Web Mercator, under any of its WKIDs), else stays in WGS84.
func TestAOIInServiceSR(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.geojson")
	require.NoError(t, writeFile(p, `{"type":"Polygon","coordinates":[[[-122.7,45.5],[-122.6,45.5],[-122.6,45.55],[-122.7,45.55],[-122.7,45.5]]]}`))
	f, err := readAOI(p)
	require.NoError(t, err)

	merc := f.in(&ags.SpatialReference{WKID: 102100, LatestWKID: 3857})
	assert.Equal(t, 102100, merc.Extent.SpatialReference.WKID)
	assert.InDelta(t, -13658901.5, merc.Extent.XMin, 1) // -122.7° in Web Mercator metres
	assert.InDelta(t, 5700582.7, merc.Extent.YMin, 1)   // 45.5°
	ring := merc.FeatureSet.Features[0].Geometry.(ags.Polygon).Rings[0]
	assert.Equal(t, ring[0], ring[len(ring)-1])
	assert.Less(t, math.Abs(ring[0][0]), 2.1e7)

	assert.Same(t, f.wgs84, f.in(&ags.SpatialReference{WKID: 2913})) // Oregon North (ft): sent in WGS84
	assert.Same(t, f.wgs84, f.in(nil))
	assert.Equal(t, 4326, f.in(&ags.SpatialReference{WKID: 4326}).Extent.SpatialReference.WKID)
}
