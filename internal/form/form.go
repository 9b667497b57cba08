// Package form encodes request parameters as the
// application/x-www-form-urlencoded bodies and queries ArcGIS Server expects.
//
// Parameters are a go-querystring struct (url tags), a url.Values, or a
// map[string]any. JSON-valued fields (service definitions, extents, feature
// sets) travel as one form field holding a JSON document: wrap them in JSON,
// or, in a map, pass any non-string value.
package form

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"

	"github.com/google/go-querystring/query"
)

// JSON wraps a value that goes on the wire as a single form field holding
// its JSON encoding, as ArcGIS wants for `service={...}` or `extent={...}`.
// Use *JSON[T] with `url:"name,omitempty"` for optional fields.
type JSON[T any] struct{ V T }

// NewJSON returns a *JSON holding v.
func NewJSON[T any](v T) *JSON[T] { return &JSON[T]{V: v} }

// EncodeValues implements query.Encoder. It has a value receiver so that
// go-querystring finds it on both JSON[T] and *JSON[T] fields.
func (j JSON[T]) EncodeValues(key string, vals *url.Values) error {
	b, err := json.Marshal(j.V)
	if err != nil {
		return fmt.Errorf("field %s: %w", key, err)
	}
	vals.Set(key, string(b))
	return nil
}

// IsZero reports whether V is its type's zero value, so that a JSON[T]
// field tagged omitempty is left out when unset.
func (j JSON[T]) IsZero() bool {
	v := reflect.ValueOf(&j.V).Elem()
	return v.IsZero()
}

// Encode turns params into url.Values and sets f=json. params may be nil,
// url.Values, map[string]string, map[string]any or a struct (or pointer to
// one) with go-querystring `url` tags. The caller's values are never mutated.
func Encode(params any) (url.Values, error) {
	vals := url.Values{}
	switch p := params.(type) {
	case nil:
		vals["f"] = []string{"json"}
		return vals, nil
	case url.Values:
		for k, v := range p {
			vals[k] = append([]string(nil), v...)
		}
	case map[string]string:
		for k, v := range p {
			vals.Set(k, v)
		}
	case map[string]any:
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, err := scalar(p[k])
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", k, err)
			}
			vals.Set(k, s)
		}
	default:
		rv := reflect.ValueOf(params)
		if rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				break
			}
			rv = rv.Elem()
		}
		if rv.Kind() != reflect.Struct {
			return nil, fmt.Errorf("parameters of type %T: want a struct, url.Values or map[string]any", params)
		}
		v, err := query.Values(params)
		if err != nil {
			return nil, err
		}
		vals = v
	}
	vals.Set("f", "json")
	return vals, nil
}

// scalar renders one map value: strings as they are, everything else as JSON
// (numbers, booleans, objects and arrays alike, which is what GP tasks take).
// A value of any string kind (a named string type such as ags.ServiceType)
// is text too: JSON would wrap it in quotes, which a task reads as part of
// the value.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
