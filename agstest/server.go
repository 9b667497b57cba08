package agstest

import (
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Default credentials of the single user a Server knows unless WithUser is given.
const (
	DefaultUsername = "admin"
	DefaultPassword = "admin-secret"
)

// Defaults of the time-based behaviour.
const (
	// DefaultTokenLifetime is the lifetime of a token when the request asks for
	// none (the shortTimeout of a real site,
	// https://enterprise.arcgis.com/en/server/latest/administer/windows/enable-token-acquisition-through-an-http-get-request.htm).
	DefaultTokenLifetime = 60 * time.Minute
	// MaxTokenLifetime caps a requested expiration (a real site's longTimeout).
	MaxTokenLifetime = 1440 * time.Minute
	// DefaultJobDuration is how long a GP or tile job takes.
	DefaultJobDuration = 300 * time.Millisecond
)

// Version numbers reported by rest/info.
const (
	currentVersion = 11.3
	fullVersion    = "11.3.0"
)

// startFraction is the share of a job's duration it spends submitted before
// it starts executing.
const startFraction = 0.1

// Option configures a Server.
type Option func(*config)

type config struct {
	users            []userCred
	noAuth           bool
	tokenLifetime    time.Duration
	tokenLifetimeSet bool
	jobDuration      time.Duration
	jobDurations     func() time.Duration
	now              func() time.Time
	seed             uint64
	seedSet          bool
	faults           Faults
	bodyTokensOnly   bool
	canCreate        CanCreateShape
}

type userCred struct{ username, password string }

// WithUser adds a user who may generate tokens. It may be given several
// times. Once given, the default user (DefaultUsername/DefaultPassword) is
// no longer known.
func WithUser(username, password string) Option {
	return func(c *config) { c.users = append(c.users, userCred{username, password}) }
}

// WithoutAuth turns token security off: no endpoint requires a token and
// rest/info reports isTokenBasedSecurity false.
func WithoutAuth() Option {
	return func(c *config) { c.noAuth = true }
}

// WithTokenLifetime sets the lifetime of every token issued, whatever
// `expiration` the request asks for. Without it a token lives for the
// requested expiration (minutes, capped at 1440) or 60 minutes.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.tokenLifetime, c.tokenLifetimeSet = d, true }
}

// WithJobDuration sets how long GP jobs and tile jobs take (default 300 ms).
// A job is submitted for the first 10% of the duration, then executing, with
// its progress rising linearly with elapsed time, and finishes at the duration.
func WithJobDuration(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			d = 0
		}
		c.jobDuration = d
	}
}

// WithJobDurations makes each new GP or tile job take next() instead of
// the fixed WithJobDuration (a negative answer counts as zero). next is
// called once per submitted job, in the order the submits arrive, with no
// lock held; it must be safe for concurrent use. A seeded next gives every
// run the same set of job lengths, as a benchmark needs.
func WithJobDurations(next func() time.Duration) Option {
	return func(c *config) { c.jobDurations = next }
}

// WithClock makes all time-based behaviour (job progress, token expiry,
// timestamps) read now instead of time.Now. The function must be safe for
// concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithSeed makes job IDs, tokens and fault choices deterministic: two servers
// with the same seed that receive the same requests in the same order give
// the same answers.
func WithSeed(seed int64) Option {
	return func(c *config) { c.seed, c.seedSet = uint64(seed), true }
}

// WithBodyTokensOnly makes the server read a token only from the form body
// or the query, never from the X-Esri-Authorization or Authorization
// header, as a release or an admin endpoint that does not honour the header
// would (REST-REFERENCE §7.3): a request whose token is only in a header
// gets the 499 "token required" answer.
func WithBodyTokensOnly() Option {
	return func(c *config) { c.bodyTokensOnly = true }
}

// CanCreateShape is the shape of the canCreateService answer (see
// WithCanCreateAnswer).
type CanCreateShape int

const (
	// CanCreateFlag answers {"createService": true|false} (the default).
	CanCreateFlag CanCreateShape = iota
	// CanCreateStatus answers the admin API's standard {"status":
	// "success"} when the service can be created, which is what the ArcGIS
	// API for Python reads, and an admin error envelope when it cannot.
	CanCreateStatus
)

