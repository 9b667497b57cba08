package agstest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// TileScheme is the tiling scheme of a cached service in the emulator: what
// its services-directory description reports as tileInfo
// (https://developers.arcgis.com/rest/services-reference/enterprise/map-service/)
// and what its tile counts are computed from.
type TileScheme struct {
	TileSize         int     // tile width and height in pixels
	DPI              int     // e.g. 96
	Format           string  // e.g. PNG
	OriginX, OriginY float64 // upper left corner of the tile grid
	WKID             int     // spatial reference, e.g. 102100
	LatestWKID       int     // e.g. 3857; 0 for none
	LODs             []LOD
	// FullExtent is xmin, ymin, xmax, ymax: the area a job without an
	// extent caches.
	FullExtent [4]float64
}

// LOD is one level of detail of a TileScheme.
type LOD struct {
	Level      int
	Resolution float64 // map units per pixel
	Scale      float64 // scale denominator
}

// WebMercatorScheme returns the ArcGIS Online / Bing Maps / Google Maps
// tiling scheme (256 px tiles at 96 dpi, origin at the upper left of the
// Web Mercator world) with levels 0 to maxLevel, and fullExtent.
func WebMercatorScheme(maxLevel int, fullExtent [4]float64) TileScheme {
	const half = 20037508.342787
	const res0 = 156543.03392800014 // 2·half / 256
	const scale0 = 591657527.591555 // res0 at 96 dpi: res0 / 0.0254 · 96
	sch := TileScheme{TileSize: 256, DPI: 96, Format: "PNG", OriginX: -half, OriginY: half,
		WKID: 102100, LatestWKID: 3857, FullExtent: fullExtent}
	for l := 0; l <= maxLevel; l++ {
		f := math.Ldexp(1, -l)
		sch.LODs = append(sch.LODs, LOD{Level: l, Resolution: res0 * f, Scale: roundTo(scale0*f, 6)})
	}
	return sch
}

func roundTo(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// SetTileScheme makes a stored service cached with sch (folder "" is the
// root): its description reports the scheme as tileInfo, and cache jobs
// count and build tiles on it. An existing cache is emptied. It panics if
// the service does not exist.
func (s *Server) SetTileScheme(folder, name, typ string, sch TileScheme) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[svcKey{strings.Trim(folder, "/"), name, typ}]
	if svc == nil {
		panic(fmt.Sprintf("agstest: SetTileScheme: no service %s", qualifiedName(folder, name, typ)))
	}
	cp := sch
	cp.LODs = append([]LOD(nil), sch.LODs...)
	svc.scheme = &cp
	svc.tiles = map[int]map[tileKey]struct{}{}
}

// TileCount returns how many tiles of level the service's cache holds.
func (s *Server) TileCount(folder, name, typ string, level int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[svcKey{strings.Trim(folder, "/"), name, typ}]
	if svc == nil {
		return 0
	}
	return len(svc.tiles[level])
}

// FailTiles makes the next cache job that builds tiles at one of levels
// (Manage Map Cache Tiles, updateTiles, a rerun) fail every second tile it
// builds there: the job ends esriJobFailed (GP) or PARTIALERROR (tile
// jobs) with per-level failures, and the failed tiles stay empty for a
// RECREATE_EMPTY_TILES run or a rerun to build. The failure is used up by
// that one job.
func (s *Server) FailTiles(levels ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failTileLevels = map[int]bool{}
	for _, l := range levels {
		s.failTileLevels[l] = true
	}
}

type tileKey struct{ col, row int64 }

// levelOutcome is what a cache job did at one level.
type levelOutcome struct {
	level    int
	expected int64 // tiles in the job's extent
	built    int64 // built (or deleted) by this job
	skipped  int64 // already there (RECREATE_EMPTY_TILES)
	failed   int64
}

// lod returns the scheme's level.
func (sch *TileScheme) lod(level int) (LOD, bool) {
	for _, l := range sch.LODs {
		if l.Level == level {
			return l, true
		}
	}
	return LOD{}, false
}

// levelOfScale finds the level whose scale is v, within 0.001% (the
// caching tools take scales as decimal text).
func (sch *TileScheme) levelOfScale(v float64) (int, bool) {
	for _, l := range sch.LODs {
		if math.Abs(l.Scale-v) <= 1e-5*l.Scale {
			return l.Level, true
		}
	}
	return 0, false
}

