package agstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// folder is an admin services folder. The root folder is "" internally and
// "/" on the wire.
type folder struct {
	name, description string
	isDefault         bool
}

type svcKey struct{ folder, name, typ string }

// service is a stored service: the JSON as received plus the state.
type service struct {
	def     map[string]any // json.Number numbers: re-encoded exactly as sent
	started bool
	id      string // stable id reported by updateTiles

	scheme *TileScheme                  // nil: not cached
	tiles  map[int]map[tileKey]struct{} // level -> the tiles the cache holds
}

// seedState creates what a fresh site has: the System and Utilities folders
// with the System GP services whose tasks this emulator runs.
func (s *Server) seedState() {
	s.folders[""] = &folder{name: "", description: "Root folder"}
	s.folders["System"] = &folder{name: "System", description: "Reserved for system services", isDefault: true}
	s.folders["Utilities"] = &folder{name: "Utilities", description: "System utility services", isDefault: true}
	for _, n := range []string{"PublishingTools", "CachingTools", "CachingControllers"} {
		s.addServiceLocked("System", n, "GPServer", map[string]any{
			"serviceName": n, "type": "GPServer", "description": "", "capabilities": "",
			"properties": map[string]any{"executionType": "Asynchronous"},
		})
	}
	s.registerBuiltins()
	s.registerPublishing()
}

// AddService stores a service directly, as if createService had succeeded
// (folderName "" is the root; a missing folder is created). definition may be
// nil; serviceName and type are set from the arguments. The service starts
// STARTED unless definition says "configuredState":"STOPPED".
func (s *Server) AddService(folderName, name, typ string, definition map[string]any) {
	def := map[string]any{}
	if definition != nil {
		def = deepCopyJSON(definition, true)
	}
	def["serviceName"] = name
	def["type"] = typ
	fold := strings.Trim(folderName, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.folders[fold]; !ok {
		s.folders[fold] = &folder{name: fold}
	}
	s.addServiceLocked(fold, name, typ, def)
}

func (s *Server) addServiceLocked(fold, name, typ string, def map[string]any) {
	started := true
	if cs, ok := def["configuredState"].(string); ok && strings.EqualFold(cs, "STOPPED") {
		started = false
	}
	s.services[svcKey{fold, name, typ}] = &service{def: def, started: started, id: s.uuidLocked()}
}

// Service returns the service JSON as GET admin/services/[folder/]name.type
// shows it (with the defaults the server adds), decoded with float64
// numbers. The map is a copy.
func (s *Server) Service(folder, name, typ string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[svcKey{strings.Trim(folder, "/"), name, typ}]
	if !ok {
		return nil, false
	}
	return deepCopyJSON(svc.viewLocked(), false), true
}

func stateName(started bool) string {
	if started {
		return "STARTED"
	}
	return "STOPPED"
}

// viewLocked is the service JSON a GET answers: the stored definition plus
// the framework defaults the admin API documents
// (https://resources.arcgis.com/en/help/server-admin-api/createService.html)
// where the definition left them out.
func (svc *service) viewLocked() map[string]any {
	out := make(map[string]any, len(svc.def)+12)
	defaults := map[string]any{
		"description":         "",
		"capabilities":        "",
		"clusterName":         "default",
		"minInstancesPerNode": 1,
		"maxInstancesPerNode": 2,
		"maxWaitTime":         60,
		"maxStartupTime":      300,
		"maxIdleTime":         1800,
		"maxUsageTime":        600,
		"recycleInterval":     24,
		"loadBalancing":       "ROUND_ROBIN",
		"isolationLevel":      "HIGH",
		"properties":          map[string]any{},
		"extensions":          []any{},
		"datasets":            []any{},
	}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range svc.def {
		out[k] = v
	}
	out["configuredState"] = stateName(svc.started)
	return out
}

// Admin error texts. "Could not find resource or operation '...' on the
// system." is the admin API's wording for an unknown path; the texts for a
// duplicate service, a duplicate folder and a missing name are this
// emulator's own (no published capture was found).
func msgNotFound(what string) string {
	return fmt.Sprintf("Could not find resource or operation '%s' on the system.", what)
}

func msgServiceExists(folder, name, typ string) string {
	return fmt.Sprintf("Service '%s' already exists.", qualifiedName(folder, name, typ))
}

// handleAdmin serves admin/...
// (https://developers.arcgis.com/rest/enterprise-administration/server/services.htm).
// segs follow "admin".
func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request, segs []string, entry *Request) {
	if len(segs) == 0 {
		writeJSON(w, r, obj{"resources": []string{"machines", "clusters", "services", "system", "security", "data", "uploads", "logs", "kml", "mode", "usagereports"}, "currentVersion": currentVersion})
		return
	}
	if s.handleAdminPublishing(w, r, segs) {
		return
	}
	if segs[0] != "services" {
		adminError(w, r, 404, msgNotFound(strings.Join(segs, "/")))
		return
	}
	segs = segs[1:]

	// Split off an optional folder, the service segment and the operation.
	var (
		fold   string
		svcSeg string
		rest   []string
	)
	switch {
	case len(segs) == 0:
		s.adminListFolder(w, r, "", true)
		return
	case isRootOp(segs[0]) && len(segs) == 1:
		s.adminRootOp(w, r, "", segs[0], entry)
		return
	}
	if _, _, ok := splitServiceSegment(segs[0]); ok {
		svcSeg, rest = segs[0], segs[1:]
	} else {
		fold = segs[0]
		if len(segs) == 1 {
			s.adminListFolder(w, r, fold, false)
			return
		}
		if len(segs) == 2 && segs[1] == "createService" {
			s.adminRootOp(w, r, fold, "createService", entry)
			return
		}
		if _, _, ok := splitServiceSegment(segs[1]); !ok {
			adminError(w, r, 404, msgNotFound(strings.Join(segs, "/")))
			return
		}
		svcSeg, rest = segs[1], segs[2:]
	}
	name, typ, _ := splitServiceSegment(svcSeg)
	s.adminService(w, r, fold, name, typ, rest, entry)
}

