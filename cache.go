package ags

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// ManageMapCacheTilesTask is the path, under rest/services, of the task
// that creates, updates and deletes the tiles of a cached map or image
// service on ArcGIS Server (sent as ".../Manage%20Map%20Cache%20Tiles").
// https://enterprise.arcgis.com/en/server/11.3/develop/windows/manage-cache-tiles-utility.htm
const ManageMapCacheTilesTask = "System/CachingTools/GPServer/Manage Map Cache Tiles"

// CacheUpdateMode is how Manage Map Cache Tiles treats the tiles it
// touches (update_mode).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-tiles.htm
type CacheUpdateMode string

// Update modes, as the task's choice list spells them. The first three are
// the ones Esri documents for the tool and the utility; the job modes
// appear in the choice list of the CachingControllers task:
// https://historical1-stg.arcgis.com/arcgis/rest/services/System/CachingControllers/GPServer/Manage%20Map%20Cache%20Tiles
const (
	RecreateAllTiles   CacheUpdateMode = "RECREATE_ALL_TILES"   // replace existing tiles, add new ones
	RecreateEmptyTiles CacheUpdateMode = "RECREATE_EMPTY_TILES" // create only missing tiles
	DeleteTiles        CacheUpdateMode = "DELETE_TILES"         // delete tiles; the folder structure stays
	CompleteJob        CacheUpdateMode = "COMPLETE_JOB"
	FixJob             CacheUpdateMode = "FIX_JOB"
	ResumeJob          CacheUpdateMode = "RESUME_JOB"
)

var cacheUpdateModes = []CacheUpdateMode{RecreateAllTiles, RecreateEmptyTiles, DeleteTiles, CompleteJob, FixJob, ResumeJob}

// ManageCacheRequest are the parameters of the Manage Map Cache Tiles task.
//
// The REST parameter names (service_url, levels, thread_count,
// update_mode, constraining_extent, area_of_interest) are those of the
// task's page and its submit form. The wire forms follow Esri's Manage
// Cache Tiles utility, which drives this task: the service is "<Folder
// name>/<Service name>:<Service type>" (root services "<Service
// name>:<Service type>"), and the scales are "a semicolon-delimited string
// such as 12000;6000;3000", listed "from smallest scale to largest scale".
// https://enterprise.arcgis.com/en/server/11.3/develop/windows/manage-cache-tiles-utility.htm
type ManageCacheRequest struct {
	// Service is the cached service (required): a MapServer or an
	// ImageServer; an empty Type means MapServer.
	Service ServiceRef
	// Scales are the scale denominators to work on (required), e.g.
	// 4513.99 for 1:4513.99. They are sent largest denominator first
	// (smallest scale first), without duplicates.
	Scales     []float64
	UpdateMode CacheUpdateMode // required
	// Instances is the number of CachingTools instances to use
	// (thread_count); 0 sends -1, as many as the server allows.
	Instances int
	// Extent limits the work to a rectangle (constraining_extent), sent as
	// JSON with its spatial reference.
	Extent *Extent
	// AreaOfInterest limits the work to polygons (area_of_interest), e.g.
	// PolygonFeatureSet(sr, ring). Use it or Extent, not both: the tool
	// would silently ignore Extent.
	AreaOfInterest *FeatureSet
	// TaskPath overrides ManageMapCacheTilesTask, e.g.
	// "System/CachingControllers/GPServer/Manage Map Cache Tiles".
	TaskPath string
}

// manageCacheParams is the task's form.
type manageCacheParams struct {
	ServiceURL         string                 `url:"service_url"`
	Levels             string                 `url:"levels"`
	ThreadCount        int                    `url:"thread_count"`
	UpdateMode         string                 `url:"update_mode"`
	ConstrainingExtent *form.JSON[Extent]     `url:"constraining_extent,omitempty"`
	AreaOfInterest     *form.JSON[FeatureSet] `url:"area_of_interest,omitempty"`
}

