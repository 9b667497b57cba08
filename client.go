package ags

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seed9bfd6bbc/ags/internal/form"
	"github.com/seed9bfd6bbc/ags/internal/transport"
)

// Version is the version of this SDK, sent in the User-Agent header.
const Version = "0.1.0"

// Defaults.
const (
	// DefaultReferer is the referer tokens are bound to (client=referer) and
	// the Referer header sent with every request, unless WithReferer says
	// otherwise.
	DefaultReferer = "https://github.com/seed9bfd6bbc/ags"
	// DefaultMaxResponseBytes caps how much of one response body is read.
	DefaultMaxResponseBytes = 32 << 20
	// DefaultTokenExpiration is the token lifetime asked of generateToken.
	DefaultTokenExpiration = 60 * time.Minute
	// maxGETURL is the URL length past which a GET is sent as a POST.
	maxGETURL = 2000
)

// Roots are where the three APIs of a site live. Each is a path relative to
// the site URL or an absolute URL.
type Roots struct {
	Services    string // default "rest/services"
	Admin       string // default "admin"
	HostedAdmin string // default "rest/admin" (hosted tile services' admin)
}

// Client talks to one ArcGIS Server site. It is safe for concurrent use;
// create one per site and share it.
type Client struct {
	slots chan struct{} // with DefaultTransport: bounds requests in flight

	site        *url.URL // ends in "/"
	roots       [3]*url.URL
	http        *transport.Client
	tokens      *tokenBox // behind a pointer: fmt prints an address, never the source
	referer     string
	userAgent   string
	logger      *slog.Logger
	maxBody     int64
	retry       RetryPolicy
	retryHook   func(RetryEvent)
	rnd         func() float64
	sleep       func(context.Context, time.Duration) error
	now         func() time.Time
	allowHTTP   bool
	credentials bool        // a token or credentials will be sent
	headers     http.Header // sent with every request (read only)
	auth        atomic.Pointer[authHeader]

	common service

	// GP runs geoprocessing jobs.
	GP *GPService
	// Services administers services (admin API) and refreshes them.
	Services *ServicesService
	// Tiles updates tile caches.
	Tiles *TilesService
	// Uploads uploads files (service definitions) to the admin API.
	Uploads *UploadsService
}

type service struct{ client *Client }

const (
	rootServices = iota
	rootAdmin
	rootHostedAdmin
)

