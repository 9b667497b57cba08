package ags

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

var utf8BOM = []byte("\xef\xbb\xbf")

// snippetLen bounds the body excerpt kept in a *ResponseError.
const snippetLen = 200

// answer is one HTTP response as the decoder sees it.
type answer struct {
	op          string    // the call's label, for errors
	operation   operation // the REST operation: errors record it
	url         *url.URL  // the request URL; errors show it without query
	status      int
	contentType string
	body        []byte
	secret      bool          // the body may hold a credential: keep no snippet
	redact      []string      // credentials sent as parameters: masked in any error text
	token       string        // the token sent: masked too
	password    string        // the client's password, if it has one: masked too
	retryAfter  time.Duration // Retry-After of a 429 or 503 answer
}

// where is the request URL as errors show it: no query, no user info.
func (a answer) where() string {
	if a.url == nil {
		return ""
	}
	return cleanURL(a.url)
}

// secrets lists what must never appear in an error built from a.
func (a answer) secrets() []string {
	if a.token == "" && a.password == "" {
		return a.redact
	}
	return append(a.redact[:len(a.redact):len(a.redact)], a.token, a.password)
}

// decode is the one place an ArcGIS answer becomes a result or an error. It
// recognises every error envelope on any HTTP status, then decodes the body
// into out (which may be nil). JSON is sniffed from the body, not trusted to
// the Content-Type: servers send JSON as text/plain too.
//
// The outcome is always nil, an *Error or a *ResponseError: never a silent
// success on a body that is not JSON, empty, truncated or of the wrong
// shape.
func decode(a answer, out any) error {
	body := bytes.TrimSpace(a.body)
	if bytes.HasPrefix(body, utf8BOM) {
		body = bytes.TrimSpace(body[len(utf8BOM):])
	}
	if len(body) == 0 {
		return a.responseError("empty body", nil)
	}
	if body[0] != '{' && body[0] != '[' {
		return a.responseError("not JSON", nil)
	}
	if body[0] == '{' && mayHoldEnvelope(body) {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			return a.responseError("malformed JSON", err)
		}
		if apiErr := envelopeError(top); apiErr != nil {
			apiErr.HTTPStatus, apiErr.Op, apiErr.URL, apiErr.op, apiErr.RetryAfter = a.status, a.op, a.where(), a.operation, a.retryAfter
			if apiErr.Code == 0 && a.status >= 400 {
				apiErr.Code = a.status
			}
			apiErr.classify() // on the server's own words, before masking
			apiErr.redact(a.secrets())
			return apiErr
		}
	}
	if out == nil || a.status >= 300 {
		if !json.Valid(body) {
			return a.responseError("malformed JSON", nil)
		}
	}
	if a.status >= 300 {
		// JSON without a recognised error envelope on an error status.
		return &Error{HTTPStatus: a.status, Code: a.status, Message: strings.ToLower(http.StatusText(a.status)),
			Op: a.op, URL: a.where(), RetryAfter: a.retryAfter}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return a.responseError("malformed JSON", err)
		}
		return a.responseError("JSON of an unexpected shape", err)
	}
	if m, ok := out.(secretMasker); ok {
		m.maskSecrets(a.secrets())
	}
	if ck, ok := out.(answerChecker); ok {
		return a.checked(ck.checkAnswer())
	}
	return nil
}

// answerChecker is implemented by an answer type that knows what a usable
// answer holds: a submit answer its job ID, a job status its status word,
// a token answer its token. decode asks it after decoding a success, so
// that an answer lacking what the call needs is reported like any other
// bad answer: with the real HTTP status, the URL and a secret-free snippet
// of the body, not rebuilt afterwards by the caller.
type answerChecker interface {
	// checkAnswer returns nil for a usable answer; a badAnswer for one
	// that lacks what the call needs (decode returns a *ResponseError); or
	// a refusal when the server reported a failure in a success-shaped
	// answer (decode returns an *Error).
	checkAnswer() error
}

// badAnswer says what a decoded answer lacks, e.g. "no jobId in the answer".
type badAnswer string

func (b badAnswer) Error() string { return string(b) }

// refusal is the server's own account of a failure given in a
// success-shaped answer (e.g. updateTiles' {"status":"failed",...}).
type refusal struct {
	message string
	details []string
}

func (r refusal) Error() string { return r.message }

// checked turns an answerChecker's verdict into decode's outcome.
func (a answer) checked(err error) error {
	switch err := err.(type) {
	case nil:
		return nil
	case refusal:
		e := &Error{HTTPStatus: a.status, Message: err.message, Details: err.details, Op: a.op, URL: a.where(), op: a.operation, RetryAfter: a.retryAfter}
		e.redact(a.secrets())
		return e
	default:
		return a.responseError(err.Error(), nil)
	}
}

// checkJobID is the answerChecker rule for a job ID the server has just
// given: present, and usable as a URL path segment.
func checkJobID(id string) error {
	id = strings.TrimSpace(id)
	if id == "" {
		return badAnswer("no jobId in the answer")
	}
	if validJobID(id) != nil {
		return badAnswer(fmt.Sprintf("jobId %q cannot be used in a URL", truncate(id, 80)))
	}
	return nil
}

