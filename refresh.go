package ags

import (
	"context"
	"strings"
)

// RefreshServiceTask is the path, under rest/services, of the task that
// makes a live service pick up new data without a restart.
// https://developers.arcgis.com/rest/services-reference/enterprise/refreshservice
const RefreshServiceTask = "System/PublishingTools/GPServer/Refresh Service"

// A RefreshOption changes how Refresh and RefreshJob reach the task.
type RefreshOption func(*refreshConfig)

type refreshConfig struct {
	task    string
	options string
	extra   ExtraParams
}

// WithRefreshTask sends the job to another Refresh Service task than
// RefreshServiceTask, e.g. "System/PublishingToolsEx/GPServer/Refresh
// Service". Give RefreshJob the same option to re-attach to such a job.
func WithRefreshTask(taskPath string) RefreshOption {
	return func(c *refreshConfig) { c.task = taskPath }
}

// WithRefreshOptions passes text as the task's refreshOptions parameter.
// Esri documents it as "At this time, no options are available or
// supported."
func WithRefreshOptions(text string) RefreshOption {
	return func(c *refreshConfig) { c.options = text }
}

// WithRefreshParams adds form parameters to the Refresh Service submit,
// or replaces the ones Refresh sends (serviceName, serviceType,
// serviceFolder, refreshOptions): the escape hatch for a server that wants
// what the documentation does not say, e.g. the standard GP environment
// parameter "env:outSR". It is never needed for the documented task. See
// ExtraParams.
func WithRefreshParams(extra ExtraParams) RefreshOption {
	return func(c *refreshConfig) { c.extra = extra }
}

func refreshSettings(opts []RefreshOption) (refreshConfig, error) {
	cfg := refreshConfig{task: RefreshServiceTask}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	task, err := normTaskPath(cfg.task)
	cfg.task = task
	return cfg, err
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

// RefreshResult is a finished refresh.
type RefreshResult struct {
	*GPResult
	// Results is the task's refreshResults output, as the server wrote it
	// ("" when the task gave none).
	Results string
}

// Refresh submits the Refresh Service job for a service and returns its
// handle at once: a live image service (hasLiveData) picks up new rasters,
// a map or feature service refreshes its snapshot, without a restart.
//
//	job, err := c.Services.Refresh(ctx, ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
//
// The service must be an ImageServer, MapServer, FeatureServer or
// SceneServer (any case); the reference is checked before anything is
// sent (*ValidationError). Store Job.ID to re-attach later with
// RefreshJob. Needs publisher or administrator privileges. A refresh is
// idempotent, so its submit is retried like a read after a gateway error
// or a dropped connection (at worst a second refresh job runs).
//
// The task checks the service on the server, as the job runs: a service
// that does not exist makes the job fail (a *JobError quoting the
// server's message, matching ErrJobFailed), not the submit, and the error
// does not match ErrNotFound. Ask Services.Exists first where that
// difference matters.
// https://developers.arcgis.com/rest/services-reference/enterprise/refreshservice
func (s *ServicesService) Refresh(ctx context.Context, ref ServiceRef, opts ...RefreshOption) (*Job[*RefreshResult], error) {
	ref, err := refOfType("", ref, refreshableTypes...)
	if err != nil {
		return nil, err
	}
	cfg, err := refreshSettings(opts)
	if err != nil {
		return nil, err
	}
	params := refreshParams{ServiceName: ref.Name, ServiceType: string(ref.Type),
		ServiceFolder: ref.Folder, RefreshOptions: cfg.options}
	// Refreshing a service twice leaves it as refreshing it once: the
	// submit is retried like a read (a duplicate job is harmless).
	return submitGP(ctx, s.client, cfg.task, params, cfg.extra, readRefreshResult, true)
}

// RefreshJob re-attaches to a Refresh Service job by its ID, on
// RefreshServiceTask or on the task WithRefreshTask names. No request is
// sent until the handle is used.
func (s *ServicesService) RefreshJob(jobID string, opts ...RefreshOption) (*Job[*RefreshResult], error) {
	cfg, err := refreshSettings(opts)
	if err != nil {
		return nil, err
	}
	return attachGP(s.client, cfg.task, jobID, readRefreshResult)
}

// RefreshAndWait refreshes a service and waits for the job to end.
func (s *ServicesService) RefreshAndWait(ctx context.Context, ref ServiceRef, poll *PollOptions, opts ...RefreshOption) (*RefreshResult, error) {
	job, err := s.Refresh(ctx, ref, opts...)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx, poll)
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