// NewClient returns a client for the site at siteURL: a server's site root
// ("https://gis.example.com:6443/arcgis") or a web adaptor root
// ("https://gis.example.com/server"). For hosted tile services on ArcGIS
// Online the site URL is "https://tiles.arcgis.com/tiles/<orgId>/arcgis".
func NewClient(siteURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(siteURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &ValidationError{Field: "siteURL", Reason: "must be an absolute http(s) URL such as https://gis.example.com:6443/arcgis"}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &ValidationError{Field: "siteURL", Reason: "must not carry user info, a query or a fragment"}
	}
	if !strings.HasSuffix(u.Path, "/") {
		if u.RawPath != "" {
			u.RawPath += "/"
		}
		u.Path += "/"
	}
	cfg := config{
		referer:    DefaultReferer,
		expiration: DefaultTokenExpiration,
		maxBody:    DefaultMaxResponseBytes,
		userAgent:  "ags-go/" + Version,
		roots:      Roots{Services: "rest/services", Admin: "admin", HostedAdmin: "rest/admin"},
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	trimSiteSuffix(u, cfg.logger)
	if cfg.authOptions > 1 {
		return nil, &ValidationError{Field: "options", Reason: "use only one of WithCredentials, WithToken and WithTokenSource"}
	}
	c := &Client{
		site:      u,
		referer:   cfg.referer,
		userAgent: cfg.userAgent,
		logger:    cfg.logger,
		maxBody:   cfg.maxBody,
		retry:     cfg.retry.withDefaults(),
		retryHook: cfg.retryHook,
		rnd:       rand.Float64,
		sleep:     sleepCtx,
		now:       time.Now,
		allowHTTP: cfg.insecure,
	}
	if cfg.tokenURL != "" && cfg.creds == nil {
		return nil, &ValidationError{Field: "WithTokenURL", Reason: "needs WithCredentials"}
	}
	switch {
	case cfg.creds != nil:
		cfg.creds.client = c
		cfg.creds.referer = cfg.referer
		cfg.creds.expiration = cfg.expiration
		cfg.creds.tokenURL = cfg.tokenURL
		c.tokens = &tokenBox{cfg.creds}
	case cfg.tokens != nil:
		c.tokens = &tokenBox{cfg.tokens}
	}
	c.credentials = c.tokens != nil
	// Checked before any request: a token or password is never sent over
	// plain http unless the caller said so.
	plainHTTP := func(u *url.URL) bool { return c.credentials && u.Scheme == "http" && !cfg.insecure }
	if plainHTTP(u) {
		return nil, &ValidationError{Field: "siteURL",
			Reason: "refusing to send credentials over plain http; use https, or WithInsecureHTTP for a test server"}
	}
	for i, r := range []string{cfg.roots.Services, cfg.roots.Admin, cfg.roots.HostedAdmin} {
		ru, err := u.Parse(strings.TrimSuffix(r, "/") + "/")
		if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" ||
			ru.User != nil || ru.RawQuery != "" || ru.Fragment != "" {
			return nil, &ValidationError{Field: "roots", Reason: fmt.Sprintf("%q is not a path or an http(s) URL without query", r)}
		}
		if plainHTTP(ru) {
			return nil, &ValidationError{Field: "roots",
				Reason: fmt.Sprintf("refusing to send credentials over plain http to %s; use WithInsecureHTTP for a test server", cleanURL(ru))}
		}
		c.roots[i] = ru
	}
	c.headers = http.Header{
		"Accept":     {"application/json"},
		"User-Agent": {c.userAgent},
		"Referer":    {c.referer},
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{Transport: DefaultTransport()}
	}
	c.http = transport.New(c.guardRedirects(hc), transport.Policy{
		MaxRetries: c.retry.MaxRetries, MinDelay: c.retry.MinDelay, MaxDelay: c.retry.MaxDelay,
	}, c.transportHook(), c.logger)
	// Retries wait on the client's clock, as polls and backoff do (tests
	// replace it).
	c.http.SetSleep(func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) })
	if cfg.httpClient == nil {
		c.slots = make(chan struct{}, defaultMaxConnsPerHost)
	}
	c.common.client = c
	c.GP = (*GPService)(&c.common)
	c.Services = (*ServicesService)(&c.common)
	c.Tiles = (*TilesService)(&c.common)
	c.Uploads = (*UploadsService)(&c.common)
	return c, nil
}

// pastedSuffixes are the API roots people paste with a site URL
// ("https://gis.example.com/arcgis/rest/services" from a browser's address
// bar): the site root is what is left.
var pastedSuffixes = []string{"/rest/services/", "/admin/"}

// trimSiteSuffix trims a pasted API root off u (whose path ends in "/"),
// and says so in a debug log.
func trimSiteSuffix(u *url.URL, logger *slog.Logger) {
	for _, suf := range pastedSuffixes {
		p, ok := strings.CutSuffix(u.Path, suf)
		if !ok {
			continue
		}
		given := cleanURL(u)
		u.Path = p + "/"
		if raw, ok := strings.CutSuffix(u.RawPath, suf); ok {
			u.RawPath = raw + "/"
		} else {
			u.RawPath = ""
		}
		if logger != nil {
			logger.Debug("ags: site URL trimmed to the site root", "given", given, "site", cleanURL(u))
		}
		return
	}
}

// tokenBox holds the client's TokenSource. A caller's source may be a
// plain struct holding a token; fmt prints a nested pointer as an address,
// so even a dump of the Client's fields (which fmt makes when it cannot use
// Client.Format) never shows it.
type tokenBox struct{ ts TokenSource }

func (b *tokenBox) source() TokenSource {
	if b == nil {
		return nil
	}
	return b.ts
}

// SiteURL returns the site root the client was made for, with a trailing slash.
func (c *Client) SiteURL() string { return c.site.String() }

// String describes the client without any credential.
func (c *Client) String() string { return "ags.Client{" + c.site.String() + "}" }

// GoString is like String, so %#v never prints a credential either.
func (c *Client) GoString() string { return c.String() }

