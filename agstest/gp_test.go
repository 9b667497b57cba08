package agstest

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const refreshPath = "/rest/services/System/PublishingTools/GPServer/Refresh Service"

var jobIDPattern = regexp.MustCompile(`^j[0-9a-f]{32}$`)

func messages(r response) []string {
	var out []string
	for _, m := range r.body["messages"].([]any) {
		mm := m.(map[string]any)
		out = append(out, mm["type"].(string)+": "+mm["description"].(string))
	}
	return out
}

func submit(t *testing.T, c *client, taskPath string, form url.Values) string {
	t.Helper()
	r := c.post(taskPath+"/submitJob", form)
	requireShape(t, "gp-submitjob-ok", r.body)
	assert.Equal(t, "esriJobSubmitted", r.body["jobStatus"])
	id := r.body["jobId"].(string)
	require.Regexp(t, jobIDPattern, id)
	return id
}

func TestRefreshServiceTaskMetadata(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	r := c.get(refreshPath, nil)
	requireShape(t, "gp-task-refresh-service", r.body)
	want := loadFixture(t, "gp-task-refresh-service").(map[string]any)
	// Everything but the site-specific help URL is the captured page.
	delete(want, "helpUrl")
	delete(r.body, "helpUrl")
	assert.Equal(t, want, r.body)

	r = c.get("/rest/services/System/CachingTools/GPServer/Manage Map Cache Tiles", nil)
	assert.Equal(t, "ManageMapCacheTiles", r.body["name"])
	var names []string
	for _, p := range r.body["parameters"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"service_url", "levels", "thread_count", "update_mode", "constraining_extent", "area_of_interest", "ignore_status", "result"}, names)

	r = c.get("/rest/services/System/PublishingTools/GPServer/Nope", nil)
	code, _, _ := restErr(t, r)
	assert.Equal(t, 404, code)
	r = c.post("/rest/services/System/PublishingTools/GPServer/Nope/submitJob", nil)
	code, _, _ = restErr(t, r)
	assert.Equal(t, 404, code)
}

// TestGPJobDrivenByClock walks a Refresh Service job through every state.
func TestGPJobDrivenByClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(10*time.Second))
	srv.AddService("Imagery", "Landsat", "ImageServer", nil)
	c := login(t, srv)

	id := submit(t, c, refreshPath, url.Values{"serviceName": {"Landsat"}, "serviceType": {"ImageServer"}, "serviceFolder": {"Imagery"}})
	jobPath := refreshPath + "/jobs/" + id

	r := c.get(jobPath, nil)
	assert.Equal(t, "esriJobSubmitted", r.body["jobStatus"])
	assert.Equal(t, []string{"esriJobMessageTypeInformative: Submitted."}, messages(r))
	assert.NotContains(t, r.body, "progress")
	assert.NotContains(t, r.body, "results")

	clock.Advance(999 * time.Millisecond)
	assert.Equal(t, "esriJobSubmitted", c.get(jobPath, nil).body["jobStatus"])

	clock.Advance(time.Millisecond) // 1 s: 10% of the duration
	r = c.get(jobPath, nil)
	assert.Equal(t, "esriJobExecuting", r.body["jobStatus"])
	assert.Equal(t, map[string]any{"type": "default", "message": "Executing...", "percent": 10.0}, r.body["progress"])
	assert.Equal(t, []string{
		"esriJobMessageTypeInformative: Submitted.",
		"esriJobMessageTypeInformative: Executing...",
		"esriJobMessageTypeInformative: Start Time: Wed Jan 03 10:00:01 2024",
	}, messages(r))

	clock.Advance(4 * time.Second) // 5 s
	r = c.get(jobPath, url.Values{"returnMessages": {"false"}})
	assert.Equal(t, 50.0, r.obj("progress")["percent"])
	assert.NotContains(t, r.body, "messages")

	// POST works for status too.
	assert.Equal(t, "esriJobExecuting", c.post(jobPath, nil).body["jobStatus"])

	clock.Advance(5 * time.Second) // 10 s: done
	r = c.get(jobPath, nil)
	assert.Equal(t, "esriJobSucceeded", r.body["jobStatus"])
	requireShapeSuperset(t, "gp-job-succeeded-mock", r.body)
	assert.Equal(t, map[string]any{"refreshResults": map[string]any{"paramUrl": "results/refreshResults"}}, r.body["results"])
	assert.Equal(t, map[string]any{"paramUrl": "inputs/serviceName"}, r.obj("inputs")["serviceName"])
	assert.NotContains(t, r.body, "progress")
	msgs := messages(r)
	assert.Equal(t, "esriJobMessageTypeInformative: Succeeded at Wed Jan 03 10:00:10 2024 (Elapsed Time: 9.00 seconds)", msgs[len(msgs)-1])

	r = c.get(jobPath+"/results/refreshResults", nil)
	requireShape(t, "gp-result-param", r.body)
	assert.Equal(t, "refreshResults", r.body["paramName"])
	assert.Equal(t, "GPString", r.body["dataType"])

	r = c.get(jobPath+"/inputs/serviceFolder", nil)
	requireShape(t, "gp-result-param", r.body)
	assert.Equal(t, "Imagery", r.body["value"])

	r = c.get(jobPath+"/results/nope", nil)
	code, _, _ := restErr(t, r)
	assert.Equal(t, 400, code)

	// Cancelling a finished job changes nothing.
	r = c.post(jobPath+"/cancel", nil)
	assert.Equal(t, "esriJobSucceeded", r.body["jobStatus"])

	// Unknown job, and a job asked for under another task.
	code, _, _ = restErr(t, c.get(refreshPath+"/jobs/jdeadbeef", nil))
	assert.Equal(t, 404, code)
	code, _, _ = restErr(t, c.get("/rest/services/System/CachingTools/GPServer/Manage Map Cache Tiles/jobs/"+id, nil))
	assert.Equal(t, 404, code)
}

