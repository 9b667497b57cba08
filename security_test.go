package ags_test

// Hostile input and secrets: what a broken proxy, a lying server or a
// redirect can make of real SDK calls. Every answer here either decodes
// into a result or fails with one of the SDK's typed errors; nothing
// panics, nothing succeeds silently, nothing carries a secret off the site.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// secToken is the static token of the hostile-input clients.
const secToken = "sec-TOKEN-c0ffee-51d2a7"

// secLimit is the response size limit of the hostile-input clients.
const secLimit = 4096

// secAnswer is what one path of a hostile server answers.
type secAnswer struct {
	status int    // default 200
	ctype  string // default application/json
	body   string
	mode   secMode
}

type secMode int

const (
	secPlain    secMode = iota // net/http decides (Content-Length for small bodies)
	secLength                  // explicit Content-Length
	secChunked                 // no Content-Length: flushed in pieces
	secEndless                 // a JSON string that never ends
	secCutShort                // Content-Length larger than what is sent, then the connection closes
)

func (a secAnswer) serve(w http.ResponseWriter, r *http.Request) {
	status, ctype := a.status, a.ctype
	if status == 0 {
		status = http.StatusOK
	}
	if ctype == "" {
		ctype = "application/json; charset=utf-8"
	}
	switch a.mode {
	case secCutShort:
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
			status, http.StatusText(status), ctype, len(a.body)+500, a.body)
		_ = buf.Flush()
		return
	case secEndless:
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"jobId":"j1","jobStatus":"esriJobSubmitted","pad":"`)
		chunk := strings.Repeat("x", 32<<10)
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		return
	}
	w.Header().Set("Content-Type", ctype)
	if a.mode == secLength {
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	}
	w.WriteHeader(status)
	if a.mode == secChunked {
		half := len(a.body) / 2
		_, _ = io.WriteString(w, a.body[:half])
		_ = http.NewResponseController(w).Flush()
		_, _ = io.WriteString(w, a.body[half:])
		return
	}
	_, _ = io.WriteString(w, a.body)
}

// Well-formed answers of the paths a hostile case does not touch.
var (
	secGoodSubmit = secAnswer{body: `{"jobId":"j1","jobStatus":"esriJobSubmitted"}`}
	secGoodStatus = secAnswer{body: `{"jobId":"j1","jobStatus":"esriJobSucceeded","messages":[{"type":"esriJobMessageTypeInformative","description":"Succeeded"}],` +
		`"results":{"refreshResults":{"paramUrl":"results/refreshResults"}}}`}
	secGoodResult = secAnswer{body: `{"paramName":"refreshResults","dataType":"GPString","value":"{\"status\":\"success\"}"}`}
	secGoodGet    = secAnswer{body: `{"jobId":"j1","jobStatus":"esriJobSucceeded","messages":[]}`}
)

