package ags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// ServicesService administers the services of a site through the admin API
// and refreshes them. Reach it as Client.Services.
//
// Folder arguments name a folder under admin/services; "" and "/" both mean
// the root folder. Folder and service names are checked before any request
// (letters, digits and underscores, at most 120 characters), and so are
// service types (ServiceType.Known). Operations that change the server
// (Create, Edit, Start, Stop, Delete, CreateFolder, StartServices,
// StopServices) are sent once and never repeated after the server may have
// acted; the admin API's "another administrative operation is currently
// accessing the store" refusal is retried with backoff by the client.
type ServicesService service

// ServiceDefinition is the JSON document that describes a service to the
// admin API: what createService takes, what GET admin/services/<name>.<type>
// returns and what edit takes back.
//
// Zero values: a number, string or false that the definition did not get
// from the server is left out of the JSON, so the server applies its
// default (minInstancesPerNode 1, maxInstancesPerNode 2, maxWaitTime 60,
// ...). A field read from the server is always sent back, zero or not, so
// Get, change a field, Edit keeps every value, 0 and false included. To
// send an explicit zero in a definition built in code (minInstancesPerNode
// 0, say), put it in Extra: Extra["minInstancesPerNode"] =
// json.RawMessage("0").
//
// Fields the server sends that this struct does not name (serverId, id,
// replicas, ...) are kept in Extra and sent back unchanged. A named field
// whose value cannot be read (a JSON null, or text where a number belongs)
// is kept in Extra as it came, too, so nothing is lost.
//
// Numbers may arrive as JSON numbers or numeric strings; booleans as true
// or "true". The JSON written is deterministic (keys sorted).
//
// A copy of a ServiceDefinition shares its maps (Properties, Extra) with
// the original.
//
// https://developers.arcgis.com/rest/enterprise-administration/server/createservice.htm
type ServiceDefinition struct {
	// Service description properties.

	ServiceName  string      `json:"serviceName"` // required
	Type         ServiceType `json:"type"`        // required, e.g. MapServer
	Description  string      `json:"description,omitempty"`
	Capabilities string      `json:"capabilities,omitempty"` // comma list, e.g. "Map,Query,Data"
	Provider     string      `json:"provider,omitempty"`     // e.g. "ArcObjects11", "DMaps", "CUSTOMDATA"

	// Service framework properties. Times are in seconds unless noted.

	ClusterName            string `json:"clusterName,omitempty"`         // default "default"
	MinInstancesPerNode    int    `json:"minInstancesPerNode,omitempty"` // default 1
	MaxInstancesPerNode    int    `json:"maxInstancesPerNode,omitempty"` // default 2
	InstancesPerContainer  int    `json:"instancesPerContainer,omitempty"`
	MaxWaitTime            int    `json:"maxWaitTime,omitempty"`       // default 60
	MaxStartupTime         int    `json:"maxStartupTime,omitempty"`    // default 300
	MaxIdleTime            int    `json:"maxIdleTime,omitempty"`       // e.g. 1800
	MaxUsageTime           int    `json:"maxUsageTime,omitempty"`      // e.g. 600
	RecycleInterval        int    `json:"recycleInterval,omitempty"`   // hours, default 24
	RecycleStartTime       string `json:"recycleStartTime,omitempty"`  // "HH:MM", e.g. "00:00"
	KeepAliveInterval      int    `json:"keepAliveInterval,omitempty"` // seconds, e.g. 1800 or -1
	LoadBalancing          string `json:"loadBalancing,omitempty"`     // default "ROUND_ROBIN"
	IsolationLevel         string `json:"isolationLevel,omitempty"`    // default "HIGH"
	ConfiguredState        string `json:"configuredState,omitempty"`   // "STARTED" or "STOPPED"
	Private                bool   `json:"private,omitempty"`
	IsDefault              bool   `json:"isDefault,omitempty"`
	MaxUploadFileSize      int    `json:"maxUploadFileSize,omitempty"`
	AllowedUploadFileTypes string `json:"allowedUploadFileTypes,omitempty"` // comma list

	// Properties are the service type's own properties. Their values are
	// strings on the wire ("maxRecordCount": "1000"); see ServiceProperties.
	Properties ServiceProperties `json:"properties,omitempty"`
	// Extensions are the server object extensions of the service.
	Extensions []Extension `json:"extensions,omitempty"`
	// FrameworkProperties (10.7+, e.g. heap size) arrive as an object or
	// an array; they are kept as sent.
	FrameworkProperties json.RawMessage `json:"frameworkProperties,omitempty"`
	// PortalProperties, e.g. {"isHosted": false, "portalItems": [...]}.
	PortalProperties json.RawMessage `json:"portalProperties,omitempty"`
	// JSONProperties is the service's jsonProperties object.
	JSONProperties json.RawMessage `json:"jsonProperties,omitempty"`
	// Datasets is the service's datasets array.
	Datasets json.RawMessage `json:"datasets,omitempty"`

	// Extra holds the fields this struct does not name, as JSON. They are
	// sent back unchanged; a named field set to a non-zero value takes
	// precedence over an Extra entry of the same name.
	Extra map[string]json.RawMessage `json:"-"`

	seen map[string]bool // named fields read from the server
}

