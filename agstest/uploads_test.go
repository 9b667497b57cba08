package agstest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postFile sends a multipart POST with fields (the token added) and one
// file part.
func (c *client) postFile(path string, fields url.Values, field, filename string, content io.Reader) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if !fields.Has("f") {
		fields.Set("f", "json")
	}
	if c.token != "" {
		fields.Set("token", c.token)
	}
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(c.t, mw.WriteField(k, v))
		}
	}
	fw, err := mw.CreateFormFile(field, filename)
	require.NoError(c.t, err)
	_, err = io.Copy(fw, content)
	require.NoError(c.t, err)
	require.NoError(c.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.srv.URL()+path, &body)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.srv.Client().Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	require.NoError(c.t, json.Unmarshal(raw, &out.body), "body: %s", raw)
	return out
}

func TestUploadOneRequest(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	r := c.postFile("/admin/uploads/upload", url.Values{}, "itemFile", "Roads.sd", FakeSD(70_000))
	require.Equal(t, "success", r.body["status"], "%s", r.raw)
	item := r.obj("item")
	requireShape(t, "admin-uploads-item-doc-10.1", item)
	id := item["itemID"].(string)
	assert.True(t, strings.HasPrefix(id, "i"))
	assert.Equal(t, "Roads.sd", item["itemName"])
	assert.Equal(t, true, item["committed"])
	_, err := time.Parse("Mon Jan 02 15:04:05 MST 2006", item["date"].(string))
	assert.NoError(t, err, "a Java date")
	assert.Equal(t, []UploadedItem{{ItemID: id, Name: "Roads.sd", Size: 70_000, Committed: true}}, srv.Uploads())

	// The request log keeps the fields, masks the token, and never the file.
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, []string{"***"}, last.Form["token"])
	assert.Equal(t, []string{"json"}, last.Form["f"])
	assert.NotContains(t, last.Form, "itemFile")

	got := c.get("/admin/uploads/"+id, nil)
	requireShape(t, "admin-uploads-item-doc-10.1", got.body)
	list := c.get("/admin/uploads", nil)
	require.Len(t, list.body["items"], 1)

	cfg := c.get("/admin/uploads/"+id+"/serviceconfiguration.json", nil)
	assert.Equal(t, "", cfg.body["folderName"])
	assert.Equal(t, "Roads", cfg.obj("service")["serviceName"])
	assert.Equal(t, "MapServer", cfg.obj("service")["type"])

	srv.SetSDConfiguration("Roads.sd", map[string]any{"folderName": "Transport", "service": map[string]any{"serviceName": "R", "type": "MapServer"}})
	cfg = c.get("/admin/uploads/"+id+"/serviceconfiguration.json", nil)
	assert.Equal(t, "Transport", cfg.body["folderName"])

	del := c.post("/admin/uploads/"+id+"/delete", nil)
	requireShape(t, "admin-uploads-commit-ok-doc", del.body)
	assert.Empty(t, srv.Uploads())
	code, msgs := adminErr(t, c.get("/admin/uploads/"+id, nil))
	assert.Equal(t, 404, code)
	assert.Contains(t, msgs[0], "Could not find resource or operation")

	// No file, no upload.
	r = c.post("/admin/uploads/upload", nil)
	code, _ = adminErr(t, r)
	assert.Equal(t, 400, code)
	// An upload needs a token like every admin POST.
	anon := &client{t: t, srv: srv}
	r = anon.postFile("/admin/uploads/upload", url.Values{}, "itemFile", "Roads.sd", FakeSD(10))
	code, _ = adminErr(t, r)
	assert.Equal(t, 499, code)
}

func TestUploadInParts(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	r := c.post("/admin/uploads/register", url.Values{"itemName": {"Big.sd"}, "description": {"big"}})
	require.Equal(t, "success", r.body["status"], "%s", r.raw)
	id := r.obj("item")["itemID"].(string)
	assert.Equal(t, false, r.obj("item")["committed"])
	for n, size := range []int{1000, 1000, 500} {
		p := c.postFile("/admin/uploads/"+id+"/uploadPart", url.Values{"partNumber": {string(rune('1' + n))}},
			"partFile", "Big.sd."+string(rune('1'+n)), FakeSD(int64(size)))
		require.Equal(t, "success", p.body["status"], "%s", p.raw)
	}
	// A part sent again replaces the first copy.
	c.postFile("/admin/uploads/"+id+"/uploadPart", url.Values{"partNumber": {"3"}}, "partFile", "Big.sd.3", FakeSD(600))
	assert.Equal(t, []UploadedItem{{ItemID: id, Name: "Big.sd", Committed: false, Parts: 3}}, srv.Uploads())

	// An unknown part in the list is refused; the doc's quoted names are read.
	code, _ := adminErr(t, c.post("/admin/uploads/"+id+"/commit", url.Values{"parts": {"1,2,9"}}))
	assert.Equal(t, 400, code)
	r = c.post("/admin/uploads/"+id+"/commit", url.Values{"parts": {`"Big.sd.1","Big.sd.2","Big.sd.3"`}})
	requireShape(t, "admin-uploads-commit-ok-doc", r.body)
	assert.Equal(t, []UploadedItem{{ItemID: id, Name: "Big.sd", Size: 2600, Committed: true, Parts: 3}}, srv.Uploads())
	code, _ = adminErr(t, c.postFile("/admin/uploads/"+id+"/uploadPart", url.Values{"partNumber": {"4"}}, "partFile", "x", FakeSD(1)))
	assert.Equal(t, 400, code, "a committed item takes no more parts")
}