func TestRefreshServiceFailures(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	c := login(t, srv)

	missing := submit(t, c, refreshPath, url.Values{"serviceName": {"Ghost"}, "serviceType": {"ImageServer"}})
	noParams := submit(t, c, refreshPath, nil)
	badType := submit(t, c, refreshPath, url.Values{"serviceName": {"Ghost"}, "serviceType": {"GPServer"}})
	clock.Advance(time.Second)

	r := c.get(refreshPath+"/jobs/"+missing, nil)
	assert.Equal(t, "esriJobFailed", r.body["jobStatus"])
	assert.NotContains(t, r.body, "results")
	msgs := messages(r)
	assert.Contains(t, msgs, "esriJobMessageTypeError: Service 'Ghost.ImageServer' does not exist.")
	assert.Contains(t, msgs, "esriJobMessageTypeError: Failed to execute (RefreshService).")

	msgs = messages(c.get(refreshPath+"/jobs/"+noParams, nil))
	assert.Contains(t, msgs, "esriJobMessageTypeError: ERROR 000735: Service Name: Value is required")
	assert.Contains(t, msgs, "esriJobMessageTypeError: ERROR 000735: Service Type: Value is required")

	msgs = messages(c.get(refreshPath+"/jobs/"+badType, nil))
	assert.Contains(t, msgs, "esriJobMessageTypeError: ERROR 000800: The value is not a member of ImageServer | FeatureServer | MapServer | SceneServer.")

	// Results of a failed job are not available.
	code, _, _ := restErr(t, c.get(refreshPath+"/jobs/"+missing+"/results/refreshResults", nil))
	assert.Equal(t, 400, code)
}

