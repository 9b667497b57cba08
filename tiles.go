package ags

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// TilesService updates tile caches. Reach it as Client.Tiles.
//
// Esri's "Automating cache creation and updates with geoprocessing" names
// two targeted updates; each is one call here:
//
//   - Update only the levels that changed: Update with Levels (hosted tile
//     layers), or ManageCache with Scales (a cached map or image service on
//     ArcGIS Server).
//   - Update only the area inside a boundary: Update with Extent, or
//     ManageCache with AreaOfInterest (a polygon feature set) or Extent.
//
// Both return a Job at once; store its ID to re-attach later (Tiles.Job,
// or GP.Job(ManageMapCacheTilesTask, id)).
// https://enterprise.arcgis.com/en/server/latest/publish-services/linux/automating-cache-creation-and-updates-with-geoprocessing.htm
type TilesService service

// UpdateTilesRequest says which part of a hosted tile layer's cache to
// rebuild: which levels, inside which area.
// https://developers.arcgis.com/rest/services-reference/online/update-tiles
type UpdateTilesRequest struct {
	// Levels are the cache levels to rebuild (required), e.g.
	// ParseLevels("0-5,10,11-20").
	Levels Levels
	// Extent is the area to rebuild (required), sent as one JSON field with
	// its spatial reference. To rebuild levels everywhere, pass the layer's
	// full extent.
	Extent *Extent
	// MergeBundle merges the new bundles into the existing ones instead of
	// overwriting them (compact caches). Nil leaves the server's default
	// (false).
	MergeBundle *bool
	// ReplaceTiles makes new tiles replace existing ones while merging;
	// only meaningful with MergeBundle true. Nil leaves the default (false).
	ReplaceTiles *bool
}

func (r UpdateTilesRequest) validate() error {
	if r.Levels.IsZero() {
		return invalid("Levels", "must list at least one level, such as ParseLevels(\"0-5,10\")")
	}
	if err := r.Extent.Validate(); err != nil {
		return err
	}
	if r.ReplaceTiles != nil && *r.ReplaceTiles && (r.MergeBundle == nil || !*r.MergeBundle) {
		return invalid("ReplaceTiles", "applies only when MergeBundle is true")
	}
	return nil
}

// updateTilesParams is the updateTiles form.
type updateTilesParams struct {
	Levels       string            `url:"levels"`
	Extent       form.JSON[Extent] `url:"extent"`
	MergeBundle  *bool             `url:"mergeBundle,omitempty"`
	ReplaceTiles *bool             `url:"replaceTiles,omitempty"`
}

// updateTilesAnswer is updateTiles' success answer.
// https://developers.arcgis.com/rest/services-reference/online/update-tiles
type updateTilesAnswer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	ItemID  string `json:"itemId"`
	Type    string `json:"type"`
	JobID   string `json:"jobId"`
	Message string `json:"message"`
}

