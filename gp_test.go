package ags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTask serves one asynchronous GP task under rest/services: submitJob,
// jobs/<id>, jobs/<id>/cancel and jobs/<id>/results/<name>. It records what
// it was sent and fails the test on any request it does not expect, and
// on any token in a URL.
type fakeTask struct {
	t     *testing.T
	task  string // e.g. "System/PublishingTools/GPServer/Refresh Service"
	jobID string

	// submit answers submitJob; default {"jobId":jobID,"jobStatus":"esriJobSubmitted"}.
	submit func(w http.ResponseWriter, r *http.Request)
	// status answers poll n (from 1) of the job's status.
	status func(n int, w http.ResponseWriter, r *http.Request)
	// results holds the body of each results/<name>.
	results map[string]string

	mu          sync.Mutex
	submits     int
	submitForm  url.Values
	submitURI   string
	polls       int
	pollQueries []url.Values
	pollForms   []url.Values // POST bodies of the polls
	cancels     int
	cancelForm  url.Values
	resultPaths []string
}

// mount registers the task on mux and returns it.
func (f *fakeTask) mount(mux *http.ServeMux) *fakeTask {
	i := strings.Index(f.task, "/GPServer/")
	require.Positive(f.t, i, "task path")
	// The pattern is the first folder only: a mux pattern cannot hold a space.
	first, _, _ := strings.Cut(f.task, "/")
	require.NotContains(f.t, first, " ")
	prefix := sitePrefix + "rest/services/" + f.task[:i] + "/GPServer/"
	mux.HandleFunc(sitePrefix+"rest/services/"+first+"/", f.serve(prefix))
	return f
}

