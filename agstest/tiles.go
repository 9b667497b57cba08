package agstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Hosted tile job statuses as the job statistics example spells them
// (https://developers.arcgis.com/rest/services-reference/online/job-statistics).
const (
	tileSubmitted    = "SUBMITTED"
	tileInProgress   = "INPROGRESS"
	tileDone         = "DONE"
	tileCanceled     = "CANCELED"
	tilePartialError = "PARTIALERROR"
)

// maxLevel is the highest cache level accepted by updateTiles.
const maxLevel = 31

// bytesPerTile sizes the emulated tiles.
const bytesPerTile = 12 * 1024

type tileJob struct {
	id     string
	svc    svcKey
	params url.Values
	del    bool           // a deleteTiles job (CACHEDELETE); else updateTiles (CACHECOOKER)
	extent map[string]any // as sent, echoed in the statistics; nil for none

	// Guarded by Server.mu (a rerun changes them).
	levels    []int
	op        cacheOp
	ext       [4]float64           // the extent the job works on, for a cached service
	expected  map[int]int64        // per level: tiles in the extent (scheme services)
	fail      map[int]bool         // FailTiles levels this run fails at
	outcome   map[int]levelOutcome // per level, once finalized (scheme services)
	submitted time.Time
	start     time.Time
	end       time.Time
	run       int  // incremented by each rerun
	settling  bool // a settle is under way
	cancelled bool
	cancelAt  time.Time
	finalized bool
	failed    bool
	failMsg   string
}

// handleRESTAdminServices serves rest/admin/services/[<folder>/]<name>/MapServer/...
// (hosted tile layers, https://developers.arcgis.com/rest/services-reference/online/update-tiles).
func (s *Server) handleRESTAdminServices(w http.ResponseWriter, r *http.Request, segs []string) {
	k := -1
	for i, seg := range segs {
		if seg == "MapServer" {
			k = i
			break
		}
	}
	if k < 1 || k > 2 {
		restError(w, r, 404, fmt.Sprintf("Service %s not found ", strings.Join(segs, "/")))
		return
	}
	fold, name := "", segs[k-1]
	if k == 2 {
		fold = segs[0]
	}
	key, ok := s.resolveMapServer(fold, name, k == 2)
	if !ok {
		restError(w, r, 404, fmt.Sprintf("Service %s/MapServer not found ", strings.Join(segs[:k], "/")))
		return
	}
	rest := segs[k+1:]
	switch {
	case len(rest) == 1 && rest[0] == "updateTiles":
		s.updateTiles(w, r, key)
	case len(rest) == 1 && rest[0] == "deleteTiles":
		s.deleteTiles(w, r, key)
	case len(rest) == 1 && rest[0] == "deleteAllTiles":
		s.deleteAllTiles(w, r, key)
	case len(rest) == 3 && rest[0] == "jobs" && rest[2] == "rerun":
		s.tileJobRerun(w, r, key, rest[1])
	case len(rest) == 1 && rest[0] == "jobs":
		s.tileJobSummary(w, r, key)
	case len(rest) == 2 && rest[0] == "jobs":
		s.tileJobStats(w, r, key, rest[1])
	case len(rest) == 3 && rest[0] == "jobs" && rest[2] == "cancel":
		s.tileJobCancel(w, r, key, rest[1])
	case len(rest) == 0:
		s.mu.Lock()
		svc := s.services[key]
		var state string
		if svc != nil {
			state = stateName(svc.started)
		}
		s.mu.Unlock()
		writeJSON(w, r, obj{"name": key.name, "type": "MapServer", "status": state})
	default:
		restError(w, r, 400, "Invalid URL", "Unknown operation or resource '"+strings.Join(rest, "/")+"'.")
	}
}

