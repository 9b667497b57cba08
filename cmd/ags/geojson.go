package main

import (
	"encoding/json"
	"math"
	"os"

	"github.com/seed9bfd6bbc/ags"
)

// An area of interest read from a GeoJSON file (--aoi). RFC 7946 §4 puts
// GeoJSON coordinates in WGS 84 longitude and latitude, so the area is in
// WKID 4326; that the server projects it to the cache's spatial reference
// is an inference [I] from the extent and area_of_interest parameters
// taking any spatialReference
// (https://developers.arcgis.com/rest/services-reference/online/update-tiles,
// https://developers.arcgis.com/rest/services-reference/enterprise/featureset-object).
//
// paulmach/orb's geojson package would read the file, but it links a BSON
// library into the binary; a bounding box and polygon rings need only the
// coordinates, read here with encoding/json.
type geoJSONArea struct {
	extent *ags.Extent    // the bounding box of every coordinate (not checked: a point has no area)
	rings  [][][2]float64 // the rings of its polygons, wound as Esri JSON wants
}

var wgs84 = ags.SpatialReference{WKID: 4326}

func readGeoJSON(path string) (*geoJSONArea, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("--aoi: %v", err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, usageErr("--aoi %s: not JSON: %v", path, err)
	}
	sr := wgs84
	area := &geoJSONArea{extent: &ags.Extent{XMin: math.Inf(1), YMin: math.Inf(1), XMax: math.Inf(-1), YMax: math.Inf(-1),
		SpatialReference: &sr}}
	found := false
	var point func(v any)
	point = func(v any) {
		arr, _ := v.([]any)
		if len(arr) == 0 {
			return
		}
		if x, ok := arr[0].(float64); ok && len(arr) >= 2 {
			if y, ok := arr[1].(float64); ok {
				e := area.extent
				e.XMin, e.XMax = math.Min(e.XMin, x), math.Max(e.XMax, x)
				e.YMin, e.YMax = math.Min(e.YMin, y), math.Max(e.YMax, y)
				found = true
			}
			return
		}
		for _, item := range arr {
			point(item)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch o := v.(type) {
		case map[string]any:
			point(o["coordinates"])
			switch o["type"] {
			case "Polygon":
				area.addPolygon(o["coordinates"])
			case "MultiPolygon":
				polys, _ := o["coordinates"].([]any)
				for _, p := range polys {
					area.addPolygon(p)
				}
			}
			for _, k := range []string{"geometry", "geometries", "features"} {
				walk(o[k])
			}
		case []any:
			for _, item := range o {
				walk(item)
			}
		}
	}
	walk(doc)
	if !found {
		return nil, usageErr("--aoi %s: no GeoJSON coordinates found", path)
	}
	return area, nil
}

// addPolygon adds the rings of one GeoJSON polygon: its exterior ring
// first, then its holes. GeoJSON winds exteriors counterclockwise
// (RFC 7946 §3.1.6, which asks parsers not to reject the other way);
// Esri JSON winds them clockwise and holes counterclockwise
// (https://developers.arcgis.com/rest/services-reference/enterprise/geometry-objects),
// so each ring is turned the way Esri wants.
func (a *geoJSONArea) addPolygon(v any) {
	rings, _ := v.([]any)
	for i, r := range rings {
		pts, _ := r.([]any)
		var ring [][2]float64
		for _, p := range pts {
			xy, _ := p.([]any)
			if len(xy) < 2 {
				continue
			}
			x, ok1 := xy[0].(float64)
			y, ok2 := xy[1].(float64)
			if ok1 && ok2 {
				ring = append(ring, [2]float64{x, y})
			}
		}
		if len(ring) < 4 {
			continue
		}
		if clockwise(ring) != (i == 0) {
			for l, r := 0, len(ring)-1; l < r; l, r = l+1, r-1 {
				ring[l], ring[r] = ring[r], ring[l]
			}
		}
		a.rings = append(a.rings, ring)
	}
}

// clockwise reports whether a ring (in x-east, y-north coordinates) turns
// clockwise: its shoelace sum is negative.
func clockwise(ring [][2]float64) bool {
	var sum float64
	for i := 0; i+1 < len(ring); i++ {
		sum += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	return sum < 0
}
