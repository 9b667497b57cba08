package ags

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Ptr returns a pointer to v, for optional fields: MergeBundle: ags.Ptr(true).
func Ptr[T any](v T) *T { return &v }

// ServiceType is the type of an ArcGIS Server service, as the admin API and
// service URLs spell it.
type ServiceType string

// Service types.
const (
	MapServer        ServiceType = "MapServer"
	ImageServer      ServiceType = "ImageServer"
	FeatureServer    ServiceType = "FeatureServer"
	GPServer         ServiceType = "GPServer"
	GeocodeServer    ServiceType = "GeocodeServer"
	GeometryServer   ServiceType = "GeometryServer"
	GeoDataServer    ServiceType = "GeoDataServer"
	GlobeServer      ServiceType = "GlobeServer"
	SearchServer     ServiceType = "SearchServer"
	SceneServer      ServiceType = "SceneServer"
	VectorTileServer ServiceType = "VectorTileServer"
	StreamServer     ServiceType = "StreamServer"
	NAServer         ServiceType = "NAServer"
)

var knownServiceTypes = []ServiceType{MapServer, ImageServer, FeatureServer, GPServer, GeocodeServer,
	GeometryServer, GeoDataServer, GlobeServer, SearchServer, SceneServer, VectorTileServer,
	StreamServer, NAServer}

// Known reports whether t is one of the service types above.
func (t ServiceType) Known() bool {
	for _, k := range knownServiceTypes {
		if t == k {
			return true
		}
	}
	return false
}

// SpatialReference identifies a coordinate system by well-known ID or text.
type SpatialReference struct {
	WKID       int    `json:"wkid,omitempty"`
	LatestWKID int    `json:"latestWkid,omitempty"`
	WKT        string `json:"wkt,omitempty"`
}

// Extent is a bounding box with its spatial reference.
type Extent struct {
	XMin             float64           `json:"xmin"`
	YMin             float64           `json:"ymin"`
	XMax             float64           `json:"xmax"`
	YMax             float64           `json:"ymax"`
	SpatialReference *SpatialReference `json:"spatialReference,omitempty"`
}

// Validate checks that the extent has finite coordinates, xmin < xmax,
// ymin < ymax, and a spatial reference with a wkid, latestWkid or wkt.
func (e *Extent) Validate() error {
	if e == nil {
		return invalid("extent", "missing")
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"xmin", e.XMin}, {"ymin", e.YMin}, {"xmax", e.XMax}, {"ymax", e.YMax}} {
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return invalid("extent."+c.name, "must be a finite number, got %v", c.v)
		}
	}
	if !(e.XMin < e.XMax) {
		return invalid("extent", "xmin (%v) must be less than xmax (%v)", e.XMin, e.XMax)
	}
	if !(e.YMin < e.YMax) {
		return invalid("extent", "ymin (%v) must be less than ymax (%v)", e.YMin, e.YMax)
	}
	return e.SpatialReference.validate("extent.spatialReference")
}

// validate requires a spatial reference with a wkid, latestWkid or wkt.
func (sr *SpatialReference) validate(field string) error {
	if sr == nil || (sr.WKID <= 0 && sr.LatestWKID <= 0 && strings.TrimSpace(sr.WKT) == "") {
		return invalid(field, "required: a wkid, latestWkid or wkt")
	}
	return nil
}

// JobMessage is one message of a job, as the server wrote it.
type JobMessage struct {
	Type        string `json:"type"`        // e.g. esriJobMessageTypeInformative, esriJobMessageTypeError
	Description string `json:"description"` // the text
}

// IsError reports whether the message is an error or abort message.
func (m JobMessage) IsError() bool {
	t := strings.ToLower(m.Type)
	return strings.HasSuffix(t, "error") || strings.HasSuffix(t, "abort")
}

func (m JobMessage) String() string { return m.Description }

// UnmarshalJSON accepts the object form and a bare string.
func (m *JobMessage) UnmarshalJSON(b []byte) error {
	if s, ok := jsonString(b); ok {
		*m = JobMessage{Description: s}
		return nil
	}
	type plain JobMessage
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*m = JobMessage(p)
	return nil
}

// Time is a point in time that ArcGIS sends as epoch milliseconds, either as
// a JSON number or as a string ("13472658353687"). Zero or absent is the
// zero time.
type Time struct{ time.Time }

// UnmarshalJSON accepts a number, a numeric string, null or "".
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = Time{}
		return nil
	}
	if s, ok := jsonString(b); ok {
		b = []byte(strings.TrimSpace(s))
		if len(b) == 0 {
			*t = Time{}
			return nil
		}
	}
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(ms) || math.IsInf(ms, 0) {
		return fmt.Errorf("epoch milliseconds: cannot read %.40q", b)
	}
	if ms == 0 {
		*t = Time{}
		return nil
	}
	t.Time = time.UnixMilli(int64(ms))
	return nil
}

// MarshalJSON writes epoch milliseconds as a number (0 for the zero time).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("0"), nil
	}
	return strconv.AppendInt(nil, t.UnixMilli(), 10), nil
}

// Bool is a boolean that the server may send as true/false or as the strings
// "true"/"false" (extension "enabled" does both).
type Bool bool

// UnmarshalJSON accepts true, false, "true", "false" (any case), null.
func (v *Bool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if s, ok := jsonString(b); ok {
		b = []byte(strings.ToLower(strings.TrimSpace(s)))
	}
	switch string(b) {
	case "true":
		*v = true
	case "false", "null", "":
		*v = false
	default:
		return fmt.Errorf("boolean: cannot read %.40q", b)
	}
	return nil
}

// Int is an integer that may arrive as a number or a numeric string.
type Int int64

// UnmarshalJSON accepts 12, 12.0, "12", null.
func (v *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if s, ok := jsonString(b); ok {
		b = []byte(strings.TrimSpace(s))
	}
	if len(b) == 0 || string(b) == "null" {
		*v = 0
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("integer: cannot read %.40q", b)
	}
	*v = Int(f)
	return nil
}

// Strings is a list of strings that the server may send as an array, a
// single string, or null.
type Strings []string

// UnmarshalJSON accepts ["a","b"], "a", null; non-string array items are
// kept as their JSON text.
func (v *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*v = nil
		return nil
	}
	if s, ok := jsonString(b); ok {
		*v = Strings{s}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("list of strings: %w", err)
	}
	out := make(Strings, 0, len(raw))
	for _, r := range raw {
		if s, ok := jsonString(r); ok {
			out = append(out, s)
		} else if string(bytes.TrimSpace(r)) != "null" {
			out = append(out, string(r))
		}
	}
	*v = out
	return nil
}

// jsonString decodes b if it is a JSON string.
func jsonString(b []byte) (string, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}
