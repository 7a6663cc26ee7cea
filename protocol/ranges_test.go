package protocol

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	cases := []struct {
		in   string
		res  RangeResult
		want string
	}{
		{"bytes=0-99", RangeOK, "[{0 100}]"},
		{"bytes=100-", RangeOK, "[{100 900}]"},
		{"bytes=-100", RangeOK, "[{900 100}]"},
		{"bytes=-5000", RangeOK, "[{0 1000}]"},
		{"bytes=900-5000", RangeOK, "[{900 100}]"},
		{"bytes=999-999", RangeOK, "[{999 1}]"},
		{"BYTES = 0-0", RangeOK, "[{0 1}]"},
		{"bytes=0-1, 5-6,,", RangeOK, "[{0 2} {5 2}]"},
		{"bytes=1000-", RangeUnsatisfiable, "[]"},
		{"bytes=2000-3000", RangeUnsatisfiable, "[]"},
		{"bytes=-0", RangeUnsatisfiable, "[]"},
		{"bytes=1000-,-0", RangeUnsatisfiable, "[]"},
		{"bytes=1000-, 0-0", RangeOK, "[{0 1}]"},
		{"bytes=abc", RangeIgnore, "[]"},
		{"bytes=5-2", RangeIgnore, "[]"},
		{"bytes=1-2-3", RangeIgnore, "[]"},
		{"bytes=", RangeIgnore, "[]"},
		{"bytes", RangeIgnore, "[]"},
		{"items=0-1", RangeIgnore, "[]"},
		{"bytes=+1-2", RangeIgnore, "[]"},
		{"bytes= 0 -1", RangeIgnore, "[]"},
		{"bytes=99999999999999999999-", RangeUnsatisfiable, "[]"},
		{"bytes=0-99999999999999999999", RangeOK, "[{0 1000}]"},
		{"bytes=-99999999999999999999", RangeOK, "[{0 1000}]"},
		{"bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,18-19,20-21,22-23,24-25,26-27,28-29,30-31,32-33", RangeIgnore, "[]"},
	}
	for _, c := range cases {
		got, res := ParseRange([]byte(c.in), size, nil)
		if res != c.res || fmt.Sprint(got) != c.want {
			t.Errorf("%q: %v %v, want %v %s", c.in, res, got, c.res, c.want)
		}
	}
	if _, res := ParseRange([]byte("bytes=0-"), 0, nil); res != RangeUnsatisfiable {
		t.Errorf("bytes=0- on an empty file: %v, want unsatisfiable", res)
	}
}

func TestCoalesce(t *testing.T) {
	cases := []struct{ in, want []ByteRange }{
		{[]ByteRange{{0, 10}}, []ByteRange{{0, 10}}},
		{[]ByteRange{{10, 10}, {0, 10}}, []ByteRange{{0, 20}}},
		{[]ByteRange{{0, 10}, {5, 3}}, []ByteRange{{0, 10}}},
		{[]ByteRange{{0, 10}, {11, 5}}, []ByteRange{{0, 10}, {11, 5}}},
		{[]ByteRange{{50, 10}, {0, 5}, {3, 50}}, []ByteRange{{0, 60}}},
	}
	for _, c := range cases {
		if got := Coalesce(append([]ByteRange(nil), c.in...)); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: got %v, want %v", c.in, got, c.want)
		}
	}
}

// Every range ParseRange returns lies within the file and is non-empty.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-5", "bytes=5-", "bytes=1-2,3-4", "bytes=x", "bytes=-0"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			size = -size
		}
		rs, res := ParseRange([]byte(v), size, nil)
		if res != RangeOK && len(rs) != 0 {
			t.Fatalf("%q: %v with ranges %v", v, res, rs)
		}
		if res == RangeOK && len(rs) == 0 {
			t.Fatalf("%q: OK without ranges", v)
		}
		for _, r := range Coalesce(rs) {
			if r.Len <= 0 || r.Start < 0 || r.Start+r.Len > size {
				t.Fatalf("%q size %d: range %v out of the file", v, size, r)
			}
		}
	})
}