// resolveMapServer finds the MapServer a hosted-tile path names: the given
// folder if the path has one, else the root, else the first folder (in name
// order) holding a MapServer of that name.
func (s *Server) resolveMapServer(fold, name string, hasFolder bool) (svcKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := svcKey{fold, name, "MapServer"}
	if _, ok := s.services[k]; ok {
		return k, true
	}
	if hasFolder {
		return svcKey{}, false
	}
	for _, f := range sortedKeys(s.folders) {
		k := svcKey{f, name, "MapServer"}
		if _, ok := s.services[k]; ok {
			return k, true
		}
	}
	return svcKey{}, false
}

// parseLevels reads "0-5,10,11-20" (https://developers.arcgis.com/rest/services-reference/online/update-tiles).
func parseLevels(raw string) ([]int, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, false
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, false
			}
		}
		if a < 0 || b > maxLevel || a > b {
			return nil, false
		}
		for l := a; l <= b; l++ {
			seen[l] = true
		}
	}
	levels := make([]int, 0, len(seen))
	for l := range seen {
		levels = append(levels, l)
	}
	sort.Ints(levels)
	return levels, true
}

// parseExtent reads an Esri envelope with a spatial reference:
// {"xmin":..,"ymin":..,"xmax":..,"ymax":..,"spatialReference":{"wkid":..}}.
func parseExtent(raw string) (map[string]any, bool) {
	m, err := decodeJSONObject(strings.TrimSpace(raw))
	if err != nil {
		return nil, false
	}
	var v [4]float64
	for i, k := range []string{"xmin", "ymin", "xmax", "ymax"} {
		n, ok := m[k].(json.Number)
		if !ok {
			return nil, false
		}
		f, err := n.Float64()
		if err != nil {
			return nil, false
		}
		v[i] = f
	}
	if v[0] >= v[2] || v[1] >= v[3] {
		return nil, false
	}
	sr, ok := m["spatialReference"].(map[string]any)
	if !ok {
		return nil, false
	}
	_, hasWKID := sr["wkid"].(json.Number)
	_, hasLatest := sr["latestWkid"].(json.Number)
	wkt, _ := sr["wkt"].(string)
	if !hasWKID && !hasLatest && wkt == "" {
		return nil, false
	}
	return m, true
}

// updateTiles: GET or POST .../MapServer/updateTiles with levels, extent,
// mergeBundle and replaceTiles. Errors use the documented bodies
// (testdata/fixtures/update-tiles-error-extent.json and
// update-tiles-error-levels.json); success the documented example's shape
// (testdata/fixtures/update-tiles-ok.json).
func (s *Server) updateTiles(w http.ResponseWriter, r *http.Request, key svcKey) {
	extent, ok := parseExtent(param(r, "extent"))
	if !ok {
		restError(w, r, 400, "", "Invalid extent.")
		return
	}
	levels, ok := parseLevels(param(r, "levels"))
	if !ok {
		restError(w, r, 400, "", "Invalid cache levels.")
		return
	}
	for _, p := range []string{"mergeBundle", "replaceTiles"} {
		if _, ok := parseBoolParam(param(r, p)); !ok {
			restError(w, r, 400, "", fmt.Sprintf("Invalid %s value.", p))
			return
		}
	}
	s.submitTileJob(w, r, key, levels, extent, false)
}

// extentBox reads an envelope parsed by parseExtent.
func extentBox(m map[string]any) [4]float64 {
	var e [4]float64
	for i, k := range []string{"xmin", "ymin", "xmax", "ymax"} {
		e[i], _ = m[k].(json.Number).Float64()
	}
	return e
}

