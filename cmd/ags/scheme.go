package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

// cacheableService reads the REF of a service a tile cache can be for: a
// map or image service (a hosted tile layer, or a service the caching
// tools cache).
func cacheableService(s string) (ags.ServiceRef, error) {
	r, err := ags.ParseServiceRef(s)
	if err != nil {
		return r, err
	}
	if r.Type != ags.MapServer && r.Type != ags.ImageServer {
		return r, usageErr("%s: tile caches are for a MapServer or an ImageServer", r.String())
	}
	return r, nil
}

// srOut is a spatial reference in the output.
type srOut struct {
	WKID       int    `json:"wkid,omitempty"`
	LatestWKID int    `json:"latest_wkid,omitempty"`
	WKT        string `json:"wkt,omitempty"`
}

func srOf(sr *ags.SpatialReference) *srOut {
	if sr == nil {
		return nil
	}
	return &srOut{WKID: sr.WKID, LatestWKID: sr.LatestWKID, WKT: sr.WKT}
}

// srText names a spatial reference for a human: "wkid 102100".
func srText(sr *ags.SpatialReference) string {
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

// extentOut is an extent in the output.
type extentOut struct {
	XMin             float64 `json:"xmin"`
	YMin             float64 `json:"ymin"`
	XMax             float64 `json:"xmax"`
	YMax             float64 `json:"ymax"`
	SpatialReference *srOut  `json:"spatial_reference,omitempty"`
}

func extentOf(e *ags.Extent) *extentOut {
	if e == nil {
		return nil
	}
	return &extentOut{XMin: e.XMin, YMin: e.YMin, XMax: e.XMax, YMax: e.YMax, SpatialReference: srOf(e.SpatialReference)}
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// lodOut is one level of detail of a tiling scheme in the output.
type lodOut struct {
	Level      int     `json:"level"`
	Scale      float64 `json:"scale"`      // scale denominator
	Resolution float64 `json:"resolution"` // map units per pixel
}

// schemeDoc is the -o json document of 'tiles scheme'.
type schemeDoc struct {
	Service          string     `json:"service"`
	TileWidth        int        `json:"tile_width"`  // pixels
	TileHeight       int        `json:"tile_height"` // pixels
	DPI              int        `json:"dpi"`
	Format           string     `json:"format"`
	Origin           ags.Point  `json:"origin"` // {"x", "y"}: the upper left corner of the tile grid
	SpatialReference *srOut     `json:"spatial_reference"`
	FullExtent       *extentOut `json:"full_extent,omitempty"`
	LODs             []lodOut   `json:"lods"`
}

func (a *app) tilesSchemeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scheme REF",
		Short: "Print the tiling scheme of a cached service: its levels, scales and resolutions",
		Long: `Print the tiling scheme of a cached map or image service (a hosted tile
layer, or a cache built by the caching tools), read from the services
directory: one line per level of detail with its scale denominator and its
resolution (map units per pixel). The tile size, format, DPI, origin and
spatial reference go to stderr; -o json has them all:

  {"service", "tile_width", "tile_height", "dpi", "format",
   "origin": {"x", "y"}, "spatial_reference": {"wkid", "latest_wkid"},
   "full_extent": {"xmin", "ymin", "xmax", "ymax", "spatial_reference"},
   "lods": [{"level", "scale", "resolution"}]}

A service that is not cached exits 1.`,
		Example: `  ags tiles scheme Hosted/Basemap.MapServer
  ags tiles scheme Maps/Roads.MapServer -o json | jq '.lods[] | select(.level >= 14)'`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				sch, err := s.c.Tiles.Scheme(ctx, ref)
				if err != nil {
					return err
				}
				doc := schemeDoc{Service: ref.String(), TileWidth: sch.Cols, TileHeight: sch.Rows, DPI: sch.DPI,
					Format: sch.Format, Origin: sch.Origin, SpatialReference: srOf(sch.SpatialReference),
					FullExtent: extentOf(sch.FullExtent), LODs: []lodOut{}}
				var rows [][]string
				for _, l := range sch.LODs {
					lod := lodOut{Level: l.Level, Scale: l.Scale, Resolution: l.Resolution}
					doc.LODs = append(doc.LODs, lod)
					rows = append(rows, []string{strconv.Itoa(l.Level), num(l.Scale), num(l.Resolution)})
					s.p.event("lod", lod)
				}
				if s.p.mode == modeTable {
					s.p.note("%s: %dx%d px %s tiles at %d dpi, %s, origin %s,%s", ref.String(), sch.Cols, sch.Rows,
						sch.Format, sch.DPI, srText(sch.SpatialReference), num(sch.Origin.X), num(sch.Origin.Y))
				}
				s.p.table([]string{"LEVEL", "SCALE", "RESOLUTION"}, rows)
				s.p.doc(doc)
				return nil
			})
		},
	}
}

