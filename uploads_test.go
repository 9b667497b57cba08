package ags

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags/agstest"
)

// emulated returns a client signed in to a fresh agstest server.
func emulated(t *testing.T, opts ...agstest.Option) (*Client, *agstest.Server) {
	t.Helper()
	srv := agstest.NewServer(append([]agstest.Option{agstest.WithJobDuration(20 * time.Millisecond)}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL(), WithHTTPClient(srv.Client()), WithInsecureHTTP(),
		WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword),
		WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}))
	require.NoError(t, err)
	return c, srv
}

// pattern returns n bytes of a repeating pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// progressLog records progress calls.
type progressLog struct {
	mu    sync.Mutex
	sent  []int64
	total int64
}

func (p *progressLog) fn(sent, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, sent)
	p.total = total
}

func (p *progressLog) last() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sent) == 0 {
		return -1
	}
	return p.sent[len(p.sent)-1]
}

func TestUploadOneRequest(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	ctx := context.Background()
	data := pattern(100_000)
	var prog progressLog
	item, err := c.Uploads.Upload(ctx, "Roads.sd", bytes.NewReader(data),
		&UploadOptions{Description: "roads", Progress: prog.fn})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(item.ItemID, "i"), item.ItemID)
	assert.Equal(t, "Roads.sd", item.ItemName)
	assert.Equal(t, "roads", item.Description)
	assert.True(t, item.Committed)
	assert.False(t, item.Date.IsZero(), "the emulator's Java date is read: %q", item.DateText)
	assert.Equal(t, int64(len(data)), prog.last())
	assert.Equal(t, int64(len(data)), prog.total)

	ups := srv.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, agstest.UploadedItem{ItemID: item.ItemID, Name: "Roads.sd", Size: int64(len(data)), Committed: true}, ups[0])

	var sent *agstest.Request
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/admin/uploads/upload") {
			sent = &r
		}
	}
	require.NotNil(t, sent)
	assert.Equal(t, http.MethodPost, sent.Method)
	assert.False(t, sent.TokenInQuery)
	assert.Empty(t, sent.Query)
	assert.Equal(t, []string{"***"}, sent.Form["token"], "the token is a form field")
	assert.Equal(t, []string{"json"}, sent.Form["f"])
	assert.Equal(t, []string{"roads"}, sent.Form["description"])
	assert.True(t, strings.HasPrefix(sent.Header.Get("Content-Type"), "multipart/form-data; boundary="))

	got, err := c.Uploads.Get(ctx, item.ItemID)
	require.NoError(t, err)
	assert.Equal(t, item.ItemID, got.ItemID)
	assert.Equal(t, "Roads.sd", got.ItemName)
	assert.True(t, got.Committed)
	list, err := c.Uploads.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, item.ItemID, list[0].ItemID)

	require.NoError(t, c.Uploads.Delete(ctx, item.ItemID))
	assert.Empty(t, srv.Uploads())
	_, err = c.Uploads.Get(ctx, item.ItemID)
	assert.ErrorIs(t, err, ErrNotFound)
}

// onlyReader hides every method but Read.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadInParts(t *testing.T) {
	t.Parallel()
	const partSize = 64 << 10
	data := pattern(5*partSize - 123)
	for name, tc := range map[string]struct {
		r    func() io.Reader
		size int64
	}{
		"ReaderAt":          {r: func() io.Reader { return bytes.NewReader(data) }},
		"plain reader":      {r: func() io.Reader { return onlyReader{bytes.NewReader(data)} }, size: int64(len(data))},
		"file at an offset": {r: func() io.Reader { return tempFileAt(t, append([]byte("skip"), data...), 4) }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, srv := emulated(t)
			var prog progressLog
			item, err := c.Uploads.Upload(context.Background(), "Big.sd", tc.r(), &UploadOptions{
				Size: tc.size, PartSize: partSize, PartThreshold: 2 * partSize, Progress: prog.fn})
			require.NoError(t, err)
			assert.True(t, item.Committed)
			ups := srv.Uploads()
			require.Len(t, ups, 1)
			assert.Equal(t, agstest.UploadedItem{ItemID: item.ItemID, Name: "Big.sd", Size: int64(len(data)), Committed: true, Parts: 5}, ups[0])
			assert.Equal(t, 1, srv.Count("/admin/uploads/register"))
			assert.Equal(t, 5, srv.Count("/uploadPart"))
			assert.Equal(t, 0, srv.Count("/admin/uploads/upload"))
			for _, r := range srv.Requests() {
				assert.False(t, r.TokenInQuery, r.Path)
				if strings.HasSuffix(r.Path, "/commit") {
					assert.Equal(t, []string{"1,2,3,4,5"}, r.Form["parts"])
				}
				if strings.HasSuffix(r.Path, "/register") {
					assert.Equal(t, []string{"Big.sd"}, r.Form["itemName"])
				}
			}
			assert.Equal(t, int64(len(data)), prog.last())
			for i := 1; i < len(prog.sent); i++ {
				assert.GreaterOrEqual(t, prog.sent[i], prog.sent[i-1], "progress never goes back without a retry")
			}
		})
	}
}

