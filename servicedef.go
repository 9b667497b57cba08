package ags

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ServiceDefinition is the JSON document that describes a service to the
// admin API: what createService takes, what admin/services/<name>.<type>
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