func (r ManageCacheRequest) params() (manageCacheParams, error) {
	ref, err := refOfType("Service.", r.Service.orType(MapServer), MapServer, ImageServer)
	if err != nil {
		return manageCacheParams{}, err
	}
	if len(r.Scales) == 0 {
		return manageCacheParams{}, invalid("Scales", "must list at least one scale denominator, such as 4513.99")
	}
	scales := append([]float64(nil), r.Scales...)
	for i, v := range scales {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return manageCacheParams{}, invalid(fmt.Sprintf("Scales[%d]", i), "must be a positive scale denominator, got %v", v)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(scales)))
	text := make([]string, 0, len(scales))
	for i, v := range scales {
		if i == 0 || v != scales[i-1] {
			text = append(text, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	ok := false
	for _, m := range cacheUpdateModes {
		ok = ok || r.UpdateMode == m
	}
	if !ok {
		return manageCacheParams{}, invalid("UpdateMode", "must be one of RECREATE_ALL_TILES, RECREATE_EMPTY_TILES, DELETE_TILES, COMPLETE_JOB, FIX_JOB, RESUME_JOB; got %q", r.UpdateMode)
	}
	threads := r.Instances
	switch {
	case threads == 0:
		threads = -1
	case threads < -1:
		return manageCacheParams{}, invalid("Instances", "must be positive, or 0 or -1 for as many as allowed; got %d", r.Instances)
	}
	if r.Extent != nil && r.AreaOfInterest != nil {
		return manageCacheParams{}, invalid("Extent", "give Extent or AreaOfInterest, not both (the tool would use only AreaOfInterest)")
	}
	if r.TaskPath != "" {
		if err := validTaskPath(r.TaskPath); err != nil {
			return manageCacheParams{}, err
		}
	}
	p := manageCacheParams{ServiceURL: cachingToolsService(ref), Levels: strings.Join(text, ";"),
		ThreadCount: threads, UpdateMode: string(r.UpdateMode)}
	if r.Extent != nil {
		if err := r.Extent.Validate(); err != nil {
			return manageCacheParams{}, err
		}
		p.ConstrainingExtent = form.NewJSON(*r.Extent)
	}
	if r.AreaOfInterest != nil {
		if err := r.AreaOfInterest.validatePolygons("AreaOfInterest"); err != nil {
			return manageCacheParams{}, err
		}
		p.AreaOfInterest = form.NewJSON(*r.AreaOfInterest)
	}
	return p, nil
}

// ManageCache submits the Manage Map Cache Tiles task for a cached map or
// image service on a standalone ArcGIS Server (a cache built by the
// caching tools) and returns the geoprocessing job at once. Store Job.ID
// to re-attach with GP.Job(ManageMapCacheTilesTask, id).
//
// Rebuild only the scales that changed, or only the tiles inside a
// boundary, in one call:
//
//	aoi := ags.PolygonFeatureSet(ags.SpatialReference{WKID: 102100},
//		[][2]float64{{3950569, 4015211}, {3950569, 4016043}, {3951304, 4016043}, {3951304, 4015211}, {3950569, 4015211}})
//	streets := ags.ServiceRef{Folder: "Basemaps", Name: "Streets", Type: ags.MapServer}
//	job, err := c.Tiles.ManageCache(ctx, ags.ManageCacheRequest{Service: streets,
//		Scales: []float64{4513.99, 2256.99}, UpdateMode: ags.RecreateAllTiles, AreaOfInterest: aoi})
//
// The input is checked before any request; the submit is sent once.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-tiles.htm
func (s *TilesService) ManageCache(ctx context.Context, req ManageCacheRequest) (*Job[*GPResult], error) {
	params, err := req.params()
	if err != nil {
		return nil, err
	}
	task := req.TaskPath
	if task == "" {
		task = ManageMapCacheTilesTask
	}
	return s.client.GP.SubmitJob(ctx, task, params)
}