func tempFileAt(t *testing.T, content []byte, off int64) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "f.sd"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	_, err = f.Write(content)
	require.NoError(t, err)
	_, err = f.Seek(off, io.SeekStart)
	require.NoError(t, err)
	return f
}

// readPart reads a multipart request's file part and its fields.
func readPart(t *testing.T, r *http.Request) (fields map[string]string, file []byte) {
	t.Helper()
	mr, err := r.MultipartReader()
	require.NoError(t, err)
	fields = map[string]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return fields, file
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		if p.FileName() != "" {
			file = b
		} else {
			fields[p.FormName()] = string(b)
		}
	}
}

const registerAnswer = `{"status":"success","item":{"itemID":"iabc","itemName":"Big.sd","description":null,"date":"1597190283335","committed":false}}`

func TestUploadPartRetriedOnTransientFailure(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var mu sync.Mutex
	got := map[string][]int{} // part number -> sizes received
	var calls atomic.Int32
	mux.HandleFunc("/arcgis/admin/uploads/register", serveRaw(200, "application/json", registerAnswer))
	mux.HandleFunc("/arcgis/admin/uploads/iabc/uploadPart", func(w http.ResponseWriter, r *http.Request) {
		fields, file := readPart(t, r)
		assert.Equal(t, testToken, fields["token"])
		mu.Lock()
		got[fields["partNumber"]] = append(got[fields["partNumber"]], len(file))
		mu.Unlock()
		if calls.Add(1) == 2 { // the second part fails once
			serveRaw(502, "text/html", "<html>Bad Gateway</html>")(w, r)
			return
		}
		serveRaw(200, "application/json", `{"status":"success"}`)(w, r)
	})
	mux.HandleFunc("/arcgis/admin/uploads/iabc/commit", serveRaw(200, "application/json", `{"status":"success"}`))
	data := pattern(3 << 16)
	var prog progressLog
	item, err := c.Uploads.Upload(context.Background(), "Big.sd", onlyReader{bytes.NewReader(data)},
		&UploadOptions{Size: int64(len(data)), PartSize: 1 << 16, PartThreshold: 1, Progress: prog.fn})
	require.NoError(t, err)
	assert.Equal(t, "iabc", item.ItemID)
	assert.True(t, item.Committed)
	assert.Equal(t, map[string][]int{"1": {1 << 16}, "2": {1 << 16, 1 << 16}, "3": {1 << 16}}, got,
		"the failed part is sent again, whole")
	assert.Equal(t, int64(len(data)), prog.last())
}

