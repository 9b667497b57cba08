package ags

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLevels(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		list []int
	}{
		{"0-5,10,11-20", "0-5,10-20", nil},
		{"10,11-20,0-5", "0-5,10-20", nil},
		{"1,2,3", "1-3", []int{1, 2, 3}},
		{"0-5", "0-5", []int{0, 1, 2, 3, 4, 5}},
		{"7", "7", []int{7}},
		{"3,1", "1,3", []int{1, 3}},
		{" 2 - 4 , 9 ", "2-4,9", []int{2, 3, 4, 9}},
		{"5-5", "5", []int{5}},
		{"0,0,0", "0", []int{0}},
		{"0-31", "0-31", nil},
		{"31", "31", []int{31}},
		{"007", "7", []int{7}},
		{"1-3,2-6,20", "1-6,20", []int{1, 2, 3, 4, 5, 6, 20}},
		{"0,2,4", "0,2,4", []int{0, 2, 4}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			l, err := ParseLevels(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, l.String())
			if tc.list != nil {
				assert.Equal(t, tc.list, l.List())
				assert.Equal(t, len(tc.list), l.Len())
			}
			again, err := ParseLevels(l.String())
			require.NoError(t, err)
			assert.Equal(t, l, again)
		})
	}
}

func TestParseLevelsInvalid(t *testing.T) {
	for _, tc := range []struct {
		in     string
		reason string // the error names the bad item and why
	}{
		{"", "at least one level"},
		{"   ", "at least one level"},
		{"-1", `"-1": levels must not be negative`},
		{"0-5,-3", `"-3": levels must not be negative`},
		{"3--1", `"3--1": levels must not be negative`},
		{"5-3", `"5-3" is a reversed range (5 > 3)`},
		{"0-5,20-10", `"20-10" is a reversed range`},
		{"32", `"32": level 32 is above the maximum 31`},
		{"0-40", `"0-40": level 40 is above the maximum 31`},
		{"99999999999999999999", "above the maximum 31"},
		{"a", `"a" is not a level or a range`},
		{"1,x-3", `"x-3" is not a level or a range`},
		{"1-2-3", `"1-2-3" is not a level or a range`},
		{"4-", `"4-" is not a level or a range`},
		{"1.5", `"1.5" is not a level or a range`},
		{"+3", `"+3" is not a level or a range`},
		{"1 0", `"1 0" is not a level or a range`},
		{"1,,2", `item 2 of "1,,2" is empty`},
		{"1,", `item 2 of "1," is empty`},
		{"١", `is not a level`}, // Arabic-Indic digit one
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseLevels(tc.in)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "want *ValidationError, got %v", err)
			assert.Equal(t, "levels", ve.Field)
			assert.Contains(t, ve.Reason, tc.reason)
		})
	}
}

func TestNewLevels(t *testing.T) {
	l, err := NewLevels(20, 0, 1, 2, 19)
	require.NoError(t, err)
	assert.Equal(t, "0-2,19-20", l.String())
	assert.True(t, l.Contains(19))
	assert.False(t, l.Contains(3))
	assert.False(t, l.Contains(-1))
	assert.False(t, l.Contains(64))

	empty, err := NewLevels()
	require.NoError(t, err)
	assert.True(t, empty.IsZero())
	assert.Equal(t, "", empty.String())
	assert.Empty(t, empty.List())

	for _, bad := range []int{-1, 32} {
		_, err := NewLevels(bad)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.Reason, "outside 0..31")
	}
}

func TestLevelsText(t *testing.T) {
	l, err := ParseLevels("11-20,10,0-5")
	require.NoError(t, err)
	b, err := json.Marshal(struct{ Levels Levels }{l})
	require.NoError(t, err)
	assert.JSONEq(t, `{"Levels":"0-5,10-20"}`, string(b))

	var back struct{ Levels Levels }
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, l, back.Levels)

	require.NoError(t, json.Unmarshal([]byte(`{"Levels":""}`), &back))
	assert.True(t, back.Levels.IsZero())
	var ve *ValidationError
	assert.ErrorAs(t, json.Unmarshal([]byte(`{"Levels":"5-3"}`), &back), &ve)
}

// TestLevelsOnTheForm: Levels goes on a form as its String, from a map
// (fmt.Stringer) or a struct field (EncodeValues), and an empty set adds
// nothing.
func TestLevelsOnTheForm(t *testing.T) {
	l, err := ParseLevels("10,11-20,0-5")
	require.NoError(t, err)
	v := url.Values{}
	require.NoError(t, l.EncodeValues("levels", &v))
	assert.Equal(t, "0-5,10-20", v.Get("levels"))

	v = url.Values{}
	require.NoError(t, Levels{}.EncodeValues("levels", &v))
	assert.Empty(t, v)
}

// FuzzParseLevels: parsing never panics, a failure is a *ValidationError,
// and a success round-trips through String in normal form. The seed corpus
// is in testdata/fuzz/FuzzParseLevels; `go test` runs it.
func FuzzParseLevels(f *testing.F) {
	for _, s := range []string{"0-5,10,11-20", "10,11-20,0-5", "1,2,3", "0-31", "", "-1", "5-3", "32", "1,,2", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLevels(s)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ParseLevels(%q): want *ValidationError, got %T %v", s, err, err)
			}
			return
		}
		if l.IsZero() {
			t.Fatalf("ParseLevels(%q) succeeded with an empty set", s)
		}
		out := l.String()
		again, err := ParseLevels(out)
		if err != nil {
			t.Fatalf("ParseLevels(%q) = %q, which does not parse: %v", s, out, err)
		}
		if again != l || again.String() != out {
			t.Fatalf("round trip of %q: %q then %q", s, out, again.String())
		}
		for _, n := range l.List() {
			if n < 0 || n > MaxLevel || !l.Contains(n) {
				t.Fatalf("ParseLevels(%q) holds level %d", s, n)
			}
		}
	})
}

func ExampleParseLevels() {
	levels, err := ParseLevels("10,11-20,0-5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(levels, levels.Len())
	_, err = ParseLevels("0-5,20-10")
	fmt.Println(err)
	// Output:
	// 0-5,10-20 17
	// invalid levels: "20-10" is a reversed range (20 > 10)
}