func (f *fakeTask) serve(prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := f.t
		if strings.Contains(r.URL.RawQuery, testToken) || strings.Contains(r.URL.RawQuery, "token=") {
			t.Errorf("token in a URL: %s %s", r.Method, r.URL.Path)
		}
		assert.NoError(t, r.ParseForm())
		assert.Equal(t, "json", r.Form.Get("f"), "f=json on %s", r.URL.Path)
		taskName := f.task[strings.Index(f.task, "/GPServer/")+len("/GPServer/"):]
		rest, ok := strings.CutPrefix(r.URL.Path, prefix+taskName+"/")
		if !ok {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		segs := strings.Split(rest, "/")
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		f.mu.Lock()
		switch {
		case len(segs) == 1 && segs[0] == "submitJob" && r.Method == http.MethodPost:
			f.submits++
			f.submitForm = r.PostForm
			f.submitURI = r.RequestURI
			f.mu.Unlock()
			if f.submit != nil {
				f.submit(w, r)
				return
			}
			fmt.Fprintf(w, `{"jobId":%q,"jobStatus":"esriJobSubmitted"}`, f.jobID)
		case len(segs) == 2 && segs[0] == "jobs":
			assert.Equal(t, f.jobID, segs[1], "job ID in the status URL")
			f.polls++
			n := f.polls
			f.pollQueries = append(f.pollQueries, r.URL.Query())
			f.pollForms = append(f.pollForms, r.PostForm)
			f.mu.Unlock()
			f.status(n, w, r)
		case len(segs) == 3 && segs[0] == "jobs" && segs[2] == "cancel":
			f.cancels++
			f.cancelForm = r.PostForm
			f.mu.Unlock()
			assert.Equal(t, http.MethodPost, r.Method)
			fmt.Fprintf(w, `{"jobId":%q,"jobStatus":"esriJobCancelling"}`, f.jobID)
		case len(segs) == 4 && segs[0] == "jobs" && segs[2] == "results":
			f.resultPaths = append(f.resultPaths, segs[3])
			body, ok := f.results[segs[3]]
			f.mu.Unlock()
			if !ok {
				fmt.Fprint(w, `{"error":{"code":400,"message":"Unable to complete operation.","details":["Invalid parameter"]}}`)
				return
			}
			fmt.Fprint(w, body)
		default:
			f.mu.Unlock()
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}
}

func (f *fakeTask) count() (submits, polls, cancels int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.submits, f.polls, f.cancels
}

// gpStatusBody renders a GP job resource.
func gpStatusBody(t *testing.T, jobID, status string, msgs []JobMessage, results map[string]string) string {
	t.Helper()
	m := map[string]any{"jobId": jobID, "jobStatus": status}
	if msgs != nil {
		m["messages"] = msgs
	}
	if results != nil {
		rs := map[string]any{}
		for name, u := range results {
			rs[name] = map[string]string{"paramUrl": u}
		}
		m["results"] = rs
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func writeBody(body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) }
}

func msg(typ, desc string) JobMessage {
	return JobMessage{Type: "esriJobMessageType" + typ, Description: desc}
}

const hotspotTask = "Analysis/Hot Spots/GPServer/Find Hot Spots"

func TestGPSubmitJobAndResults(t *testing.T) {
	c, mux, site := setup(t)
	installClock(c)
	const id = "j4fa1db2338f042a19eb68856afabc27e" // the job of gp-job-succeeded-mock.json
	succeededBody := string(fixture(t, "gp-job-succeeded-mock.json"))
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				fmt.Fprint(w, `{"jobId":"`+id+`","jobStatus":"esriJobExecuting","progress":{"type":"step","message":"Rendering","percent":"40"}}`)
				return
			}
			fmt.Fprint(w, succeededBody)
		},
		results: map[string]string{
			// the job's own links, lower case (fixture gp-job-succeeded-mock.json)
			"output_features": string(fixture(t, "gp-result-param.json")),
			"hotspot_raster":  `{"paramName":"Hotspot_Raster","dataType":"GPRasterDataLayer","value":{"url":"https://gis.example.com/out.tif"}}`,
		},
	}).mount(mux)

	job, err := c.GP.SubmitJob(context.Background(), hotspotTask, map[string]any{
		"Input_Features": map[string]any{"url": "https://gis.example.com/pts"},
		"Distance":       250,
		"Label":          "a b+c",
	})
	require.NoError(t, err)
	assert.Equal(t, id, job.ID())
	assert.Equal(t, site+"/rest/services/Analysis/Hot%20Spots/GPServer/Find%20Hot%20Spots/jobs/"+id, job.URL())
	assert.NotContains(t, job.URL(), testToken)

	assert.Equal(t, "/arcgis/rest/services/Analysis/Hot%20Spots/GPServer/Find%20Hot%20Spots/submitJob", ft.submitURI)
	assert.Equal(t, `{"url":"https://gis.example.com/pts"}`, ft.submitForm.Get("Input_Features"))
	assert.Equal(t, "250", ft.submitForm.Get("Distance"))
	assert.Equal(t, "a b+c", ft.submitForm.Get("Label"))
	assert.Equal(t, testToken, ft.submitForm.Get("token"), "token in the POST body")

	var seen []JobStatus
	res, err := job.Wait(context.Background(), &PollOptions{OnStatus: func(st JobStatus) { seen = append(seen, st) }})
	require.NoError(t, err)
	require.Len(t, seen, 2)
	require.NotNil(t, seen[0].Progress)
	assert.Equal(t, JobProgress{Type: "step", Message: "Rendering", Percent: 40}, *seen[0].Progress)
	assert.Equal(t, JobRunning, seen[0].State)

	assert.Equal(t, id, res.JobID)
	assert.Equal(t, "esriJobSucceeded", res.Status)
	assert.Equal(t, []string{"Hotspot_Raster", "Output_Features"}, res.Outputs)
	for _, q := range ft.pollForms {
		assert.Equal(t, "true", q.Get("returnMessages"))
		assert.Equal(t, testToken, q.Get("token"), "a status read carries the token in its POST body")
	}
	for _, q := range ft.pollQueries {
		assert.Empty(t, q, "nothing in the URL of a status read")
	}

	p, err := res.Result(context.Background(), "Output_Features")
	require.NoError(t, err)
	assert.Equal(t, "Output_String", p.ParamName)
	assert.Equal(t, "GPString", p.DataType)
	assert.Equal(t, "TestString", p.String())
	var s string
	require.NoError(t, p.Decode(&s))
	assert.Equal(t, "TestString", s)

	all, err := res.Results(context.Background())
	require.NoError(t, err)
	require.Len(t, all, 2)
	var raster struct{ URL string }
	require.NoError(t, all["Hotspot_Raster"].Decode(&raster))
	assert.Equal(t, "https://gis.example.com/out.tif", raster.URL)
	assert.Equal(t, []string{"output_features", "hotspot_raster", "output_features"}, ft.resultPaths,
		"results are read at the links the job gave")

	// A name the job did not list is read at results/<name>; the server's
	// error comes back typed.
	_, err = res.Result(context.Background(), "Other")
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Code)
	_, err = res.Result(context.Background(), "../cancel")
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
}

