package ags

import (
	"net/url"
	"strings"
	"unicode"
)

// Identifier rules: every name that goes into a URL path is checked here
// before any request is sent, and a bad one is a *ValidationError.

// normFolder maps the root folder's spellings ("", "/") to "".
func normFolder(folder string) string {
	return strings.Trim(strings.TrimSpace(folder), "/")
}

// validName checks a service name before it is sent: 1 to 120 characters,
// ASCII letters, digits, underscores and hyphens only (so no spaces,
// slashes or dots).
//
// Esri documents the server-side rule as "Name is case-sensitive, and can
// have a maximum of 120 characters. Names can contain only the following
// characters: A - Z, a - z, 0 - 9, _ (underscore), - (minus)"
// (IServerObjectConfiguration.Name,
// https://desktop.arcgis.com/en/arcobjects/10.5/net/IServerObjectConfiguration_Name.htm).
// The publishing tools are stricter ("only alphanumeric characters and
// underscores ... not more than 120 characters", arcpy CreateMapSDDraft
// service_name; the portal's createService "does not allow spaces or
// special characters other than underscores",
// https://developers.arcgis.com/rest/users-groups-and-items/create-service-image-service),
// but a service to refresh already exists, so the server's own, wider rule
// is the one that must not reject it.
func validName(field, name string) error {
	if name == "" {
		return invalid(field, "must not be empty")
	}
	if len(name) > 120 {
		return invalid(field, "must be at most 120 characters, got %d", len(name))
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		case r == '/':
			return invalid(field, "%q must not contain '/' (put the folder in Folder)", name)
		case r == ' ':
			return invalid(field, "%q must not contain spaces", name)
		default:
			return invalid(field, "%q may hold only letters, digits, underscores and hyphens, not %q", name, r)
		}
	}
	return nil
}

// validFolderName checks a folder name (not the root). ArcGIS documents no character list for
// folders beyond "The folder name must not contain any spaces"
// (https://developers.arcgis.com/rest/enterprise-administration/enterprise/create-folder),
// so only what cannot be a single path segment is refused: spaces and
// other white space, slashes, '?', '#', '%', control characters, "." and
// "..", and names over 120 characters.
func validFolderName(field, name string) error {
	if name == "" {
		return invalid(field, "must not be empty")
	}
	if len(name) > 120 {
		return invalid(field, "must be at most 120 characters, got %d", len(name))
	}
	if name == "." || name == ".." {
		return invalid(field, "must be a folder name, got %q", name)
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return invalid(field, "%q must be one folder (ArcGIS Server has a single level of folders)", name)
		case unicode.IsSpace(r):
			return invalid(field, "%q must not contain spaces", name)
		case r == '?' || r == '#' || r == '%' || unicode.IsControl(r):
			return invalid(field, "%q must not contain %q", name, r)
		}
	}
	return nil
}

// validFolder accepts the root ("" or "/") or a valid folder name. It is
// the one folder rule of every call: Refresh, the admin services calls and
// CreateFolder.
func validFolder(field, folder string) error {
	if f := normFolder(folder); f != "" {
		return validFolderName(field, f)
	}
	return nil
}

// validType checks the shape of a service type, not membership of a fixed
// list, so a type this package does not know (VideoServer, found in a
// listing) can still be started, stopped and deleted: 1 to 64 ASCII letters
// and digits, starting with a letter.
func validType(field string, t ServiceType) error {
	s := string(t)
	if strings.TrimSpace(s) == "" {
		return invalid(field, "required (e.g. MapServer)")
	}
	if len(s) > 64 {
		return invalid(field, "must be at most 64 characters, got %d", len(s))
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return invalid(field, "%q is not a service type such as MapServer", t)
		}
	}
	return nil
}

// normTaskPath cleans a task path ("<folder>/<service>/GPServer/<task>"):
// no outer slashes, percent-escapes undone (so "Refresh%20Service" and
// "Refresh Service" are the same task), every segment a plain name.
func normTaskPath(taskPath string) (string, error) {
	p := strings.Trim(strings.TrimSpace(taskPath), "/")
	if p == "" {
		return "", invalid("task path", "must not be empty")
	}
	if strings.Contains(p, "%") {
		u, err := url.PathUnescape(p)
		if err != nil {
			return "", invalid("task path", "bad escape in %q", taskPath)
		}
		p = strings.Trim(u, "/")
	}
	segs := strings.Split(p, "/")
	gp := -1
	for i, seg := range segs {
		if seg == "" || seg == "." || seg == ".." || strings.TrimSpace(seg) != seg ||
			strings.ContainsAny(seg, "?#\\") || strings.ContainsFunc(seg, isControl) {
			return "", invalid("task path", "bad segment %q in %q", seg, taskPath)
		}
		if strings.EqualFold(seg, "GPServer") {
			gp = i
		}
	}
	if gp < 1 || gp != len(segs)-2 {
		return "", invalid("task path", "must name a task as [<folder>/]<service>/GPServer/<task>, got %q", taskPath)
	}
	return p, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validJobID checks a job ID before it goes into a URL path.
func validJobID(jobID string) error { return validPathID("job ID", jobID) }

// validItemID checks an uploaded item's ID before it goes into a URL path.
func validItemID(itemID string) error { return validPathID("item ID", itemID) }

// validPathID checks a server-made ID (a job's, an uploaded item's) that
// goes into a URL path as one segment.
func validPathID(field, id string) error {
	if strings.TrimSpace(id) == "" || strings.TrimSpace(id) != id || id == "." || id == ".." ||
		strings.ContainsAny(id, "/?#\\%") || strings.ContainsFunc(id, isControl) {
		return invalid(field, "must be a %s, got %q", field, id)
	}
	return nil
}
