package ags_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// emulator starts an in-memory ArcGIS Server for the examples and returns
// a client signed in to it. Against a real site, the client is made as in
// ExampleNewClient.
func emulator() (*ags.Client, *agstest.Server) {
	srv := agstest.NewTLSServer(agstest.WithJobDuration(20 * time.Millisecond))
	c, err := ags.NewClient(srv.URL(),
		ags.WithHTTPClient(srv.Client()), // trusts the emulator's certificate
		ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword))
	if err != nil {
		panic(err)
	}
	return c, srv
}

func ExampleNewClient() {
	c, err := ags.NewClient("https://gis.example.com:6443/arcgis",
		ags.WithCredentials("publisher", "password from a secret store"),
		ags.WithRetryPolicy(ags.RetryPolicy{MaxRetries: 5}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c)
	// Output: ags.Client{https://gis.example.com:6443/arcgis/}
}

func ExampleNewClient_plainHTTP() {
	// Credentials are never sent over plain http unless asked.
	_, err := ags.NewClient("http://gis.example.com/arcgis", ags.WithCredentials("publisher", "secret"))
	var ve *ags.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	// Output: true siteURL
}

func ExampleServicesService_CanCreate() {
	// A server that answers canCreateService with {"status": "success"},
	// and with an admin error when it refuses.
	srv := agstest.NewTLSServer(agstest.WithCanCreateAnswer(agstest.CanCreateStatus))
	defer srv.Close()
	c, err := ags.NewClient(srv.URL(), ags.WithHTTPClient(srv.Client()),
		ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	def := ags.ServiceDefinition{ServiceName: "Roads", Type: ags.MapServer}

	can, err := c.Services.CanCreate(ctx, "", def)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("before:", can.OK)

	if err := c.Services.Create(ctx, "", def); err != nil {
		fmt.Println(err)
		return
	}
	// A refusal is an answer, not an error: the server's words are in Reasons.
	can, err = c.Services.CanCreate(ctx, "", def)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after:", can.OK, len(can.Reasons) > 0)
	// Output:
	// before: true
	// after: false true
}

func ExampleServicesService_Create() {
	c, srv := emulator()
	defer srv.Close()
	ctx := context.Background()

	if err := c.Services.CreateFolder(ctx, "Transport", "Road and rail"); err != nil {
		fmt.Println(err)
		return
	}
	def := ags.ServiceDefinition{ServiceName: "Roads", Type: ags.MapServer, Capabilities: "Map,Query,Data",
		MinInstancesPerNode: 1, MaxInstancesPerNode: 2,
		Properties: ags.ServiceProperties{"filePath": `\\share\data\roads.mapx`}}
	if err := c.Services.Create(ctx, "Transport", def); err != nil {
		fmt.Println(err)
		return
	}
	err := c.Services.Create(ctx, "Transport", def)
	fmt.Println("second create:", errors.Is(err, ags.ErrServiceExists))

	st, err := c.Services.Status(ctx, ags.ServiceRef{Folder: "Transport", Name: "Roads", Type: ags.MapServer})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.ConfiguredState, st.RealTimeState)
	// Output:
	// second create: true
	// STARTED STARTED
}

func ExampleServicesService_Refresh() {
	c, srv := emulator()
	defer srv.Close()
	srv.AddService("Imagery", "Portland", "ImageServer", nil)
	ctx := context.Background()

	job, err := c.Services.Refresh(ctx, ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
	if err != nil {
		fmt.Println(err)
		return
	}
	// job.ID() can be stored now and the job re-attached later with
	// c.Services.RefreshJob(id).
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	res, err := job.Wait(ctx, &ags.PollOptions{OnStatus: func(s ags.JobStatus) {
		for _, m := range s.NewMessages {
			_ = m.Description // log the server's messages, once each
		}
	}})
	var jobErr *ags.JobError
	switch {
	case errors.As(err, &jobErr):
		fmt.Println("the job failed:", jobErr.Messages)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(res.Status)
	}
	// Output: esriJobSucceeded
}

func ExampleTilesService_Update() {
	c, srv := emulator()
	defer srv.Close()
	srv.AddService("", "WorldService", "MapServer", nil) // a hosted tile layer
	srv.SetTileScheme("", "WorldService", "MapServer", agstest.WebMercatorScheme(20, [4]float64{3950569, 4015211, 3951304, 4016043}))
	ctx := context.Background()

	// Only the levels that changed, only inside the area that changed.
	levels, err := ags.ParseLevels("0-5,10,11-20")
	if err != nil {
		fmt.Println(err)
		return
	}
	job, err := c.Tiles.Update(ctx, ags.ServiceRef{Name: "WorldService", Type: ags.MapServer}, ags.UpdateTilesRequest{
		Levels: levels,
		Extent: &ags.Extent{XMin: 3950569, YMin: 4015211, XMax: 3951304, YMax: 4016043,
			SpatialReference: &ags.SpatialReference{WKID: 102100}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := job.Wait(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(levels, stats.JobStatus, len(stats.LevelStats), "levels")
	// Output: 0-5,10-20 DONE 17 levels
}

func ExampleWaitAll() {
	c, srv := emulator()
	defer srv.Close()
	srv.AddService("", "Portland", "ImageServer", nil)
	ctx := context.Background()

	var jobs []*ags.Job[*ags.RefreshResult]
	for range 100 {
		job, err := c.Services.Refresh(ctx, ags.ServiceRef{Name: "Portland", Type: ags.ImageServer})
		if err != nil {
			fmt.Println(err)
			return
		}
		jobs = append(jobs, job)
	}
	ok := 0
	for _, o := range ags.WaitAll(ctx, jobs, nil) { // a few goroutines, not one per job
		if o.Err == nil {
			ok++
		}
	}
	fmt.Println(ok, "of", len(jobs), "refreshed")
	// Output: 100 of 100 refreshed
}

func ExampleError() {
	c, srv := emulator()
	defer srv.Close()

	_, err := c.Services.Status(context.Background(), ags.ServiceRef{Folder: "", Name: "Nope", Type: ags.MapServer})
	var apiErr *ags.Error
	if errors.As(err, &apiErr) {
		fmt.Println(errors.Is(err, ags.ErrNotFound), apiErr.Code, apiErr.Op)
	}
	// Output: true 404 Nope.MapServer: status
}
