// Command createservice creates a service from a JSON service definition
// (the admin API's createService), after checking that the name is free.
//
//	AGS_PASSWORD=... go run ./examples/createservice -url https://gis.example.com:6443/arcgis \
//	    -user admin -f service.json -folder Transport
//
// Without -url it runs against an embedded emulator; without -f it uses
// testdata/service.json beside this file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/examples/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("createservice", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var site cli.Site
	site.AddFlags(fs)
	file := fs.String("f", defaultDefinition(), "service definition JSON file")
	folder := fs.String("folder", "", "folder to create the service in (default: the root folder); created if missing")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var def ags.ServiceDefinition
	if err := json.Unmarshal(b, &def); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	if err := def.Validate(); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
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

	label := ags.ServiceRef{Folder: *folder, Name: def.ServiceName, Type: def.Type}.String()
	if *folder != "" {
		root, err := c.Services.List(ctx, "")
		if err != nil {
			return err
		}
		if !slices.Contains(root.Folders, *folder) {
			if err := c.Services.CreateFolder(ctx, *folder, ""); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Created folder %s\n", *folder)
		}
	}
	if can, err := c.Services.CanCreate(ctx, *folder, def); err != nil {
		return err
	} else if !can.OK {
		why := "does it exist already?"
		if len(can.Reasons) > 0 {
			why = strings.Join(can.Reasons, "; ")
		}
		return fmt.Errorf("the server says %s cannot be created (%s)", label, why)
	}
	if err := c.Services.Create(ctx, *folder, def); err != nil {
		if errors.Is(err, ags.ErrServiceExists) {
			return fmt.Errorf("%s already exists: %w", label, err)
		}
		return err
	}
	st, err := c.Services.Status(ctx, ags.ServiceRef{Folder: *folder, Name: def.ServiceName, Type: def.Type})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s: configured %s, running %s\n", label, st.ConfiguredState, st.RealTimeState)
	return nil
}

func defaultDefinition() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "service.json"
	}
	return filepath.Join(filepath.Dir(file), "testdata", "service.json")
}
