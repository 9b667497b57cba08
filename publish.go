package ags

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/form"
)

// Publishing a service definition (.sd) to ArcGIS Server: upload it, read
// its serviceconfiguration.json, apply overrides, run the Publish Service
// Definition task of System/PublishingTools (REST-REFERENCE §8).

// Publish Service Definition task paths, relative to rest/services.
const (
	// PublishSDTask is the task PublishSD runs.
	PublishSDTask = "System/PublishingTools/GPServer/Publish Service Definition"
	// PublishSDTaskEx is the same task on PublishingToolsEx, which some
	// sites have instead (see WithPublishingToolsEx).
	PublishSDTaskEx = "System/PublishingToolsEx/GPServer/Publish Service Definition"
)

// sdSignature is the start of every .sd file: a service definition is a
// 7-Zip archive (signature "7z\xBC\xAF\x27\x1C",
// https://py7zr.readthedocs.io/en/latest/archive_format.html).
var sdSignature = []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}

// PublishSDRequest says which service definition to publish and how.
// Exactly one of File, Reader and ItemID names the .sd.
type PublishSDRequest struct {
	// File is the path of a .sd file.
	File string
	// Reader is a .sd's content, with Name its file name ("Roads.sd").
	// An *os.File, an io.ReaderAt or an io.ReadSeeker lets a refused
	// upload be sent again.
	Reader io.Reader
	// Name is the file name the server keeps; with File it defaults to
	// the file's own name.
	Name string
	// ItemID is a .sd uploaded earlier with Uploads.Upload.
	ItemID string

	// Overrides of the .sd's own configuration; zero values keep it.

	// Folder is the target folder; "/" is the root folder.
	Folder      string
	ServiceName string
	Description string
	// Capabilities, e.g. "Map,Query,Data".
	Capabilities string
	MinInstances int
	MaxInstances int
	// Properties are merged into the service's properties.
	Properties map[string]any
	// Configure, if set, may change anything else in the configuration
	// after the overrides above; an error from it stops the publish.
	Configure func(*ServiceConfiguration) error
	// PublishOptions is sent as the task's in_publish_options (a JSON
	// object; its keys are undocumented).
	PublishOptions map[string]any

	// CreateFolder creates the target folder when it does not exist.
	CreateFolder bool
	// IfNotExists checks admin/services/exists first and fails with an
	// error matching ErrServiceExists when the service is there.
	IfNotExists bool
	// Upload tunes the upload (progress, parts).
	Upload *UploadOptions
	// ExtraParams are added to the task's form, or replace its
	// parameters: the escape hatch described at ExtraParams, never needed
	// for the documented task.
	ExtraParams ExtraParams
}

// A PublishOption changes how PublishSD and PublishSDJob reach and clean
// up after the task.
type PublishOption func(*publishConfig)

type publishConfig struct {
	task       string
	keepUpload bool
}

// WithPublishingToolsEx runs the task of System/PublishingToolsEx
// (PublishSDTaskEx), which some sites have instead of PublishingTools.
// Esri's Python API switches to it by itself when PublishingTools is
// missing; here it is the caller's choice. Give PublishSDJob the same
// option to re-attach to such a job.
func WithPublishingToolsEx() PublishOption {
	return func(c *publishConfig) { c.task = PublishSDTaskEx }
}

// WithKeepUpload keeps the uploaded item when the publish fails (by
// default it is deleted). The server deletes it when the publish succeeds.
func WithKeepUpload() PublishOption {
	return func(c *publishConfig) { c.keepUpload = true }
}

