package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// globalFlags are the flags every command takes.
type globalFlags struct {
	profile      string
	config       string
	url          string
	user         string
	passwordFile string
	referer      string
	caFile       string
	output       string
	insecureHTTP bool
	demo         bool
	quiet        bool
	verbose      bool
	concurrency  int
	maxRetries   int
}

// app is one run of ags: its streams, environment and flags.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	isTTY  bool // stderr is a terminal

	flags globalFlags
	// started is set once a command's own code runs: an error before that
	// is a usage error (an unknown flag or command, a wrong argument count).
	started bool
	// dryRun makes each return errDryRun before connecting, after the
	// command has parsed and checked its arguments.
	dryRun bool
}

// errDryRun ends a command in dry-run mode, where it would have connected.
var errDryRun = errors.New("dry run")

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

// run executes the command line args and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errDryRun) {
		return exitOK
	}
	code := exitCode(err)
	if !a.started {
		code = exitUsage
	}
	var ee *exitError
	if !errors.As(err, &ee) || !ee.printed {
		fmt.Fprintln(a.stderr, "ags: "+err.Error())
		if !a.started {
			// The help of the command the arguments got to, e.g.
			// 'ags cache manage --help' after an unknown flag of it.
			path := root.CommandPath()
			if cmd != nil {
				path = cmd.CommandPath()
			}
			fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", path)
		}
		a.failed(args, err, code)
	}
	return code
}

// failed writes the document (-o json) or event (-o ndjson) of a command
// that failed before writing any: {"error": TEXT, "exit_code": N}. When
// the arguments could not be parsed, -o is read from them as far as it can
// be.
func (a *app) failed(args []string, err error, code int) {
	mode := a.flags.output
	if !a.started {
		if m := outputFlag(args); m != "" {
			mode = m
		}
	}
	v := map[string]any{"error": err.Error(), "exit_code": code}
	switch mode {
	case modeJSON:
		b, _ := json.Marshal(v)
		writeDocs(a.stdout, []json.RawMessage{b}, false)
	case modeNDJSON:
		b, _ := withSite(v, "", "error")
		fmt.Fprintf(a.stdout, "%s\n", b)
	}
}

