package ags

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// GPService runs geoprocessing tasks. Reach it as Client.GP.
type GPService service

// GPResult is a geoprocessing job that succeeded: its messages and the
// output parameters it offers. Read an output with Result or Results.
type GPResult struct {
	JobID    string
	Status   string
	Messages []JobMessage
	// Outputs are the names of the result parameters the job lists.
	Outputs []string

	jobURL    *url.URL
	paramURLs map[string]string // output name -> the job's own link, e.g. "results/output_features"
	client    *Client
	scope     string // "<task> job <id>", naming the job in errors
}

// GPParam is one input or output parameter value of a job.
type GPParam struct {
	ParamName string          `json:"paramName"`
	DataType  string          `json:"dataType"`
	Value     json.RawMessage `json:"value"`
}

// Decode decodes the parameter's value into v.
func (p *GPParam) Decode(v any) error {
	if err := json.Unmarshal(p.Value, v); err != nil {
		return fmt.Errorf("decode %s (%s): %w", p.ParamName, p.DataType, err)
	}
	return nil
}

// String returns a GPString value as it is, other values as JSON text.
func (p *GPParam) String() string {
	if s, ok := jsonString(p.Value); ok {
		return s
	}
	return string(p.Value)
}

// Result reads one output parameter (results/<name>, or the link the job
// gave for it).
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-result
func (r *GPResult) Result(ctx context.Context, name string) (*GPParam, error) {
	var p GPParam
	if err := r.readResult(ctx, name, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// readResult reads output parameter name into out: a GPParam, or a type
// around one that checks the answer (answerChecker).
func (r *GPResult) readResult(ctx context.Context, name string, out any) error {
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "/?#") || name == "." || name == ".." {
		return invalid("result name", "must be a parameter name, got %q", name)
	}
	u := r.jobURL.JoinPath("results", name)
	if rel, ok := r.paramURL(name); ok {
		u = r.jobURL.JoinPath(rel)
	}
	return r.client.do(ctx, call{op: opResults, scope: r.scope, method: http.MethodGet, url: u, idempotent: true}, out)
}

// paramURL returns the job's own relative link for output name, when it
// gave one that stays under the job's results.
func (r *GPResult) paramURL(name string) (string, bool) {
	rel, ok := r.paramURLs[name]
	if !ok {
		for k, v := range r.paramURLs {
			if strings.EqualFold(k, name) {
				rel, ok = v, true
				break
			}
		}
	}
	if !ok {
		return "", false
	}
	u, err := url.Parse(strings.TrimSpace(rel))
	if err != nil || u.IsAbs() || u.Host != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) != 2 || !strings.EqualFold(segs[0], "results") || segs[1] == "" || segs[1] == "." || segs[1] == ".." {
		return "", false
	}
	return "results/" + segs[1], true
}

// Results reads every output parameter the job lists.
func (r *GPResult) Results(ctx context.Context) (map[string]*GPParam, error) {
	out := make(map[string]*GPParam, len(r.Outputs))
	for _, name := range r.Outputs {
		p, err := r.Result(ctx, name)
		if err != nil {
			return nil, err
		}
		out[name] = p
	}
	return out, nil
}

// gpJobInfo is a GP job resource.
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-job
type gpJobInfo struct {
	JobID     string                `json:"jobId"`
	JobStatus string                `json:"jobStatus"`
	Messages  []JobMessage          `json:"messages"`
	Results   map[string]gpParamRef `json:"results"`
	Progress  *JobProgress          `json:"progress"`
}

// returnMessages is the job status form: messages are asked for (the
// default, sent anyway). Only ever read.
var returnMessages = url.Values{"returnMessages": {"true"}}

// gpSubmitAnswer is submitJob's answer: a job resource that must name its job.
type gpSubmitAnswer struct{ gpJobInfo }

func (a *gpSubmitAnswer) checkAnswer() error { return checkJobID(a.JobID) }