// The byte-range cases of the static-file tests, on a 1000-byte file: what
// ParseRange selects and Coalesce then merges. The static-file handler
// answers RangeOK with one range as 206 with those bytes, RangeOK with
// ranges that stay apart as 200 with the whole file, RangeUnsatisfiable as
// 416 and RangeIgnore as 200 with the whole file (handlers/static_test.go
// checks those answers).
func TestRangeSelection(t *testing.T) {
	const size = 1000
	list := func(from, n int) string { // n one-byte ranges from byte from on
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("%d-%d", from+i, from+i)
		}
		return "bytes=" + strings.Join(parts, ",")
	}
	cases := []struct {
		name, rng string
		res       RangeResult
		want      string // the ranges after Coalesce
	}{
		// 206 with one range
		{"first byte", "bytes=0-0", RangeOK, "[{0 1}]"},
		{"first hundred", "bytes=0-99", RangeOK, "[{0 100}]"},
		{"middle", "bytes=100-199", RangeOK, "[{100 100}]"},
		{"last byte", "bytes=999-999", RangeOK, "[{999 1}]"},
		{"open end", "bytes=990-", RangeOK, "[{990 10}]"},
		{"whole as a range", "bytes=0-", RangeOK, "[{0 1000}]"},
		{"suffix", "bytes=-10", RangeOK, "[{990 10}]"},
		{"suffix of one", "bytes=-1", RangeOK, "[{999 1}]"},
		{"suffix equal to size", "bytes=-1000", RangeOK, "[{0 1000}]"},
		{"suffix longer than the file", "bytes=-5000", RangeOK, "[{0 1000}]"},
		{"end past EOF clipped", "bytes=995-2000", RangeOK, "[{995 5}]"},
		{"huge end clipped", "bytes=0-99999999999", RangeOK, "[{0 1000}]"},
		{"end past int64 clipped", "bytes=0-99999999999999999999", RangeOK, "[{0 1000}]"},
		{"suffix past int64: the whole file", "bytes=-99999999999999999999", RangeOK, "[{0 1000}]"},
		{"unit is case-insensitive", "Bytes=0-1", RangeOK, "[{0 2}]"},

		// 416
		{"start at size", "bytes=1000-", RangeUnsatisfiable, "[]"},
		{"start past size", "bytes=1010-1020", RangeUnsatisfiable, "[]"},
		{"empty suffix", "bytes=-0", RangeUnsatisfiable, "[]"},
		{"start past int64", "bytes=99999999999999999999-", RangeUnsatisfiable, "[]"},
		{"several, none satisfiable", "bytes=1000-1001,2000-", RangeUnsatisfiable, "[]"},

		// 200: the header is ignored
		{"malformed letters", "bytes=abc", RangeIgnore, "[]"},
		{"malformed reversed", "bytes=5-2", RangeIgnore, "[]"},
		{"other unit", "items=0-1", RangeIgnore, "[]"},
		{"empty set", "bytes=", RangeIgnore, "[]"},
		{"three numbers", "bytes=1-2-3", RangeIgnore, "[]"},
		{"missing equals", "bytes 0-1", RangeIgnore, "[]"},
		{"missing equals, glued", "bytes0-1", RangeIgnore, "[]"},

		// several ranges that coalesce into one: 206
		{"touching", "bytes=0-9,10-19", RangeOK, "[{0 20}]"},
		{"touching, unsorted", "bytes=10-19,0-9", RangeOK, "[{0 20}]"},
		{"touching, with OWS", "bytes=0-9, 10-19", RangeOK, "[{0 20}]"},
		{"overlapping", "bytes=0-9,5-14", RangeOK, "[{0 15}]"},
		{"contained", "bytes=0-99,10-19", RangeOK, "[{0 100}]"},
		{"open end and suffix overlap", "bytes=990-,-5", RangeOK, "[{990 10}]"},
		{"one satisfiable of two", "bytes=0-9,2000-3000", RangeOK, "[{0 10}]"},
		{"sixteen touching", list(0, 16), RangeOK, "[{0 16}]"},

		// several ranges that stay apart: 200; too many: ignored, 200
		{"apart", "bytes=0-9,20-29", RangeOK, "[{0 10} {20 10}]"},
		{"three apart", "bytes=0-0,2-2,4-4", RangeOK, "[{0 1} {2 1} {4 1}]"},
		{"seventeen touching: too many", list(0, 17), RangeIgnore, "[]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, res := ParseRange([]byte(c.rng), size, nil)
			got = Coalesce(got)
			if res != c.res || fmt.Sprint(got) != c.want {
				t.Errorf("%q on %d bytes: %v %v, want %v %s", c.rng, size, res, got, c.res, c.want)
			}
		})
	}
}