func TestUploadFailedPartDeletesItem(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var deletes atomic.Int32
	mux.HandleFunc("/arcgis/admin/uploads/register", serveRaw(200, "application/json", registerAnswer))
	mux.HandleFunc("/arcgis/admin/uploads/iabc/uploadPart",
		serveRaw(200, "application/json", `{"status":"error","messages":["Disk quota exceeded."],"code":500}`))
	mux.HandleFunc("/arcgis/admin/uploads/iabc/delete", func(w http.ResponseWriter, r *http.Request) {
		deletes.Add(1)
		serveRaw(200, "application/json", `{"status":"success"}`)(w, r)
	})
	_, err := c.Uploads.Upload(context.Background(), "Big.sd", bytes.NewReader(pattern(1<<17)),
		&UploadOptions{PartSize: 1 << 16, PartThreshold: 1})
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, err.Error(), "Disk quota exceeded.")
	assert.Equal(t, int32(1), deletes.Load())

	// A deletion that fails too is reported, and the cause still matches.
	c2, mux2, _ := setup(t)
	mux2.HandleFunc("/arcgis/admin/uploads/register", serveRaw(200, "application/json", registerAnswer))
	mux2.HandleFunc("/arcgis/admin/uploads/iabc/uploadPart",
		serveRaw(200, "application/json", `{"status":"error","messages":["Disk quota exceeded."],"code":500}`))
	mux2.HandleFunc("/arcgis/admin/uploads/iabc/delete",
		serveRaw(200, "application/json", `{"status":"error","messages":["Item is locked."],"code":500}`))
	_, err = c2.Uploads.Upload(context.Background(), "Big.sd", bytes.NewReader(pattern(1<<17)),
		&UploadOptions{PartSize: 1 << 16, PartThreshold: 1})
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, err.Error(), "Disk quota exceeded.")
	assert.Contains(t, err.Error(), "iabc could not be deleted")
	assert.Contains(t, err.Error(), "Item is locked.")
}

func TestUploadNotRepeatedAfterServerMayHaveActed(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/arcgis/admin/uploads/upload", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		serveRaw(502, "text/html", "<html>Bad Gateway</html>")(w, r)
	})
	_, err := c.Uploads.Upload(context.Background(), "Roads.sd", bytes.NewReader(pattern(1000)), nil)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 502, re.HTTPStatus)
	assert.Equal(t, int32(1), calls.Load(), "an upload is not sent twice after the server may have acted")
}

func TestUploadResentAfterRefusal(t *testing.T) {
	t.Parallel()
	newSite := func(t *testing.T) (*Client, *atomic.Int32, *[]int) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		var mu sync.Mutex
		sizes := &[]int{}
		mux.HandleFunc("/arcgis/admin/uploads/upload", func(w http.ResponseWriter, r *http.Request) {
			_, file := readPart(t, r)
			mu.Lock()
			*sizes = append(*sizes, len(file))
			mu.Unlock()
			if calls.Add(1) == 1 {
				w.Header().Set("Retry-After", "0")
				serveRaw(429, "text/plain", "slow down")(w, r)
				return
			}
			serveFixture(t, "admin-uploads-upload-ok-doc.json")(w, r)
		})
		return c, &calls, sizes
	}
	t.Run("seekable", func(t *testing.T) {
		t.Parallel()
		c, calls, sizes := newSite(t)
		item, err := c.Uploads.Upload(context.Background(), "Roads.sd", bytes.NewReader(pattern(5000)), nil)
		require.NoError(t, err)
		assert.Equal(t, "if4582d33-f10a-41fe-85bc-cf2e2880c46e", item.ItemID, "a bare ID answer")
		assert.Equal(t, "Roads.sd", item.ItemName)
		assert.True(t, item.Committed)
		assert.Equal(t, int32(2), calls.Load())
		assert.Equal(t, []int{5000, 5000}, *sizes, "sent again from the start")
	})
	t.Run("read once", func(t *testing.T) {
		t.Parallel()
		c, calls, _ := newSite(t)
		_, err := c.Uploads.Upload(context.Background(), "Roads.sd", onlyReader{bytes.NewReader(pattern(5000))}, nil)
		require.ErrorIs(t, err, errNotRewindable)
		assert.Equal(t, int32(1), calls.Load())
	})
}

