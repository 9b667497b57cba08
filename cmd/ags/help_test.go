package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every command that runs has an example in its --help, and no command
// takes a password on the command line.
func TestEveryCommandHasAnExample(t *testing.T) {
	a := newApp(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && c.Name() != "help" && c.Name() != "completion" {
			n++
			assert.NotEmpty(t, c.Example, "%s has no example", c.CommandPath())
		}
		assert.Nil(t, c.Flags().Lookup("password"), "%s has a --password flag", c.CommandPath())
		assert.Nil(t, c.Flags().Lookup("token"), "%s has a --token flag", c.CommandPath())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(a.rootCmd())
	assert.GreaterOrEqual(t, n, 17)
}

func TestHelpPrintsExample(t *testing.T) {
	var out bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &out, func(string) string { return "" })
	require.Equal(t, 0, a.run(context.Background(), []string{"refresh", "--help"}))
	assert.Contains(t, out.String(), "Examples:")
	assert.Contains(t, out.String(), "ags job wait")
}

func TestJobRefRoundTrip(t *testing.T) {
	for _, r := range []jobRef{
		{Kind: kindGP, Path: "System/PublishingTools/GPServer/Refresh Service", ID: "j1a2"},
		{Kind: kindTiles, Path: "Hosted/Basemap.MapServer", ID: "8f3e-11"},
		{Kind: kindGP, Path: "Tools/GPServer/A:B", ID: "x"},
		{Kind: kindPublish, Path: "System/PublishingTools/GPServer/Publish Service Definition", ID: "j4c5"},
	} {
		s := r.String()
		assert.NotContains(t, s, " ")
		got, err := parseJobRef(s)
		require.NoError(t, err, s)
		assert.Equal(t, r, got)
	}
	for _, bad := range []string{"", "gp", "gp:path", "gp::id", "gp:path:", "admin:x:y", "gp:%zz:id"} {
		_, err := parseJobRef(bad)
		assert.Equal(t, exitUsage, exitCode(err), bad)
	}
}

func TestCombineAndWorst(t *testing.T) {
	assert.Equal(t, 0, combine(nil))
	assert.Equal(t, 0, combine([]int{0, 0}))
	assert.Equal(t, 6, combine([]int{0, 4}))
	assert.Equal(t, 6, combine([]int{0, 6}))
	assert.Equal(t, 4, combine([]int{4, 5}))
	assert.Equal(t, 1, combine([]int{1, 6}))
	assert.Equal(t, 3, worst([]int{0, 3, 4}))
	assert.Equal(t, 5, worst([]int{0, 5, 6}))
	assert.Equal(t, 2, worst([]int{2, 3}))
}

func TestGeoJSONExtent(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		doc                    string
		xmin, ymin, xmax, ymax float64
	}{
		{`{"type":"MultiPoint","coordinates":[[1,2],[2,3]]}`, 1, 2, 2, 3},
		{`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,-4]]}}`, 1, -4, 3, 2},
		{`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[{"type":"MultiPolygon","coordinates":[[[[0,0],[5,0],[5,5],[0,0]]]]},{"type":"Point","coordinates":[-1,7,100]}]}}]}`, -1, 0, 5, 7},
	} {
		p := dir + "/a.geojson"
		require.NoError(t, writeFile(p, tc.doc))
		area, err := readGeoJSON(p)
		require.NoError(t, err, tc.doc)
		e := area.extent
		assert.Equal(t, []float64{tc.xmin, tc.ymin, tc.xmax, tc.ymax}, []float64{e.XMin, e.YMin, e.XMax, e.YMax}, tc.doc)
		assert.Equal(t, 4326, e.SpatialReference.WKID)
	}
	for _, bad := range []string{`{"type":"FeatureCollection","features":[]}`, `{"type":"Point","coordinates":[1,2]}`, `not json`} {
		p := dir + "/b.geojson"
		require.NoError(t, writeFile(p, bad))
		area, err := readGeoJSON(p)
		if err == nil {
			err = area.extent.Validate()
		}
		assert.Equal(t, exitUsage, exitCode(err), bad)
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }

// Polygons come out wound as Esri JSON wants them: exterior rings
// clockwise, holes counterclockwise, whichever way the file wound them.
func TestGeoJSONRings(t *testing.T) {
	p := t.TempDir() + "/a.geojson"
	require.NoError(t, writeFile(p, `{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[
	  [[[0,0],[10,0],[10,10],[0,10],[0,0]], [[2,2],[2,4],[4,4],[4,2],[2,2]]],
	  [[[20,0],[20,5],[25,5],[20,0]]]]}}`))
	area, err := readGeoJSON(p)
	require.NoError(t, err)
	require.Len(t, area.rings, 3)
	assert.True(t, clockwise(area.rings[0]), "exterior, counterclockwise in the file")
	assert.False(t, clockwise(area.rings[1]), "hole, clockwise in the file")
	assert.True(t, clockwise(area.rings[2]), "exterior, already clockwise")
	assert.Equal(t, [2]float64{0, 0}, area.rings[0][0])
	assert.Equal(t, area.rings[0][0], area.rings[0][len(area.rings[0])-1])
}

// --demo starts and stops its emulator within the command (TestMain checks
// that no goroutine outlives it).
func TestDemoInProcess(t *testing.T) {
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	require.Equal(t, 0, a.run(context.Background(), []string{"--demo", "services", "list", "-o", "json"}), errb.String())
	assert.Contains(t, out.String(), `"service": "Imagery/Portland.ImageServer"`)
	assert.Contains(t, errb.String(), "--demo: running against an embedded ArcGIS Server emulator")
}
