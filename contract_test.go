package ags

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags/agstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract between agstest and the recorded answers: for each kind of
// answer, the recorded one and the emulator's answer to the same operation
// are decoded by the same code of this package into the same typed result
// (both succeed, or both give an error of the same kind), and carry the
// same keys. An emulator answer that drifts from the recorded shape fails
// here, not only in agstest's own tests.

// Recorded answers that live in this test rather than in testdata/fixtures
// (they are documentation examples, transcribed): the root folder listing
// of https://developers.arcgis.com/rest/enterprise-administration/server/services.htm
// (REST-REFERENCE §3.2). The tile job statistics example is
// tilesExampleStats (tiles_test.go).
const docRootListing = `{"folderName":"/","description":"Root folder","webEncrypted":false,"isDefault":false,
 "folders":["System","Utilities"],
 "foldersDetail":[{"folderName":"System","description":"Reserved for system services","webEncrypted":false,"isDefault":true}],
 "services":[{"folderName":"/","serviceName":"SampleWorldCities","type":"MapServer","description":"The SampleWorldCities service"}]}`

// contractCase is one kind of answer.
type contractCase struct {
	name     string
	recorded []byte // the recorded answer
	// emulated asks the emulator for its answer to the same operation.
	emulated func(t *testing.T, e *emu) []byte
	// decode reads an answer with this package's code for the operation.
	decode func(t *testing.T, body []byte) (any, error)
	// ignore lists key paths that may differ, each for a stated reason.
	ignore map[string]string
}