// submitTileJob records an updateTiles or deleteTiles job and answers in
// the shape of the documented examples (testdata/fixtures/update-tiles-ok.json,
// tile-delete-tiles-ok.json). extent nil means the whole cache.
func (s *Server) submitTileJob(w http.ResponseWriter, r *http.Request, key svcKey, levels []int, extent map[string]any, del bool) {
	now := s.now()
	d := s.newJobDuration()
	s.mu.Lock()
	svc := s.services[key]
	if svc == nil {
		s.mu.Unlock()
		restError(w, r, 404, fmt.Sprintf("Service %s/MapServer not found ", strings.TrimPrefix(key.folder+"/"+key.name, "/")))
		return
	}
	if svc.scheme == nil {
		// A hosted tile layer always has a tiling scheme; a service
		// without one has no tiles to update or delete. The wording is
		// this emulator's (no recorded answer shows it), in the shape of
		// the recorded tile errors.
		s.mu.Unlock()
		verb := "update"
		if del {
			verb = "delete"
		}
		restError(w, r, 400, "Unable to "+verb+" tiles.", "The service is not cached: it has no tiling scheme.")
		return
	}
	var id string
	for {
		id = s.uuidLocked()
		if _, dup := s.tileJobs[id]; !dup {
			break
		}
	}
	j := &tileJob{id: id, svc: key, params: taskParams(r), del: del, extent: extent, levels: levels, op: opBuildAll}
	if del {
		j.op = opDelete
	}
	if sch := svc.scheme; sch != nil {
		j.ext = sch.FullExtent
		if extent != nil {
			box, err := sch.inScheme(extent)
			if err != nil {
				// What a real server answers for an extent in another
				// spatial reference than its scheme's is not recorded: the
				// emulator refuses it in the shape of the recorded
				// updateTiles refusal (testdata/fixtures/update-tiles-error-extent.json),
				// the second detail in its own words.
				s.mu.Unlock()
				restError(w, r, 400, "", "Invalid extent.", err.Error()+".")
				return
			}
			j.ext = box
		}
		if _, err := sch.jobTiles(levels, j.ext); err != nil {
			s.mu.Unlock()
			restError(w, r, 400, "", err.Error())
			return
		}
		if !del {
			j.fail = s.takeFailuresLocked(levels)
		}
	}
	s.startTileRunLocked(j, svc, now, d)
	s.tileJobs[id] = j
	s.tileJobOrder = append(s.tileJobOrder, id)
	svcID := svc.id
	s.mu.Unlock()
	writeJSON(w, r, obj{
		"id":      svcID,
		"name":    key.name,
		"status":  "Success",
		"itemId":  strings.ReplaceAll(svcID, "-", ""),
		"type":    "Map Service",
		"jobId":   id,
		"message": "success",
	})
}

// startTileRunLocked (re)starts a tile job's timeline at now, to last d,
// and counts the tiles of its levels. Callers hold s.mu.
func (s *Server) startTileRunLocked(j *tileJob, svc *service, now time.Time, d time.Duration) {
	j.submitted, j.start, j.end = now, now.Add(time.Duration(float64(d)*startFraction)), now.Add(d)
	j.cancelled, j.finalized, j.failed, j.failMsg, j.outcome = false, false, false, "", nil
	j.expected = map[int]int64{} // submit and rerun refuse a service without a scheme
	for _, l := range j.levels {
		c0, c1, r0, r1 := svc.scheme.grid(l, j.ext)
		if c1 >= c0 && r1 >= r0 {
			j.expected[l] = (c1 - c0 + 1) * (r1 - r0 + 1)
		}
	}
}