func TestUploadValidation(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL.Path) })
	ctx := context.Background()
	r := bytes.NewReader([]byte("x"))
	for name, err := range map[string]error{
		"empty name":   func() error { _, err := c.Uploads.Upload(ctx, " ", r, nil); return err }(),
		"folder":       func() error { _, err := c.Uploads.Upload(ctx, "a/b.sd", r, nil); return err }(),
		"no extension": func() error { _, err := c.Uploads.Upload(ctx, "Roads", r, nil); return err }(),
		"nil reader":   func() error { _, err := c.Uploads.Upload(ctx, "Roads.sd", nil, nil); return err }(),
		"small part": func() error {
			_, err := c.Uploads.Upload(ctx, "Roads.sd", r, &UploadOptions{PartSize: 10})
			return err
		}(),
		"negative size": func() error { _, err := c.Uploads.Upload(ctx, "Roads.sd", r, &UploadOptions{Size: -1}); return err }(),
		"get bad id":    func() error { _, err := c.Uploads.Get(ctx, "../x"); return err }(),
		"delete empty":  c.Uploads.Delete(ctx, ""),
	} {
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, name)
	}
}

func TestUploadDateShapes(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]time.Time{
		`"Mon Jun 13 12:59:59 PDT 2011"`: time.Date(2011, 6, 13, 19, 59, 59, 0, time.UTC),
		`"Tue Dec 01 03:00:00 UTC 2026"`: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC),
		`1597190283335`:                  time.UnixMilli(1597190283335),
		`"1597190283335"`:                time.UnixMilli(1597190283335),
		`"Mon Jun 13 12:59:59 XYZ 2011"`: {}, // a zone that is not guessed
		`"yesterday"`:                    {},
		`null`:                           {},
	} {
		got, _ := uploadDate([]byte(raw))
		assert.True(t, want.Equal(got), "%s: got %v, want %v", raw, got, want)
	}
}

// TestUploadGoldenRequests checks the multipart bodies of a one-request
// upload and of an upload part against testdata/requests (boundary and
// token replaced).
func TestUploadGoldenRequests(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	bodies := map[string][]byte{}
	var mu sync.Mutex
	record := func(name, answer string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			require.NoError(t, err)
			assert.Equal(t, int64(len(b)), r.ContentLength, "a known size is sent with a Content-Length")
			b = bytes.ReplaceAll(b, []byte(params["boundary"]), []byte("BOUNDARY"))
			require.Equal(t, 1, bytes.Count(b, []byte(testToken)), "the token travels once, in the body")
			b = bytes.ReplaceAll(b, []byte(testToken), []byte("REDACTED"))
			mu.Lock()
			bodies[name] = b
			mu.Unlock()
			serveRaw(200, "application/json", answer)(w, r)
		}
	}
	item := `{"status":"success","item":{"itemID":"iabc","itemName":"Roads.sd","committed":true}}`
	mux.HandleFunc("/arcgis/admin/uploads/upload", record("uploads_upload.multipart", item))
	mux.HandleFunc("/arcgis/admin/uploads/register", serveRaw(200, "application/json", registerAnswer))
	mux.HandleFunc("/arcgis/admin/uploads/iabc/uploadPart", record("uploads_part.multipart", `{"status":"success"}`))
	mux.HandleFunc("/arcgis/admin/uploads/iabc/commit", serveRaw(200, "application/json", `{"status":"success"}`))
	content := []byte("7z\xbc\xaf\x27\x1c small service definition")
	_, err := c.Uploads.Upload(context.Background(), "Roads.sd", bytes.NewReader(content), &UploadOptions{Description: "Road network"})
	require.NoError(t, err)
	_, err = c.Uploads.Upload(context.Background(), "Big.sd", bytes.NewReader(content), &UploadOptions{PartThreshold: 1})
	require.NoError(t, err)
	for name, b := range bodies {
		checkGoldenBytes(t, name, b)
	}
	assert.Len(t, bodies, 2)
	// The golden bodies parse as multipart with the file last.
	mr := multipart.NewReader(bytes.NewReader(bodies["uploads_upload.multipart"]), "BOUNDARY")
	var names []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, p.FormName())
	}
	assert.Equal(t, []string{"description", "f", "token", "itemFile"}, names)
}

// checkGoldenBytes compares b with testdata/requests/<name>;
// UPDATE_GOLDEN=1 rewrites the file.
func checkGoldenBytes(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", "requests", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run with UPDATE_GOLDEN=1")
	assert.Equal(t, string(want), string(b), name)
}