func TestEmulatorMatchesRecordedAnswers(t *testing.T) {
	tileJob := func(e *emu, status string) []byte {
		// The job's extent is the request's, as sent: here with the
		// spatial reference in the recorded answer's form.
		id := e.postJSON(t, "rest/admin/services/Wire/Roads/MapServer/updateTiles", url.Values{"levels": {"1-2"},
			"extent": {`{"xmin":0,"ymin":0,"xmax":10,"ymax":10,"spatialReference":{"wkid":102100,"latestWkid":3857}}`}})["jobId"].(string)
		if status == "" {
			e.clock.Advance(10 * time.Second) // the job ends (300 ms); the token lives on
		} // else a cancel, which needs a job still running
		return e.post(t, "rest/admin/services/Wire/Roads/MapServer/jobs/"+id+status, nil)
	}
	cases := []contractCase{
		{name: "GP job status", recorded: fixture(t, "gp-job-succeeded-inputs-messages.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				id := e.submitRefresh(t)
				e.clock.Advance(10 * time.Second) // the job ends (300 ms); the token lives on
				return e.post(t, "rest/services/"+RefreshServiceTask+"/jobs/"+id, url.Values{"returnMessages": {"true"}})
			},
			decode: decodeAs[gpJobInfo]},
		{name: "GP job cancel", recorded: fixture(t, "gp-job-cancelled.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				id := e.submitRefresh(t)
				return e.post(t, "rest/services/"+RefreshServiceTask+"/jobs/"+id+"/cancel", nil)
			},
			decode: decodeAs[gpJobInfo]},
		{name: "GP job submit", recorded: fixture(t, "gp-submitjob-ok.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.post(t, "rest/services/"+RefreshServiceTask+"/submitJob",
					url.Values{"serviceName": {"Roads"}, "serviceType": {"MapServer"}, "serviceFolder": {"Wire"}})
			},
			decode: decodeAs[gpJobInfo]},
		{name: "GP result", recorded: fixture(t, "gp-result-param.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				id := e.submitRefresh(t)
				e.clock.Advance(10 * time.Second) // the job ends (300 ms); the token lives on
				return e.post(t, "rest/services/"+RefreshServiceTask+"/jobs/"+id+"/results/refreshResults", nil)
			},
			decode: decodeAs[GPParam]},
		{name: "GP service task list", recorded: fixture(t, "gp-service-cachingtools-captured.json"),
			emulated: func(t *testing.T, e *emu) []byte { return e.post(t, "rest/services/System/CachingTools/GPServer", nil) },
			decode:   decodeAs[fxGPService],
			ignore: map[string]string{
				"serviceDescription":  "descriptive text, not read",
				"resultMapServerName": "not read",
				"maximumRecords":      "not read",
			}},
		{name: "tile job statistics", recorded: []byte(tilesExampleStats),
			emulated: func(t *testing.T, e *emu) []byte { return tileJob(e, "") },
			decode:   decodeAs[TileJobStats]},
		{name: "tile job cancel", recorded: fixture(t, "tile-cancel-job-ok.json"),
			emulated: func(t *testing.T, e *emu) []byte { return tileJob(e, "/cancel") },
			decode:   decodeSuccess},
		// deleteTiles answers like updateTiles (REST-REFERENCE §7.5); the
		// emulator's updateTiles answer stands for both.
		{name: "updateTiles / deleteTiles", recorded: fixture(t, "tile-delete-tiles-ok.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.post(t, "rest/admin/services/Wire/Roads/MapServer/updateTiles", url.Values{"levels": {"1"},
					"extent": {`{"xmin":0,"ymin":0,"xmax":10,"ymax":10,"spatialReference":{"wkid":102100}}`}})
			},
			decode: decodeAs[updateTilesAnswer]},
		{name: "folder listing", recorded: []byte(docRootListing),
			emulated: func(t *testing.T, e *emu) []byte { return e.post(t, "admin/services", nil) },
			decode:   decodeAs[FolderListing]},
		{name: "service status", recorded: fixture(t, "admin-service-status.json"),
			emulated: func(t *testing.T, e *emu) []byte { return e.post(t, "admin/services/Wire/Roads.MapServer/status", nil) },
			decode:   decodeAs[ServiceStatus]},
		{name: "admin error (missing service)", recorded: fixture(t, "admin-error-404-service-not-found.json"),
			emulated: func(t *testing.T, e *emu) []byte { return e.post(t, "admin/services/Wire/Nope.MapServer", nil) },
			decode:   decodeAs[ServiceDefinition]},
		{name: "REST error (services directory, missing service)", recorded: fixture(t, "rest-error-500-service-not-found.json"),
			emulated: func(t *testing.T, e *emu) []byte { return e.post(t, "rest/services/Wire/Nope/MapServer", nil) },
			decode:   decodeAs[ServiceDefinition]},
		{name: "REST error (token required)", recorded: fixture(t, "error-499-token-required.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.raw(t, http.MethodPost, "rest/services", url.Values{"f": {"json"}})
			},
			decode: decodeAs[fxStatus]},
		{name: "admin error (token required)", recorded: fixture(t, "admin-error-499.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.raw(t, http.MethodPost, "admin/services", url.Values{"f": {"json"}})
			},
			decode: decodeAs[fxStatus]},
		{name: "token answer (tokens/generateToken)", recorded: fixture(t, "portal-token-ok-mock.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.raw(t, http.MethodPost, "tokens/generateToken", e.credentials())
			},
			decode: decodeToken},
		{name: "token answer (admin/generateToken)", recorded: fixture(t, "admin-token-ok.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.raw(t, http.MethodPost, "admin/generateToken", e.credentials())
			},
			decode: decodeToken},
		// canCreateService's answer is not recorded anywhere; the two shapes
		// are the documented example's and the one Esri's Python API reads
		// (REST-REFERENCE §7.2).
		{name: "canCreateService (flag)", recorded: []byte(`{"createService":true}`),
			emulated: func(t *testing.T, e *emu) []byte {
				return e.post(t, "admin/services/canCreateService", url.Values{"serviceType": {"MapServer"}})
			},
			decode: decodeCanCreate},
		{name: "canCreateService (status)", recorded: fixture(t, "admin-success.json"),
			emulated: func(t *testing.T, e *emu) []byte {
				e2 := newEmu(t, agstest.WithCanCreateAnswer(agstest.CanCreateStatus))
				return e2.post(t, "admin/services/canCreateService", url.Values{"serviceType": {"MapServer"}})
			},
			decode: decodeCanCreate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t)
			got := tc.emulated(t, e)
			wantV, wantErr := tc.decode(t, tc.recorded)
			gotV, gotErr := tc.decode(t, got)
			if wantErr != nil {
				require.Error(t, gotErr, "the recorded answer is an error; the emulator's is not: %s", got)
				assert.Equal(t, fmt.Sprintf("%T", wantErr), fmt.Sprintf("%T", gotErr))
				var we, ge *Error
				if errors.As(wantErr, &we) && errors.As(gotErr, &ge) {
					assert.Equal(t, we.Code, ge.Code, "error code")
					for _, s := range []*Error{ErrNotFound, ErrTokenRequired, ErrInvalidToken, ErrForbidden} {
						assert.Equal(t, errors.Is(we, s), errors.Is(ge, s), "errors.Is %s", s.Message)
					}
				}
			} else {
				require.NoError(t, gotErr, "emulator answer: %s", got)
				assert.IsType(t, wantV, gotV)
			}
			want, have := keyPaths(t, tc.recorded), keyPaths(t, got)
			for k := range tc.ignore {
				delete(want, k)
				delete(have, k)
			}
			assert.Equal(t, sortedSet(want), sortedSet(have), "keys of the recorded answer vs the emulator's (%s)", got)
		})
	}
}

