package ags

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseServiceRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ServiceRef
	}{
		{"Imagery/Portland.ImageServer", ServiceRef{Folder: "Imagery", Name: "Portland", Type: ImageServer}},
		{"Portland.ImageServer", ServiceRef{Name: "Portland", Type: ImageServer}},
		{"Basemaps/Streets:MapServer", ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer}},
		{"Streets:MapServer", ServiceRef{Name: "Streets", Type: MapServer}},
		{"Basemaps/Streets/MapServer", ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer}},
		{"Streets/MapServer", ServiceRef{Name: "Streets", Type: MapServer}},
		{"/Basemaps/Streets/MapServer/", ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer}},
		{"  basemaps/Streets.mapserver ", ServiceRef{Folder: "basemaps", Name: "Streets", Type: MapServer}},
		{"Cams/Lobby.VideoServer", ServiceRef{Folder: "Cams", Name: "Lobby", Type: "VideoServer"}},
		{"https://gis.example.com/arcgis/rest/services/Basemaps/Streets/MapServer", ServiceRef{Folder: "Basemaps", Name: "Streets", Type: MapServer}},
		{"https://gis.example.com/arcgis/rest/services/Streets/MapServer/0/query?where=1%3D1", ServiceRef{Name: "Streets", Type: MapServer}},
		{"https://gis.example.com:6443/arcgis/admin/services/Imagery/Portland.ImageServer", ServiceRef{Folder: "Imagery", Name: "Portland", Type: ImageServer}},
		{"https://gis.example.com/server/admin/services/Portland.ImageServer/status", ServiceRef{Name: "Portland", Type: ImageServer}},
		{"https://tiles.arcgis.com/tiles/abc123/arcgis/rest/admin/services/World/MapServer/updateTiles", ServiceRef{Name: "World", Type: MapServer}},
		{"https://gis.example.com/arcgis/rest/services/Hosted/Parcels/FeatureServer", ServiceRef{Folder: "Hosted", Name: "Parcels", Type: FeatureServer}},
	} {
		got, err := ParseServiceRef(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseServiceRefRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"Portland",                 // no type
		"Imagery/Portland",         // no type
		"Portland.Nonsense",        // not a type
		"a/b/Portland.ImageServer", // two folders
		"a/b/c/MapServer",          // two folders
		"Imagery/Port land.ImageServer",
		"../Portland.ImageServer",
		"Portland.ImageServer/extra",
		"https://gis.example.com/arcgis/rest/info",
		"https://gis.example.com/arcgis/rest/services/",
		"https://gis.example.com/arcgis/rest/services/Imagery",
		"ftp://",
	} {
		_, err := ParseServiceRef(in)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%q", in)
		assert.NotEmpty(t, ve.Reason, "%q", in)
	}
}

func TestServiceRefStringRoundTrip(t *testing.T) {
	for _, r := range []ServiceRef{
		{Folder: "Imagery", Name: "Portland", Type: ImageServer},
		{Name: "Roads", Type: MapServer},
		{Folder: "/", Name: "Roads", Type: MapServer},
	} {
		got, err := ParseServiceRef(r.String())
		require.NoError(t, err)
		assert.True(t, r.Equal(got), "%s -> %+v", r, got)
	}
	assert.Equal(t, "Roads.MapServer", ServiceRef{Folder: "/", Name: "Roads", Type: MapServer}.String())
	assert.True(t, ServiceRef{Name: "R", Type: "mapserver"}.Equal(ServiceRef{Folder: "", Name: "R", Type: MapServer}))
	assert.False(t, ServiceRef{Name: "R", Type: MapServer}.Equal(ServiceRef{Name: "r", Type: MapServer}), "names are case-sensitive")
}

// TestServiceTypeAnyCaseAndUnlisted: types compare without regard to case
// in every call, and a type outside the listed ones can still be started,
// stopped and deleted.
func TestServiceTypeAnyCaseAndUnlisted(t *testing.T) {
	c, mux, _ := setup(t)
	var paths []string
	mux.HandleFunc("/arcgis/admin/services/", func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		_, _ = w.Write([]byte(`{"status":"success"}`))
	})
	ctx := context.Background()
	require.NoError(t, c.Services.Start(ctx, ServiceRef{Folder: "Cams", Name: "Lobby", Type: "VideoServer"}))
	require.NoError(t, c.Services.Stop(ctx, ServiceRef{Name: "Roads", Type: "mapserver"}))
	require.NoError(t, c.Services.Delete(ctx, ServiceRef{Name: "Lobby", Type: "VideoServer"}))
	assert.Equal(t, []string{
		"/arcgis/admin/services/Cams/Lobby.VideoServer/start",
		"/arcgis/admin/services/Roads.MapServer/stop",
		"/arcgis/admin/services/Lobby.VideoServer/delete",
	}, paths)
}