// Validate checks the definition as createService and edit need it: a
// valid service name, a known type, no negative counts or times
// (keepAliveInterval may be -1), minimum instances not above the maximum,
// and extensions with a type name.
func (d ServiceDefinition) Validate() error {
	if err := validName("ServiceName", d.ServiceName); err != nil {
		return err
	}
	if err := validType("Type", d.Type); err != nil {
		return err
	}
	for _, n := range []struct {
		field string
		v     int
	}{
		{"MinInstancesPerNode", d.MinInstancesPerNode},
		{"MaxInstancesPerNode", d.MaxInstancesPerNode},
		{"InstancesPerContainer", d.InstancesPerContainer},
		{"MaxWaitTime", d.MaxWaitTime},
		{"MaxStartupTime", d.MaxStartupTime},
		{"MaxIdleTime", d.MaxIdleTime},
		{"MaxUsageTime", d.MaxUsageTime},
		{"RecycleInterval", d.RecycleInterval},
		{"MaxUploadFileSize", d.MaxUploadFileSize},
	} {
		if n.v < 0 {
			return invalid(n.field, "must not be negative, got %d", n.v)
		}
	}
	if d.KeepAliveInterval < -1 {
		return invalid("KeepAliveInterval", "must be -1 (off) or more, got %d", d.KeepAliveInterval)
	}
	if d.MaxInstancesPerNode > 0 && d.MinInstancesPerNode > d.MaxInstancesPerNode {
		return invalid("MinInstancesPerNode", "(%d) must not exceed MaxInstancesPerNode (%d)",
			d.MinInstancesPerNode, d.MaxInstancesPerNode)
	}
	for i, e := range d.Extensions {
		if strings.TrimSpace(e.TypeName) == "" {
			return invalid(fmt.Sprintf("Extensions[%d].TypeName", i), "must not be empty")
		}
		if e.MaxUploadFileSize < 0 {
			return invalid(fmt.Sprintf("Extensions[%d].MaxUploadFileSize", i), "must not be negative, got %d", e.MaxUploadFileSize)
		}
	}
	return nil
}

// MarshalJSON writes the definition with sorted keys: Extra first, then
// the named fields over it (see the type's doc for which zero values are
// sent).
func (d ServiceDefinition) MarshalJSON() ([]byte, error) {
	return marshalObject(serviceDefinitionFields, reflect.ValueOf(d), d.seen, d.Extra)
}

// UnmarshalJSON reads a service definition leniently (numbers as strings,
// "true" for true) and keeps every field it does not name in Extra.
func (d *ServiceDefinition) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil // encoding/json's convention: null leaves the value as it is
	}
	var v ServiceDefinition
	seen, extra, err := unmarshalObject(serviceDefinitionFields, b, reflect.ValueOf(&v).Elem())
	if err != nil {
		return fmt.Errorf("service definition: %w", err)
	}
	v.seen, v.Extra = seen, extra
	*d = v
	return nil
}

// Extension is a server object extension of a service, e.g.
// {TypeName: "WFSServer", Enabled: true}. Like ServiceDefinition, it keeps
// the fields it does not name in Extra and sends back what it read.
type Extension struct {
	TypeName               string            `json:"typeName"` // required, e.g. "KmlServer", "FeatureServer"
	Enabled                bool              `json:"enabled"`  // sent as true/false; read from true or "true"
	Capabilities           string            `json:"capabilities,omitempty"`
	Properties             ServiceProperties `json:"properties,omitempty"`
	MaxUploadFileSize      int               `json:"maxUploadFileSize,omitempty"`
	AllowedUploadFileTypes string            `json:"allowedUploadFileTypes,omitempty"`

	// Extra holds the fields this struct does not name, sent back unchanged.
	Extra map[string]json.RawMessage `json:"-"`

	seen map[string]bool
}