// Update rebuilds part of a hosted tile layer's cache (updateTiles) and
// returns the tile job at once; Wait on it for the job statistics.
// serviceName is "Name" or "Folder/Name"; the call goes to
// <site>/rest/admin/services/[<folder>/]<name>/MapServer/updateTiles, so
// for ArcGIS Online the site is https://tiles.arcgis.com/tiles/<orgId>/arcgis.
//
// Rebuild only the levels that changed, only inside a box, in one call:
//
//	levels, _ := ags.ParseLevels("14-16")
//	job, err := c.Tiles.Update(ctx, "WorldService", ags.UpdateTilesRequest{Levels: levels,
//		Extent: &ags.Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043,
//			SpatialReference: &ags.SpatialReference{WKID: 102100}}})
//
// The request is sent once and never retried after the server may have
// acted. An answer whose status is not "success", or that carries no
// jobId, is an error.
// https://developers.arcgis.com/rest/services-reference/online/update-tiles
func (s *TilesService) Update(ctx context.Context, serviceName string, req UpdateTilesRequest) (*Job[*TileJobStats], error) {
	folder, name, err := splitTileService(serviceName)
	if err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	params := updateTilesParams{Levels: req.Levels.String(), Extent: form.JSON[Extent]{V: *req.Extent},
		MergeBundle: req.MergeBundle, ReplaceTiles: req.ReplaceTiles}
	c := s.client
	u := c.endpoint(rootHostedAdmin, "services", folder, name, "MapServer", "updateTiles")
	const op = "updateTiles"
	var ans updateTilesAnswer
	if err := c.do(ctx, call{op: op, method: http.MethodPost, url: u, params: params}, &ans); err != nil {
		return nil, err
	}
	if st := strings.TrimSpace(ans.Status); !strings.EqualFold(st, "success") {
		msg := strings.TrimSpace(ans.Message)
		if msg == "" {
			msg = fmt.Sprintf("the server answered status %q, not success", st)
		}
		return nil, &Error{HTTPStatus: http.StatusOK, Message: msg, Details: []string{"status: " + st}, Op: op, URL: cleanURL(u)}
	}
	id := strings.TrimSpace(ans.JobID)
	if id == "" {
		return nil, &ResponseError{Op: op, URL: cleanURL(u), HTTPStatus: http.StatusOK, Reason: "no jobId in the answer"}
	}
	if validJobID(id) != nil {
		return nil, &ResponseError{Op: op, URL: cleanURL(u), HTTPStatus: http.StatusOK,
			Reason: fmt.Sprintf("jobId %q cannot be used in a URL", truncate(id, 80))}
	}
	// The server has just accepted the job: Wait lets it start before the
	// first poll.
	return tileJob(c, folder, name, id, true), nil
}

// Job re-attaches to a tile job of a hosted tile layer, from the service
// name ("Name" or "Folder/Name") and the job ID that Update returned.
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
func (s *TilesService) Job(serviceName, jobID string) (*Job[*TileJobStats], error) {
	folder, name, err := splitTileService(serviceName)
	if err != nil {
		return nil, err
	}
	if err := validJobID(jobID); err != nil {
		return nil, err
	}
	return tileJob(s.client, folder, name, jobID, false), nil
}

// Jobs lists the tile jobs of a hosted tile layer (the job summary).
// https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary
func (s *TilesService) Jobs(ctx context.Context, serviceName string) (*TileJobSummary, error) {
	folder, name, err := splitTileService(serviceName)
	if err != nil {
		return nil, err
	}
	c := s.client
	var out TileJobSummary
	err = c.do(ctx, call{op: "tile jobs", method: http.MethodGet, idempotent: true,
		url: c.endpoint(rootHostedAdmin, "services", folder, name, "MapServer", "jobs")}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// tileJob builds the handle on a tile job: polled at .../MapServer/jobs/<id>
// (GET), cancelled at .../jobs/<id>/cancel; the statistics of the last poll
// are the result.
func tileJob(c *Client, folder, name, jobID string, fresh bool) *Job[*TileJobStats] {
	const op = "updateTiles"
	jobURL := c.endpoint(rootHostedAdmin, "services", folder, name, "MapServer", "jobs", jobID)
	hist := &tileMessages{}
	spec := jobSpec[*TileJobStats]{
		op: op,
		poll: func(ctx context.Context) (JobStatus, *TileJobStats, error) {
			var st TileJobStats
			err := c.do(ctx, call{op: op + ": job " + jobID + " status", method: http.MethodGet, url: jobURL, idempotent: true}, &st)
			if err != nil {
				return JobStatus{}, nil, err
			}
			if strings.TrimSpace(st.JobStatus) == "" {
				return JobStatus{}, nil, &ResponseError{Op: op + ": job " + jobID + " status", URL: cleanURL(jobURL),
					HTTPStatus: http.StatusOK, Reason: "no jobStatus in the answer"}
			}
			state := ClassifyTileStatus(st.JobStatus)
			return JobStatus{JobID: jobID, State: state, Status: st.JobStatus,
				Progress: &JobProgress{Percent: st.PercentComplete, Message: st.Message},
				Messages: hist.observe(st.Message, state)}, &st, nil
		},
		cancel: func(ctx context.Context) error {
			// Cancelling twice is harmless, so the call may be retried.
			return c.do(ctx, call{op: op + ": cancel job " + jobID, method: http.MethodPost, idempotent: true,
				url: c.endpoint(rootHostedAdmin, "services", folder, name, "MapServer", "jobs", jobID, "cancel")}, nil)
		},
	}
	return newJob(c, jobID, cleanURL(jobURL), spec, fresh)
}

// tileMessages turns the single "message" of successive tile job
// statistics into the list of every message so far: each change of message
// is one entry, an error entry when the job has failed.
type tileMessages struct {
	mu   sync.Mutex
	list []JobMessage
}

func (h *tileMessages) observe(msg string, state JobState) []JobMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	typ := "esriJobMessageTypeInformative"
	if state == JobFailed {
		typ = "esriJobMessageTypeError"
	}
	if msg = strings.TrimSpace(msg); msg != "" {
		if n := len(h.list); n == 0 || h.list[n-1].Description != msg {
			h.list = append(h.list, JobMessage{Type: typ, Description: msg})
		}
	}
	return append([]JobMessage(nil), h.list...)
}

// splitTileService checks "Name" or "Folder/Name" and splits it.
func splitTileService(serviceName string) (folder, name string, err error) {
	parts := strings.Split(strings.TrimSpace(serviceName), "/")
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		folder, name = parts[0], parts[1]
		if err := validFolderName("service folder", folder); err != nil {
			return "", "", err
		}
	default:
		return "", "", invalid("service name", "want Name or Folder/Name, got %q", serviceName)
	}
	if err := validName("service name", name); err != nil {
		return "", "", err
	}
	return folder, name, nil
}

