package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

// codesErr turns per-job or per-service exit codes into the command's
// error: nil if all succeeded, exit 6 if some did, else the worst.
func codesErr(codes []int) error {
	if code := combine(codes); code != exitOK {
		return &exitError{code: code, printed: true, err: fmt.Errorf("exit %d", code)}
	}
	return nil
}

func (a *app) refreshCmd() *cobra.Command {
	var w waitFlags
	cmd := &cobra.Command{
		Use:   "refresh REF...",
		Short: "Make services pick up new data without a restart (Refresh Service)",
		Long: `Refresh services: submit the Refresh Service task for each REF (an image, map,
feature or scene service) and, unless --no-wait, wait for the jobs to end.

With --no-wait, the job references are printed one per line; a later step
waits for them with 'ags job wait JOB'.`,
		Example: `  ags refresh Imagery/Portland.ImageServer --wait --timeout 30m
  JOB=$(ags refresh Imagery/Portland.ImageServer --no-wait) && ags job wait "$JOB"`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			refs, err := parseRefs(argv)
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				var jobs []*ags.Job[*ags.RefreshResult]
				var recs []jobRecord
				var codes []int
				for _, r := range refs {
					job, err := s.c.Services.Refresh(ctx, r)
					if err != nil {
						code := exitCode(err)
						codes = append(codes, code)
						s.p.error(fmt.Errorf("%s: %w", r.String(), err), code, map[string]any{"target": r.String()})
						continue
					}
					jobs = append(jobs, job)
					ref := jobRef{Kind: kindGP, Path: ags.RefreshServiceTask, ID: job.ID()}
					recs = append(recs, jobRecord{Job: ref.String(), Kind: ref.Kind, ID: ref.ID, Target: r.String()})
				}
				submitted(s, recs, !w.waiting())
				if w.waiting() && len(jobs) > 0 {
					codes = append(codes, waitJobs(ctx, s, &w, jobs, recs, func(_ context.Context, res *ags.RefreshResult) any {
						if res == nil || res.Results == "" {
							return nil
						}
						return map[string]string{"refresh_results": res.Results}
					})...)
				} else {
					for range jobs {
						codes = append(codes, exitOK)
					}
				}
				return codesErr(codes)
			})
		},
	}
	w.add(cmd, true)
	return cmd
}

func timeText(t ags.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func (a *app) gpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gp",
		Short: "Run geoprocessing tasks",
	}
	var w waitFlags
	var params []string
	submit := &cobra.Command{
		Use:   "submit TASK [-p NAME=VALUE]...",
		Short: "Submit a geoprocessing job and wait for it",
		Long: `Submit a job to an asynchronous geoprocessing task. TASK is the task's path
under rest/services, e.g. "Tools/GPServer/Buffer". Parameters are sent as
given (JSON values as JSON text). The submit is sent once: if its outcome is
unknown (exit code 5), look for the job before submitting again.`,
		Example: `  ags gp submit "System/PublishingTools/GPServer/Refresh Service" \
    -p serviceName=Portland -p serviceType=ImageServer -p folderName=Imagery
  JOB=$(ags gp submit Tools/GPServer/Buffer -p distance=5 --no-wait)`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			task := argv[0]
			vals := url.Values{}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return usageErr("-p %q: want NAME=VALUE", p)
				}
				vals.Add(k, v)
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				job, err := s.c.GP.SubmitJob(ctx, task, vals)
				if err != nil {
					return err
				}
				ref := jobRef{Kind: kindGP, Path: task, ID: job.ID()}
				recs := []jobRecord{{Job: ref.String(), Kind: ref.Kind, ID: ref.ID, Target: task}}
				submitted(s, recs, !w.waiting())
				if !w.waiting() {
					return nil
				}
				return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.GPResult]{job}, recs, gpResult))
			})
		},
	}
	submit.Flags().StringArrayVarP(&params, "param", "p", nil, "a parameter, NAME=VALUE (repeat for more)")
	w.add(submit, true)
	group(cmd).AddCommand(submit)
	return cmd
}

// gpResult reads a finished job's outputs, as text.
func gpResult(ctx context.Context, r *ags.GPResult) any {
	if r == nil || len(r.Outputs) == 0 {
		return nil
	}
	res, err := r.Results(ctx)
	if err != nil {
		return map[string]string{"results_error": err.Error()}
	}
	out := map[string]string{}
	for name, p := range res {
		out[name] = p.String()
	}
	return out
}

