// Command publish publishes a service definition (.sd) made in ArcGIS Pro
// to ArcGIS Server: it uploads the file (in parts when large) with a
// progress bar, publishes it with the Publish Service Definition task,
// shows the job's progress, and prints the new service's URL. When
// publishing fails it prints the server's own reason, and the upload is
// deleted.
//
//	AGS_PASSWORD=... go run ./examples/publish -url https://gis.example.com:6443/arcgis \
//	    -user publisher -folder Transport Roads.sd
//
// Without -url it runs against an embedded emulator; without a file it
// publishes a small generated one (not a real archive: only the emulator
// accepts it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

// demoName and demoSize describe the generated .sd of demo mode.
const (
	demoName = "Roads.sd"
	demoSize = 3 << 20
)

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: publish [flags] [FILE.sd]")
		fs.PrintDefaults()
	}
	var site cli.Site
	site.AddFlags(fs)
	folder := fs.String("folder", "", "target folder (default: the one in the .sd; \"/\" for the root)")
	name := fs.String("name", "", "service name (default: the one in the .sd)")
	createFolder := fs.Bool("create-folder", true, "create the folder when it does not exist")
	ifNotExists := fs.Bool("if-not-exists", false, "fail before publishing when the service already exists")
	keep := fs.Bool("keep-upload", false, "keep the uploaded .sd when publishing fails")
	ex := fs.Bool("publishing-tools-ex", false, "use System/PublishingToolsEx instead of System/PublishingTools")
	partSize := fs.Int64("part-size", ags.DefaultPartSize, "upload part size in bytes (files from twice this size go in parts)")
	demoError := fs.String("demo-error", "", "embedded emulator only: fail the publish with this line, e.g. \"ERROR 001487: ...\"")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up waiting after this long (the job keeps running on the server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errors.New("give one .sd file")
	}
	file := fs.Arg(0)
	demo := site.URL == ""
	if file == "" {
		if !demo {
			return errors.New("give the .sd file to publish")
		}
		var err error
		if file, err = writeDemoSD(); err != nil {
			return err
		}
		defer os.RemoveAll(filepath.Dir(file))
		fmt.Fprintf(stdout, "No file given: publishing a generated %d-byte %s\n", demoSize, demoName)
	}
	site.Seed = func(s *agstest.Server) {
		s.SetSDConfiguration(filepath.Base(file), map[string]any{
			"folderName": "",
			"service": map[string]any{"serviceName": "Roads", "type": "MapServer", "capabilities": "Map,Query,Data",
				"properties": map[string]any{"maxRecordCount": "2000"}},
		})
		s.FailPublish(*demoError)
	}
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
	var opts []ags.PublishOption
	if *keep {
		opts = append(opts, ags.WithKeepUpload())
	}
	if *ex {
		opts = append(opts, ags.WithPublishingToolsEx())
	}
	var bar *progressbar.ProgressBar
	job, err := c.Services.PublishSD(ctx, ags.PublishSDRequest{
		File: file, Folder: *folder, ServiceName: *name,
		CreateFolder: *createFolder, IfNotExists: *ifNotExists,
		Upload: &ags.UploadOptions{PartSize: *partSize, PartThreshold: 2 * *partSize,
			Progress: func(sent, total int64) {
				if bar == nil {
					bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stdout),
						progressbar.OptionSetDescription("upload "+filepath.Base(file)),
						progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond),
						progressbar.OptionOnCompletion(func() { fmt.Fprintln(stdout) }))
				}
				_ = bar.Set64(sent)
			}},
	}, opts...)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Publish Service Definition job %s submitted\n", job.ID())
	progress := cli.NewProgress(stdout)
	res, err := job.Wait(ctx, &ags.PollOptions{OnStatus: progress.OnStatus("publish")})
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Published %s\n", res.Service)
	if res.RESTURL != "" {
		fmt.Fprintf(stdout, "URL: %s\n", res.RESTURL)
	}
	return nil
}

// writeDemoSD writes a generated .sd into a new temporary directory.
func writeDemoSD() (string, error) {
	dir, err := os.MkdirTemp("", "ags-publish-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, demoName)
	f, err := os.Create(path)
	if err == nil {
		_, err = io.Copy(f, agstest.FakeSD(demoSize))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return path, nil
}