// outputFlag returns the last value of -o (--output) in args, before any
// "--", or "" if there is none.
func outputFlag(args []string) string {
	mode := ""
	for i := 0; i < len(args); i++ {
		s := args[i]
		switch {
		case s == "--":
			return mode
		case s == "-o" || s == "--output":
			if i+1 < len(args) {
				mode = args[i+1]
				i++
			}
		case strings.HasPrefix(s, "--output="):
			mode = strings.TrimPrefix(s, "--output=")
		case strings.HasPrefix(s, "-o"):
			mode = strings.TrimPrefix(strings.TrimPrefix(s, "-o"), "=")
		}
	}
	return mode
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ags",
		Short: "Administer ArcGIS Server sites: services, refreshes, tile caches, geoprocessing jobs",
		Long: `ags administers ArcGIS Server sites from the command line, and is meant to be
scheduled (cron, CI pipelines, Kubernetes CronJobs).

The site and credentials come from the environment, a password file or a
profile, never from the command line:

  AGS_URL        site URL, e.g. https://gis.example.com:6443/arcgis
  AGS_USERNAME   user to sign in as
  AGS_PASSWORD   that user's password (or --password-file FILE)
  AGS_TOKEN      a token or API key instead of a user and password
  AGS_PROFILE    profile(s) to use, like --profile
  AGS_CONFIG     profiles file (default <user config dir>/ags/config.yaml)
  AGS_INSECURE_HTTP=1  like --insecure-http
  AGS_REFERER, AGS_CA_FILE  like --referer, --ca-file

A profiles file holds named sites:

  profiles:
    prod:
      url: https://gis.example.com:6443/arcgis
      username: publisher
      password_command: pass show gis/prod
      referer: https://ops.example.com
      ca_file: /etc/ssl/certs/corp-ca.pem

A profile may hold "password:" or "token:" only if the file is mode 0600.
A profile's settings come first, the AGS_* variables fill what it leaves
empty, and --url, --user, --password-file, --referer and --ca-file override
both. --profile a,b,c runs the command against each site at once.

Output is a table by default; -o json writes one JSON document and -o ndjson
one JSON event per line (see 'ags help output'). Exit codes are stable (see
'ags help exit-codes').`,
		Example: `  ags --demo services list
  AGS_URL=https://gis.example.com:6443/arcgis AGS_USERNAME=admin \
    ags --password-file /run/secrets/ags services list Imagery
  ags --profile prod,test refresh Imagery/Portland.ImageServer --wait`,
		Version:       ags.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch a.flags.output {
			case modeTable, modeJSON, modeNDJSON:
			default:
				return usageErr("-o %q: want table, json or ndjson", a.flags.output)
			}
			if a.flags.concurrency < 1 {
				return usageErr("--concurrency %d: want 1 or more", a.flags.concurrency)
			}
			if a.flags.maxRetries < -1 {
				return usageErr("--max-retries %d: want 0 or more, or -1 for the SDK's default", a.flags.maxRetries)
			}
			if a.flags.quiet && a.flags.verbose {
				return usageErr("-q and -v: choose one")
			}
			a.started = true
			return nil
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.SetVersionTemplate("ags {{.Version}}\n")

	f := root.PersistentFlags()
	f.StringVar(&a.flags.profile, "profile", "", "profile(s) from the profiles file, comma-separated to run against several sites at once (default $AGS_PROFILE)")
	f.StringVar(&a.flags.config, "config", "", "profiles file (default $AGS_CONFIG or <user config dir>/ags/config.yaml)")
	f.StringVar(&a.flags.url, "url", "", "site URL (default $AGS_URL or the profile's)")
	f.StringVar(&a.flags.user, "user", "", "username (default $AGS_USERNAME or the profile's)")
	f.StringVar(&a.flags.passwordFile, "password-file", "", "read the password from this file (its first line)")
	f.StringVar(&a.flags.referer, "referer", "", "referer tokens are bound to (default $AGS_REFERER, the profile's, or the SDK's)")
	f.StringVar(&a.flags.caFile, "ca-file", "", "PEM file of CA certificates to trust besides the system's (default $AGS_CA_FILE)")
	f.StringVarP(&a.flags.output, "output", "o", modeTable, "output: table, json or ndjson")
	f.BoolVar(&a.flags.insecureHTTP, "insecure-http", false, "allow credentials over plain http, for test servers (or AGS_INSECURE_HTTP=1)")
	f.BoolVar(&a.flags.demo, "demo", false, "run against an embedded ArcGIS Server emulator instead of a site; each run starts a fresh one, so its jobs and changes do not outlive the run")
	f.BoolVarP(&a.flags.quiet, "quiet", "q", false, "print no progress or confirmations, only data and errors")
	f.BoolVarP(&a.flags.verbose, "verbose", "v", false, "log every HTTP request (method, path, status; never a secret) to stderr")
	f.IntVar(&a.flags.maxRetries, "max-retries", -1, "retries of a call the server refused or a read that failed: 0 for none, -1 for the SDK's default; writes are never sent twice blindly")
	f.IntVar(&a.flags.concurrency, "concurrency", 4, "with several profiles, how many sites to work on at once")

	root.AddCommand(
		a.versionCmd(),
		a.servicesCmd(),
		a.foldersCmd(),
		a.refreshCmd(),
		a.tilesCmd(),
		a.cacheCmd(),
		a.publishCmd(),
		a.gpCmd(),
		a.jobCmd(),
		a.demoCmd(),
		&cobra.Command{Use: "exit-codes", Short: "What ags's exit codes mean", Long: exitCodesHelp},
		&cobra.Command{Use: "output", Short: "The fields of -o json and -o ndjson", Long: outputHelp},
	)
	return root
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of ags",
		Example: "  ags version\n  ags version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.flags.output == modeTable {
				fmt.Fprintf(a.stdout, "ags %s\n", ags.Version)
				return nil
			}
			if a.flags.output == modeNDJSON {
				b, _ := withSite(map[string]string{"version": ags.Version}, "", "version")
				fmt.Fprintf(a.stdout, "%s\n", b)
				return nil
			}
			b, _ := json.Marshal(map[string]string{"version": ags.Version})
			writeDocs(a.stdout, []json.RawMessage{b}, false)
			return nil
		},
	}
}

// site is one site a command works on.
type site struct {
	name string // profile name, "demo", or "" without a profile
	c    *ags.Client
	p    *printer
}

// demoJobDuration is how long jobs take on the --demo emulator: long
// enough to watch, short enough to try.
const demoJobDuration = time.Second

// startDemo starts the embedded emulator, seeded with a few services.
func (a *app) startDemo() (*agstest.Server, []ags.Option) {
	srv := agstest.NewTLSServer(agstest.WithJobDuration(demoJobDuration))
	seedDemo(srv)
	if !a.flags.quiet {
		fmt.Fprintf(a.stderr, "ags: --demo: running against an embedded ArcGIS Server emulator at %s (user %s)\n",
			srv.URL(), agstest.DefaultUsername)
	}
	return srv, []ags.Option{
		ags.WithHTTPClient(srv.Client()),
		ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword),
	}
}

// demoJobHint follows the not-found error of a job command run with
// --demo.
const demoJobHint = "--demo starts a fresh emulator on each run: a job submitted by an earlier run does not exist in this one"

// hintedError is an error followed by a hint for the reader: "ERR (HINT)".
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() + " (" + e.hint + ")" }
func (e *hintedError) Unwrap() error { return e.err }

// demoJobMissing adds demoJobHint to a not-found error under --demo.
func (a *app) demoJobMissing(err error) error {
	if err != nil && a.flags.demo && exitCode(err) == exitMissing {
		return &hintedError{err: err, hint: demoJobHint}
	}
	return err
}

// demoExtent is the full extent of the demo's cached services: about
// 66 km by 34 km around Portland, Oregon, in Web Mercator.
var demoExtent = [4]float64{-13686000, 5696000, -13620000, 5730000}