// secServer answers GP submits, job statuses, job results and anything else
// (a plain GET) with the given answers.
func secServer(t *testing.T, submit, status, result, other secAnswer) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasSuffix(p, "/submitJob"):
			submit.serve(w, r)
		case strings.Contains(p, "/results/"):
			result.serve(w, r)
		case strings.Contains(p, "/jobs/"):
			status.serve(w, r)
		default:
			other.serve(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func secClient(t *testing.T, ts *httptest.Server) *ags.Client {
	t.Helper()
	c, err := ags.NewClient(ts.URL+"/arcgis",
		ags.WithToken(secToken),
		ags.WithInsecureHTTP(),
		ags.WithHTTPClient(ts.Client()),
		ags.WithMaxResponseBytes(secLimit),
		ags.WithRetryPolicy(ags.RetryPolicy{MaxRetries: 1, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	)
	require.NoError(t, err)
	return c
}

// secPoll fails a wait after two bad polls in a row, quickly.
var secPoll = &ags.PollOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxConsecutiveErrors: 1}

// secGetOut is a typed destination for Client.Get: wrong types in known
// fields must fail the call.
type secGetOut struct {
	JobID     string           `json:"jobId"`
	JobStatus string           `json:"jobStatus"`
	Messages  []ags.JobMessage `json:"messages"`
}

// secEntry is one public way into the SDK, with the hostile answer put on
// the path it reads.
type secEntry struct {
	name string
	// shapes: the entry decodes a job status (or submit) document, so the
	// wrong-type cases apply to it. Generic cases apply to every entry.
	shapes bool
	run    func(ctx context.Context, t *testing.T, bad secAnswer) (any, error)
}

var secEntries = []secEntry{
	{"Services.Refresh submit", true, func(ctx context.Context, t *testing.T, bad secAnswer) (any, error) {
		c := secClient(t, secServer(t, bad, secGoodStatus, secGoodResult, secGoodGet))
		return c.Services.Refresh(ctx, relRefresh)
	}},
	{"Refresh Job.Wait status", true, func(ctx context.Context, t *testing.T, bad secAnswer) (any, error) {
		c := secClient(t, secServer(t, secGoodSubmit, bad, secGoodResult, secGoodGet))
		job, err := c.Services.Refresh(ctx, relRefresh)
		require.NoError(t, err)
		return job.Wait(ctx, secPoll)
	}},
	{"Refresh Job.Wait result", false, func(ctx context.Context, t *testing.T, bad secAnswer) (any, error) {
		c := secClient(t, secServer(t, secGoodSubmit, secGoodStatus, bad, secGoodGet))
		job, err := c.Services.Refresh(ctx, relRefresh)
		require.NoError(t, err)
		return job.Wait(ctx, secPoll)
	}},
	{"GP.SubmitJob", true, func(ctx context.Context, t *testing.T, bad secAnswer) (any, error) {
		c := secClient(t, secServer(t, bad, secGoodStatus, secGoodResult, secGoodGet))
		return c.GP.SubmitJob(ctx, "Tools/GPServer/Buffer", map[string]any{"distance": 5})
	}},
	{"GP Job.Wait status", true, func(ctx context.Context, t *testing.T, bad secAnswer) (any, error) {
		c := secClient(t, secServer(t, secGoodSubmit, bad, secGoodResult, secGoodGet))
		job, err := c.GP.SubmitJob(ctx, "Tools/GPServer/Buffer", map[string]any{"distance": 5})
		require.NoError(t, err)
		return job.Wait(ctx, secPoll)
	}},
	{"Client.Get", true, func(ctx context.Context, t *testing.T, bad secAnswer) (any, error) {
		c := secClient(t, secServer(t, secGoodSubmit, secGoodStatus, secGoodResult, bad))
		var out secGetOut
		err := c.Get(ctx, "rest/services/Tools/GPServer/Buffer/status", nil, &out)
		return out, err
	}},
}

// TestSecurityHostileAnswers feeds broken answers to real SDK calls.
func TestSecurityHostileAnswers(t *testing.T) {
	t.Parallel()
	big := `{"jobId":"j1","jobStatus":"esriJobSucceeded","messages":[],"pad":"` + strings.Repeat("x", 3*secLimit) + `"}`
	cases := []struct {
		name    string
		answer  secAnswer
		shape   bool   // a wrong-type case: only for entries that decode job documents
		request bool   // a *RequestError (the body never arrived whole) is the right answer too
		apiErr  bool   // an ArcGIS error envelope: want an *ags.Error
		text    string // the error must say this
	}{
		{name: "oversized, Content-Length", answer: secAnswer{body: big, mode: secLength}, text: strconv.Itoa(secLimit)},
		{name: "oversized, chunked", answer: secAnswer{body: big, mode: secChunked}, text: strconv.Itoa(secLimit)},
		{name: "oversized, endless", answer: secAnswer{mode: secEndless}, text: strconv.Itoa(secLimit)},
		{name: "truncated JSON", answer: secAnswer{body: `{"jobId":"j1","jobStatus":"esriJobSucc`}, text: "JSON"},
		{name: "cut short by the connection", answer: secAnswer{body: `{"jobId":"j1","jobSta`, mode: secCutShort}, request: true},
		{name: "HTML page with HTTP 200", answer: secAnswer{ctype: "text/html", body: "<!DOCTYPE html>\n<html><head><title>Sign In</title></head><body><form>...</form></body></html>"}, text: "not JSON"},
		{name: "empty body", answer: secAnswer{body: ""}, text: "empty"},
		{name: "whitespace body", answer: secAnswer{body: " \r\n\t "}, text: "empty"},
		{name: "JSON null", answer: secAnswer{body: "null"}},
		{name: "token echoed in an HTML page", answer: secAnswer{ctype: "text/html", body: "<html><body>Bad request: token=" + secToken + "</body></html>"}, text: "not JSON"},
		{name: "token echoed in an error envelope", apiErr: true, answer: secAnswer{body: `{"error":{"code":400,"message":"Invalid request token=` + secToken + `","details":["token ` + secToken + `"]}}`}, text: "REDACTED"},
		{name: "jobStatus as a number", shape: true, answer: secAnswer{body: `{"jobId":"j1","jobStatus":4,"messages":[]}`}},
		{name: "messages as a string", shape: true, answer: secAnswer{body: `{"jobId":"j1","jobStatus":"esriJobSucceeded","messages":"all good"}`}},
		{name: "JSON array", shape: true, answer: secAnswer{body: `[{"jobId":"j1","jobStatus":"esriJobSucceeded"}]`}},
		{name: "jobId as an object", shape: true, answer: secAnswer{body: `{"jobId":{"id":"j1"},"jobStatus":"esriJobSucceeded","messages":[]}`}},
	}
	for _, e := range secEntries {
		t.Run(e.name, func(t *testing.T) {
			t.Run("well-formed", func(t *testing.T) {
				res, err := e.run(t.Context(), t, secGoodFor(e.name))
				require.NoError(t, err, "the harness itself is broken")
				assert.NotNil(t, res)
			})
			for _, tc := range cases {
				if tc.shape && !e.shapes {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					defer cancel()
					var (
						res any
						err error
					)
					require.NotPanics(t, func() { res, err = e.run(ctx, t, tc.answer) })
					require.Error(t, err, "silent success: %+v", res)
					require.NoError(t, ctx.Err(), "the call only ended with the test's deadline")
					t.Logf("%v", err)
					var (
						re  *ags.ResponseError
						rqe *ags.RequestError
						ae  *ags.Error
						je  *ags.JobError
					)
					assert.False(t, errors.As(err, &je), "a broken answer is not a job outcome: %v", err)
					if tc.apiErr {
						if assert.ErrorAs(t, err, &ae, "want an *ags.Error, got %T: %v", err, err) {
							assert.Equal(t, 400, ae.Code)
							assert.NotEmpty(t, ae.Op, "the error must name the operation")
						}
					} else if tc.request && errors.As(err, &rqe) {
						// The body never arrived whole: a transport failure.
					} else if assert.ErrorAs(t, err, &re, "want a *ResponseError, got %T: %v", err, err) {
						assert.NotEmpty(t, re.Reason)
						assert.NotEmpty(t, re.Op, "the error must name the operation")
						assert.NotContains(t, re.URL, "?", "URL with a query")
					}
					if tc.text != "" {
						assert.Contains(t, err.Error(), tc.text)
					}
					for _, verb := range []string{"%v", "%+v", "%#v"} {
						assert.NotContains(t, fmt.Sprintf(verb, err), secToken, "%s of the error shows the token", verb)
					}
				})
			}
		})
	}
}

// secGoodFor is a well-formed answer for the path an entry makes hostile.
func secGoodFor(entry string) secAnswer {
	switch {
	case strings.HasSuffix(entry, "submit"), entry == "GP.SubmitJob":
		return secGoodSubmit
	case strings.HasSuffix(entry, "result"):
		return secGoodResult
	case strings.HasSuffix(entry, "status"):
		return secGoodStatus
	}
	return secGoodGet
}

// secRecorder is a server on another host that records everything it
// receives: a redirect must never bring it a token or a password.
type secRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *secRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", req.Method, req.URL.String())
	_ = req.Header.Write(&b)
	b.Write(body)
	r.mu.Lock()
	r.seen = append(r.seen, b.String())
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(req.URL.Path, "generateToken"):
		_, _ = io.WriteString(w, `{"token":"evil-token","expires":4102444800000}`)
	case strings.HasSuffix(req.URL.Path, "submitJob"):
		_, _ = io.WriteString(w, `{"jobId":"j1","jobStatus":"esriJobSubmitted"}`)
	default:
		_, _ = io.WriteString(w, `{"status":"success"}`)
	}
}