func publishSettings(opts []PublishOption) publishConfig {
	cfg := publishConfig{task: PublishSDTask}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// PublishResult is a published service definition.
type PublishResult struct {
	*GPResult
	// Service is the new service.
	Service ServiceRef
	// RESTURL and SOAPURL are the task's out_rest_svc_url and
	// out_soap_svc_url outputs ("" when the task gave none).
	RESTURL string
	SOAPURL string
	// Results is the task's out_results output as the server wrote it
	// (its content is undocumented).
	Results string
}

// publishParams is the task's form (REST-REFERENCE §8).
type publishParams struct {
	SDPID           string                          `url:"in_sdp_id"`
	ConfigOverwrite form.JSON[ServiceConfiguration] `url:"in_config_overwrite"`
	PublishOptions  *form.JSON[map[string]any]      `url:"in_publish_options,omitempty"`
}

// PublishSD publishes a service definition (.sd) and returns the job at
// once; Wait gives the new service.
//
//	job, err := c.Services.PublishSD(ctx, ags.PublishSDRequest{File: "Roads.sd", Folder: "Transport", CreateFolder: true})
//	res, err := job.Wait(ctx, nil) // res.Service is Transport/Roads.MapServer
//
// Steps: the request is checked first (one source; a File or Name ending
// in .sd whose content starts as a 7-Zip archive; valid override names),
// with no request sent on bad input (*ValidationError). Then the file is
// uploaded (Uploads.Upload: streamed, in parts when large), its
// serviceconfiguration.json read and the overrides applied; with
// IfNotExists, admin/services/exists is asked; with CreateFolder, the
// folder is created; then the Publish Service Definition task is submitted
// (in_sdp_id, in_config_overwrite, in_publish_options) once, never
// repeated after the server may have acted. Store Job.ID to re-attach
// with PublishSDJob.
//
// A publish that fails returns a *JobError quoting the server's error line
// (e.g. "ERROR 001369: Failed to create the service."), with every
// message in Messages. After a failure (before the job, or of the job)
// the uploaded item is deleted, unless WithKeepUpload is given; an item
// named by ItemID is deleted only when its job fails.
// https://developers.arcgis.com/rest/services-reference/enterprise/publish-service-def
func (s *ServicesService) PublishSD(ctx context.Context, req PublishSDRequest, opts ...PublishOption) (*Job[*PublishResult], error) {
	cfg := publishSettings(opts)
	task, err := normTaskPath(cfg.task)
	if err != nil {
		return nil, err
	}
	src, err := req.source()
	if err != nil {
		return nil, err
	}
	if src.close != nil {
		defer src.close()
	}
	itemID, uploaded := req.ItemID, false
	if itemID == "" {
		item, err := s.client.Uploads.Upload(ctx, src.name, src.r, src.uploadOptions(req.Upload))
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", src.name, err)
		}
		itemID, uploaded = item.ItemID, true
	}
	fail := func(err error) (*Job[*PublishResult], error) {
		if uploaded && !cfg.keepUpload {
			err = s.client.Uploads.cleanup(ctx, itemID, err)
		}
		return nil, err
	}
	conf, err := s.client.Uploads.ServiceConfiguration(ctx, itemID)
	if err != nil {
		return fail(err)
	}
	if err := req.apply(conf); err != nil {
		return fail(err)
	}
	ref, err := conf.Ref().clean("configuration.")
	if err != nil {
		return fail(err)
	}
	if req.IfNotExists {
		exists, err := s.Exists(ctx, ref)
		if err != nil {
			return fail(err)
		}
		if exists {
			return fail(fmt.Errorf("publish: %s: %w", ref, ErrServiceExists))
		}
	}
	if req.CreateFolder && ref.Folder != "" {
		if err := s.CreateFolder(ctx, ref.Folder, ""); err != nil && !errors.Is(err, ErrFolderExists) {
			return fail(err)
		}
	}
	params := publishParams{SDPID: itemID, ConfigOverwrite: form.JSON[ServiceConfiguration]{V: *conf}}
	if req.PublishOptions != nil {
		params.PublishOptions = form.NewJSON(req.PublishOptions)
	}
	job, err := submitGP(ctx, s.client, task, params, req.ExtraParams, s.publishResult(ref), false)
	if errors.Is(err, ErrOutcomeUnknown) {
		// The job may be running on the upload: keep it.
		return nil, err
	}
	if err != nil {
		return fail(err)
	}
	s.cleanupOnFailure(job, task, itemID, cfg)
	return job, nil
}

// PublishSDJob re-attaches to a Publish Service Definition job by its ID
// (on PublishSDTask, or PublishSDTaskEx with WithPublishingToolsEx). No
// request is sent until the handle is used. When the job fails, the item
// it was publishing (its in_sdp_id input) is deleted unless WithKeepUpload
// is given.
// https://developers.arcgis.com/rest/services-reference/enterprise/publish-service-def
func (s *ServicesService) PublishSDJob(jobID string, opts ...PublishOption) (*Job[*PublishResult], error) {
	cfg := publishSettings(opts)
	task, err := normTaskPath(cfg.task)
	if err != nil {
		return nil, err
	}
	job, err := attachGP(s.client, task, jobID, s.publishResult(ServiceRef{}))
	if err != nil {
		return nil, err
	}
	s.cleanupOnFailure(job, task, "", cfg)
	return job, nil
}

