package ags

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validator is a typed caching request.
type validator interface{ Validate() error }

// TestCachingRequestsValidate: each typed caching request's Validate
// rejects bad input with a *ValidationError naming the field, and accepts
// good input, with no client and no request.
func TestCachingRequestsValidate(t *testing.T) {
	l17, _ := ParseLevels("17")
	streets := ServiceRef{Folder: "Basemaps", Name: "Streets"}
	wm := &SpatialReference{WKID: 3857}
	box := &Extent{XMin: 1, YMin: 2, XMax: 3, YMax: 4, SpatialReference: wm}
	manage := func(f func(*ManageCacheRequest)) ManageCacheRequest {
		r := ManageCacheRequest{Service: streets, Levels: l17, UpdateMode: RecreateAllTiles}
		f(&r)
		return r
	}
	create := func(f func(*CreateCacheRequest)) CreateCacheRequest {
		r := CreateCacheRequest{Service: streets, OutFolder: "d:/cache", Scales: []float64{1e6}}
		f(&r)
		return r
	}
	status := func(f func(*CacheStatusRequest)) CacheStatusRequest {
		r := CacheStatusRequest{Service: streets, Mode: ReportTileStatus}
		f(&r)
		return r
	}
	update := func(f func(*UpdateTilesRequest)) UpdateTilesRequest {
		r := UpdateTilesRequest{Levels: l17, Extent: box}
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name  string
		req   validator
		field string // "" when the request is good
	}{
		// Manage Map Cache Tiles.
		{"manage: good", manage(func(*ManageCacheRequest) {}), ""},
		{"manage: good scales and area", manage(func(r *ManageCacheRequest) {
			r.Levels, r.Scales, r.AreaOfInterest = Levels{}, []float64{4513.99}, tilesAOI()
		}), ""},
		{"manage: good job mode on the controllers task", manage(func(r *ManageCacheRequest) {
			r.UpdateMode, r.TaskPath, r.JobID = ResumeJob, ControllerManageMapCacheTilesTask, "j0123"
		}), ""},
		// What only the scheme can tell is left to ManageCache.
		{"manage: extent in another spatial reference", manage(func(r *ManageCacheRequest) {
			r.Extent = &Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 2913}}
		}), ""},
		{"manage: scale not in any scheme", manage(func(r *ManageCacheRequest) { r.Levels, r.Scales = Levels{}, []float64{3} }), ""},
		{"manage: feature service", manage(func(r *ManageCacheRequest) { r.Service.Type = FeatureServer }), "Service.Type"},
		{"manage: no service", manage(func(r *ManageCacheRequest) { r.Service = ServiceRef{} }), "Service.Name"},
		{"manage: no mode", manage(func(r *ManageCacheRequest) { r.UpdateMode = "" }), "UpdateMode"},
		{"manage: lower-case mode", manage(func(r *ManageCacheRequest) { r.UpdateMode = "recreate_all_tiles" }), "UpdateMode"},
		{"manage: job mode on CachingTools", manage(func(r *ManageCacheRequest) { r.UpdateMode = FixJob }), "UpdateMode"},
		{"manage: instances", manage(func(r *ManageCacheRequest) { r.Instances = -2 }), "Instances"},
		{"manage: no levels", manage(func(r *ManageCacheRequest) { r.Levels = Levels{} }), "Levels"},
		{"manage: levels and scales", manage(func(r *ManageCacheRequest) { r.Scales = []float64{4513.99} }), "Levels"},
		{"manage: negative scale", manage(func(r *ManageCacheRequest) { r.Levels, r.Scales = Levels{}, []float64{1, -1} }), "Scales[1]"},
		{"manage: extent and area", manage(func(r *ManageCacheRequest) { r.Extent, r.AreaOfInterest = box, tilesAOI() }), "Extent"},
		{"manage: extent upside down", manage(func(r *ManageCacheRequest) {
			r.Extent = &Extent{XMin: 3, XMax: 1, YMax: 1, SpatialReference: wm}
		}), "extent"},
		{"manage: area of points", manage(func(r *ManageCacheRequest) {
			r.AreaOfInterest = &FeatureSet{GeometryType: "esriGeometryPoint", SpatialReference: wm}
		}), "AreaOfInterest.geometryType"},
		{"manage: jobid on CachingTools", manage(func(r *ManageCacheRequest) { r.JobID = "j1" }), "JobID"},
		{"manage: bad task path", manage(func(r *ManageCacheRequest) { r.TaskPath = "System/CachingTools" }), "task path"},
		{"manage: extra token", manage(func(r *ManageCacheRequest) { r.ExtraParams = ExtraParams{"token": {"x"}} }), "ExtraParams"},

		// Create Map Cache.
		{"create: good", create(func(*CreateCacheRequest) {}), ""},
		{"create: good JPEG", create(func(r *CreateCacheRequest) {
			r.TileFormat, r.TileCompressionQuality, r.TileOrigin = TileFormatJPEG, 80, &Point{X: -2e7, Y: 2e7}
		}), ""},
		{"create: image service of another case", create(func(r *CreateCacheRequest) { r.Service.Type = "imageserver" }), ""},
		{"create: no folder", create(func(r *CreateCacheRequest) { r.OutFolder = "" }), "OutFolder"},
		{"create: no scales", create(func(r *CreateCacheRequest) { r.Scales = nil }), "Scales"},
		{"create: infinite scale", create(func(r *CreateCacheRequest) { r.Scales = []float64{math.Inf(1)} }), "Scales[0]"},
		{"create: format", create(func(r *CreateCacheRequest) { r.TileFormat = "GIF" }), "TileFormat"},
		{"create: origin", create(func(r *CreateCacheRequest) { r.TileOrigin = &Point{X: math.NaN()} }), "TileOrigin"},

		// Manage Map Cache Scales.
		{"scales: good", CacheScalesRequest{Service: streets, Scales: []float64{2000, 1000}}, ""},
		{"scales: none", CacheScalesRequest{Service: streets}, "Scales"},
		{"scales: zero", CacheScalesRequest{Service: streets, Scales: []float64{0}}, "Scales[0]"},
		{"scales: globe service", CacheScalesRequest{Service: ServiceRef{Name: "G", Type: "GlobeServer"}, Scales: []float64{1}}, "Service.Type"},
		{"scales: extra f", CacheScalesRequest{Service: streets, Scales: []float64{1}, ExtraParams: ExtraParams{"F": {"html"}}}, "ExtraParams"},

		// Manage Map Cache Status.
		{"status: good", status(func(*CacheStatusRequest) {}), ""},
		{"status: good levels and extent", status(func(r *CacheStatusRequest) { r.Levels, r.Extent = l17, box }), ""},
		{"status: no mode", status(func(r *CacheStatusRequest) { r.Mode = "" }), "Mode"},
		{"status: levels and scales", status(func(r *CacheStatusRequest) { r.Levels, r.Scales = l17, []float64{1} }), "Levels"},
		{"status: NaN scale", status(func(r *CacheStatusRequest) { r.Scales = []float64{math.NaN()} }), "Scales[0]"},
		{"status: instances", status(func(r *CacheStatusRequest) { r.Instances = -5 }), "Instances"},
		{"status: extent without spatial reference", status(func(r *CacheStatusRequest) {
			r.Extent = &Extent{XMax: 1, YMax: 1}
		}), "extent.spatialReference"},

		// DeleteCache.
		{"delete cache: good", DeleteCacheRequest{Service: streets, Instances: 2}, ""},
		{"delete cache: bad name", DeleteCacheRequest{Service: ServiceRef{Name: "a b"}}, "Service.Name"},
		{"delete cache: instances", DeleteCacheRequest{Service: streets, Instances: -3}, "Instances"},
		{"delete cache: extra token", DeleteCacheRequest{Service: streets, ExtraParams: ExtraParams{"token": {"x"}}}, "ExtraParams"},

		// updateTiles and deleteTiles of hosted tile layers.
		{"update tiles: good", update(func(*UpdateTilesRequest) {}), ""},
		{"update tiles: good merge", update(func(r *UpdateTilesRequest) { r.MergeBundle, r.ReplaceTiles = Ptr(true), Ptr(true) }), ""},
		{"update tiles: no levels", update(func(r *UpdateTilesRequest) { r.Levels = Levels{} }), "Levels"},
		{"update tiles: no extent", update(func(r *UpdateTilesRequest) { r.Extent = nil }), "extent"},
		{"update tiles: NaN extent", update(func(r *UpdateTilesRequest) {
			r.Extent = &Extent{XMin: math.NaN(), XMax: 1, YMax: 1, SpatialReference: wm}
		}), "extent.xmin"},
		{"update tiles: replace without merge", update(func(r *UpdateTilesRequest) { r.ReplaceTiles = Ptr(true) }), "ReplaceTiles"},
		{"delete tiles: good everywhere", DeleteTilesRequest{Levels: l17}, ""},
		{"delete tiles: good in a box", DeleteTilesRequest{Levels: l17, Extent: box}, ""},
		{"delete tiles: no levels", DeleteTilesRequest{Extent: box}, "Levels"},
		{"delete tiles: flat extent", DeleteTilesRequest{Levels: l17, Extent: &Extent{XMax: 1, SpatialReference: wm}}, "extent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
		})
	}
}

