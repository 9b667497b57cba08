package agstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultHTML502(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)

	srv.SetFaults(Faults{HTML502Rate: 1})
	r := c.post("/admin/services/createService", url.Values{"service": {`{"serviceName":"Gw","type":"MapServer"}`}})
	assert.Equal(t, http.StatusBadGateway, r.status)
	assert.Equal(t, "text/html", r.header.Get("Content-Type"))
	assert.Contains(t, string(r.raw), "502 Bad Gateway")
	assert.Nil(t, r.body)
	_, created := srv.Service("", "Gw", "MapServer")
	assert.False(t, created, "a gateway failure must not reach the site")
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "html502", last.Fault)
	assert.Equal(t, http.StatusBadGateway, last.Status)

	srv.SetFaults(Faults{})
	r = c.post("/admin/services/createService", url.Values{"service": {`{"serviceName":"Gw","type":"MapServer"}`}})
	assert.Equal(t, "success", r.body["status"])
}

func TestFaultHTML502RateIsSeeded(t *testing.T) {
	t.Parallel()
	pattern := func(seed int64) string {
		srv := start(t, WithoutAuth(), WithSeed(seed), WithFaults(Faults{HTML502Rate: 0.5}))
		var b strings.Builder
		for i := 0; i < 40; i++ {
			r := send(t, srv, http.MethodGet, "/rest/info", url.Values{"f": {"json"}}, nil)
			if r.status == http.StatusBadGateway {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b, other := pattern(7), pattern(7), pattern(8)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, other)
	assert.Contains(t, a, "x")
	assert.Contains(t, a, ".")
}

func TestFaultStoreBusy(t *testing.T) {
	t.Parallel()
	srv := start(t, WithFaults(Faults{StoreBusy: 2}))
	c := login(t, srv)
	svc := url.Values{"service": {`{"serviceName":"Busy","type":"MapServer"}`}}

	// Reads are not affected and do not use up the count.
	assert.Equal(t, "/", c.get("/admin/services", nil).body["folderName"])

	for i := 0; i < 2; i++ {
		r := c.post("/admin/services/createService", svc)
		code, msgs := adminErr(t, r)
		assert.Equal(t, 500, code)
		assert.Equal(t, []string{"Another administrative operation is currently accessing the store. Please try again later."}, msgs)
		_, created := srv.Service("", "Busy", "MapServer")
		assert.False(t, created)
	}
	assert.Equal(t, "success", c.post("/admin/services/createService", svc).body["status"])
	assert.Equal(t, 2, countFault(srv, "storebusy"))

	// Each of the other operations is refused too.
	srv.SetFaults(Faults{StoreBusy: 6})
	base := "/admin/services/Busy.MapServer/"
	for _, op := range []string{"stop", "start", "edit", "delete"} {
		code, _ := adminErr(t, c.post(base+op, url.Values{"service": {`{"serviceName":"Busy","type":"MapServer"}`}}))
		assert.Equal(t, 500, code, op)
	}
	code, _ := adminErr(t, c.post("/admin/services/createFolder", url.Values{"folderName": {"F"}}))
	assert.Equal(t, 500, code)
	code, _ = adminErr(t, c.post("/admin/services/createService", svc))
	assert.Equal(t, 500, code)
	_, still := srv.Service("", "Busy", "MapServer")
	assert.True(t, still)
	requireShape(t, "admin-success", c.post(base+"delete", nil).body)
}

func countFault(srv *Server, fault string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Fault == fault {
			n++
		}
	}
	return n
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	srv := start(t, WithoutAuth(), WithFaults(Faults{Latency: 50 * time.Millisecond}))
	begin := time.Now()
	r := send(t, srv, http.MethodGet, "/rest/info", url.Values{"f": {"json"}}, nil)
	assert.Equal(t, http.StatusOK, r.status)
	assert.GreaterOrEqual(t, time.Since(begin), 50*time.Millisecond)

	// A client that gives up is not kept waiting for the full latency.
	srv.SetFaults(Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/rest/info?f=json", nil)
	require.NoError(t, err)
	_, err = srv.Client().Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	// Close (in Cleanup) returns promptly because the handler gave up.
}

func TestCloseAbandonsLatency(t *testing.T) {
	t.Parallel()
	srv := NewServer(WithoutAuth(), WithFaults(Faults{Latency: time.Hour}))
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL() + "/rest/info?f=json")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	require.Eventually(t, func() bool { return srv.Count("/rest/info") == 1 }, 5*time.Second, time.Millisecond)
	begin := time.Now()
	srv.Close()
	assert.Less(t, time.Since(begin), 5*time.Second)
	assert.Error(t, <-done)
}

func TestRequestLogMasksSecrets(t *testing.T) {
	t.Parallel()
	const password = "s3cr3t-Pa55word!"
	srv := start(t, WithUser("carol", password))
	r := send(t, srv, http.MethodPost, "/admin/generateToken", url.Values{
		"username": {"carol"}, "password": {password}, "client": {"requestip"}, "f": {"json"},
	}, nil)
	tok := r.body["token"].(string)
	require.NotEmpty(t, tok)
	c := &client{t: t, srv: srv, token: tok}

	c.get("/admin/services", nil)                                                // header
	c.post("/admin/services/createFolder", url.Values{"folderName": {"Logged"}}) // form + header
	send(t, srv, http.MethodGet, "/rest/services", url.Values{"f": {"json"}, "token": {tok}}, nil)
	send(t, srv, http.MethodGet, "/rest/services", nil, http.Header{"Authorization": {"Bearer " + tok}, "Referer": {"https://app"}})
	// A wrong password is masked too.
	send(t, srv, http.MethodPost, "/tokens/generateToken", url.Values{"username": {"carol"}, "password": {password + "x"}}, nil)

	reqs := srv.Requests()
	require.Len(t, reqs, 6)
	dump, err := json.Marshal(reqs)
	require.NoError(t, err)
	for _, s := range []string{string(dump), fmt.Sprintf("%v", reqs), fmt.Sprintf("%#v", reqs)} {
		assert.NotContains(t, s, password)
		assert.NotContains(t, s, tok)
	}

	assert.Equal(t, "/arcgis/admin/generateToken", reqs[0].Path)
	assert.Equal(t, "***", reqs[0].Form.Get("password"))
	assert.Equal(t, "carol", reqs[0].Form.Get("username"))
	assert.Equal(t, "Bearer ***", reqs[1].Header.Get("X-Esri-Authorization"))
	assert.Equal(t, "***", reqs[2].Form.Get("token"))
	assert.Equal(t, "Logged", reqs[2].Form.Get("folderName"))
	assert.Equal(t, http.MethodPost, reqs[2].Method)
	assert.False(t, reqs[2].TokenInQuery)
	assert.True(t, reqs[3].TokenInQuery)
	assert.Equal(t, "***", reqs[3].Query.Get("token"))
	assert.Equal(t, "Bearer ***", reqs[4].Header.Get("Authorization"))
	assert.Equal(t, "https://app", reqs[4].Header.Get("Referer"))
	for _, r := range reqs {
		assert.Equal(t, http.StatusOK, r.Status)
	}

	// The log is a copy, and the path is unescaped.
	reqs[0].Form.Set("username", "changed")
	assert.Equal(t, "carol", srv.Requests()[0].Form.Get("username"))
	c.get(refreshPath, nil)
	assert.Equal(t, 1, srv.Count("/GPServer/Refresh Service"))
	assert.Equal(t, 2, srv.Count("/rest/services"))
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
}

// TestConcurrentJobs submits and polls many jobs at once on the real clock.
func TestConcurrentJobs(t *testing.T) {
	t.Parallel()
	srv := start(t, WithJobDuration(40*time.Millisecond))
	srv.AddService("", "Live", "ImageServer", nil)
	addTileLayer(srv, "", "Tiles")
	c := login(t, srv)

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- runJob(srv, c.token, i)
		}(i)
	}
	// Meanwhile, admin traffic and log readers.
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			form := url.Values{"f": {"json"}, "token": {c.token}, "service": {fmt.Sprintf(`{"serviceName":"S%d","type":"MapServer"}`, i)}}
			resp, err := srv.Client().PostForm(srv.URL()+"/admin/services/createService", form)
			if err == nil {
				resp.Body.Close()
			}
			_ = srv.Requests()
			_ = srv.Count("submitJob")
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 50, srv.Count("/submitJob")+srv.Count("/updateTiles"))
	for i := 0; i < 20; i++ {
		_, ok := srv.Service("", fmt.Sprintf("S%d", i), "MapServer")
		assert.True(t, ok)
	}
}