// Format makes every fmt verb print String.
func (c *Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// Get reads path (relative to the site URL, e.g.
// "admin/services/Maps/Roads.MapServer/iteminfo", or an absolute URL on the
// site) through the same pipeline as every other call: f=json, retries for
// an idempotent read, every error envelope decoded. With a token it is sent
// as a POST with the token in the form body (and the X-Esri-Authorization
// header), as every authenticated call is; without one, as a GET.
// params is nil, url.Values, map[string]any or a struct with `url` tags; out
// receives the decoded JSON (nil to discard). It reaches endpoints this
// package does not wrap yet.
func (c *Client) Get(ctx context.Context, path string, params, out any) error {
	u, rel, err := c.siteRelative(path)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: operation("GET " + rel), method: http.MethodGet, url: u, params: params, idempotent: true}, out)
}

// Post sends a form POST like Get. It is treated as not idempotent: it is
// not retried once the server may have acted.
func (c *Client) Post(ctx context.Context, path string, params, out any) error {
	u, rel, err := c.siteRelative(path)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: operation("POST " + rel), method: http.MethodPost, url: u, params: params}, out)
}

// siteRelative resolves path against the site URL and refuses anything
// that leaves the site (another host, "." or ".." segments). It also
// returns the path relative to the site, to name the operation.
func (c *Client) siteRelative(path string) (*url.URL, string, error) {
	p, err := url.Parse(strings.TrimPrefix(path, "/"))
	if err != nil || p.RawQuery != "" || p.ForceQuery || p.Fragment != "" || p.User != nil || p.Opaque != "" {
		return nil, "", &ValidationError{Field: "path", Reason: "must be a path without query (put parameters in params)"}
	}
	u := p
	if u.Scheme == "" && u.Host == "" { // relative: under the site
		raw := ""
		if c.site.RawPath != "" || u.RawPath != "" {
			raw = c.site.EscapedPath() + u.EscapedPath()
		}
		u.Scheme, u.Host, u.Path, u.RawPath = c.site.Scheme, c.site.Host, c.site.Path+u.Path, raw
	}
	if u.Host != c.site.Host || u.Scheme != c.site.Scheme || !strings.HasPrefix(u.Path, c.site.Path) {
		return nil, "", &ValidationError{Field: "path", Reason: "must stay on the site " + c.site.String()}
	}
	rel := u.Path[len(c.site.Path):]
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == ".." || seg == "." {
			return nil, "", &ValidationError{Field: "path", Reason: `must not contain "." or ".." segments`}
		}
	}
	return u, rel, nil
}

// endpoint builds a URL under one of the roots from raw path segments, each
// escaped on its own ("Refresh Service" becomes "Refresh%20Service"). A
// segment may hold several parts separated by "/". The URL never leaves
// its root: "." and ".." parts are escaped rather than resolved, and a
// colon never turns a part into a scheme.
func (c *Client) endpoint(root int, segments ...string) *url.URL {
	base := c.roots[root]
	var raw strings.Builder
	raw.WriteString(base.EscapedPath())
	first := true
	for _, s := range segments {
		for _, part := range strings.Split(strings.Trim(s, "/"), "/") {
			if part == "" {
				continue
			}
			if !first {
				raw.WriteByte('/')
			}
			first = false
			if part == "." || part == ".." {
				raw.WriteString(strings.ReplaceAll(part, ".", "%2E"))
			} else {
				raw.WriteString(url.PathEscape(part))
			}
		}
	}
	u := *base
	u.RawPath = raw.String()
	u.Path, _ = url.PathUnescape(u.RawPath) // escaped above, so it unescapes
	return &u
}

// call is one request through the pipeline.
type call struct {
	op         operation // the REST operation (see ops.go)
	scope      string    // what it acts on, for errors and logs (see call.label)
	method     string    // GET or POST
	url        *url.URL  // without query
	params     any       // form parameters (see form.Encode)
	idempotent bool      // safe to repeat after the server may have acted
	noAuth     bool      // send no token (rest/info, generateToken)
	secret     bool      // the answer may hold a credential: no snippet in errors

	file *filePart // a multipart POST streaming this file after the form fields
}

