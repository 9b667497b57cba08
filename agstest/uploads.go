package agstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Publishing: admin/uploads (one-request and part uploads), the uploaded
// item's serviceconfiguration.json, admin/services/exists, and the
// Publish Service Definition task (REST-REFERENCE §8). Uploaded files are
// counted, not kept: the server remembers each file's name and size.

// PublishServiceDefinitionTask is the built-in publishing task, relative
// to rest/services.
const PublishServiceDefinitionTask = "System/PublishingTools/GPServer/Publish Service Definition"

// publishTaskEx is the same task on the PublishingToolsEx service, which
// AddPublishingToolsEx adds.
const publishTaskEx = "System/PublishingToolsEx/GPServer/Publish Service Definition"

// maxFieldBytes caps one non-file multipart field.
const maxFieldBytes = 1 << 20

type upload struct {
	id, name, description string
	date                  time.Time
	committed             bool
	size                  int64
	parts                 map[int]int64 // part number -> size
}

// uploadState is the emulator's upload store. Guarded by Server.mu.
type uploadState struct {
	items        map[string]*upload
	configs      map[string]map[string]any // by file name: SetSDConfiguration
	publishError string                    // FailPublish
}

// UploadedItem is a file the server holds: its name and size (the
// content is not kept).
type UploadedItem struct {
	ItemID    string
	Name      string
	Size      int64
	Committed bool
	Parts     int // parts uploaded (0 for a one-request upload)
}

// Uploads returns the uploaded items, sorted by ID.
func (s *Server) Uploads() []UploadedItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []UploadedItem{}
	for _, id := range sortedKeys(s.up.items) {
		u := s.up.items[id]
		out = append(out, UploadedItem{ItemID: u.id, Name: u.name, Size: u.size, Committed: u.committed, Parts: len(u.parts)})
	}
	return out
}

// SetSDConfiguration sets the serviceconfiguration.json the server reads
// from an uploaded service definition named fileName (e.g. "Roads.sd"):
// {"folderName": ..., "service": {"serviceName": ..., "type": ..., ...}}.
// Without it the server makes a plausible one: a MapServer named after the
// file, for the root folder. nil removes it.
func (s *Server) SetSDConfiguration(fileName string, config map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up.configs == nil {
		s.up.configs = map[string]map[string]any{}
	}
	if config == nil {
		delete(s.up.configs, fileName)
		return
	}
	s.up.configs[fileName] = deepCopyJSON(config, true)
}

// FailPublish makes every Publish Service Definition job fail with line as
// its error message (e.g. "ERROR 001487: Failed to update the published
// service with the server-side data location."), followed by the generic
// failure lines a real job adds. "" turns it off.
func (s *Server) FailPublish(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up.publishError = line
}

// AddPublishingToolsEx adds the System/PublishingToolsEx GP service with
// its Publish Service Definition task, as some sites have it.
func (s *Server) AddPublishingToolsEx() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addServiceLocked("System", "PublishingToolsEx", "GPServer", map[string]any{
		"serviceName": "PublishingToolsEx", "type": "GPServer", "description": "", "capabilities": "",
		"properties": map[string]any{"executionType": "Asynchronous"},
	})
	s.tasks[publishTaskEx] = s.publishTaskDef(publishTaskEx, "PublishingToolsEx")
}

// parseMultipart reads a multipart/form-data body as it streams in: field
// values into r.Form and r.PostForm, files only counted into
// r.MultipartForm.File (name and size; their content is discarded).
func parseMultipart(r *http.Request) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return err
	}
	form := &multipart.Form{Value: map[string][]string{}, File: map[string][]*multipart.FileHeader{}}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := p.FormName()
		if p.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil {
				return err
			}
			if len(b) > maxFieldBytes {
				return errors.New("multipart field too large")
			}
			form.Value[name] = append(form.Value[name], string(b))
			continue
		}
		n, err := io.Copy(io.Discard, p)
		if err != nil {
			return err
		}
		form.File[name] = append(form.File[name], &multipart.FileHeader{
			Filename: p.FileName(), Size: n, Header: textproto.MIMEHeader(p.Header)})
	}
	r.MultipartForm = form
	r.PostForm = url.Values(form.Value)
	r.Form = r.URL.Query()
	for k, vs := range form.Value {
		r.Form[k] = append(r.Form[k], vs...)
	}
	return nil
}