// settleTile completes a tile job whose time has come, once per run: it
// builds (or deletes) the tiles, failing at FailTiles levels or where
// FailJobs says; a job whose service lost its cache meanwhile fails.
func (s *Server) settleTile(j *tileJob, now time.Time) {
	s.mu.Lock()
	due := !j.cancelled && !j.finalized && !j.settling && !now.Before(j.end)
	if !due {
		s.mu.Unlock()
		return
	}
	j.settling = true
	run := j.run
	fail := s.failJobs
	params := cloneValues(j.params)
	task := "updateTiles"
	if j.del {
		task = "deleteTiles"
	}
	s.mu.Unlock()
	msg := ""
	if fail != nil {
		msg = fail(task, params)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j.settling = false
	if j.cancelled || j.run != run {
		return
	}
	svc := s.services[j.svc]
	if (svc == nil || svc.scheme == nil) && msg == "" {
		// The service or its cache went while the job ran (DeleteCache,
		// a delete): the job fails. This emulator's wording.
		msg = "The service's cache no longer exists."
	}
	if svc != nil && svc.scheme != nil {
		j.outcome = map[int]levelOutcome{}
		var failedTiles, total int64
		var failedLevels []string
		for _, o := range svc.applyLocked(j.op, j.levels, j.ext, j.fail) {
			j.outcome[o.level] = o
			total += o.expected - o.skipped
			if o.failed > 0 {
				failedTiles += o.failed
				failedLevels = append(failedLevels, strconv.Itoa(o.level))
			}
		}
		if failedTiles == 0 && msg != "" && len(j.levels) > 0 {
			// FailJobs failed the job: its last level is the one that
			// failed, none of its tiles built.
			last := j.levels[len(j.levels)-1]
			o := j.outcome[last]
			svc.dropLocked(last, j.ext)
			o.failed, o.built = o.expected, 0
			j.outcome[last] = o
		}
		if failedTiles > 0 && msg == "" {
			// The emulator's wording: no recorded PARTIALERROR message.
			msg = fmt.Sprintf("%d of %d tiles failed (levels %s).", failedTiles, total, strings.Join(failedLevels, ","))
		}
	}
	j.finalized, j.failed, j.failMsg = true, msg != "", msg
}

// tileProgress is a tile job's state at a moment. Callers hold s.mu.
type tileProgress struct {
	status  string
	percent int
	// exec is the executed share (0..1) of the work.
	exec float64
	last time.Time
}

func (j *tileJob) progressLocked(now time.Time) tileProgress {
	at := now
	if j.cancelled {
		at = j.cancelAt
	}
	total := j.end.Sub(j.submitted)
	work := j.end.Sub(j.start)
	execShare := func(t time.Time) float64 {
		if work <= 0 || !t.Before(j.end) {
			return 1
		}
		if t.Before(j.start) {
			return 0
		}
		return float64(t.Sub(j.start)) / float64(work)
	}
	pct := func(t time.Time) int {
		if total <= 0 {
			return 99
		}
		return max(0, min(int(100*t.Sub(j.submitted)/total), 99))
	}
	switch {
	case j.cancelled:
		p := 0
		if !at.Before(j.start) {
			p = pct(at)
		}
		return tileProgress{status: tileCanceled, percent: p, exec: execShare(at), last: at}
	case j.finalized && j.failed:
		return tileProgress{status: tilePartialError, percent: 100, exec: 1, last: j.end}
	case j.finalized:
		return tileProgress{status: tileDone, percent: 100, exec: 1, last: j.end}
	case now.Before(j.start):
		return tileProgress{status: tileSubmitted, percent: 0, exec: 0, last: j.submitted}
	}
	return tileProgress{status: tileInProgress, percent: pct(now), exec: min(execShare(now), 0.999), last: now}
}

type levelStat struct {
	level          int
	state          string // SUBMITTED, INPROGRESS, DONE, CANCELED, ERROR
	processingTime int64  // ms
	done           int
	estimatedTiles int64
	tiles          int64
}

// levelStatsLocked spreads the job's work evenly over its levels in order.
// On a cached service the estimates are the tiles of the job's extent,
// and a finished level reports what was built: a level with failed tiles
// is ERROR with its task not done.
func (j *tileJob) levelStatsLocked(p tileProgress) []levelStat {
	n := len(j.levels)
	perLevel := j.end.Sub(j.start) / time.Duration(max(n, 1))
	out := make([]levelStat, n)
	for i, l := range j.levels {
		ls := levelStat{level: l, estimatedTiles: j.expected[l], state: tileSubmitted}
		lo, hi := float64(i)/float64(n), float64(i+1)/float64(n)
		switch {
		case p.exec >= hi:
			ls.state, ls.done, ls.tiles = tileDone, 1, ls.estimatedTiles
			ls.processingTime = perLevel.Milliseconds()
		case p.exec > lo:
			share := (p.exec - lo) / (hi - lo)
			ls.state = tileInProgress
			ls.tiles = int64(share * float64(ls.estimatedTiles))
			ls.processingTime = int64(share * float64(perLevel.Milliseconds()))
		}
		if p.status == tileCanceled && ls.state != tileDone {
			ls.state = tileCanceled
		}
		out[i] = ls
	}
	switch {
	case j.outcome != nil && j.finalized:
		for i := range out {
			o := j.outcome[out[i].level]
			out[i].tiles = o.expected - o.failed
			if o.failed > 0 {
				out[i].state, out[i].done = "ERROR", 0
			}
		}
	case p.status == tilePartialError && n > 0:
		last := &out[n-1]
		last.state, last.done, last.tiles = "ERROR", 0, last.estimatedTiles/2
	}
	return out
}

func (s *Server) lookupTileJob(key svcKey, id string) *tileJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.tileJobs[id]
	if j == nil || j.svc != key {
		return nil
	}
	return j
}