func TestGPCancel(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(10*time.Second))
	srv.AddService("", "Live", "ImageServer", nil)
	c := login(t, srv)

	id := submit(t, c, refreshPath, url.Values{"serviceName": {"Live"}, "serviceType": {"ImageServer"}})
	r := c.get(refreshPath+"/jobs/"+id+"/cancel", nil) // GET is accepted too
	assert.Equal(t, map[string]any{"jobId": id, "jobStatus": "esriJobCancelling"}, r.body)

	r = c.get(refreshPath+"/jobs/"+id, nil)
	requireShape(t, "gp-job-cancelled-with-messages-mock", r.body)
	assert.Equal(t, "esriJobCancelled", r.body["jobStatus"])
	assert.Equal(t, []string{"esriJobMessageTypeInformative: Submitted.", "esriJobMessageTypeInformative: Cancel complete."}, messages(r))

	r = c.get(refreshPath+"/jobs/"+id, url.Values{"returnMessages": {"false"}})
	requireShape(t, "gp-job-cancelled", r.body)

	// Time passing does not revive it, and the handler is not called.
	clock.Advance(time.Minute)
	assert.Equal(t, "esriJobCancelled", c.get(refreshPath+"/jobs/"+id, nil).body["jobStatus"])

	// Cancelled while executing: the executing messages stay.
	id2 := submit(t, c, refreshPath, url.Values{"serviceName": {"Live"}, "serviceType": {"ImageServer"}})
	clock.Advance(3 * time.Second)
	assert.Equal(t, "esriJobCancelling", c.post(refreshPath+"/jobs/"+id2+"/cancel", nil).body["jobStatus"])
	msgs := messages(c.get(refreshPath+"/jobs/"+id2, nil))
	assert.Equal(t, "esriJobMessageTypeInformative: Executing...", msgs[1])
	assert.Equal(t, "esriJobMessageTypeInformative: Cancel complete.", msgs[len(msgs)-1])
}

func TestRegisterTaskAndFailJobs(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	c := login(t, srv)

	calls := 0
	srv.RegisterTask("Tools/GPServer/Buffer", func(p url.Values) (map[string]any, error) {
		calls++
		if p.Get("distance") == "-1" {
			return nil, errors.New("Distance must be positive.")
		}
		// A handler may use the server.
		srv.AddService("", "Buffered", "MapServer", nil)
		return map[string]any{"Output_String": "TestString", "count": 3, "ratio": 0.5, "ok": true, "names": []string{"a", "b"}}, nil
	})
	srv.FailJobs(func(task string, p url.Values) string {
		if task == "Tools/GPServer/Buffer" && p.Get("distance") == "13" {
			return "Unlucky distance."
		}
		return ""
	})
	const task = "/rest/services/Tools/GPServer/Buffer"
	assert.Equal(t, "Buffer", c.get(task, nil).body["name"])

	okID := submit(t, c, task, url.Values{"distance": {"5"}})
	errID := submit(t, c, task, url.Values{"distance": {"-1"}})
	failID := submit(t, c, task, url.Values{"distance": {"13"}})
	clock.Advance(time.Second)

	r := c.get(task+"/jobs/"+okID, nil)
	assert.Equal(t, "esriJobSucceeded", r.body["jobStatus"])
	assert.Len(t, r.obj("results"), 5)
	r = c.get(task+"/jobs/"+okID+"/results/Output_String", nil)
	assert.Equal(t, loadFixture(t, "gp-result-param"), any(r.body))
	for name, typ := range map[string]string{"count": "GPLong", "ratio": "GPDouble", "ok": "GPBoolean", "names": "GPMultiValue:GPString"} {
		assert.Equal(t, typ, c.get(task+"/jobs/"+okID+"/results/"+name, nil).body["dataType"], name)
	}
	_, created := srv.Service("", "Buffered", "MapServer")
	assert.True(t, created)

	r = c.get(task+"/jobs/"+errID, nil)
	assert.Equal(t, "esriJobFailed", r.body["jobStatus"])
	assert.Contains(t, messages(r), "esriJobMessageTypeError: Distance must be positive.")

	r = c.get(task+"/jobs/"+failID, nil)
	assert.Equal(t, "esriJobFailed", r.body["jobStatus"])
	assert.Contains(t, messages(r), "esriJobMessageTypeError: Unlucky distance.")

	// Each completed job called the handler once at most (the FailJobs one never).
	for i := 0; i < 3; i++ {
		c.get(task+"/jobs/"+okID, nil)
	}
	assert.Equal(t, 2, calls)

	// Admin job delete.
	r = c.post("/admin/services/Tools.GPServer/jobs/"+okID+"/delete", nil)
	requireShape(t, "admin-success", r.body)
	code, _, _ := restErr(t, c.get(task+"/jobs/"+okID, nil))
	assert.Equal(t, 404, code)
	r = c.post("/admin/services/Tools.GPServer/jobs/"+okID+"/delete", nil)
	requireShape(t, "admin-delete-job-error", r.body)
	assert.Equal(t, []any{fmt.Sprintf("Unable to delete job :[%s]", okID)}, r.body["messages"])

	assert.Panics(t, func() { srv.RegisterTask("NoGP/Buffer", nil) })
}

