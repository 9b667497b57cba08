package ags

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// FeatureSet is a set of features as geoprocessing tasks take them, sent
// as one JSON form field, e.g. the area of interest of ManageCache.
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object
type FeatureSet struct {
	GeometryType     string            `json:"geometryType"` // e.g. esriGeometryPolygon
	SpatialReference *SpatialReference `json:"spatialReference,omitempty"`
	Features         []Feature         `json:"features"`
}

// Feature is one feature of a FeatureSet. Geometry is anything that
// encodes to an Esri JSON geometry object, such as a Polygon or a
// json.RawMessage.
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object
type Feature struct {
	Geometry   any            `json:"geometry"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Polygon is an Esri JSON polygon: closed rings of [x, y] points, outer
// rings clockwise.
// https://developers.arcgis.com/rest/services-reference/enterprise/geometry-objects
type Polygon struct {
	Rings            [][][2]float64    `json:"rings"`
	SpatialReference *SpatialReference `json:"spatialReference,omitempty"`
}

// PolygonFeatureSet returns a feature set of one polygon made of rings
// (each closed: its last point equals its first), in spatial reference sr:
// an area of interest for ManageCache.
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object
func PolygonFeatureSet(sr SpatialReference, rings ...[][2]float64) *FeatureSet {
	return &FeatureSet{GeometryType: "esriGeometryPolygon", SpatialReference: &sr,
		Features: []Feature{{Geometry: Polygon{Rings: rings}}}}
}

// validatePolygons checks a polygon feature set with a spatial reference
// and at least one feature, each with a geometry object.
func (fs *FeatureSet) validatePolygons(field string) error {
	if !strings.EqualFold(fs.GeometryType, "esriGeometryPolygon") {
		return invalid(field+".geometryType", "must be esriGeometryPolygon, got %q", fs.GeometryType)
	}
	if err := fs.SpatialReference.validate(field + ".spatialReference"); err != nil {
		return err
	}
	if len(fs.Features) == 0 {
		return invalid(field+".features", "must hold at least one polygon")
	}
	for i, f := range fs.Features {
		fld := fmt.Sprintf("%s.features[%d].geometry", field, i)
		var p *Polygon
		switch g := f.Geometry.(type) {
		case Polygon:
			p = &g
		case *Polygon:
			p = g
		}
		if p != nil {
			if err := p.validate(fld); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(f.Geometry)
		if err != nil {
			return invalid(fld, "cannot be encoded: %v", err)
		}
		if len(b) == 0 || b[0] != '{' {
			return invalid(fld, "must be an Esri JSON geometry object, got %.40s", b)
		}
	}
	return nil
}

func (p *Polygon) validate(field string) error {
	if p == nil || len(p.Rings) == 0 {
		return invalid(field, "a polygon needs at least one ring")
	}
	for i, ring := range p.Rings {
		if len(ring) < 4 {
			return invalid(fmt.Sprintf("%s.rings[%d]", field, i), "a ring needs at least 4 points (closed), got %d", len(ring))
		}
		for _, pt := range ring {
			for _, v := range pt {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return invalid(fmt.Sprintf("%s.rings[%d]", field, i), "coordinates must be finite, got %v", v)
				}
			}
		}
		if ring[0] != ring[len(ring)-1] {
			return invalid(fmt.Sprintf("%s.rings[%d]", field, i), "must be closed: last point %v is not the first %v", ring[len(ring)-1], ring[0])
		}
	}
	return nil
}
