package ags

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/project"
)

// Area is a set of polygons a cache job is limited to: the Manage Map
// Cache Tiles area of interest, and its envelope for updateTiles,
// deleteTiles and Estimate.
type Area struct {
	FeatureSet *FeatureSet // one polygon feature per input polygon
	Extent     *Extent     // the envelope of every polygon
}

// GeoJSONArea reads a GeoJSON file of changed areas (a Polygon,
// MultiPolygon, Feature or FeatureCollection of those) and returns it in
// the spatial reference sr of the service it is for.
//
// GeoJSON is WGS84 longitude/latitude (RFC 7946). It is converted to
// Web Mercator when sr is 3857 (or 102100, 102113, 900913), and kept as it
// is when sr is 4326. For any other spatial reference GeoJSONArea returns
// a *ValidationError: supply Esri JSON polygons in the service's spatial
// reference (a FeatureSet) instead. Rings are turned to Esri's
// orientation (outer rings clockwise, holes counterclockwise).
//
// Invalid or empty geometry (other geometry types, features without
// geometry, rings that are not closed or have fewer than four positions,
// positions outside longitude -180..180 or latitude -90..90) is a
// *ValidationError.
// https://www.rfc-editor.org/rfc/rfc7946
func GeoJSONArea(data []byte, sr SpatialReference) (*Area, error) {
	var toSR func(orb.Point) orb.Point
	switch srKey(&sr) {
	case "3857":
		toSR = project.WGS84.ToMercator
	case "4326":
		toSR = func(p orb.Point) orb.Point { return p }
	default:
		return nil, invalid("spatialReference", "GeoJSON is longitude/latitude (WGS84) and can be converted only to Web Mercator (3857, 102100) or WGS84 (4326), not %s: supply Esri JSON polygons in the service's spatial reference instead",
			srString(&sr))
	}
	polys, err := geoJSONPolygons(data)
	if err != nil {
		return nil, err
	}
	if len(polys) == 0 {
		return nil, invalid("GeoJSON", "holds no polygon")
	}
	fs := &FeatureSet{GeometryType: "esriGeometryPolygon", SpatialReference: &sr}
	bound := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i, p := range polys {
		if err := checkGeoPolygon(fmt.Sprintf("GeoJSON polygon %d", i), p); err != nil {
			return nil, err
		}
		out := Polygon{}
		for j, ring := range p {
			ring = ring.Clone()
			// Esri: outer rings clockwise, inner rings counterclockwise
			// (https://developers.arcgis.com/rest/services-reference/enterprise/geometry-objects/).
			if want := orb.CW; (j == 0) != (ring.Orientation() == want) {
				ring.Reverse()
			}
			pts := make([][2]float64, len(ring))
			for k, pt := range ring {
				q := toSR(pt)
				pts[k] = [2]float64{q[0], q[1]}
				bound = bound.Extend(q)
			}
			out.Rings = append(out.Rings, pts)
		}
		fs.Features = append(fs.Features, Feature{Geometry: out})
	}
	ext := &Extent{XMin: bound.Min[0], YMin: bound.Min[1], XMax: bound.Max[0], YMax: bound.Max[1], SpatialReference: &sr}
	if err := ext.Validate(); err != nil {
		return nil, invalid("GeoJSON", "the polygons enclose no area (%v)", err)
	}
	return &Area{FeatureSet: fs, Extent: ext}, nil
}

// geoJSONPolygons reads the polygons of a GeoJSON document with orb's
// geojson package.
func geoJSONPolygons(data []byte) ([]orb.Polygon, error) {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, invalid("GeoJSON", "not a JSON object: %v", err)
	}
	var geoms []orb.Geometry
	switch probe.Type {
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, invalid("GeoJSON", "%v", err)
		}
		for i, f := range fc.Features {
			if f == nil || f.Geometry == nil {
				return nil, invalid(fmt.Sprintf("GeoJSON features[%d]", i), "has no geometry")
			}
			geoms = append(geoms, f.Geometry)
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, invalid("GeoJSON", "%v", err)
		}
		if f.Geometry == nil {
			return nil, invalid("GeoJSON feature", "has no geometry")
		}
		geoms = append(geoms, f.Geometry)
	case "Polygon", "MultiPolygon":
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, invalid("GeoJSON", "%v", err)
		}
		geoms = append(geoms, g.Geometry())
	default:
		return nil, invalid("GeoJSON", "type %q: want a Polygon, MultiPolygon, Feature or FeatureCollection", probe.Type)
	}
	var out []orb.Polygon
	for i, g := range geoms {
		switch v := g.(type) {
		case orb.Polygon:
			out = append(out, v)
		case orb.MultiPolygon:
			out = append(out, v...)
		default:
			return nil, invalid(fmt.Sprintf("GeoJSON geometry %d", i), "is a %s, not a Polygon or MultiPolygon", g.GeoJSONType())
		}
	}
	return out, nil
}

// checkGeoPolygon checks a GeoJSON polygon (RFC 7946 §3.1.6): at least one
// ring, each closed with at least four positions of finite longitude and
// latitude in range.
func checkGeoPolygon(field string, p orb.Polygon) error {
	if len(p) == 0 {
		return invalid(field, "has no rings")
	}
	for i, r := range p {
		f := fmt.Sprintf("%s ring %d", field, i)
		if len(r) < 4 {
			return invalid(f, "needs at least 4 positions (closed), got %d", len(r))
		}
		if !r.Closed() {
			return invalid(f, "is not closed: its last position %v is not its first %v", r[len(r)-1], r[0])
		}
		for _, pt := range r {
			lon, lat := pt[0], pt[1]
			if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
				return invalid(f, "position %v is not a longitude/latitude; GeoJSON is WGS84 (RFC 7946)", pt)
			}
		}
	}
	if p[0].Orientation() == 0 {
		return invalid(field, "its outer ring encloses no area")
	}
	return nil
}

// extentIn returns e in spatial reference to: as it is when it already is,
// converted corner by corner between WGS84 (4326) and Web Mercator (3857,
// 102100), the two that convert without a datum change. Any other pair is
// a *ValidationError naming field.
func extentIn(field string, e Extent, to *SpatialReference) (Extent, error) {
	from := srKey(e.SpatialReference)
	if sameSR(e.SpatialReference, to) {
		return e, nil
	}
	var proj orb.Projection
	switch {
	case from == "4326" && srKey(to) == "3857":
		proj = project.WGS84.ToMercator
	case from == "3857" && srKey(to) == "4326":
		proj = project.Mercator.ToWGS84
	default:
		return Extent{}, invalid(field, "%s is not %s, and only WGS84 (4326) and Web Mercator (3857) convert here: give the extent in %s",
			srString(e.SpatialReference), srString(to), srString(to))
	}
	lo, hi := proj(orb.Point{e.XMin, e.YMin}), proj(orb.Point{e.XMax, e.YMax})
	sr := *to
	out := Extent{XMin: lo[0], YMin: lo[1], XMax: hi[0], YMax: hi[1], SpatialReference: &sr}
	if err := out.Validate(); err != nil {
		return Extent{}, invalid(field, "converted to %s it encloses no area", srString(to))
	}
	return out, nil
}
