package agstest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// earthRadius is the sphere of Web Mercator (EPSG:3857), in metres.
const earthRadius = 6378137.0

// maxMercatorLat is the latitude at which Web Mercator's square world
// ends (y = ±20037508.342789 m).
const maxMercatorLat = 85.05112877980659

// webMercatorWKIDs are the codes Web Mercator has carried: 3857 and the
// older 102100, 102113 and 900913.
var webMercatorWKIDs = map[int]bool{3857: true, 102100: true, 102113: true, 900913: true}

// wkidKey names a spatial reference by wkid, Web Mercator's codes as one.
func wkidKey(wkid int) int {
	if webMercatorWKIDs[wkid] {
		return 3857
	}
	return wkid
}

// extentWKIDs reads the wkid and latestWkid of an envelope parsed by
// parseExtent (0 when absent).
func extentWKIDs(m map[string]any) (wkid, latest int) {
	sr, _ := m["spatialReference"].(map[string]any)
	read := func(k string) int {
		n, _ := sr[k].(json.Number)
		v, _ := strconv.Atoi(n.String())
		return v
	}
	return read("wkid"), read("latestWkid")
}

// inScheme returns the box (xmin, ymin, xmax, ymax) of an envelope parsed
// by parseExtent in the scheme's spatial reference: as it is when its wkid
// or latestWkid is the scheme's (Web Mercator's codes are one), converted
// when it is WGS84 (4326) and the scheme is Web Mercator. Any other
// spatial reference is an error that says which ones differ.
func (sch *TileScheme) inScheme(m map[string]any) ([4]float64, error) {
	box := extentBox(m)
	wkid, latest := extentWKIDs(m)
	mine := map[int]bool{wkidKey(sch.WKID): true, wkidKey(sch.LatestWKID): true}
	for _, w := range []int{wkid, latest} {
		if w > 0 && mine[wkidKey(w)] {
			return box, nil
		}
	}
	if (wkid == 4326 || latest == 4326) && mine[3857] {
		return lonLatToMercator(box)
	}
	got := "a spatial reference without a wkid"
	if w := max(wkid, latest); w > 0 {
		got = fmt.Sprintf("wkid %d", w)
	}
	return [4]float64{}, fmt.Errorf("the extent is in %s, the tiling scheme in wkid %d; only WGS84 (4326) converts, to Web Mercator", got, sch.WKID)
}

// lonLatToMercator converts a longitude/latitude box to Web Mercator
// metres on the sphere of EPSG:3857. Latitudes beyond ±85.0511° are
// clamped to the edge of the square world; a longitude beyond ±180° or a
// latitude beyond ±90° is an error.
func lonLatToMercator(box [4]float64) ([4]float64, error) {
	for i, v := range box {
		if (i%2 == 0 && math.Abs(v) > 180) || (i%2 == 1 && math.Abs(v) > 90) {
			return [4]float64{}, fmt.Errorf("%v is not a longitude or latitude of WGS84 (4326)", v)
		}
	}
	x := func(lon float64) float64 { return earthRadius * lon * math.Pi / 180 }
	y := func(lat float64) float64 {
		lat = math.Max(-maxMercatorLat, math.Min(maxMercatorLat, lat))
		return earthRadius * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
	}
	return [4]float64{x(box[0]), y(box[1]), x(box[2]), y(box[3])}, nil
}