func TestGPParamURLMustStayUnderResults(t *testing.T) {
	r := &GPResult{paramURLs: map[string]string{
		"a": "results/a_out",
		"b": "https://evil.example.com/results/b",
		"c": "../../cancel",
		"d": "results/d?token=x",
		"e": "inputs/e",
	}}
	got, ok := r.paramURL("A")
	assert.True(t, ok)
	assert.Equal(t, "results/a_out", got)
	for _, name := range []string{"b", "c", "d", "e", "missing"} {
		_, ok := r.paramURL(name)
		assert.False(t, ok, name)
	}
}

func TestGPJobReattachAndWait(t *testing.T) {
	c, mux, _ := setup(t)
	ns := installClock(c)
	const id = "ja892cd2a90d149db9a171fc86ff530b4"
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: func(n int, w http.ResponseWriter, r *http.Request) {
			st := "esriJobExecuting"
			if n == 3 {
				st = "esriJobSucceeded"
			}
			fmt.Fprint(w, gpStatusBody(t, id, st, []JobMessage{msg("Informative", "Submitted.")}, nil))
		},
	}).mount(mux)

	job, err := c.GP.Job("/"+hotspotTask+"/", id)
	require.NoError(t, err)
	assert.Equal(t, id, job.ID())
	submits, polls, _ := ft.count()
	assert.Zero(t, submits+polls, "re-attaching sends nothing")

	res, err := job.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, id, res.JobID)
	assert.Empty(t, res.Outputs)
	submits, polls, _ = ft.count()
	assert.Equal(t, 0, submits)
	assert.Equal(t, 3, polls)
	assert.Len(t, ns.Sleeps(), 2, "a re-attached job is polled at once")

	// The escaped spelling of the path names the same task.
	job2, err := c.GP.Job("Analysis/Hot%20Spots/GPServer/Find%20Hot%20Spots", id)
	require.NoError(t, err)
	assert.Equal(t, job.URL(), job2.URL())
}