// WithCanCreateAnswer chooses the shape of the canCreateService answer.
// The page's response section is not published, and clients have been
// written against both shapes (REST-REFERENCE §7.2).
func WithCanCreateAnswer(shape CanCreateShape) Option {
	return func(c *config) { c.canCreate = shape }
}

// WithFaults starts the server with faults injected (see Faults and SetFaults).
func WithFaults(f Faults) Option {
	return func(c *config) { c.faults = f }
}

// Faults describes failures the server injects.
type Faults struct {
	// HTML502Rate is the share (0..1) of answers replaced by an HTML 502
	// "Bad Gateway" page (Content-Type text/html), as a load balancer in front
	// of the site would send. The choice uses the seeded random source. The
	// request is not processed.
	HTML502Rate float64
	// Latency is added before every answer. A request whose client gives up
	// during the wait is abandoned unanswered.
	Latency time.Duration
	// StoreBusy makes the next N admin POST operations (createService, edit,
	// delete, start, stop, createFolder) answer the "Another administrative
	// operation is currently accessing the store" error without acting.
	StoreBusy int
	// StoreBusyRate is the share (0..1) of admin POST operations, past any
	// StoreBusy count, answered "store busy" without acting (seeded).
	StoreBusyRate float64
	// LostAnswerRate is the share (0..1) of requests the server carries out
	// whose answer is then replaced by the HTML 502 page, as when a gateway
	// times out on a slow backend (Request.Fault "lost502"): the client
	// cannot tell whether the operation happened. The choice is seeded.
	LostAnswerRate float64
	// Down makes the server close every connection without an answer and
	// without acting, as a restarting site behind a load balancer does
	// (Request.Fault "down"). Turn it off again with SetFaults.
	Down bool
}

// storeBusyMessage is the admin error a busy configuration store gives
// (captured in https://github.com/Esri/ops-server-config/issues/786).
const storeBusyMessage = "Another administrative operation is currently accessing the store. Please try again later."

// Request is one entry of the request log. Secrets are masked.
type Request struct {
	Method string
	// Path is the URL path, unescaped, e.g.
	// "/arcgis/rest/services/System/PublishingTools/GPServer/Refresh Service/submitJob".
	Path string
	// Query is the URL query as received, with any token or password value
	// replaced by "***".
	Query url.Values
	// Form is the POST form as received, with token and password values
	// replaced by "***".
	Form url.Values
	// Header holds the request headers; X-Esri-Authorization and
	// Authorization values read "Bearer ***".
	Header http.Header
	// Status is the HTTP status answered (0 if the client gave up first).
	Status int
	// Fault is "" or the injected fault: "html502", "lost502", "down" or
	// "storebusy".
	Fault string
	// TokenInQuery is true if a token query parameter was present. A client
	// should never send one.
	TokenInQuery bool
}

// Server is an in-memory ArcGIS Server: the token services, the Server
// Administrator API for services, geoprocessing jobs and hosted tile jobs,
// served over HTTP by an httptest.Server. It is safe for concurrent use.
type Server struct {
	ts      *httptest.Server
	cfg     config
	baseURL string

	closing   chan struct{} // closed by Close: ends any latency wait
	closeOnce sync.Once

	mu       sync.Mutex
	rnd      *rand.Rand
	faults   Faults
	busyLeft int
	log      []*Request

	users  map[string]string
	tokens map[string]*token

	folders  map[string]*folder
	services map[svcKey]*service

	tasks    map[string]*taskDef
	gpJobs   map[string]*gpJob
	failJobs func(task string, params url.Values) string

	tileJobs     map[string]*tileJob
	tileJobOrder []string

	failTileLevels map[int]bool // FailTiles

	up uploadState
}

// NewServer starts a Server on a loopback address over plain HTTP. The
// caller must Close it.
func NewServer(opts ...Option) *Server {
	s := newServer(opts)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.ts.Config.ErrorLog = quietLog
	s.ts.Start()
	s.baseURL = s.ts.URL + "/arcgis"
	return s
}

// quietLog drops the http.Server's own messages (such as a TLS handshake
// cut short by Close), which would only clutter a test's output.
var quietLog = log.New(io.Discard, "", 0)