// TestCachingCallsRunValidate: each call refuses what its request's
// Validate refuses, with the same error and no request.
func TestCachingCallsRunValidate(t *testing.T) {
	ctx := context.Background()
	streets := ServiceRef{Folder: "Basemaps", Name: "Streets"}
	for _, tc := range []struct {
		name string
		req  validator
	}{
		{"manage", ManageCacheRequest{Service: streets, Scales: []float64{1}, UpdateMode: "REBUILD"}},
		{"create", CreateCacheRequest{Service: streets, Scales: []float64{1}}},
		{"scales", CacheScalesRequest{Service: streets, Scales: []float64{-1}}},
		{"status", CacheStatusRequest{Service: streets, Mode: ReportTileStatus, Instances: -2}},
		{"delete cache", DeleteCacheRequest{Service: streets, Instances: -2}},
		{"update tiles", UpdateTilesRequest{Levels: Levels{}}},
		{"delete tiles", DeleteTilesRequest{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			tilesNoRequest(t, mux)
			var err error
			switch r := tc.req.(type) {
			case ManageCacheRequest:
				_, err = c.Tiles.ManageCache(ctx, r)
			case CreateCacheRequest:
				_, err = c.Tiles.CreateCache(ctx, r)
			case CacheScalesRequest:
				_, err = c.Tiles.SetCacheScales(ctx, r)
			case CacheStatusRequest:
				_, err = c.Tiles.CacheStatus(ctx, r)
			case DeleteCacheRequest:
				_, err = c.Tiles.DeleteCacheAndRestartService(ctx, r)
			case UpdateTilesRequest:
				_, err = c.Tiles.Update(ctx, streets, r)
			case DeleteTilesRequest:
				_, err = c.Tiles.DeleteTiles(ctx, streets, r)
			}
			want := tc.req.Validate()
			require.Error(t, want)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			assert.Equal(t, want, err)
		})
	}
}
