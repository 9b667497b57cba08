package ags

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
)

// CacheStorageFormat is how a cache stores its tiles (storage_format).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/create-map-server-cache.htm
type CacheStorageFormat string

// Storage formats.
const (
	CompactStorage  CacheStorageFormat = "COMPACT"  // tiles grouped in bundle files (the default)
	ExplodedStorage CacheStorageFormat = "EXPLODED" // one file per tile
)

// CacheTileFormat is the image format of a cache's tiles (cache_format).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/create-map-server-cache.htm
type CacheTileFormat string

// Tile formats.
const (
	TileFormatPNG   CacheTileFormat = "PNG" // the default: PNG8, 24 or 32 as the map needs
	TileFormatPNG8  CacheTileFormat = "PNG8"
	TileFormatPNG24 CacheTileFormat = "PNG24"
	TileFormatPNG32 CacheTileFormat = "PNG32"
	TileFormatJPEG  CacheTileFormat = "JPEG"
	TileFormatMixed CacheTileFormat = "MIXED" // JPEG inside, PNG32 at the edges
	TileFormatLERC  CacheTileFormat = "LERC"  // elevation (image services)
)

var (
	storageFormats = []CacheStorageFormat{CompactStorage, ExplodedStorage}
	tileFormats    = []CacheTileFormat{TileFormatPNG, TileFormatPNG8, TileFormatPNG24, TileFormatPNG32, TileFormatJPEG, TileFormatMixed, TileFormatLERC}
	tileSizes      = []int{128, 256, 512, 1024}
)

// Create Map Cache defaults, sent when a request leaves the field zero
// (the defaults of the Create Map Server Cache tool).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/create-map-server-cache.htm
const (
	DefaultCacheDPI               = 96
	DefaultCacheTileSize          = 256
	DefaultTileCompressionQuality = 75 // JPEG and MIXED only
	defaultCacheStorage           = CompactStorage
	defaultCacheTileFormat        = TileFormatPNG
)

// CreateCacheRequest are the parameters of the Create Map Cache task,
// which gives a map or image service its tiling scheme and cache folders
// (no tiles: build them with ManageCache). The REST names (service_url,
// out_folder, tile_origin, levels, storage_format, cache_format,
// tile_compression_quality, dpi, tile_width, tile_height,
// use_local_cache_dir) are those a public script submits to this task
// (REST-REFERENCE §7.6).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/create-map-server-cache.htm
type CreateCacheRequest struct {
	// Service is the service to cache (required): MapServer (the default)
	// or ImageServer.
	Service ServiceRef
	// OutFolder is the server cache directory the cache goes in
	// (out_folder, required), a registered ArcGIS Server cache directory
	// such as "c:\\arcgisserver\\directories\\arcgiscache".
	OutFolder string
	// Scales are the scale denominators of the levels (levels, required),
	// sent largest first (smallest scale first) separated by ';'.
	Scales []float64
	// TileOrigin is the upper left corner of the tile grid, in the
	// service's spatial reference. Nil leaves it to the server. Sent as
	// "x y", the form of the tool's tile_origin; the REST task's own form
	// is unconfirmed [I].
	TileOrigin *Point
	// StorageFormat defaults to COMPACT.
	StorageFormat CacheStorageFormat
	// TileFormat (cache_format) defaults to PNG.
	TileFormat CacheTileFormat
	// TileCompressionQuality is 1..100 for JPEG and MIXED tiles (default
	// 75); other formats send 0 and must leave it 0.
	TileCompressionQuality int
	// DPI defaults to 96.
	DPI int
	// TileWidth and TileHeight are 128, 256 (the default), 512 or 1024
	// pixels.
	TileWidth, TileHeight int
	// UseLocalCacheDir writes bundles to a local directory on each
	// machine first (use_local_cache_dir). Nil leaves the server's default.
	UseLocalCacheDir *bool
	// ExtraParams are added to the form, replacing a parameter of the same
	// name.
	ExtraParams ExtraParams
}

