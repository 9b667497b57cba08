package agstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags/internal/fakeclock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is the tests' one clock (package fakeclock); here a test moves
// it by hand.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock {
	return fakeclock.NewAt(time.Date(2024, 1, 3, 10, 0, 0, 0, time.UTC))
}

// start starts a server closed at the end of the test.
func start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) obj(key string) map[string]any {
	m, _ := r.body[key].(map[string]any)
	return m
}

// send makes a request to srv.URL()+path. For GET the form goes in the
// query; for POST in a url-encoded body.
func send(t *testing.T, srv *Server, method, path string, form url.Values, header http.Header) response {
	t.Helper()
	u := srv.URL() + path
	var body io.Reader
	if method == http.MethodGet && len(form) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out.body), "body: %s", raw)
	}
	return out
}

// client is a test client holding a token.
type client struct {
	t       *testing.T
	srv     *Server
	token   string
	referer string
}

// login generates a token with client=requestip through tokens/generateToken.
func login(t *testing.T, srv *Server) *client {
	t.Helper()
	r := send(t, srv, http.MethodPost, "/tokens/generateToken", url.Values{
		"username": {DefaultUsername}, "password": {DefaultPassword},
		"client": {"requestip"}, "f": {"json"},
	}, nil)
	tok, _ := r.body["token"].(string)
	require.NotEmpty(t, tok, "generateToken: %s", r.raw)
	return &client{t: t, srv: srv, token: tok}
}

func (c *client) headers() http.Header {
	h := http.Header{}
	if c.token != "" {
		h.Set("X-Esri-Authorization", "Bearer "+c.token)
	}
	if c.referer != "" {
		h.Set("Referer", c.referer)
	}
	return h
}

// get sends a GET with the token in the X-Esri-Authorization header.
func (c *client) get(path string, q url.Values) response {
	c.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if !q.Has("f") {
		q.Set("f", "json")
	}
	return send(c.t, c.srv, http.MethodGet, path, q, c.headers())
}

// post sends a POST with the token in the form body (and the header).
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("f") {
		form.Set("f", "json")
	}
	if c.token != "" && !form.Has("token") {
		form.Set("token", c.token)
	}
	return send(c.t, c.srv, http.MethodPost, path, form, c.headers())
}

// ---- fixture shapes ----

func loadFixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name+".json"))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v), name)
	return v
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// shapeDiff lists how got differs in shape from want. exact requires the
// same key sets; otherwise got may have more keys.
func shapeDiff(path string, want, got any, exact bool) []string {
	if kindOf(want) != kindOf(got) {
		return []string{fmt.Sprintf("%s: kind %s, want %s", path, kindOf(got), kindOf(want))}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		if isParamMap(path) {
			// The keys of results/inputs are parameter names: compare each
			// value with the fixture's first value, not the names.
			for _, wv := range w {
				for _, k := range sortedKeys(g) {
					diffs = append(diffs, shapeDiff(path+"."+k, wv, g[k], exact)...)
				}
				break
			}
			return diffs
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			diffs = append(diffs, shapeDiff(path+"."+k, wv, gv, exact)...)
		}
		if exact {
			var extra []string
			for k := range g {
				if _, ok := w[k]; !ok {
					extra = append(extra, k)
				}
			}
			sort.Strings(extra)
			for _, k := range extra {
				diffs = append(diffs, fmt.Sprintf("%s.%s: unexpected key", path, k))
			}
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			for i := range g {
				diffs = append(diffs, shapeDiff(fmt.Sprintf("%s[%d]", path, i), w[0], g[i], exact)...)
			}
		}
	}
	return diffs
}

func isParamMap(path string) bool {
	return strings.HasSuffix(path, ".results") || strings.HasSuffix(path, ".inputs")
}

// requireShape checks got against a recorded fixture's shape: the same key
// set and JSON value kinds.
func requireShape(t *testing.T, fixture string, got map[string]any) {
	t.Helper()
	d := shapeDiff("$", loadFixture(t, fixture), any(got), true)
	require.Empty(t, d, "shape of %s; got %v", fixture, got)
}

// requireShapeSuperset checks that got has at least the fixture's keys with
// the same kinds.
func requireShapeSuperset(t *testing.T, fixture string, got map[string]any) {
	t.Helper()
	d := shapeDiff("$", loadFixture(t, fixture), any(got), false)
	require.Empty(t, d, "shape of %s; got %v", fixture, got)
}

// restErr returns code, message and details of a REST envelope.
func restErr(t *testing.T, r response) (int, string, []string) {
	t.Helper()
	e := r.obj("error")
	require.NotNil(t, e, "want a REST error envelope, got %s", r.raw)
	var details []string
	if ds, ok := e["details"].([]any); ok {
		for _, d := range ds {
			details = append(details, d.(string))
		}
	}
	return int(e["code"].(float64)), e["message"].(string), details
}

// adminErr returns code and messages of an admin envelope.
func adminErr(t *testing.T, r response) (int, []string) {
	t.Helper()
	require.Equal(t, "error", r.body["status"], "want an admin error envelope, got %s", r.raw)
	var msgs []string
	for _, m := range r.body["messages"].([]any) {
		msgs = append(msgs, m.(string))
	}
	return int(r.body["code"].(float64)), msgs
}