// isMultipart reports whether r has a multipart/form-data body.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// handleAdminPublishing serves admin/uploads/... and
// admin/services/exists; it reports false for any other path.
func (s *Server) handleAdminPublishing(w http.ResponseWriter, r *http.Request, segs []string) bool {
	switch {
	case len(segs) == 2 && segs[0] == "services" && segs[1] == "exists":
		s.adminServiceExists(w, r)
	case len(segs) >= 1 && segs[0] == "uploads":
		s.handleUploads(w, r, segs[1:])
	default:
		return false
	}
	return true
}

// adminServiceExists: POST admin/services/exists with folderName,
// serviceName and type answers {"exists": bool} (REST-REFERENCE §8, from
// the Python API's ServiceManager.exists); with only folderName it tells
// whether the folder exists.
func (s *Server) adminServiceExists(w http.ResponseWriter, r *http.Request) {
	fold := strings.Trim(strings.TrimSpace(param(r, "folderName")), "/")
	name, typ := strings.TrimSpace(param(r, "serviceName")), strings.TrimSpace(param(r, "type"))
	s.mu.Lock()
	var exists bool
	if name == "" {
		_, exists = s.folders[fold]
	} else {
		_, exists = s.services[svcKey{fold, name, typ}]
	}
	s.mu.Unlock()
	writeJSON(w, r, obj{"exists": exists})
}

// handleUploads serves admin/uploads
// (https://developers.arcgis.com/rest/enterprise-administration/server/uploads.htm).
func (s *Server) handleUploads(w http.ResponseWriter, r *http.Request, segs []string) {
	switch {
	case len(segs) == 0:
		s.mu.Lock()
		items := []any{}
		for _, id := range sortedKeys(s.up.items) {
			items = append(items, s.up.items[id].wire())
		}
		s.mu.Unlock()
		writeJSON(w, r, obj{"items": items})
		return
	case len(segs) == 1 && (segs[0] == "upload" || segs[0] == "register"):
		if !requirePOST(w, r, segs[0]) {
			return
		}
		if segs[0] == "upload" {
			s.uploadItem(w, r)
		} else {
			s.registerItem(w, r)
		}
		return
	}
	s.mu.Lock()
	u := s.up.items[segs[0]]
	s.mu.Unlock()
	if u == nil {
		adminError(w, r, 404, msgNotFound("uploads/"+strings.Join(segs, "/")))
		return
	}
	switch {
	case len(segs) == 1:
		s.mu.Lock()
		item := u.wire()
		s.mu.Unlock()
		writeJSON(w, r, item)
	case len(segs) == 2 && segs[1] == "serviceconfiguration.json":
		writeJSON(w, r, s.sdConfiguration(u))
	case len(segs) == 2 && segs[1] == "uploadPart":
		if requirePOST(w, r, "uploadPart") {
			s.uploadPart(w, r, u)
		}
	case len(segs) == 2 && segs[1] == "commit":
		if requirePOST(w, r, "commit") {
			s.commitItem(w, r, u)
		}
	case len(segs) == 2 && segs[1] == "delete":
		if requirePOST(w, r, "delete") {
			s.mu.Lock()
			delete(s.up.items, u.id)
			s.mu.Unlock()
			adminSuccess(w, r)
		}
	default:
		adminError(w, r, 404, msgNotFound("uploads/"+strings.Join(segs, "/")))
	}
}