// TestGPWaitErrorNamesTheJobOnce: a poll the server refuses ends the wait
// with an error that names the task and the job once, not twice.
func TestGPWaitErrorNamesTheJobOnce(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	const id = "jb00000000000000000000000000000001"
	(&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: func(n int, w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"error":{"code":400,"message":"Invalid URL","details":[]}}`)
		},
	}).mount(mux)
	job, err := c.GP.Job(hotspotTask, id)
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), nil)
	require.Error(t, err)
	text, _, _ := strings.Cut(err.Error(), " at http") // the URL names the job too
	assert.Equal(t, 1, strings.Count(text, id), err.Error())
	assert.Equal(t, 1, strings.Count(text, "Find Hot Spots"), err.Error())
	assert.True(t, strings.HasPrefix(err.Error(), "waiting stopped: Find Hot Spots job "+id+": status: Invalid URL"), err.Error())
}

func TestGPStatusAndCancel(t *testing.T) {
	c, mux, _ := setup(t)
	const id = "jabc"
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: writeBody(`{"jobId":"jabc","jobStatus":"esriJobExecuting","messages":[{"type":"esriJobMessageTypeInformative","description":"Executing..."}],"progress":{"type":"default","message":"Working","percent":12}}`),
	}).mount(mux)
	job, err := c.GP.Job(hotspotTask, id)
	require.NoError(t, err)

	st, err := job.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, id, st.JobID)
	assert.Equal(t, JobRunning, st.State)
	assert.Equal(t, "esriJobExecuting", st.Status)
	assert.Equal(t, []JobMessage{msg("Informative", "Executing...")}, st.Messages)
	require.NotNil(t, st.Progress)
	assert.Equal(t, 12.0, st.Progress.Percent)

	require.NoError(t, job.Cancel(context.Background()))
	_, polls, cancels := ft.count()
	assert.Equal(t, 1, polls)
	assert.Equal(t, 1, cancels)
	assert.Equal(t, testToken, ft.cancelForm.Get("token"))
}

func TestGPCancelOnContextDoneSendsOneCancel(t *testing.T) {
	c, mux, _ := setup(t)
	ns := installClock(c)
	const id = "jcancel"
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: writeBody(`{"jobId":"jcancel","jobStatus":"esriJobExecuting"}`)}).mount(mux)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns.OnSleep(func(n int) {
		if n == 3 {
			cancel()
		}
	})
	job, err := c.GP.SubmitJob(ctx, hotspotTask, nil)
	require.NoError(t, err)
	_, err = job.Wait(ctx, &PollOptions{CancelOnContextDone: true})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), id)
	submits, polls, cancels := ft.count()
	assert.Equal(t, 1, submits)
	assert.Equal(t, 2, polls)
	assert.Equal(t, 1, cancels)
}

func TestGPSubmitIsSentOnce(t *testing.T) {
	c, mux, _ := setup(t)
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: "x",
		submit: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>Bad Gateway</html>")
		}}).mount(mux)
	_, err := c.GP.SubmitJob(context.Background(), hotspotTask, nil)
	require.Error(t, err)
	submits, _, _ := ft.count()
	assert.Equal(t, 1, submits, "a submit the server may have acted on is not retried")
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusBadGateway, re.HTTPStatus)
}

func TestGPSubmitAnswerWithoutJobID(t *testing.T) {
	c, mux, _ := setup(t)
	(&fakeTask{t: t, task: hotspotTask, jobID: "x",
		submit: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"jobStatus":"esriJobSubmitted"}`) }}).mount(mux)
	_, err := c.GP.SubmitJob(context.Background(), hotspotTask, nil)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "no jobId in the answer", re.Reason)
	// The decoder reports it: with the answer's own status and a snippet.
	assert.Equal(t, http.StatusOK, re.HTTPStatus)
	assert.Equal(t, `{"jobStatus":"esriJobSubmitted"}`, re.Snippet)
	assert.Equal(t, "Find Hot Spots: submitJob", re.Op)

	// A job ID that cannot be used in a URL is refused the same way.
	c, mux, _ = setup(t)
	(&fakeTask{t: t, task: hotspotTask, jobID: "x",
		submit: func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"jobId":"../x","jobStatus":"esriJobSubmitted"}`)
		}}).mount(mux)
	_, err = c.GP.SubmitJob(context.Background(), hotspotTask, nil)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, `jobId "../x" cannot be used in a URL`, re.Reason)
	assert.Contains(t, re.Snippet, `"jobId":"../x"`)
}

func TestGPStatusGETIsRetried(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	const id = "jretry"
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.WriteHeader(http.StatusBadGateway)
				fmt.Fprint(w, "<html>Bad Gateway</html>")
				return
			}
			fmt.Fprint(w, gpStatusBody(t, id, "esriJobSucceeded", nil, nil))
		}}).mount(mux)
	job, err := c.GP.Job(hotspotTask, id)
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), &PollOptions{MaxConsecutiveErrors: -1})
	require.NoError(t, err, "the transport retried the idempotent status GET")
	_, polls, _ := ft.count()
	assert.Equal(t, 2, polls)
}

func TestGPNotFoundEndsWaitAtOnce(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: "jgone",
		status: writeBody(`{"error":{"code":404,"message":"Job 'jgone' does not exist or is inaccessible.","details":[]}}`)}).mount(mux)
	job, err := c.GP.Job(hotspotTask, "jgone")
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), nil)
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "jgone")
	_, polls, _ := ft.count()
	assert.Equal(t, 1, polls)
}

func TestGPMalformedStatus(t *testing.T) {
	bodies := map[string]struct {
		ctype, body string
	}{
		"jobStatus a number":  {"application/json", `{"jobId":"jm","jobStatus":4}`},
		"messages a string":   {"application/json", `{"jobId":"jm","jobStatus":"esriJobSucceeded","messages":"all good"}`},
		"HTML 200 page":       {"text/html", `<!DOCTYPE html><html><body>Please log in</body></html>`},
		"no jobStatus":        {"application/json", `{"jobId":"jm"}`},
		"results an array":    {"application/json", `{"jobId":"jm","jobStatus":"esriJobSucceeded","results":["x"]}`},
		"progress a string":   {"application/json", `{"jobId":"jm","jobStatus":"esriJobSucceeded","progress":"50%"}`},
		"truncated JSON":      {"application/json", `{"jobId":"jm","jobStatus":"esriJobSucc`},
		"empty body":          {"application/json", ``},
		"a JSON array":        {"application/json", `[{"jobId":"jm","jobStatus":"esriJobSucceeded"}]`},
		"jobStatus an object": {"application/json", `{"jobId":"jm","jobStatus":{"value":"esriJobSucceeded"}}`},
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			// Two bad answers are tolerated as failed polls, then a good one.
			c, mux, _ := setup(t)
			installClock(c)
			good := gpStatusBody(t, "jm", "esriJobSucceeded", nil, nil)
			ft := (&fakeTask{t: t, task: hotspotTask, jobID: "jm",
				status: func(n int, w http.ResponseWriter, r *http.Request) {
					if n <= 2 {
						w.Header().Set("Content-Type", b.ctype)
						fmt.Fprint(w, b.body)
						return
					}
					fmt.Fprint(w, good)
				}}).mount(mux)
			job, err := c.GP.Job(hotspotTask, "jm")
			require.NoError(t, err)
			var states []JobState
			res, err := job.Wait(context.Background(), &PollOptions{OnStatus: func(st JobStatus) { states = append(states, st.State) }})
			require.NoError(t, err)
			assert.Equal(t, "jm", res.JobID)
			assert.Equal(t, []JobState{JobSucceeded}, states, "bad answers never reach OnStatus")
			_, polls, _ := ft.count()
			assert.Equal(t, 3, polls)

			// Only bad answers: a typed error after MaxConsecutiveErrors+1 polls.
			c2, mux2, _ := setup(t)
			installClock(c2)
			ft2 := (&fakeTask{t: t, task: hotspotTask, jobID: "jm",
				status: func(n int, w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", b.ctype)
					fmt.Fprint(w, b.body)
				}}).mount(mux2)
			job2, err := c2.GP.Job(hotspotTask, "jm")
			require.NoError(t, err)
			res2, err := job2.Wait(context.Background(), nil)
			require.Error(t, err)
			assert.Nil(t, res2)
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, err.Error(), "jm")
			_, polls, _ = ft2.count()
			assert.Equal(t, 6, polls)
		})
	}
}