func (r *secRecorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestSecurityRedirectsKeepSecrets: a site that redirects (302 or 307) to
// another host, on a GET, on a POST and on generateToken, never gets the
// token or the password delivered there.
func TestSecurityRedirectsKeepSecrets(t *testing.T) {
	t.Parallel()
	const password = "pa55-w0rd-REDIRECT-7c1"
	calls := []struct {
		name  string
		creds bool // sign in with a password (the redirect meets generateToken) instead of a static token
		run   func(ctx context.Context, c *ags.Client) error
	}{
		{"GET", false, func(ctx context.Context, c *ags.Client) error {
			return c.Get(ctx, "rest/services/Tools/GPServer/Buffer", nil, nil)
		}},
		{"GET Services.Status", false, func(ctx context.Context, c *ags.Client) error {
			_, err := c.Services.Status(ctx, ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
			return err
		}},
		{"POST", false, func(ctx context.Context, c *ags.Client) error {
			return c.Post(ctx, "admin/services/createFolder", url.Values{"folderName": {"Redirected"}}, nil)
		}},
		{"POST Services.Refresh", false, func(ctx context.Context, c *ags.Client) error {
			_, err := c.Services.Refresh(ctx, relRefresh)
			return err
		}},
		{"generateToken", true, func(ctx context.Context, c *ags.Client) error {
			_, err := c.Services.Status(ctx, ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer})
			return err
		}},
	}
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		for _, call := range calls {
			t.Run(fmt.Sprintf("%d %s", code, call.name), func(t *testing.T) {
				t.Parallel()
				rec := &secRecorder{}
				other := httptest.NewServer(rec)
				t.Cleanup(other.Close)
				// Another host: same loopback address, spelled "localhost",
				// on another port.
				otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
				site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, otherURL+r.URL.Path, code)
				}))
				t.Cleanup(site.Close)

				opts := []ags.Option{
					ags.WithInsecureHTTP(),
					ags.WithHTTPClient(site.Client()),
					ags.WithRetryPolicy(ags.RetryPolicy{MaxRetries: 1, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}),
				}
				secrets := []string{secToken}
				if call.creds {
					opts = append(opts, ags.WithCredentials("publisher", password))
					secrets = []string{password}
				} else {
					opts = append(opts, ags.WithToken(secToken))
				}
				c, err := ags.NewClient(site.URL+"/arcgis", opts...)
				require.NoError(t, err)

				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				err = call.run(ctx, c)
				t.Logf("%v", err)
				require.Error(t, err, "a call answered only by a redirect off the site cannot succeed")
				for _, s := range secrets {
					assert.NotContains(t, err.Error(), s)
					assert.NotContains(t, fmt.Sprintf("%+v", err), s)
				}
				got := rec.requests()
				for i, r := range got {
					for _, s := range secrets {
						assert.NotContains(t, r, s, "request %d at the other host carries a secret", i)
					}
					assert.NotContains(t, r, "evil", "request %d", i)
				}
				assert.Empty(t, got, "the client followed a redirect to another host")
			})
		}
	}
}