// wire is the item as ArcGIS Server shows it
// (testdata/fixtures/admin-uploads-item-doc-10.1.json: a Java date string,
// a Windows pathOnServer). Callers hold s.mu.
func (u *upload) wire() obj {
	var desc any
	if u.description != "" {
		desc = u.description
	}
	return obj{
		"itemID":       u.id,
		"itemName":     u.name,
		"description":  desc,
		"pathOnServer": `c:\arcgisserver\directories\arcgissystem\arcgisuploads\` + u.id,
		"date":         u.date.UTC().Format("Mon Jan 02 15:04:05 MST 2006"),
		"committed":    u.committed,
	}
}

// newUploadLocked stores a new item. Callers hold s.mu.
func (s *Server) newUploadLocked(name, description string, committed bool) *upload {
	if s.up.items == nil {
		s.up.items = map[string]*upload{}
	}
	var id string
	for {
		id = "i" + s.uuidLocked()
		if _, dup := s.up.items[id]; !dup {
			break
		}
	}
	u := &upload{id: id, name: name, description: description, date: s.now(), committed: committed}
	s.up.items[id] = u
	return u
}

// fileOf returns the one file a multipart request carries in field.
func fileOf(r *http.Request, field string) (*multipart.FileHeader, bool) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[field]) != 1 {
		return nil, false
	}
	return r.MultipartForm.File[field][0], true
}

// uploadItem: POST admin/uploads/upload, multipart itemFile, description;
// answers {"status":"success","item":{...}} as Esri's clients read it
// (REST-REFERENCE §8; the doc's bare-ID answer is the other accepted
// shape).
func (s *Server) uploadItem(w http.ResponseWriter, r *http.Request) {
	fh, ok := fileOf(r, "itemFile")
	if !ok || fh.Filename == "" {
		// This emulator's own wording: no capture of the refusal was found.
		adminError(w, r, 400, "The itemFile parameter is required and must be a file.")
		return
	}
	s.mu.Lock()
	u := s.newUploadLocked(path.Base(fh.Filename), param(r, "description"), true)
	u.size = fh.Size
	item := u.wire()
	s.mu.Unlock()
	writeJSON(w, r, obj{"status": "success", "item": item})
}

// registerItem: POST admin/uploads/register with itemName (the file name
// with its extension) and description; answers like upload, uncommitted.
func (s *Server) registerItem(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(param(r, "itemName"))
	if name == "" {
		adminError(w, r, 400, "The itemName parameter is required.") // this emulator's wording
		return
	}
	s.mu.Lock()
	item := s.newUploadLocked(name, param(r, "description"), false).wire()
	s.mu.Unlock()
	writeJSON(w, r, obj{"status": "success", "item": item})
}

// uploadPart: POST admin/uploads/<id>/uploadPart, multipart partFile and
// partNumber. The answer is undocumented (REST-REFERENCE §8 [I]); this
// emulator answers the standard {"status":"success"}. Sending a part
// number again replaces the part.
func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, u *upload) {
	fh, ok := fileOf(r, "partFile")
	n, err := strconv.Atoi(strings.TrimSpace(param(r, "partNumber")))
	if !ok || err != nil || n < 1 {
		adminError(w, r, 400, "The partFile and partNumber parameters are required.") // this emulator's wording
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.committed {
		adminError(w, r, 400, fmt.Sprintf("Item '%s' is already committed.", u.id)) // this emulator's wording
		return
	}
	if u.parts == nil {
		u.parts = map[int]int64{}
	}
	u.parts[n] = fh.Size
	adminSuccess(w, r)
}

// commitItem: POST admin/uploads/<id>/commit with an optional parts list
// (part numbers, comma-separated: the 10.1 doc's example; the quoted
// part names of the newer example are accepted too, by their trailing
// number). Without parts every part is used, in number order.
func (s *Server) commitItem(w http.ResponseWriter, r *http.Request, u *upload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var nums []int
	if raw := strings.TrimSpace(param(r, "parts")); raw != "" {
		for _, p := range strings.Split(raw, ",") {
			p = strings.Trim(strings.TrimSpace(p), `"`)
			if i := strings.LastIndex(p, "."); i >= 0 {
				p = p[i+1:]
			}
			n, err := strconv.Atoi(p)
			if _, ok := u.parts[n]; err != nil || !ok {
				adminError(w, r, 400, fmt.Sprintf("Part '%s' of item '%s' was not uploaded.", p, u.id)) // this emulator's wording
				return
			}
			nums = append(nums, n)
		}
	} else {
		for n := range u.parts {
			nums = append(nums, n)
		}
		sort.Ints(nums)
	}
	var size int64
	for _, n := range nums {
		size += u.parts[n]
	}
	u.size, u.committed = size, true
	adminSuccess(w, r)
}

