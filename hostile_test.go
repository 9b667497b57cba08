package ags

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formRecorder answers every request with body and keeps the forms it got.
type formRecorder struct {
	mu    sync.Mutex
	forms []url.Values
	paths []string
}

func (f *formRecorder) handler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.paths = append(f.paths, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

func (f *formRecorder) last() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[len(f.forms)-1]
}

// The SDK's own typed constants in a GP parameter map go on the wire as
// their text, not as quoted JSON strings.
func TestGPParamsOfStringKindSentAsText(t *testing.T) {
	c, mux, _ := setup(t)
	rec := &formRecorder{}
	mux.HandleFunc(sitePrefix+"rest/services/System/",
		rec.handler(`{"jobId":"j1","jobStatus":"esriJobSubmitted"}`))
	type level string
	_, err := c.GP.SubmitJob(t.Context(), "System/CachingTools/GPServer/Manage Map Cache Tiles", map[string]any{
		"service_type": ImageServer,
		"update_mode":  RecreateAllTiles,
		"level":        level("7"),
		"thread_count": 2,
	})
	require.NoError(t, err)
	got := rec.last()
	assert.Equal(t, "ImageServer", got.Get("service_type"))
	assert.Equal(t, "RECREATE_ALL_TILES", got.Get("update_mode"))
	assert.Equal(t, "7", got.Get("level"))
	assert.Equal(t, "2", got.Get("thread_count"), "other values stay JSON")
}