// grid returns the tiles of level that ext (xmin, ymin, xmax, ymax)
// overlaps: columns from the origin rightwards, rows from the origin
// downwards, tiles of TileSize·resolution; none left of or above the
// origin. A tile only touched along an edge is not counted.
func (sch *TileScheme) grid(level int, ext [4]float64) (c0, c1, r0, r1 int64) {
	l, ok := sch.lod(level)
	if !ok {
		return 0, -1, 0, -1
	}
	size := float64(sch.TileSize) * l.Resolution
	span := func(a, b float64) (int64, int64) {
		near := func(v float64) float64 {
			if r := math.Round(v); math.Abs(v-r) < 1e-9*math.Max(1, math.Abs(v)) {
				return r
			}
			return v
		}
		// Bounded before converting, so an absurd extent (1e30, NaN)
		// gives a huge count that jobTiles refuses, never an overflow.
		clamp := func(v float64) float64 {
			if math.IsNaN(v) {
				return 0
			}
			return math.Max(-maxTileIndex, math.Min(v, maxTileIndex))
		}
		lo, hi := int64(clamp(math.Floor(near(a)))), int64(clamp(math.Ceil(near(b))))-1
		return max(lo, 0), hi
	}
	c0, c1 = span((ext[0]-sch.OriginX)/size, (ext[2]-sch.OriginX)/size)
	r0, r1 = span((sch.OriginY-ext[3])/size, (sch.OriginY-ext[1])/size)
	return c0, c1, r0, r1
}

// maxJobTiles bounds the tiles one emulated job may touch (each is kept in
// memory).
const maxJobTiles = 1 << 20

// maxTileIndex bounds a column or row index, so that products of spans
// stay far from int64 overflow (2^26 squared is 2^52).
const maxTileIndex = 1 << 26

// jobTiles counts the tiles of a job before it runs, or says it is too big
// for the emulator.
func (sch *TileScheme) jobTiles(levels []int, ext [4]float64) (int64, error) {
	var n int64
	for _, l := range levels {
		c0, c1, r0, r1 := sch.grid(l, ext)
		if c1 >= c0 && r1 >= r0 {
			n += (c1 - c0 + 1) * (r1 - r0 + 1)
		}
		if n > maxJobTiles {
			return 0, fmt.Errorf("the emulator builds at most %d tiles per job", maxJobTiles)
		}
	}
	return n, nil
}

// cacheOp is what a cache job does to each tile of its extent.
type cacheOp int

const (
	opBuildAll   cacheOp = iota // RECREATE_ALL_TILES, updateTiles
	opBuildEmpty                // RECREATE_EMPTY_TILES: only tiles not there yet
	opDelete                    // DELETE_TILES, deleteTiles
)

// applyLocked runs a cache job on svc: for each level, every tile of ext
// is built, built if empty, or deleted. Tiles at a level in fail fail one
// in two (the second, fourth, ... tile in row order) and stay empty.
// Callers hold s.mu.
func (svc *service) applyLocked(op cacheOp, levels []int, ext [4]float64, fail map[int]bool) []levelOutcome {
	if svc.tiles == nil {
		svc.tiles = map[int]map[tileKey]struct{}{}
	}
	out := make([]levelOutcome, 0, len(levels))
	for _, l := range levels {
		o := levelOutcome{level: l}
		c0, c1, r0, r1 := svc.scheme.grid(l, ext)
		have := svc.tiles[l]
		if have == nil {
			have = map[tileKey]struct{}{}
			svc.tiles[l] = have
		}
		i := 0
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				o.expected++
				k := tileKey{c, r}
				_, exists := have[k]
				switch {
				case op == opDelete:
					if exists {
						delete(have, k)
						o.built++
					}
					continue
				case op == opBuildEmpty && exists:
					o.skipped++
					continue
				}
				i++
				if fail[l] && i%2 == 0 {
					delete(have, k)
					o.failed++
					continue
				}
				have[k] = struct{}{}
				o.built++
			}
		}
		out = append(out, o)
	}
	return out
}