// TileJobStats are the statistics of a tile job (the job statistics
// resource), and the result of a finished job. Counts may arrive as numbers
// or strings; times are epoch milliseconds. The status is read from
// jobStatus, jobstatus or status.
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
type TileJobStats struct {
	JobID           string  `json:"jobId"`
	Type            string  `json:"type"`      // CACHECOOKER or CACHEDELETE
	JobStatus       string  `json:"jobStatus"` // SUBMITTED, INPROGRESS, DONE, CANCELED, PARTIALERROR, ERROR, FAILED
	Submitter       string  `json:"submitter,omitempty"`
	PercentComplete float64 `json:"percentComplete"`
	Message         string  `json:"message"`
	SubmitTime      Time    `json:"submitTime"`
	StartTime       Time    `json:"startTime"`
	LastTime        Time    `json:"lastTime"`
	// Extent is the area being cooked; nil if absent or unreadable (see Raw).
	Extent             *Extent          `json:"extent,omitempty"`
	NumTasks           Int              `json:"numTasks"`
	NumDoneTasks       Int              `json:"numDoneTasks"`
	NumErrorTasks      Int              `json:"numErrorTasks"`
	NumCanceledTasks   Int              `json:"numCanceledTasks"`
	NumSubmittedTasks  Int              `json:"numSubmittedTasks"`
	NumProcessingTasks Int              `json:"numProcessingTasks"`
	EstimatedNumTiles  Int              `json:"estimatedNumTiles"`
	NumTiles           Int              `json:"numTiles"`
	EstimatedTilesSize Int              `json:"estimatedTilesSize"` // bytes
	TilesSize          Int              `json:"tilesSize"`          // bytes
	AverageTaskTime    float64          `json:"averageTaskTime"`
	TotalTaskTime      float64          `json:"totalTaskTime"`
	LevelStats         []TileLevelStats `json:"levelStats,omitempty"`
	LODInfos           []TileLODInfo    `json:"lodInfos,omitempty"`
	// Raw is the answer as the server sent it, for fields not modelled here.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the statistics leniently: numbers as numbers or
// strings, the status under any of its names, an extent that cannot be
// read as nil rather than a failed poll.
func (s *TileJobStats) UnmarshalJSON(b []byte) error {
	type plain TileJobStats
	var aux struct {
		plain
		Status          string          `json:"status"`
		PercentComplete json.RawMessage `json:"percentComplete"`
		AverageTaskTime json.RawMessage `json:"averageTaskTime"`
		TotalTaskTime   json.RawMessage `json:"totalTaskTime"`
		Extent          json.RawMessage `json:"extent"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = TileJobStats(aux.plain)
	if strings.TrimSpace(s.JobStatus) == "" {
		s.JobStatus = aux.Status
	}
	s.PercentComplete = rawFloat(aux.PercentComplete)
	s.AverageTaskTime = rawFloat(aux.AverageTaskTime)
	s.TotalTaskTime = rawFloat(aux.TotalTaskTime)
	s.Extent = lenientExtent(aux.Extent)
	s.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// TileLevelStats are the statistics of one level of a tile job.
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
type TileLevelStats struct {
	Level              Int     `json:"level"`
	ProcessingTime     float64 `json:"processingTime"`
	NumTasks           Int     `json:"numTasks"`
	NumDoneTasks       Int     `json:"numDoneTasks"`
	EstimatedNumTiles  Int     `json:"estimatedNumTiles"`
	NumTiles           Int     `json:"numTiles"`
	EstimatedTilesSize Int     `json:"estimatedTilesSize"`
	TilesSize          Int     `json:"tilesSize"`
}

// UnmarshalJSON reads processingTime as a number or a string.
func (l *TileLevelStats) UnmarshalJSON(b []byte) error {
	type plain TileLevelStats
	var aux struct {
		plain
		ProcessingTime json.RawMessage `json:"processingTime"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*l = TileLevelStats(aux.plain)
	l.ProcessingTime = rawFloat(aux.ProcessingTime)
	return nil
}

// TileLODInfo is the progress of one level in a job summary.
// https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary
type TileLODInfo struct {
	LevelID           Int    `json:"levelID"`
	TileCount         Int    `json:"tileCount"`
	ExpectedTileCount Int    `json:"expectedTileCount"`
	TilesSize         Int    `json:"tilesSize"`
	Status            string `json:"status"`
}

// TileJobSummary lists the tile jobs of a hosted tile layer.
// https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary
type TileJobSummary struct {
	Total Int           `json:"total"`
	Jobs  []TileJobInfo `json:"jobs"`
}

// TileJobInfo is one job of a TileJobSummary.
// https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary
type TileJobInfo struct {
	ID         string        `json:"id"`
	Status     string        `json:"status"` // SUBMITTED, DONE, CANCELED, FAILED (any case)
	Type       string        `json:"type"`   // UpdateTiles or DeleteTiles
	SubmitTime Time          `json:"submitTime"`
	StartTime  Time          `json:"startTime"`
	EndTime    Time          `json:"endTime"`
	LODInfos   []TileLODInfo `json:"lodInfos,omitempty"`
	// Extent is nil if absent or unreadable.
	Extent *Extent `json:"extent,omitempty"`
}

// State classifies Status.
func (j TileJobInfo) State() JobState { return ClassifyTileStatus(j.Status) }

// UnmarshalJSON reads an extent that cannot be read as nil.
func (j *TileJobInfo) UnmarshalJSON(b []byte) error {
	type plain TileJobInfo
	var aux struct {
		plain
		Extent json.RawMessage `json:"extent"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*j = TileJobInfo(aux.plain)
	j.Extent = lenientExtent(aux.Extent)
	return nil
}

// lenientExtent decodes an informational extent, or returns nil: Esri's
// syntax shows wkid as a string, which must not fail a whole poll.
func lenientExtent(raw json.RawMessage) *Extent {
	if isNull(raw) {
		return nil
	}
	var e Extent
	if json.Unmarshal(raw, &e) != nil {
		return nil
	}
	return &e
}

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
	Service     string      // required: "Name" or "Folder/Name"
	ServiceType ServiceType // MapServer (the default) or ImageServer
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
	folder, name, err := splitTileService(r.Service)
	if err != nil {
		return manageCacheParams{}, err
	}
	typ := r.ServiceType
	if typ == "" {
		typ = MapServer
	}
	if typ != MapServer && typ != ImageServer {
		return manageCacheParams{}, invalid("ServiceType", "must be MapServer or ImageServer, got %q", r.ServiceType)
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
	p := manageCacheParams{ServiceURL: name + ":" + string(typ), Levels: strings.Join(text, ";"),
		ThreadCount: threads, UpdateMode: string(r.UpdateMode)}
	if folder != "" {
		p.ServiceURL = folder + "/" + p.ServiceURL
	}
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
//	job, err := c.Tiles.ManageCache(ctx, ags.ManageCacheRequest{Service: "Basemaps/Streets",
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

// FeatureSet is a set of features as geoprocessing tasks take them, sent
// as one JSON form field, e.g. the area of interest of ManageCache.
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object
type FeatureSet struct {
	GeometryType     string            `json:"geometryType"` // e.g. esriGeometryPolygon
	SpatialReference *SpatialReference `json:"spatialReference,omitempty"`
	Features         []Feature         `json:"features"`
}

// Feature is one feature of a FeatureSet. Geometry is anything that
// encodes to an Esri JSON geometry object, such as a Polygon or a
// json.RawMessage.
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object
type Feature struct {
	Geometry   any            `json:"geometry"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Polygon is an Esri JSON polygon: closed rings of [x, y] points, outer
// rings clockwise.
// https://developers.arcgis.com/rest/services-reference/enterprise/geometry-objects
type Polygon struct {
	Rings            [][][2]float64    `json:"rings"`
	SpatialReference *SpatialReference `json:"spatialReference,omitempty"`
}

// PolygonFeatureSet returns a feature set of one polygon made of rings
// (each closed: its last point equals its first), in spatial reference sr:
// an area of interest for ManageCache.
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object
func PolygonFeatureSet(sr SpatialReference, rings ...[][2]float64) *FeatureSet {
	return &FeatureSet{GeometryType: "esriGeometryPolygon", SpatialReference: &sr,
		Features: []Feature{{Geometry: Polygon{Rings: rings}}}}
}

// validatePolygons checks a polygon feature set with a spatial reference
// and at least one feature, each with a geometry object.
func (fs *FeatureSet) validatePolygons(field string) error {
	if !strings.EqualFold(fs.GeometryType, "esriGeometryPolygon") {
		return invalid(field+".geometryType", "must be esriGeometryPolygon, got %q", fs.GeometryType)
	}
	if err := fs.SpatialReference.validate(field + ".spatialReference"); err != nil {
		return err
	}
	if len(fs.Features) == 0 {
		return invalid(field+".features", "must hold at least one polygon")
	}
	for i, f := range fs.Features {
		fld := fmt.Sprintf("%s.features[%d].geometry", field, i)
		var p *Polygon
		switch g := f.Geometry.(type) {
		case Polygon:
			p = &g
		case *Polygon:
			p = g
		}
		if p != nil {
			if err := p.validate(fld); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(f.Geometry)
		if err != nil {
			return invalid(fld, "cannot be encoded: %v", err)
		}
		if len(b) == 0 || b[0] != '{' {
			return invalid(fld, "must be an Esri JSON geometry object, got %.40s", b)
		}
	}
	return nil
}

func (p *Polygon) validate(field string) error {
	if p == nil || len(p.Rings) == 0 {
		return invalid(field, "a polygon needs at least one ring")
	}
	for i, ring := range p.Rings {
		if len(ring) < 4 {
			return invalid(fmt.Sprintf("%s.rings[%d]", field, i), "a ring needs at least 4 points (closed), got %d", len(ring))
		}
		for _, pt := range ring {
			for _, v := range pt {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return invalid(fmt.Sprintf("%s.rings[%d]", field, i), "coordinates must be finite, got %v", v)
				}
			}
		}
		if ring[0] != ring[len(ring)-1] {
			return invalid(fmt.Sprintf("%s.rings[%d]", field, i), "must be closed: last point %v is not the first %v", ring[len(ring)-1], ring[0])
		}
	}
	return nil
}