// PublishSDAndWait publishes a service definition and waits for the job.
func (s *ServicesService) PublishSDAndWait(ctx context.Context, req PublishSDRequest, poll *PollOptions, opts ...PublishOption) (*PublishResult, error) {
	job, err := s.PublishSD(ctx, req, opts...)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx, poll)
}

// cleanupOnFailure makes a failed job delete its uploaded item: itemID,
// or when "" the job's in_sdp_id input (GP jobs keep their inputs at
// jobs/<id>/inputs/<name>, for failed jobs too:
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-input).
func (s *ServicesService) cleanupOnFailure(job *Job[*PublishResult], task, itemID string, cfg publishConfig) {
	if cfg.keepUpload {
		return
	}
	c := s.client
	job.failed = func(ctx context.Context, jerr *JobError) error {
		id := itemID
		if id == "" {
			var p GPParam
			if err := c.readJobInput(ctx, task, job.id, "in_sdp_id", &p); err != nil {
				return &cleanupError{err: jerr, itemID: "of the job", cleanup: err}
			}
			id = strings.TrimSpace(p.String())
		}
		if id == "" {
			return jerr
		}
		return c.Uploads.cleanup(ctx, id, jerr)
	}
}

// publishResult reads the task's outputs into a PublishResult. The new
// service is read from out_rest_svc_url; when that cannot be read, want
// (the configuration submitted) names it.
func (s *ServicesService) publishResult(want ServiceRef) func(context.Context, *GPResult) (*PublishResult, error) {
	return func(ctx context.Context, r *GPResult) (*PublishResult, error) {
		out := &PublishResult{GPResult: r}
		for _, name := range r.Outputs {
			var dst *string
			switch strings.ToLower(name) {
			case "out_rest_svc_url":
				dst = &out.RESTURL
			case "out_soap_svc_url":
				dst = &out.SOAPURL
			case "out_results":
				dst = &out.Results
			default:
				continue
			}
			var p serviceURLParam
			var err error
			if dst == &out.RESTURL && want.IsZero() {
				// Only this output can name the new service: an answer
				// that does not is reported by decode, as any bad answer.
				err = r.readResult(ctx, name, &p)
			} else {
				err = r.readResult(ctx, name, &p.GPParam)
			}
			if err != nil {
				return nil, err
			}
			*dst = strings.TrimSpace(p.String())
		}
		if out.RESTURL != "" {
			if ref, err := ParseServiceRef(out.RESTURL); err == nil {
				out.Service = ref
				return out, nil
			}
		}
		if want.IsZero() {
			return nil, errors.New("the job lists no out_rest_svc_url output to name the new service")
		}
		out.Service = want
		return out, nil
	}
}

// serviceURLParam is the out_rest_svc_url output read when it alone can
// name the new service: its value must be a service URL.
type serviceURLParam struct{ GPParam }

func (p *serviceURLParam) checkAnswer() error {
	if _, err := ParseServiceRef(strings.TrimSpace(p.String())); err != nil {
		return badAnswer(fmt.Sprintf("out_rest_svc_url (%q) does not name the new service", truncate(p.String(), 120)))
	}
	return nil
}

// sdSource is the checked source of a PublishSD.
type sdSource struct {
	name  string
	r     io.Reader
	size  int64 // -1 unknown
	close func() error
}

func (src sdSource) uploadOptions(o *UploadOptions) *UploadOptions {
	var out UploadOptions
	if o != nil {
		out = *o
	}
	if out.Size == 0 && src.size >= 0 {
		out.Size = src.size
	}
	return &out
}

