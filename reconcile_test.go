package ags

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// miniAdmin is a tiny admin API (services, folders, start/stop) whose
// answers can be lost: for each operation (the last path segment) a list
// of faults to apply to its next requests, in order: "lost" (act, then
// answer a 502 page), "502" (answer a 502 page without acting), "drop"
// (close the connection without acting or answering).
type miniAdmin struct {
	mu       sync.Mutex
	services map[string]bool // "folder/name.type"
	folders  map[string]bool
	faults   map[string][]string
	sent     map[string]int
}

func newMiniAdmin() *miniAdmin {
	return &miniAdmin{services: map[string]bool{}, folders: map[string]bool{}, faults: map[string][]string{}, sent: map[string]int{}}
}

func (m *miniAdmin) count(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[op]
}

func (m *miniAdmin) serve(_ int, r *http.Request, w http.ResponseWriter) {
	p := strings.TrimPrefix(r.URL.Path, "/arcgis/admin/services")
	p = strings.Trim(p, "/")
	segs := strings.Split(p, "/")
	op := segs[len(segs)-1]
	m.mu.Lock()
	m.sent[op]++
	fault := ""
	if f := m.faults[op]; len(f) > 0 {
		fault, m.faults[op] = f[0], f[1:]
	}
	m.mu.Unlock()
	switch fault {
	case "502":
		serveRaw(http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>")(w, r)
		return
	case "drop":
		panic(http.ErrAbortHandler)
	}
	var body string
	m.mu.Lock()
	switch {
	case p == "": // the folder listing (a read, sent as a POST with the token)
		var fs []string
		for f := range m.folders {
			fs = append(fs, `"`+f+`"`)
		}
		body = `{"folderName":"/","folders":[` + strings.Join(fs, ",") + `],"services":[]}`
	case op == "createFolder":
		m.folders[r.PostFormValue("folderName")] = true
		body = `{"status":"success"}`
	case op == "createService":
		var def ServiceDefinition
		_ = def.UnmarshalJSON([]byte(r.PostFormValue("service")))
		key := strings.Join(segs[:len(segs)-1], "/") + "/" + def.ServiceName + "." + string(def.Type)
		if m.services[key] {
			body = `{"status":"error","messages":["Service ` + def.ServiceName + ` already exists."],"code":500}`
		} else {
			m.services[key] = true
			body = `{"status":"success"}`
		}
	case op == "delete":
		key := strings.Join(segs[:len(segs)-1], "/")
		if !strings.Contains(key, "/") {
			key = "/" + key
		}
		delete(m.services, key)
		body = `{"status":"success"}`
	case op == "start" || op == "stop" || op == "startServices":
		body = `{"status":"success"}`
	default: // a service's definition
		key := p
		if !strings.Contains(key, "/") {
			key = "/" + key
		}
		if m.services[key] {
			name, typ, _ := strings.Cut(key[strings.LastIndex(key, "/")+1:], ".")
			body = `{"serviceName":"` + name + `","type":"` + typ + `"}`
		} else {
			body = `{"status":"error","messages":["Could not find resource or operation '` + op + `' on the system."],"code":404}`
		}
	}
	m.mu.Unlock()
	if fault == "lost" {
		serveRaw(http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>")(w, r)
		return
	}
	writeJSONBody(w, http.StatusOK, body)
}

func reconcileSetup(t *testing.T) (*Client, *miniAdmin, *safeBuffer) {
	t.Helper()
	var logs safeBuffer
	m := newMiniAdmin()
	c, mux, _ := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	installClock(c)
	mux.Handle("/arcgis/admin/", &recorder{answer: m.serve})
	return c, m, &logs
}

func TestCreateServiceLostAnswerSettled(t *testing.T) {
	def := ServiceDefinition{ServiceName: "Roads", Type: MapServer}

	t.Run("created: read back, not sent again", func(t *testing.T) {
		c, m, logs := reconcileSetup(t)
		m.faults["createService"] = []string{"lost"}
		require.NoError(t, c.Services.Create(t.Context(), "Maps", def))
		assert.Equal(t, 1, m.count("createService"), "a service is never created twice")
		assert.True(t, m.services["Maps/Roads.MapServer"])
		assert.Contains(t, logs.String(), "the call took effect")
	})
	t.Run("dropped connection, created", func(t *testing.T) {
		c, m, _ := reconcileSetup(t)
		m.faults["createService"] = []string{"lost"}
		m.faults["Roads.MapServer"] = []string{"drop"} // the first read-back is dropped, then retried
		require.NoError(t, c.Services.Create(t.Context(), "Maps", def))
		assert.Equal(t, 1, m.count("createService"))
	})
	t.Run("not created: sent once more", func(t *testing.T) {
		c, m, logs := reconcileSetup(t)
		m.faults["createService"] = []string{"502"}
		require.NoError(t, c.Services.Create(t.Context(), "Maps", def))
		assert.Equal(t, 2, m.count("createService"))
		assert.True(t, m.services["Maps/Roads.MapServer"])
		assert.Contains(t, logs.String(), "sending it once more")
	})
	t.Run("read fails too: outcome unknown, naming the service", func(t *testing.T) {
		c, m, _ := reconcileSetup(t)
		m.faults["createService"] = []string{"lost"}
		m.faults["Roads.MapServer"] = []string{"502", "502", "502", "502"}
		err := c.Services.Create(t.Context(), "Maps", def)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		var oe *OutcomeUnknownError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "service Maps/Roads.MapServer", oe.Target)
		assert.Contains(t, err.Error(), "Maps/Roads.MapServer")
		assert.Contains(t, err.Error(), "Services.Get")
		var re *ResponseError
		assert.ErrorAs(t, err, &re, "the lost answer is still there to inspect")
		assert.Equal(t, 1, m.count("createService"))
	})
	t.Run("a refusal is not settled", func(t *testing.T) {
		c, m, _ := reconcileSetup(t)
		m.services["Maps/Roads.MapServer"] = true
		err := c.Services.Create(t.Context(), "Maps", def)
		require.ErrorIs(t, err, ErrServiceExists)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		assert.Equal(t, 0, m.count("Roads.MapServer"), "no read-back after a definite answer")
	})
}

func TestDeleteLostAnswerSettled(t *testing.T) {
	ref := ServiceRef{Folder: "Maps", Name: "Roads", Type: MapServer}
	c, m, _ := reconcileSetup(t)
	m.services["Maps/Roads.MapServer"] = true
	m.faults["delete"] = []string{"lost"}
	require.NoError(t, c.Services.Delete(t.Context(), ref))
	assert.Equal(t, 1, m.count("delete"))

	m.services["Maps/Roads.MapServer"] = true
	m.faults["delete"] = []string{"drop"}
	require.NoError(t, c.Services.Delete(t.Context(), ref))
	assert.Equal(t, 3, m.count("delete"), "dropped before acting: read back, then sent once more")
	assert.False(t, m.services["Maps/Roads.MapServer"])
}

func TestCreateFolderLostAnswerSettled(t *testing.T) {
	c, m, _ := reconcileSetup(t)
	m.faults["createFolder"] = []string{"lost"}
	require.NoError(t, c.Services.CreateFolder(t.Context(), "Roads", ""))
	assert.Equal(t, 1, m.count("createFolder"))

	m.faults["createFolder"] = []string{"502", "502"}
	err := c.Services.CreateFolder(t.Context(), "Rivers", "")
	require.Error(t, err)
	assert.Equal(t, 3, m.count("createFolder"), "sent once more after reading back, never a third time")
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "read back twice: the folder is not there")
	var re *ResponseError
	assert.ErrorAs(t, err, &re)
}