// NewTLSServer starts a Server over HTTPS with a self-signed certificate;
// Client returns an *http.Client that trusts it. The caller must Close it.
func NewTLSServer(opts ...Option) *Server {
	s := newServer(opts)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.ts.Config.ErrorLog = quietLog
	s.ts.StartTLS()
	s.baseURL = s.ts.URL + "/arcgis"
	return s
}

func newServer(opts []Option) *Server {
	cfg := config{jobDuration: DefaultJobDuration, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if !cfg.seedSet {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	if len(cfg.users) == 0 {
		cfg.users = []userCred{{DefaultUsername, DefaultPassword}}
	}
	s := &Server{
		cfg:      cfg,
		closing:  make(chan struct{}),
		rnd:      rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		faults:   cfg.faults,
		busyLeft: cfg.faults.StoreBusy,
		users:    map[string]string{},
		tokens:   map[string]*token{},
		folders:  map[string]*folder{},
		services: map[svcKey]*service{},
		tasks:    map[string]*taskDef{},
		gpJobs:   map[string]*gpJob{},
		tileJobs: map[string]*tileJob{},
	}
	for _, u := range cfg.users {
		s.users[u.username] = u.password
	}
	s.seedState()
	return s
}

// URL returns the site root, e.g. "http://127.0.0.1:PORT/arcgis" (no
// trailing slash). Services are under URL()+"/rest/services", the admin API
// under URL()+"/admin", hosted-service admin under URL()+"/rest/admin".
func (s *Server) URL() string { return s.baseURL }

// Client returns an *http.Client that trusts the TLS server's certificate
// (a plain client for NewServer). Its idle connections are closed by Close.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down and blocks until all outstanding requests
// have completed. Requests waiting out an injected latency are abandoned.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.ts.Close()
}

// SetFaults changes the injected faults at run time. StoreBusy restarts the
// count of busy answers.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.busyLeft = f.StoreBusy
}

// Requests returns a copy of the request log, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, e := range s.log {
		out[i] = *e
		out[i].Query = cloneValues(e.Query)
		out[i].Form = cloneValues(e.Form)
		out[i].Header = cloneHeader(e.Header)
	}
	return out
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Count returns the number of logged requests whose Path ends with pathSuffix.
func (s *Server) Count(pathSuffix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.log {
		if strings.HasSuffix(e.Path, pathSuffix) {
			n++
		}
	}
	return n
}

// FailJobs makes GP jobs and tile jobs fail: when a job completes, match is
// called with its task path (e.g. "System/PublishingTools/GPServer/Refresh
// Service", or "updateTiles" / "deleteTiles" for tile jobs) and its
// parameters; a non-empty answer ends the job esriJobFailed (tile jobs:
// PARTIALERROR) with that message. nil turns it off.
func (s *Server) FailJobs(match func(task string, params url.Values) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failJobs = match
}

func (s *Server) now() time.Time { return s.cfg.now() }

// newJobDuration is how long a job submitted now takes.
func (s *Server) newJobDuration() time.Duration {
	if s.cfg.jobDurations == nil {
		return s.cfg.jobDuration
	}
	return max(s.cfg.jobDurations(), 0)
}

// JobEnd reports when the GP or tile job id ends, or ended, by the
// server's clock: the moment its status turns final unless it is cancelled
// first. ok is false for an unknown job.
func (s *Server) JobEnd(id string) (end time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.gpJobs[id]; j != nil {
		return j.end, true
	}
	if j := s.tileJobs[id]; j != nil {
		return j.end, true
	}
	return time.Time{}, false
}

// randHexLocked returns n random hex digits from the seeded source. Callers hold s.mu.
func (s *Server) randHexLocked(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[s.rnd.IntN(16)]
	}
	return string(b)
}