func TestGPValidation(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc(sitePrefix, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("no request expected, got %s %s", r.Method, r.URL.Path)
	})
	for _, p := range []string{
		"", "/", "Refresh Service", "System/PublishingTools/Refresh Service",
		"System/PublishingTools/GPServer", "GPServer/Task", "System/PublishingTools/GPServer/",
		"System/../GPServer/Task", "System/PublishingTools/GPServer/Task/submitJob",
		"System/PublishingTools/GPServer/Task?x=1", "System/PublishingTools/GPServer/Ta#sk",
		"System//PublishingTools/GPServer/Task", "System/PublishingTools/GPServer/Bad%zzEscape",
		"https://gis.example.com/arcgis/rest/services/System/PublishingTools/GPServer/Task",
	} {
		_, err := c.GP.SubmitJob(context.Background(), p, nil)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, "task path %q", p)
		_, err = c.GP.Job(p, "j1")
		assert.ErrorAs(t, err, &ve, "task path %q", p)
	}
	for _, id := range []string{"", " ", "a/b", "..", ".", "a?b", "a#b", "a%2Fb", " j1", "j\n1"} {
		_, err := c.GP.Job(hotspotTask, id)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, "job ID %q", id)
	}
}

// setupCreds is setup with WithCredentials instead of a static token: the
// client signs in at the site's tokens/generateToken.
func setupCreds(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	c, mux, _ := setupNoAuth(t, append([]Option{
		WithCredentials("publisher", "pw-SECRET-1"),
		WithTokenURL("tokens/generateToken"),
	}, opts...)...)
	return c, mux
}

