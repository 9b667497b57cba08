package ags_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

func ExampleServicesService_PublishSD() {
	c, srv := emulator()
	defer srv.Close()
	ctx := context.Background()
	file := writeExampleSD() // a .sd made in ArcGIS Pro
	defer os.RemoveAll(filepath.Dir(file))

	job, err := c.Services.PublishSD(ctx, ags.PublishSDRequest{
		File: file, Folder: "Transport", CreateFolder: true, ServiceName: "Roads",
		Upload: &ags.UploadOptions{Progress: func(sent, total int64) { /* show it */ }},
	})
	if err != nil {
		fmt.Println(err) // bad input, a failed upload, ...: the upload is cleaned up
		return
	}
	// job.ID() is known now: re-attach later with c.Services.PublishSDJob(id).
	res, err := job.Wait(ctx, nil)
	var jerr *ags.JobError
	if errors.As(err, &jerr) {
		fmt.Println(err) // quotes the server's line, e.g. "ERROR 001369: ..."
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Service)
	// Output: Transport/Roads.MapServer
}

// writeExampleSD writes a small generated .sd for the example.
func writeExampleSD() string {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	b := make([]byte, 4096)
	if _, err := agstest.FakeSD(4096).ReadAt(b, 0); err != nil {
		panic(err)
	}
	file := filepath.Join(dir, "Roads.sd")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		panic(err)
	}
	return file
}
