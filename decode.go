package ags

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// snippetLen bounds the body excerpt kept in a *ResponseError.
const snippetLen = 200

// answer is one HTTP response as the decoder sees it.
type answer struct {
	op          string
	url         string // without query
	status      int
	contentType string
	body        []byte
	secret      bool     // the body may hold a credential: keep no snippet
	redact      []string // strings to mask in any snippet (the token in use)
}

// decode is the one place an ArcGIS answer becomes a result or an error. It
// recognises every error envelope on any HTTP status, then decodes the body
// into out (which may be nil). JSON is sniffed from the body, not trusted to
// the Content-Type: servers send JSON as text/plain too.
func decode(a answer, out any) error {
	body := bytes.TrimSpace(a.body)
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	if len(body) == 0 {
		if a.status >= 400 {
			return a.responseError("empty body", nil)
		}
		return a.responseError("empty body", nil)
	}
	if body[0] != '{' && body[0] != '[' {
		return a.responseError("not JSON", nil)
	}
	if body[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			return a.responseError("malformed JSON", err)
		}
		if apiErr := envelopeError(top); apiErr != nil {
			apiErr.HTTPStatus, apiErr.Op, apiErr.URL = a.status, a.op, a.url
			if apiErr.Code == 0 && a.status >= 400 {
				apiErr.Code = a.status
			}
			return apiErr
		}
	}
	if a.status >= 400 {
		// JSON without a recognised error envelope on an error status.
		return &Error{HTTPStatus: a.status, Code: a.status, Message: strings.ToLower(http.StatusText(a.status)),
			Op: a.op, URL: a.url}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return a.responseError("JSON of an unexpected shape", err)
	}
	return nil
}

// envelopeError returns the error an ArcGIS body carries, or nil.
func envelopeError(top map[string]json.RawMessage) *Error {
	// {"error": {...}} or {"error": "text", "error_description": "..."}
	if raw, ok := top["error"]; ok && !isNull(raw) {
		if s, ok := jsonString(raw); ok {
			e := &Error{Message: s}
			if d, ok := jsonString(top["error_description"]); ok && d != "" {
				e.Details = []string{d}
			}
			if c := rawInt(top["code"]); c != 0 {
				e.Code = c
			}
			return e
		}
		var inner struct {
			Code        json.RawMessage `json:"code"`
			Message     json.RawMessage `json:"message"`
			Details     Strings         `json:"details"`
			MessageCode string          `json:"messageCode"`
		}
		if err := json.Unmarshal(raw, &inner); err != nil {
			// An error we cannot read is still an error.
			return &Error{Message: "unreadable error: " + truncate(string(raw), snippetLen)}
		}
		e := &Error{Code: rawInt(inner.Code), MessageCode: inner.MessageCode, Details: inner.Details}
		e.Message, _ = jsonString(inner.Message)
		return e
	}
	// Admin API: {"status":"error"|"failed","messages":[...],"code":N}.
	if s, ok := jsonString(top["status"]); ok {
		st := strings.ToLower(strings.TrimSpace(s))
		_, hasMessages := top["messages"]
		failed := st == "error" || st == "failed" || st == "failure" || st == "fail"
		// Any other status, success aside, is a failure in the admin
		// operation-response shape (status plus messages).
		if !failed && hasMessages && st != "success" {
			failed = true
		}
		if failed {
			var msgs Strings
			_ = json.Unmarshal(top["messages"], &msgs)
			e := &Error{Code: rawInt(top["code"]), Details: msgs}
			if m, ok := jsonString(top["message"]); ok {
				e.Message = m
			} else if sm, ok := jsonString(top["statusMessage"]); ok {
				e.Message = sm
			} else if len(msgs) > 0 {
				e.Message, e.Details = msgs[0], msgs[1:]
			}
			return e
		}
	}
	// Bare {"code": >=400, "message": ...}.
	if c := rawInt(top["code"]); c >= 400 {
		e := &Error{Code: c}
		e.Message, _ = jsonString(top["message"])
		var d Strings
		if json.Unmarshal(top["details"], &d) == nil {
			e.Details = d
		}
		return e
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// rawInt reads a code sent as a number or a numeric string; 0 otherwise.
func rawInt(raw json.RawMessage) int {
	if isNull(raw) {
		return 0
	}
	var v Int
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return int(v)
}

func (a answer) responseError(reason string, err error) *ResponseError {
	re := &ResponseError{Op: a.op, URL: a.url, HTTPStatus: a.status, ContentType: a.contentType,
		Reason: reason, Err: err}
	if !a.secret {
		re.Snippet = snippet(a.body, a.redact)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		re.Err = fmt.Errorf("invalid JSON at byte %d", syn.Offset)
	}
	return re
}

// snippet returns a short, printable excerpt of body with secrets masked.
func snippet(body []byte, secrets []string) string {
	s := strings.TrimSpace(string(body))
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
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
