package main

import "github.com/seed9bfd6bbc/ags"

// parseRefs reads service references as ags.ParseServiceRef does:
// Folder/Name.Type, Folder/Name:Type, Name.Type or a service URL.
func parseRefs(argv []string) ([]ags.ServiceRef, error) {
	refs := make([]ags.ServiceRef, 0, len(argv))
	for _, s := range argv {
		r, err := ags.ParseServiceRef(s)
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, nil
}