// gpStatusAnswer is a job status read: a job resource that must name its status.
type gpStatusAnswer struct{ gpJobInfo }

func (a *gpStatusAnswer) checkAnswer() error { return checkJobStatus(a.JobStatus) }

// gpParamRef is one entry of a job's results or inputs: {"paramUrl": "results/<param>"}.
type gpParamRef struct {
	ParamURL string `json:"paramUrl"`
}

// SubmitJob submits a job to an asynchronous task and returns its handle at
// once. taskPath is relative to rest/services, e.g.
// "System/PublishingTools/GPServer/Refresh Service" (spaces are sent as
// %20; an already escaped path is accepted too). params is url.Values,
// map[string]any (non-string values are sent as JSON, as GP parameters
// want) or a struct with `url` tags. The submit is sent once: it is not
// retried after the server may have acted. When its answer is lost, the
// error matches ErrOutcomeUnknown and says where to look for the job
// before submitting again.
// https://developers.arcgis.com/rest/services-reference/enterprise/submit-gp-job
func (s *GPService) SubmitJob(ctx context.Context, taskPath string, params any) (*Job[*GPResult], error) {
	return submitGP(ctx, s.client, taskPath, params, nil, gpIdentity, false)
}

// Job re-attaches to a job submitted earlier, from its task and ID (Job.ID
// of the handle SubmitJob returned). No request is sent until it is used.
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-job
func (s *GPService) Job(taskPath, jobID string) (*Job[*GPResult], error) {
	return attachGP(s.client, taskPath, jobID, gpIdentity)
}

// readJobInput reads input name of a GP job (jobs/<id>/inputs/<name>)
// into out; the job keeps its inputs after it ends.
func (c *Client) readJobInput(ctx context.Context, task, jobID, name string, out any) error {
	return c.do(ctx, call{op: opInputs, scope: taskName(task) + " job " + jobID + " input " + name, method: http.MethodGet,
		url: c.endpoint(rootServices, task, "jobs", jobID, "inputs", name), idempotent: true}, out)
}

func gpIdentity(_ context.Context, r *GPResult) (*GPResult, error) { return r, nil }

// ExtraParams are form parameters that a typed task request (Refresh,
// PublishSD, the caching tasks) adds to the ones it sends, or sends
// instead of them: a key given here replaces the request's own value of
// that key. It is the way out where Esri's documentation and its servers
// disagree on a parameter, and is never needed for the documented
// parameters. "f" and "token" cannot be set. With GP.SubmitJob, which
// takes any parameters, pass them directly instead.
type ExtraParams url.Values

// check refuses names that could not be sent (empty or padded) and the
// parameters the client sets itself (f, token; any case).
func (extra ExtraParams) check() error {
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		switch {
		case strings.TrimSpace(k) == "" || strings.TrimSpace(k) != k:
			return invalid("ExtraParams", "%q is not a parameter name", k)
		case strings.EqualFold(k, "f"), strings.EqualFold(k, "token"):
			return invalid("ExtraParams", "%q is set by the client and cannot be overridden", k)
		}
	}
	return nil
}

// apply returns the form of params with extra added or replacing (a
// parameter in extra replaces the typed one of the same name). The
// caller's values are not changed.
func (extra ExtraParams) apply(params any) (url.Values, error) {
	if err := extra.check(); err != nil {
		return nil, err
	}
	vals, err := form.Encode(params)
	if err != nil {
		return nil, &ValidationError{Field: "params", Reason: err.Error()}
	}
	for k, v := range extra {
		vals[k] = append([]string(nil), v...)
	}
	return vals, nil
}

// SubmitAndWait submits a job and waits for it.
func (s *GPService) SubmitAndWait(ctx context.Context, taskPath string, params any, opts *PollOptions) (*GPResult, error) {
	job, err := s.SubmitJob(ctx, taskPath, params)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx, opts)
}