// checkJobStatus is the answerChecker rule for a job status read: it
// names a status.
func checkJobStatus(status string) error {
	if strings.TrimSpace(status) == "" {
		return badAnswer("no jobStatus in the answer")
	}
	return nil
}

// mayHoldEnvelope is a cheap test that spares the common success body (a
// job status, a service description) a second full decode. It looks, in
// one pass, for the quoted keys an envelope cannot do without ("error",
// "status", "code") and for a \u escape, which could spell one; a body
// with none of them has no such top-level key.
func mayHoldEnvelope(body []byte) bool {
	for i := 0; i < len(body)-1; i++ {
		switch body[i] {
		case '"':
			rest := body[i+1:]
			switch rest[0] {
			case 'e':
				if bytes.HasPrefix(rest, keyError) {
					return true
				}
			case 's':
				if bytes.HasPrefix(rest, keyStatus) {
					return true
				}
			case 'c':
				if bytes.HasPrefix(rest, keyCode) {
					return true
				}
			}
		case '\\':
			if body[i+1] == 'u' {
				return true
			}
		}
	}
	return false
}

var (
	keyError  = []byte(`error"`)
	keyStatus = []byte(`status"`)
	keyCode   = []byte(`code"`)
)

// envelopeError returns the error an ArcGIS body carries, or nil.
func envelopeError(top map[string]json.RawMessage) *Error {
	// {"error": {...}} or {"error": "text", "error_description": "..."}
	if raw, ok := top["error"]; ok && !isNull(raw) {
		if s, ok := jsonString(raw); ok {
			e := &Error{Message: s, Code: rawInt(top["code"])}
			if d, ok := jsonString(top["error_description"]); ok && d != "" {
				e.Details = []string{d}
			}
			return e
		}
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(raw, &inner); err != nil {
			// An error we cannot read is still an error.
			return &Error{Message: "unreadable error: " + truncate(string(raw), snippetLen)}
		}
		e := &Error{Code: rawInt(inner["code"]), Details: rawStrings(inner["details"])}
		e.Message = rawText(inner["message"])
		e.MessageCode = rawText(inner["messageCode"])
		return e
	}
	// Admin API: {"status":"error"|"failed","messages":[...],"code":N}, and
	// the portal's {"status":"failed","statusMessage":"..."}. A body that
	// names a job (the admin job resource: {"jobid":..,"status":"FAILED"})
	// reports the job's state, not a failed request: the poller reads it.
	if s, ok := jsonString(top["status"]); ok && !hasJobID(top) {
		st := strings.ToLower(strings.TrimSpace(s))
		_, hasMessages := top["messages"]
		failed := st == "error" || st == "failed" || st == "failure" || st == "fail"
		// Any other status, success aside, is a failure in the admin
		// operation-response shape (status plus messages).
		if !failed && hasMessages && st != "success" {
			failed = true
		}
		if failed {
			msgs := rawStrings(top["messages"])
			e := &Error{Code: rawInt(top["code"]), Details: msgs}
			if m := rawText(top["message"]); m != "" {
				e.Message = m
			} else if sm := rawText(top["statusMessage"]); sm != "" {
				e.Message = sm
				// statusMessage may itself be a JSON error: {"code":400,"message":"..."}.
				var nested map[string]json.RawMessage
				if strings.HasPrefix(sm, "{") && json.Unmarshal([]byte(sm), &nested) == nil {
					if m := rawText(nested["message"]); m != "" {
						e.Message = m
					}
					if e.Code == 0 {
						e.Code = rawInt(nested["code"])
					}
				}
			} else if len(msgs) > 0 {
				e.Message, e.Details = msgs[0], msgs[1:]
			}
			return e
		}
	}
	// Bare {"code": >=400, "message": ...}.
	if c := rawInt(top["code"]); c >= 400 {
		return &Error{Code: c, Message: rawText(top["message"]), Details: rawStrings(top["details"])}
	}
	return nil
}

// hasJobID reports whether the body names a job (jobid, jobId, jobID).
func hasJobID(top map[string]json.RawMessage) bool {
	for k := range top {
		if strings.EqualFold(k, "jobid") {
			return true
		}
	}
	return false
}

func (a answer) responseError(reason string, err error) *ResponseError {
	re := &ResponseError{Op: a.op, URL: a.where(), HTTPStatus: a.status, ContentType: a.contentType,
		Reason: reason, Err: err, RetryAfter: a.retryAfter}
	if !a.secret {
		re.Snippet = snippet(a.body, a.secrets())
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		re.Err = fmt.Errorf("invalid JSON at byte %d", syn.Offset)
	case a.secret && errors.As(err, &typ):
		// The standard text quotes numbers it could not store; an answer that
		// may hold a credential keeps only the field and the wanted type.
		re.Err = fmt.Errorf("field %q: want %s", typ.Field, typ.Type)
	case a.secret && err != nil:
		re.Err = errors.New("undecodable value")
	}
	return re
}

// snippet returns a short, printable excerpt of body with secrets masked.
func snippet(body []byte, secrets []string) string {
	s := maskSecrets(strings.TrimSpace(string(body)), secrets)
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, snippetLen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}