// uuidLocked returns a random UUID-formatted string. Callers hold s.mu.
func (s *Server) uuidLocked() string {
	h := s.randHexLocked(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serveHTTP logs the request, applies the injected faults and routes it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var formErr error
	if isMultipart(r) {
		formErr = parseMultipart(r) // streamed: files are counted, not kept
	} else {
		formErr = r.ParseForm()
	}
	entry := &Request{
		Method:       r.Method,
		Path:         r.URL.Path,
		Query:        maskValues(r.URL.Query()),
		Form:         maskValues(r.PostForm),
		Header:       maskHeader(r.Header),
		TokenInQuery: r.URL.Query().Has("token"),
	}
	s.mu.Lock()
	s.log = append(s.log, entry)
	faults := s.faults
	s.mu.Unlock()

	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		entry.Status = rec.status
		s.mu.Unlock()
	}()

	if faults.Latency > 0 {
		t := time.NewTimer(faults.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			// Drop the connection without an answer, as a dying gateway does.
			panic(http.ErrAbortHandler)
		case <-t.C:
		}
	}
	if faults.Down {
		s.mu.Lock()
		entry.Fault = "down"
		s.mu.Unlock()
		// Close the connection without a byte of answer.
		panic(http.ErrAbortHandler)
	}
	if faults.HTML502Rate > 0 {
		s.mu.Lock()
		hit := s.rnd.Float64() < faults.HTML502Rate
		if hit {
			entry.Fault = "html502"
		}
		s.mu.Unlock()
		if hit {
			writeBadGateway(rec)
			return
		}
	}
	if formErr != nil {
		restError(rec, r, 400, "Unable to complete operation.", "Unable to parse the request body.")
		return
	}
	if faults.LostAnswerRate > 0 {
		s.mu.Lock()
		lost := s.rnd.Float64() < faults.LostAnswerRate
		s.mu.Unlock()
		if lost {
			// Carry the request out, then lose its answer.
			s.route(httptest.NewRecorder(), r, entry)
			s.mu.Lock()
			entry.Fault = "lost502"
			s.mu.Unlock()
			writeBadGateway(rec)
			return
		}
	}
	s.route(rec, r, entry)
}

func writeBadGateway(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = fmt.Fprint(w, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"+
		"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

// envelope tells which error shape a path answers in.
type envelope int

const (
	envREST envelope = iota
	envAdmin
)

func (s *Server) route(w http.ResponseWriter, r *http.Request, entry *Request) {
	p, ok := strings.CutPrefix(r.URL.Path, "/arcgis/")
	if !ok {
		restError(w, r, 404, "Not Found", fmt.Sprintf("Could not find the resource '%s'.", r.URL.Path))
		return
	}
	segs := splitPath(p)
	if len(segs) == 0 {
		restError(w, r, 404, "Not Found")
		return
	}
	switch {
	case len(segs) == 2 && segs[0] == "rest" && segs[1] == "info":
		s.handleInfo(w, r)
		return
	case segs[0] == "tokens" && (len(segs) == 1 || (len(segs) == 2 && segs[1] == "generateToken")):
		s.handleGenerateToken(w, r, envREST)
		return
	case len(segs) == 2 && segs[0] == "admin" && segs[1] == "generateToken":
		s.handleGenerateToken(w, r, envAdmin)
		return
	}

	env := envREST
	if segs[0] == "admin" {
		env = envAdmin
	}
	if !s.authorize(w, r, env) {
		return
	}

	switch {
	case segs[0] == "admin":
		s.handleAdmin(w, r, segs[1:], entry)
	case segs[0] == "rest" && len(segs) >= 2 && segs[1] == "services":
		s.handleRESTServices(w, r, segs[2:])
	case segs[0] == "rest" && len(segs) >= 3 && segs[1] == "admin" && segs[2] == "services":
		s.handleRESTAdminServices(w, r, segs[3:])
	default:
		restError(w, r, 404, "Not Found", fmt.Sprintf("Could not find the resource '%s'.", r.URL.Path))
	}
}

// handleInfo answers rest/info
// (https://developers.arcgis.com/rest/services-reference/enterprise/server-info).
func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	auth := obj{"isTokenBasedSecurity": !s.cfg.noAuth}
	if !s.cfg.noAuth {
		auth["tokenServicesUrl"] = s.baseURL + "/tokens/generateToken"
		validity := DefaultTokenLifetime
		if s.cfg.tokenLifetimeSet {
			validity = s.cfg.tokenLifetime
		}
		auth["shortLivedTokenValidity"] = int(validity / time.Minute)
	}
	writeJSON(w, r, obj{
		"currentVersion": currentVersion,
		"fullVersion":    fullVersion,
		"authInfo":       auth,
	})
}