// levelEstimateOut is one level of an estimate in the output.
type levelEstimateOut struct {
	Level      int     `json:"level"`
	Scale      float64 `json:"scale"`
	Resolution float64 `json:"resolution"`
	Cols       int64   `json:"cols"` // columns of tiles the extent touches
	Rows       int64   `json:"rows"`
	Tiles      int64   `json:"tiles"`
}

// estimateDoc is the -o json document of 'tiles estimate'.
type estimateDoc struct {
	Service    string             `json:"service"`
	Extent     *extentOut         `json:"extent"` // the extent counted over, as given
	Levels     []levelEstimateOut `json:"levels"`
	TotalTiles int64              `json:"total_tiles"`
}

func (a *app) tilesEstimateCmd() *cobra.Command {
	var levels string
	var where areaFlags
	cmd := &cobra.Command{
		Use:   "estimate REF [--levels LEVELS] [--extent XMIN,YMIN,XMAX,YMAX --sr WKID | --aoi FILE.geojson]",
		Short: "Count the tiles a cache job would build, per level, before running it",
		Long: `Count the tiles of each level that a cache job over an area would build:
the tiles of the service's tiling scheme that the area overlaps, and their
total. Nothing is submitted; only the scheme is read.

The area is an extent (in --sr; WGS84 and Web Mercator convert to each
other), the envelope of the polygons of a GeoJSON file (--aoi), or without
either the service's full extent. LEVELS defaults to every level of the
scheme. -o json:

  {"service", "extent": {"xmin", "ymin", "xmax", "ymax", "spatial_reference"},
   "levels": [{"level", "scale", "resolution", "cols", "rows", "tiles"}],
   "total_tiles"}`,
		Example: `  ags tiles estimate Hosted/Basemap.MapServer --levels 12-16 --aoi changed.geojson
  ags tiles estimate Maps/Roads.MapServer --levels 0-19 \
    --extent -13686000,5696000,-13620000,5730000 --sr 3857 -o json | jq .total_tiles`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := cacheableService(argv[0])
			if err != nil {
				return err
			}
			var lv ags.Levels
			if levels != "" {
				if lv, err = ags.ParseLevels(levels); err != nil {
					return err
				}
			}
			ext, area, err := where.parse()
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				sch, err := s.c.Tiles.Scheme(ctx, ref)
				if err != nil {
					return err
				}
				over := ext
				switch {
				case area != nil:
					over = area.in(sch.SpatialReference).Extent
				case over == nil && sch.FullExtent == nil:
					return fmt.Errorf("%s: the service reports no full extent: give --extent or --aoi", ref.String())
				case over == nil:
					over = sch.FullExtent
				}
				est, err := sch.Estimate(*over, lv)
				if err != nil {
					return err
				}
				doc := estimateDoc{Service: ref.String(), Extent: extentOf(over), Levels: []levelEstimateOut{}, TotalTiles: est.Total}
				var rows [][]string
				for _, l := range est.Levels {
					le := levelEstimateOut{Level: l.Level, Scale: l.Scale, Resolution: l.Resolution, Tiles: l.Tiles}
					if l.Tiles > 0 {
						le.Cols, le.Rows = l.MaxCol-l.MinCol+1, l.MaxRow-l.MinRow+1
					}
					doc.Levels = append(doc.Levels, le)
					rows = append(rows, []string{strconv.Itoa(l.Level), num(l.Scale), num(l.Resolution), strconv.FormatInt(l.Tiles, 10)})
					s.p.event("level", le)
				}
				rows = append(rows, []string{"total", "", "", strconv.FormatInt(est.Total, 10)})
				s.p.event("total", map[string]any{"service": ref.String(), "total_tiles": est.Total})
				s.p.table([]string{"LEVEL", "SCALE", "RESOLUTION", "TILES"}, rows)
				s.p.doc(doc)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&levels, "levels", "", "cache levels, e.g. 12-16 (default: every level of the scheme)")
	where.add(cmd, "area: xmin,ymin,xmax,ymax in --sr", "area: the envelope of a GeoJSON file's polygons")
	return cmd
}