func TestUploadReplayedOnceAfterTokenRejected(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	ctx := context.Background()
	_, err := c.Uploads.List(ctx) // signs in
	require.NoError(t, err)
	srv.InvalidateTokens()
	data := pattern(50_000)
	item, err := c.Uploads.Upload(ctx, "Roads.sd", bytes.NewReader(data), nil)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count("/admin/uploads/upload"), "refused for its token, then sent again with a new one")
	ups := srv.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, item.ItemID, ups[0].ItemID)
	assert.Equal(t, int64(len(data)), ups[0].Size, "the replay sends the whole file again")
}

func TestUploadCancelledMidwayCleansUp(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.Uploads.Upload(ctx, "Big.sd", agstest.FakeSD(1<<20), &UploadOptions{
		PartSize: 64 << 10, PartThreshold: 1,
		Progress: func(sent, _ int64) {
			if sent > 200<<10 {
				cancel()
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.Uploads(), "the registered item is deleted even though ctx ended")
	assert.Equal(t, 1, srv.Count("/delete"))
}

func TestUploadInPartsRefusesAReaderLongerThanSize(t *testing.T) {
	t.Parallel()
	c, srv := emulated(t)
	_, err := c.Uploads.Upload(context.Background(), "Big.sd", onlyReader{bytes.NewReader(pattern(200 << 10))},
		&UploadOptions{Size: 150 << 10, PartSize: 64 << 10, PartThreshold: 1})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Empty(t, srv.Uploads(), "the registered item is deleted")
	assert.Equal(t, 0, srv.Count("/commit"))
}

// TestUploadAnswersLackingWhatTheCallNeeds: an answer without the item,
// the item list or the yes/no the call needs is reported by the decoder,
// with the answer's own status and a snippet of it.
func TestUploadAnswersLackingWhatTheCallNeeds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path, answer, reason, op string
		call                           func(c *Client) error
	}{
		{"upload without item", "/arcgis/admin/uploads/upload", `{"status":"success"}`, "no item ID in the answer", "upload",
			func(c *Client) error {
				_, err := c.Uploads.Upload(context.Background(), "Roads.sd", bytes.NewReader(pattern(100)), nil)
				return err
			}},
		{"upload with an unusable ID", "/arcgis/admin/uploads/upload", `{"status":"success","item":{"itemID":"../x"}}`,
			`item ID "../x" cannot be used in a URL`, "upload",
			func(c *Client) error {
				_, err := c.Uploads.Upload(context.Background(), "Roads.sd", bytes.NewReader(pattern(100)), nil)
				return err
			}},
		{"register without item", "/arcgis/admin/uploads/register", `{"status":"success","item":{}}`, "no item ID in the answer", "register",
			func(c *Client) error {
				_, err := c.Uploads.Upload(context.Background(), "Big.sd", bytes.NewReader(pattern(1<<17)),
					&UploadOptions{PartSize: 1 << 16, PartThreshold: 1})
				return err
			}},
		{"item without ID", "/arcgis/admin/uploads/i1", `{"itemName":"Roads.sd"}`, "no itemID in the answer", "upload i1: item",
			func(c *Client) error {
				_, err := c.Uploads.Get(context.Background(), "i1")
				return err
			}},
		{"list without items", "/arcgis/admin/uploads", `{"uploads":[]}`, `no "items" in the answer`, "uploads",
			func(c *Client) error {
				_, err := c.Uploads.List(context.Background())
				return err
			}},
		{"exists without an answer", "/arcgis/admin/services/exists", `{"folderName":""}`, `no "exists" in the answer`, "Roads.MapServer: exists",
			func(c *Client) error {
				_, err := c.Services.Exists(context.Background(), ServiceRef{Name: "Roads", Type: MapServer})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.HandleFunc(tc.path, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				serveRaw(200, "application/json", tc.answer)(w, r)
			})
			var re *ResponseError
			require.ErrorAs(t, tc.call(c), &re)
			assert.Equal(t, tc.reason, re.Reason)
			assert.Equal(t, http.StatusOK, re.HTTPStatus)
			assert.Equal(t, tc.op, re.Op)
			assert.Equal(t, tc.answer, re.Snippet)
			assert.True(t, strings.HasSuffix(re.URL, tc.path), re.URL)
		})
	}
}