type createCacheParams struct {
	ServiceURL             string `url:"service_url"`
	OutFolder              string `url:"out_folder"`
	TileOrigin             string `url:"tile_origin,omitempty"`
	Levels                 string `url:"levels"`
	StorageFormat          string `url:"storage_format"`
	CacheFormat            string `url:"cache_format"`
	TileCompressionQuality int    `url:"tile_compression_quality"`
	DPI                    int    `url:"dpi"`
	TileWidth              int    `url:"tile_width"`
	TileHeight             int    `url:"tile_height"`
	UseLocalCacheDir       *bool  `url:"use_local_cache_dir,omitempty"`
}

// Validate checks the request as CreateCache does before any request: the
// service, OutFolder, Scales, the formats, quality, DPI, tile size,
// TileOrigin and ExtraParams. A problem is a *ValidationError naming the
// field.
func (r CreateCacheRequest) Validate() error {
	_, err := r.params()
	return err
}

// params checks the request (the rules of Validate) and builds its form.
func (r CreateCacheRequest) params() (url.Values, error) {
	ref, err := cachedServiceRef(r.Service)
	if err != nil {
		return nil, err
	}
	if r.OutFolder == "" {
		return nil, invalid("OutFolder", "required: the server cache directory, e.g. c:\\arcgisserver\\directories\\arcgiscache")
	}
	scales, err := checkScales("Scales", r.Scales)
	if err != nil {
		return nil, err
	}
	p := createCacheParams{ServiceURL: cachingToolsService(ref), OutFolder: r.OutFolder, Levels: joinScales(scales),
		StorageFormat: string(orDefault(r.StorageFormat, defaultCacheStorage)),
		CacheFormat:   string(orDefault(r.TileFormat, defaultCacheTileFormat)),
		DPI:           orDefault(r.DPI, DefaultCacheDPI),
		TileWidth:     orDefault(r.TileWidth, DefaultCacheTileSize), TileHeight: orDefault(r.TileHeight, DefaultCacheTileSize),
		UseLocalCacheDir: r.UseLocalCacheDir}
	if !oneOf(CacheStorageFormat(p.StorageFormat), storageFormats) {
		return nil, invalid("StorageFormat", "must be COMPACT or EXPLODED, got %q", r.StorageFormat)
	}
	format := CacheTileFormat(p.CacheFormat)
	if !oneOf(format, tileFormats) {
		return nil, invalid("TileFormat", "must be one of PNG, PNG8, PNG24, PNG32, JPEG, MIXED, LERC; got %q", r.TileFormat)
	}
	switch q := r.TileCompressionQuality; {
	case format == TileFormatJPEG || format == TileFormatMixed:
		if q < 0 || q > 100 {
			return nil, invalid("TileCompressionQuality", "must be 1..100 (0 for the default %d), got %d", DefaultTileCompressionQuality, q)
		}
		p.TileCompressionQuality = orDefault(q, DefaultTileCompressionQuality)
	case q != 0:
		return nil, invalid("TileCompressionQuality", "applies only to JPEG and MIXED tiles, not %s", format)
	}
	if p.DPI <= 0 || p.DPI > 10000 {
		return nil, invalid("DPI", "must be a positive number of dots per inch, got %d", r.DPI)
	}
	if !oneOf(p.TileWidth, tileSizes) || !oneOf(p.TileHeight, tileSizes) {
		return nil, invalid("TileWidth", "tiles are 128, 256, 512 or 1024 pixels wide and high, got %dx%d", p.TileWidth, p.TileHeight)
	}
	if o := r.TileOrigin; o != nil {
		if math.IsNaN(o.X) || math.IsInf(o.X, 0) || math.IsNaN(o.Y) || math.IsInf(o.Y, 0) {
			return nil, invalid("TileOrigin", "must be finite, got %v %v", o.X, o.Y)
		}
		p.TileOrigin = formatScale(o.X) + " " + formatScale(o.Y)
	}
	if err := r.ExtraParams.check(); err != nil {
		return nil, err
	}
	return r.ExtraParams.apply(p)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func oneOf[T comparable](v T, list []T) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

// checkScales checks scale denominators given without a scheme and
// returns them largest first, without duplicates.
func checkScales(field string, scales []float64) ([]float64, error) {
	if len(scales) == 0 {
		return nil, invalid(field, "must list at least one scale denominator, such as 4513.988705")
	}
	if err := positiveScales(field, scales); err != nil {
		return nil, err
	}
	out := append([]float64(nil), scales...)
	sort.Sort(sort.Reverse(sort.Float64Slice(out)))
	uniq := out[:1]
	for _, v := range out[1:] {
		if v != uniq[len(uniq)-1] {
			uniq = append(uniq, v)
		}
	}
	return uniq, nil
}

// positiveScales checks that each scale denominator is a positive number.
func positiveScales(field string, scales []float64) error {
	for i, v := range scales {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "must be a positive scale denominator, got %v", v)
		}
	}
	return nil
}