func tileJobNotFound(w http.ResponseWriter, r *http.Request, id string) {
	restError(w, r, 404, "Job not found.", fmt.Sprintf("Job '%s' does not exist.", id))
}

// tileJobStats answers jobs/<jobId> with the field names of the job
// statistics example
// (https://developers.arcgis.com/rest/services-reference/online/job-statistics).
func (s *Server) tileJobStats(w http.ResponseWriter, r *http.Request, key svcKey, id string) {
	j := s.lookupTileJob(key, id)
	if j == nil {
		tileJobNotFound(w, r, id)
		return
	}
	now := s.now()
	s.settleTile(j, now)

	s.mu.Lock()
	p := j.progressLocked(now)
	stats := j.levelStatsLocked(p)
	message := ""
	if p.status == tilePartialError {
		message = j.failMsg
	}
	startTime := int64(0)
	if !p.last.Before(j.start) {
		startTime = epochMS(j.start)
	}
	submitTime := epochMS(j.submitted)
	jobType := "CACHECOOKER"
	if j.del {
		jobType = "CACHEDELETE"
	}
	s.mu.Unlock()

	var (
		numDone, numErr, numCanceled, numSubmitted, numProcessing int
		estTiles, tiles, totalTime                                int64
	)
	levelStats := make([]any, 0, len(stats))
	for _, ls := range stats {
		switch ls.state {
		case tileDone:
			numDone++
		case "ERROR":
			numErr++
		case tileCanceled:
			numCanceled++
		case tileInProgress:
			numProcessing++
		default:
			numSubmitted++
		}
		estTiles += ls.estimatedTiles
		tiles += ls.tiles
		totalTime += ls.processingTime
		levelStats = append(levelStats, obj{
			"level":             ls.level,
			"processingTime":    ls.processingTime,
			"numTasks":          1,
			"numDoneTasks":      ls.done,
			"estimatedNumTiles": ls.estimatedTiles,
			"numTiles":          ls.tiles,
		})
	}
	avg := int64(0)
	if numDone > 0 {
		avg = totalTime / int64(numDone)
	}
	writeJSON(w, r, obj{
		"jobId":              j.id,
		"type":               jobType,
		"jobStatus":          p.status,
		"percentComplete":    p.percent,
		"message":            message,
		"submitTime":         submitTime,
		"startTime":          startTime,
		"lastTime":           epochMS(p.last),
		"extent":             j.extent,
		"numTasks":           len(stats),
		"numDoneTasks":       numDone,
		"numErrorTasks":      numErr,
		"numCanceledTasks":   numCanceled,
		"numSubmittedTasks":  numSubmitted,
		"numProcessingTasks": numProcessing,
		"estimatedNumTiles":  estTiles,
		"numTiles":           tiles,
		"estimatedTilesSize": estTiles * bytesPerTile,
		"tilesSize":          tiles * bytesPerTile,
		"averageTaskTime":    avg,
		"totalTaskTime":      totalTime,
		"levelStats":         levelStats,
	})
}