// dropLocked removes the tiles of level l inside ext. Callers hold s.mu.
func (svc *service) dropLocked(l int, ext [4]float64) {
	have := svc.tiles[l]
	c0, c1, r0, r1 := svc.scheme.grid(l, ext)
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			delete(have, tileKey{c, r})
		}
	}
}

// takeFailuresLocked returns the pending FailTiles levels that concern
// levels, and uses them up. Callers hold s.mu.
func (s *Server) takeFailuresLocked(levels []int) map[int]bool {
	hit := false
	for _, l := range levels {
		hit = hit || s.failTileLevels[l]
	}
	if !hit {
		return nil
	}
	f := s.failTileLevels
	s.failTileLevels = nil
	return f
}

// serviceDescription answers rest/services/[<folder>/]<name>/<type> for a
// map or image service: the fields of the services directory's
// description that clients read, with tileInfo when the service is cached
// (https://developers.arcgis.com/rest/services-reference/enterprise/map-service/).
// The emulator's own choice of fields; not a recorded answer.
func (s *Server) serviceDescription(w http.ResponseWriter, r *http.Request, key svcKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	if svc == nil || (key.typ != "MapServer" && key.typ != "ImageServer") {
		return false
	}
	if !svc.started {
		restError(w, r, 500, fmt.Sprintf("Service %s/%s not started ", strings.TrimPrefix(key.folder+"/"+key.name, "/"), key.typ))
		return true
	}
	out := obj{"currentVersion": currentVersion, "serviceDescription": "", "mapName": "Layers",
		"singleFusedMapCache": svc.scheme != nil, "units": "esriMeters"}
	if sch := svc.scheme; sch != nil {
		sr := obj{"wkid": sch.WKID}
		if sch.LatestWKID > 0 {
			sr["latestWkid"] = sch.LatestWKID
		}
		lods := make([]any, len(sch.LODs))
		for i, l := range sch.LODs {
			lods[i] = obj{"level": l.Level, "resolution": l.Resolution, "scale": l.Scale}
		}
		out["spatialReference"] = sr
		out["tileInfo"] = obj{"rows": sch.TileSize, "cols": sch.TileSize, "dpi": sch.DPI, "format": sch.Format,
			"compressionQuality": 0, "origin": obj{"x": sch.OriginX, "y": sch.OriginY}, "spatialReference": sr, "lods": lods}
		e := sch.FullExtent
		ext := obj{"xmin": e[0], "ymin": e[1], "xmax": e[2], "ymax": e[3], "spatialReference": sr}
		out["fullExtent"], out["initialExtent"] = ext, ext
	}
	writeJSON(w, r, out)
	return true
}

// scaleLevels reads levels as the caching tools send them (scale
// denominators separated by ';') and maps them to the scheme's levels.
func scaleLevels(sch *TileScheme, raw string) ([]int, []string) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil // no scales given: the caller's default
	}
	var levels []int
	scales, errs := parseScaleList(raw)
	seen := map[int]bool{}
	for _, f := range scales {
		l, ok := sch.levelOfScale(f)
		if !ok {
			errs = append(errs, fmt.Sprintf("ERROR 001580: Scale %s is not in the cache's tiling scheme.", strconv.FormatFloat(f, 'f', -1, 64)))
			continue
		}
		if !seen[l] {
			seen[l] = true
			levels = append(levels, l)
		}
	}
	sort.Ints(levels)
	return levels, errs
}