// sdConfiguration is the item's serviceconfiguration.json: the one set
// with SetSDConfiguration for its file name, else a plausible one (this
// emulator does not open the archive).
func (s *Server) sdConfiguration(u *upload) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.up.configs[u.name]; ok {
		return deepCopyJSON(c, true)
	}
	name := strings.TrimSuffix(u.name, path.Ext(u.name))
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	return obj{
		"type":       "MapServer",
		"folderName": "",
		"service": obj{
			"serviceName":  clean,
			"type":         "MapServer",
			"description":  "",
			"capabilities": "Map,Query,Data",
			"provider":     "ArcObjects11",
			"properties":   obj{"maxRecordCount": "2000", "filePath": "${ARCGIS_SERVER_DIR}/" + clean + ".mapx"},
			"extensions":   []any{},
		},
	}
}

// publishTaskDef is the Publish Service Definition task. Its parameters
// and their display names are those of a live task page
// (https://historical1-stg.arcgis.com/arcgis/rest/services/System/PublishingTools/GPServer/Publish%20Service%20Definition,
// REST-REFERENCE §8): in_sdp_id (required), in_config_overwrite,
// in_publish_options; outputs out_soap_svc_url, out_rest_svc_url,
// out_results.
func (s *Server) publishTaskDef(taskPath, svc string) *taskDef {
	in := func(name, display string, required bool) gpParam {
		pt := "esriGPParameterTypeOptional"
		if required {
			pt = "esriGPParameterTypeRequired"
		}
		return gpParam{name: name, dataType: "GPString", displayName: display, direction: "esriGPParameterDirectionInput", parameterType: pt, defaultValue: ""}
	}
	out := func(name, display string) gpParam {
		return gpParam{name: name, dataType: "GPString", displayName: display, direction: "esriGPParameterDirectionOutput", parameterType: "esriGPParameterTypeDerived", defaultValue: ""}
	}
	return &taskDef{
		path:    taskPath,
		name:    "PublishServiceDefinition",
		display: "Publish Service Definition",
		helpURL: "/rest/directories/arcgisoutput/System/" + svc + "_GPServer/System_" + svc + "/PublishServiceDefinition.htm",
		params: []gpParam{
			in("in_sdp_id", "Service Definition Package ID", true),
			in("in_config_overwrite", "Configuration Overwrite", false),
			in("in_publish_options", "Publish Options", false),
			out("out_soap_svc_url", "SOAP Service URL"),
			out("out_rest_svc_url", "REST Service URL"),
			out("out_results", "Publish Results"),
		},
		run: s.runPublishSD,
	}
}

// registerPublishing adds the Publish Service Definition task to the
// System/PublishingTools service.
func (s *Server) registerPublishing() {
	s.tasks[PublishServiceDefinitionTask] = s.publishTaskDef(PublishServiceDefinitionTask, "PublishingTools")
}

