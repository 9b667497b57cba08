package ags

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The job of the recorded submitJob answer (gp-submitjob-ok.json).
const refreshJobID = "ja892cd2a90d149db9a171fc86ff530b4"

// refreshSucceededBody is the recorded succeeded-job shape
// (gp-job-succeeded-mock.json) for the Refresh Service job: its jobId and
// the task's one output, refreshResults.
func refreshSucceededBody(t *testing.T) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "gp-job-succeeded-mock.json"), &m))
	m["jobId"] = refreshJobID
	m["results"] = map[string]any{"refreshResults": map[string]string{"paramUrl": "results/refreshResults"}}
	m["messages"] = []JobMessage{
		msg("Informative", "Submitted."),
		msg("Informative", "Executing..."),
		msg("Informative", "Succeeded at Thu Jan 01 00:00:01 2026 (Elapsed Time: 1.02 seconds)"),
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// refreshResultBody is the recorded result shape (gp-result-param.json) for
// refreshResults.
func refreshResultBody(t *testing.T, value string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "gp-result-param.json"), &m))
	m["paramName"] = "refreshResults"
	m["value"] = value
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// refreshTask is the Refresh Service task answering submitJob with the
// recorded gp-submitjob-ok.json and its status polls with status.
func refreshTask(t *testing.T, mux *http.ServeMux, status func(n int, w http.ResponseWriter, r *http.Request)) *fakeTask {
	submit := fixture(t, "gp-submitjob-ok.json")
	return (&fakeTask{t: t, task: RefreshServiceTask, jobID: refreshJobID,
		submit: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(submit) },
		status: status,
		results: map[string]string{
			"refreshResults": refreshResultBody(t, `{"status":"success"}`),
		},
	}).mount(mux)
}

func TestRefreshEndToEnd(t *testing.T) {
	c, mux, site := setup(t)
	ns := installClock(c)
	succeeded := refreshSucceededBody(t)
	ft := refreshTask(t, mux, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			fmt.Fprint(w, gpStatusBody(t, refreshJobID, "esriJobExecuting",
				[]JobMessage{msg("Informative", "Submitted."), msg("Informative", "Executing...")}, nil))
			return
		}
		fmt.Fprint(w, succeeded)
	})

	job, err := c.Services.Refresh(context.Background(), ServiceRef{Folder: "Imagery", Name: "Landsat_Live", Type: ImageServer})
	require.NoError(t, err)
	assert.Equal(t, refreshJobID, job.ID())
	assert.Equal(t, site+"/rest/services/System/PublishingTools/GPServer/Refresh%20Service/jobs/"+refreshJobID, job.URL())

	// The submit request, on the wire.
	assert.Equal(t, "/arcgis/rest/services/System/PublishingTools/GPServer/Refresh%20Service/submitJob", ft.submitURI)
	assert.NotContains(t, ft.submitURI, "+")
	assert.NotContains(t, ft.submitURI, "?")
	assert.Equal(t, "Landsat_Live", ft.submitForm.Get("serviceName"))
	assert.Equal(t, "ImageServer", ft.submitForm.Get("serviceType"))
	assert.Equal(t, "Imagery", ft.submitForm.Get("serviceFolder"))
	assert.Equal(t, "json", ft.submitForm.Get("f"))
	assert.Equal(t, testToken, ft.submitForm.Get("token"))
	_, hasOpts := ft.submitForm["refreshOptions"]
	assert.False(t, hasOpts, "no refreshOptions unless given")

	var news [][]JobMessage
	res, err := job.Wait(context.Background(), &PollOptions{OnStatus: func(st JobStatus) { news = append(news, st.NewMessages) }})
	require.NoError(t, err)
	assert.Equal(t, `{"status":"success"}`, res.Results)
	assert.Equal(t, refreshJobID, res.JobID)
	assert.Equal(t, "esriJobSucceeded", res.Status)
	assert.Equal(t, []string{"refreshResults"}, res.Outputs)
	assert.Len(t, res.Messages, 3)
	assert.Equal(t, [][]JobMessage{
		{msg("Informative", "Submitted."), msg("Informative", "Executing...")},
		{msg("Informative", "Succeeded at Thu Jan 01 00:00:01 2026 (Elapsed Time: 1.02 seconds)")},
	}, news)
	assert.Equal(t, []string{"refreshResults"}, ft.resultPaths)
	for _, q := range ft.pollQueries {
		assert.Empty(t, q.Get("token"))
	}
	// Polled as Esri's Refresh Service example does: POST content
	// f=json&token=... (REST-REFERENCE §4.1).
	for _, q := range ft.pollForms {
		assert.Equal(t, "true", q.Get("returnMessages"))
		assert.Equal(t, "json", q.Get("f"))
		assert.Equal(t, testToken, q.Get("token"))
	}
	submits, polls, cancels := ft.count()
	assert.Equal(t, [3]int{1, 2, 0}, [3]int{submits, polls, cancels})
	assert.Len(t, ns.Sleeps(), 2)

	// The result's own parameter read is there too.
	p, err := res.Result(context.Background(), "refreshResults")
	require.NoError(t, err)
	assert.Equal(t, "GPString", p.DataType)
}

