package ags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// TileScheme is the tiling scheme of a cached map or image service (its
// tileInfo), with the service's extents: what a cache job works on. Read it
// with Tiles.Scheme; turn levels into the scheme's exact scales with
// Scales, and estimate a job's size with Estimate.
//
// The fields follow the services directory's tileInfo: rows and cols are
// the tile height and width in pixels, origin the upper left corner of the
// tile grid, lods the levels of detail.
// https://developers.arcgis.com/rest/services-reference/enterprise/map-service/
type TileScheme struct {
	Rows               int               // tile height in pixels
	Cols               int               // tile width in pixels
	DPI                int               // e.g. 96
	Format             string            // e.g. PNG, JPEG, MIXED
	CompressionQuality int               // 0..100, JPEG only
	Origin             Point             // upper left corner of the tile grid
	SpatialReference   *SpatialReference // the scheme's (and the service's) spatial reference
	LODs               []LOD             // levels of detail, in the server's order
	FullExtent         *Extent           // nil when the service gave none
	InitialExtent      *Extent           // nil when the service gave none
}

// Point is an x, y position in a spatial reference.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// LOD is one level of detail of a tiling scheme.
type LOD struct {
	Level      int     `json:"level"`
	Resolution float64 `json:"resolution"` // map units per pixel
	Scale      float64 `json:"scale"`      // the scale denominator, e.g. 4513.988705 for 1:4513.988705
}

// ErrNoTileScheme is returned (wrapped) by Tiles.Scheme for a service
// whose description has no tileInfo: it is not cached.
var ErrNoTileScheme = errors.New("the service has no tiling scheme (it is not cached)")

// serviceInfo is the part of a map or image service's description that
// holds its tiling scheme, read leniently.
type serviceInfo struct {
	TileInfo *struct {
		Rows               Int             `json:"rows"`
		Cols               Int             `json:"cols"`
		DPI                Int             `json:"dpi"`
		Format             string          `json:"format"`
		CompressionQuality Int             `json:"compressionQuality"`
		Origin             json.RawMessage `json:"origin"`
		SpatialReference   json.RawMessage `json:"spatialReference"`
		LODs               []struct {
			Level      Int             `json:"level"`
			Resolution json.RawMessage `json:"resolution"`
			Scale      json.RawMessage `json:"scale"`
		} `json:"lods"`
	} `json:"tileInfo"`
	SpatialReference json.RawMessage `json:"spatialReference"`
	FullExtent       json.RawMessage `json:"fullExtent"`
	InitialExtent    json.RawMessage `json:"initialExtent"`

	scheme *TileScheme // set by checkAnswer
}

// Scheme reads the tiling scheme of a cached map or image service from the
// services directory (rest/services/[<folder>/]<name>/MapServer). The
// same call reads a hosted tile layer's scheme when the client's site is
// the layer's (https://tiles.arcgis.com/tiles/<orgId>/arcgis). An empty
// Type means MapServer. A service that is not cached gives an error
// wrapping ErrNoTileScheme; a tileInfo that cannot be used (no levels, a
// zero tile size or resolution, no spatial reference) is a *ResponseError,
// so a scheme returned always has a SpatialReference.
// https://developers.arcgis.com/rest/services-reference/enterprise/map-service/
func (s *TilesService) Scheme(ctx context.Context, ref ServiceRef) (*TileScheme, error) {
	ref, err := refOfType("", ref.orType(MapServer), MapServer, ImageServer)
	if err != nil {
		return nil, err
	}
	c := s.client
	u := c.endpoint(rootServices, ref.Folder, ref.Name, string(ref.Type))
	r := call{op: opServiceInfo, scope: ref.String(), method: http.MethodGet, url: u, idempotent: true}
	var info serviceInfo
	if err := c.do(ctx, r, &info); err != nil {
		return nil, err
	}
	if info.scheme == nil {
		return nil, fmt.Errorf("%s: %w", r.label(), ErrNoTileScheme)
	}
	return info.scheme, nil
}

