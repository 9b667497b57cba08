package ags

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// Task paths, under rest/services, of the caching tools of a standalone or
// federated ArcGIS Server (sent with spaces as %20). The task lists are
// those of a 10.81 server's System/CachingTools and
// System/CachingControllers services (REST-REFERENCE §7.6).
// https://enterprise.arcgis.com/en/server/latest/publish-services/linux/automating-cache-creation-and-updates-with-geoprocessing.htm
const (
	// ManageMapCacheTilesTask creates, updates and deletes the tiles of a
	// cached map or image service.
	ManageMapCacheTilesTask = "System/CachingTools/GPServer/Manage Map Cache Tiles"
	// ControllerManageMapCacheTilesTask is Manage Map Cache Tiles on the
	// CachingControllers service, the only one that takes the COMPLETE_JOB,
	// FIX_JOB and RESUME_JOB modes and a jobid.
	ControllerManageMapCacheTilesTask = "System/CachingControllers/GPServer/Manage Map Cache Tiles"
	// CreateMapCacheTask creates a service's tiling scheme and cache folders.
	CreateMapCacheTask = "System/CachingTools/GPServer/Create Map Cache"
	// ManageMapCacheScalesTask changes the scales of a service's cache.
	ManageMapCacheScalesTask = "System/CachingTools/GPServer/Manage Map Cache Scales"
	// ManageMapCacheStatusTask rebuilds, deletes or reports a cache's status.
	ManageMapCacheStatusTask = "System/CachingTools/GPServer/Manage Map Cache Status"
	// DeleteCacheTask deletes a service's whole cache.
	DeleteCacheTask = "System/CachingTools/GPServer/DeleteCache"
)

// CacheUpdateMode is how Manage Map Cache Tiles treats the tiles it
// touches (update_mode).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-tiles.htm
type CacheUpdateMode string

// Update modes, as the task's choice list spells them. The first three are
// the ones Esri documents for the tool and the utility; the job modes
// appear only in the choice list of the CachingControllers task, and are
// refused on any other task path:
// https://historical1-stg.arcgis.com/arcgis/rest/services/System/CachingControllers/GPServer/Manage%20Map%20Cache%20Tiles
const (
	RecreateAllTiles CacheUpdateMode = "RECREATE_ALL_TILES" // replace existing tiles, add new ones
	// RecreateEmptyTiles creates only missing tiles: the documented way to
	// resume a run that was cancelled or failed part way (not available
	// for ArcGIS Online tile layers).
	RecreateEmptyTiles CacheUpdateMode = "RECREATE_EMPTY_TILES"
	DeleteTiles        CacheUpdateMode = "DELETE_TILES" // delete tiles; the folder structure and scheme stay
	CompleteJob        CacheUpdateMode = "COMPLETE_JOB" // CachingControllers only
	FixJob             CacheUpdateMode = "FIX_JOB"      // CachingControllers only
	ResumeJob          CacheUpdateMode = "RESUME_JOB"   // CachingControllers only
)

var cacheUpdateModes = []CacheUpdateMode{RecreateAllTiles, RecreateEmptyTiles, DeleteTiles, CompleteJob, FixJob, ResumeJob}

func (m CacheUpdateMode) controllerOnly() bool {
	return m == CompleteJob || m == FixJob || m == ResumeJob
}