// MarshalJSON writes the extension with sorted keys.
func (e Extension) MarshalJSON() ([]byte, error) {
	return marshalObject(extensionFields, reflect.ValueOf(e), e.seen, e.Extra)
}

// UnmarshalJSON reads an extension leniently ("enabled": "true" included).
func (e *Extension) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil // encoding/json's convention: null leaves the value as it is
	}
	var v Extension
	seen, extra, err := unmarshalObject(extensionFields, b, reflect.ValueOf(&v).Elem())
	if err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	v.seen, v.Extra = seen, extra
	*e = v
	return nil
}

// ServiceProperties are the properties of a service or an extension. The
// admin API sends and expects string values ("maxRecordCount": "1000",
// "isCached": "false"); on the way out, numbers and booleans are written as
// strings the same way, nested objects and arrays (json.RawMessage, maps,
// slices, structs) as JSON, nil as null. On the way in, strings stay
// strings, numbers and booleans become their text ("1000", "true"), null
// becomes nil and objects and arrays become json.RawMessage, so a value read
// is a string, nil or json.RawMessage.
type ServiceProperties map[string]any

// MarshalJSON writes the properties with sorted keys and string values.
func (p ServiceProperties) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	out := make(map[string]json.RawMessage, len(p))
	for k, v := range p {
		b, err := propertyValue(v)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		out[k] = b
	}
	return json.Marshal(out) // map keys are sorted
}

// UnmarshalJSON accepts string, number, boolean, null, object and array
// values (see ServiceProperties).
func (p *ServiceProperties) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*p = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("properties: %w", err)
	}
	out := make(ServiceProperties, len(raw))
	for k, r := range raw {
		r = bytes.TrimSpace(r)
		switch {
		case isNull(r):
			out[k] = nil
		case r[0] == '"':
			s, _ := jsonString(r)
			out[k] = s
		case r[0] == '{' || r[0] == '[':
			out[k] = append(json.RawMessage(nil), r...)
		default: // a number or a boolean: its text, as the server writes it
			out[k] = string(r)
		}
	}
	*p = out
	return nil
}