// errFailedToCreate is the line a real publishing job ends with when the
// service could not be created (captured in
// https://github.com/Esri/ops-server-config/issues/460).
const errFailedToCreate = "ERROR 001369: Failed to create the service."

// runPublishSD publishes an uploaded service definition: the service in
// in_config_overwrite (else the item's own configuration) is created in
// the catalog, started, and the item is deleted, as a real server deletes
// the .sd on success (REST-REFERENCE §8). The wording of a missing item,
// a missing folder and an existing service is this emulator's own (no
// capture was found); each is followed by ERROR 001369.
func (s *Server) runPublishSD(p url.Values) (map[string]any, error) {
	id := strings.TrimSpace(p.Get("in_sdp_id"))
	if id == "" {
		return nil, &gpError{[]string{valueRequired("Service Definition Package ID")}}
	}
	s.mu.Lock()
	u := s.up.items[id]
	failLine := s.up.publishError
	s.mu.Unlock()
	if failLine != "" {
		return nil, &gpError{[]string{failLine}}
	}
	if u == nil || !u.committed {
		return nil, &gpError{[]string{fmt.Sprintf("Uploaded item '%s' does not exist or is not committed.", id), errFailedToCreate}}
	}
	var cfg map[string]any
	if raw := strings.TrimSpace(p.Get("in_config_overwrite")); raw != "" {
		c, err := decodeJSONObject(raw)
		if err != nil {
			return nil, &gpError{[]string{"ERROR 000800: Configuration Overwrite is not a JSON object.", errFailedToCreate}}
		}
		cfg = c
	} else {
		cfg = s.sdConfiguration(u)
	}
	svc, _ := cfg["service"].(map[string]any)
	fold, _ := cfg["folderName"].(string)
	fold = strings.Trim(fold, "/")
	name, typ := nameAndType(svc)
	if name == "" || typ == "" {
		return nil, &gpError{[]string{"The service configuration names no service or type.", errFailedToCreate}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.folders[fold]; !ok {
		return nil, &gpError{[]string{fmt.Sprintf("Folder '%s' does not exist.", fold), errFailedToCreate}}
	}
	if _, ok := s.services[svcKey{fold, name, typ}]; ok {
		return nil, &gpError{[]string{msgServiceExists(fold, name, typ), errFailedToCreate}}
	}
	def := deepCopyJSON(svc, true)
	delete(def, "configuredState")
	s.addServiceLocked(fold, name, typ, def)
	delete(s.up.items, id)
	rel := name + "/" + typ
	if fold != "" {
		rel = fold + "/" + rel
	}
	// out_results' content is undocumented; this emulator reports the
	// service it created.
	results, _ := json.Marshal(obj{"folderName": fold, "serviceName": name, "type": typ})
	return map[string]any{
		"out_rest_svc_url": s.baseURL + "/rest/services/" + rel,
		"out_soap_svc_url": s.baseURL + "/services/" + rel,
		"out_results":      string(results),
	}, nil
}

// sdSignature is how a service definition starts: it is a 7-Zip archive.
var sdSignature = []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}

// FakeSD returns a size-byte file that starts like a service definition
// (the 7-Zip signature) and goes on with a repeating pattern. It is not a
// real archive, which this emulator never opens, and it is generated as
// it is read: it costs no memory whatever its size, and, being an
// io.ReaderAt and io.Seeker, can be read again for a retry.
func FakeSD(size int64) *io.SectionReader {
	return io.NewSectionReader(fakeSD{}, 0, size)
}

type fakeSD struct{}

// fakeSDPattern repeats the alphabet; a slice of it at off%26 is the
// content at off.
var fakeSDPattern = []byte(strings.Repeat("abcdefghijklmnopqrstuvwxyz", 1+4096/26))

func (fakeSD) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at < int64(len(sdSignature)) {
			p[n] = sdSignature[at]
			n++
			continue
		}
		n += copy(p[n:], fakeSDPattern[at%26:])
	}
	return n, nil
}