// CreateCache submits the Create Map Cache task: it creates the tiling
// scheme and the cache folders of a map or image service, and builds no
// tiles (ManageCache does). The job is returned at once; the submit is
// sent once. Bad input is a *ValidationError before any request.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/create-map-server-cache.htm
func (s *TilesService) CreateCache(ctx context.Context, req CreateCacheRequest) (*Job[*GPResult], error) {
	params, err := req.params()
	if err != nil {
		return nil, err
	}
	return s.client.GP.SubmitJob(ctx, CreateMapCacheTask, params)
}

// CacheScalesRequest are the parameters of the Manage Map Cache Scales
// task (service_url, levels; REST-REFERENCE §7.6): the complete new list
// of the cache's scales. Scales not listed are removed from the scheme
// with their tiles; new ones are added without tiles.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-scales.htm
type CacheScalesRequest struct {
	Service     ServiceRef // MapServer (the default) or ImageServer
	Scales      []float64  // required: every scale the cache is to have
	ExtraParams ExtraParams
}

type cacheScalesParams struct {
	ServiceURL string `url:"service_url"`
	Levels     string `url:"levels"`
}

// Validate checks the request as SetCacheScales does before any request:
// the service, at least one positive scale, ExtraParams. A problem is a
// *ValidationError naming the field.
func (r CacheScalesRequest) Validate() error {
	_, _, err := r.check()
	return err
}

// check holds the rules of Validate and returns the cleaned service and
// the scales, largest first.
func (r CacheScalesRequest) check() (ServiceRef, []float64, error) {
	ref, err := cachedServiceRef(r.Service)
	if err != nil {
		return ServiceRef{}, nil, err
	}
	scales, err := checkScales("Scales", r.Scales)
	if err != nil {
		return ServiceRef{}, nil, err
	}
	if err := r.ExtraParams.check(); err != nil {
		return ServiceRef{}, nil, err
	}
	return ref, scales, nil
}

// SetCacheScales submits the Manage Map Cache Scales task, which replaces
// the scales of a service's cache. Removing a scale deletes its tiles.
// Bad input (req.Validate) is a *ValidationError before any request.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-scales.htm
func (s *TilesService) SetCacheScales(ctx context.Context, req CacheScalesRequest) (*Job[*GPResult], error) {
	ref, scales, err := req.check()
	if err != nil {
		return nil, err
	}
	params, err := req.ExtraParams.apply(cacheScalesParams{ServiceURL: cachingToolsService(ref), Levels: joinScales(scales)})
	if err != nil {
		return nil, err
	}
	return s.client.GP.SubmitJob(ctx, ManageMapCacheScalesTask, params)
}

// CacheStatusMode is what Manage Map Cache Status does (validate_mode).
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-status.htm
type CacheStatusMode string