// ManageCacheRequest are the parameters of the Manage Map Cache Tiles task.
//
// The REST parameter names (service_url, levels, thread_count,
// update_mode, constraining_extent) are those of the task's page and its
// submit form, not the arcpy names (REST-REFERENCE §7.6). The wire forms
// follow Esri's Manage Cache Tiles utility, which drives this task: the
// service is "<Folder name>/<Service name>:<Service type>", and the scales
// are "a semicolon-delimited string such as 12000;6000;3000", listed
// "from smallest scale to largest scale".
// https://enterprise.arcgis.com/en/server/11.3/develop/windows/manage-cache-tiles-utility.htm
type ManageCacheRequest struct {
	// Service is the cached service (required): a MapServer or an
	// ImageServer; an empty Type means MapServer.
	Service ServiceRef
	// Levels are the levels of the service's tiling scheme to work on, sent
	// as the scheme's exact scales. Give Levels or Scales.
	Levels Levels
	// Scales are scale denominators of the scheme, e.g. 4513.99 for the
	// level whose scale is 4513.988705 (a match within 0.001% names the
	// level; the scheme's own value is sent). Give Levels or Scales.
	Scales     []float64
	UpdateMode CacheUpdateMode // required
	// Instances is the number of caching service instances to use
	// (thread_count); 0 sends -1, as many as the server allows.
	Instances int
	// Extent limits the work to a rectangle (constraining_extent). It is
	// sent as "xmin;ymin;xmax;ymax", the form the Manage Cache Tiles
	// utility documents, in the service's spatial reference: an extent in
	// WGS84 for a Web Mercator service (or the reverse) is converted; any
	// other mismatch is a *ValidationError.
	Extent *Extent
	// AreaOfInterest limits the work to polygons, e.g. from GeoJSONArea or
	// PolygonFeatureSet. Use it or Extent, not both: the tool would
	// silently ignore Extent.
	AreaOfInterest *FeatureSet
	// TaskPath overrides ManageMapCacheTilesTask, e.g.
	// ControllerManageMapCacheTilesTask.
	TaskPath string
	// JobID is the cache job that COMPLETE_JOB, FIX_JOB or RESUME_JOB acts
	// on (jobid); CachingControllers only.
	JobID string
	// Scheme is the service's tiling scheme. Nil: it is read with
	// Tiles.Scheme before the job is submitted, to turn Levels into scales
	// and check Scales and Extent.
	Scheme *TileScheme
	// ExtraParams are added to the submitted form, replacing a parameter
	// of the same name: for parameters this type does not model, or a
	// release that names one differently.
	ExtraParams ExtraParams
}

// manageCacheParams is the task's form.
type manageCacheParams struct {
	ServiceURL         string `url:"service_url"`
	Levels             string `url:"levels"`
	ThreadCount        int    `url:"thread_count"`
	UpdateMode         string `url:"update_mode"`
	ConstrainingExtent string `url:"constraining_extent,omitempty"`
	// The REST name of the area of interest is unconfirmed [I]:
	// area_of_interest is Export Cache's REST name and the Pro tool's
	// parameter name; the 10.0 tool called it update_feature_class
	// (REST-REFERENCE §7.6). ExtraParams can send it under another name.
	AreaOfInterest *form.JSON[FeatureSet] `url:"area_of_interest,omitempty"`
	JobID          string                 `url:"jobid,omitempty"`
}

// Validate checks the request as far as it can without the service's
// tiling scheme: the service (a MapServer or an ImageServer), the update
// mode and the task path it needs, Instances, that Levels or Scales (not
// both) are given, the shape of Extent or AreaOfInterest (not both), JobID
// and ExtraParams. A problem is a *ValidationError naming the field.
// ManageCache runs the same checks before any request; whether the levels,
// scales and extent fit the scheme is checked once the scheme is known.
func (r ManageCacheRequest) Validate() error {
	_, _, err := r.check()
	return err
}

