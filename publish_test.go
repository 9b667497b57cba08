package ags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags/agstest"
)

// roadsConfig is the serviceconfiguration.json of the test .sd.
func roadsConfig() map[string]any {
	return map[string]any{
		"type":       "MapServer",
		"folderName": "",
		"service": map[string]any{
			"serviceName": "Roads", "type": "MapServer", "capabilities": "Map,Query",
			"properties": map[string]any{"maxRecordCount": "1000", "filePath": "${ARCGIS_SERVER_DIR}/Roads.mapx"},
			"extensions": []any{},
		},
	}
}

func sdBytes(n int) []byte {
	b, err := io.ReadAll(agstest.FakeSD(int64(n)))
	if err != nil {
		panic(err)
	}
	return b
}

func TestPublishSD(t *testing.T) {
	t.Parallel()
	for name, up := range map[string]*UploadOptions{
		"one request": nil,
		"in parts":    {PartSize: 64 << 10, PartThreshold: 100 << 10},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, srv := emulated(t)
			srv.SetSDConfiguration("Roads.sd", roadsConfig())
			ctx := context.Background()
			data := sdBytes(300 << 10)
			var prog progressLog
			opts := &UploadOptions{Progress: prog.fn}
			if up != nil {
				opts.PartSize, opts.PartThreshold = up.PartSize, up.PartThreshold
			}
			job, err := c.Services.PublishSD(ctx, PublishSDRequest{
				Reader: bytes.NewReader(data), Name: "Roads.sd",
				Folder: "Transport", CreateFolder: true, ServiceName: "Roads2",
				Properties:     map[string]any{"maxRecordCount": 5000},
				PublishOptions: map[string]any{"overwrite": false},
				Upload:         opts,
				ExtraParams:    ExtraParams{"esri_extra": {"1"}},
			})
			require.NoError(t, err)
			require.NotEmpty(t, job.ID())
			res, err := job.Wait(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, ServiceRef{Folder: "Transport", Name: "Roads2", Type: MapServer}, res.Service)
			assert.Equal(t, srv.URL()+"/rest/services/Transport/Roads2/MapServer", res.RESTURL)
			assert.Equal(t, srv.URL()+"/services/Transport/Roads2/MapServer", res.SOAPURL)
			assert.NotEmpty(t, res.Results)
			assert.Equal(t, int64(len(data)), prog.last())

			def, ok := srv.Service("Transport", "Roads2", "MapServer")
			require.True(t, ok, "the service is created")
			assert.Equal(t, map[string]any{"maxRecordCount": "5000", "filePath": "${ARCGIS_SERVER_DIR}/Roads.mapx"}, def["properties"],
				"overrides merged, property values as strings")
			assert.Equal(t, "Map,Query", def["capabilities"], "the .sd's own configuration is kept")
			assert.Empty(t, srv.Uploads(), "the server deletes the .sd on success")
			if up != nil {
				assert.Equal(t, 5, srv.Count("/uploadPart"))
			} else {
				assert.Equal(t, 1, srv.Count("/admin/uploads/upload"))
			}

			var submit *agstest.Request
			for _, r := range srv.Requests() {
				assert.False(t, r.TokenInQuery, r.Path)
				if strings.HasSuffix(r.Path, "/Publish Service Definition/submitJob") {
					submit = &r
				}
			}
			require.NotNil(t, submit)
			assert.True(t, strings.HasPrefix(submit.Form.Get("in_sdp_id"), "i"))
			assert.Equal(t, "1", submit.Form.Get("esri_extra"), "ExtraParams travel with the submit")
			var sent map[string]any
			require.NoError(t, json.Unmarshal([]byte(submit.Form.Get("in_config_overwrite")), &sent))
			assert.Equal(t, "Transport", sent["folderName"])
			assert.Equal(t, "MapServer", sent["type"], "top-level fields the SDK does not name go back unchanged")
			assert.Equal(t, "Roads2", sent["service"].(map[string]any)["serviceName"])
			assert.JSONEq(t, `{"overwrite":false}`, submit.Form.Get("in_publish_options"))
		})
	}
}