// Status modes, as the CachingControllers task lists them (REST-REFERENCE §7.6).
const (
	RebuildCacheStatus CacheStatusMode = "REBUILD_CACHE_STATUS"
	DeleteCacheStatus  CacheStatusMode = "DELETE_CACHE_STATUS"
	ReportBundleStatus CacheStatusMode = "REPORT_BUNDLE_STATUS"
	ReportBundleSize   CacheStatusMode = "REPORT_BUNDLE_SIZE"
	ReportBundleTime   CacheStatusMode = "REPORT_BUNDLE_TIME"
	ReportTileStatus   CacheStatusMode = "REPORT_TILE_STATUS"
)

var cacheStatusModes = []CacheStatusMode{RebuildCacheStatus, DeleteCacheStatus, ReportBundleStatus, ReportBundleSize, ReportBundleTime, ReportTileStatus}

// CacheStatusRequest are the parameters of the Manage Map Cache Status
// task: service_url, levels, thread_count, validate_mode,
// constraining_extent (REST-REFERENCE §7.6). Levels, Scales, Extent and
// Scheme work as in ManageCacheRequest; with neither Levels nor Scales
// every level of the scheme is sent.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-status.htm
type CacheStatusRequest struct {
	Service     ServiceRef
	Mode        CacheStatusMode // required
	Levels      Levels
	Scales      []float64
	Instances   int     // thread_count; 0 sends -1
	Extent      *Extent // constraining_extent, in the service's spatial reference
	Scheme      *TileScheme
	ExtraParams ExtraParams
}

type cacheStatusParams struct {
	ServiceURL         string `url:"service_url"`
	Levels             string `url:"levels"`
	ThreadCount        int    `url:"thread_count"`
	ValidateMode       string `url:"validate_mode"`
	ConstrainingExtent string `url:"constraining_extent,omitempty"`
}

// Validate checks the request as far as it can without the service's
// tiling scheme, as CacheStatus does before any request: the service, the
// mode, Levels or Scales (not both), Instances, the shape of Extent,
// ExtraParams. A problem is a *ValidationError naming the field.
func (r CacheStatusRequest) Validate() error {
	_, err := r.check()
	return err
}

// check holds the rules of Validate and returns the cleaned service.
func (r CacheStatusRequest) check() (ServiceRef, error) {
	ref, err := cachedServiceRef(r.Service)
	if err != nil {
		return ServiceRef{}, err
	}
	if !oneOf(r.Mode, cacheStatusModes) {
		return ServiceRef{}, invalid("Mode", "must be one of REBUILD_CACHE_STATUS, DELETE_CACHE_STATUS, REPORT_BUNDLE_STATUS, REPORT_BUNDLE_SIZE, REPORT_BUNDLE_TIME, REPORT_TILE_STATUS; got %q", r.Mode)
	}
	if !r.Levels.IsZero() && len(r.Scales) > 0 {
		return ServiceRef{}, invalid("Levels", "give Levels or Scales, not both")
	}
	if err := positiveScales("Scales", r.Scales); err != nil {
		return ServiceRef{}, err
	}
	if err := validInstances(r.Instances); err != nil {
		return ServiceRef{}, err
	}
	if r.Extent != nil {
		if err := r.Extent.Validate(); err != nil {
			return ServiceRef{}, err
		}
	}
	if err := r.ExtraParams.check(); err != nil {
		return ServiceRef{}, err
	}
	return ref, nil
}