func (a *app) jobCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "Check, wait for or cancel a job submitted earlier",
		Long: `Re-attach to a job from the reference ags printed when it submitted it
(with --no-wait, or when a wait was interrupted): KIND:PATH:ID, e.g.
gp:System/PublishingTools/GPServer/Refresh%20Service:j1a2b3.`,
	}
	var w waitFlags
	waitCmd := &cobra.Command{
		Use:     "wait JOB",
		Short:   "Wait for a job to end; the exit code says how it ended",
		Example: `  ags job wait "$JOB" --timeout 1h`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := parseJobRef(argv[0])
			if err != nil {
				return err
			}
			if err := w.check(cmd); err != nil {
				return err
			}
			w.missing = a.demoJobMissing
			return a.each(cmd, func(ctx context.Context, s *site) error {
				rec := []jobRecord{{Job: ref.String(), Kind: ref.Kind, ID: ref.ID, Target: ref.Path}}
				switch ref.Kind {
				case kindTiles:
					job, err := tileJob(s.c, ref)
					if err != nil {
						return err
					}
					return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.TileJobStats]{job}, rec, tileResult))
				case kindPublish:
					job, err := publishJob(s.c, ref)
					if err != nil {
						return err
					}
					return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.PublishResult]{job}, rec, publishResult))
				default:
					job, err := s.c.GP.Job(ref.Path, ref.ID)
					if err != nil {
						return err
					}
					return codesErr(waitJobs(ctx, s, &w, []*ags.Job[*ags.GPResult]{job}, rec, gpResult))
				}
			})
		},
	}
	f := waitCmd.Flags()
	f.DurationVar(&w.timeout, "timeout", 0, "stop waiting after this long, e.g. 30m (exit code 5; the job goes on)")
	f.BoolVar(&w.cancelOnInterrupt, "cancel-on-interrupt", false, "when the wait is interrupted (Ctrl-C, SIGTERM) or times out, also cancel the server job")

	statusCmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Print a job's state once",
		Long: `Print a job's state once. The exit code is 0 whatever the job's state, if
it could be read; 'ags job wait' exits with the job's outcome.`,
		Example: `  ags job status "$JOB" -o json`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := parseJobRef(argv[0])
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				st, err := jobStatus(ctx, s.c, ref)
				if err != nil {
					return a.demoJobMissing(err)
				}
				rec := jobRecord{Job: ref.String(), Kind: ref.Kind, ID: ref.ID, Target: ref.Path,
					State: jobState(st.State, st.Status), Status: st.Status, Messages: messageTexts(st.Messages)}
				pct := ""
				if st.Progress != nil {
					p := st.Progress.Percent
					rec.Percent, rec.Message = &p, st.Progress.Message
				}
				if st.State == ags.JobSucceeded {
					rec.Percent = fullPercent()
				}
				if rec.Percent != nil {
					pct = strconv.FormatFloat(*rec.Percent, 'f', 0, 64) + "%"
				}
				s.p.table([]string{"JOB", "STATE", "STATUS", "PROGRESS"}, [][]string{{rec.Job, rec.State, rec.Status, pct}})
				s.p.event("status", rec)
				s.p.doc(jobsDoc{Jobs: []jobRecord{rec}})
				return nil
			})
		},
	}
	cancelCmd := &cobra.Command{
		Use:     "cancel JOB",
		Short:   "Ask the server to cancel a job",
		Example: `  ags job cancel "$JOB"`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := parseJobRef(argv[0])
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				var err error
				switch ref.Kind {
				case kindTiles:
					var job *ags.Job[*ags.TileJobStats]
					if job, err = tileJob(s.c, ref); err == nil {
						err = job.Cancel(ctx)
					}
				case kindPublish:
					var job *ags.Job[*ags.PublishResult]
					if job, err = publishJob(s.c, ref); err == nil {
						err = job.Cancel(ctx)
					}
				default:
					var job *ags.Job[*ags.GPResult]
					if job, err = s.c.GP.Job(ref.Path, ref.ID); err == nil {
						err = job.Cancel(ctx)
					}
				}
				if err != nil {
					return a.demoJobMissing(err)
				}
				rec := jobRecord{Job: ref.String(), Kind: ref.Kind, ID: ref.ID, Target: ref.Path, State: "cancelling"}
				s.p.done("cancel requested: %s", rec.Job)
				s.p.event("cancelled", rec)
				s.p.doc(jobsDoc{Jobs: []jobRecord{rec}})
				return nil
			})
		},
	}
	group(cmd).AddCommand(waitCmd, statusCmd, cancelCmd)
	return cmd
}

func jobStatus(ctx context.Context, c *ags.Client, ref jobRef) (ags.JobStatus, error) {
	if ref.Kind == kindPublish {
		job, err := publishJob(c, ref)
		if err != nil {
			return ags.JobStatus{}, err
		}
		return job.Status(ctx)
	}
	if ref.Kind == kindTiles {
		job, err := tileJob(c, ref)
		if err != nil {
			return ags.JobStatus{}, err
		}
		return job.Status(ctx)
	}
	job, err := c.GP.Job(ref.Path, ref.ID)
	if err != nil {
		return ags.JobStatus{}, err
	}
	return job.Status(ctx)
}

// tileJob re-attaches to a tile job from its reference.
func tileJob(c *ags.Client, ref jobRef) (*ags.Job[*ags.TileJobStats], error) {
	layer, err := tileLayer(ref.Path)
	if err != nil {
		return nil, err
	}
	return c.Tiles.Job(layer, ref.ID)
}