// checkAnswer reads the tiling scheme out of the description, and refuses
// a tileInfo that cannot be used. A description without tileInfo is a
// usable answer: the service is not cached.
func (info *serviceInfo) checkAnswer() error {
	ti := info.TileInfo
	if ti == nil {
		return nil
	}
	sch := &TileScheme{Rows: int(ti.Rows), Cols: int(ti.Cols), DPI: int(ti.DPI), Format: ti.Format,
		CompressionQuality: int(ti.CompressionQuality),
		FullExtent:         lenientExtent(info.FullExtent), InitialExtent: lenientExtent(info.InitialExtent)}
	if sch.Rows <= 0 || sch.Cols <= 0 {
		return badAnswer(fmt.Sprintf("tileInfo has a tile size of %dx%d pixels", sch.Cols, sch.Rows))
	}
	if isNull(ti.Origin) || json.Unmarshal(ti.Origin, &sch.Origin) != nil {
		return badAnswer("tileInfo has no readable origin")
	}
	sch.SpatialReference = lenientSR(ti.SpatialReference)
	if sch.SpatialReference == nil {
		sch.SpatialReference = lenientSR(info.SpatialReference)
	}
	if sch.SpatialReference == nil {
		return badAnswer("neither tileInfo nor the service has a spatial reference")
	}
	if len(ti.LODs) == 0 {
		return badAnswer("tileInfo has no levels of detail")
	}
	for _, l := range ti.LODs {
		lod := LOD{Level: int(l.Level), Resolution: rawFloat(l.Resolution), Scale: rawFloat(l.Scale)}
		if lod.Level < 0 || lod.Resolution <= 0 || lod.Scale <= 0 {
			return badAnswer(fmt.Sprintf("tileInfo level %d has resolution %v and scale %v", lod.Level, lod.Resolution, lod.Scale))
		}
		sch.LODs = append(sch.LODs, lod)
	}
	info.scheme = sch
	return nil
}

// lenientSR reads a spatial reference, or nil when absent or unreadable.
func lenientSR(raw json.RawMessage) *SpatialReference {
	if isNull(raw) {
		return nil
	}
	var sr SpatialReference
	if json.Unmarshal(raw, &sr) != nil || sr.validate("") != nil {
		return nil
	}
	return &sr
}

// LOD returns the level of detail of level.
func (s *TileScheme) LOD(level int) (LOD, bool) {
	for _, l := range s.LODs {
		if l.Level == level {
			return l, true
		}
	}
	return LOD{}, false
}

// AllLevels returns every level of the scheme (up to MaxLevel).
func (s *TileScheme) AllLevels() Levels {
	var l Levels
	for _, lod := range s.LODs {
		if lod.Level >= 0 && lod.Level <= MaxLevel {
			l.mask |= 1 << lod.Level
		}
	}
	return l
}

// Scales returns the scheme's exact scale denominators of levels, largest
// first (smallest scale first, the order the caching tools list them). A
// level the scheme does not have is a *ValidationError naming the levels
// it has.
func (s *TileScheme) Scales(levels Levels) ([]float64, error) {
	if levels.IsZero() {
		return nil, invalid("Levels", "must list at least one level of the scheme (%s)", s.AllLevels())
	}
	out := make([]float64, 0, levels.Len())
	for _, n := range levels.List() {
		lod, ok := s.LOD(n)
		if !ok {
			return nil, invalid("Levels", "level %d is not in the tiling scheme, whose levels are %s", n, s.AllLevels())
		}
		out = append(out, lod.Scale)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(out)))
	return out, nil
}

// scaleTolerance is how closely a scale given by a caller must match one
// of the scheme's: within 0.001%, so 4513.99 and 2256.99 (the scales
// rounded to six digits) name the levels whose scales are 4513.988705 and
// 2256.994353. Levels of a scheme differ by far more (usually a factor of
// two), so no scale can match two levels.
const scaleTolerance = 1e-5

// LevelOfScale returns the level whose scale denominator is scale (within
// 0.001%).
func (s *TileScheme) LevelOfScale(scale float64) (LOD, bool) {
	for _, l := range s.LODs {
		if math.Abs(l.Scale-scale) <= scaleTolerance*l.Scale {
			return l, true
		}
	}
	return LOD{}, false
}

// matchScales maps scales given by a caller to the scheme's own values,
// largest first without duplicates. A scale not in the scheme is a
// *ValidationError that lists the scheme's scales.
func (s *TileScheme) matchScales(field string, scales []float64) ([]float64, error) {
	seen := map[int]bool{}
	out := make([]float64, 0, len(scales))
	for i, v := range scales {
		lod, ok := s.LevelOfScale(v)
		if !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "%v is not a scale of the tiling scheme, whose scales are %s",
				v, s.scaleList())
		}
		if !seen[lod.Level] {
			seen[lod.Level] = true
			out = append(out, lod.Scale)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(out)))
	return out, nil
}

func (s *TileScheme) scaleList() string {
	parts := make([]string, 0, len(s.LODs))
	for _, l := range s.LODs {
		parts = append(parts, fmt.Sprintf("%d:%s", l.Level, formatScale(l.Scale)))
	}
	return strings.Join(parts, ", ")
}