// check holds the rules of Validate and returns the cleaned service and
// task path.
func (r ManageCacheRequest) check() (ServiceRef, string, error) {
	ref, err := cachedServiceRef(r.Service)
	if err != nil {
		return ServiceRef{}, "", err
	}
	if !r.Levels.IsZero() && len(r.Scales) > 0 {
		return ServiceRef{}, "", invalid("Levels", "give Levels or Scales, not both")
	}
	if r.Levels.IsZero() && len(r.Scales) == 0 {
		return ServiceRef{}, "", invalid("Levels", "give the levels (or the scales) to work on, e.g. ParseLevels(\"14-16\")")
	}
	if err := positiveScales("Scales", r.Scales); err != nil {
		return ServiceRef{}, "", err
	}
	ok := false
	for _, m := range cacheUpdateModes {
		ok = ok || r.UpdateMode == m
	}
	if !ok {
		return ServiceRef{}, "", invalid("UpdateMode", "must be one of RECREATE_ALL_TILES, RECREATE_EMPTY_TILES, DELETE_TILES, COMPLETE_JOB, FIX_JOB, RESUME_JOB; got %q", r.UpdateMode)
	}
	if err := validInstances(r.Instances); err != nil {
		return ServiceRef{}, "", err
	}
	if r.Extent != nil && r.AreaOfInterest != nil {
		return ServiceRef{}, "", invalid("Extent", "give Extent or AreaOfInterest, not both (the tool would use only AreaOfInterest)")
	}
	if r.Extent != nil {
		if err := r.Extent.Validate(); err != nil {
			return ServiceRef{}, "", err
		}
	}
	if r.AreaOfInterest != nil {
		if err := r.AreaOfInterest.validatePolygons("AreaOfInterest"); err != nil {
			return ServiceRef{}, "", err
		}
	}
	task := ManageMapCacheTilesTask
	if r.TaskPath != "" {
		if task, err = normTaskPath(r.TaskPath); err != nil {
			return ServiceRef{}, "", err
		}
	}
	ctrl := isControllerTask(task)
	switch {
	case r.UpdateMode.controllerOnly() && !ctrl:
		return ServiceRef{}, "", invalid("UpdateMode", "%s is a mode of the System/CachingControllers task only (TaskPath %q); use ControllerManageMapCacheTilesTask", r.UpdateMode, task)
	case r.JobID != "" && !ctrl:
		return ServiceRef{}, "", invalid("JobID", "jobid is a parameter of the System/CachingControllers task only (TaskPath %q)", task)
	case r.JobID != "":
		if err := validJobID(r.JobID); err != nil {
			return ServiceRef{}, "", err
		}
	}
	if err := r.ExtraParams.check(); err != nil {
		return ServiceRef{}, "", err
	}
	return ref, task, nil
}

// isControllerTask reports whether a (normalised) task path is Manage Map
// Cache Tiles on System/CachingControllers.
func isControllerTask(task string) bool {
	return strings.EqualFold(task, ControllerManageMapCacheTilesTask)
}

// params builds the form once the scheme is known.
func (r ManageCacheRequest) params(ref ServiceRef, sch *TileScheme) (url.Values, error) {
	scales, err := schemeScales(sch, r.Levels, r.Scales)
	if err != nil {
		return nil, err
	}
	p := manageCacheParams{ServiceURL: cachingToolsService(ref), Levels: joinScales(scales),
		ThreadCount: threadCount(r.Instances), UpdateMode: string(r.UpdateMode), JobID: r.JobID}
	if r.Extent != nil {
		if p.ConstrainingExtent, err = constrainingExtent(*r.Extent, sch); err != nil {
			return nil, err
		}
	}
	if r.AreaOfInterest != nil {
		p.AreaOfInterest = form.NewJSON(*r.AreaOfInterest)
	}
	return r.ExtraParams.apply(p)
}

// schemeScales turns levels, or scales given by a caller, into the
// scheme's exact scales, largest first.
func schemeScales(sch *TileScheme, levels Levels, scales []float64) ([]float64, error) {
	if !levels.IsZero() {
		return sch.Scales(levels)
	}
	return sch.matchScales("Scales", scales)
}

// threadCount is thread_count for a number of instances: 0 sends -1, as
// many as the server allows.
func threadCount(instances int) int {
	if instances == 0 {
		return -1
	}
	return instances
}

// joinScales writes scale denominators as the caching tools take them:
// separated by ';' (REST-REFERENCE §7.6).
func joinScales(scales []float64) string {
	text := make([]string, len(scales))
	for i, v := range scales {
		text[i] = formatScale(v)
	}
	return strings.Join(text, ";")
}