// propertyValue renders one property value the way the admin API writes
// them: scalars as JSON strings.
func propertyValue(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case nil:
		return json.RawMessage("null"), nil
	case string:
		return json.Marshal(x)
	case json.Number:
		return json.Marshal(string(x))
	case json.RawMessage:
		t := bytes.TrimSpace(x)
		if len(t) == 0 {
			return json.RawMessage("null"), nil
		}
		if !json.Valid(t) {
			return nil, errors.New("invalid JSON in json.RawMessage")
		}
		switch t[0] {
		case '{', '[', '"', 'n':
			return t, nil
		}
		return json.Marshal(string(t)) // a number or boolean literal
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return json.Marshal(rv.String())
	case reflect.Bool:
		return json.Marshal(strconv.FormatBool(rv.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Marshal(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Marshal(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return json.Marshal(strconv.FormatFloat(rv.Float(), 'f', -1, rv.Type().Bits()))
	}
	return json.Marshal(v) // objects and arrays stay JSON
}

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

// ServiceRef names one service: its folder ("" or "/" for the root), name
// and type.
type ServiceRef struct {
	Folder string
	Name   string
	Type   ServiceType
}

func (r ServiceRef) validate(prefix string) error {
	if err := validFolder(prefix+"Folder", r.Folder); err != nil {
		return err
	}
	if err := validName(prefix+"Name", r.Name); err != nil {
		return err
	}
	return validType(prefix+"Type", r.Type)
}

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
		WebEncrypted  Bool             `json:"webEncrypted"`
		IsDefault     Bool             `json:"isDefault"`
		Folders       Strings          `json:"folders"`
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
	FolderName   string `json:"folderName"`
	Description  string `json:"description"`
	WebEncrypted Bool   `json:"webEncrypted"`
	IsDefault    Bool   `json:"isDefault"`
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

// canCreateAnswer is canCreateService's answer, {"createService": true}.
// An answer without that field is an error, never a guessed false.
type canCreateAnswer struct{ ok bool }

func (a *canCreateAnswer) UnmarshalJSON(b []byte) error {
	var w struct {
		CreateService *Bool `json:"createService"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.CreateService == nil {
		return errors.New(`no "createService" field`)
	}
	a.ok = bool(*w.CreateService)
	return nil
}

// Create creates a service in folder ("" or "/" for the root) from its
// definition, with one POST of admin/services/[<folder>/]createService.
// The definition is checked first (Validate). A duplicate answers an error
// that matches ErrServiceExists; every other refusal is an *Error with the
// server's messages. The request is never repeated after the server may
// have acted: on a lost answer, check with Get or CanCreate before trying
// again.
// https://developers.arcgis.com/rest/enterprise-administration/server/createservice.htm
func (s *ServicesService) Create(ctx context.Context, folder string, def ServiceDefinition) error {
	if err := validFolder("folder", folder); err != nil {
		return err
	}
	if err := def.Validate(); err != nil {
		return err
	}
	u := s.client.endpoint(rootAdmin, "services", normFolder(folder), "createService")
	return s.client.do(ctx, call{op: "createService", method: http.MethodPost, url: u,
		params: serviceParams{Service: form.JSON[ServiceDefinition]{V: def}}}, nil)
}

// CanCreate asks the server (10.5+) whether the service def describes can
// be created in folder ("" or "/" for the root): POST
// admin/services/canCreateService with folderName, serviceType and, when
// def names the service, service (the whole definition). With an empty
// def.ServiceName only the type is asked about. The answer is the server's
// "createService" flag; an answer without it is a *ResponseError.
// Asking changes nothing, so the call is retried like a read.
// https://developers.arcgis.com/rest/enterprise-administration/server/cancreateservice.htm
func (s *ServicesService) CanCreate(ctx context.Context, folder string, def ServiceDefinition) (bool, error) {
	if err := validFolder("folder", folder); err != nil {
		return false, err
	}
	p := canCreateParams{FolderName: normFolder(folder), ServiceType: string(def.Type)}
	if def.ServiceName == "" {
		if err := validType("Type", def.Type); err != nil {
			return false, err
		}
	} else {
		if err := def.Validate(); err != nil {
			return false, err
		}
		p.Service = form.NewJSON(def)
	}
	var ans canCreateAnswer
	u := s.client.endpoint(rootAdmin, "services", "canCreateService")
	if err := s.client.do(ctx, call{op: "canCreateService", method: http.MethodPost, url: u, params: p,
		idempotent: true}, &ans); err != nil {
		return false, err
	}
	return ans.ok, nil
}

// List returns a folder's services (and, for the root folder, its
// subfolders): GET admin/services for "" or "/", admin/services/<folder>
// otherwise. Root-level entries carry FolderName "/"; ServiceSummary.Ref
// turns that into the "" other calls take.
// https://developers.arcgis.com/rest/enterprise-administration/server/services.htm
func (s *ServicesService) List(ctx context.Context, folder string) (*FolderListing, error) {
	if err := validFolder("folder", folder); err != nil {
		return nil, err
	}
	var out FolderListing
	u := s.client.endpoint(rootAdmin, "services", normFolder(folder))
	if err := s.client.do(ctx, call{op: "list services", method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns a service's definition: GET
// admin/services/[<folder>/]<name>.<type>. Change what you need and pass it
// to Edit; the fields this package does not name travel along in Extra.
// https://developers.arcgis.com/rest/enterprise-administration/server/service.htm
func (s *ServicesService) Get(ctx context.Context, folder, name string, typ ServiceType) (*ServiceDefinition, error) {
	u, err := s.serviceURL(folder, name, typ, "")
	if err != nil {
		return nil, err
	}
	var out ServiceDefinition
	if err := s.client.do(ctx, call{op: "get service", method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Status returns a service's configured and real-time state: GET
// admin/services/[<folder>/]<name>.<type>/status.
// https://developers.arcgis.com/rest/enterprise-administration/enterprise/service-status.htm
func (s *ServicesService) Status(ctx context.Context, folder, name string, typ ServiceType) (*ServiceStatus, error) {
	u, err := s.serviceURL(folder, name, typ, "status")
	if err != nil {
		return nil, err
	}
	var out ServiceStatus
	if err := s.client.do(ctx, call{op: "service status", method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Start starts a service: POST admin/services/[<folder>/]<name>.<type>/start.
// https://developers.arcgis.com/rest/enterprise-administration/enterprise/start-service
func (s *ServicesService) Start(ctx context.Context, folder, name string, typ ServiceType) error {
	return s.serviceOp(ctx, folder, name, typ, "start")
}

// Stop stops a service: POST admin/services/[<folder>/]<name>.<type>/stop.
// https://developers.arcgis.com/rest/enterprise-administration/server/stopservice
func (s *ServicesService) Stop(ctx context.Context, folder, name string, typ ServiceType) error {
	return s.serviceOp(ctx, folder, name, typ, "stop")
}

// Delete deletes a service: POST
// admin/services/[<folder>/]<name>.<type>/delete.
// https://developers.arcgis.com/rest/enterprise-administration/server/service.htm
func (s *ServicesService) Delete(ctx context.Context, folder, name string, typ ServiceType) error {
	return s.serviceOp(ctx, folder, name, typ, "delete")
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
	u, err := s.serviceURL(folder, def.ServiceName, def.Type, "edit")
	if err != nil {
		return err
	}
	return s.client.do(ctx, call{op: "edit service", method: http.MethodPost, url: u,
		params: serviceParams{Service: form.JSON[ServiceDefinition]{V: def}}}, nil)
}

// CreateFolder creates a folder under the root (the only level ArcGIS
// Server has): POST admin/services/createFolder with folderName and an
// optional description.
// https://developers.arcgis.com/rest/enterprise-administration/server/createfolder.htm
func (s *ServicesService) CreateFolder(ctx context.Context, name, description string) error {
	if err := validFolderName("folderName", name); err != nil {
		return err
	}
	u := s.client.endpoint(rootAdmin, "services", "createFolder")
	return s.client.do(ctx, call{op: "createFolder", method: http.MethodPost, url: u,
		params: createFolderParams{FolderName: name, Description: description}}, nil)
}

// StartServices starts several services with one POST of
// admin/services/startServices (10.3+). Root-folder services are sent with
// folderName "", as the operation wants.
// https://developers.arcgis.com/rest/enterprise-administration/server/start-services
func (s *ServicesService) StartServices(ctx context.Context, refs []ServiceRef) error {
	return s.batch(ctx, "startServices", refs)
}

// StopServices stops several services with one POST of
// admin/services/stopServices (10.3+), like StartServices.
// https://developers.arcgis.com/rest/enterprise-administration/server/stop-services
func (s *ServicesService) StopServices(ctx context.Context, refs []ServiceRef) error {
	return s.batch(ctx, "stopServices", refs)
}

func (s *ServicesService) batch(ctx context.Context, op string, refs []ServiceRef) error {
	if len(refs) == 0 {
		return invalid("services", "at least one service is needed")
	}
	list := servicesList{Services: make([]serviceRefWire, 0, len(refs))}
	for i, r := range refs {
		if err := r.validate(fmt.Sprintf("services[%d].", i)); err != nil {
			return err
		}
		list.Services = append(list.Services, serviceRefWire{FolderName: normFolder(r.Folder), ServiceName: r.Name, Type: r.Type})
	}
	u := s.client.endpoint(rootAdmin, "services", op)
	return s.client.do(ctx, call{op: op, method: http.MethodPost, url: u,
		params: servicesParams{Services: form.JSON[servicesList]{V: list}}}, nil)
}

// serviceOp POSTs one operation of a service (start, stop, delete).
func (s *ServicesService) serviceOp(ctx context.Context, folder, name string, typ ServiceType, op string) error {
	u, err := s.serviceURL(folder, name, typ, op)
	if err != nil {
		return err
	}
	return s.client.do(ctx, call{op: op + " service", method: http.MethodPost, url: u}, nil)
}

// serviceURL checks a service's folder, name and type and returns
// admin/services/[<folder>/]<name>.<type>[/<op>].
func (s *ServicesService) serviceURL(folder, name string, typ ServiceType, op string) (*url.URL, error) {
	if err := (ServiceRef{Folder: folder, Name: name, Type: typ}).validate(""); err != nil {
		return nil, err
	}
	return s.client.endpoint(rootAdmin, "services", normFolder(folder), name+"."+string(typ), op), nil
}

// validFolder accepts the root ("" or "/") or a valid folder name. It is
// the one folder rule of every call: Refresh, the admin services calls and
// CreateFolder.
func validFolder(field, folder string) error {
	if f := normFolder(folder); f != "" {
		return validFolderName(field, f)
	}
	return nil
}

// validType requires a known service type.
func validType(field string, t ServiceType) error {
	if t == "" {
		return invalid(field, "required (e.g. MapServer)")
	}
	if !t.Known() {
		return invalid(field, "unknown service type %q", t)
	}
	return nil
}

// The object codec below gives ServiceDefinition and Extension their
// "typed fields over a bag of raw fields" JSON: every field the server
// sends survives a decode and encode, and zero values the caller never set
// stay off the wire.

// objField is one named field of a struct handled by the codec.
type objField struct {
	name      string // JSON key
	index     int    // struct field index
	omitEmpty bool   // leave out when zero and not read from the server
}

var (
	serviceDefinitionFields = objectFields(reflect.TypeOf(ServiceDefinition{}))
	extensionFields         = objectFields(reflect.TypeOf(Extension{}))
	rawMessageType          = reflect.TypeOf(json.RawMessage(nil))
)

func objectFields(t reflect.Type) []objField {
	var out []objField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, objField{name: name, index: i, omitEmpty: opts == "omitempty"})
	}
	return out
}

// marshalObject writes extra overlaid with the fields of v (a struct
// value): a field is written when non-zero, or when it was read from the
// server (seen), or when it is never omitted; a zero field the caller never
// set leaves an Extra entry of the same name in place.
func marshalObject(fields []objField, v reflect.Value, seen map[string]bool, extra map[string]json.RawMessage) ([]byte, error) {
	out := make(map[string]json.RawMessage, len(extra)+len(fields))
	for k, raw := range extra {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("Extra[%q]: invalid JSON", k)
		}
		out[k] = raw
	}
	for _, f := range fields {
		fv := v.Field(f.index)
		if fv.IsZero() && !seen[f.name] {
			if _, ok := out[f.name]; ok || f.omitEmpty {
				continue
			}
		}
		var (
			b   []byte
			err error
		)
		switch {
		case fv.Type() == rawMessageType:
			if fv.Len() == 0 {
				continue // nothing to send; an object and an array are both guesses
			}
			b = fv.Bytes()
		case fv.Kind() == reflect.Slice && fv.IsNil():
			b = []byte("[]")
		case fv.Kind() == reflect.Map && fv.IsNil():
			b = []byte("{}")
		default:
			b, err = json.Marshal(fv.Interface())
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		out[f.name] = b
	}
	return json.Marshal(out) // keys sorted: deterministic
}

// unmarshalObject reads a JSON object into the fields of v (an addressable
// struct) and returns which named fields it read and everything else.
// Values that do not fit their field (null, or text where a number
// belongs) go to extra unchanged instead of failing the whole document.
func unmarshalObject(fields []objField, b []byte, v reflect.Value) (map[string]bool, map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, errors.New("not a JSON object")
	}
	byName := make(map[string]objField, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	var (
		seen  map[string]bool
		extra map[string]json.RawMessage
	)
	for k, r := range raw {
		f, ok := byName[k]
		if ok && !isNull(r) && decodeField(v.Field(f.index), r) == nil {
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[k] = true
			continue
		}
		if ok {
			v.Field(f.index).SetZero()
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[k] = append(json.RawMessage(nil), r...)
	}
	return seen, extra, nil
}

// decodeField reads r into fv leniently: strings from any scalar, integers
// from numbers or numeric strings, booleans from true or "true".
func decodeField(fv reflect.Value, r json.RawMessage) error {
	r = bytes.TrimSpace(r)
	switch fv.Kind() {
	case reflect.String:
		if s, ok := jsonString(r); ok {
			fv.SetString(s)
			return nil
		}
		if r[0] == '{' || r[0] == '[' {
			return errors.New("not a string")
		}
		fv.SetString(string(r)) // a number or boolean where text belongs
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n Int
		if err := json.Unmarshal(r, &n); err != nil {
			return err
		}
		if fv.OverflowInt(int64(n)) {
			return errors.New("integer out of range")
		}
		fv.SetInt(int64(n))
		return nil
	case reflect.Bool:
		var x Bool
		if err := json.Unmarshal(r, &x); err != nil {
			return err
		}
		fv.SetBool(bool(x))
		return nil
	}
	return json.Unmarshal(r, fv.Addr().Interface())
}