// do is the one request pipeline: encode, attach the token, send with
// retries, read a bounded body, decode every error envelope, renew a
// rejected token once, and back off while the admin store is busy.
func (c *Client) do(ctx context.Context, r call, out any) error {
	vals, query := onlyFormatJSON, onlyFormatJSONQuery
	var redact []string
	var err error
	if r.params != nil {
		if vals, err = form.Encode(r.params); err != nil {
			return &ValidationError{Field: "params", Reason: err.Error()}
		}
		for k, vs := range vals {
			if isSecretParam(k) {
				for _, v := range vs {
					if v != "" {
						redact = append(redact, v)
					}
				}
			}
		}
		query = vals.Encode()
	}
	if r.method == http.MethodGet && (len(redact) > 0 || len(r.url.Path)+len(query) > maxGETURL ||
		(!r.noAuth && c.tokens != nil)) {
		// A credential never goes into a URL, nor does a query too long
		// for one; either way the call stays idempotent. An authenticated
		// read is a POST with the token in the form body: the
		// X-Esri-Authorization header (sent too) is documented for services
		// but not for admin reads nor older releases, and Esri's own Refresh
		// Service example polls with POST content f=json&token=...
		// (REST-REFERENCE §7.3).
		r.method = http.MethodPost
	}
	// One retry budget for the whole call: transport retries (a 502, a
	// dropped connection) and store-busy retries draw on the same
	// MaxRetries, so a call makes at most MaxRetries+1 attempts, plus the
	// one replay after a rejected token is renewed.
	renewed, busy, attempts, maxAttempts := false, 0, 0, c.retry.MaxRetries+1
	for {
		var tok Token
		if !r.noAuth && c.tokens != nil {
			if tok, err = c.tokens.ts.Token(ctx); err != nil {
				return &unsentError{fmt.Errorf("%s: get token: %w", r.label(), err)}
			}
		}
		a, n, err := c.send(ctx, r, vals, query, tok, redact, maxAttempts-attempts-1)
		attempts += n
		if err != nil {
			return err
		}
		err = decode(a, out)
		switch {
		case err == nil:
			return nil
		case isAuthError(err) && !renewed && !tok.IsZero():
			// The server refused the token before doing anything, so
			// replaying once is safe even for a POST.
			inv, ok := c.tokens.ts.(interface{ Invalidate(Token) })
			if !ok {
				return err
			}
			inv.Invalidate(tok)
			renewed = true
			if attempts >= maxAttempts {
				maxAttempts = attempts + 1
			}
		case errors.Is(err, ErrServerBusy) && attempts < maxAttempts:
			// "Another administrative operation is currently accessing the
			// store": refused before any work, so it is retried for every call.
			wait := transport.Backoff(c.retry.MinDelay, c.retry.MaxDelay, busy, nil, c.rnd)
			busy++
			c.onRetry(RetryEvent{Op: r.label(), Attempt: attempts, Method: r.method, Host: r.url.Host,
				Path: r.url.Path, Status: a.status, Err: err, Wait: wait})
			if serr := c.sleep(ctx, wait); serr != nil {
				return &RequestError{Op: r.label(), URL: cleanURL(r.url), Err: serr}
			}
		default:
			return err
		}
	}
}

