package ags

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// TilesService runs tile caches, from creation to nightly updates. Reach
// it as Client.Tiles.
//
// Esri's "Automating cache creation and updates with geoprocessing" starts
// with Create Map Cache, then Manage Map Cache Tiles; each step is one call
// here:
//
//   - Read the tiling scheme (Scheme) and estimate a job's tiles per level
//     (TileScheme.Estimate) before running it.
//   - Standalone and federated ArcGIS Server (the caching tools):
//     CreateCache, ManageCache (levels or scales, an extent or an area of
//     interest, e.g. from GeoJSONArea), SetCacheScales, CacheStatus,
//     ResumeCache and DeleteCacheAndRestartService.
//   - Hosted tile layers: Update, DeleteTiles, DeleteAllTiles, Rerun, and
//     the job statistics (a failed job returns them in a *TileJobError).
//
// Every job is returned at once; store its ID to re-attach later
// (Tiles.Job, GP.Job(ManageMapCacheTilesTask, id)) or to resume.
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

// Validate checks the request as Update does before any request: at
// least one level, an extent with finite coordinates and a spatial
// reference, ReplaceTiles only with MergeBundle. A problem is a
// *ValidationError naming the field.
func (r UpdateTilesRequest) Validate() error {
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

// checkAnswer accepts only a success that names its job. An answer whose
// status is not "success" is the server's refusal in its own words.
func (a *updateTilesAnswer) checkAnswer() error {
	if st := strings.TrimSpace(a.Status); !strings.EqualFold(st, "success") {
		msg := strings.TrimSpace(a.Message)
		if msg == "" {
			msg = fmt.Sprintf("the server answered status %q, not success", st)
		}
		return refusal{message: msg, details: []string{"status: " + st}}
	}
	return checkJobID(a.JobID)
}

// Update rebuilds part of a hosted tile layer's cache (updateTiles) and
// returns the tile job at once; Wait on it for the job statistics.
// ref names the layer's service (Type MapServer, or empty); the call goes to
// <site>/rest/admin/services/[<folder>/]<name>/MapServer/updateTiles, so
// for ArcGIS Online the site is https://tiles.arcgis.com/tiles/<orgId>/arcgis.
//
// Rebuild only the levels that changed, only inside a box, in one call:
//
//	levels, _ := ags.ParseLevels("14-16")
//	ref := ags.ServiceRef{Name: "WorldService", Type: ags.MapServer}
//	job, err := c.Tiles.Update(ctx, ref, ags.UpdateTilesRequest{Levels: levels,
//		Extent: &ags.Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043,
//			SpatialReference: &ags.SpatialReference{WKID: 102100}}})
//
// The request is sent once and never retried after the server may have
// acted; when its answer is lost, the error matches ErrOutcomeUnknown (list
// the layer's jobs with Jobs to find out). An answer whose status is not
// "success", or that carries no jobId, is an error.
// https://developers.arcgis.com/rest/services-reference/online/update-tiles
func (s *TilesService) Update(ctx context.Context, ref ServiceRef, req UpdateTilesRequest) (*Job[*TileJobStats], error) {
	ref, err := tileServiceRef(ref)
	if err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	params := updateTilesParams{Levels: req.Levels.String(), Extent: form.JSON[Extent]{V: *req.Extent},
		MergeBundle: req.MergeBundle, ReplaceTiles: req.ReplaceTiles}
	return s.submitTileJob(ctx, ref, opUpdateTiles, params)
}

// submitTileJob posts a hosted tile operation that answers with a job
// (updateTiles, deleteTiles) and returns the job. The request is sent once
// and never retried after the server may have acted; a lost answer is an
// error matching ErrOutcomeUnknown. An answer whose status is not
// "success", or that carries no jobId, is an error.
func (s *TilesService) submitTileJob(ctx context.Context, ref ServiceRef, op operation, params any) (*Job[*TileJobStats], error) {
	c := s.client
	u := c.hostedTileURL(ref, string(op))
	r := call{op: op, scope: ref.String(), method: http.MethodPost, url: u, params: params}
	var ans updateTilesAnswer
	if err := c.do(ctx, r, &ans); err != nil {
		return nil, outcomeUnknown(err, r.label(), "service "+ref.String(),
			"list the layer's tile jobs (Tiles.Jobs) before submitting again")
	}
	id := strings.TrimSpace(ans.JobID) // checked by decode
	// The server has just accepted the job: Wait lets it start before the
	// first poll.
	return tileJob(c, ref, id, true), nil
}

// Job re-attaches to a tile job of a hosted tile layer, from its service
// and the job ID that Update returned. No request is sent until the handle
// is used.
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
func (s *TilesService) Job(ref ServiceRef, jobID string) (*Job[*TileJobStats], error) {
	ref, err := tileServiceRef(ref)
	if err != nil {
		return nil, err
	}
	if err := validJobID(jobID); err != nil {
		return nil, err
	}
	return tileJob(s.client, ref, jobID, false), nil
}

// Jobs lists the tile jobs of a hosted tile layer (the job summary).
// https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary
func (s *TilesService) Jobs(ctx context.Context, ref ServiceRef) (*TileJobSummary, error) {
	ref, err := tileServiceRef(ref)
	if err != nil {
		return nil, err
	}
	c := s.client
	var out TileJobSummary
	err = c.do(ctx, call{op: opJobs, scope: ref.String(), method: http.MethodGet, idempotent: true,
		url: c.hostedTileURL(ref, "jobs")}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// hostedTileURL is the address of a hosted tile layer's admin resource:
// <site>/rest/admin/services/[<folder>/]<name>/MapServer/<parts...>.
func (c *Client) hostedTileURL(ref ServiceRef, parts ...string) *url.URL {
	return c.endpoint(rootHostedAdmin, append([]string{"services", ref.Folder, ref.Name, string(ref.Type)}, parts...)...)
}

// tileJob builds the handle on a tile job: polled at .../MapServer/jobs/<id>
// (a read), cancelled at .../jobs/<id>/cancel; the statistics of the last poll
// are the result.
func tileJob(c *Client, ref ServiceRef, jobID string, fresh bool) *Job[*TileJobStats] {
	jobURL := c.hostedTileURL(ref, "jobs", jobID)
	scope := ref.String() + " job " + jobID
	hist := &tileMessages{}
	spec := jobSpec[*TileJobStats, *TileJobStats]{
		op: "tile job",
		poll: func(ctx context.Context) (JobStatus, *TileJobStats, error) {
			var ans tileStatusAnswer
			err := c.do(ctx, call{op: opStatus, scope: scope, method: http.MethodGet, url: jobURL, idempotent: true}, &ans)
			if err != nil {
				return JobStatus{}, nil, err
			}
			st := &ans.TileJobStats
			state := ClassifyTileStatus(st.JobStatus)
			return JobStatus{JobID: jobID, State: state, Status: st.JobStatus,
				Progress: &JobProgress{Percent: st.PercentComplete, Message: st.Message, Levels: st.levelProgress()},
				Messages: hist.observe(st.Message, state)}, st, nil
		},
		result: snapshotIsResult[*TileJobStats],
		cancel: func(ctx context.Context) error {
			// Cancelling twice is harmless, so the call may be retried. The
			// answer is {"success": true}; {"success": false} is a refusal
			// (REST-REFERENCE §7.5).
			// https://developers.arcgis.com/rest/services-reference/online/cancel-job
			r := call{op: opCancel, scope: scope, method: http.MethodPost, idempotent: true,
				url: c.hostedTileURL(ref, "jobs", jobID, "cancel")}
			return c.postSuccess(ctx, r)
		},
		failure: func(st *TileJobStats, je *JobError) (*TileJobStats, error) {
			return st, &TileJobError{JobError: je, Stats: st}
		},
	}
	return newJob(c, jobID, cleanURL(jobURL), spec, fresh)
}

// tileStatusAnswer is a tile job status read: statistics that must name
// the job's status.
type tileStatusAnswer struct{ TileJobStats }

func (a *tileStatusAnswer) checkAnswer() error { return checkJobStatus(a.JobStatus) }

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

// tileServiceRef checks the service of a hosted tile layer, which the
// hosted admin API names .../<name>/MapServer (REST-REFERENCE §5.1): its
// Type must be MapServer, and an empty Type means MapServer.
func tileServiceRef(ref ServiceRef) (ServiceRef, error) {
	return refOfType("", ref.orType(MapServer), MapServer)
}

// cachingToolsService spells a service as the caching tools' service_url
// wants it: "[Folder/]Name:MapServer" (REST-REFERENCE §7.6).
func cachingToolsService(ref ServiceRef) string {
	s := ref.Name + ":" + string(ref.Type)
	if ref.Folder != "" {
		s = ref.Folder + "/" + s
	}
	return s
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

// LevelProgress is how far a job has got at one cache level
// (JobProgress.Levels).
type LevelProgress struct {
	Level          int
	Tiles          int64 // tiles built (or deleted) so far
	EstimatedTiles int64 // tiles the job expects at the level; 0 when not reported
	DoneTasks      int64 // tasks of the level done so far
	Tasks          int64 // tasks of the level; 0 when not reported
}

// levelProgress is the statistics' progress per level, from levelStats,
// else lodInfos; nil when they report no level.
func (s *TileJobStats) levelProgress() []LevelProgress {
	var out []LevelProgress
	for _, l := range s.LevelStats {
		out = append(out, LevelProgress{Level: int(l.Level), Tiles: int64(l.NumTiles), EstimatedTiles: int64(l.EstimatedNumTiles),
			DoneTasks: int64(l.NumDoneTasks), Tasks: int64(l.NumTasks)})
	}
	if out == nil {
		for _, l := range s.LODInfos {
			out = append(out, LevelProgress{Level: int(l.LevelID), Tiles: int64(l.TileCount), EstimatedTiles: int64(l.ExpectedTileCount)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Level < out[j].Level })
	return out
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