// seedDemo adds the demo's invented content: an image service to refresh,
// and two map services cached on the ArcGIS Online tiling scheme (levels
// 0-19) over demoExtent: Maps/Roads for the caching tools, Hosted/Basemap
// as a hosted tile layer.
func seedDemo(srv *agstest.Server) {
	srv.AddService("Imagery", "Portland", "ImageServer", nil)
	srv.AddService("Maps", "Roads", "MapServer", nil)
	srv.AddService("Hosted", "Basemap", "MapServer", nil)
	srv.SetTileScheme("Maps", "Roads", "MapServer", agstest.WebMercatorScheme(19, demoExtent))
	srv.SetTileScheme("Hosted", "Basemap", "MapServer", agstest.WebMercatorScheme(19, demoExtent))
}

// each runs fn against every site the flags name: one, or several at once
// (--profile a,b,c, at most --concurrency at a time). Errors are printed
// with the site's name; the exit code is the worst of all sites.
func (a *app) each(cmd *cobra.Command, fn func(ctx context.Context, s *site) error) error {
	if a.dryRun {
		return errDryRun
	}
	ctx := cmd.Context()
	type target struct {
		name string
		url  string
		opts []ags.Option
		err  error
	}
	var targets []target
	if a.flags.demo {
		srv, opts := a.startDemo()
		defer srv.Close()
		targets = []target{{name: "demo", url: srv.URL(), opts: opts}}
	} else {
		cfgs, err := a.sites(ctx)
		if err != nil {
			return err
		}
		for _, sc := range cfgs {
			opts, err := sc.clientOptions()
			targets = append(targets, target{name: sc.name, url: sc.url, opts: opts, err: err})
		}
	}
	several := len(targets) > 1
	var outMu, errMu sync.Mutex
	printers := make([]*printer, len(targets))
	codes := make([]int, len(targets))
	var flushers []func()
	for i, t := range targets {
		p := &printer{mode: a.flags.output, quiet: a.flags.quiet, tty: a.isTTY && !several, term: a.stderr}
		if several {
			p.site = t.name
			ow := &prefixWriter{mu: &outMu, w: a.stdout, prefix: t.name + ": "}
			ew := &prefixWriter{mu: &errMu, w: a.stderr, prefix: t.name + ": "}
			flushers = append(flushers, ow.Flush, ew.Flush)
			p.out, p.errw = ow, ew
			if p.mode != modeTable {
				p.out = lockedWriter{mu: &outMu, w: a.stdout} // the "site" field says whose
			}
		} else {
			p.out, p.errw = lockedWriter{mu: &outMu, w: a.stdout}, lockedWriter{mu: &errMu, w: a.stderr}
		}
		printers[i] = p
	}
	sem := make(chan struct{}, a.flags.concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := printers[i]
			err := t.err
			if err == nil {
				err = a.runSite(ctx, t.name, t.url, t.opts, p, fn)
			}
			codes[i] = exitCode(err)
			var ee *exitError
			if err != nil && !(errors.As(err, &ee) && ee.printed) {
				p.error(err, codes[i], nil)
			}
			if err != nil && p.mode == modeJSON && len(p.docs) == 0 {
				// The document of a command that wrote none: its error(s).
				p.doc(map[string]any{"error": strings.Join(p.errors, "; "), "exit_code": codes[i]})
			}
		}()
	}
	wg.Wait()
	for _, f := range flushers {
		f()
	}
	if a.flags.output == modeJSON {
		var docs []json.RawMessage
		for _, p := range printers {
			docs = append(docs, p.docs...)
		}
		writeDocs(a.stdout, docs, several)
	}
	if code := worst(codes); code != exitOK {
		return &exitError{code: code, printed: true, err: fmt.Errorf("exit %d", code)}
	}
	return nil
}

func (a *app) runSite(ctx context.Context, name, url string, opts []ags.Option, p *printer, fn func(context.Context, *site) error) error {
	opts = append(opts, ags.WithUserAgent("ags-cli/"+ags.Version))
	switch {
	case a.flags.maxRetries == 0:
		// A negative MaxRetries disables retries; zero means the default.
		opts = append(opts, ags.WithRetryPolicy(ags.RetryPolicy{MaxRetries: -1}))
	case a.flags.maxRetries > 0:
		opts = append(opts, ags.WithRetryPolicy(ags.RetryPolicy{MaxRetries: a.flags.maxRetries}))
	}
	if a.flags.verbose {
		opts = append(opts, ags.WithLogger(slog.New(slog.NewTextHandler(p.errw, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c, err := ags.NewClient(url, opts...)
	if err != nil {
		return err
	}
	return fn(ctx, &site{name: name, c: c, p: p})
}

// group makes cmd a group of commands: alone it prints its help; with an
// argument that names no subcommand it is a usage error.
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = args(cobra.NoArgs)
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	return cmd
}

// args wraps a cobra argument check so its error is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			if cmd.HasSubCommands() {
				return usageErr("unknown command %q for %q", a[0], cmd.CommandPath())
			}
			return usageErr("%s: %v", cmd.CommandPath(), err)
		}
		return nil
	}
}
