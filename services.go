package ags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// ServicesService administers the services of a site through the admin API
// and refreshes them. Reach it as Client.Services.
//
// Folder arguments name a folder under admin/services; "" and "/" both mean
// the root folder. Folder and service names are checked before any request
// (letters, digits and underscores, at most 120 characters), and so is
// the shape of a service type (one word of letters and digits, such as
// MapServer): a type this package does not list (VideoServer, say) is
// accepted, and known ones compare ignoring case (ServiceType.Known).
// Operations that change the server
// (Create, Edit, Start, Stop, Delete, CreateFolder, StartServices,
// StopServices) are never repeated blindly: Start, Stop, StartServices and
// StopServices change nothing when repeated and are retried like reads;
// Create, CreateFolder and Delete settle a lost answer by reading back
// (see each); Edit is sent once. The admin API's "another administrative
// operation is currently accessing the store" refusal is retried with
// backoff by the client, within the call's retry budget.
type ServicesService service

// ServiceStatus is the configured and the real-time state of a service,
// each "STARTED" or "STOPPED".
type ServiceStatus struct {
	// ConfiguredState is the state the service is configured to be in.
	ConfiguredState string `json:"configuredState"`
	// RealTimeState is the state it is in now; "for most purposes, the
	// real-time status should be used".
	RealTimeState string `json:"realTimeState"`
}

// Started reports whether the service is running now (RealTimeState
// STARTED, in any case).
func (s *ServiceStatus) Started() bool { return strings.EqualFold(s.RealTimeState, "STARTED") }

// serviceRefWire is a ServiceRef as startServices and stopServices take it:
// folderName "" for the root.
type serviceRefWire struct {
	FolderName  string      `json:"folderName"`
	ServiceName string      `json:"serviceName"`
	Type        ServiceType `json:"type"`
}

// FolderListing is a folder of admin/services: its services and, for the
// root folder, its subfolders.
type FolderListing struct {
	FolderName    string // "/" for the root folder, as the server lists it
	Description   string
	WebEncrypted  bool
	IsDefault     bool
	Folders       []string         // root only: the subfolders
	FoldersDetail []FolderInfo     // root only: the subfolders with their properties
	Services      []ServiceSummary // the services in this folder
}

// FolderInfo describes a subfolder of the root.
type FolderInfo struct {
	FolderName   string
	Description  string
	WebEncrypted bool
	IsDefault    bool
}

// ServiceSummary is one service of a folder listing.
type ServiceSummary struct {
	FolderName  string // "/" for the root folder, as the server lists it
	ServiceName string
	Type        ServiceType // from "type", or "serviceType" where the server uses that name
	Description string
	// Definition is the full service JSON when the listing carries it
	// (ArcGIS Enterprise on Kubernetes lists each service in full); nil
	// when the entry is only a summary.
	Definition *ServiceDefinition
}

// Ref returns the service's reference, with the root folder as "".
func (s ServiceSummary) Ref() ServiceRef {
	return ServiceRef{Folder: normFolder(s.FolderName), Name: s.ServiceName, Type: s.Type}
}

// summaryKeys are the fields of a plain listing entry.
var summaryKeys = map[string]bool{"folderName": true, "serviceName": true, "type": true, "serviceType": true, "description": true}

// UnmarshalJSON reads "type" or "serviceType", and keeps a full service
// definition when the entry has more than the summary fields.
func (s *ServiceSummary) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("service entry: %w", err)
	}
	str := func(k string) string {
		v, ok := jsonString(raw[k])
		if !ok && len(raw[k]) > 0 && !isNull(raw[k]) {
			return string(bytes.TrimSpace(raw[k]))
		}
		return v
	}
	out := ServiceSummary{FolderName: str("folderName"), ServiceName: str("serviceName"),
		Type: ServiceType(str("type")), Description: str("description")}
	if out.Type == "" {
		out.Type = ServiceType(str("serviceType"))
	}
	for k := range raw {
		if !summaryKeys[k] {
			var def ServiceDefinition
			if err := json.Unmarshal(b, &def); err != nil {
				return err
			}
			out.Definition = &def
			break
		}
	}
	*s = out
	return nil
}

