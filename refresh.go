package ags

import (
	"context"
	"strings"
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

func (r RefreshServiceRequest) validate() error {
	if err := validName("ServiceName", r.ServiceName); err != nil {
		return err
	}
	ok := false
	for _, t := range refreshableTypes {
		if r.ServiceType == t {
			ok = true
		}
	}
	if !ok {
		return invalid("ServiceType", "must be ImageServer, MapServer, FeatureServer or SceneServer, got %q", r.ServiceType)
	}
	if f := normFolder(r.Folder); f != "" {
		if err := validName("Folder", f); err != nil {
			return err
		}
	}
	if r.TaskPath != "" {
		return validTaskPath(r.TaskPath)
	}
	return nil
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
// a map or feature service refreshes its snapshot, without a restart. Store
// Job.ID to re-attach later with GP.Job(RefreshServiceTask, id). Needs
// publisher or administrator privileges.
// https://developers.arcgis.com/rest/services-reference/enterprise/refreshservice
func (s *ServicesService) Refresh(ctx context.Context, req RefreshServiceRequest) (*Job[*RefreshResult], error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	task := req.TaskPath
	if task == "" {
		task = RefreshServiceTask
	}
	params := refreshParams{ServiceName: req.ServiceName, ServiceType: string(req.ServiceType),
		ServiceFolder: normFolder(req.Folder), RefreshOptions: req.RefreshOptions}
	return submitGP(ctx, s.client, task, params, readRefreshResult)
}

// RefreshJob re-attaches to a Refresh Service job by its ID.
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

// validName checks a service or folder name: not empty, no slashes,
// spaces, dots or characters the server rejects (letters, digits and
// underscores only, as ArcGIS Server requires).
func validName(field, name string) error {
	if name == "" {
		return invalid(field, "must not be empty")
	}
	if len(name) > 120 {
		return invalid(field, "must be at most 120 characters")
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
		case r == '/':
			return invalid(field, "%q must not contain '/'", name)
		case r == ' ':
			return invalid(field, "%q must not contain spaces", name)
		default:
			return invalid(field, "%q may hold only letters, digits and underscores, not %q", name, r)
		}
	}
	return nil
}