func TestServiceExists(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	srv.AddService("Transport", "Roads", "MapServer", nil)
	for form, want := range map[string]bool{
		"folderName=Transport&serviceName=Roads&type=MapServer":     true,
		"folderName=Transport&serviceName=Roads&type=FeatureServer": false,
		"folderName=&serviceName=Roads&type=MapServer":              false,
		"folderName=Transport":                                      true,
		"folderName=Nope":                                           false,
	} {
		v, err := url.ParseQuery(form)
		require.NoError(t, err)
		r := c.post("/admin/services/exists", v)
		assert.Equal(t, want, r.body["exists"], form)
	}
}

func TestPublishServiceDefinition(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	c := login(t, srv)
	upload := func() string {
		r := c.postFile("/admin/uploads/upload", url.Values{}, "itemFile", "Roads.sd", FakeSD(100))
		return r.obj("item")["itemID"].(string)
	}
	task := "/rest/services/System/PublishingTools/GPServer/Publish Service Definition"
	info := c.get(task, nil)
	var names []string
	for _, p := range info.body["parameters"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"in_sdp_id", "in_config_overwrite", "in_publish_options", "out_soap_svc_url", "out_rest_svc_url", "out_results"}, names)

	run := func(form url.Values) map[string]any {
		r := c.post(task+"/submitJob", form)
		requireShape(t, "gp-submitjob-ok", r.body)
		clock.Advance(2 * time.Second)
		return c.get(task+"/jobs/"+r.body["jobId"].(string), nil).body
	}
	errorsOf := func(job map[string]any) []string {
		var out []string
		for _, m := range job["messages"].([]any) {
			if m.(map[string]any)["type"] == "esriJobMessageTypeError" {
				out = append(out, m.(map[string]any)["description"].(string))
			}
		}
		return out
	}

	// Published with an overwritten configuration: the service exists and
	// the upload is gone.
	id := upload()
	job := run(url.Values{"in_sdp_id": {id},
		"in_config_overwrite": {`{"folderName":"System","service":{"serviceName":"Roads","type":"MapServer","capabilities":"Map"}}`}})
	require.Equal(t, "esriJobSucceeded", job["jobStatus"], "%v", job)
	def, ok := srv.Service("System", "Roads", "MapServer")
	require.True(t, ok)
	assert.Equal(t, "Map", def["capabilities"])
	assert.Empty(t, srv.Uploads())
	res := c.get(task+"/jobs/"+job["jobId"].(string)+"/results/out_rest_svc_url", nil)
	assert.Equal(t, srv.URL()+"/rest/services/System/Roads/MapServer", res.body["value"])

	// The same again: the service exists, the job fails with ERROR 001369.
	id = upload()
	job = run(url.Values{"in_sdp_id": {id},
		"in_config_overwrite": {`{"folderName":"System","service":{"serviceName":"Roads","type":"MapServer"}}`}})
	assert.Equal(t, "esriJobFailed", job["jobStatus"])
	errs := errorsOf(job)
	assert.Contains(t, errs, "ERROR 001369: Failed to create the service.")
	assert.Len(t, srv.Uploads(), 1, "a failed publish keeps the upload")

	// The item's own configuration, a missing folder, a missing item.
	job = run(url.Values{"in_sdp_id": {id}})
	assert.Equal(t, "esriJobSucceeded", job["jobStatus"])
	_, ok = srv.Service("", "Roads", "MapServer")
	assert.True(t, ok, "published from the plausible configuration")
	id = upload()
	job = run(url.Values{"in_sdp_id": {id}, "in_config_overwrite": {`{"folderName":"Nope","service":{"serviceName":"X","type":"MapServer"}}`}})
	assert.Contains(t, errorsOf(job), "Folder 'Nope' does not exist.")
	job = run(url.Values{"in_sdp_id": {"inope"}})
	assert.Equal(t, "esriJobFailed", job["jobStatus"])
	job = run(url.Values{})
	assert.Contains(t, errorsOf(job), "ERROR 000735: Service Definition Package ID: Value is required")

	// FailPublish: the configured line, then the generic trailers.
	const line = "ERROR 001487: Failed to update the published service with the server-side data location."
	srv.FailPublish(line)
	job = run(url.Values{"in_sdp_id": {id}})
	errs = errorsOf(job)
	require.NotEmpty(t, errs)
	assert.Equal(t, line, errs[0])
	assert.True(t, strings.HasPrefix(errs[len(errs)-1], "Failed at "), errs)
	in := c.get(task+"/jobs/"+job["jobId"].(string)+"/inputs/in_sdp_id", nil)
	assert.Equal(t, id, in.body["value"], "a failed job's inputs are readable")
}

func TestPublishingToolsEx(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	task := "/rest/services/System/PublishingToolsEx/GPServer/Publish Service Definition"
	_, msg, _ := restErr(t, c.get(task, nil))
	assert.Equal(t, "Task not found.", msg, "absent unless added")
	srv.AddPublishingToolsEx()
	r := c.get(task, nil)
	assert.Equal(t, "PublishServiceDefinition", r.body["name"])
	_, ok := srv.Service("System", "PublishingToolsEx", "GPServer")
	assert.True(t, ok)
}

func TestFakeSD(t *testing.T) {
	t.Parallel()
	b, err := io.ReadAll(FakeSD(100))
	require.NoError(t, err)
	require.Len(t, b, 100)
	assert.Equal(t, sdSignature, b[:6])
	assert.Equal(t, "ghijklmnopqrstuvwxyzabcdef", string(b[6:32]))
	// Any offset reads the same bytes as a whole read.
	part := make([]byte, 40)
	_, err = FakeSD(100).ReadAt(part, 3)
	require.NoError(t, err)
	assert.Equal(t, b[3:43], part)
}