// jobExtent reads the extent of a Manage Map Cache Tiles job:
// constraining_extent as "xmin;ymin;xmax;ymax" (or JSON), else the
// envelope of area_of_interest's polygons, else the full extent.
func jobExtent(sch *TileScheme, constraining, aoi string) ([4]float64, bool) {
	constraining = strings.TrimSpace(constraining)
	if constraining != "" && !strings.EqualFold(constraining, "DEFAULT") {
		return parseBox(constraining)
	}
	if strings.TrimSpace(aoi) != "" {
		var fs struct {
			Features []struct {
				Geometry struct {
					Rings [][][]float64 `json:"rings"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if json.Unmarshal([]byte(aoi), &fs) != nil {
			return [4]float64{}, false
		}
		e := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, f := range fs.Features {
			for _, ring := range f.Geometry.Rings {
				for _, p := range ring {
					if len(p) < 2 {
						return [4]float64{}, false
					}
					e[0], e[1] = math.Min(e[0], p[0]), math.Min(e[1], p[1])
					e[2], e[3] = math.Max(e[2], p[0]), math.Max(e[3], p[1])
				}
			}
		}
		return e, e[0] < e[2] && e[1] < e[3]
	}
	return sch.FullExtent, true
}

// Caching task paths (REST-REFERENCE §7.6; the task list of a 10.81
// server's System/CachingTools, testdata/fixtures in ../shared).
const (
	CreateMapCacheTask       = "System/CachingTools/GPServer/Create Map Cache"
	ManageMapCacheScalesTask = "System/CachingTools/GPServer/Manage Map Cache Scales"
	ManageMapCacheStatusTask = "System/CachingTools/GPServer/Manage Map Cache Status"
	DeleteCacheTask          = "System/CachingTools/GPServer/DeleteCache"
)

var cacheStatusModes = []string{"REBUILD_CACHE_STATUS", "DELETE_CACHE_STATUS", "REPORT_BUNDLE_STATUS", "REPORT_BUNDLE_SIZE", "REPORT_BUNDLE_TIME", "REPORT_TILE_STATUS"}

// registerCacheTasks adds Create Map Cache, Manage Map Cache Scales,
// Manage Map Cache Status and DeleteCache. Input names are the REST names
// of REST-REFERENCE §7.6; DeleteCache's (service_url, thread_count) and
// every output name but Manage Map Cache Scales' out_service_url are
// unconfirmed there, so they are this emulator's choice. Callers hold s.mu.
func (s *Server) registerCacheTasks() {
	in := func(name, typ, display string, required bool, def any, choices ...string) gpParam {
		pt := "esriGPParameterTypeOptional"
		if required {
			pt = "esriGPParameterTypeRequired"
		}
		return gpParam{name: name, dataType: typ, displayName: display, direction: "esriGPParameterDirectionInput",
			parameterType: pt, defaultValue: def, choices: choices}
	}
	out := func(name string) gpParam {
		return gpParam{name: name, dataType: "GPString", displayName: name, direction: "esriGPParameterDirectionOutput",
			parameterType: "esriGPParameterTypeDerived", defaultValue: ""}
	}
	svcURL := in("service_url", "GPString", "Input Service", true, "")
	add := func(path, name string, params []gpParam, run func(url.Values) (map[string]any, error)) {
		display := path[strings.LastIndex(path, "/")+1:]
		s.tasks[path] = &taskDef{path: path, name: name, display: display,
			helpURL: "/rest/directories/arcgisoutput/System/CachingTools_GPServer/System_CachingTools/" + name + ".htm",
			params:  params, run: run}
	}
	add(CreateMapCacheTask, "CreateMapCache", []gpParam{svcURL,
		in("out_folder", "GPString", "Service Cache Directory", true, ""),
		in("tile_origin", "GPString", "Tile Origin", false, ""),
		in("levels", "GPString", "Scales", true, ""),
		in("storage_format", "GPString", "Storage Format", false, "COMPACT", "COMPACT", "EXPLODED"),
		in("cache_format", "GPString", "Cache Tile Format", false, "PNG", "PNG", "PNG8", "PNG24", "PNG32", "JPEG", "MIXED", "LERC"),
		in("tile_compression_quality", "GPLong", "Tile Compression Quality", false, 0),
		in("dpi", "GPLong", "Dots Per Inch", false, 96),
		in("tile_width", "GPLong", "Tile Width", false, 256),
		in("tile_height", "GPLong", "Tile Height", false, 256),
		in("use_local_cache_dir", "GPBoolean", "Use Local Cache Directory", false, false),
		out("result")}, s.runCreateMapCache)
	add(ManageMapCacheScalesTask, "ManageMapCacheScales", []gpParam{svcURL,
		in("levels", "GPString", "Scales", true, ""), out("out_service_url")}, s.runManageMapCacheScales)
	add(ManageMapCacheStatusTask, "ManageMapCacheStatus", []gpParam{svcURL,
		in("levels", "GPString", "Scales", false, ""),
		in("thread_count", "GPLong", "Number of caching service instances", false, -1),
		in("validate_mode", "GPString", "Manage Mode", true, "REBUILD_CACHE_STATUS", cacheStatusModes...),
		in("constraining_extent", "GPString", "Extent", false, "DEFAULT"),
		out("result")}, s.runManageMapCacheStatus)
	add(DeleteCacheTask, "DeleteCache", []gpParam{svcURL,
		in("thread_count", "GPLong", "Number of caching service instances", false, -1)}, s.runDeleteCache)
}

// cacheService reads service_url and finds the service, or says why not.
// display is the parameter's name in the task's messages. The wording
// and the error numbers are this emulator's (no refusal of a caching task
// is recorded).
func (s *Server) cacheService(p url.Values, display string) (svcKey, []string) {
	raw := p.Get("service_url")
	fold, name, typ, ok := parseCacheServiceURL(raw)
	switch {
	case strings.TrimSpace(raw) == "":
		return svcKey{}, []string{valueRequired(display)}
	case !ok || (typ != "MapServer" && typ != "ImageServer"):
		return svcKey{}, []string{fmt.Sprintf("ERROR 001272: Invalid service URL '%s'. Use <folder>/<service name>:MapServer.", raw)}
	case !s.hasService(fold, name, typ):
		return svcKey{}, []string{fmt.Sprintf("Service '%s' does not exist.", qualifiedName(fold, name, typ))}
	}
	return svcKey{fold, name, typ}, nil
}

// parseScaleList reads scale denominators separated by ';', largest first.
func parseScaleList(raw string) ([]float64, []string) {
	var out []float64
	var errs []string
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == ';' || r == ',' }) {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) { // !(f > 0) refuses NaN too
			errs = append(errs, fmt.Sprintf("ERROR 000622: Invalid scale '%s' in Scales.", strings.TrimSpace(part)))
			continue
		}
		out = append(out, f)
	}
	if len(out) == 0 && errs == nil {
		errs = append(errs, valueRequired("Scales"))
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(out)))
	return out, errs
}

// parseBox reads an extent as the caching tools take it: Esri JSON, or
// "xmin;ymin;xmax;ymax" (also space or comma separated).
func parseBox(v string) ([4]float64, bool) {
	if strings.HasPrefix(v, "{") {
		m, ok := parseExtent(v)
		if !ok {
			return [4]float64{}, false
		}
		return extentBox(m), true
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ';' || r == ',' })
	if len(parts) < 4 {
		return [4]float64{}, false
	}
	var e [4]float64
	for i := range e {
		x, err := strconv.ParseFloat(parts[i], 64)
		if err != nil {
			return [4]float64{}, false
		}
		e[i] = x
	}
	return e, e[0] < e[2] && e[1] < e[3]
}

// defaultCacheExtent is the full extent the emulator gives a cache created
// on a service it knows no extent of: 10 km around the Web Mercator origin
// (its own choice).
var defaultCacheExtent = [4]float64{-5000, -5000, 5000, 5000}

// runCreateMapCache gives the service a tiling scheme: the scales as
// levels 0.. (largest denominator first), resolution = scale · 0.0254 /
// dpi, the tile origin given or the Web Mercator one, spatial reference
// Web Mercator (the emulator knows no other). An existing cache is
// replaced.
func (s *Server) runCreateMapCache(p url.Values) (map[string]any, error) {
	key, errs := s.cacheService(p, "Input Service")
	if strings.TrimSpace(p.Get("out_folder")) == "" {
		errs = append(errs, valueRequired("Service Cache Directory"))
	}
	scales, serrs := parseScaleList(p.Get("levels"))
	errs = append(errs, serrs...)
	dpi, size := 96, 256
	for name, dst := range map[string]*int{"dpi": &dpi, "tile_width": &size} {
		if v := strings.TrimSpace(p.Get(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Sprintf("ERROR 000622: Invalid value '%s' for %s.", v, name))
				continue
			}
			*dst = n
		}
	}
	if h := strings.TrimSpace(p.Get("tile_height")); h != "" && h != strconv.Itoa(size) {
		errs = append(errs, "ERROR 001575: The emulator caches square tiles only.")
	}
	sch := WebMercatorScheme(-1, defaultCacheExtent)
	sch.TileSize, sch.DPI = size, dpi
	if f := strings.TrimSpace(p.Get("cache_format")); f != "" {
		sch.Format = f
	}
	if o := strings.Fields(p.Get("tile_origin")); len(o) == 2 {
		x, errX := strconv.ParseFloat(o[0], 64)
		y, errY := strconv.ParseFloat(o[1], 64)
		if errX != nil || errY != nil {
			errs = append(errs, "ERROR 000622: Invalid Tile Origin.")
		}
		sch.OriginX, sch.OriginY = x, y
	} else if len(o) != 0 {
		errs = append(errs, "ERROR 000622: Invalid Tile Origin.")
	}
	if errs != nil {
		return nil, &gpError{errs}
	}
	for i, sc := range scales {
		sch.LODs = append(sch.LODs, LOD{Level: i, Resolution: sc * 0.0254 / float64(dpi), Scale: sc})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	if svc.scheme != nil {
		sch.FullExtent = svc.scheme.FullExtent
	}
	svc.scheme, svc.tiles = &sch, map[int]map[tileKey]struct{}{}
	return map[string]any{"result": fmt.Sprintf("Cache created for %s with %d scales.", qualifiedName(key.folder, key.name, key.typ), len(scales))}, nil
}

// runManageMapCacheScales replaces the scheme's scales: levels are
// renumbered 0.. by scale, tiles of a scale kept stay, tiles of a scale
// removed go.
func (s *Server) runManageMapCacheScales(p url.Values) (map[string]any, error) {
	key, errs := s.cacheService(p, "Input Service")
	scales, serrs := parseScaleList(p.Get("levels"))
	if errs = append(errs, serrs...); errs != nil {
		return nil, &gpError{errs}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	if svc.scheme == nil {
		return nil, notCached(key)
	}
	old, oldTiles := svc.scheme, svc.tiles
	sch := *old
	sch.LODs = nil
	tiles := map[int]map[tileKey]struct{}{}
	for i, sc := range scales {
		lod := LOD{Level: i, Scale: sc, Resolution: sc * 0.0254 / float64(max(old.DPI, 1))}
		if l, ok := old.levelOfScale(sc); ok {
			prev, _ := old.lod(l)
			lod.Scale, lod.Resolution = prev.Scale, prev.Resolution
			tiles[i] = oldTiles[l]
		}
		sch.LODs = append(sch.LODs, lod)
	}
	svc.scheme, svc.tiles = &sch, tiles
	return map[string]any{"out_service_url": strings.TrimPrefix(key.folder+"/", "/") + key.name + ":" + key.typ}, nil
}

// runManageMapCacheStatus checks validate_mode; the report modes answer
// the tiles the cache holds per level (in the emulator's own JSON).
func (s *Server) runManageMapCacheStatus(p url.Values) (map[string]any, error) {
	key, errs := s.cacheService(p, "Input Service")
	mode := normalizeUpdateMode(p.Get("validate_mode"))
	if mode == "" {
		errs = append(errs, valueRequired("Manage Mode"))
	} else if !contains(cacheStatusModes, mode) {
		errs = append(errs, notAMember(cacheStatusModes))
	}
	if errs != nil {
		return nil, &gpError{errs}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	if svc.scheme == nil {
		return nil, notCached(key)
	}
	levels, lerrs := scaleLevels(svc.scheme, p.Get("levels"))
	if lerrs != nil {
		return nil, &gpError{lerrs}
	}
	if len(levels) == 0 {
		for _, l := range svc.scheme.LODs {
			levels = append(levels, l.Level)
		}
	}
	report := make([]any, 0, len(levels))
	for _, l := range levels {
		lod, _ := svc.scheme.lod(l)
		report = append(report, obj{"level": l, "scale": lod.Scale, "tiles": len(svc.tiles[l])})
	}
	b, _ := json.Marshal(obj{"mode": mode, "levels": report})
	return map[string]any{"result": string(b)}, nil
}

// runDeleteCache removes the scheme and every tile. A real server
// restarts the service; the emulator's service stays started. A service
// without a cache fails the job as the other caching tools do (notCached).
func (s *Server) runDeleteCache(p url.Values) (map[string]any, error) {
	key, errs := s.cacheService(p, "Input Service")
	if errs != nil {
		return nil, &gpError{errs}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[key]
	if svc.scheme == nil {
		return nil, notCached(key)
	}
	svc.scheme, svc.tiles = nil, nil
	return map[string]any{}, nil
}
