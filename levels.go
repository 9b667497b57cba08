package ags

import (
	"math/bits"
	"net/url"
	"strconv"
	"strings"
)

// MaxLevel is the highest cache level (level of detail) a Levels can hold.
const MaxLevel = 31

// Levels is a set of cache levels (levels of detail, 0..MaxLevel), as the
// updateTiles operation takes them: "0-5,10,11-20", "1,2,3" or "0-5". The
// zero value is the empty set.
//
// A Levels is always normal: String lists the levels in order with
// adjacent ones merged into ranges, so ParseLevels("10,11-20,0-5") prints
// as "0-5,10-20", and ParseLevels(l.String()) gives l back.
// https://developers.arcgis.com/rest/services-reference/online/update-tiles
type Levels struct {
	mask uint32 // bit n set: level n is in the set
}

// ParseLevels reads a comma-separated list of levels and ranges, such as
// "0-5,10,11-20". Spaces around items are ignored. A negative level, a
// level above MaxLevel, a reversed range ("5-3"), anything that is not a
// number or a range, and an empty list are each a *ValidationError that
// names the bad item.
// https://developers.arcgis.com/rest/services-reference/online/update-tiles
func ParseLevels(s string) (Levels, error) {
	if strings.TrimSpace(s) == "" {
		return Levels{}, invalid("levels", "must list at least one level, such as 0-5,10,11-20")
	}
	var l Levels
	for i, item := range strings.Split(s, ",") {
		tok := strings.TrimSpace(item)
		if tok == "" {
			return Levels{}, invalid("levels", "item %d of %q is empty", i+1, s)
		}
		lo, hi, err := parseLevelItem(tok)
		if err != nil {
			return Levels{}, err
		}
		l.mask |= rangeMask(lo, hi)
	}
	return l, nil
}

// parseLevelItem reads "N" or "N-M".
func parseLevelItem(tok string) (lo, hi int, err error) {
	if strings.HasPrefix(tok, "-") {
		return 0, 0, invalid("levels", "%q: levels must not be negative", tok)
	}
	a, b, isRange := strings.Cut(tok, "-")
	if lo, err = parseLevel(tok, strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	b = strings.TrimSpace(b)
	if strings.HasPrefix(b, "-") {
		return 0, 0, invalid("levels", "%q: levels must not be negative", tok)
	}
	if hi, err = parseLevel(tok, b); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, invalid("levels", "%q is a reversed range (%d > %d)", tok, lo, hi)
	}
	return lo, hi, nil
}

// parseLevel reads one level number n of the item tok.
func parseLevel(tok, n string) (int, error) {
	if n == "" || strings.Trim(n, "0123456789") != "" {
		return 0, invalid("levels", "%q is not a level or a range of levels (want N or N-M, e.g. 0-5)", tok)
	}
	v, err := strconv.ParseUint(n, 10, 32)
	if err != nil || v > MaxLevel {
		return 0, invalid("levels", "%q: level %s is above the maximum %d", tok, n, MaxLevel)
	}
	return int(v), nil
}

func rangeMask(lo, hi int) uint32 {
	return uint32((uint64(1)<<(hi+1) - 1) &^ (uint64(1)<<lo - 1))
}

// NewLevels returns the set of the given levels. A level outside
// 0..MaxLevel is a *ValidationError. NewLevels() is the empty set.
func NewLevels(levels ...int) (Levels, error) {
	var l Levels
	for _, n := range levels {
		if n < 0 || n > MaxLevel {
			return Levels{}, invalid("levels", "%d is outside 0..%d", n, MaxLevel)
		}
		l.mask |= 1 << n
	}
	return l, nil
}

// String renders the set in its normal form: levels in order, runs of
// adjacent levels as ranges ("0-5,10-20"); "" for the empty set.
func (l Levels) String() string {
	var b strings.Builder
	m := uint64(l.mask)
	for m != 0 {
		lo := bits.TrailingZeros64(m)
		hi := lo + bits.TrailingZeros64(^(m >> lo)) - 1
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(lo))
		if hi > lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(hi))
		}
		m &^= (uint64(1)<<(hi+1) - 1)
	}
	return b.String()
}

// List returns the levels in ascending order.
func (l Levels) List() []int {
	out := make([]int, 0, bits.OnesCount32(l.mask))
	for m := l.mask; m != 0; m &= m - 1 {
		out = append(out, bits.TrailingZeros32(m))
	}
	return out
}

// Contains reports whether level is in the set.
func (l Levels) Contains(level int) bool {
	return level >= 0 && level <= MaxLevel && l.mask&(1<<level) != 0
}

// Len returns the number of levels in the set.
func (l Levels) Len() int { return bits.OnesCount32(l.mask) }

// IsZero reports whether the set is empty.
func (l Levels) IsZero() bool { return l.mask == 0 }

// MarshalText renders the set as String does, so a Levels reads as
// "0-5,10" in JSON and other text formats.
func (l Levels) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads the form ParseLevels takes. Empty text is the empty
// set (whether a list is required is checked where it is used).
func (l *Levels) UnmarshalText(b []byte) error {
	if strings.TrimSpace(string(b)) == "" {
		*l = Levels{}
		return nil
	}
	v, err := ParseLevels(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// EncodeValues puts the set on a form as one field holding its String
// form, so a Levels field in a struct of parameters (for Client.Post or
// GP.SubmitJob, with a `url:"levels"` tag) is sent as "0-5,10". The empty
// set adds nothing.
func (l Levels) EncodeValues(key string, v *url.Values) error {
	if l.mask != 0 {
		v.Set(key, l.String())
	}
	return nil
}