func TestRefreshAndWaitRootFolderAndTypeSpelling(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	ft := refreshTask(t, mux, writeBody(refreshSucceededBody(t)))
	res, err := c.Services.RefreshAndWait(context.Background(), ServiceRef{Folder: "/", Name: "Parcels", Type: "featureserver"}, nil, WithRefreshOptions("{}"))
	require.NoError(t, err)
	assert.Equal(t, `{"status":"success"}`, res.Results)
	assert.Equal(t, "FeatureServer", ft.submitForm.Get("serviceType"), "sent as the task spells it")
	_, hasFolder := ft.submitForm["serviceFolder"]
	assert.False(t, hasFolder, "the root folder is no serviceFolder")
	assert.Equal(t, "{}", ft.submitForm.Get("refreshOptions"))
}

func TestRefreshWithoutListedResult(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	ft := refreshTask(t, mux, writeBody(gpStatusBody(t, refreshJobID, "esriJobSucceeded", nil, nil)))
	res, err := c.Services.RefreshAndWait(context.Background(),
		ServiceRef{Name: "Roads", Type: MapServer}, nil)
	require.NoError(t, err)
	assert.Equal(t, "", res.Results)
	assert.Empty(t, ft.resultPaths, "no result read the job did not list")
}

func TestRefreshFailedQuotesLastErrorMessage(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	failed := gpStatusBody(t, refreshJobID, "esriJobFailed", []JobMessage{
		msg("Informative", "Submitted."),
		msg("Informative", "Executing..."),
		msg("Error", "Service 'Imagery/Missing.ImageServer' does not exist."),
		msg("Error", "Failed to execute (RefreshService)."),
		msg("Informative", "Failed at Thu Jan 01 00:00:01 2026 (Elapsed Time: 0.05 seconds)"),
	}, nil)
	ft := refreshTask(t, mux, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 3 {
			fmt.Fprint(w, gpStatusBody(t, refreshJobID, "esriJobExecuting", nil, nil))
			return
		}
		fmt.Fprint(w, failed)
	})
	_, err := c.Services.RefreshAndWait(context.Background(), ServiceRef{Folder: "Imagery", Name: "Missing", Type: ImageServer}, nil)
	var je *JobError
	require.ErrorAs(t, err, &je)
	assert.ErrorIs(t, err, ErrJobFailed)
	assert.NotErrorIs(t, err, ErrJobCancelled)
	assert.Equal(t, refreshJobID, je.JobID)
	assert.Equal(t, "esriJobFailed", je.Status)
	assert.Equal(t, JobFailed, je.State)
	assert.Len(t, je.Messages, 5)
	// The cause, not the generic "Failed to execute (...)" trailer that
	// follows every failure.
	assert.Equal(t, "Refresh Service: job "+refreshJobID+" failed (esriJobFailed): Service 'Imagery/Missing.ImageServer' does not exist.", err.Error())
	assert.NotContains(t, err.Error(), testToken)
	assert.Empty(t, ft.resultPaths)
}