func TestPublishSDFailureQuotesServerAndCleansUp(t *testing.T) {
	t.Parallel()
	const line = "ERROR 001487: Failed to update the published service with the server-side data location."
	for _, keep := range []bool{false, true} {
		c, srv := emulated(t)
		srv.FailPublish(line)
		var opts []PublishOption
		if keep {
			opts = append(opts, WithKeepUpload())
		}
		ctx := context.Background()
		job, err := c.Services.PublishSD(ctx, PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Roads.sd"}, opts...)
		require.NoError(t, err)
		_, err = job.Wait(ctx, nil)
		var jerr *JobError
		require.ErrorAs(t, err, &jerr)
		assert.ErrorIs(t, err, ErrJobFailed)
		assert.Contains(t, err.Error(), line, "the server's own reason")
		if keep {
			assert.Len(t, srv.Uploads(), 1, "kept on request")
		} else {
			assert.Empty(t, srv.Uploads(), "the upload is deleted on failure")
		}

		// A re-attached job cleans up too, reading the item from the job's inputs.
		if !keep {
			job, err := c.Services.PublishSD(ctx, PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Roads.sd"})
			require.NoError(t, err)
			again, err := c.Services.PublishSDJob(job.ID())
			require.NoError(t, err)
			_, err = again.Wait(ctx, nil)
			require.ErrorAs(t, err, &jerr)
			assert.Contains(t, err.Error(), line)
			assert.Empty(t, srv.Uploads())
			assert.Equal(t, 1, srv.Count("/inputs/in_sdp_id"))
		}
	}
}

func TestPublishSDReattachSucceeds(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	ctx := context.Background()
	job, err := c.Services.PublishSD(ctx, PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Parcels.sd"})
	require.NoError(t, err)
	again, err := c.Services.PublishSDJob(job.ID())
	require.NoError(t, err)
	res, err := again.Wait(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, ServiceRef{Name: "Parcels", Type: MapServer}, res.Service, "from out_rest_svc_url")
	_, ok := srv.Service("", "Parcels", "MapServer")
	assert.True(t, ok)
}

func TestPublishSDIfNotExists(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	srv.SetSDConfiguration("Roads.sd", roadsConfig())
	srv.AddService("", "Roads", "MapServer", nil)
	_, err := c.Services.PublishSD(context.Background(), PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Roads.sd", IfNotExists: true})
	require.ErrorIs(t, err, ErrServiceExists)
	assert.Contains(t, err.Error(), "Roads.MapServer")
	assert.Equal(t, 0, srv.Count("/submitJob"), "nothing submitted")
	assert.Empty(t, srv.Uploads(), "the upload is deleted")

	ok, err := c.Services.Exists(context.Background(), ServiceRef{Name: "Roads", Type: "mapserver"})
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = c.Services.Exists(context.Background(), ServiceRef{Folder: "Nope", Name: "Roads", Type: MapServer})
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestPublishSDMissingFolderFailsOnServer(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	ctx := context.Background()
	job, err := c.Services.PublishSD(ctx, PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Roads.sd", Folder: "Nope"})
	require.NoError(t, err)
	_, err = job.Wait(ctx, nil)
	var jerr *JobError
	require.ErrorAs(t, err, &jerr)
	assert.Contains(t, err.Error(), "ERROR 001369")
	assert.Empty(t, srv.Uploads())
}

func TestPublishSDWithPublishingToolsEx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := emulated(t)
	srv.AddPublishingToolsEx()
	job, err := c.Services.PublishSD(ctx, PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Roads.sd"}, WithPublishingToolsEx())
	require.NoError(t, err)
	_, err = job.Wait(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count("/PublishingToolsEx/GPServer/Publish Service Definition/submitJob"))
	assert.Equal(t, 0, srv.Count("/PublishingTools/GPServer/Publish Service Definition/submitJob"))

	// Without the option nothing switches by itself: a site without the
	// Ex service refuses, and the upload is deleted.
	c2, srv2 := emulated(t)
	_, err = c2.Services.PublishSD(ctx, PublishSDRequest{Reader: agstest.FakeSD(4096), Name: "Roads.sd"}, WithPublishingToolsEx())
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 0, srv2.Count("/PublishingTools/GPServer/Publish Service Definition/submitJob"))
	assert.Empty(t, srv2.Uploads())
}

func TestPublishSDValidation(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "Roads.sd")
	require.NoError(t, os.WriteFile(good, sdBytes(100), 0o644))
	zip := filepath.Join(dir, "Zipped.sd")
	require.NoError(t, os.WriteFile(zip, []byte("PK\x03\x04 not 7-zip"), 0o644))
	sdDir := filepath.Join(dir, "Dir.sd")
	require.NoError(t, os.Mkdir(sdDir, 0o755))
	txt := filepath.Join(dir, "Roads.txt")
	require.NoError(t, os.WriteFile(txt, sdBytes(100), 0o644))
	ctx := context.Background()
	for name, req := range map[string]PublishSDRequest{
		"no source":         {},
		"two sources":       {File: good, ItemID: "iabc"},
		"missing file":      {File: filepath.Join(dir, "nope.sd")},
		"a directory":       {File: sdDir},
		"not an .sd name":   {File: txt},
		"not a 7z archive":  {File: zip},
		"reader no name":    {Reader: bytes.NewReader(sdBytes(100))},
		"reader not 7z":     {Reader: strings.NewReader("hello world"), Name: "Roads.sd"},
		"plain reader bad":  {Reader: onlyReader{strings.NewReader("hello world")}, Name: "Roads.sd"},
		"bad service name":  {File: good, ServiceName: "Roads network"},
		"hyphen in name":    {File: good, ServiceName: "Roads-2"},
		"bad folder":        {File: good, Folder: "a/b"},
		"bad item ID":       {ItemID: "../x"},
		"min above max":     {File: good, MinInstances: 3, MaxInstances: 2},
		"empty property":    {File: good, Properties: map[string]any{" ": 1}},
		"negative instance": {File: good, MinInstances: -1},
		"extra token":       {File: good, ExtraParams: ExtraParams{"Token": {"x"}}},
		"extra blank name":  {File: good, ExtraParams: ExtraParams{"": {"x"}}},
	} {
		_, err := c.Services.PublishSD(ctx, req)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, name)
	}
	assert.Empty(t, srv.Requests(), "bad input sends nothing")

	// A good file publishes, and a plain reader's first bytes are not lost.
	res, err := c.Services.PublishSDAndWait(ctx, PublishSDRequest{File: good}, nil)
	require.NoError(t, err)
	assert.Equal(t, "Roads", res.Service.Name)
	res, err = c.Services.PublishSDAndWait(ctx, PublishSDRequest{Reader: onlyReader{bytes.NewReader(sdBytes(5000))}, Name: "Plain.sd"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "Plain", res.Service.Name)
}

func TestServiceConfigurationRoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"folderName":"/","service":{"serviceName":"Roads","type":"MapServer","minInstancesPerNode":0,"x":[1]},"publishOptions":{"a":1},"type":"MapServer"}`
	var c ServiceConfiguration
	require.NoError(t, json.Unmarshal([]byte(in), &c))
	assert.Equal(t, "", c.FolderName)
	assert.Equal(t, ServiceRef{Name: "Roads", Type: MapServer}, c.Ref())
	out, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"folderName":"","service":{"serviceName":"Roads","type":"MapServer","minInstancesPerNode":0,"x":[1]},"publishOptions":{"a":1},"type":"MapServer"}`, string(out))

	for _, bad := range []string{`[]`, `null`, `{"folderName":"x"}`, `{"service":null}`} {
		var c ServiceConfiguration
		assert.Error(t, json.Unmarshal([]byte(bad), &c), bad)
	}
}

func TestPublishSDGivenItemKeptWhenRefusedBeforeJob(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	ctx := context.Background()
	item, err := c.Uploads.Upload(ctx, "Roads.sd", agstest.FakeSD(4096), nil)
	require.NoError(t, err)
	srv.AddService("", "Roads", "MapServer", nil)
	_, err = c.Services.PublishSD(ctx, PublishSDRequest{ItemID: item.ItemID, IfNotExists: true})
	require.True(t, errors.Is(err, ErrServiceExists), "%v", err)
	assert.Len(t, srv.Uploads(), 1, "an item the caller uploaded is not deleted for a refusal before the job")
}

// TestPublishSDJobNeedsTheNewServiceURL: re-attached, a publish job knows
// the new service only from its out_rest_svc_url output; an output that
// does not name one is reported by the decoder, with the answer's status
// and a snippet, and a job without that output is an error too.
func TestPublishSDJobNeedsTheNewServiceURL(t *testing.T) {
	succeeded := func(t *testing.T) string {
		return gpStatusBody(t, "jp", "esriJobSucceeded", nil, map[string]string{"out_rest_svc_url": "results/out_rest_svc_url"})
	}
	c, mux, _ := setup(t)
	installClock(c)
	bad := `{"paramName":"out_rest_svc_url","dataType":"GPString","value":"nowhere"}`
	(&fakeTask{t: t, task: PublishSDTask, jobID: "jp", status: writeBody(succeeded(t)),
		results: map[string]string{"out_rest_svc_url": bad}}).mount(mux)
	job, err := c.Services.PublishSDJob("jp")
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), nil)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, `out_rest_svc_url ("nowhere") does not name the new service`, re.Reason)
	assert.Equal(t, http.StatusOK, re.HTTPStatus)
	assert.Equal(t, bad, re.Snippet)
	assert.Contains(t, re.URL, "/jobs/jp/results/out_rest_svc_url")

	c, mux, _ = setup(t)
	installClock(c)
	(&fakeTask{t: t, task: PublishSDTask, jobID: "jp",
		status: writeBody(gpStatusBody(t, "jp", "esriJobSucceeded", nil, map[string]string{}))}).mount(mux)
	job, err = c.Services.PublishSDJob("jp")
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), nil)
	assert.ErrorContains(t, err, "no out_rest_svc_url output")

	// A good URL names the service.
	c, mux, _ = setup(t)
	installClock(c)
	(&fakeTask{t: t, task: PublishSDTask, jobID: "jp", status: writeBody(succeeded(t)),
		results: map[string]string{"out_rest_svc_url": `{"paramName":"out_rest_svc_url","dataType":"GPString",` +
			`"value":"https://gis.example.com/arcgis/rest/services/Transport/Roads/MapServer"}`}}).mount(mux)
	job, err = c.Services.PublishSDJob("jp")
	require.NoError(t, err)
	res, err := job.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, ServiceRef{Folder: "Transport", Name: "Roads", Type: MapServer}, res.Service)
}
