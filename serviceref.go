package ags

import (
	"net/url"
	"strings"
)

// ServiceRef names one existing service: its folder ("" or "/" for the
// root), name and type. Every call that acts on an existing service takes
// one; ParseServiceRef reads the forms admins paste, and String prints the
// admin form back.
//
//	ref := ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer}
//	ref, err := ags.ParseServiceRef("Imagery/Portland.ImageServer")
//
// Types compare without regard to case ("imageserver" is ImageServer).
type ServiceRef struct {
	Folder string
	Name   string
	Type   ServiceType
}

// String returns the admin API's form, "Folder/Name.Type", or "Name.Type"
// for a root service.
func (r ServiceRef) String() string {
	s := r.Name + "." + string(r.Type)
	if f := normFolder(r.Folder); f != "" {
		s = f + "/" + s
	}
	return s
}

// orType returns r with Type t when r has none.
func (r ServiceRef) orType(t ServiceType) ServiceRef {
	if strings.TrimSpace(string(r.Type)) == "" {
		r.Type = t
	}
	return r
}

// IsZero reports whether r names nothing.
func (r ServiceRef) IsZero() bool { return r == ServiceRef{} }

// Equal reports whether r and o name the same service: same folder (the
// root spelled "" or "/"), same name, same type ignoring case.
func (r ServiceRef) Equal(o ServiceRef) bool {
	return normFolder(r.Folder) == normFolder(o.Folder) && r.Name == o.Name && r.Type.Is(o.Type)
}

// clean checks r before any request and returns it with the root folder
// spelled "" and a listed type in its own spelling. prefix names the field
// in a *ValidationError ("" for a bare argument, "Service." in a request).
func (r ServiceRef) clean(prefix string) (ServiceRef, error) {
	if err := validFolder(prefix+"Folder", r.Folder); err != nil {
		return r, err
	}
	if err := validName(prefix+"Name", r.Name); err != nil {
		return r, err
	}
	if err := validType(prefix+"Type", r.Type); err != nil {
		return r, err
	}
	out := ServiceRef{Folder: normFolder(r.Folder), Name: r.Name, Type: r.Type}
	if k := r.Type.canonical(); k != "" {
		out.Type = k
	}
	return out, nil
}

// refOfType checks ref and that its type is one of types (any case).
func refOfType(prefix string, ref ServiceRef, types ...ServiceType) (ServiceRef, error) {
	ref, err := ref.clean(prefix)
	if err != nil {
		return ref, err
	}
	for _, t := range types {
		if ref.Type.Is(t) {
			ref.Type = t
			return ref, nil
		}
	}
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return ref, invalid(prefix+"Type", "must be %s, got %q", strings.Join(names, ", "), ref.Type)
}

// ParseServiceRef reads a service named the way admins paste it:
//
//	Folder/Name.MapServer        the admin API's form (String prints it)
//	Name.ImageServer             a root service
//	Folder/Name:MapServer        the caching tools' form
//	Folder/Name/MapServer        the services directory's path
//	https://host/arcgis/rest/services/Folder/Name/MapServer[/0...]
//	https://host/arcgis/admin/services/Folder/Name.MapServer[/status...]
//
// A URL may be a services directory, admin or hosted-admin (rest/admin)
// address; what follows the service (a layer, an operation, a query) is
// ignored. Bad input is a *ValidationError that says what is wrong.
func ParseServiceRef(s string) (ServiceRef, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return ServiceRef{}, invalid("service", "must not be empty; want Folder/Name.Type, e.g. Imagery/Portland.ImageServer")
	}
	path := in
	fromURL := false
	if strings.Contains(in, "://") {
		u, err := url.Parse(in)
		if err != nil || u.Host == "" {
			return ServiceRef{}, invalid("service", "%q is not a URL", in)
		}
		segs := strings.Split(strings.Trim(u.Path, "/"), "/")
		at := -1
		for i := len(segs) - 1; i >= 0; i-- {
			if strings.EqualFold(segs[i], "services") {
				at = i
				break
			}
		}
		if at < 0 || at+1 >= len(segs) {
			return ServiceRef{}, invalid("service", "%q is not a service URL (want .../rest/services/[Folder/]Name/Type or .../admin/services/[Folder/]Name.Type)", in)
		}
		path, fromURL = strings.Join(segs[at+1:], "/"), true
	}
	ref, err := parseRefPath(path, fromURL)
	if err != nil {
		return ServiceRef{}, invalid("service", "%q: %s", in, err.(*ValidationError).Reason)
	}
	return ref.clean("")
}

// parseRefPath reads [Folder/]Name.Type, [Folder/]Name:Type or
// [Folder/]Name/Type. With trailing set (a URL's path), segments after the
// service are ignored.
func parseRefPath(p string, trailing bool) (ServiceRef, error) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	// Name.Type or Name:Type in segment 0 or 1.
	for i := 0; i < len(segs) && i < 2; i++ {
		if name, typ, ok := cutType(segs[i]); ok {
			if !trailing && i != len(segs)-1 {
				break
			}
			ref := ServiceRef{Name: name, Type: ServiceType(typ)}
			if i == 1 {
				ref.Folder = segs[0]
			}
			return ref, nil
		}
	}
	// Name/Type or Folder/Name/Type.
	for i := 1; i < len(segs) && i < 3; i++ {
		if looksLikeType(segs[i]) {
			if !trailing && i != len(segs)-1 {
				break
			}
			ref := ServiceRef{Name: segs[i-1], Type: ServiceType(segs[i])}
			if i == 2 {
				ref.Folder = segs[0]
			}
			return ref, nil
		}
	}
	return ServiceRef{}, invalid("service", "want Folder/Name.Type, Folder/Name:Type or Folder/Name/Type with a type such as MapServer")
}

// cutType splits "Name.Type" or "Name:Type" when the part after the last
// '.' or ':' looks like a service type.
func cutType(seg string) (name, typ string, ok bool) {
	i := strings.LastIndexAny(seg, ".:")
	if i <= 0 || !looksLikeType(seg[i+1:]) {
		return "", "", false
	}
	return seg[:i], seg[i+1:], true
}

// looksLikeType reports whether a path segment is a service type: a listed
// one in any case, or a name ending in "Server" (VideoServer).
func looksLikeType(seg string) bool {
	if ServiceType(seg).Known() {
		return true
	}
	return len(seg) > len("Server") && strings.HasSuffix(strings.ToLower(seg), "server") && validType("", ServiceType(seg)) == nil
}