// source checks where the .sd comes from, opens a File, and checks the
// 7-Zip signature without losing the reader's ability to be read again.
func (req *PublishSDRequest) source() (sdSource, error) {
	n := 0
	for _, set := range []bool{req.File != "", req.Reader != nil, req.ItemID != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return sdSource{}, invalid("PublishSDRequest", "give exactly one of File, Reader and ItemID")
	}
	if err := req.checkOverrides(); err != nil {
		return sdSource{}, err
	}
	if req.ItemID != "" {
		return sdSource{}, validItemID(req.ItemID)
	}
	name := req.Name
	if req.File != "" && name == "" {
		name = filepath.Base(req.File)
	}
	if !strings.EqualFold(filepath.Ext(name), ".sd") {
		return sdSource{}, invalid("Name", "%q is not a service definition: the name must end in .sd", name)
	}
	if err := validUploadName(name); err != nil {
		return sdSource{}, err
	}
	if req.File != "" {
		f, err := os.Open(req.File)
		if err != nil {
			return sdSource{}, invalid("File", "%v", err)
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return sdSource{}, invalid("File", "%q is not a regular file", req.File)
		}
		if err := checkSignature(f, 0, name); err != nil {
			f.Close()
			return sdSource{}, err
		}
		return sdSource{name: name, r: f, size: fi.Size(), close: f.Close}, nil
	}
	size := int64(-1)
	if req.Upload != nil && req.Upload.Size > 0 {
		size = req.Upload.Size
	} else {
		size = readerSize(req.Reader)
	}
	switch r := req.Reader.(type) {
	case io.ReaderAt:
		base := int64(0)
		if sk, ok := req.Reader.(io.Seeker); ok {
			base, _ = sk.Seek(0, io.SeekCurrent)
		}
		if err := checkSignature(r, base, name); err != nil {
			return sdSource{}, err
		}
		return sdSource{name: name, r: req.Reader, size: size}, nil
	case io.ReadSeeker:
		pos, err := r.Seek(0, io.SeekCurrent)
		if err == nil {
			head := make([]byte, len(sdSignature))
			_, rerr := io.ReadFull(r, head)
			if _, err := r.Seek(pos, io.SeekStart); err != nil {
				return sdSource{}, invalid("Reader", "cannot seek back after reading the signature: %v", err)
			}
			if rerr != nil || !bytes.Equal(head, sdSignature) {
				return sdSource{}, notSD(name)
			}
			return sdSource{name: name, r: r, size: size}, nil
		}
	}
	head := make([]byte, len(sdSignature))
	k, _ := io.ReadFull(req.Reader, head)
	if !bytes.Equal(head[:k], sdSignature) {
		return sdSource{}, notSD(name)
	}
	return sdSource{name: name, r: io.MultiReader(bytes.NewReader(head), req.Reader), size: size}, nil
}

func checkSignature(ra io.ReaderAt, off int64, name string) error {
	head := make([]byte, len(sdSignature))
	if _, err := ra.ReadAt(head, off); err != nil || !bytes.Equal(head, sdSignature) {
		return notSD(name)
	}
	return nil
}

func notSD(name string) error {
	return invalid("File", "%q is not a service definition: a .sd file is a 7-Zip archive, and this one does not start like one", name)
}

// checkOverrides checks the override names before anything is sent. A new
// service's name follows the publishing tools' rule: letters, digits and
// underscores (arcpy CreateSharingDraft; see validName).
func (req *PublishSDRequest) checkOverrides() error {
	if err := req.ExtraParams.check(); err != nil {
		return err // before the upload, not at the submit
	}
	if req.Folder != "" {
		if err := validFolder("Folder", req.Folder); err != nil {
			return err
		}
	}
	if req.ServiceName != "" {
		if err := validName("ServiceName", req.ServiceName); err != nil {
			return err
		}
		if strings.Contains(req.ServiceName, "-") {
			return invalid("ServiceName", "%q: a published service's name may hold only letters, digits and underscores", req.ServiceName)
		}
	}
	if req.MinInstances < 0 || req.MaxInstances < 0 {
		return invalid("MinInstances", "instance counts must not be negative")
	}
	if req.MaxInstances > 0 && req.MinInstances > req.MaxInstances {
		return invalid("MinInstances", "(%d) must not exceed MaxInstances (%d)", req.MinInstances, req.MaxInstances)
	}
	for k := range req.Properties {
		if strings.TrimSpace(k) == "" {
			return invalid("Properties", "a property needs a name")
		}
	}
	return nil
}

// apply puts the overrides into the configuration.
func (req *PublishSDRequest) apply(c *ServiceConfiguration) error {
	if req.Folder != "" {
		c.FolderName = normFolder(req.Folder)
	}
	d := &c.Service
	if req.ServiceName != "" {
		d.ServiceName = req.ServiceName
	}
	if req.Description != "" {
		d.Description = req.Description
	}
	if req.Capabilities != "" {
		d.Capabilities = req.Capabilities
	}
	if req.MinInstances > 0 {
		d.MinInstancesPerNode = req.MinInstances
	}
	if req.MaxInstances > 0 {
		d.MaxInstancesPerNode = req.MaxInstances
	}
	if len(req.Properties) > 0 {
		props := make(ServiceProperties, len(d.Properties)+len(req.Properties))
		for k, v := range d.Properties {
			props[k] = v
		}
		for k, v := range req.Properties {
			props[k] = v
		}
		d.Properties = props
	}
	if req.Configure != nil {
		if err := req.Configure(c); err != nil {
			return fmt.Errorf("publish: Configure: %w", err)
		}
	}
	return nil
}
