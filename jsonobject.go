package ags

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The object codec below gives ServiceDefinition and Extension their
// "typed fields over a bag of raw fields" JSON: every field the server
// sends survives a decode and encode, and zero values the caller never set
// stay off the wire.

// objField is one named field of a struct handled by the codec.
type objField struct {
	name      string // JSON key
	index     int    // struct field index
	omitEmpty bool   // leave out when zero and not read from the server
}

var (
	serviceDefinitionFields = objectFields(reflect.TypeOf(ServiceDefinition{}))
	extensionFields         = objectFields(reflect.TypeOf(Extension{}))
	rawMessageType          = reflect.TypeOf(json.RawMessage(nil))
)

func objectFields(t reflect.Type) []objField {
	var out []objField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, objField{name: name, index: i, omitEmpty: opts == "omitempty"})
	}
	return out
}

// marshalObject writes extra overlaid with the fields of v (a struct
// value): a field is written when non-zero, or when it was read from the
// server (seen), or when it is never omitted; a zero field the caller never
// set leaves an Extra entry of the same name in place.
func marshalObject(fields []objField, v reflect.Value, seen map[string]bool, extra map[string]json.RawMessage) ([]byte, error) {
	out := make(map[string]json.RawMessage, len(extra)+len(fields))
	for k, raw := range extra {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("extra field %q: invalid JSON", k)
		}
		out[k] = raw
	}
	for _, f := range fields {
		fv := v.Field(f.index)
		if fv.IsZero() && !seen[f.name] {
			if _, ok := out[f.name]; ok || f.omitEmpty {
				continue
			}
		}
		var (
			b   []byte
			err error
		)
		switch {
		case fv.Type() == rawMessageType:
			if fv.Len() == 0 {
				continue // nothing to send; an object and an array are both guesses
			}
			b = fv.Bytes()
		case fv.Kind() == reflect.Slice && fv.IsNil():
			b = []byte("[]")
		case fv.Kind() == reflect.Map && fv.IsNil():
			b = []byte("{}")
		default:
			b, err = json.Marshal(fv.Interface())
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		out[f.name] = b
	}
	return json.Marshal(out) // keys sorted: deterministic
}

// unmarshalObject reads a JSON object into the fields of v (an addressable
// struct) and returns which named fields it read and everything else.
// Values that do not fit their field (null, or text where a number
// belongs) go to extra unchanged instead of failing the whole document.
func unmarshalObject(fields []objField, b []byte, v reflect.Value) (map[string]bool, map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, errors.New("not a JSON object")
	}
	byName := make(map[string]objField, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	var (
		seen  map[string]bool
		extra map[string]json.RawMessage
	)
	for k, r := range raw {
		f, ok := byName[k]
		if ok && !isNull(r) && decodeField(v.Field(f.index), r) == nil {
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[k] = true
			continue
		}
		if ok {
			v.Field(f.index).SetZero()
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[k] = append(json.RawMessage(nil), r...)
	}
	return seen, extra, nil
}

// decodeField reads r into fv leniently: strings from any scalar, integers
// from numbers or numeric strings, booleans from true or "true".
func decodeField(fv reflect.Value, r json.RawMessage) error {
	r = bytes.TrimSpace(r)
	switch fv.Kind() {
	case reflect.String:
		if s, ok := jsonString(r); ok {
			fv.SetString(s)
			return nil
		}
		if r[0] == '{' || r[0] == '[' {
			return errors.New("not a string")
		}
		fv.SetString(string(r)) // a number or boolean where text belongs
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n Int
		if err := json.Unmarshal(r, &n); err != nil {
			return err
		}
		if fv.OverflowInt(int64(n)) {
			return errors.New("integer out of range")
		}
		fv.SetInt(int64(n))
		return nil
	case reflect.Bool:
		var x lenientBool
		if err := json.Unmarshal(r, &x); err != nil {
			return err
		}
		fv.SetBool(bool(x))
		return nil
	}
	return json.Unmarshal(r, fv.Addr().Interface())
}