func isRootOp(seg string) bool {
	switch seg {
	case "createFolder", "createService", "canCreateService", "startServices", "stopServices":
		return true
	}
	return false
}

func requirePOST(w http.ResponseWriter, r *http.Request, op string) bool {
	if r.Method == http.MethodPost {
		return true
	}
	adminError(w, r, 405, fmt.Sprintf("The '%s' operation supports only HTTP POST requests.", op))
	return false
}

// storeBusy consumes one injected "store busy" answer if any is left.
func (s *Server) storeBusy(w http.ResponseWriter, r *http.Request, entry *Request) bool {
	s.mu.Lock()
	busy := s.busyLeft > 0
	if busy {
		s.busyLeft--
	} else if s.faults.StoreBusyRate > 0 {
		busy = s.rnd.Float64() < s.faults.StoreBusyRate
	}
	if busy {
		entry.Fault = "storebusy"
	}
	s.mu.Unlock()
	if busy {
		adminError(w, r, 500, storeBusyMessage)
	}
	return busy
}

// adminListFolder answers GET admin/services (root) or admin/services/<folder>
// (https://developers.arcgis.com/rest/enterprise-administration/server/services.htm).
func (s *Server) adminListFolder(w http.ResponseWriter, r *http.Request, name string, root bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.folders[name]
	if !ok || (!root && name == "") {
		adminError(w, r, 404, msgNotFound(name))
		return
	}
	wireName := name
	if root {
		wireName = "/"
	}
	services := []any{}
	keys := make([]svcKey, 0)
	for k := range s.services {
		if k.folder == name {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].typ < keys[j].typ
	})
	for _, k := range keys {
		desc, _ := s.services[k].def["description"].(string)
		services = append(services, obj{"folderName": wireName, "serviceName": k.name, "type": k.typ, "description": desc})
	}
	out := obj{
		"folderName":   wireName,
		"description":  f.description,
		"webEncrypted": false,
		"isDefault":    f.isDefault,
		"services":     services,
	}
	if root {
		names := []string{}
		details := []any{}
		for _, n := range sortedKeys(s.folders) {
			if n == "" {
				continue
			}
			fd := s.folders[n]
			names = append(names, n)
			details = append(details, obj{"folderName": n, "description": fd.description, "webEncrypted": false, "isDefault": fd.isDefault})
		}
		out["folders"] = names
		out["foldersDetail"] = details
	}
	writeJSON(w, r, out)
}

func (s *Server) adminRootOp(w http.ResponseWriter, r *http.Request, fold, op string, entry *Request) {
	if !requirePOST(w, r, op) {
		return
	}
	switch op {
	case "createFolder":
		if s.storeBusy(w, r, entry) {
			return
		}
		s.adminCreateFolder(w, r)
	case "createService":
		if s.storeBusy(w, r, entry) {
			return
		}
		s.adminCreateService(w, r, fold)
	case "canCreateService":
		s.adminCanCreateService(w, r)
	case "startServices", "stopServices":
		s.adminStartStopServices(w, r, op == "startServices")
	}
}