// formatScale writes a scale denominator as the caching tools take it:
// plain decimal, as few digits as round-trip.
func formatScale(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// TileEstimate is the size of a cache job before it runs: tiles per level
// over an extent.
type TileEstimate struct {
	Levels []LevelEstimate // in level order
	Total  int64           // tiles over every level
}

// LevelEstimate is the tile grid of one level over an extent: the columns
// and rows of the tiles it touches, counted from the scheme's origin.
type LevelEstimate struct {
	Level          int
	Scale          float64
	Resolution     float64
	MinCol, MaxCol int64 // MaxCol < MinCol: no tile
	MinRow, MaxRow int64
	Tiles          int64
}

// Estimate counts the tiles a cache job builds per level over extent: the
// tile grid starts at the scheme's origin (its upper left corner), a tile
// is Cols·resolution wide and Rows·resolution high, and every tile the
// extent overlaps counts (a tile it only touches along an edge does not).
// Tiles exist only right of and below the origin, so the part of an extent
// above or left of it counts nothing. Zero levels means every level of the
// scheme. The extent is in the scheme's spatial reference (102100 and 3857
// are the same), or converted to it between WGS84 and Web Mercator; use an
// area of interest's envelope for a job limited to polygons. Bad input is
// a *ValidationError.
// https://enterprise.arcgis.com/en/server/latest/publish-services/windows/what-is-map-caching-.htm
func (s *TileScheme) Estimate(extent Extent, levels Levels) (*TileEstimate, error) {
	if err := extent.Validate(); err != nil {
		return nil, err
	}
	extent, err := extentIn("extent.spatialReference", extent, s.SpatialReference)
	if err != nil {
		return nil, err
	}
	if levels.IsZero() {
		levels = s.AllLevels()
	}
	if s.Rows <= 0 || s.Cols <= 0 {
		return nil, invalid("scheme", "a tile size of %dx%d pixels", s.Cols, s.Rows)
	}
	est := &TileEstimate{}
	for _, n := range levels.List() {
		lod, ok := s.LOD(n)
		if !ok {
			return nil, invalid("levels", "level %d is not in the tiling scheme, whose levels are %s", n, s.AllLevels())
		}
		if !(lod.Resolution > 0) || math.IsInf(lod.Resolution, 0) {
			return nil, invalid("scheme", "level %d has resolution %v", n, lod.Resolution)
		}
		tw, th := float64(s.Cols)*lod.Resolution, float64(s.Rows)*lod.Resolution
		le := LevelEstimate{Level: n, Scale: lod.Scale, Resolution: lod.Resolution}
		var err error
		if le.MinCol, le.MaxCol, err = tileSpan((extent.XMin-s.Origin.X)/tw, (extent.XMax-s.Origin.X)/tw); err != nil {
			return nil, err
		}
		if le.MinRow, le.MaxRow, err = tileSpan((s.Origin.Y-extent.YMax)/th, (s.Origin.Y-extent.YMin)/th); err != nil {
			return nil, err
		}
		if le.MaxCol >= le.MinCol && le.MaxRow >= le.MinRow {
			cols, rows := le.MaxCol-le.MinCol+1, le.MaxRow-le.MinRow+1
			if rows > (math.MaxInt64-est.Total)/cols {
				return nil, invalid("extent", "covers more tiles than can be counted at level %d", n)
			}
			le.Tiles = cols * rows
		}
		est.Total += le.Tiles
		est.Levels = append(est.Levels, le)
	}
	return est, nil
}

// tileSpan returns the tiles [lo, hi] that the span (a, b), in tile units
// from the origin, overlaps: floor(a) to ceil(b)-1, clamped at 0. Values
// within a billionth of a tile edge are taken as on the edge, so an extent
// drawn exactly on tile boundaries does not pick up a neighbour by
// round-off.
func tileSpan(a, b float64) (lo, hi int64, err error) {
	const limit = 1 << 52
	if !(math.Abs(a) <= limit) || !(math.Abs(b) <= limit) { // NaN too
		return 0, -1, invalid("extent", "spans more than 2^52 tiles at this level")
	}
	snap := func(v float64) float64 {
		if r := math.Round(v); math.Abs(v-r) <= 1e-9*math.Max(1, math.Abs(v)) {
			return r
		}
		return v
	}
	lo, hi = int64(math.Floor(snap(a))), int64(math.Ceil(snap(b)))-1
	if lo < 0 {
		lo = 0
	}
	if hi < lo {
		return 0, -1, nil
	}
	return lo, hi, nil
}

// srKey names a spatial reference for comparison: its latest WKID (Web
// Mercator's old 102100, 102113 and 900913 are 3857), else its WKT.
func srKey(sr *SpatialReference) string {
	if sr == nil {
		return ""
	}
	id := sr.LatestWKID
	if id <= 0 {
		id = sr.WKID
	}
	switch id {
	case 102100, 102113, 900913:
		id = 3857
	}
	if id > 0 {
		return strconv.Itoa(id)
	}
	return strings.TrimSpace(sr.WKT)
}

// sameSR reports whether a and b are the same spatial reference.
func sameSR(a, b *SpatialReference) bool {
	ka, kb := srKey(a), srKey(b)
	return ka != "" && ka == kb
}

func srString(sr *SpatialReference) string {
	switch {
	case sr == nil:
		return "no spatial reference"
	case sr.WKID > 0:
		return "wkid " + strconv.Itoa(sr.WKID)
	case sr.LatestWKID > 0:
		return "wkid " + strconv.Itoa(sr.LatestWKID)
	}
	return "a WKT spatial reference"
}