// TestSecurityFmtVerbsHideSecrets prints every exported value a user can
// get hold of (the client and its service fields, job handles, results,
// errors, tokens, token sources) with every fmt verb: no token and no
// password may come out, in clear or hex-encoded.
func TestSecurityFmtVerbsHideSecrets(t *testing.T) {
	t.Parallel()
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%T", "%p"}
	check := func(t *testing.T, secrets []string, values map[string]any) {
		t.Helper()
		for name, v := range values {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				for _, s := range secrets {
					hexed := hex.EncodeToString([]byte(s))
					if strings.Contains(out, s) || strings.Contains(strings.ToLower(out), hexed) {
						t.Errorf("fmt.Sprintf(%q, %s) shows a secret: %.400s", verb, name, strings.ReplaceAll(out, s, "<<SECRET>>"))
					}
				}
			}
		}
	}
	common := func(c *ags.Client) map[string]any {
		return map[string]any{"client": c, "c.Services": c.Services, "c.GP": c.GP, "c.Tiles": c.Tiles}
	}

	t.Run("static token", func(t *testing.T) {
		t.Parallel()
		ts := secServer(t, secGoodSubmit, secGoodStatus, secGoodResult, secAnswer{body: `{"error":{"code":404,"message":"not found","details":[]}}`})
		c := secClient(t, ts)
		job, err := c.Services.Refresh(t.Context(), relRefresh)
		require.NoError(t, err)
		res, err := job.Wait(t.Context(), secPoll)
		require.NoError(t, err)
		getErr := c.Get(t.Context(), "rest/services/nope", nil, nil)
		require.Error(t, getErr)
		tok := ags.NewToken(secToken, time.Now().Add(time.Hour))
		values := common(c)
		for k, v := range map[string]any{"job": job, "result": res, "result.GPResult": res.GPResult, "error": getErr,
			"token": tok, "&token": &tok, "StaticTokenSource": ags.StaticTokenSource(tok), "WithToken option": ags.WithToken(secToken)} {
			values[k] = v
		}
		check(t, []string{secToken}, values)
	})

	// A caller's own TokenSource, a plain struct value holding its token
	// as a string (nothing in it knows about redaction). The client keeps
	// it; printing the client's parts must not print it.
	t.Run("caller's value TokenSource", func(t *testing.T) {
		t.Parallel()
		const userToken = "user-SOURCE-token-4e8a1f"
		ts := secServer(t, secGoodSubmit, secGoodStatus, secGoodResult, secGoodGet)
		c, err := ags.NewClient(ts.URL+"/arcgis", ags.WithTokenSource(secValueSource{tok: userToken}),
			ags.WithInsecureHTTP(), ags.WithHTTPClient(ts.Client()))
		require.NoError(t, err)
		job, err := c.Services.Refresh(t.Context(), relRefresh)
		require.NoError(t, err)
		res, err := job.Wait(t.Context(), secPoll)
		require.NoError(t, err)
		values := common(c)
		values["job"], values["result"], values["result.GPResult"] = job, res, res.GPResult
		check(t, []string{userToken}, values)
	})

	t.Run("credentials", func(t *testing.T) {
		t.Parallel()
		srv := agstest.NewServer(agstest.WithJobDuration(20 * time.Millisecond))
		t.Cleanup(srv.Close)
		relAddTarget(srv)
		rec := &tokenRecorder{base: srv.Client().Transport}
		c, err := ags.NewClient(srv.URL(),
			ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword),
			ags.WithInsecureHTTP(), ags.WithHTTPClient(&http.Client{Transport: rec}))
		require.NoError(t, err)
		job, err := c.Services.Refresh(t.Context(), relRefresh)
		require.NoError(t, err)
		res, err := job.Wait(t.Context(), secPoll)
		require.NoError(t, err)
		_, statusErr := c.Services.Status(t.Context(), ags.ServiceRef{Folder: "Imagery", Name: "Missing", Type: ags.ImageServer})
		require.Error(t, statusErr)
		secrets := append([]string{agstest.DefaultPassword}, rec.list()...)
		require.Len(t, secrets, 2, "one token issued and used")
		values := common(c)
		for k, v := range map[string]any{"job": job, "result": res, "result.GPResult": res.GPResult, "error": statusErr,
			"WithCredentials option": ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword)} {
			values[k] = v
		}
		check(t, secrets, values)
	})
}

// secValueSource is a caller's TokenSource as one might write it: a value
// type with the token in a plain string field.
type secValueSource struct{ tok string }

func (s secValueSource) Token(context.Context) (ags.Token, error) {
	return ags.NewToken(s.tok, time.Time{}), nil
}