// adminCreateFolder: POST admin/services/createFolder with folderName and an
// optional description; answers {"status":"success"}
// (https://developers.arcgis.com/rest/enterprise-administration/server/createfolder.htm).
func (s *Server) adminCreateFolder(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(param(r, "folderName"))
	if name == "" {
		adminError(w, r, 400, "The folderName parameter is required.")
		return
	}
	if strings.ContainsAny(name, `/\.`) {
		adminError(w, r, 400, fmt.Sprintf("Folder name '%s' is invalid.", name))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.folders[name]; exists {
		adminError(w, r, 400, fmt.Sprintf("Folder '%s' already exists.", name))
		return
	}
	s.folders[name] = &folder{name: name, description: param(r, "description")}
	adminSuccess(w, r)
}

// parseServiceJSON decodes the `service` form field. A value that does not
// start with '{' gets the captured org.json error text
// (https://github.com/Esri/ArcREST/issues/304, testdata/fixtures/admin-error-createsite-500.json).
func parseServiceJSON(raw string) (map[string]any, string) {
	t := strings.TrimSpace(raw)
	if !strings.HasPrefix(t, "{") {
		shown := snippet(raw, 100)
		if raw == "" {
			shown = "None"
		}
		return nil, fmt.Sprintf("A JSONObject text must begin with '{' at character 1 of %s", shown)
	}
	m, err := decodeJSONObject(t)
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Sprintf("Expected a valid JSON value at character %d of %s", se.Offset, snippet(t, 100))
		}
		return nil, fmt.Sprintf("Unable to parse the service JSON: %v", err)
	}
	return m, ""
}

func nameAndType(def map[string]any) (string, string) {
	name, _ := def["serviceName"].(string)
	typ, _ := def["type"].(string)
	return strings.TrimSpace(name), strings.TrimSpace(typ)
}