// tileJobSummary answers jobs?f=json
// (https://developers.arcgis.com/rest/services-reference/online/tile-service-job-summary.htm).
// A PARTIALERROR job is summarised as FAILED, the summary's own vocabulary.
func (s *Server) tileJobSummary(w http.ResponseWriter, r *http.Request, key svcKey) {
	s.mu.Lock()
	var jobs []*tileJob
	for _, id := range s.tileJobOrder {
		if j := s.tileJobs[id]; j != nil && j.svc == key {
			jobs = append(jobs, j)
		}
	}
	s.mu.Unlock()
	now := s.now()
	for _, j := range jobs {
		s.settleTile(j, now)
	}

	s.mu.Lock()
	list := make([]any, 0, len(jobs))
	for _, j := range jobs {
		p := j.progressLocked(now)
		status := p.status
		if status == tilePartialError {
			status = "FAILED"
		}
		lods := []any{}
		for _, ls := range j.levelStatsLocked(p) {
			lods = append(lods, obj{
				"levelID":           ls.level,
				"tileCount":         ls.tiles,
				"expectedTileCount": ls.estimatedTiles,
				"tilesSize":         ls.tiles * bytesPerTile,
				"status":            ls.state,
			})
		}
		startTime, endTime := int64(0), int64(0)
		if !p.last.Before(j.start) {
			startTime = epochMS(j.start)
		}
		if status != tileSubmitted && status != tileInProgress {
			endTime = epochMS(p.last)
		}
		typ := "UpdateTiles"
		if j.del {
			typ = "DeleteTiles"
		}
		list = append(list, obj{
			"id":         j.id,
			"status":     status,
			"type":       typ,
			"submitTime": epochMS(j.submitted),
			"startTime":  startTime,
			"endTime":    endTime,
			"lodInfos":   lods,
			"extent":     j.extent,
		})
	}
	s.mu.Unlock()
	writeJSON(w, r, obj{"total": len(list), "jobs": list})
}

// tileJobCancel: jobs/<jobId>/cancel answers {"success": true}
// (testdata/fixtures/tile-cancel-job-ok.json) and the job reads CANCELED
// from then on; a job that has ended answers the documented failure
// ("Unable to cancel job.",
// https://developers.arcgis.com/rest/services-reference/online/cancel-job).
func (s *Server) tileJobCancel(w http.ResponseWriter, r *http.Request, key svcKey, id string) {
	j := s.lookupTileJob(key, id)
	if j == nil {
		tileJobNotFound(w, r, id)
		return
	}
	now := s.now()
	s.settleTile(j, now)
	s.mu.Lock()
	ended := j.finalized || j.cancelled
	if !ended {
		j.cancelled, j.cancelAt = true, now
	}
	s.mu.Unlock()
	if ended {
		restError(w, r, 400, "", "Unable to cancel job.")
		return
	}
	writeJSON(w, r, obj{"success": true})
}