// send makes one logical HTTP request (retried inside the transport, at
// most retries times) and reads its answer. query is vals encoded. It also
// returns the number of attempts made.
func (c *Client) send(ctx context.Context, r call, vals url.Values, query string, tok Token, redact []string, retries int) (answer, int, error) {
	secretTok := tok.Value()
	var body []byte
	var stream func() (io.Reader, error)
	var contentType []string
	if r.file != nil {
		open, ct, err := r.file.body(vals, secretTok)
		if err != nil {
			return answer{}, 0, &RequestError{Op: r.label(), URL: cleanURL(r.url), Err: err}
		}
		stream, contentType = open, []string{ct}
	} else if r.method != http.MethodGet {
		contentType = formContentType
		switch {
		case secretTok == "":
			body = []byte(query)
		case vals.Has("token"):
			withTok := make(url.Values, len(vals))
			for k, v := range vals {
				withTok[k] = v
			}
			withTok.Set("token", secretTok)
			body = []byte(withTok.Encode())
		default:
			// Admin API POSTs must carry the token in the body.
			body = make([]byte, 0, len(query)+len("&token=")+len(secretTok)+16)
			body = append(body, query...)
			if len(body) > 0 {
				body = append(body, '&')
			}
			body = append(body, "token="...)
			body = append(body, url.QueryEscape(secretTok)...)
		}
	}
	// The URL is built already: copy it in instead of having net/http
	// parse its text again.
	req, err := http.NewRequestWithContext(transport.WithIdempotent(ctx, r.idempotent), r.method, "", nil)
	if err != nil {
		return answer{}, 0, &RequestError{Op: r.label(), URL: cleanURL(r.url), Err: err}
	}
	*req.URL = *r.url
	if r.method == http.MethodGet {
		req.URL.RawQuery = query
	}
	req.Host = req.URL.Host
	h := req.Header
	for k, v := range c.headers {
		h[k] = v
	}
	if contentType != nil {
		h["Content-Type"] = contentType
	}
	if secretTok != "" {
		h["X-Esri-Authorization"] = c.bearer(secretTok)
	}
	if c.slots != nil {
		// With DefaultTransport, wait for one of its connections here, at a
		// shallow point, rather than deep in net/http's pool: many waiting
		// goroutines then cost less memory each.
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return answer{}, 0, &RequestError{Op: r.label(), URL: cleanURL(r.url), Err: ctx.Err()}
		}
		defer func() { <-c.slots }()
	}
	var resp *http.Response
	var n int
	if stream != nil {
		resp, n, err = c.http.DoStreamN(req, stream, retries)
	} else {
		resp, n, err = c.http.DoN(req, body, retries)
	}
	if err != nil {
		return answer{}, n, &RequestError{Op: r.label(), URL: cleanURL(r.url), Err: transport.StripURL(err)}
	}
	defer resp.Body.Close()
	a := answer{op: r.label(), operation: r.op, url: r.url, status: resp.StatusCode,
		contentType: resp.Header.Get("Content-Type"), secret: r.secret, redact: redact, token: secretTok}
	if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
		// The same reading of Retry-After as the transport's retries.
		if d, ok := transport.RetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			a.retryAfter = d
		}
	}
	if cs, ok := c.tokens.source().(*credentialSource); ok {
		// Masked in any error text, in case a server echoes it. Taken from
		// the source each time: the Client itself never holds it, so not
		// even a fmt of its fields could show it.
		a.password = cs.password.get()
	}
	a.body, err = readBody(resp, c.maxBody)
	if err != nil {
		return answer{}, n, &RequestError{Op: r.label(), URL: a.where(), Err: fmt.Errorf("reading response: %w", transport.StripURL(err))}
	}
	if int64(len(a.body)) > c.maxBody {
		a.body = a.body[:c.maxBody]
		return answer{}, n, a.responseError(fmt.Sprintf("body larger than the %d-byte limit", c.maxBody), nil)
	}
	// Drain a little of what is left (nothing, normally) so the connection
	// can be reused; a huge remainder is cheaper to drop with the connection.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	return a, n, nil
}

var formContentType = []string{"application/x-www-form-urlencoded"}

// The parameters of a call that has none but f=json. Only ever read.
var (
	onlyFormatJSON      = url.Values{"f": {"json"}}
	onlyFormatJSONQuery = onlyFormatJSON.Encode()
)

// authHeader is the X-Esri-Authorization value of one token, kept so that
// every request with the same token shares it (header values are only
// read).
type authHeader struct {
	token string
	value []string
}

func (c *Client) bearer(token string) []string {
	if h := c.auth.Load(); h != nil && h.token == token {
		return h.value
	}
	h := &authHeader{token: token, value: []string{"Bearer " + token}}
	c.auth.Store(h)
	return h.value
}

// readBody reads at most max+1 bytes of resp's body, so a caller can tell
// a body over the limit. Memory grows with the bytes that actually arrive:
// a declared Content-Length is trusted for one exact buffer only when it is
// small, never to size a buffer before the data is there (a server that
// declares 32 MiB and stalls would otherwise pin 32 MiB per call).
func readBody(resp *http.Response, max int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= max && n <= exactBodyBuffer {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, max+1))
}

// exactBodyBuffer is the largest declared body read into a buffer of its
// declared size up front.
const exactBodyBuffer = 64 << 10

// cleanURL renders u without query, fragment or user info.
func cleanURL(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}
