package ags

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer from ArcGIS Server, in any of its envelopes and on
// any HTTP status (most arrive with HTTP 200):
//
//	{"error":{"code":498,"message":"Invalid token.","details":[]}}     REST and portal
//	{"error":"invalid_request","error_description":"..."}              string form
//	{"status":"error","messages":["..."],"code":500}                   admin API
//	{"code":400,"message":"...","status":"failure"}                     bare code
//
// Test for a kind of failure with errors.Is and the sentinels below
// (errors.Is(err, ags.ErrInvalidToken)); read the server's words with
// errors.As into an *Error.
type Error struct {
	HTTPStatus  int      // HTTP status of the response (often 200)
	Code        int      // the code in the body (498, 499, 403, 404, 500, ...)
	MessageCode string   // e.g. "GWM_0003", when the server sends one
	Message     string   // the server's message (may be empty; see Details)
	Details     []string // details, or the admin API's messages
	Op          string   // the operation, e.g. "createService"
	URL         string   // scheme, host and path of the request; never a query
	// RetryAfter is the wait the server asked for with a 429 or 503
	// answer (its Retry-After header), zero when it named none.
	RetryAfter time.Duration

	op    operation         // the REST operation the answer came from (Op is its label)
	match func(*Error) bool // for sentinels: what Is accepts
	kinds errKind           // what the server's own words said, read before masking
}

// errKind is a kind of answer recognised by the server's wording.
type errKind uint8

const (
	kindBusy errKind = 1 << iota
	kindExists
	kindBadCredentials
	kindServiceNotFound // the services directory's "Service … not found "
)

// kindPhrases are the words that make each kind, matched in lower case.
var kindPhrases = []struct {
	kind    errKind
	phrases []string
}{
	// https://github.com/Esri/ops-server-config/issues/786 (REST-REFERENCE §2.2)
	{kindBusy, []string{"another administrative operation"}},
	// [I] the wording was not found in any capture (REST-REFERENCE §7.1).
	{kindExists, []string{"already exists"}},
	// fixture token-error-400-invalid-credentials-mock.json (REST-REFERENCE
	// §7.1); "invalid credentials" is [I], the admin wording being unknown.
	{kindBadCredentials, []string{"invalid username or password", "invalid credentials"}},
}

// classify records the kinds e's words show. decode calls it on the
// server's own text, before any secret is masked, so a password that is a
// common word cannot hide what the server said.
func (e *Error) classify() {
	t := e.text()
	for _, k := range kindPhrases {
		for _, p := range k.phrases {
			if strings.Contains(t, p) {
				e.kinds |= k.kind
			}
		}
	}
	if isServiceNotFound(e.Message) {
		e.kinds |= kindServiceNotFound
	}
}

// is reports whether e is of kind k: as classified when decoded, or by its
// words now (an *Error built elsewhere).
func (e *Error) is(k errKind) bool {
	if e.kinds&k != 0 {
		return true
	}
	c := Error{Message: e.Message, Details: e.Details}
	c.classify()
	return c.kinds&k != 0
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	msg := strings.TrimSpace(e.Message)
	details := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		if d = strings.TrimSpace(d); d != "" && d != msg {
			details = append(details, d)
		}
	}
	if msg == "" && len(details) > 0 {
		msg, details = details[0], details[1:]
	}
	if msg == "" {
		msg = "server reported an error"
	}
	b.WriteString(msg)
	if len(details) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(details, "; "))
		b.WriteString(")")
	}
	if e.Code != 0 {
		b.WriteString(" [code ")
		b.WriteString(strconv.Itoa(e.Code))
		if e.MessageCode != "" {
			b.WriteString(" ")
			b.WriteString(e.MessageCode)
		}
		b.WriteString("]")
	}
	if e.URL != "" {
		b.WriteString(" at ")
		b.WriteString(e.URL)
	}
	return b.String()
}

// Is reports whether e is of the kind the sentinel target stands for.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.match == nil {
		return false
	}
	return t.match(e)
}

// redact masks each of secrets (the token in use, a password sent) in the
// server's words, in case the server echoed one back (see maskSecrets).
func (e *Error) redact(secrets []string) {
	e.Message = maskSecrets(e.Message, secrets)
	e.MessageCode = maskSecrets(e.MessageCode, secrets)
	for i, d := range e.Details {
		e.Details[i] = maskSecrets(d, secrets)
	}
}

