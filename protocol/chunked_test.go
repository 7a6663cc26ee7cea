package protocol

import (
	"bytes"
	"io"
	"net/http/httputil"
	"testing"
)

var chunkedCases = []struct {
	in     string
	status int    // 0: valid
	body   string // decoded, for valid ones
}{
	{"0\r\n\r\n", 0, ""},
	{"5\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, "hello world"},
	{"A\r\n0123456789\r\n0\r\n\r\n", 0, "0123456789"},
	{"a\r\n0123456789\r\n0\r\n\r\n", 0, "0123456789"},
	{"5;ext=1\r\nhello\r\n0;last\r\n\r\n", 0, "hello"},
	{"5 ;ext\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5\r\nhello\r\n0\r\nX-Trailer: yes\r\nY: z\r\n\r\n", 0, "hello"},
	{"005\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5\r\nhello\n0\r\n\r\n", 400, ""},          // bare LF after data
	{"5\nhello\r\n0\r\n\r\n", 400, ""},          // bare LF after size
	{"5\r\nhelloX\r\n0\r\n\r\n", 400, ""},       // data longer than its size
	{"x\r\nhello\r\n0\r\n\r\n", 400, ""},        // not hex
	{"\r\nhello\r\n0\r\n\r\n", 400, ""},         // empty size
	{"-5\r\nhello\r\n0\r\n\r\n", 400, ""},       // sign
	{"5 x\r\nhello\r\n0\r\n\r\n", 400, ""},      // junk after size
	{"5;a\x00b\r\nhello\r\n0\r\n\r\n", 400, ""}, // NUL in extension
	{"1000000000000000\r\n", 400, ""},           // 16 hex digits
	{"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", 400, ""},
	{"5\r\nhello\r\n0\r\n : x\r\n\r\n", 400, ""},
	{"5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n", 400, ""},
	{"5\r\nhello\r\n0\r\n\n", 400, ""},
	{"401\r\n", 413, ""}, // 1025 bytes announced against a 1024 limit
}

func TestChunkScan(t *testing.T) {
	for _, c := range chunkedCases {
		var s ChunkScanner
		raw, done, st := s.Scan([]byte(c.in), 1024, 1024)
		if st != c.status {
			t.Errorf("%q: status %d, want %d", c.in, st, c.status)
			continue
		}
		if c.status != 0 {
			continue
		}
		if !done || raw != len(c.in) {
			t.Errorf("%q: done=%v raw=%d, want done with %d", c.in, done, raw, len(c.in))
			continue
		}
		if got := DecodeChunked([]byte(c.in)); string(got) != c.body {
			t.Errorf("%q: decoded %q, want %q", c.in, got, c.body)
		}
	}
}

// Fed one byte at a time, the scanner reaches the same verdict, and a
// complete body followed by more bytes ends where it ended alone.
func TestChunkScanSplit(t *testing.T) {
	for _, c := range chunkedCases {
		var s ChunkScanner
		var st, raw int
		done := false
		for k := 1; k <= len(c.in) && !done && st == 0; k++ {
			raw, done, st = s.Scan([]byte(c.in[:k]), 1024, 1024)
			if done && k != len(c.in) {
				t.Errorf("%q: done after %d of %d bytes", c.in, k, len(c.in))
			}
		}
		if st != c.status || (c.status == 0 && (!done || raw != len(c.in))) {
			t.Errorf("%q byte by byte: status %d done %v raw %d", c.in, st, done, raw)
		}
		if c.status == 0 {
			var s2 ChunkScanner
			if raw, done, _ := s2.Scan([]byte(c.in+"GET / HTTP/1.1\r\n"), 1024, 1024); !done || raw != len(c.in) {
				t.Errorf("%q with a pipelined request after it: done %v raw %d", c.in, done, raw)
			}
		}
	}
}

func TestChunkTrailerLimit(t *testing.T) {
	var s ChunkScanner
	body := "0\r\nX: " + string(bytes.Repeat([]byte("a"), 100)) + "\r\n\r\n"
	if _, _, st := s.Scan([]byte(body), 1024, 50); st != 431 {
		t.Fatalf("trailer over the limit: %d, want 431", st)
	}
}

// What the scanner accepts, the standard library decodes to the same bytes.
func FuzzChunked(f *testing.F) {
	for _, c := range chunkedCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var s ChunkScanner
		raw, done, st := s.Scan(in, 1<<20, 4096)
		if st != 0 || !done {
			return
		}
		if raw <= 0 || raw > len(in) {
			t.Fatalf("raw %d of %d", raw, len(in))
		}
		want, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in[:raw])))
		got := DecodeChunked(append([]byte(nil), in[:raw]...))
		if int64(len(got)) != s.Size() {
			t.Fatalf("decoded %d bytes, scanner counted %d", len(got), s.Size())
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q: decoded %q, net/http %q", in[:raw], got, want)
		}
	})
}
