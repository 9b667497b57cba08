package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
)

// serviceRecord is one service in the output.
type serviceRecord struct {
	Service string          `json:"service"` // Folder/Name.Type
	Folder  string          `json:"folder"`  // "" for the root
	Name    string          `json:"name"`
	Type    ags.ServiceType `json:"type"`
}

func record(r ags.ServiceRef) serviceRecord {
	return serviceRecord{Service: r.String(), Folder: r.Folder, Name: r.Name, Type: r.Type}
}

func (a *app) servicesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "services",
		Short: "List, inspect, create, edit, start, stop and delete services",
		Long: `Commands on the services of a site (the Server Administrator API).

REF names one service: Folder/Name.Type (Imagery/Portland.ImageServer),
Folder/Name:Type, Name.Type for the root folder, or the service's URL.`,
	}
	group(cmd).AddCommand(a.servicesListCmd(), a.servicesGetCmd(), a.servicesStatusCmd(),
		a.servicesCreateCmd(), a.servicesEditCmd(),
		a.serviceOpCmd("start", "Start services", "started", func(ctx context.Context, c *ags.Client, r ags.ServiceRef) error {
			return c.Services.Start(ctx, r)
		}),
		a.serviceOpCmd("stop", "Stop services", "stopped", func(ctx context.Context, c *ags.Client, r ags.ServiceRef) error {
			return c.Services.Stop(ctx, r)
		}),
		a.serviceOpCmd("delete", "Delete services", "deleted", func(ctx context.Context, c *ags.Client, r ags.ServiceRef) error {
			return c.Services.Delete(ctx, r)
		}),
	)
	return cmd
}

func (a *app) servicesListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list [FOLDER]",
		Short: "List the services of a folder, or of the whole site",
		Long: `List the services of FOLDER, or without FOLDER those of the root folder and
of every subfolder.`,
		Example: "  ags services list\n  ags services list Imagery -o json",
		Args:    args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			folder := ""
			if len(argv) == 1 {
				folder = argv[0]
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				l, err := s.c.Services.List(ctx, folder)
				if err != nil {
					return err
				}
				recs := []serviceRecord{}
				add := func(l *ags.FolderListing) {
					for _, svc := range l.Services {
						recs = append(recs, record(svc.Ref()))
					}
				}
				add(l)
				if len(argv) == 0 {
					for _, f := range l.Folders {
						fl, err := s.c.Services.List(ctx, f)
						if err != nil {
							return fmt.Errorf("folder %s: %w", f, err)
						}
						add(fl)
					}
				}
				rows := make([][]string, 0, len(recs))
				for _, r := range recs {
					rows = append(rows, []string{r.Service, string(r.Type)})
					s.p.event("service", r)
				}
				s.p.table([]string{"SERVICE", "TYPE"}, rows)
				s.p.doc(map[string]any{"services": recs})
				return nil
			})
		},
	}
}

func (a *app) servicesGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get REF",
		Short: "Print a service's definition (the JSON 'services edit' takes)",
		Long: `Print a service's definition. In table mode it is the bare definition, which
'ags services edit -f' takes back; -o json wraps it as {"service", "definition"}.`,
		Example: "  ags services get Imagery/Portland.ImageServer > portland.json\n  ags services get Maps/Roads:MapServer -o json",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ref, err := ags.ParseServiceRef(argv[0])
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				def, err := s.c.Services.Get(ctx, ref)
				if err != nil {
					return err
				}
				b, err := json.Marshal(def)
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				_ = json.Indent(&buf, b, "", "  ")
				s.p.data("%s", buf.String())
				s.p.doc(map[string]any{"service": ref.String(), "definition": json.RawMessage(b)})
				s.p.event("service", map[string]any{"service": ref.String(), "definition": json.RawMessage(b)})
				return nil
			})
		},
	}
}

// statusRecord is one service's state.
type statusRecord struct {
	serviceRecord
	ConfiguredState string `json:"configured_state"`
	RealTimeState   string `json:"realtime_state"`
}

func (a *app) servicesStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "status REF...",
		Short:   "Print whether services are started",
		Example: "  ags services status Imagery/Portland.ImageServer Maps/Roads.MapServer",
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			refs, err := parseRefs(argv)
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				recs := []statusRecord{}
				var rows [][]string
				failed, err := forRefs(s, refs, func(r ags.ServiceRef) error {
					st, err := s.c.Services.Status(ctx, r)
					if err != nil {
						return err
					}
					rec := statusRecord{record(r), st.ConfiguredState, st.RealTimeState}
					recs = append(recs, rec)
					rows = append(rows, []string{rec.Service, rec.ConfiguredState, rec.RealTimeState})
					s.p.event("status", rec)
					return nil
				})
				s.p.table([]string{"SERVICE", "CONFIGURED", "REALTIME"}, rows)
				s.p.doc(map[string]any{"services": recs, "failed": failed})
				return err
			})
		},
	}
}