// TestWaitSurvivesTokenExpiry: the server starts rejecting the first token
// (498) while the job is being waited on; the client gets a new one once
// and the wait succeeds.
func TestWaitSurvivesTokenExpiry(t *testing.T) {
	c, mux := setupCreds(t)
	installClock(c)
	var generated atomic.Int32
	mux.HandleFunc(sitePrefix+"tokens/generateToken", func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, r.ParseForm())
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Empty(t, r.URL.RawQuery, "credentials only in the body")
		assert.Equal(t, "pw-SECRET-1", r.PostForm.Get("password"))
		n := generated.Add(1)
		fmt.Fprintf(w, `{"token":"gen-%d","expires":%d,"ssl":false}`, n, time.Now().Add(time.Hour).UnixMilli())
	})
	const id = "jexp"
	var rejected atomic.Int32
	ft := (&fakeTask{t: t, task: RefreshServiceTask, jobID: id,
		status: func(n int, w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("X-Esri-Authorization")
			// From the third poll on, the first token has expired.
			if n >= 3 && auth == "Bearer gen-1" {
				rejected.Add(1)
				fmt.Fprint(w, string(fixture(t, "error-498-invalid-token-mock.json")))
				return
			}
			st := "esriJobExecuting"
			if n >= 6 {
				st = "esriJobSucceeded"
			}
			fmt.Fprint(w, gpStatusBody(t, id, st, nil, nil))
		}}).mount(mux)

	res, err := c.Services.RefreshAndWait(context.Background(),
		ServiceRef{Name: "Landsat", Type: ImageServer}, nil)
	require.NoError(t, err)
	assert.Equal(t, id, res.JobID)
	assert.Equal(t, int32(2), generated.Load(), "one sign-in, one renewal")
	assert.Equal(t, int32(1), rejected.Load())
	assert.Equal(t, "gen-1", ft.submitForm.Get("token"))
	_, polls, _ := ft.count()
	assert.Equal(t, 6, polls, "five answered polls plus the rejected one")
}

func TestWaitStaticTokenRejectedEndsWait(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: "j498",
		status: writeBody(string(fixture(t, "error-498-invalid-token-mock.json")))}).mount(mux)
	job, err := c.GP.Job(hotspotTask, "j498")
	require.NoError(t, err)
	_, err = job.Wait(context.Background(), nil)
	require.ErrorIs(t, err, ErrInvalidToken)
	assert.NotContains(t, err.Error(), testToken)
	_, polls, _ := ft.count()
	assert.Equal(t, 1, polls, "a token that cannot be renewed ends the wait at once")
}

func TestGPSubmitAndWaitFailure(t *testing.T) {
	c, mux, _ := setup(t)
	installClock(c)
	const id = "jfail"
	(&fakeTask{t: t, task: hotspotTask, jobID: id,
		status: writeBody(gpStatusBody(t, id, "esriJobFailed", []JobMessage{
			msg("Informative", "Submitted."),
			msg("Error", "ERROR 000229: Cannot open input"),
			msg("Informative", "Failed at Thu Jan 01 00:00:00 2026"),
		}, nil))}).mount(mux)
	_, err := c.GP.SubmitAndWait(context.Background(), hotspotTask, url.Values{"a": {"1"}}, nil)
	var je *JobError
	require.ErrorAs(t, err, &je)
	assert.True(t, errors.Is(err, ErrJobFailed))
	assert.Equal(t, "Find Hot Spots", je.Op)
	assert.Equal(t, "Find Hot Spots: job jfail failed (esriJobFailed): ERROR 000229: Cannot open input", err.Error())
}
