package ags

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// DeleteTilesRequest says which tiles of a hosted tile layer to delete.
// https://developers.arcgis.com/rest/services-reference/online/delete-tiles
type DeleteTilesRequest struct {
	// Levels are the levels to delete (required: the server answers
	// "'levels' parameter cannot be empty" without them).
	Levels Levels
	// Extent limits the deletion to an area; nil deletes the levels
	// everywhere. Sent as JSON with its spatial reference.
	Extent *Extent
}

// Validate checks the request as DeleteTiles does before any request: at
// least one level, and an extent, if given, with finite coordinates and a
// spatial reference. A problem is a *ValidationError naming the field.
func (r DeleteTilesRequest) Validate() error {
	if r.Levels.IsZero() {
		return invalid("Levels", "must list at least one level, such as ParseLevels(\"14-16\")")
	}
	if r.Extent != nil {
		return r.Extent.Validate()
	}
	return nil
}

type deleteTilesParams struct {
	Levels string             `url:"levels"`
	Extent *form.JSON[Extent] `url:"extent,omitempty"`
}

// DeleteTiles deletes tiles of a hosted tile layer (deleteTiles) and
// returns the tile job at once, like Update: the answer has the shape of
// updateTiles' (fixture tile-delete-tiles-ok.json). The request is sent
// once; a lost answer is an error matching ErrOutcomeUnknown. Bad input is
// a *ValidationError before any request.
// https://developers.arcgis.com/rest/services-reference/online/delete-tiles
func (s *TilesService) DeleteTiles(ctx context.Context, ref ServiceRef, req DeleteTilesRequest) (*Job[*TileJobStats], error) {
	ref, err := tileServiceRef(ref)
	if err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	p := deleteTilesParams{Levels: req.Levels.String()}
	if req.Extent != nil {
		p.Extent = form.NewJSON(*req.Extent)
	}
	return s.submitTileJob(ctx, ref, opDeleteTiles, p)
}

// DeleteAllTiles deletes every tile of a hosted tile layer
// (deleteAllTiles); the tiling scheme stays. The answer is
// {"success":"true"}, a string (fixture tile-delete-all-tiles-ok.json);
// "false" is an error. Deleting every tile twice leaves the same empty
// cache, so the call is retried like a read.
// https://developers.arcgis.com/rest/services-reference/online/delete-all-tiles
func (s *TilesService) DeleteAllTiles(ctx context.Context, ref ServiceRef) error {
	ref, err := tileServiceRef(ref)
	if err != nil {
		return err
	}
	c := s.client
	u := c.hostedTileURL(ref, "deleteAllTiles")
	return c.postSuccess(ctx, call{op: opDeleteAllTiles, scope: ref.String(), method: http.MethodPost, url: u, idempotent: true})
}

// RerunCode says which parts of a tile job Rerun runs again.
// https://developers.arcgis.com/rest/services-reference/online/rerun-job
type RerunCode string

// Rerun codes (REST-REFERENCE §7.5).
const (
	RerunAll      RerunCode = "ALL"      // the whole job
	RerunErrors   RerunCode = "ERROR"    // only the parts that failed: resume after PARTIALERROR
	RerunCanceled RerunCode = "CANCELED" // only the parts not run because the job was cancelled
)

// Rerun runs a hosted tile job again, whole or only its failed or
// cancelled parts (POST jobs/<id>/rerun with code), and returns the job to
// wait on. It needs only the service and the stored job ID, so a nightly
// run can resume the previous night's job. The answer is
// {"success": true}; {"success": false} or an error envelope ("Unable to
// rerun job.") is an error. The request is sent once; a lost answer is an
// error matching ErrOutcomeUnknown (read the job's status before rerunning
// again).
//
// The parameter name code is the ArcGIS API for Python's; Esri's page
// lists the values (ALL | ERROR | CANCELED) under a parameter it calls
// "rerun" (REST-REFERENCE §7.5).
// https://developers.arcgis.com/rest/services-reference/online/rerun-job
func (s *TilesService) Rerun(ctx context.Context, ref ServiceRef, jobID string, code RerunCode) (*Job[*TileJobStats], error) {
	ref, err := tileServiceRef(ref)
	if err != nil {
		return nil, err
	}
	if err := validJobID(jobID); err != nil {
		return nil, err
	}
	if !oneOf(code, []RerunCode{RerunAll, RerunErrors, RerunCanceled}) {
		return nil, invalid("code", "must be ALL, ERROR or CANCELED, got %q", code)
	}
	c := s.client
	u := c.hostedTileURL(ref, "jobs", jobID, "rerun")
	params := struct {
		Code string `url:"code"`
	}{string(code)}
	r := call{op: opRerun, scope: ref.String() + " job " + jobID, method: http.MethodPost, url: u, params: params}
	if err := c.postSuccess(ctx, r); err != nil {
		return nil, outcomeUnknown(err, r.label(), "tile job "+jobID+" of "+ref.String(),
			"read the job's status (Tiles.Job) before rerunning it again")
	}
	return tileJob(c, ref, jobID, true), nil
}

// postSuccess sends r and requires a success answer (checked by decode).
func (c *Client) postSuccess(ctx context.Context, r call) error {
	return c.do(ctx, r, &successAnswer{})
}

// TileJobError is a hosted tile job that ended PARTIALERROR, ERROR,
// FAILED or CANCELED, with the statistics of its last poll: per level,
// the tasks done and the tiles built against those expected, so a caller
// can see what to redo (UnfinishedLevels) and resume with Rerun or
// Update. errors.As finds the *JobError inside; Wait also returns Stats
// as its result.
type TileJobError struct {
	*JobError
	Stats *TileJobStats
}

// Unwrap returns the *JobError, so errors.Is(err, ErrJobFailed) and
// errors.As(err, &jobErr) work.
func (e *TileJobError) Unwrap() error { return e.JobError }

func (e *TileJobError) Error() string {
	msg := e.JobError.Error()
	if e.Stats == nil {
		return msg
	}
	if u := e.Stats.UnfinishedLevels(); !u.IsZero() {
		msg += fmt.Sprintf(" (levels with unfinished work: %s; %d of %d tiles built)", u, e.Stats.NumTiles, e.Stats.EstimatedNumTiles)
	}
	return msg
}

// UnfinishedLevels returns the levels whose statistics show work not done:
// fewer tasks done than the level has, or fewer tiles built than
// expected. They are what an Update must redo after a PARTIALERROR.
func (s *TileJobStats) UnfinishedLevels() Levels {
	var l Levels
	for _, ls := range s.LevelStats {
		if ls.NumDoneTasks < ls.NumTasks || ls.NumTiles < ls.EstimatedNumTiles {
			if n := int(ls.Level); n >= 0 && n <= MaxLevel {
				l.mask |= 1 << n
			}
		}
	}
	for _, li := range s.LODInfos {
		st := strings.ToUpper(strings.TrimSpace(li.Status))
		if li.TileCount < li.ExpectedTileCount || (st != "" && st != "DONE") {
			if n := int(li.LevelID); n >= 0 && n <= MaxLevel {
				l.mask |= 1 << n
			}
		}
	}
	return l
}
