package protocol

import (
	"fmt"
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