// adminCreateService: POST admin/services/[<folder>/]createService with
// `service` = JSON (https://developers.arcgis.com/rest/enterprise-administration/server/createservice.htm).
func (s *Server) adminCreateService(w http.ResponseWriter, r *http.Request, fold string) {
	def, msg := parseServiceJSON(param(r, "service"))
	if msg != "" {
		adminError(w, r, 500, msg)
		return
	}
	name, typ := nameAndType(def)
	if name == "" {
		adminError(w, r, 400, "The service name (serviceName) is missing from the service JSON.")
		return
	}
	if typ == "" {
		adminError(w, r, 400, "The service type (type) is missing from the service JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.folders[fold]; !ok {
		adminError(w, r, 404, fmt.Sprintf("Folder '%s' does not exist.", fold))
		return
	}
	if _, dup := s.services[svcKey{fold, name, typ}]; dup {
		adminError(w, r, 400, msgServiceExists(fold, name, typ))
		return
	}
	s.addServiceLocked(fold, name, typ, def)
	adminSuccess(w, r)
}

// adminCanCreateService: POST admin/services/canCreateService with
// folderName and serviceType or service
// (https://developers.arcgis.com/rest/enterprise-administration/server/cancreateservice.htm).
// The answer is {"createService": true|false}, or, with CanCreateStatus,
// {"status": "success"} or an admin error envelope (REST-REFERENCE §7.2).
// The page's response text was not retrievable, so the refusal's
// conditions (a service of that name and type already in the folder) and
// its wording are this emulator's own.
func (s *Server) adminCanCreateService(w http.ResponseWriter, r *http.Request) {
	fold := strings.Trim(param(r, "folderName"), "/")
	typ := strings.TrimSpace(param(r, "serviceType"))
	name := ""
	if raw := param(r, "service"); raw != "" {
		def, msg := parseServiceJSON(raw)
		if msg != "" {
			adminError(w, r, 500, msg)
			return
		}
		n, t := nameAndType(def)
		name = n
		if t != "" {
			typ = t
		}
	}
	if typ == "" {
		adminError(w, r, 400, "Either the serviceType or the service parameter is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	can := true
	if name != "" {
		if _, dup := s.services[svcKey{fold, name, typ}]; dup {
			can = false
		}
	}
	switch {
	case s.cfg.canCreate != CanCreateStatus:
		writeJSON(w, r, obj{"createService": can})
	case can:
		adminSuccess(w, r)
	default:
		adminError(w, r, 400, fmt.Sprintf("Service '%s' cannot be created: a service of that name and type exists in the folder.",
			qualifiedName(fold, name, typ)))
	}
}

type serviceRef struct {
	FolderName  string `json:"folderName"`
	ServiceName string `json:"serviceName"`
	Type        string `json:"type"`
}

// adminStartStopServices: POST admin/services/startServices|stopServices
// with services=[{"folderName":"","serviceName":"..","type":".."}]; the
// answer echoes {"services":[...]}
// (https://developers.arcgis.com/rest/enterprise-administration/server/start-services,
// testdata/fixtures/admin-startservices-ok.json).
func (s *Server) adminStartStopServices(w http.ResponseWriter, r *http.Request, start bool) {
	raw := param(r, "services")
	var list []serviceRef
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		// The parameter may also be wrapped as {"services":[...]}.
		var wrapped struct {
			Services []serviceRef `json:"services"`
		}
		if err2 := json.Unmarshal([]byte(raw), &wrapped); err2 != nil || wrapped.Services == nil {
			adminError(w, r, 500, fmt.Sprintf("A JSONArray text must start with '[' at character 1 of %s", snippet(raw, 100)))
			return
		}
		list = wrapped.Services
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ref := range list {
		k := svcKey{strings.Trim(ref.FolderName, "/"), ref.ServiceName, ref.Type}
		if _, ok := s.services[k]; !ok {
			adminError(w, r, 404, msgNotFound(qualifiedName(k.folder, k.name, k.typ)))
			return
		}
	}
	out := make([]any, 0, len(list))
	for _, ref := range list {
		k := svcKey{strings.Trim(ref.FolderName, "/"), ref.ServiceName, ref.Type}
		s.services[k].started = start
		out = append(out, obj{"folderName": ref.FolderName, "serviceName": ref.ServiceName, "type": ref.Type})
	}
	writeJSON(w, r, obj{"services": out})
}

// adminService serves admin/services/[<folder>/]<name>.<Type>[/<op>...]
// (https://developers.arcgis.com/rest/enterprise-administration/server/service.htm).
func (s *Server) adminService(w http.ResponseWriter, r *http.Request, fold, name, typ string, rest []string, entry *Request) {
	k := svcKey{fold, name, typ}
	notFound := func() { adminError(w, r, 404, msgNotFound(qualifiedName(fold, name, typ))) }

	if len(rest) == 0 {
		s.mu.Lock()
		svc, ok := s.services[k]
		var view map[string]any
		if ok {
			view = svc.viewLocked()
		}
		s.mu.Unlock()
		if !ok {
			notFound()
			return
		}
		writeJSON(w, r, view)
		return
	}

	op := rest[0]
	if op == "jobs" && typ == "GPServer" {
		s.adminDeleteGPJob(w, r, fold, name, rest[1:])
		return
	}
	if len(rest) != 1 {
		adminError(w, r, 404, msgNotFound(qualifiedName(fold, name, typ)+"/"+strings.Join(rest, "/")))
		return
	}
	switch op {
	case "status":
		s.mu.Lock()
		svc, ok := s.services[k]
		var st string
		if ok {
			st = stateName(svc.started)
		}
		s.mu.Unlock()
		if !ok {
			notFound()
			return
		}
		// https://developers.arcgis.com/rest/enterprise-administration/enterprise/service-status.htm
		writeJSON(w, r, obj{"configuredState": st, "realTimeState": st})
	case "start", "stop", "delete", "edit":
		if !requirePOST(w, r, op) {
			return
		}
		if s.storeBusy(w, r, entry) {
			return
		}
		s.adminServiceOp(w, r, k, op)
	default:
		adminError(w, r, 404, msgNotFound(qualifiedName(fold, name, typ)+"/"+op))
	}
}

func (s *Server) adminServiceOp(w http.ResponseWriter, r *http.Request, k svcKey, op string) {
	var newDef map[string]any
	if op == "edit" {
		def, msg := parseServiceJSON(param(r, "service"))
		if msg != "" {
			adminError(w, r, 500, msg)
			return
		}
		n, t := nameAndType(def)
		if (n != "" && n != k.name) || (t != "" && t != k.typ) {
			adminError(w, r, 400, "The service name and type cannot be changed by the edit operation.")
			return
		}
		def["serviceName"], def["type"] = k.name, k.typ
		newDef = def
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[k]
	if !ok {
		adminError(w, r, 404, msgNotFound(qualifiedName(k.folder, k.name, k.typ)))
		return
	}
	switch op {
	case "start":
		svc.started = true
	case "stop":
		svc.started = false
	case "delete":
		delete(s.services, k)
	case "edit":
		// "Editing a service causes the service to be restarted"
		// (https://developers.arcgis.com/rest/enterprise-administration/server/editservice.htm):
		// the state is kept.
		svc.def = newDef
	}
	adminSuccess(w, r)
}
