package ags

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Lenient JSON: ArcGIS sends the same field as a number or a string, a
// boolean as true or "true", a list as an array or one string. The readers
// below accept every form seen, so an answer is never refused for a type.

// Time is a point in time that ArcGIS sends as epoch milliseconds, either as
// a JSON number or as a string ("13472658353687"). Zero or absent is the
// zero time.
type Time struct{ time.Time }

// UnmarshalJSON accepts a number, a numeric string, null or "".
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = Time{}
		return nil
	}
	if s, ok := jsonString(b); ok {
		b = []byte(strings.TrimSpace(s))
		if len(b) == 0 {
			*t = Time{}
			return nil
		}
	}
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(ms) || math.IsInf(ms, 0) {
		return fmt.Errorf("epoch milliseconds: cannot read %.40q", b)
	}
	if ms == 0 {
		*t = Time{}
		return nil
	}
	t.Time = time.UnixMilli(int64(ms))
	return nil
}

// MarshalJSON writes epoch milliseconds as a number (0 for the zero time).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("0"), nil
	}
	return strconv.AppendInt(nil, t.UnixMilli(), 10), nil
}

// lenientBool is a boolean that the server may send as true/false or as the strings
// "true"/"false" (extension "enabled" does both).
type lenientBool bool

// UnmarshalJSON accepts true, false, "true", "false" (any case), null.
func (v *lenientBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if s, ok := jsonString(b); ok {
		b = []byte(strings.ToLower(strings.TrimSpace(s)))
	}
	switch string(b) {
	case "true":
		*v = true
	case "false", "null", "":
		*v = false
	default:
		return fmt.Errorf("boolean: cannot read %.40q", b)
	}
	return nil
}

// Int is an integer that may arrive as a number or a numeric string.
type Int int64

// UnmarshalJSON accepts 12, 12.0, "12", null.
func (v *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if s, ok := jsonString(b); ok {
		b = []byte(strings.TrimSpace(s))
	}
	if len(b) == 0 || string(b) == "null" {
		*v = 0
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("integer: cannot read %.40q", b)
	}
	*v = Int(f)
	return nil
}

// lenientStrings is a list of strings that the server may send as an array, a
// single string, or null.
type lenientStrings []string

// UnmarshalJSON accepts ["a","b"], "a", null; non-string array items are
// kept as their JSON text.
func (v *lenientStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*v = nil
		return nil
	}
	if s, ok := jsonString(b); ok {
		*v = lenientStrings{s}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("list of strings: %w", err)
	}
	out := make(lenientStrings, 0, len(raw))
	for _, r := range raw {
		if s, ok := jsonString(r); ok {
			out = append(out, s)
		} else if string(bytes.TrimSpace(r)) != "null" {
			out = append(out, string(r))
		}
	}
	*v = out
	return nil
}

// jsonString decodes b if it is a JSON string.
func jsonString(b []byte) (string, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// rawText reads a string; any other JSON value is kept as its text, so a
// message of an unexpected type is still shown.
func rawText(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	if s, ok := jsonString(raw); ok {
		return s
	}
	return truncate(string(bytes.TrimSpace(raw)), snippetLen)
}

// rawStrings reads details or messages leniently: an array, one string,
// null; anything else is kept as its JSON text.
func rawStrings(raw json.RawMessage) []string {
	if isNull(raw) {
		return nil
	}
	var v lenientStrings
	if json.Unmarshal(raw, &v) == nil {
		return v
	}
	return []string{truncate(string(bytes.TrimSpace(raw)), snippetLen)}
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

func rawFloat(raw json.RawMessage) float64 {
	if isNull(raw) {
		return 0
	}
	if s, ok := jsonString(raw); ok {
		raw = json.RawMessage(strings.TrimSpace(s))
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// lenientExtent decodes an informational extent, or returns nil: Esri's
// syntax shows wkid as a string, which must not fail a whole poll.
func lenientExtent(raw json.RawMessage) *Extent {
	if isNull(raw) {
		return nil
	}
	var e Extent
	if json.Unmarshal(raw, &e) != nil {
		return nil
	}
	return &e
}

// successAnswer is the answer of an operation that reports its outcome in
// a "success" field: the hosted tile service's cancel ({"success": true})
// and deleteAllTiles ({"success": "true"}, a string) (REST-REFERENCE §7.5).
// {"success": false} is a refusal, not a success. The admin API's standard
// {"status": "success"} is read as a success too.
type successAnswer struct {
	Success *lenientBool `json:"success"`
	Status  string       `json:"status"`
}

// checkAnswer accepts a success; {"success": false} is a refusal, and an
// answer that says neither is a bad answer.
func (a *successAnswer) checkAnswer() error {
	switch {
	case a.Success != nil && bool(*a.Success):
		return nil
	case a.Success != nil:
		return refusal{message: `the server answered "success": false`}
	case strings.EqualFold(strings.TrimSpace(a.Status), "success"):
		return nil
	}
	return badAnswer(`neither "success" nor "status": "success" in the answer`)
}
