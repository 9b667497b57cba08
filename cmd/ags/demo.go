package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed9bfd6bbc/ags/agstest"
)

func (a *app) demoCmd() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "demo",
		Short: "Run the embedded ArcGIS Server emulator for other commands",
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "serve",
		Short: "Serve the --demo emulator until Ctrl-C, for several commands in a row",
		Long: `Start the emulator --demo uses, with the same services and job durations,
over HTTPS on a loopback port, and print the shell lines that point ags at it:
AGS_URL, AGS_USERNAME, AGS_PASSWORD (the emulator's fixed demo password) and
AGS_CA_FILE (its self-signed certificate, written to a temporary directory).
Unlike --demo, its jobs and changes outlive each command, so a job submitted
with --no-wait can be waited for by a later command. It runs until Ctrl-C or
SIGTERM, then removes the temporary directory.`,
		Example: `  # in one terminal:
  ags demo serve
  # in another, paste the export lines it printed, then:
  JOB=$(ags refresh Imagery/Portland.ImageServer --no-wait) && ags job wait "$JOB"`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.dryRun {
				return errDryRun
			}
			return a.serveDemo(cmd.Context())
		},
	})
	return cmd
}

// serveDemo runs the seeded emulator until ctx ends, after printing the
// exports that point ags at it.
func (a *app) serveDemo(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "ags-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	srv := agstest.NewTLSServer(agstest.WithJobDuration(demoJobDuration))
	defer srv.Close()
	seedDemo(srv)

	cert, err := serverCertPEM(ctx, srv)
	if err != nil {
		return fmt.Errorf("demo serve: reading the emulator's certificate: %w", err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, cert, 0o644); err != nil {
		return err
	}

	fmt.Fprintf(a.stderr, "ags: demo serve: an embedded ArcGIS Server emulator (not a real site) is serving at %s; Ctrl-C stops it\n", srv.URL())
	fmt.Fprintf(a.stdout, "export AGS_URL=%s\nexport AGS_USERNAME=%s\nexport AGS_PASSWORD=%s\nexport AGS_CA_FILE=%s\n",
		shellQuote(srv.URL()), shellQuote(agstest.DefaultUsername), shellQuote(agstest.DefaultPassword), shellQuote(caFile))

	<-ctx.Done()
	if !a.flags.quiet {
		fmt.Fprintln(a.stderr, "ags: demo serve: stopped")
	}
	return nil
}

// serverCertPEM returns the TLS certificate srv serves, PEM-encoded: the
// root of a chain verified against the pool of srv.Client.
func serverCertPEM(ctx context.Context, srv *agstest.Server) ([]byte, error) {
	tr, ok := srv.Client().Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil {
		return nil, errors.New("the emulator's client has no TLS configuration")
	}
	u, err := url.Parse(srv.URL())
	if err != nil {
		return nil, err
	}
	d := tls.Dialer{Config: &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, MinVersion: tls.VersionTLS12}}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	chains := conn.(*tls.Conn).ConnectionState().VerifiedChains
	if len(chains) == 0 || len(chains[0]) == 0 {
		return nil, errors.New("no verified certificate chain")
	}
	root := chains[0][len(chains[0])-1]
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), nil
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%_+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