func TestManageMapCacheTiles(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Second))
	srv.AddService("Basemaps", "Streets", "MapServer", nil)
	srv.SetTileScheme("Basemaps", "Streets", "MapServer", WebMercatorScheme(5, [4]float64{-1e6, -1e6, 1e6, 1e6}))
	c := login(t, srv)
	const task = "/rest/services/System/CachingTools/GPServer/Manage Map Cache Tiles"

	good := submit(t, c, task, url.Values{
		"service_url": {"Basemaps/Streets:MapServer"}, "levels": {"591657527.591555;295828763.795777"},
		"thread_count": {"3"}, "update_mode": {"RECREATE_ALL_TILES"}, "constraining_extent": {"DEFAULT"},
	})
	bad := submit(t, c, task, url.Values{
		"service_url": {"Basemaps/Nope:MapServer"}, "levels": {"abc"}, "update_mode": {"SOMETIMES"},
	})
	clock.Advance(500 * time.Millisecond)
	r := c.get(task+"/jobs/"+good, nil)
	assert.Equal(t, "esriJobExecuting", r.body["jobStatus"])
	clock.Advance(500 * time.Millisecond)

	r = c.get(task+"/jobs/"+good, nil)
	assert.Equal(t, "esriJobSucceeded", r.body["jobStatus"], "%v", messages(r))
	r = c.get(task+"/jobs/"+good+"/results/result", nil)
	assert.Equal(t, "GPString", r.body["dataType"])
	assert.Contains(t, r.body["value"], "Basemaps/Streets:MapServer")

	r = c.get(task+"/jobs/"+bad, nil)
	assert.Equal(t, "esriJobFailed", r.body["jobStatus"])
	msgs := strings.Join(messages(r), "\n")
	assert.Contains(t, msgs, "Invalid scale 'abc'")
	assert.Contains(t, msgs, "ERROR 000735: Number of caching service instances: Value is required")
	assert.Contains(t, msgs, "ERROR 000800: The value is not a member of RECREATE_EMPTY_TILES")
	assert.Contains(t, msgs, "Service 'Basemaps/Nope.MapServer' does not exist.")
}

// TestJobDurationsPerJob: each job takes the next duration, and JobEnd
// says when it ends.
func TestJobDurationsPerJob(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	lengths := []time.Duration{3 * time.Second, time.Second, -time.Second}
	var next int
	srv := start(t, WithClock(clock.Now), WithJobDuration(time.Hour), WithJobDurations(func() time.Duration {
		next++
		return lengths[next-1]
	}))
	srv.AddService("Imagery", "Landsat", "ImageServer", nil)
	c := login(t, srv)
	form := url.Values{"serviceName": {"Landsat"}, "serviceType": {"ImageServer"}, "serviceFolder": {"Imagery"}}
	t0 := clock.Now()
	ids := []string{submit(t, c, refreshPath, form), submit(t, c, refreshPath, form), submit(t, c, refreshPath, form)}
	for i, want := range []time.Duration{3 * time.Second, time.Second, 0} {
		end, ok := srv.JobEnd(ids[i])
		require.True(t, ok)
		assert.Equal(t, t0.Add(want), end, "job %d", i)
	}
	_, ok := srv.JobEnd("jnope")
	assert.False(t, ok)

	clock.Advance(time.Second)
	assert.Equal(t, "esriJobExecuting", c.get(refreshPath+"/jobs/"+ids[0], nil).body["jobStatus"])
	assert.Equal(t, "esriJobSucceeded", c.get(refreshPath+"/jobs/"+ids[1], nil).body["jobStatus"])
}
