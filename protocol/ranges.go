package protocol

import "bytes"

// ByteRange is a satisfiable range of a representation: [Start, Start+Len).
type ByteRange struct {
	Start, Len int64
}

// RangeResult says what to do with a Range header field.
type RangeResult int

const (
	RangeIgnore        RangeResult = iota // absent, another unit or malformed: send the whole file
	RangeOK                               // the returned ranges are satisfiable
	RangeUnsatisfiable                    // valid, but no range overlaps the file: 416
)

// MaxRanges bounds how many ranges one request may ask for; more is treated
// as an attack (many tiny overlapping ranges) and the header is ignored.
const MaxRanges = 16

// ParseRange reads a Range value (RFC 9110 section 14.2) for a file of
// size bytes, appending the satisfiable ranges to dst. Ranges that start
// past the end are dropped; ends past the end are clipped.
func ParseRange(v []byte, size int64, dst []ByteRange) ([]ByteRange, RangeResult) {
	unit, set, ok := bytes.Cut(v, []byte("="))
	if !ok || !equalFold(bytes.TrimSpace(unit), "bytes") {
		return dst, RangeIgnore
	}
	n := 0
	start := len(dst)
	for len(set) > 0 {
		var spec []byte
		spec, set, _ = bytes.Cut(set, []byte(","))
		spec = trimOWS(spec)
		if len(spec) == 0 {
			continue // empty list elements are allowed
		}
		if n++; n > MaxRanges {
			return dst[:start], RangeIgnore
		}
		first, last, ok := bytes.Cut(spec, []byte("-"))
		if !ok {
			return dst[:start], RangeIgnore
		}
		var r ByteRange
		switch {
		case len(first) == 0: // suffix: the last N bytes
			n, ok := parseDigits(last)
			if !ok {
				return dst[:start], RangeIgnore
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable on its own
			}
			n = min(n, size)
			r = ByteRange{Start: size - n, Len: n}
		default:
			a, ok := parseDigits(first)
			if !ok {
				return dst[:start], RangeIgnore
			}
			b := size - 1
			if len(last) > 0 {
				if b, ok = parseDigits(last); !ok || b < a {
					return dst[:start], RangeIgnore
				}
				b = min(b, size-1)
			}
			if a >= size {
				continue
			}
			r = ByteRange{Start: a, Len: b - a + 1}
		}
		dst = append(dst, r)
	}
	if n == 0 {
		return dst[:start], RangeIgnore
	}
	if len(dst) == start {
		return dst, RangeUnsatisfiable
	}
	return dst, RangeOK
}

// parseDigits reads 1*DIGIT. RFC 9110 sets no limit on the digits, so a
// number too large for an int64 saturates: as a start it is past any file,
// as an end or a suffix length it reaches past the end of any file.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const huge = 1 << 62
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		if n < huge/10 {
			n = n*10 + int64(c-'0')
		} else {
			n = huge
		}
	}
	return n, true
}

// Coalesce sorts ranges and merges those that overlap or touch, in place
// (RFC 9110 section 14.2 allows it). Download managers that split a file
// send one range per connection; browsers that send several rarely need
// them apart.
func Coalesce(rs []ByteRange) []ByteRange {
	if len(rs) < 2 {
		return rs
	}
	for i := 1; i < len(rs); i++ { // insertion sort: at most MaxRanges
		for j := i; j > 0 && rs[j].Start < rs[j-1].Start; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if end := last.Start + last.Len; r.Start <= end {
			last.Len = max(end, r.Start+r.Len) - last.Start
			continue
		}
		out = append(out, r)
	}
	return out
}
