package main

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/seed9bfd6bbc/ags"
)

// kindPublish is a Publish Service Definition job: re-attached with
// Services.PublishSDJob, which deletes the uploaded .sd if the job fails.
const kindPublish = "publish"

func (a *app) publishCmd() *cobra.Command {
	var w waitFlags
	var req ags.PublishSDRequest
	var ex, keep bool
	cmd := &cobra.Command{
		Use:   "publish FILE.sd",
		Short: "Publish a service definition (.sd): upload it and run Publish Service Definition",
		Long: `Publish a service definition: upload the .sd (in parts when large), apply
the overrides given, and submit the Publish Service Definition task; unless
--no-wait, wait for the new service. The submit is sent once; a publish that
fails deletes its upload unless --keep-upload.`,
		Example: `  ags publish Roads.sd --folder Transport --create-folder --if-not-exists
  JOB=$(ags publish Roads.sd --no-wait) && ags job wait "$JOB"`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := w.check(cmd); err != nil {
				return err
			}
			req.File = argv[0]
			var opts []ags.PublishOption
			task := ags.PublishSDTask
			if ex {
				opts = append(opts, ags.WithPublishingToolsEx())
				task = ags.PublishSDTaskEx
			}
			if keep {
				opts = append(opts, ags.WithKeepUpload())
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				r := req
				up := newUploadProgress(s.p, filepath.Base(r.File))
				r.Upload = &ags.UploadOptions{Progress: up.update}
				job, err := s.c.Services.PublishSD(ctx, r, opts...)
				up.finish(err == nil)
				if err != nil {
					return err
				}
				jr := jobRef{Kind: kindPublish, Path: task, ID: job.ID()}
				recs := []jobRecord{{Job: jr.String(), Kind: jr.Kind, ID: jr.ID, Target: filepath.Base(r.File)}}
				submitted(s, recs, !w.waiting())
				if !w.waiting() {
					return nil
				}
				return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.PublishResult]{job}, recs, publishResult))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Folder, "folder", "", "the folder to publish to (default the one in the .sd)")
	f.StringVar(&req.ServiceName, "service-name", "", "the service's name (default the one in the .sd)")
	f.StringVar(&req.Description, "description", "", "the service's description")
	f.StringVar(&req.Capabilities, "capabilities", "", "the service's capabilities, e.g. Map,Query,Data")
	f.IntVar(&req.MinInstances, "min-instances", 0, "minimum instances per machine")
	f.IntVar(&req.MaxInstances, "max-instances", 0, "maximum instances per machine")
	f.BoolVar(&req.CreateFolder, "create-folder", false, "create the folder if it does not exist")
	f.BoolVar(&req.IfNotExists, "if-not-exists", false, "fail (exit 1) before uploading if the service exists")
	f.BoolVar(&ex, "publishing-tools-ex", false, "use System/PublishingToolsEx, which some sites have instead")
	f.BoolVar(&keep, "keep-upload", false, "keep the uploaded .sd when the publish fails")
	w.add(cmd, true)
	return cmd
}

// publishJob re-attaches to a publish job from its reference.
func publishJob(c *ags.Client, ref jobRef) (*ags.Job[*ags.PublishResult], error) {
	var opts []ags.PublishOption
	if ref.Path == ags.PublishSDTaskEx {
		opts = append(opts, ags.WithPublishingToolsEx())
	}
	return c.Services.PublishSDJob(ref.ID, opts...)
}

// publishResult is what a finished publish shows.
func publishResult(_ context.Context, r *ags.PublishResult) any {
	if r == nil {
		return nil
	}
	out := map[string]string{"service": r.Service.String()}
	if r.RESTURL != "" {
		out["rest_url"] = r.RESTURL
	}
	return out
}

// uploadProgress shows an upload: a byte bar on a terminal, an "upload"
// event per tenth in ndjson mode.
type uploadProgress struct {
	p    *printer
	name string
	mpb  *mpb.Progress
	bar  *mpb.Bar
	last int64 // ndjson: the last tenth reported
}

func newUploadProgress(p *printer, name string) *uploadProgress {
	return &uploadProgress{p: p, name: name, last: -1}
}

func (u *uploadProgress) update(sent, total int64) {
	if u.p.tty && u.p.mode == modeTable && !u.p.quiet && total > 0 {
		if u.mpb == nil {
			u.mpb = mpb.New(mpb.WithOutput(u.p.term), mpb.WithWidth(40))
			u.bar = u.mpb.AddBar(total,
				mpb.PrependDecorators(decor.Name("upload "+u.name, decor.WCSyncSpaceR)),
				mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f")))
		}
		u.bar.SetCurrent(sent)
		return
	}
	if total > 0 {
		if tenth := sent * 10 / total; tenth != u.last {
			u.last = tenth
			u.p.event("upload", map[string]any{"file": u.name, "sent": sent, "total": total})
		}
	}
}

func (u *uploadProgress) finish(ok bool) {
	if u.mpb == nil {
		return
	}
	if ok {
		u.bar.SetTotal(-1, true)
	} else {
		u.bar.Abort(false)
	}
	u.mpb.Wait()
}