// submitGP submits to a task and builds a Job whose result is convert'ed
// from the GP result. Typed task requests (Refresh, PublishSD, the caching
// tasks) pass the caller's ExtraParams, which are added to params or
// replace its values. An idempotent task (Refresh Service) is retried like
// a read; any other submit is sent at most once, and a lost answer is an
// *OutcomeUnknownError.
func submitGP[T any](ctx context.Context, c *Client, taskPath string, params any, extra ExtraParams,
	convert func(context.Context, *GPResult) (T, error), idempotent bool) (*Job[T], error) {
	task, err := normTaskPath(taskPath)
	if err != nil {
		return nil, err
	}
	if params, err = extra.apply(params); err != nil {
		return nil, err
	}
	r := call{op: opSubmitJob, scope: taskName(task), method: http.MethodPost,
		url: c.endpoint(rootServices, task, "submitJob"), params: params, idempotent: idempotent}
	var info gpSubmitAnswer
	if err = c.do(ctx, r, &info); err != nil {
		if idempotent {
			return nil, err
		}
		return nil, outcomeUnknown(err, r.label(), "", gpJobsHint(task))
	}
	id := strings.TrimSpace(info.JobID) // checked by decode
	return gpJob(c, task, id, convert, true), nil
}

func taskName(taskPath string) string {
	p := strings.Trim(taskPath, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// attachGP re-attaches to a GP job by task and ID. The tiles code uses it
// for Manage Map Cache Tiles.
func attachGP[T any](c *Client, taskPath, jobID string, convert func(context.Context, *GPResult) (T, error)) (*Job[T], error) {
	task, err := normTaskPath(taskPath)
	if err != nil {
		return nil, err
	}
	if err := validJobID(jobID); err != nil {
		return nil, err
	}
	return gpJob(c, task, jobID, convert, false), nil
}

// gpJob builds the handle on GP job jobID of a (normalised) task: status
// with returnMessages, cancel, and results read on success. Its snapshot is
// the job resource itself, whose results list becomes the GPResult's
// outputs.
func gpJob[T any](c *Client, task, jobID string, convert func(context.Context, *GPResult) (T, error), fresh bool) *Job[T] {
	op := taskName(task)
	scope := op + " job " + jobID
	jobURL := c.endpoint(rootServices, task, "jobs", jobID)
	spec := jobSpec[*gpStatusAnswer, T]{
		op: op,
		poll: func(ctx context.Context) (JobStatus, *gpStatusAnswer, error) {
			info := new(gpStatusAnswer)
			err := c.do(ctx, call{op: opStatus, scope: scope, method: http.MethodGet, url: jobURL,
				params: returnMessages, idempotent: true}, info)
			if err != nil {
				return JobStatus{}, nil, err
			}
			return JobStatus{JobID: jobID, State: ClassifyGPStatus(info.JobStatus), Status: info.JobStatus,
				Progress: info.Progress, Messages: info.Messages}, info, nil
		},
		result: func(ctx context.Context, st JobStatus, info *gpStatusAnswer) (T, error) {
			r := &GPResult{JobID: jobID, Status: st.Status, Messages: st.Messages, jobURL: jobURL, client: c, scope: scope,
				Outputs: make([]string, 0, len(info.Results)), paramURLs: make(map[string]string, len(info.Results))}
			for name, ref := range info.Results {
				r.Outputs = append(r.Outputs, name)
				if ref.ParamURL != "" {
					r.paramURLs[name] = ref.ParamURL
				}
			}
			sort.Strings(r.Outputs)
			return convert(ctx, r)
		},
		cancel: func(ctx context.Context) error {
			// Cancelling twice is harmless, so the call may be retried.
			// https://developers.arcgis.com/rest/services-reference/enterprise/cancel-gp-job
			return c.do(ctx, call{op: opCancel, scope: scope, method: http.MethodPost,
				url: c.endpoint(rootServices, task, "jobs", jobID, "cancel"), idempotent: true}, nil)
		},
	}
	return newJob(c, jobID, cleanURL(jobURL), spec, fresh)
}
