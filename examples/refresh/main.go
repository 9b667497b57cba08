// Command refresh runs the Refresh Service task for one service and waits
// for it, showing progress: a live image service picks up new rasters, a
// map or feature service refreshes its snapshot, without a restart.
//
//	AGS_PASSWORD=... go run ./examples/refresh -url https://gis.example.com:6443/arcgis \
//	    -user publisher -service Imagery/Portland.ImageServer
//
// Without -url it runs against an embedded emulator.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("refresh", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	service := fs.String("service", "Imagery/Portland.ImageServer", "service: Folder/Name.Type, a REST or admin URL (ImageServer, MapServer, FeatureServer or SceneServer)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up waiting after this long (the job keeps running on the server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ref, err := ags.ParseServiceRef(*service)
	if err != nil {
		return err
	}
	site.Seed = func(s *agstest.Server) { s.AddService(ref.Folder, ref.Name, string(ref.Type), nil) }
	closeSite, err := site.Open(stdout)
	if err != nil {
		return err
	}
	defer closeSite()
	// Tokens are fetched with the username and password, cached and
	// renewed before they expire. The HTTP client is the default transport,
	// or one that trusts the embedded emulator's certificate.
	c, err := ags.NewClient(site.URL,
		ags.WithCredentials(site.User, site.Password),
		ags.WithHTTPClient(site.HTTPClient))
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	job, err := c.Services.Refresh(ctx, ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Refresh Service job %s submitted for %s\n", job.ID(), ref)
	progress := cli.NewProgress(stdout)
	res, err := job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("refresh")})
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Refreshed %s (job %s, %s)\n", ref, res.JobID, res.Status)
	if res.Results != "" {
		fmt.Fprintf(stdout, "refreshResults: %s\n", res.Results)
	}
	return nil
}