// code returns the body code, or the HTTP status when the body had none.
func (e *Error) code() int {
	if e.Code != 0 {
		return e.Code
	}
	return e.HTTPStatus
}

// text returns the message and details in lower case, for matching.
func (e *Error) text() string {
	return strings.ToLower(e.Message + "\n" + strings.Join(e.Details, "\n"))
}

func codeSentinel(code int, msg string) *Error {
	return &Error{Code: code, Message: msg, match: func(e *Error) bool { return e.code() == code }}
}

func kindSentinel(msg string, k errKind) *Error {
	return &Error{Message: msg, match: func(e *Error) bool { return e.is(k) }}
}

// Sentinels for errors.Is. Each is an *Error that matches answers of its kind.
var (
	// ErrInvalidToken: the token is invalid or expired (code 498). The client
	// has already refreshed the token and replayed the request once.
	ErrInvalidToken = codeSentinel(498, "invalid token")
	// ErrTokenRequired: no token was sent, or the server wants one (code 499,
	// or messageCode GWM_0003).
	ErrTokenRequired = &Error{Code: 499, Message: "token required", match: func(e *Error) bool {
		return e.code() == 499 || strings.EqualFold(e.MessageCode, "GWM_0003")
	}}
	// ErrUnauthorized: HTTP or body code 401, usually web-tier authentication.
	ErrUnauthorized = codeSentinel(401, "unauthorized")
	// ErrForbidden: the user lacks the privilege for the operation (403).
	ErrForbidden = codeSentinel(403, "forbidden")
	// ErrNotFound: the resource does not exist. It matches code 404 (the
	// admin API's "Could not find resource or operation '…' on the system."
	// comes with it), and the services directory's answer for a missing
	// service, which real servers send with code 500: {"error":{"code":500,
	// "message":"Service FGP/Name/MapServer not found ","details":[]}}
	// (REST-REFERENCE §7.1, a captured answer, trailing space included).
	// Other code-500 answers, "Service … not started " among them, do not
	// match.
	ErrNotFound = &Error{Code: 404, Message: "not found", match: func(e *Error) bool {
		return e.code() == 404 || (e.code() == 500 && e.is(kindServiceNotFound))
	}}
	// ErrServiceExists: createService named a service that already exists.
	// It matches only answers of createService (never canCreateService,
	// edit or any other operation) whose words contain "already exists".
	// That wording is unconfirmed: no public capture of the real refusal
	// was found (REST-REFERENCE §7.1), so a server that words it otherwise
	// gives a plain *Error.
	ErrServiceExists = &Error{Message: "service already exists", match: func(e *Error) bool {
		return e.op == opCreateService && e.is(kindExists)
	}}
	// ErrFolderExists: createFolder named a folder that already exists. It
	// matches only answers of createFolder, on the same unconfirmed
	// "already exists" wording as ErrServiceExists.
	ErrFolderExists = &Error{Message: "folder already exists", match: func(e *Error) bool {
		return e.op == opCreateFolder && e.is(kindExists)
	}}
	// ErrServerBusy: the admin API answered "Another administrative operation
	// is currently accessing the store" (or "...being configured by another
	// administrative operation"). The client retries these with backoff
	// before returning one.
	ErrServerBusy = kindSentinel("server busy with another administrative operation", kindBusy)
	// ErrBadCredentials: a token endpoint (the server's, the admin API's
	// or a portal's generateToken) refused the username or password:
	// {"error":{"code":400,"message":"Unable to generate token.","details":["Invalid username or password."]}}.
	// Check the credentials; retrying will not help.
	ErrBadCredentials = kindSentinel("invalid username or password", kindBadCredentials)
)

// isServiceNotFound reports whether msg is the services directory's "not
// found" wording, "Service <path> not found " (REST-REFERENCE §7.1).
func isServiceNotFound(msg string) bool {
	m := strings.ToLower(strings.TrimSpace(msg))
	return strings.HasPrefix(m, "service ") && strings.HasSuffix(strings.TrimSuffix(m, "."), " not found")
}

// isAuthError reports whether an answer means the token must be renewed.
func isAuthError(err error) bool {
	return errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrTokenRequired)
}

