package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

// wgs84 is the spatial reference of GeoJSON: longitude and latitude
// (RFC 7946 §4).
var wgs84 = ags.SpatialReference{WKID: 4326}

// aoiFile is a GeoJSON file of changed areas given with --aoi: a Polygon,
// MultiPolygon, Feature or FeatureCollection of those, read with the SDK's
// ags.GeoJSONArea. It is read and checked before any request, in WGS84;
// in converts it to a service's spatial reference once that is known.
type aoiFile struct {
	path  string
	data  []byte
	wgs84 *ags.Area // the polygons and their envelope, in WKID 4326
}

// readAOI reads and checks an --aoi file. A file that cannot be read, is
// not GeoJSON, or holds no polygon with an area is a usage error (exit 2).
func readAOI(path string) (*aoiFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("--aoi: %v", err)
	}
	area, err := ags.GeoJSONArea(b, wgs84)
	if err != nil {
		return nil, usageErr("--aoi %s: %v", path, err)
	}
	return &aoiFile{path: path, data: b, wgs84: area}, nil
}

// in returns the area in sr when ags.GeoJSONArea converts to it (Web
// Mercator, or WGS84 itself), else in WGS84: the spatial reference travels
// with the polygons and the envelope, for the server to project.
func (f *aoiFile) in(sr *ags.SpatialReference) *ags.Area {
	if sr != nil {
		if area, err := ags.GeoJSONArea(f.data, *sr); err == nil {
			return area
		}
	}
	return f.wgs84
}

// extentIn returns the envelope of the area in the spatial reference of
// ref's tiling scheme, read from the site (Tiles.Scheme): converted to Web
// Mercator, or kept in WGS84. A scheme in another spatial reference, or in
// none, is a usage error (exit 2) before the job is submitted: a hosted
// tile layer takes the extent in its own spatial reference.
func (f *aoiFile) extentIn(ctx context.Context, c *ags.Client, ref ags.ServiceRef) (*ags.Extent, error) {
	sch, err := c.Tiles.Scheme(ctx, ref)
	if err != nil {
		return nil, err
	}
	if sch.SpatialReference == nil {
		return nil, usageErr("--aoi %s: the tiling scheme of %s names no spatial reference: give the area with --extent and --sr", f.path, ref.String())
	}
	area, err := ags.GeoJSONArea(f.data, *sch.SpatialReference)
	if err != nil {
		return nil, usageErr("--aoi %s: %s: %w (or give the area with --extent and --sr)", f.path, ref.String(), err)
	}
	return area.Extent, nil
}

// areaFlags are the --extent, --sr and --aoi flags of a command that works
// inside an area.
type areaFlags struct {
	extent, aoi string
	sr          int
}

// add registers the flags on cmd; without aoiHelp there is no --aoi.
func (f *areaFlags) add(cmd *cobra.Command, extentHelp, aoiHelp string) {
	fs := cmd.Flags()
	fs.StringVar(&f.extent, "extent", "", extentHelp)
	fs.IntVar(&f.sr, "sr", 0, "WKID of --extent, e.g. 3857")
	if aoiHelp != "" {
		fs.StringVar(&f.aoi, "aoi", "", aoiHelp)
	}
}

// parse reads the area given: an extent, a GeoJSON file, or neither (both
// nil). Both at once, --sr without --extent, or a bad value is a usage
// error (exit 2).
func (f *areaFlags) parse() (*ags.Extent, *aoiFile, error) {
	switch {
	case f.extent != "" && f.aoi != "":
		return nil, nil, usageErr("--extent and --aoi: give one")
	case f.extent != "":
		ext, err := parseExtent(f.extent, f.sr)
		return ext, nil, err
	case f.aoi != "":
		if f.sr != 0 {
			return nil, nil, usageErr("--sr goes with --extent; GeoJSON (--aoi) is always WKID 4326")
		}
		area, err := readAOI(f.aoi)
		return nil, area, err
	case f.sr != 0:
		return nil, nil, usageErr("--sr goes with --extent")
	}
	return nil, nil, nil
}
