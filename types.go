package ags

import (
	"encoding/json"
	"math"
	"strings"
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

// Known reports whether t is one of the service types above, ignoring
// case. A type this package does not list (VideoServer, say) is still
// accepted by every call that acts on a service.
func (t ServiceType) Known() bool { return t.canonical() != "" }

// canonical returns the listed spelling of t ("mapserver" -> MapServer), or
// "" when t is not listed.
func (t ServiceType) canonical() ServiceType {
	s := strings.TrimSpace(string(t))
	for _, k := range knownServiceTypes {
		if strings.EqualFold(s, string(k)) {
			return k
		}
	}
	return ""
}

// Is reports whether t and u name the same type, ignoring case.
func (t ServiceType) Is(u ServiceType) bool {
	return strings.EqualFold(strings.TrimSpace(string(t)), strings.TrimSpace(string(u)))
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