// UnmarshalJSON reads a folder listing leniently.
func (l *FolderListing) UnmarshalJSON(b []byte) error {
	var w struct {
		FolderName    string           `json:"folderName"`
		Description   string           `json:"description"`
		WebEncrypted  lenientBool      `json:"webEncrypted"`
		IsDefault     lenientBool      `json:"isDefault"`
		Folders       lenientStrings   `json:"folders"`
		FoldersDetail []folderInfoWire `json:"foldersDetail"`
		Services      []ServiceSummary `json:"services"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("folder listing: %w", err)
	}
	out := FolderListing{FolderName: w.FolderName, Description: w.Description, WebEncrypted: bool(w.WebEncrypted),
		IsDefault: bool(w.IsDefault), Folders: w.Folders, Services: w.Services}
	for i := range out.Services {
		if out.Services[i].FolderName == "" {
			// Full entries (Kubernetes) may not repeat their folder.
			out.Services[i].FolderName = w.FolderName
		}
	}
	for _, f := range w.FoldersDetail {
		out.FoldersDetail = append(out.FoldersDetail, FolderInfo{FolderName: f.FolderName, Description: f.Description,
			WebEncrypted: bool(f.WebEncrypted), IsDefault: bool(f.IsDefault)})
	}
	*l = out
	return nil
}

type folderInfoWire struct {
	FolderName   string      `json:"folderName"`
	Description  string      `json:"description"`
	WebEncrypted lenientBool `json:"webEncrypted"`
	IsDefault    lenientBool `json:"isDefault"`
}

// Form parameters of the operations.
type (
	serviceParams struct {
		Service form.JSON[ServiceDefinition] `url:"service"`
	}
	canCreateParams struct {
		FolderName  string                        `url:"folderName,omitempty"`
		ServiceType string                        `url:"serviceType"`
		Service     *form.JSON[ServiceDefinition] `url:"service,omitempty"`
	}
	createFolderParams struct {
		FolderName  string `url:"folderName"`
		Description string `url:"description,omitempty"`
	}
	servicesParams struct {
		Services form.JSON[servicesList] `url:"services"`
	}
	// servicesList is the services parameter of startServices and
	// stopServices. Esri's page shows a garbled example ("{services=[{...");
	// the public clients found (Esri's Python admin module, a Java admin
	// client) send it wrapped, services={"services":[...]}, which is what
	// this sends.
	servicesList struct {
		Services []serviceRefWire `json:"services"`
	}
)

// CanCreateResult is canCreateService's answer.
type CanCreateResult struct {
	// OK is true when the server said the service can be created.
	OK bool
	// Reasons are the server's words when it refused with an error answer
	// (its messages and details); empty for a plain {"createService": false}.
	Reasons []string
	// Refusal is that error answer as an *Error (code, messages), nil when
	// the server answered OK or a plain {"createService": false}.
	Refusal *Error
}

// canCreateAnswer reads canCreateService's answer in either of its shapes:
// {"createService": true|false}, or the admin API's standard
// {"status": "success"}, which is what the only Esri client that reads the
// answer (the ArcGIS API for Python) tests (REST-REFERENCE §7.2). An answer
// with neither is a bad answer, never a guessed false.
type canCreateAnswer struct {
	CreateService *lenientBool `json:"createService"`
	Status        string       `json:"status"`
}

func (a *canCreateAnswer) checkAnswer() error {
	if a.CreateService == nil && !a.statusSuccess() {
		return badAnswer(`neither a "createService" field nor "status": "success" in the answer`)
	}
	return nil
}

func (a *canCreateAnswer) statusSuccess() bool {
	return strings.EqualFold(strings.TrimSpace(a.Status), "success")
}

// ok is the answer: the flag when the server sent one, else the status.
func (a *canCreateAnswer) ok() bool {
	if a.CreateService != nil {
		return bool(*a.CreateService)
	}
	return a.statusSuccess()
}

// isRefusal reports whether err, an answer of canCreateService, is the
// server saying no rather than a request that failed: an error answer
// other than an authentication or permission failure (401, 403, 498, 499),
// a missing operation (404: a release before 10.5) or a busy store.
func isRefusal(err error) (*Error, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return nil, false
	}
	for _, s := range []*Error{ErrUnauthorized, ErrForbidden, ErrInvalidToken, ErrTokenRequired, ErrNotFound, ErrServerBusy} {
		if errors.Is(e, s) {
			return nil, false
		}
	}
	return e, true
}

// Create creates a service in folder ("" or "/" for the root) from its
// definition, with one POST of admin/services/[<folder>/]createService.
// The definition is checked first (Validate). A duplicate answers an error
// that matches ErrServiceExists; every other refusal is an *Error with the
// server's messages. The request is never repeated blindly: when its
// answer is lost (a gateway's 502, a dropped connection), the service is
// read back; there with the name and type sent, the call succeeded; absent,
// it is sent once more; if the read fails too, the error matches
// ErrOutcomeUnknown and names the service.
// https://developers.arcgis.com/rest/enterprise-administration/server/createservice.htm
func (s *ServicesService) Create(ctx context.Context, folder string, def ServiceDefinition) error {
	if err := validFolder("folder", folder); err != nil {
		return err
	}
	if err := def.Validate(); err != nil {
		return err
	}
	u := s.client.endpoint(rootAdmin, "services", normFolder(folder), "createService")
	return s.createSettled(ctx, folder, def, func(ctx context.Context) error {
		return s.client.do(ctx, call{op: opCreateService, method: http.MethodPost, url: u,
			params: serviceParams{Service: form.JSON[ServiceDefinition]{V: def}}}, nil)
	})
}

// CanCreate asks the server (10.5+) whether the service def describes can
// be created in folder ("" or "/" for the root): POST
// admin/services/canCreateService with folderName, serviceType and, when
// def names the service, service (the whole definition). With an empty
// def.ServiceName only the type is asked about.
//
// The server answers {"createService": true|false} or {"status":
// "success"}; both are read. An error answer is the server saying no: the
// result has OK false and the server's words in Reasons and Refusal, and
// the error is nil. An error is returned only when the question got no
// answer: bad input (*ValidationError), a failed request, an
// authentication or permission failure, a server without the operation
// (ErrNotFound), or an answer of neither shape (*ResponseError). Asking
// changes nothing, so the call is retried like a read.
// https://developers.arcgis.com/rest/enterprise-administration/server/cancreateservice.htm
func (s *ServicesService) CanCreate(ctx context.Context, folder string, def ServiceDefinition) (*CanCreateResult, error) {
	if err := validFolder("folder", folder); err != nil {
		return nil, err
	}
	p := canCreateParams{FolderName: normFolder(folder), ServiceType: string(def.Type)}
	if def.ServiceName == "" {
		if err := validType("Type", def.Type); err != nil {
			return nil, err
		}
	} else {
		if err := def.Validate(); err != nil {
			return nil, err
		}
		p.Service = form.NewJSON(def)
	}
	var ans canCreateAnswer
	u := s.client.endpoint(rootAdmin, "services", "canCreateService")
	err := s.client.do(ctx, call{op: opCanCreateService, method: http.MethodPost, url: u, params: p,
		idempotent: true}, &ans)
	if err != nil {
		refusal, ok := isRefusal(err)
		if !ok {
			return nil, err
		}
		reasons := append([]string(nil), refusal.Details...)
		if m := strings.TrimSpace(refusal.Message); m != "" && !slices.Contains(reasons, m) {
			reasons = append([]string{m}, reasons...)
		}
		return &CanCreateResult{Reasons: reasons, Refusal: refusal}, nil
	}
	return &CanCreateResult{OK: ans.ok()}, nil
}

// List returns a folder's services (and, for the root folder, its
// subfolders): admin/services for "" or "/", admin/services/<folder>
// otherwise. Root-level entries carry FolderName "/"; ServiceSummary.Ref
// turns that into the "" other calls take.
// https://developers.arcgis.com/rest/enterprise-administration/server/services.htm
func (s *ServicesService) List(ctx context.Context, folder string) (*FolderListing, error) {
	if err := validFolder("folder", folder); err != nil {
		return nil, err
	}
	var out FolderListing
	u := s.client.endpoint(rootAdmin, "services", normFolder(folder))
	if err := s.client.do(ctx, call{op: opServices, scope: normFolder(folder), method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns a service's definition: GET
// admin/services/[<folder>/]<name>.<type>. Change what you need and pass it
// to Edit; the fields this package does not name travel along in Extra.
// https://developers.arcgis.com/rest/enterprise-administration/server/service.htm
func (s *ServicesService) Get(ctx context.Context, ref ServiceRef) (*ServiceDefinition, error) {
	u, err := s.serviceURL(ref, "")
	if err != nil {
		return nil, err
	}
	var out ServiceDefinition
	if err := s.client.do(ctx, call{op: opService, scope: ref.String(), method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Status returns a service's configured and real-time state: GET
// admin/services/[<folder>/]<name>.<type>/status.
// https://developers.arcgis.com/rest/enterprise-administration/enterprise/service-status.htm
func (s *ServicesService) Status(ctx context.Context, ref ServiceRef) (*ServiceStatus, error) {
	u, err := s.serviceURL(ref, "status")
	if err != nil {
		return nil, err
	}
	var out ServiceStatus
	if err := s.client.do(ctx, call{op: opStatus, scope: ref.String(), method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Start starts a service: POST admin/services/[<folder>/]<name>.<type>/start.
// Starting a started service leaves it started, so the call is retried
// like a read.
// https://developers.arcgis.com/rest/enterprise-administration/enterprise/start-service
func (s *ServicesService) Start(ctx context.Context, ref ServiceRef) error {
	return s.serviceOp(ctx, ref, opStart, true)
}

// Stop stops a service: POST admin/services/[<folder>/]<name>.<type>/stop.
// Stopping a stopped service leaves it stopped, so the call is retried
// like a read.
// https://developers.arcgis.com/rest/enterprise-administration/server/stopservice
func (s *ServicesService) Stop(ctx context.Context, ref ServiceRef) error {
	return s.serviceOp(ctx, ref, opStop, true)
}

// Delete deletes a service: POST
// admin/services/[<folder>/]<name>.<type>/delete. When the answer is lost,
// the service is read back: gone, the call succeeded; still there, it is
// sent once more; if the read fails too, the error matches
// ErrOutcomeUnknown and names the service.
// https://developers.arcgis.com/rest/enterprise-administration/server/service.htm
func (s *ServicesService) Delete(ctx context.Context, ref ServiceRef) error {
	clean, err := ref.clean("")
	if err != nil {
		return err
	}
	return s.deleteSettled(ctx, clean, func(ctx context.Context) error {
		return s.serviceOp(ctx, clean, opDelete, false)
	})
}

// Edit replaces the definition of the service def names (def.ServiceName,
// def.Type) in folder: POST admin/services/[<folder>/]<name>.<type>/edit
// with the complete definition, as Get returned it plus your changes.
// Editing a service restarts it.
// https://developers.arcgis.com/rest/enterprise-administration/server/editservice.htm
func (s *ServicesService) Edit(ctx context.Context, folder string, def ServiceDefinition) error {
	if err := validFolder("folder", folder); err != nil {
		return err
	}
	if err := def.Validate(); err != nil {
		return err
	}
	ref := ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type}
	u, err := s.serviceURL(ref, string(opEdit))
	if err != nil {
		return err
	}
	return s.client.do(ctx, call{op: opEdit, scope: ref.String(), method: http.MethodPost, url: u,
		params: serviceParams{Service: form.JSON[ServiceDefinition]{V: def}}}, nil)
}

// CreateFolder creates a folder under the root (the only level ArcGIS
// Server has): POST admin/services/createFolder with folderName and an
// optional description. When the answer is lost, the root folder is
// listed: the folder there, the call succeeded; absent, it is sent once
// more; if the listing fails too, the error matches ErrOutcomeUnknown.
// https://developers.arcgis.com/rest/enterprise-administration/server/createfolder.htm
func (s *ServicesService) CreateFolder(ctx context.Context, name, description string) error {
	if err := validFolderName("folderName", name); err != nil {
		return err
	}
	u := s.client.endpoint(rootAdmin, "services", "createFolder")
	return s.createFolderSettled(ctx, name, func(ctx context.Context) error {
		return s.client.do(ctx, call{op: opCreateFolder, method: http.MethodPost, url: u,
			params: createFolderParams{FolderName: name, Description: description}}, nil)
	})
}

// StartServices starts several services with one POST of
// admin/services/startServices (10.3+). Root-folder services are sent with
// folderName "", as the operation wants.
// https://developers.arcgis.com/rest/enterprise-administration/server/start-services
func (s *ServicesService) StartServices(ctx context.Context, refs []ServiceRef) error {
	return s.batch(ctx, opStartServices, refs)
}

// StopServices stops several services with one POST of
// admin/services/stopServices (10.3+), like StartServices.
// https://developers.arcgis.com/rest/enterprise-administration/server/stop-services
func (s *ServicesService) StopServices(ctx context.Context, refs []ServiceRef) error {
	return s.batch(ctx, opStopServices, refs)
}

func (s *ServicesService) batch(ctx context.Context, op operation, refs []ServiceRef) error {
	if len(refs) == 0 {
		return invalid("services", "at least one service is needed")
	}
	list := servicesList{Services: make([]serviceRefWire, 0, len(refs))}
	for i, r := range refs {
		r, err := r.clean(fmt.Sprintf("services[%d].", i))
		if err != nil {
			return err
		}
		list.Services = append(list.Services, serviceRefWire{FolderName: r.Folder, ServiceName: r.Name, Type: r.Type})
	}
	u := s.client.endpoint(rootAdmin, "services", string(op))
	// Starting started services (stopping stopped ones) changes nothing:
	// retried like a read.
	return s.client.do(ctx, call{op: op, method: http.MethodPost, url: u, idempotent: true,
		params: servicesParams{Services: form.JSON[servicesList]{V: list}}}, nil)
}

// serviceOp POSTs one operation of a service (start, stop, delete).
func (s *ServicesService) serviceOp(ctx context.Context, ref ServiceRef, op operation, idempotent bool) error {
	u, err := s.serviceURL(ref, string(op))
	if err != nil {
		return err
	}
	return s.client.do(ctx, call{op: op, scope: ref.String(), method: http.MethodPost, url: u, idempotent: idempotent}, nil)
}

// serviceURL checks a service reference and returns
// admin/services/[<folder>/]<name>.<type>[/<op>].
func (s *ServicesService) serviceURL(ref ServiceRef, op string) (*url.URL, error) {
	ref, err := ref.clean("")
	if err != nil {
		return nil, err
	}
	return s.client.endpoint(rootAdmin, "services", ref.Folder, ref.Name+"."+string(ref.Type), op), nil
}

// Exists reports whether a service exists: POST admin/services/exists with
// folderName, serviceName and type, answered {"exists": true|false}
// (the call Esri's Python API makes, REST-REFERENCE §8). Asking changes
// nothing, so the call is retried like a read.
// https://developers.arcgis.com/rest/enterprise-administration/server/services.htm
func (s *ServicesService) Exists(ctx context.Context, ref ServiceRef) (bool, error) {
	ref, err := ref.clean("")
	if err != nil {
		return false, err
	}
	var out existsAnswer
	u := s.client.endpoint(rootAdmin, "services", "exists")
	if err := s.client.do(ctx, call{op: opExists, scope: ref.String(), method: http.MethodPost, url: u, idempotent: true,
		params: existsParams{FolderName: ref.Folder, ServiceName: ref.Name, Type: string(ref.Type)}}, &out); err != nil {
		return false, err
	}
	return bool(*out.Exists), nil
}

// existsAnswer is the exists operation's answer, which must say yes or no.
type existsAnswer struct {
	Exists *lenientBool `json:"exists"`
}

func (a *existsAnswer) checkAnswer() error {
	if a.Exists == nil {
		return badAnswer(`no "exists" in the answer`)
	}
	return nil
}

type existsParams struct {
	FolderName  string `url:"folderName"`
	ServiceName string `url:"serviceName"`
	Type        string `url:"type"`
}
