package ags

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`13472658353687`, time.UnixMilli(13472658353687), false},
		{`"13472658353687"`, time.UnixMilli(13472658353687), false},
		{`" 1700000000000 "`, time.UnixMilli(1700000000000), false},
		{`1.7e12`, time.UnixMilli(1700000000000), false},
		{`0`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`null`, time.Time{}, false},
		{`"soon"`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tt := range tests {
		var v struct {
			T Time `json:"t"`
		}
		err := json.Unmarshal([]byte(`{"t":`+tt.in+`}`), &v)
		if tt.err {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.True(t, tt.want.Equal(v.T.Time), "%s: got %v", tt.in, v.T)
	}
	b, err := json.Marshal(struct{ T Time }{Time{time.UnixMilli(1700000000123)}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"T":1700000000123}`, string(b))
	b, _ = json.Marshal(Time{})
	assert.Equal(t, "0", string(b))
}

func TestBool(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `false`: false, `"true"`: true, `"TRUE"`: true, `"false"`: false, `null`: false, `""`: false} {
		var v lenientBool
		require.NoError(t, json.Unmarshal([]byte(in), &v), in)
		assert.Equal(t, want, bool(v), in)
	}
	for _, in := range []string{`1`, `"yes"`, `[]`} {
		var v lenientBool
		assert.Error(t, json.Unmarshal([]byte(in), &v), in)
	}
}

func TestInt(t *testing.T) {
	for in, want := range map[string]int64{`12`: 12, `12.0`: 12, `"12"`: 12, `" -3 "`: -3, `null`: 0, `""`: 0, `1e3`: 1000} {
		var v Int
		require.NoError(t, json.Unmarshal([]byte(in), &v), in)
		assert.Equal(t, want, int64(v), in)
	}
	for _, in := range []string{`1.5`, `"x"`, `1e300`, `true`, `[1]`} {
		var v Int
		assert.Error(t, json.Unmarshal([]byte(in), &v), in)
	}
}

func TestStrings(t *testing.T) {
	for in, want := range map[string]lenientStrings{
		`["a","b"]`:       {"a", "b"},
		`"one"`:           {"one"},
		`null`:            nil,
		`[]`:              {},
		`["a",null,1,{}]`: {"a", "1", "{}"},
	} {
		var v lenientStrings
		require.NoError(t, json.Unmarshal([]byte(in), &v), in)
		assert.Equal(t, want, v, in)
	}
	var v lenientStrings
	assert.Error(t, json.Unmarshal([]byte(`{"a":1}`), &v))
}

func TestJobMessage(t *testing.T) {
	var msgs []JobMessage
	require.NoError(t, json.Unmarshal([]byte(`[{"type":"esriJobMessageTypeError","description":"boom"},"plain",{"type":"esriJobMessageTypeAbort"},{"type":"esriJobMessageTypeWarning"}]`), &msgs))
	require.Len(t, msgs, 4)
	assert.True(t, msgs[0].IsError())
	assert.Equal(t, "boom", msgs[0].String())
	assert.Equal(t, JobMessage{Description: "plain"}, msgs[1])
	assert.True(t, msgs[2].IsError())
	assert.False(t, msgs[3].IsError())
	var m JobMessage
	assert.Error(t, json.Unmarshal([]byte(`5`), &m))
}

func TestTypesExtentValidate(t *testing.T) {
	sr := &SpatialReference{WKID: 3857}
	good := Extent{XMin: 1, YMin: 2, XMax: 3, YMax: 4, SpatialReference: sr}
	assert.NoError(t, good.Validate())
	assert.NoError(t, (&Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKT: "PROJCS[...]"}}).Validate())
	assert.NoError(t, (&Extent{XMax: 1, YMax: 1, SpatialReference: &SpatialReference{LatestWKID: 3857}}).Validate())

	for name, e := range map[string]*Extent{
		"extent":                          nil,
		"extent.xmin":                     {XMin: math.NaN(), XMax: 1, YMax: 1, SpatialReference: sr},
		"extent.ymax":                     {XMax: 1, YMax: math.Inf(1), SpatialReference: sr},
		"extent (x order)":                {XMin: 2, XMax: 1, YMax: 1, SpatialReference: sr},
		"extent (y order)":                {XMax: 1, YMin: 1, YMax: 1, SpatialReference: sr},
		"extent.spatialReference":         {XMax: 1, YMax: 1},
		"extent.spatialReference (empty)": {XMax: 1, YMax: 1, SpatialReference: &SpatialReference{WKT: " "}},
	} {
		err := e.Validate()
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, name)
	}
	b, err := json.Marshal(good)
	require.NoError(t, err)
	assert.JSONEq(t, `{"xmin":1,"ymin":2,"xmax":3,"ymax":4,"spatialReference":{"wkid":3857}}`, string(b))
}

func TestServiceTypeAndPtr(t *testing.T) {
	assert.True(t, MapServer.Known())
	assert.True(t, ServiceType("VectorTileServer").Known())
	assert.True(t, ServiceType("mapserver").Known(), "types compare without regard to case")
	assert.False(t, ServiceType("VideoServer").Known())
	assert.True(t, ServiceType("imageSERVER").Is(ImageServer))
	assert.Equal(t, ImageServer, ServiceType("imageserver").canonical())
	p := Ptr(false)
	require.NotNil(t, p)
	assert.False(t, *p)
	assert.Equal(t, "x", *Ptr("x"))
}
