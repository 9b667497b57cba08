package ags

import (
	"context"
	"strings"
	"unicode"
)

// RefreshServiceTask is the path, under rest/services, of the task that
// makes a live service pick up new data without a restart.
// https://developers.arcgis.com/rest/services-reference/enterprise/refreshservice
const RefreshServiceTask = "System/PublishingTools/GPServer/Refresh Service"

// RefreshServiceRequest names the service to refresh.
type RefreshServiceRequest struct {
	ServiceName string      // required
	ServiceType ServiceType // required: ImageServer, MapServer, FeatureServer or SceneServer
	Folder      string      // "" or "/" for the root folder
	// RefreshOptions is passed through as the task's refreshOptions
	// parameter. "At this time, no options are available or supported."
	RefreshOptions string
	// TaskPath overrides RefreshServiceTask, e.g.
	// "System/PublishingToolsEx/GPServer/Refresh Service".
	TaskPath string
}

// refreshParams is the task's form.
type refreshParams struct {
	ServiceName    string `url:"serviceName"`
	ServiceType    string `url:"serviceType"`
	ServiceFolder  string `url:"serviceFolder,omitempty"`
	RefreshOptions string `url:"refreshOptions,omitempty"`
}

// refreshableTypes are the service types the task accepts.
var refreshableTypes = []ServiceType{ImageServer, MapServer, FeatureServer, SceneServer}

// validate checks the request before any request is sent, and returns the
// service type spelled as the task wants it.
func (r RefreshServiceRequest) validate() (ServiceType, error) {
	if err := validName("ServiceName", r.ServiceName); err != nil {
		return "", err
	}
	if strings.TrimSpace(string(r.ServiceType)) == "" {
		return "", invalid("ServiceType", "required: ImageServer, MapServer, FeatureServer or SceneServer")
	}
	typ := ServiceType("")
	for _, t := range refreshableTypes {
		if strings.EqualFold(strings.TrimSpace(string(r.ServiceType)), string(t)) {
			typ = t
		}
	}
	if typ == "" {
		return "", invalid("ServiceType", "must be ImageServer, MapServer, FeatureServer or SceneServer, got %q", r.ServiceType)
	}
	if f := normFolder(r.Folder); f != "" {
		if err := validFolder("Folder", f); err != nil {
			return "", err
		}
	}
	if r.TaskPath != "" {
		if err := validTaskPath(r.TaskPath); err != nil {
			return "", err
		}
	}
	return typ, nil
}

// RefreshResult is a finished refresh.
type RefreshResult struct {
	*GPResult
	// Results is the task's refreshResults output, as the server wrote it
	// ("" when the task gave none).
	Results string
}

// Refresh submits the Refresh Service job for a service and returns its
// handle at once: a live image service (hasLiveData) picks up new rasters,
// a map or feature service refreshes its snapshot, without a restart. The
// request is checked before anything is sent (*ValidationError). Store
// Job.ID to re-attach later with RefreshJob. The submit is sent once and
// never retried after the server may have acted. Needs publisher or
// administrator privileges.
// https://developers.arcgis.com/rest/services-reference/enterprise/refreshservice
func (s *ServicesService) Refresh(ctx context.Context, req RefreshServiceRequest) (*Job[*RefreshResult], error) {
	typ, err := req.validate()
	if err != nil {
		return nil, err
	}
	task := req.TaskPath
	if task == "" {
		task = RefreshServiceTask
	}
	params := refreshParams{ServiceName: req.ServiceName, ServiceType: string(typ),
		ServiceFolder: normFolder(req.Folder), RefreshOptions: req.RefreshOptions}
	return submitGP(ctx, s.client, task, params, readRefreshResult)
}

// RefreshJob re-attaches to a Refresh Service job (on RefreshServiceTask)
// by its ID. No request is sent until the handle is used.
func (s *ServicesService) RefreshJob(jobID string) (*Job[*RefreshResult], error) {
	return attachGP(s.client, RefreshServiceTask, jobID, readRefreshResult)
}

// RefreshAndWait refreshes a service and waits for the job to end.
func (s *ServicesService) RefreshAndWait(ctx context.Context, req RefreshServiceRequest, opts *PollOptions) (*RefreshResult, error) {
	job, err := s.Refresh(ctx, req)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx, opts)
}

// readRefreshResult reads the refreshResults output, when the job lists it.
func readRefreshResult(ctx context.Context, r *GPResult) (*RefreshResult, error) {
	out := &RefreshResult{GPResult: r}
	for _, name := range r.Outputs {
		if strings.EqualFold(name, "refreshResults") {
			p, err := r.Result(ctx, name)
			if err != nil {
				return nil, err
			}
			out.Results = p.String()
		}
	}
	return out, nil
}

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