// runJob submits one GP or tile job and polls it to completion.
func runJob(srv *Server, token string, i int) error {
	hc := srv.Client()
	do := func(method, path string, form url.Values) (map[string]any, error) {
		form.Set("f", "json")
		var req *http.Request
		var err error
		if method == http.MethodGet {
			req, err = http.NewRequest(method, srv.URL()+path+"?"+form.Encode(), nil)
		} else {
			req, err = http.NewRequest(method, srv.URL()+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Esri-Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		return m, json.NewDecoder(resp.Body).Decode(&m)
	}
	deadline := time.Now().Add(10 * time.Second)
	if i%2 == 0 {
		task := "/rest/services/System/PublishingTools/GPServer/Refresh%20Service"
		m, err := do(http.MethodPost, task+"/submitJob", url.Values{"serviceName": {"Live"}, "serviceType": {"ImageServer"}})
		if err != nil {
			return err
		}
		id, _ := m["jobId"].(string)
		for time.Now().Before(deadline) {
			m, err := do(http.MethodGet, task+"/jobs/"+id, url.Values{})
			if err != nil {
				return err
			}
			switch m["jobStatus"] {
			case "esriJobSucceeded":
				return nil
			case "esriJobSubmitted", "esriJobExecuting":
				time.Sleep(5 * time.Millisecond)
			default:
				return fmt.Errorf("job %s: %v", id, m)
			}
		}
		return fmt.Errorf("job %s did not finish", id)
	}
	base := "/rest/admin/services/Tiles/MapServer"
	m, err := do(http.MethodPost, base+"/updateTiles", url.Values{"levels": {"0-2"}, "extent": {goodExtent}})
	if err != nil {
		return err
	}
	id, _ := m["jobId"].(string)
	for time.Now().Before(deadline) {
		m, err := do(http.MethodGet, base+"/jobs/"+id, url.Values{})
		if err != nil {
			return err
		}
		switch m["jobStatus"] {
		case "DONE":
			return nil
		case "SUBMITTED", "INPROGRESS":
			time.Sleep(5 * time.Millisecond)
		default:
			return fmt.Errorf("tile job %s: %v", id, m)
		}
	}
	return fmt.Errorf("tile job %s did not finish", id)
}

func TestDeterministicWithSeed(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []string {
		clock := newFakeClock()
		srv := start(t, WithSeed(seed), WithClock(clock.Now))
		addTileLayer(srv, "", "WorldService")
		c := login(t, srv)
		out := []string{c.token}
		for i := 0; i < 3; i++ {
			out = append(out, c.post(refreshPath+"/submitJob", url.Values{"serviceName": {"x"}, "serviceType": {"MapServer"}}).body["jobId"].(string))
		}
		r := c.post("/rest/admin/services/WorldService/MapServer/updateTiles", url.Values{"levels": {"1"}, "extent": {goodExtent}})
		out = append(out, r.body["jobId"].(string), r.body["id"].(string))
		return out
	}
	a, b, other := run(42), run(42), run(43)
	assert.Equal(t, a, b)
	for i := range a {
		assert.NotEqual(t, a[i], other[i])
	}
}

func TestFaultLostAnswer(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)

	srv.SetFaults(Faults{LostAnswerRate: 1})
	r := c.post("/admin/services/createService", url.Values{"service": {`{"serviceName":"Lost","type":"MapServer"}`}})
	assert.Equal(t, http.StatusBadGateway, r.status)
	assert.Contains(t, string(r.raw), "502 Bad Gateway")
	_, created := srv.Service("", "Lost", "MapServer")
	assert.True(t, created, "the server acted before the answer was lost")
	assert.Equal(t, 1, countFault(srv, "lost502"))

	srv.SetFaults(Faults{})
	code, msgs := adminErr(t, c.post("/admin/services/createService", url.Values{"service": {`{"serviceName":"Lost","type":"MapServer"}`}}))
	assert.NotZero(t, code)
	assert.Contains(t, strings.Join(msgs, " "), "already exists")
}

func TestFaultDown(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	srv.SetFaults(Faults{Down: true})
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/admin/services/createFolder",
		strings.NewReader(url.Values{"folderName": {"Gone"}, "f": {"json"}, "token": {c.token}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "a server that is down gives no answer")
	assert.Equal(t, 1, countFault(srv, "down"))

	srv.SetFaults(Faults{})
	assert.Equal(t, "success", c.post("/admin/services/createFolder", url.Values{"folderName": {"Back"}}).body["status"])
	assert.Equal(t, 404, func() int {
		code, _ := adminErr(t, c.get("/admin/services/Gone", nil))
		return code
	}(), "nothing was done while down")
}

func TestFaultStoreBusyRate(t *testing.T) {
	t.Parallel()
	srv := start(t, WithSeed(3), WithFaults(Faults{StoreBusyRate: 0.3}))
	c := login(t, srv)
	busy := 0
	const n = 200
	for i := range n {
		r := c.post("/admin/services/createFolder", url.Values{"folderName": {fmt.Sprintf("F%d", i)}})
		if r.body["status"] != "success" {
			busy++
		}
	}
	assert.Equal(t, busy, countFault(srv, "storebusy"))
	assert.InDelta(t, 0.3*n, busy, 0.1*n, "about 30%% of writes refused")
	// Reads are never refused.
	assert.Equal(t, "/", c.get("/admin/services", nil).body["folderName"])
}