// tileJobRerun: POST jobs/<jobId>/rerun with code ALL, ERROR or CANCELED
// (REST-REFERENCE §7.5) runs an ended job again under the same ID: ALL
// rebuilds every level, ERROR only the tiles that failed, CANCELED the
// levels a cancel left unfinished (both only where tiles are missing).
// It answers {"success": true}, or the documented failure
// {"error":{"code":400,"message":"","details":["Unable to rerun job."]}}
// for a job still running or a code it does not know
// (https://developers.arcgis.com/rest/services-reference/online/rerun-job).
func (s *Server) tileJobRerun(w http.ResponseWriter, r *http.Request, key svcKey, id string) {
	j := s.lookupTileJob(key, id)
	if j == nil {
		tileJobNotFound(w, r, id)
		return
	}
	now, d := s.now(), s.newJobDuration()
	s.settleTile(j, now)
	code := strings.ToUpper(strings.TrimSpace(param(r, "code")))
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	ended := j.finalized || j.cancelled
	if !ended || svc == nil || svc.scheme == nil || (code != "ALL" && code != "ERROR" && code != "CANCELED") {
		restError(w, r, 400, "", "Unable to rerun job.")
		return
	}
	p := j.progressLocked(now)
	stats := j.levelStatsLocked(p)
	var levels []int
	op := opBuildEmpty
	for _, ls := range stats {
		switch {
		case code == "ALL":
			levels = append(levels, ls.level)
		case code == "ERROR" && ls.state == "ERROR":
			levels = append(levels, ls.level)
		case code == "CANCELED" && ls.state == tileCanceled:
			levels = append(levels, ls.level)
		}
	}
	if code == "ALL" {
		op = opBuildAll
	}
	if j.del {
		op = opDelete
	}
	j.run++
	j.levels, j.op = levels, op
	j.fail = nil
	if !j.del {
		j.fail = s.takeFailuresLocked(levels)
	}
	s.startTileRunLocked(j, svc, now, d)
	writeJSON(w, r, obj{"success": true})
}

// deleteTiles: .../MapServer/deleteTiles with levels (required) and an
// optional extent, as JSON or "xmin,ymin,xmax,ymax" in the service's
// spatial reference. Without levels it answers the documented refusal
// (testdata/fixtures/tile-delete-tiles-error-404-levels.json); otherwise a
// tile job like updateTiles (tile-delete-tiles-ok.json).
// https://developers.arcgis.com/rest/services-reference/online/delete-tiles
func (s *Server) deleteTiles(w http.ResponseWriter, r *http.Request, key svcKey) {
	raw := strings.TrimSpace(param(r, "levels"))
	if raw == "" {
		restError(w, r, 404, "Unable to delete tiles.", "'levels' parameter cannot be empty")
		return
	}
	levels, ok := parseLevels(raw)
	if !ok {
		restError(w, r, 400, "", "Invalid cache levels.")
		return
	}
	var extent map[string]any
	if e := strings.TrimSpace(param(r, "extent")); e != "" {
		if !strings.HasPrefix(e, "{") {
			parts := strings.Split(e, ",")
			if len(parts) == 4 {
				e = fmt.Sprintf(`{"xmin":%s,"ymin":%s,"xmax":%s,"ymax":%s,"spatialReference":{"wkid":%d}}`,
					parts[0], parts[1], parts[2], parts[3], s.serviceWKID(key))
			}
		}
		if extent, ok = parseExtent(e); !ok {
			restError(w, r, 400, "", "Invalid extent.")
			return
		}
	}
	s.submitTileJob(w, r, key, levels, extent, true)
}

func (s *Server) serviceWKID(key svcKey) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[key]; svc != nil && svc.scheme != nil {
		return svc.scheme.WKID
	}
	return 102100
}

// deleteAllTiles: .../MapServer/deleteAllTiles empties the cache and
// answers {"success":"true"}, a string
// (testdata/fixtures/tile-delete-all-tiles-ok.json).
// https://developers.arcgis.com/rest/services-reference/online/delete-all-tiles
func (s *Server) deleteAllTiles(w http.ResponseWriter, r *http.Request, key svcKey) {
	if r.Method != http.MethodPost {
		// The page says POST only; the refusal's wording is this
		// emulator's (none is recorded).
		restError(w, r, 405, "Unable to delete tiles.", "The 'deleteAllTiles' operation supports only HTTP POST requests.")
		return
	}
	s.mu.Lock()
	if svc := s.services[key]; svc != nil {
		svc.tiles = map[int]map[tileKey]struct{}{}
	}
	s.mu.Unlock()
	writeJSON(w, r, obj{"success": "true"})
}
