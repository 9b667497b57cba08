package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seed9bfd6bbc/ags"
)

// ParseExtent reads "xmin,ymin,xmax,ymax,wkid" into an extent.
func ParseExtent(s string) (*ags.Extent, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 5 {
		return nil, fmt.Errorf("extent %q: want xmin,ymin,xmax,ymax,wkid", s)
	}
	var v [4]float64
	for i := range v {
		f, err := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
		if err != nil {
			return nil, fmt.Errorf("extent %q: %q is not a number", s, parts[i])
		}
		v[i] = f
	}
	wkid, err := strconv.Atoi(strings.TrimSpace(parts[4]))
	if err != nil {
		return nil, fmt.Errorf("extent %q: wkid %q is not a whole number", s, parts[4])
	}
	e := &ags.Extent{XMin: v[0], YMin: v[1], XMax: v[2], YMax: v[3],
		SpatialReference: &ags.SpatialReference{WKID: wkid}}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}
