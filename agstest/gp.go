package agstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TaskHandler runs a registered geoprocessing task. It is called once, when
// the job completes (outside the server's lock, so it may call the Server's
// methods). A non-nil error ends the job esriJobFailed with err.Error() as
// an esriJobMessageTypeError message; otherwise each entry of results
// becomes an output parameter readable at jobs/<id>/results/<name>. The
// dataType of a result is inferred from its Go type: string GPString, bool
// GPBoolean, integers GPLong, floats GPDouble, slices
// GPMultiValue:GPString, anything else GPString (encoded as JSON).
type TaskHandler func(params url.Values) (results map[string]any, err error)

// GP job statuses (https://developers.arcgis.com/rest/services-reference/enterprise/gp-job).
const (
	esriJobSubmitted  = "esriJobSubmitted"
	esriJobExecuting  = "esriJobExecuting"
	esriJobSucceeded  = "esriJobSucceeded"
	esriJobFailed     = "esriJobFailed"
	esriJobCancelling = "esriJobCancelling"
	esriJobCancelled  = "esriJobCancelled"

	msgInformative = "esriJobMessageTypeInformative"
	msgError       = "esriJobMessageTypeError"
)

// Built-in task paths, relative to rest/services.
const (
	RefreshServiceTask       = "System/PublishingTools/GPServer/Refresh Service"
	ManageMapCacheTilesTask  = "System/CachingTools/GPServer/Manage Map Cache Tiles"
	manageMapCacheTilesCtrlr = "System/CachingControllers/GPServer/Manage Map Cache Tiles"
)

type gpParam struct {
	name, dataType, displayName, direction, parameterType string
	defaultValue                                          any
	choices                                               []string
}

type taskDef struct {
	path    string // e.g. "System/PublishingTools/GPServer/Refresh Service"
	name    string // e.g. "RefreshService"
	display string // e.g. "Refresh Service"
	helpURL string
	params  []gpParam
	run     func(params url.Values) (map[string]any, error)
}

func (t *taskDef) paramType(name string) string {
	for _, p := range t.params {
		if p.name == name {
			return p.dataType
		}
	}
	return "GPString"
}

// gpError carries several job error messages.
type gpError struct{ msgs []string }

func (e *gpError) Error() string { return strings.Join(e.msgs, "\n") }

func errorLines(err error) []string {
	var ge *gpError
	if errors.As(err, &ge) {
		return ge.msgs
	}
	return []string{err.Error()}
}

type gpJob struct {
	id        string
	task      *taskDef
	inputs    url.Values
	submitted time.Time
	start     time.Time
	end       time.Time

	once sync.Once

	// Guarded by Server.mu.
	cancelled   bool
	cancelAt    time.Time
	finalized   bool
	failed      bool
	failMsgs    []string
	results     map[string]any
	resultTypes map[string]string
}