// readDefinition reads a service definition from a file ("-" for stdin): a
// bare definition, or the {"definition": ...} document of 'services get -o json'.
func (a *app) readDefinition(path string) (ags.ServiceDefinition, error) {
	var def ags.ServiceDefinition
	if path == "" {
		return def, usageErr("-f FILE is required: the service definition (JSON)")
	}
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(a.stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return def, usageErr("-f: %v", err)
	}
	var wrapped struct {
		Definition json.RawMessage `json:"definition"`
	}
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.Definition) > 0 {
		b = wrapped.Definition
	}
	if err := json.Unmarshal(b, &def); err != nil {
		return def, usageErr("%s: not a service definition: %v", path, err)
	}
	if err := def.Validate(); err != nil {
		return def, err
	}
	return def, nil
}

func (a *app) servicesCreateCmd() *cobra.Command {
	var file, folder string
	cmd := &cobra.Command{
		Use:   "create -f DEF.json [--folder FOLDER]",
		Short: "Create (publish) a service from its definition",
		Long: `Create a service from a JSON service definition (createService). The request
is sent once: if its outcome is unknown (exit code 5), check with
'ags services status' before creating again.`,
		Example: "  ags services create -f roads.json --folder Maps",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, argv []string) error {
			def, err := a.readDefinition(file)
			if err != nil {
				return err
			}
			ref := ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				if err := s.c.Services.Create(ctx, folder, def); err != nil {
					return err
				}
				rec := record(ref)
				s.p.done("created %s", rec.Service)
				s.p.event("created", rec)
				s.p.doc(rec)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "service definition, JSON (- for stdin)")
	cmd.Flags().StringVar(&folder, "folder", "", "folder to create the service in (default the root)")
	return cmd
}

func (a *app) servicesEditCmd() *cobra.Command {
	var file, folder string
	cmd := &cobra.Command{
		Use:   "edit -f DEF.json [--folder FOLDER]",
		Short: "Replace a service's definition",
		Long: `Replace a service's definition with the one in the file (edit). Start from
'ags services get REF > def.json' so that every property is kept.`,
		Example: "  ags services get Maps/Roads.MapServer > roads.json\n  ags services edit -f roads.json --folder Maps",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, argv []string) error {
			def, err := a.readDefinition(file)
			if err != nil {
				return err
			}
			ref := ags.ServiceRef{Folder: folder, Name: def.ServiceName, Type: def.Type}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				if err := s.c.Services.Edit(ctx, folder, def); err != nil {
					return err
				}
				rec := record(ref)
				s.p.done("edited %s", rec.Service)
				s.p.event("edited", rec)
				s.p.doc(rec)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "service definition, JSON (- for stdin)")
	cmd.Flags().StringVar(&folder, "folder", "", "the service's folder (default the root)")
	return cmd
}

// serviceOpCmd builds start, stop and delete: one operation on each REF.
func (a *app) serviceOpCmd(name, short, past string, op func(context.Context, *ags.Client, ags.ServiceRef) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " REF...",
		Short: short,
		Long: short + `. Each REF is acted on in turn; if some fail and others succeed,
ags exits 6.`,
		Example: fmt.Sprintf("  ags services %s Imagery/Portland.ImageServer\n  ags services %s Maps/Roads.MapServer Maps/Parcels:MapServer -o ndjson", name, name),
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			refs, err := parseRefs(argv)
			if err != nil {
				return err
			}
			return a.each(cmd, func(ctx context.Context, s *site) error {
				done := []serviceRecord{}
				failed, err := forRefs(s, refs, func(r ags.ServiceRef) error {
					if err := op(ctx, s.c, r); err != nil {
						return err
					}
					rec := record(r)
					done = append(done, rec)
					s.p.done("%s %s", past, rec.Service)
					s.p.event(past, rec)
					return nil
				})
				s.p.doc(map[string]any{past: done, "failed": failed})
				return err
			})
		},
	}
}

// refFailure is a service a command failed on, in its JSON document.
type refFailure struct {
	Service  string `json:"service"`
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// forRefs runs fn on each service, reporting each failure with the
// service's name. The exit code is 0, 6 if some failed, or the worst.
func forRefs(s *site, refs []ags.ServiceRef, fn func(ags.ServiceRef) error) ([]refFailure, error) {
	codes := make([]int, len(refs))
	failures := []refFailure{}
	for i, r := range refs {
		err := fn(r)
		codes[i] = exitCode(err)
		if err != nil {
			if !strings.Contains(err.Error(), r.String()) {
				err = fmt.Errorf("%s: %w", r.String(), err) // most SDK errors name the service already
			}
			s.p.error(err, codes[i], map[string]any{"service": r.String()})
			failures = append(failures, refFailure{Service: r.String(), Error: err.Error(), ExitCode: codes[i]})
		}
	}
	return failures, codesErr(codes)
}

func (a *app) foldersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "folders",
		Short: "Manage service folders",
	}
	var description string
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a folder for services",
		Example: "  ags folders create Imagery --description 'Aerial imagery'",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.each(cmd, func(ctx context.Context, s *site) error {
				if err := s.c.Services.CreateFolder(ctx, argv[0], description); err != nil {
					return err
				}
				s.p.done("created folder %s", argv[0])
				rec := map[string]string{"folder": argv[0]}
				s.p.event("created", rec)
				s.p.doc(rec)
				return nil
			})
		},
	}
	create.Flags().StringVar(&description, "description", "", "the folder's description")
	group(cmd).AddCommand(create)
	return cmd
}