// decodeAs decodes body through the pipeline's decoder into a T.
func decodeAs[T any](_ *testing.T, body []byte) (any, error) {
	var v T
	err := decode(answer{op: "contract", status: http.StatusOK, body: body}, &v)
	return &v, err
}

func decodeSuccess(t *testing.T, body []byte) (any, error) { return decodeAs[successAnswer](t, body) }

func decodeToken(_ *testing.T, body []byte) (any, error) {
	var v tokenResponse
	if err := decode(answer{op: "contract", status: http.StatusOK, body: body, secret: true}, &v); err != nil {
		return nil, err
	}
	return v.token(time.Unix(0, 0), time.Hour).IsZero(), nil
}

func decodeCanCreate(_ *testing.T, body []byte) (any, error) {
	var v canCreateAnswer
	err := decode(answer{op: "contract", status: http.StatusOK, body: body}, &v)
	return v.ok(), err
}

// keyPaths lists the object keys of a JSON document as paths: "a",
// "a.b", "list[].c". Keys of "results" and "inputs" are parameter names,
// so they appear as "*".
func keyPaths(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	out := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				name := k
				if strings.HasSuffix(prefix, "results.") || strings.HasSuffix(prefix, "inputs.") {
					name = "*"
				}
				out[prefix+name] = true
				walk(prefix+name+".", sub)
			}
		case []any:
			for _, sub := range x {
				walk(strings.TrimSuffix(prefix, ".")+"[].", sub)
			}
		}
	}
	walk("", v)
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// emu is an agstest server on a fake clock with two map services,
// Wire/Roads.MapServer and SampleWorldCities.MapServer at the root, and a
// token for raw requests.
type emu struct {
	srv   *agstest.Server
	clock *fakeClock
	token string
}

func newEmu(t *testing.T, opts ...agstest.Option) *emu {
	t.Helper()
	clock := newFakeClock()
	srv := agstest.NewServer(append([]agstest.Option{agstest.WithClock(clock.Now), agstest.WithSeed(1)}, opts...)...)
	t.Cleanup(srv.Close)
	srv.AddService("Wire", "Roads", "MapServer", map[string]any{"description": "roads"})
	srv.SetTileScheme("Wire", "Roads", "MapServer", agstest.WebMercatorScheme(19, [4]float64{0, 0, 10, 10}))
	srv.AddService("", "SampleWorldCities", "MapServer", map[string]any{"description": "cities"})
	e := &emu{srv: srv, clock: clock}
	var tok struct{ Token string }
	require.NoError(t, json.Unmarshal(e.raw(t, http.MethodPost, "tokens/generateToken", e.credentials()), &tok))
	require.NotEmpty(t, tok.Token)
	e.token = tok.Token
	return e
}