// constrainingExtent writes an extent as "xmin;ymin;xmax;ymax", the form
// the Manage Cache Tiles utility documents for constraining_extent (a
// GPString); it carries no spatial reference, so the extent goes in the
// service's (converted between WGS84 and Web Mercator when it comes in the
// other). Whether the task takes Esri JSON is unknown [I]
// (REST-REFERENCE §7.6).
// https://enterprise.arcgis.com/en/server/10.9/develop/linux/manage-cache-tiles-utility.htm
func constrainingExtent(e Extent, sch *TileScheme) (string, error) {
	e, err := extentIn("Extent.spatialReference", e, sch.SpatialReference)
	if err != nil {
		return "", err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return f(e.XMin) + ";" + f(e.YMin) + ";" + f(e.XMax) + ";" + f(e.YMax), nil
}

// schemeFor returns the request's scheme, or reads the service's.
func (s *TilesService) schemeFor(ctx context.Context, ref ServiceRef, sch *TileScheme) (*TileScheme, error) {
	if sch != nil {
		return sch, nil
	}
	return s.Scheme(ctx, ref)
}

// ManageCache submits the Manage Map Cache Tiles task for a cached map or
// image service on a standalone ArcGIS Server (a cache built by the
// caching tools) and returns the geoprocessing job at once. Store Job.ID
// to re-attach with GP.Job(ManageMapCacheTilesTask, id), or to resume with
// ResumeCache.
//
// Unless req.Scheme is given, the service's tiling scheme is read first
// (Tiles.Scheme): Levels become its exact scales, and a level or scale
// that is not in it is a *ValidationError naming the valid ones, before
// any job is submitted.
//
// Rebuild only the levels that changed, only inside a boundary:
//
//	levels, _ := ags.ParseLevels("14-16")
//	streets := ags.ServiceRef{Folder: "Basemaps", Name: "Streets", Type: ags.MapServer}
//	job, err := c.Tiles.ManageCache(ctx, ags.ManageCacheRequest{Service: streets,
//		Levels: levels, UpdateMode: ags.RecreateAllTiles, AreaOfInterest: area.FeatureSet})
//
// The input is checked (req.Validate) before any request; the submit is
// sent once.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-tiles.htm
func (s *TilesService) ManageCache(ctx context.Context, req ManageCacheRequest) (*Job[*GPResult], error) {
	ref, task, err := req.check()
	if err != nil {
		return nil, err
	}
	sch, err := s.schemeFor(ctx, ref, req.Scheme)
	if err != nil {
		return nil, err
	}
	params, err := req.params(ref, sch)
	if err != nil {
		return nil, err
	}
	return s.client.GP.SubmitJob(ctx, task, params)
}

// jobInput is a job's input read back for a resume; a required one must
// have a value (checked by decode).
type jobInput struct {
	GPParam
	name     string
	required bool
}

func (p *jobInput) empty() bool { return isNull(p.Value) || strings.TrimSpace(p.String()) == "" }

func (p *jobInput) checkAnswer() error {
	if p.required && p.empty() {
		return badAnswer(fmt.Sprintf("the job has no %s input", p.name))
	}
	return nil
}

// resumeInputs are the Manage Map Cache Tiles inputs a resume carries
// over; the first three are required.
var resumeInputs = []string{"service_url", "levels", "thread_count", "constraining_extent", "area_of_interest"}

// ResumeCache resumes a Manage Map Cache Tiles job that failed, was
// cancelled or stopped in a maintenance window, from its task and its job
// ID alone: it reads the job's inputs (jobs/<id>/inputs/<name>, which a
// failed or cancelled job still has at that address) and submits the same
// service, scales and area again with RECREATE_EMPTY_TILES, the documented
// way to resume: only the tiles still missing are built. taskPath empty
// means ManageMapCacheTilesTask. RECREATE_EMPTY_TILES is not available for
// ArcGIS Online tile layers: resume those with Rerun.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-tiles.htm
func (s *TilesService) ResumeCache(ctx context.Context, taskPath, jobID string) (*Job[*GPResult], error) {
	if taskPath == "" {
		taskPath = ManageMapCacheTilesTask
	}
	task, err := normTaskPath(taskPath)
	if err != nil {
		return nil, err
	}
	if err := validJobID(jobID); err != nil {
		return nil, err
	}
	c := s.client
	form := url.Values{"update_mode": {string(RecreateEmptyTiles)}}
	for i, name := range resumeInputs {
		in := jobInput{name: name, required: i < 3}
		err := c.readJobInput(ctx, task, jobID, name, &in)
		var apiErr *Error
		switch {
		case err != nil && !in.required && errors.As(err, &apiErr) && (apiErr.Code == 400 || apiErr.Code == 404):
			// The server refused the input's address: an optional input
			// the job was not given. Any other failure ends the resume,
			// rather than resume over the whole extent.
			continue
		case err != nil:
			return nil, fmt.Errorf("resume job %s: %w", jobID, err)
		}
		if v := in.String(); !in.empty() {
			form.Set(name, v)
		}
	}
	return c.GP.SubmitJob(ctx, task, form)
}
