package form

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type extent struct {
	XMin float64 `json:"xmin"`
	YMin float64 `json:"ymin"`
	SR   *struct {
		WKID int `json:"wkid"`
	} `json:"spatialReference,omitempty"`
}

type request struct {
	Name        string               `url:"serviceName"`
	Folder      string               `url:"serviceFolder,omitempty"`
	MergeBundle *bool                `url:"mergeBundle,omitempty"`
	Replace     *bool                `url:"replaceTiles,omitempty"`
	Extent      *JSON[extent]        `url:"extent,omitempty"`
	Service     JSON[extent]         `url:"service"`
	Optional    JSON[[]string]       `url:"optional,omitempty"`
	Levels      []int                `url:"levels,comma,omitempty"`
	Format      string               `url:"f,omitempty"`
	Ignored     string               `url:"-"`
	Map         JSON[map[string]any] `url:"options,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func TestEncodeStruct(t *testing.T) {
	r := request{
		Name:        "Roads",
		MergeBundle: ptr(false), // *bool sends an explicit false
		Extent: NewJSON(extent{XMin: 1, YMin: 2, SR: &struct {
			WKID int `json:"wkid"`
		}{WKID: 3857}}),
		Service: JSON[extent]{V: extent{XMin: 5}},
		Levels:  []int{0, 1, 2},
		Format:  "html", // overridden
		Ignored: "x",
	}
	vals, err := Encode(&r)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"serviceName": {"Roads"},
		"mergeBundle": {"false"},
		"extent":      {`{"xmin":1,"ymin":2,"spatialReference":{"wkid":3857}}`},
		"service":     {`{"xmin":5,"ymin":0}`},
		"levels":      {"0,1,2"},
		"f":           {"json"},
	}, vals)

	r.MergeBundle, r.Replace = ptr(true), ptr(true)
	vals, err = Encode(r) // a value works like a pointer
	require.NoError(t, err)
	assert.Equal(t, "true", vals.Get("mergeBundle"))
	assert.Equal(t, "true", vals.Get("replaceTiles"))
}

func TestJSONIsZero(t *testing.T) {
	assert.True(t, JSON[extent]{}.IsZero())
	assert.False(t, JSON[extent]{V: extent{XMin: 1}}.IsZero())
	assert.True(t, JSON[[]string]{}.IsZero())
	assert.True(t, JSON[any]{}.IsZero())
	assert.False(t, JSON[any]{V: 0}.IsZero())

	vals, err := Encode(struct {
		Opt JSON[[]string] `url:"opt,omitempty"`
		Req JSON[[]string] `url:"req"`
	}{})
	require.NoError(t, err)
	assert.False(t, vals.Has("opt"), "omitempty leaves an unset JSON field out")
	assert.Equal(t, "null", vals.Get("req"))
}

func TestEncodeJSONError(t *testing.T) {
	_, err := Encode(struct {
		Bad JSON[func()] `url:"bad"`
	}{Bad: JSON[func()]{V: func() {}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad")
}

func TestEncodeMaps(t *testing.T) {
	in := url.Values{"a": {"1", "2"}, "f": {"pjson"}}
	vals, err := Encode(in)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"a": {"1", "2"}, "f": {"json"}}, vals)
	assert.Equal(t, "pjson", in.Get("f"), "caller's values untouched")

	vals, err = Encode(map[string]string{"x": "y"})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"x": {"y"}, "f": {"json"}}, vals)

	vals, err = Encode(map[string]any{
		"serviceName": "Roads",
		"count":       3,
		"flag":        true,
		"extent":      map[string]any{"xmin": 1},
		"list":        []string{"a"},
	})
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"serviceName": {"Roads"}, "count": {"3"}, "flag": {"true"},
		"extent": {`{"xmin":1}`}, "list": {`["a"]`}, "f": {"json"},
	}, vals)

	_, err = Encode(map[string]any{"bad": make(chan int)})
	assert.Error(t, err)
}

func TestEncodeNilAndBadTypes(t *testing.T) {
	for _, p := range []any{nil, (*request)(nil)} {
		vals, err := Encode(p)
		require.NoError(t, err)
		assert.Equal(t, url.Values{"f": {"json"}}, vals)
	}
	for _, p := range []any{"a=b", 42, []string{"x"}} {
		_, err := Encode(p)
		assert.Error(t, err, "%T", p)
	}
}