// CacheStatus submits the Manage Map Cache Status task, which rebuilds,
// deletes or reports a cache's status (what is built, bundle sizes and
// times). Bad input (req.Validate) is a *ValidationError before any
// request. Unless req.Scheme is given the service's scheme is read first,
// as ManageCache does.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/manage-map-server-cache-status.htm
func (s *TilesService) CacheStatus(ctx context.Context, req CacheStatusRequest) (*Job[*GPResult], error) {
	ref, err := req.check()
	if err != nil {
		return nil, err
	}
	sch, err := s.schemeFor(ctx, ref, req.Scheme)
	if err != nil {
		return nil, err
	}
	levels := req.Levels
	if levels.IsZero() && len(req.Scales) == 0 {
		levels = sch.AllLevels()
	}
	scales, err := schemeScales(sch, levels, req.Scales)
	if err != nil {
		return nil, err
	}
	p := cacheStatusParams{ServiceURL: cachingToolsService(ref), Levels: joinScales(scales),
		ThreadCount: threadCount(req.Instances), ValidateMode: string(req.Mode)}
	if req.Extent != nil {
		if p.ConstrainingExtent, err = constrainingExtent(*req.Extent, sch); err != nil {
			return nil, err
		}
	}
	params, err := req.ExtraParams.apply(p)
	if err != nil {
		return nil, err
	}
	return s.client.GP.SubmitJob(ctx, ManageMapCacheStatusTask, params)
}

// DeleteCacheRequest are the parameters of the DeleteCache task.
//
// The task's REST parameter names are unconfirmed [I]: the only client
// found passes them by position (service, instances; REST-REFERENCE
// §7.6). They are sent as service_url and thread_count, the names of the
// sibling caching tasks; use ExtraParams if a server names them otherwise.
type DeleteCacheRequest struct {
	Service     ServiceRef // MapServer (the default) or ImageServer
	Instances   int        // thread_count; 0 sends -1
	ExtraParams ExtraParams
}

type deleteCacheParams struct {
	ServiceURL  string `url:"service_url"`
	ThreadCount int    `url:"thread_count"`
}

// Validate checks the request as DeleteCacheAndRestartService does before
// any request: the service, Instances, ExtraParams. A problem is a
// *ValidationError naming the field.
func (r DeleteCacheRequest) Validate() error {
	_, err := r.check()
	return err
}

// check holds the rules of Validate and returns the cleaned service.
func (r DeleteCacheRequest) check() (ServiceRef, error) {
	ref, err := cachedServiceRef(r.Service)
	if err != nil {
		return ServiceRef{}, err
	}
	if err := validInstances(r.Instances); err != nil {
		return ServiceRef{}, err
	}
	if err := r.ExtraParams.check(); err != nil {
		return ServiceRef{}, err
	}
	return ref, nil
}

// DeleteCacheAndRestartService submits the DeleteCache task, which
// deletes a service's whole cache: every tile and the tiling scheme.
// It cannot be undone, and it restarts the service. To remove tiles but
// keep the scheme, use ManageCache with DeleteTiles instead. Bad input
// (req.Validate) is a *ValidationError before any request.
// https://pro.arcgis.com/en/pro-app/latest/tool-reference/server/delete-map-server-cache.htm
func (s *TilesService) DeleteCacheAndRestartService(ctx context.Context, req DeleteCacheRequest) (*Job[*GPResult], error) {
	ref, err := req.check()
	if err != nil {
		return nil, err
	}
	params, err := req.ExtraParams.apply(deleteCacheParams{ServiceURL: cachingToolsService(ref), ThreadCount: threadCount(req.Instances)})
	if err != nil {
		return nil, err
	}
	return s.client.GP.SubmitJob(ctx, DeleteCacheTask, params)
}

// cachedServiceRef checks the service of a caching request: a map or an
// image service (an empty type means MapServer).
func cachedServiceRef(ref ServiceRef) (ServiceRef, error) {
	return refOfType("Service.", ref.orType(MapServer), MapServer, ImageServer)
}

// validInstances checks a caching request's Instances: positive, or 0 or
// -1 for as many as the server allows.
func validInstances(n int) error {
	if n < -1 {
		return invalid("Instances", "must be positive, or 0 or -1 for as many as allowed; got %d", n)
	}
	return nil
}