func TestRefreshCancelled(t *testing.T) {
	for _, tc := range []struct {
		fixture  string
		messages int
		lastMsg  string
	}{
		{"gp-job-cancelled.json", 0, ""},
		{"gp-job-cancelled-with-messages-mock.json", 2, "Cancel complete."},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c, mux, _ := setup(t)
			installClock(c)
			refreshTask(t, mux, statusFixture(t, tc.fixture))
			_, err := c.Services.RefreshAndWait(context.Background(),
				ServiceRef{Name: "Landsat", Type: ImageServer}, nil)
			var je *JobError
			require.ErrorAs(t, err, &je)
			assert.ErrorIs(t, err, ErrJobCancelled)
			assert.NotErrorIs(t, err, ErrJobFailed)
			assert.Equal(t, JobCancelled, je.State)
			assert.Equal(t, "esriJobCancelled", je.Status)
			assert.Equal(t, refreshJobID, je.JobID, "the handle's ID, whatever the body repeats")
			assert.Len(t, je.Messages, tc.messages)
			if tc.lastMsg != "" {
				assert.True(t, strings.HasSuffix(err.Error(), ": "+tc.lastMsg), err.Error())
			} else {
				assert.True(t, strings.HasSuffix(err.Error(), "(esriJobCancelled)"), err.Error())
			}
		})
	}
}

// statusFixture answers every status poll with a recorded fixture.
func statusFixture(t *testing.T, name string) func(int, http.ResponseWriter, *http.Request) {
	h := serveFixture(t, name)
	return func(_ int, w http.ResponseWriter, r *http.Request) { h(w, r) }
}

func TestRefreshJobReattach(t *testing.T) {
	c, mux, _ := setup(t)
	ns := installClock(c)
	ft := refreshTask(t, mux, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			fmt.Fprint(w, gpStatusBody(t, refreshJobID, "esriJobWaiting", nil, nil))
			return
		}
		fmt.Fprint(w, refreshSucceededBody(t))
	})
	job, err := c.Services.RefreshJob(refreshJobID)
	require.NoError(t, err)
	assert.Equal(t, refreshJobID, job.ID())
	res, err := job.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, `{"status":"success"}`, res.Results)
	submits, polls, _ := ft.count()
	assert.Equal(t, 0, submits)
	assert.Equal(t, 2, polls)
	assert.Len(t, ns.Sleeps(), 1)

	_, err = c.Services.RefreshJob("../x")
	var ve *ValidationError
	assert.ErrorAs(t, err, &ve)
}

func TestRefreshTaskPathOverride(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	const task = "System/PublishingToolsEx/GPServer/Refresh Service"
	ft := (&fakeTask{t: t, task: task, jobID: "jex",
		status: writeBody(gpStatusBody(t, "jex", "esriJobSucceeded", nil, nil))}).mount(mux)
	job, err := c.Services.Refresh(context.Background(), ServiceRef{Name: "Landsat", Type: ImageServer}, WithRefreshTask(task))
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "/arcgis/rest/services/System/PublishingToolsEx/GPServer/Refresh%20Service/submitJob", ft.submitURI)
}

// TestRefreshExtraParams: WithRefreshParams adds parameters to the submit
// and replaces the ones Refresh sends; "f" and "token" cannot be set, and
// a bad key is refused before anything is sent.
func TestRefreshExtraParams(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	ft := refreshTask(t, mux, writeBody(refreshSucceededBody(t)))
	extra := ExtraParams{"env:outSR": {"3857"}, "serviceType": {"MapServer"}}
	job, err := c.Services.Refresh(t.Context(), ServiceRef{Folder: "Imagery", Name: "Landsat", Type: ImageServer},
		WithRefreshParams(extra))
	require.NoError(t, err)
	assert.Equal(t, "3857", ft.submitForm.Get("env:outSR"), "added")
	assert.Equal(t, []string{"MapServer"}, ft.submitForm["serviceType"], "replaced, not doubled")
	assert.Equal(t, "Landsat", ft.submitForm.Get("serviceName"), "the rest as Refresh sends it")
	assert.Equal(t, "Imagery", ft.submitForm.Get("serviceFolder"))
	assert.Equal(t, "json", ft.submitForm.Get("f"))
	assert.Equal(t, []string{testToken}, ft.submitForm["token"])
	assert.Equal(t, ExtraParams{"env:outSR": {"3857"}, "serviceType": {"MapServer"}}, extra, "the caller's values are not changed")
	_, err = job.Wait(t.Context(), nil)
	require.NoError(t, err)

	for _, bad := range []ExtraParams{{"f": {"html"}}, {"token": {"x"}}, {" ": {"x"}}} {
		_, err := c.Services.Refresh(t.Context(), ServiceRef{Name: "Landsat", Type: ImageServer}, WithRefreshParams(bad))
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%v", bad)
		assert.Equal(t, "ExtraParams", ve.Field)
		submits, _, _ := ft.count()
		assert.Equal(t, 1, submits, "nothing sent for %v", bad)
	}
}