func (e *emu) credentials() url.Values {
	return url.Values{"username": {agstest.DefaultUsername}, "password": {agstest.DefaultPassword},
		"client": {"requestip"}, "f": {"json"}}
}

// raw sends a request as is and returns the body.
func (e *emu) raw(t *testing.T, method, path string, form url.Values) []byte {
	t.Helper()
	u := e.srv.URL() + "/" + (&url.URL{Path: path}).EscapedPath()
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// post sends an authenticated POST as this package does: f=json and the
// token in the body.
func (e *emu) post(t *testing.T, path string, form url.Values) []byte {
	t.Helper()
	f := url.Values{"f": {"json"}, "token": {e.token}}
	for k, v := range form {
		f[k] = v
	}
	return e.raw(t, http.MethodPost, path, f)
}

func (e *emu) postJSON(t *testing.T, path string, form url.Values) map[string]any {
	t.Helper()
	var m map[string]any
	b := e.post(t, path, form)
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

func (e *emu) submitRefresh(t *testing.T) string {
	t.Helper()
	m := e.postJSON(t, "rest/services/"+RefreshServiceTask+"/submitJob",
		url.Values{"serviceName": {"Roads"}, "serviceType": {"MapServer"}, "serviceFolder": {"Wire"}})
	id, _ := m["jobId"].(string)
	require.NotEmpty(t, id, "%v", m)
	return id
}

// TestEveryCallWithBodyTokensOnly: against a server that reads the token
// only from the form body (a 499 for a token only in the header, as on a
// release or admin endpoint that ignores X-Esri-Authorization), every call
// of this package succeeds, reads included, and no token is ever in a URL
// (REST-REFERENCE §7.3).
func TestEveryCallWithBodyTokensOnly(t *testing.T) {
	clock := newFakeClock()
	srv := agstest.NewServer(agstest.WithBodyTokensOnly(), agstest.WithClock(clock.Now), agstest.WithSeed(7))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL(), WithHTTPClient(srv.Client()), WithInsecureHTTP(),
		WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword))
	require.NoError(t, err)
	useClock(c, clock)
	ctx := t.Context()
	ref := ServiceRef{Folder: "Wire", Name: "Roads", Type: MapServer}
	def := ServiceDefinition{ServiceName: "Roads", Type: MapServer, Description: "roads"}
	extent := &Extent{XMin: 0, YMin: 0, XMax: 10, YMax: 10, SpatialReference: &SpatialReference{WKID: 102100}}
	levels, err := ParseLevels("1-2")
	require.NoError(t, err)

	steps := []struct {
		name string
		run  func() error
	}{
		{"List", func() error { _, err := c.Services.List(ctx, ""); return err }},
		{"CreateFolder", func() error { return c.Services.CreateFolder(ctx, "Wire", "") }},
		{"CanCreate", func() error {
			got, err := c.Services.CanCreate(ctx, "Wire", def)
			if err == nil && !got.OK {
				err = fmt.Errorf("refused: %v", got.Reasons)
			}
			return err
		}},
		{"Create", func() error { return c.Services.Create(ctx, "Wire", def) }},
		{"List folder", func() error { _, err := c.Services.List(ctx, "Wire"); return err }},
		{"Get", func() error { _, err := c.Services.Get(ctx, ref); return err }},
		{"Status", func() error { _, err := c.Services.Status(ctx, ref); return err }},
		{"Edit", func() error { return c.Services.Edit(ctx, "Wire", def) }},
		{"Stop", func() error { return c.Services.Stop(ctx, ref) }},
		{"Start", func() error { return c.Services.Start(ctx, ref) }},
		{"StopServices", func() error { return c.Services.StopServices(ctx, []ServiceRef{ref}) }},
		{"StartServices", func() error { return c.Services.StartServices(ctx, []ServiceRef{ref}) }},
		{"RefreshAndWait, results", func() error { _, err := c.Services.RefreshAndWait(ctx, ref, nil); return err }},
		{"GP submit, cancel", func() error {
			job, err := c.GP.SubmitJob(ctx, RefreshServiceTask, map[string]string{"serviceName": "Roads",
				"serviceType": "MapServer", "serviceFolder": "Wire"})
			if err != nil {
				return err
			}
			return job.Cancel(ctx)
		}},
		{"Tiles Scheme (the emulator caches the service first)", func() error {
			srv.SetTileScheme("Wire", "Roads", "MapServer", agstest.WebMercatorScheme(19, [4]float64{0, 0, 10, 10}))
			_, err := c.Tiles.Scheme(ctx, ref)
			return err
		}},
		{"Tiles Update, Wait", func() error {
			job, err := c.Tiles.Update(ctx, ref, UpdateTilesRequest{Levels: levels, Extent: extent})
			if err != nil {
				return err
			}
			_, err = job.Wait(ctx, nil)
			return err
		}},
		{"Tiles Jobs", func() error { _, err := c.Tiles.Jobs(ctx, ref); return err }},
		{"Tiles cancel", func() error {
			job, err := c.Tiles.Update(ctx, ref, UpdateTilesRequest{Levels: levels, Extent: extent})
			if err != nil {
				return err
			}
			return job.Cancel(ctx)
		}},
		{"Get (escape hatch)", func() error { return c.Get(ctx, "rest/services", nil, nil) }},
		{"PublishSD in one upload", func() error {
			srv.SetSDConfiguration("Roads.sd", roadsConfig())
			_, err := c.Services.PublishSDAndWait(ctx, PublishSDRequest{Reader: strings.NewReader(string(sdBytes(4 << 10))),
				Name: "Roads.sd", Folder: "Wire", ServiceName: "Roads2"}, nil)
			return err
		}},
		{"Upload in parts, List, Get, ServiceConfiguration, Delete", func() error {
			it, err := c.Uploads.Upload(ctx, "Roads.sd", strings.NewReader(string(sdBytes(150<<10))),
				&UploadOptions{PartSize: 64 << 10, PartThreshold: 100 << 10})
			if err != nil {
				return err
			}
			if _, err := c.Uploads.List(ctx); err != nil {
				return err
			}
			if _, err := c.Uploads.Get(ctx, it.ItemID); err != nil {
				return err
			}
			if _, err := c.Uploads.ServiceConfiguration(ctx, it.ItemID); err != nil {
				return err
			}
			return c.Uploads.Delete(ctx, it.ItemID)
		}},
		{"Delete", func() error { return c.Services.Delete(ctx, ref) }},
	}
	for _, s := range steps {
		require.NoError(t, s.run(), s.name)
	}
	for _, r := range srv.Requests() {
		assert.False(t, r.TokenInQuery, "%s %s", r.Method, r.Path)
		assert.Equal(t, http.StatusOK, r.Status, "%s %s", r.Method, r.Path)
		if strings.HasSuffix(r.Path, "/rest/info") || strings.HasSuffix(r.Path, "/generateToken") {
			continue
		}
		assert.Equal(t, http.MethodPost, r.Method, r.Path)
		assert.Equal(t, "***", r.Form.Get("token"), "the token is in the body of %s", r.Path)
	}
	assert.Equal(t, 3, srv.Count("/uploadPart"), "the parts path was taken")
	// One token was enough: nothing was refused and renewed.
	assert.Equal(t, 1, srv.Count("/generateToken"))
}