// ResponseError is an answer the client could not understand: a non-JSON
// body (an HTML page from a proxy or web adaptor), an empty or truncated
// body, a body over the size limit, or JSON of the wrong shape. Snippet is a
// short, secret-free excerpt of the body.
type ResponseError struct {
	Op          string
	URL         string // scheme, host and path; never a query
	HTTPStatus  int
	ContentType string
	Snippet     string
	Reason      string // what was wrong, e.g. "not JSON", "empty body"
	Err         error  // the underlying decode error, if any
	// RetryAfter is the wait the server asked for with a 429 or 503
	// answer (its Retry-After header), zero when it named none.
	RetryAfter time.Duration
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString("unexpected response: ")
	b.WriteString(e.Reason)
	fmt.Fprintf(&b, " (HTTP %d", e.HTTPStatus)
	if e.ContentType != "" {
		b.WriteString(", ")
		b.WriteString(e.ContentType)
	}
	b.WriteString(")")
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Snippet != "" {
		fmt.Fprintf(&b, ": %q", e.Snippet)
	}
	if e.URL != "" {
		b.WriteString(" at ")
		b.WriteString(e.URL)
	}
	return b.String()
}

func (e *ResponseError) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrNotFound) and friends match on the HTTP status
// of a non-JSON answer (an HTML 404 or 403 page).
func (e *ResponseError) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.match == nil || e.HTTPStatus < 400 {
		return false
	}
	return t.match(&Error{HTTPStatus: e.HTTPStatus})
}

// ValidationError reports bad input, found before any request was sent.
type ValidationError struct {
	Field  string // the parameter or field, e.g. "ServiceName" or "levels[2]"
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid input: " + e.Reason
	}
	return "invalid " + e.Field + ": " + e.Reason
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// RequestError is a request that got no usable answer: the connection
// failed, the context ended, or a redirect was refused. It wraps the cause,
// so errors.Is(err, context.DeadlineExceeded) works.
type RequestError struct {
	Op  string
	URL string // scheme, host and path; never a query
	Err error
}

func (e *RequestError) Error() string {
	return e.Op + ": " + e.URL + ": " + e.Err.Error()
}

func (e *RequestError) Unwrap() error { return e.Err }

// Sentinels a *JobError matches with errors.Is.
var (
	ErrJobFailed    = errors.New("job failed")
	ErrJobCancelled = errors.New("job cancelled")
	ErrJobTimedOut  = errors.New("job timed out")
)

// JobError is a job that ended without succeeding. Messages are the
// server's own words.
type JobError struct {
	JobID    string
	Status   string   // the server's word, e.g. "esriJobFailed" or "PARTIALERROR"
	State    JobState // JobFailed, JobCancelled or JobTimedOut
	Messages []JobMessage
	Op       string // e.g. "Refresh Service"
}

func (e *JobError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "job %s %s (%s)", e.JobID, e.State, e.Status)
	if m := e.lastError(); m != "" {
		b.WriteString(": ")
		b.WriteString(m)
	}
	return b.String()
}

// lastError is the last error message that says what went wrong (not one
// of the generic failure trailers), else the last error message, else the
// last message of any kind.
func (e *JobError) lastError() string {
	last := ""
	for i := len(e.Messages) - 1; i >= 0; i-- {
		d := strings.TrimSpace(e.Messages[i].Description)
		if !e.Messages[i].IsError() || d == "" {
			continue
		}
		if !isFailureTrailer(d) {
			return d
		}
		if last == "" {
			last = d
		}
	}
	if last != "" {
		return last
	}
	if n := len(e.Messages); n > 0 {
		return strings.TrimSpace(e.Messages[n-1].Description)
	}
	return ""
}

// isFailureTrailer reports whether an error message is one of the generic
// lines geoprocessing appends to every failure ("Failed to execute
// (Buffer).", "Failed at Thu Nov 19 ... (Elapsed Time: 0.05 seconds)"),
// which say nothing of the cause.
func isFailureTrailer(msg string) bool {
	return strings.HasPrefix(msg, "Failed to execute") || strings.HasPrefix(msg, "Failed at ") || msg == "Failed."
}

// Is matches ErrJobFailed, ErrJobCancelled or ErrJobTimedOut by state.
func (e *JobError) Is(target error) bool {
	switch target {
	case ErrJobFailed:
		return e.State == JobFailed
	case ErrJobCancelled:
		return e.State == JobCancelled
	case ErrJobTimedOut:
		return e.State == JobTimedOut
	}
	return false
}