func TestRefreshValidation(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc(sitePrefix, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("no request expected on bad input, got %s %s", r.Method, r.URL.Path)
	})
	long := strings.Repeat("a", 121)
	tests := []struct {
		name  string
		req   ServiceRef
		opts  []RefreshOption
		field string
	}{
		{"no name", ServiceRef{Type: ImageServer}, nil, "Name"},
		{"no type", ServiceRef{Name: "Landsat"}, nil, "Type"},
		{"type not refreshable", ServiceRef{Name: "Landsat", Type: GPServer}, nil, "Type"},
		{"type unknown", ServiceRef{Name: "Landsat", Type: "ImageService"}, nil, "Type"},
		{"name with a space", ServiceRef{Name: "Land sat", Type: ImageServer}, nil, "Name"},
		{"name with a slash", ServiceRef{Name: "Imagery/Landsat", Type: ImageServer}, nil, "Name"},
		{"name with a dot", ServiceRef{Name: "Landsat.ImageServer", Type: ImageServer}, nil, "Name"},
		{"name with an accent", ServiceRef{Name: "Café", Type: ImageServer}, nil, "Name"},
		{"name too long", ServiceRef{Name: long, Type: ImageServer}, nil, "Name"},
		{"folder with a space", ServiceRef{Folder: "My Folder", Name: "L", Type: ImageServer}, nil, "Folder"},
		{"nested folder", ServiceRef{Folder: "a/b", Name: "L", Type: ImageServer}, nil, "Folder"},
		{"folder ..", ServiceRef{Folder: "..", Name: "L", Type: ImageServer}, nil, "Folder"},
		{"folder with ?", ServiceRef{Folder: "a?b", Name: "L", Type: ImageServer}, nil, "Folder"},
		{"bad task path", ServiceRef{Name: "L", Type: ImageServer}, []RefreshOption{WithRefreshTask("Refresh Service")}, "task path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Services.Refresh(context.Background(), tt.req, tt.opts...)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			_, err = c.Services.RefreshAndWait(context.Background(), tt.req, nil, tt.opts...)
			require.ErrorAs(t, err, &ve)
		})
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"Landsat", "Landsat_8", "SampleWorldCities", "a", "X-Ray", "_x", strings.Repeat("a", 120)} {
		assert.NoError(t, validName("n", ok), ok)
	}
	for _, bad := range []string{"", "a b", "a/b", "a.b", "a:b", "a%20b", "é", strings.Repeat("a", 121), "a\tb"} {
		assert.Error(t, validName("n", bad), bad)
	}
	for _, ok := range []string{"Imagery", "Hosted", "my-folder", "v1.2", "Ünïcode", "/Imagery", ""} {
		assert.NoError(t, validFolder("f", ok), ok)
	}
	for _, bad := range []string{"a b", "a/b", "..", "a?b", "a#b", "a%b", "a\b", strings.Repeat("a", 121)} {
		assert.Error(t, validFolder("f", bad), bad)
	}
	assert.Error(t, validFolderName("f", ""), "CreateFolder needs a name")
	assert.Equal(t, "", normFolder(" / "))
	assert.Equal(t, "Imagery", normFolder("/Imagery/"))
}