func TestStartStopRetriedAsIdempotent(t *testing.T) {
	ref := ServiceRef{Folder: "Maps", Name: "Roads", Type: MapServer}
	c, m, _ := reconcileSetup(t)
	m.faults["start"] = []string{"lost", "drop"}
	m.faults["stop"] = []string{"502", "lost"}
	require.NoError(t, c.Services.Start(t.Context(), ref))
	require.NoError(t, c.Services.Stop(t.Context(), ref))
	assert.Equal(t, 3, m.count("start"))
	assert.Equal(t, 3, m.count("stop"))
	m.faults["startServices"] = []string{"502"}
	require.NoError(t, c.Services.StartServices(t.Context(), []ServiceRef{ref}))
	assert.Equal(t, 2, m.count("startServices"))
}

// GP submits and updateTiles stay at most once; a lost answer says the
// outcome is unknown and where to look.
func TestAtMostOnceSubmitsSayOutcomeUnknown(t *testing.T) {
	c, mux, _ := setup(t)
	ft := (&fakeTask{t: t, task: hotspotTask, jobID: "j1",
		submit: func(w http.ResponseWriter, r *http.Request) {
			serveRaw(http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>")(w, r)
		}}).mount(mux)
	_, err := c.GP.SubmitJob(t.Context(), hotspotTask, nil)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "admin/services/Analysis/Hot Spots.GPServer/jobs")
	submits, _, _ := ft.count()
	assert.Equal(t, 1, submits)

	var tileUpdates atomic.Int32
	mux.HandleFunc(sitePrefix+"rest/admin/services/World/MapServer/updateTiles", func(w http.ResponseWriter, r *http.Request) {
		tileUpdates.Add(1)
		panic(http.ErrAbortHandler)
	})
	levels, _ := ParseLevels("3")
	_, err = c.Tiles.Update(t.Context(), ServiceRef{Name: "World", Type: MapServer}, UpdateTilesRequest{Levels: levels,
		Extent: &Extent{XMin: 0, YMin: 0, XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKID: 102100}}})
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "Tiles.Jobs")
	assert.Contains(t, err.Error(), "World")
	assert.Equal(t, int32(1), tileUpdates.Load())
}

// A write that never left (the token could not be had) is not settled by
// reading back: its failure is definite.
func TestUnsentWriteNotSettled(t *testing.T) {
	c, mux, _ := setupNoAuth(t, WithCredentials("admin", "pw"), WithTokenURL("tokens/generateToken"))
	var mu sync.Mutex
	var paths []string
	mux.HandleFunc("/arcgis/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		panic(http.ErrAbortHandler) // the token endpoint drops every connection
	})
	err := c.Services.Create(t.Context(), "", ServiceDefinition{ServiceName: "Roads", Type: MapServer})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	var re *RequestError
	assert.ErrorAs(t, err, &re)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		assert.Equal(t, "/arcgis/tokens/generateToken", p, "only token requests were sent")
	}
}
