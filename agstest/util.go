package agstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// obj is a JSON object under construction.
type obj = map[string]any

// writeJSON answers v as JSON with HTTP 200. f=pjson indents the body; any
// other f value (html, kmz, unknown) still gets JSON, which is what a client
// of this emulator always asks for.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	writeJSONStatus(w, r, http.StatusOK, v)
}

func writeJSONStatus(w http.ResponseWriter, r *http.Request, status int, v any) {
	var (
		b   []byte
		err error
	)
	if strings.EqualFold(param(r, "f"), "pjson") {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		b = []byte(`{"error":{"code":500,"message":"Unable to encode the response.","details":[]}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// restError answers the REST/portal error envelope
// {"error":{"code":N,"message":"...","details":[...]}} with HTTP 200
// (https://github.com/Esri/cedar/issues/237 describes errors inside HTTP 200).
func restError(w http.ResponseWriter, r *http.Request, code int, message string, details ...string) {
	if details == nil {
		details = []string{}
	}
	writeJSON(w, r, obj{"error": obj{"code": code, "message": message, "details": details}})
}

// adminError answers the Server Administrator API envelope
// {"status":"error","messages":[...],"code":N} with HTTP 200
// (https://developers.arcgis.com/rest/enterprise-administration/server/operationresponse.htm).
func adminError(w http.ResponseWriter, r *http.Request, code int, messages ...string) {
	if messages == nil {
		messages = []string{}
	}
	writeJSON(w, r, obj{"status": "error", "messages": messages, "code": code})
}

func adminSuccess(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, obj{"status": "success"})
}

// param reads a request parameter from the POST body first, then the URL
// query (r.Form holds both once parsed).
func param(r *http.Request, name string) string {
	if r.Form == nil {
		return r.URL.Query().Get(name)
	}
	return r.Form.Get(name)
}

// controlParams are request parameters that belong to the protocol rather
// than to a task: they are not echoed as GP inputs.
var controlParams = map[string]bool{
	"f": true, "token": true, "returnMessages": true,
}

// taskParams returns a copy of the request parameters minus protocol ones.
func taskParams(r *http.Request) url.Values {
	out := url.Values{}
	for k, vs := range r.Form {
		if controlParams[k] {
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func cloneHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	return h.Clone()
}

// maskValues copies v with the values of secret parameters replaced by "***".
func maskValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		cp := append([]string(nil), vs...)
		if isSecretParam(k) {
			for i := range cp {
				cp[i] = "***"
			}
		}
		out[k] = cp
	}
	return out
}

func isSecretParam(k string) bool {
	switch strings.ToLower(k) {
	case "token", "password":
		return true
	}
	return false
}

// maskHeader copies h with bearer credentials hidden.
func maskHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"X-Esri-Authorization", "Authorization"} {
		if vs, ok := out[k]; ok {
			for i := range vs {
				vs[i] = "Bearer ***"
			}
		}
	}
	return out
}

// epochMS is a time as epoch milliseconds, the unit every ArcGIS time uses.
func epochMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// arcTime formats a time the way ArcGIS job messages do
// ("Succeeded at Wed Jan 03 10:00:00 2024 (Elapsed Time: 0.30 seconds)").
func arcTime(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 15:04:05 2006")
}

func elapsedSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " seconds"
}

// decodeJSONObject decodes a JSON object keeping numbers exactly as sent.
func decodeJSONObject(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	if m == nil {
		return nil, fmt.Errorf("null is not a JSON object")
	}
	return m, nil
}

// deepCopyJSON copies a JSON-shaped value by a round trip. numbers=true keeps
// json.Number values (wire fidelity); false yields float64 (ergonomic maps for
// callers of Service).
func deepCopyJSON(v map[string]any, numbers bool) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("agstest: service definition is not JSON-encodable: %v", err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if numbers {
		dec.UseNumber()
	}
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		panic(fmt.Sprintf("agstest: service definition round trip: %v", err))
	}
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func snippet(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func parseBoolParam(s string) (val, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return false, true
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// splitPath splits a slash path into non-empty segments.
func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitServiceSegment splits "<name>.<Type>" where Type ends in "Server".
func splitServiceSegment(seg string) (name, typ string, ok bool) {
	i := strings.LastIndex(seg, ".")
	if i <= 0 || i == len(seg)-1 {
		return "", "", false
	}
	name, typ = seg[:i], seg[i+1:]
	if !strings.HasSuffix(typ, "Server") {
		return "", "", false
	}
	return name, typ, true
}

func qualifiedName(folder, name, typ string) string {
	if folder == "" {
		return name + "." + typ
	}
	return folder + "/" + name + "." + typ
}