// RegisterTask adds (or replaces) a geoprocessing task served at
// rest/services/<taskPath>, e.g. "Tools/GPServer/Buffer". Jobs submitted to
// it follow the same timeline as the built-in tasks and call h when they
// complete. It panics if taskPath has no "/GPServer/<task>" part.
func (s *Server) RegisterTask(taskPath string, h TaskHandler) {
	taskPath = strings.Trim(taskPath, "/")
	segs := splitPath(taskPath)
	if len(segs) < 3 || segs[len(segs)-2] != "GPServer" {
		panic(fmt.Sprintf("agstest: RegisterTask(%q): want <service>/GPServer/<task>", taskPath))
	}
	display := segs[len(segs)-1]
	t := &taskDef{
		path:    strings.Join(segs, "/"),
		name:    strings.ReplaceAll(display, " ", ""),
		display: display,
		params:  []gpParam{},
	}
	if h != nil {
		t.run = func(p url.Values) (map[string]any, error) { return h(p) }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks[t.path] = t
}

func (s *Server) registerBuiltins() {
	// Refresh Service: parameters per the captured task page
	// (testdata/fixtures/gp-task-refresh-service.json,
	// https://historical1-stg.arcgis.com/arcgis/rest/services/System/PublishingTools/GPServer/Refresh%20Service?f=pjson)
	// and https://developers.arcgis.com/rest/services-reference/enterprise/refreshservice.
	s.tasks[RefreshServiceTask] = &taskDef{
		path:    RefreshServiceTask,
		name:    "RefreshService",
		display: "Refresh Service",
		helpURL: "/rest/directories/arcgisoutput/System/PublishingTools_GPServer/System_PublishingTools/RefreshService.htm",
		params: []gpParam{
			{name: "serviceName", dataType: "GPString", displayName: "Service Name", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeRequired", defaultValue: ""},
			{name: "serviceType", dataType: "GPString", displayName: "Service Type", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeRequired", defaultValue: ""},
			{name: "serviceFolder", dataType: "GPString", displayName: "Service Folder", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeOptional", defaultValue: ""},
			{name: "refreshOptions", dataType: "GPString", displayName: "Refresh Options", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeOptional", defaultValue: ""},
			{name: "refreshResults", dataType: "GPString", displayName: "Results", direction: "esriGPParameterDirectionOutput", parameterType: "esriGPParameterTypeDerived", defaultValue: ""},
		},
		run: s.runRefreshService,
	}
	// Manage Map Cache Tiles: input names and required flags as listed on a
	// live CachingControllers task page
	// (https://historical1-stg.arcgis.com/arcgis/rest/services/System/CachingControllers/GPServer/Manage%20Map%20Cache%20Tiles)
	// and the 10.0 tool reference (levels, update_mode, constraining_extent,
	// thread_count, ignore_status:
	// https://help.arcgis.com/en/sdk/10.0/arcobjects_net/componenthelp/0047/0047000036s0000000.htm).
	// The area of interest is area_of_interest (a feature set) on the 10.1+
	// CachingTools task; the 10.0 tool called it update_feature_class.
	// The name of the output parameter ("result") was not found in any
	// source and is this emulator's choice.
	cacheParams := func(controller bool) []gpParam {
		ps := []gpParam{
			{name: "service_url", dataType: "GPString", displayName: "Input Map Service or Image Service URL", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeRequired", defaultValue: ""},
			{name: "levels", dataType: "GPString", displayName: "Scales", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeRequired", defaultValue: ""},
			{name: "thread_count", dataType: "GPLong", displayName: "Number of caching service instances", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeRequired", defaultValue: nil},
			{name: "update_mode", dataType: "GPString", displayName: "Update Mode", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeRequired", defaultValue: "Recreate All Tiles", choices: modeChoices(controller)},
			{name: "constraining_extent", dataType: "GPString", displayName: "Update Extent", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeOptional", defaultValue: "DEFAULT"},
			{name: "area_of_interest", dataType: "GPFeatureRecordSetLayer", displayName: "Area of Interest", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeOptional", defaultValue: nil},
			{name: "ignore_status", dataType: "GPString", displayName: "Ignore Status", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeOptional", defaultValue: ""},
		}
		if controller {
			ps = append(ps, gpParam{name: "jobid", dataType: "GPString", displayName: "Job ID", direction: "esriGPParameterDirectionInput", parameterType: "esriGPParameterTypeOptional", defaultValue: ""})
		}
		return append(ps, gpParam{name: "result", dataType: "GPString", displayName: "Result", direction: "esriGPParameterDirectionOutput", parameterType: "esriGPParameterTypeDerived", defaultValue: ""})
	}
	for _, p := range []string{ManageMapCacheTilesTask, manageMapCacheTilesCtrlr} {
		svc := strings.Split(p, "/")[1]
		s.tasks[p] = &taskDef{
			path:    p,
			name:    "ManageMapCacheTiles",
			display: "Manage Map Cache Tiles",
			helpURL: "/rest/directories/arcgisoutput/System/" + svc + "_GPServer/System_" + svc + "/ManageMapCacheTiles.htm",
			params:  cacheParams(p == manageMapCacheTilesCtrlr),
			run:     s.manageMapCacheTiles(p == manageMapCacheTilesCtrlr),
		}
	}
	s.registerCacheTasks()
}

// updateModes are the choices of update_mode on the live CachingControllers page.
var updateModes = []string{"RECREATE_EMPTY_TILES", "RECREATE_ALL_TILES", "DELETE_TILES", "COMPLETE_JOB", "FIX_JOB", "RESUME_JOB"}

// modeChoices are the update modes a Manage Map Cache Tiles task offers:
// the job modes (COMPLETE_JOB, FIX_JOB, RESUME_JOB) only on
// CachingControllers (REST-REFERENCE §7.6). The CachingTools list is the
// three modes Esri documents for the tool; its live page was not captured.
func modeChoices(controller bool) []string {
	if controller {
		return updateModes
	}
	return updateModes[:3]
}

// manageMapCacheTiles returns the job runner of Manage Map Cache Tiles on
// CachingControllers (controller) or CachingTools.
func (s *Server) manageMapCacheTiles(controller bool) func(url.Values) (map[string]any, error) {
	return func(p url.Values) (map[string]any, error) {
		return s.runManageMapCacheTiles(p, modeChoices(controller))
	}
}

// valueRequired is the ArcGIS geoprocessing error for a missing required
// parameter ("ERROR 000735: <display name>: Value is required").
func valueRequired(display string) string {
	return fmt.Sprintf("ERROR 000735: %s: Value is required", display)
}

func notAMember(choices []string) string {
	return "ERROR 000800: The value is not a member of " + strings.Join(choices, " | ") + "."
}

func (s *Server) hasService(fold, name, typ string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.services[svcKey{fold, name, typ}]
	return ok
}

var refreshTypes = []string{"ImageServer", "FeatureServer", "MapServer", "SceneServer"}

// runRefreshService checks its parameters and the target service. The
// message for a missing service is this emulator's own wording.
func (s *Server) runRefreshService(p url.Values) (map[string]any, error) {
	name := strings.TrimSpace(p.Get("serviceName"))
	typ := strings.TrimSpace(p.Get("serviceType"))
	fold := strings.Trim(strings.TrimSpace(p.Get("serviceFolder")), "/")
	var errs []string
	if name == "" {
		errs = append(errs, valueRequired("Service Name"))
	}
	if typ == "" {
		errs = append(errs, valueRequired("Service Type"))
	} else if !contains(refreshTypes, typ) {
		errs = append(errs, notAMember(refreshTypes))
	}
	if errs != nil {
		return nil, &gpError{errs}
	}
	exists := s.hasService(fold, name, typ)
	if !exists && typ == "FeatureServer" {
		// A feature service lives in the admin API as a MapServer with the
		// FeatureServer extension.
		exists = s.hasService(fold, name, "MapServer")
	}
	if !exists {
		return nil, &gpError{[]string{fmt.Sprintf("Service '%s' does not exist.", qualifiedName(fold, name, typ))}}
	}
	return map[string]any{"refreshResults": `{"status":"success"}`}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// parseCacheServiceURL reads service_url in the "<folder>/<name>:MapServer"
// form a public script posting to System/CachingTools sends, or a full
// ".../rest/services/<folder>/<name>/MapServer" URL.
func parseCacheServiceURL(v string) (fold, name, typ string, ok bool) {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "/rest/services/"); i >= 0 {
		segs := splitPath(v[i+len("/rest/services/"):])
		switch len(segs) {
		case 2:
			return "", segs[0], segs[1], true
		case 3:
			return segs[0], segs[1], segs[2], true
		}
		return "", "", "", false
	}
	i := strings.LastIndex(v, ":")
	if i <= 0 || i == len(v)-1 {
		return "", "", "", false
	}
	path, typ := v[:i], v[i+1:]
	segs := splitPath(path)
	switch len(segs) {
	case 1:
		return "", segs[0], typ, true
	case 2:
		return segs[0], segs[1], typ, true
	}
	return "", "", "", false
}

func normalizeUpdateMode(v string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), " ", "_"))
}

// runManageMapCacheTiles validates a Manage Map Cache Tiles job: levels are
// scale denominators separated by ';' (the form of the Manage Cache Tiles
// utility, https://enterprise.arcgis.com/en/server/11.3/develop/windows/manage-cache-tiles-utility.htm), thread_count a
// whole number (-1 for all instances), update_mode one of modes (the
// display names "Recreate All Tiles" etc. are accepted too).
func (s *Server) runManageMapCacheTiles(p url.Values, modes []string) (map[string]any, error) {
	var errs []string
	rawLevels := strings.TrimSpace(p.Get("levels"))
	rawThreads := strings.TrimSpace(p.Get("thread_count"))
	mode := normalizeUpdateMode(p.Get("update_mode"))

	key, errs := s.cacheService(p, "Input Map Service or Image Service URL")
	if rawLevels == "" {
		errs = append(errs, valueRequired("Scales"))
	} else {
		_, serrs := parseScaleList(rawLevels)
		errs = append(errs, serrs...)
	}
	if rawThreads == "" {
		errs = append(errs, valueRequired("Number of caching service instances"))
	} else if n, err := strconv.Atoi(rawThreads); err != nil || n == 0 || n < -1 {
		errs = append(errs, fmt.Sprintf("ERROR 000622: Invalid value '%s' for Number of caching service instances.", rawThreads))
	}
	if strings.TrimSpace(p.Get("update_mode")) == "" {
		errs = append(errs, valueRequired("Update Mode"))
	} else if !contains(modes, mode) {
		errs = append(errs, notAMember(modes))
	}
	if ext := strings.TrimSpace(p.Get("constraining_extent")); ext != "" && !strings.EqualFold(ext, "DEFAULT") {
		if _, ok := parseBox(ext); !ok {
			errs = append(errs, fmt.Sprintf("ERROR 000622: Invalid Update Extent '%s'.", snippet(ext, 100)))
		}
	}
	if errs != nil {
		return nil, &gpError{errs}
	}
	return s.runCacheTiles(key.folder, key.name, key.typ, mode, rawLevels, p)
}

// notCached is a caching tool's failure on a service without a cache (the
// emulator's wording after Esri's ERROR 001497).
func notCached(key svcKey) *gpError {
	return &gpError{[]string{fmt.Sprintf("ERROR 001497: Service '%s' is not cached.", qualifiedName(key.folder, key.name, key.typ))}}
}

// runCacheTiles does a Manage Map Cache Tiles job on the service's cache:
// the scales name levels of its scheme, the extent is constraining_extent,
// the envelope of area_of_interest, or the full extent. RECREATE_ALL_TILES
// builds every tile, RECREATE_EMPTY_TILES (and the controller's resume
// modes) only the missing ones, DELETE_TILES removes them. The per-level
// messages and the result's JSON are this emulator's own wording: no
// recorded answer of this task shows them.
func (s *Server) runCacheTiles(fold, name, typ, mode, rawLevels string, p url.Values) (map[string]any, error) {
	key := svcKey{fold, name, typ}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	if svc == nil || svc.scheme == nil {
		return nil, notCached(key)
	}
	levels, errs := scaleLevels(svc.scheme, rawLevels)
	ext, ok := jobExtent(svc.scheme, p.Get("constraining_extent"), p.Get("area_of_interest"))
	if !ok {
		errs = append(errs, "ERROR 000622: Invalid Area of Interest.")
	}
	if errs != nil {
		return nil, &gpError{errs}
	}
	if _, err := svc.scheme.jobTiles(levels, ext); err != nil {
		return nil, &gpError{[]string{"ERROR 999999: " + err.Error()}}
	}
	op := opBuildAll
	switch mode {
	case "RECREATE_EMPTY_TILES", "RESUME_JOB", "COMPLETE_JOB", "FIX_JOB":
		op = opBuildEmpty
	case "DELETE_TILES":
		op = opDelete
	}
	var fail map[int]bool
	if op != opDelete {
		fail = s.takeFailuresLocked(levels)
	}
	outcome := svc.applyLocked(op, levels, ext, fail)
	var lines []string
	perLevel := make([]any, 0, len(outcome))
	for _, o := range outcome {
		lod, _ := svc.scheme.lod(o.level)
		perLevel = append(perLevel, obj{"level": o.level, "scale": lod.Scale, "tiles": o.expected,
			"built": o.built, "skipped": o.skipped, "failed": o.failed})
		if o.failed > 0 {
			lines = append(lines, fmt.Sprintf("Level %d (scale %v): %d of %d tiles failed.", o.level, lod.Scale, o.failed, o.expected-o.skipped))
		}
	}
	if lines != nil {
		return nil, &gpError{append(lines, "ERROR 001470: Failed to cache extent.")}
	}
	summary, _ := json.Marshal(obj{
		"service":    fmt.Sprintf("%s:%s", strings.TrimSuffix(qualifiedName(fold, name, typ), "."+typ), typ),
		"updateMode": mode,
		"levels":     perLevel,
	})
	return map[string]any{"result": string(summary)}, nil
}

// handleRESTServices serves rest/services/... : the catalog, GPServer
// resources and the GP job protocol
// (https://developers.arcgis.com/rest/services-reference/enterprise/gp-job).
func (s *Server) handleRESTServices(w http.ResponseWriter, r *http.Request, segs []string) {
	k := -1
	for i, seg := range segs {
		if seg == "GPServer" {
			k = i
			break
		}
	}
	if k < 1 {
		if n := len(segs); n == 2 || n == 3 {
			key := svcKey{"", segs[n-2], segs[n-1]}
			if n == 3 {
				key.folder = segs[0]
			}
			if s.serviceDescription(w, r, key) {
				return
			}
		}
		s.restCatalog(w, r, segs)
		return
	}
	svcPath := strings.Join(segs[:k], "/")
	if len(segs) == k+1 {
		s.gpServiceInfo(w, r, svcPath)
		return
	}
	taskPath := svcPath + "/GPServer/" + segs[k+1]
	s.mu.Lock()
	task := s.tasks[taskPath]
	s.mu.Unlock()
	if task == nil {
		restError(w, r, 404, "Task not found.", fmt.Sprintf("Task '%s' does not exist.", taskPath))
		return
	}
	rest := segs[k+2:]
	switch {
	case len(rest) == 0:
		s.gpTaskInfo(w, r, task)
	case len(rest) == 1 && rest[0] == "submitJob":
		s.gpSubmit(w, r, task)
	case len(rest) == 1 && rest[0] == "execute":
		restError(w, r, 400, "Unable to complete operation.", "The execute operation is not supported on an asynchronous task. Use submitJob.")
	case len(rest) >= 2 && rest[0] == "jobs":
		s.gpJobResource(w, r, task, rest[1], rest[2:])
	default:
		restError(w, r, 400, "Invalid URL", "Unknown operation or resource '"+strings.Join(rest, "/")+"'.")
	}
}

// restCatalog answers rest/services and rest/services/<folder>; any other
// path is a service this emulator does not serve, answered as a real
// services directory answers a missing service: code 500, "Service <path>
// not found ", trailing space included (captured,
// testdata/fixtures/rest-error-500-service-not-found.json). The answer for
// a missing folder is not recorded: its code 404 and wording are this
// emulator's own.
func (s *Server) restCatalog(w http.ResponseWriter, r *http.Request, segs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(segs) > 1 {
		restError(w, r, 500, fmt.Sprintf("Service %s not found ", strings.Join(segs, "/")))
		return
	}
	fold := ""
	if len(segs) == 1 {
		fold = segs[0]
		if _, ok := s.folders[fold]; !ok {
			restError(w, r, 404, fmt.Sprintf("Folder %s not found ", fold))
			return
		}
	}
	var keys []svcKey
	for k := range s.services {
		if k.folder == fold {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return qualifiedName("", keys[i].name, keys[i].typ) < qualifiedName("", keys[j].name, keys[j].typ)
	})
	services := []any{}
	for _, k := range keys {
		n := k.name
		if fold != "" {
			n = fold + "/" + k.name
		}
		services = append(services, obj{"name": n, "type": k.typ})
	}
	out := obj{"currentVersion": currentVersion, "services": services}
	if fold == "" {
		folders := []string{}
		for _, n := range sortedKeys(s.folders) {
			if n != "" {
				folders = append(folders, n)
			}
		}
		out["folders"] = folders
	} else {
		out["folders"] = []string{}
	}
	writeJSON(w, r, out)
}

func (s *Server) gpServiceInfo(w http.ResponseWriter, r *http.Request, svcPath string) {
	s.mu.Lock()
	var tasks []string
	prefix := svcPath + "/GPServer/"
	for p, t := range s.tasks {
		if strings.HasPrefix(p, prefix) {
			tasks = append(tasks, t.display)
		}
	}
	s.mu.Unlock()
	if tasks == nil {
		restError(w, r, 404, fmt.Sprintf("Service %s/GPServer not found ", svcPath))
		return
	}
	sort.Strings(tasks)
	writeJSON(w, r, obj{
		"currentVersion":      currentVersion,
		"serviceDescription":  "",
		"tasks":               tasks,
		"executionType":       "esriExecutionTypeAsynchronous",
		"resultMapServerName": "",
		"maximumRecords":      1000,
	})
}

// gpTaskInfo answers the task metadata in the shape of the captured Refresh
// Service page (testdata/fixtures/gp-task-refresh-service.json).
func (s *Server) gpTaskInfo(w http.ResponseWriter, r *http.Request, t *taskDef) {
	params := make([]any, 0, len(t.params))
	for _, p := range t.params {
		m := obj{
			"name":          p.name,
			"dataType":      p.dataType,
			"displayName":   p.displayName,
			"description":   "",
			"direction":     p.direction,
			"defaultValue":  p.defaultValue,
			"parameterType": p.parameterType,
			"category":      "",
		}
		if p.choices != nil {
			m["choiceList"] = p.choices
		}
		params = append(params, m)
	}
	help := ""
	if t.helpURL != "" {
		help = s.baseURL + t.helpURL
	}
	writeJSON(w, r, obj{
		"name":          t.name,
		"displayName":   t.display,
		"description":   "",
		"category":      "",
		"helpUrl":       help,
		"executionType": "esriExecutionTypeAsynchronous",
		"parameters":    params,
	})
}

// gpSubmit answers submitJob with {"jobId":"j<32 hex>","jobStatus":"esriJobSubmitted"}
// (testdata/fixtures/gp-submitjob-ok.json). Parameters are checked when the job runs,
// as a real server reports them in the job's messages.
func (s *Server) gpSubmit(w http.ResponseWriter, r *http.Request, t *taskDef) {
	now := s.now()
	d := s.newJobDuration()
	s.mu.Lock()
	var id string
	for {
		id = "j" + s.randHexLocked(32)
		if _, dup := s.gpJobs[id]; !dup {
			break
		}
	}
	s.gpJobs[id] = &gpJob{
		id:        id,
		task:      t,
		inputs:    taskParams(r),
		submitted: now,
		start:     now.Add(time.Duration(float64(d) * startFraction)),
		end:       now.Add(d),
	}
	s.mu.Unlock()
	writeJSON(w, r, obj{"jobId": id, "jobStatus": esriJobSubmitted})
}

// settleGP completes a job whose time has come, calling its handler once.
func (s *Server) settleGP(j *gpJob, now time.Time) {
	s.mu.Lock()
	due := !j.cancelled && !j.finalized && !now.Before(j.end)
	s.mu.Unlock()
	if !due {
		return
	}
	j.once.Do(func() {
		s.mu.Lock()
		fail := s.failJobs
		params := cloneValues(j.inputs)
		s.mu.Unlock()

		var (
			failed  bool
			msgs    []string
			results map[string]any
		)
		if fail != nil {
			if m := fail(j.task.path, cloneValues(params)); m != "" {
				failed, msgs = true, []string{m}
			}
		}
		if !failed && j.task.run != nil {
			res, err := j.task.run(params)
			if err != nil {
				failed, msgs = true, errorLines(err)
			} else {
				results = make(map[string]any, len(res))
				for k, v := range res {
					results[k] = v
				}
			}
		}
		types := map[string]string{}
		for k, v := range results {
			types[k] = gpDataType(j.task, k, v)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if j.cancelled {
			return
		}
		j.finalized, j.failed, j.failMsgs, j.results, j.resultTypes = true, failed, msgs, results, types
	})
}

func gpDataType(t *taskDef, name string, v any) string {
	for _, p := range t.params {
		if p.name == name && p.dataType != "" {
			return p.dataType
		}
	}
	switch v.(type) {
	case string:
		return "GPString"
	case bool:
		return "GPBoolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "GPLong"
	case float32, float64, json.Number:
		return "GPDouble"
	}
	if v != nil {
		if k := reflect.TypeOf(v).Kind(); k == reflect.Slice || k == reflect.Array {
			return "GPMultiValue:GPString"
		}
	}
	return "GPString"
}

// statusLocked computes a job's status at now. Callers hold s.mu.
func (j *gpJob) statusLocked(now time.Time) (status string, percent int) {
	switch {
	case j.cancelled:
		return esriJobCancelled, 0
	case j.finalized && j.failed:
		return esriJobFailed, 100
	case j.finalized:
		return esriJobSucceeded, 100
	case now.Before(j.start):
		return esriJobSubmitted, 0
	}
	total := j.end.Sub(j.submitted)
	p := 99
	if total > 0 {
		p = int(100 * now.Sub(j.submitted) / total)
	}
	return esriJobExecuting, max(0, min(p, 99))
}

func jobMsg(typ, desc string) obj { return obj{"type": typ, "description": desc} }

// messagesLocked builds the job's messages in ArcGIS style. Callers hold s.mu.
func (j *gpJob) messagesLocked(status string, now time.Time) []any {
	msgs := []any{jobMsg(msgInformative, "Submitted.")}
	reached := !now.Before(j.start)
	if j.cancelled {
		reached = !j.cancelAt.Before(j.start)
	}
	if reached || j.finalized {
		msgs = append(msgs,
			jobMsg(msgInformative, "Executing..."),
			jobMsg(msgInformative, "Start Time: "+arcTime(j.start)))
	}
	elapsed := elapsedSeconds(j.end.Sub(j.start))
	switch status {
	case esriJobSucceeded:
		msgs = append(msgs, jobMsg(msgInformative, fmt.Sprintf("Succeeded at %s (Elapsed Time: %s)", arcTime(j.end), elapsed)))
	case esriJobFailed:
		for _, m := range j.failMsgs {
			msgs = append(msgs, jobMsg(msgError, m))
		}
		msgs = append(msgs,
			jobMsg(msgError, fmt.Sprintf("Failed to execute (%s).", j.task.name)),
			jobMsg(msgError, fmt.Sprintf("Failed at %s (Elapsed Time: %s)", arcTime(j.end), elapsed)))
	case esriJobCancelled:
		// Mirrors Esri's cancelled-job mock
		// (testdata/fixtures/gp-job-cancelled-with-messages-mock.json).
		msgs = append(msgs, jobMsg(msgInformative, "Cancel complete."))
	}
	return msgs
}

// gpJobResource serves jobs/<id>, jobs/<id>/cancel, jobs/<id>/results/<p>
// and jobs/<id>/inputs/<p>.
func (s *Server) gpJobResource(w http.ResponseWriter, r *http.Request, t *taskDef, id string, rest []string) {
	s.mu.Lock()
	j := s.gpJobs[id]
	s.mu.Unlock()
	if j == nil || j.task.path != t.path {
		restError(w, r, 404, "Unable to complete operation.", fmt.Sprintf("Job '%s' does not exist or is inaccessible.", id))
		return
	}
	now := s.now()
	s.settleGP(j, now)

	switch {
	case len(rest) == 0:
		s.gpStatus(w, r, j, now)
	case len(rest) == 1 && rest[0] == "cancel":
		s.mu.Lock()
		status, _ := j.statusLocked(now)
		if status == esriJobSubmitted || status == esriJobExecuting {
			j.cancelled, j.cancelAt = true, now
			status = esriJobCancelling
		}
		s.mu.Unlock()
		// https://developers.arcgis.com/rest/services-reference/cancel-gp-job.htm
		writeJSON(w, r, obj{"jobId": j.id, "jobStatus": status})
	case len(rest) == 2 && (rest[0] == "results" || rest[0] == "inputs"):
		s.gpParamValue(w, r, j, rest[0], rest[1], now)
	default:
		restError(w, r, 400, "Invalid URL", "Unknown job resource '"+strings.Join(rest, "/")+"'.")
	}
}

// gpStatus answers the job resource (https://developers.arcgis.com/rest/services-reference/enterprise/gp-job).
func (s *Server) gpStatus(w http.ResponseWriter, r *http.Request, j *gpJob, now time.Time) {
	withMessages := !strings.EqualFold(strings.TrimSpace(param(r, "returnMessages")), "false")
	s.mu.Lock()
	status, percent := j.statusLocked(now)
	out := obj{"jobId": j.id, "jobStatus": status}
	if withMessages {
		out["messages"] = j.messagesLocked(status, now)
	}
	switch status {
	case esriJobExecuting:
		out["progress"] = obj{"type": "default", "message": "Executing...", "percent": percent}
	case esriJobSucceeded:
		results := obj{}
		for _, k := range sortedKeys(j.results) {
			results[k] = obj{"paramUrl": "results/" + k}
		}
		inputs := obj{}
		for _, k := range sortedKeys(j.inputs) {
			inputs[k] = obj{"paramUrl": "inputs/" + k}
		}
		out["results"] = results
		out["inputs"] = inputs
	}
	s.mu.Unlock()
	writeJSON(w, r, out)
}

// gpParamValue answers results/<p> or inputs/<p> as
// {"paramName","dataType","value"}
// (https://developers.arcgis.com/rest/enterprise-administration/notebook/gp-result,
// testdata/fixtures/gp-result-param.json).
func (s *Server) gpParamValue(w http.ResponseWriter, r *http.Request, j *gpJob, kind, name string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == "inputs" {
		vs, ok := j.inputs[name]
		if !ok {
			restError(w, r, 400, "Unable to complete operation.", fmt.Sprintf("Parameter '%s' is not an input of this job.", name))
			return
		}
		var v any = ""
		if len(vs) == 1 {
			v = vs[0]
		} else if len(vs) > 1 {
			v = vs
		}
		writeJSON(w, r, obj{"paramName": name, "dataType": j.task.paramType(name), "value": v})
		return
	}
	status, _ := j.statusLocked(now)
	if status != esriJobSucceeded {
		restError(w, r, 400, "Unable to complete operation.", fmt.Sprintf("Results are not available: the job status is %s.", status))
		return
	}
	v, ok := j.results[name]
	if !ok {
		restError(w, r, 400, "Unable to complete operation.", fmt.Sprintf("Parameter '%s' is not a result of this job.", name))
		return
	}
	writeJSON(w, r, obj{"paramName": name, "dataType": j.resultTypes[name], "value": v})
}

// adminDeleteGPJob: POST admin/services/[<folder>/]<name>.GPServer/jobs/<id>/delete
// answers {"status":"success"} or {"status":"error","messages":["Unable to
// delete job :[<id>]"],"code":400}
// (https://developers.arcgis.com/rest/enterprise-administration/server/delete-job,
// testdata/fixtures/admin-delete-job-error.json).
func (s *Server) adminDeleteGPJob(w http.ResponseWriter, r *http.Request, fold, name string, rest []string) {
	if len(rest) != 2 || rest[1] != "delete" {
		adminError(w, r, 404, msgNotFound(qualifiedName(fold, name, "GPServer")+"/jobs/"+strings.Join(rest, "/")))
		return
	}
	if !requirePOST(w, r, "delete") {
		return
	}
	id := rest[0]
	prefix := name + "/GPServer/"
	if fold != "" {
		prefix = fold + "/" + prefix
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.gpJobs[id]
	if j == nil || !strings.HasPrefix(j.task.path, prefix) {
		adminError(w, r, 400, fmt.Sprintf("Unable to delete job :[%s]", id))
		return
	}
	j.cancelled = true
	delete(s.gpJobs, id)
	adminSuccess(w, r)
}
