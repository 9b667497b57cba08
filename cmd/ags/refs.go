package main

import (
	"io"
	"strings"

	"github.com/seed9bfd6bbc/ags"
)

// parseRef reads a service reference.
func parseRef(s string) (ags.ServiceRef, error) {
	// TEMPORARY until ags.ParseServiceRef lands.
	s = strings.TrimSpace(s)
	var typ string
	if i := strings.LastIndexAny(s, ".:"); i > 0 {
		s, typ = s[:i], s[i+1:]
	}
	folder, name := "", s
	if i := strings.LastIndex(s, "/"); i >= 0 {
		folder, name = s[:i], s[i+1:]
	}
	if name == "" || typ == "" {
		return ags.ServiceRef{}, usageErr("service %q: want Folder/Name.Type", s)
	}
	return ags.ServiceRef{Folder: folder, Name: name, Type: ags.ServiceType(typ)}, nil
}

func parseRefs(argv []string) ([]ags.ServiceRef, error) {
	refs := make([]ags.ServiceRef, 0, len(argv))
	for _, s := range argv {
		r, err := parseRef(s)
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// refLabel renders a service as Folder/Name.Type.
func refLabel(r ags.ServiceRef) string {
	folder := strings.Trim(r.Folder, "/")
	if folder == "" {
		return r.Name + "." + string(r.Type)
	}
	return folder + "/" + r.Name + "." + string(r.Type)
}

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
