package protocol

import (
	"bytes"
	"fmt"
	"io"
	"net/http/httputil"
	"strings"
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

	// Chunk extensions (RFC 9112 section 7.1.1): valid forms.
	{"5;name\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5;name=value\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5 ; name = \"quoted \\\" value\"\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5\t;\tname\t=\ttoken\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5;a=1;b;c=\"x;y=z\";d\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5 ;a ;b= 2\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5;name=\"\"\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5;n=\"\\\\ \\\t\\a\x80\xff\"\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"5;!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~\r\nhello\r\n0\r\n\r\n", 0, "hello"},
	{"F\r\n0123456789abcde\r\n0\r\n\r\n", 0, "0123456789abcde"},
	{"00000000000005\r\nhello\r\n000\r\n\r\n", 0, "hello"},
	{"5\r\nhello\r\n0;last=\"yes\"\r\n\r\n", 0, "hello"},

	// Chunk extensions: broken forms.
	{"5;\r\nhello\r\n0\r\n\r\n", 400, ""},             // no extension name
	{"5;bad[=x\r\nhello\r\n0\r\n\r\n", 400, ""},       // name not a token
	{"5 \r\nhello\r\n0\r\n\r\n", 400, ""},             // whitespace after the size, no ";"
	{"5\t\r\nhello\r\n0\r\n\r\n", 400, ""},            // the same with HTAB
	{"5 ;\r\nhello\r\n0\r\n\r\n", 400, ""},            // BWS, then no name
	{"5;name \r\nhello\r\n0\r\n\r\n", 400, ""},        // whitespace at the end
	{"5;name=value \r\nhello\r\n0\r\n\r\n", 400, ""},  // whitespace at the end
	{"5;name=\r\nhello\r\n0\r\n\r\n", 400, ""},        // "=" without a value
	{"5;=value\r\nhello\r\n0\r\n\r\n", 400, ""},       // value without a name
	{"5;;name\r\nhello\r\n0\r\n\r\n", 400, ""},        // empty extension
	{"5;name;\r\nhello\r\n0\r\n\r\n", 400, ""},        // trailing ";"
	{"5;na me\r\nhello\r\n0\r\n\r\n", 400, ""},        // two words
	{"5;name=va lue\r\nhello\r\n0\r\n\r\n", 400, ""},  // two words as a value
	{"5;name=[x]\r\nhello\r\n0\r\n\r\n", 400, ""},     // value neither token nor quoted
	{"5;name=\"open\r\nhello\r\n0\r\n\r\n", 400, ""},  // unterminated quoted-string
	{"5;name=\"a\\\"\r\nhello\r\n0\r\n\r\n", 400, ""}, // escaped closing quote
	{"5;name=\"a\"b\r\nhello\r\n0\r\n\r\n", 400, ""},  // junk after the quoted-string
	{"5;name=\"a\x7fb\"\r\nhello\r\n0\r\n\r\n", 400, ""},
	{"5;name=\"a\\\x01\"\r\nhello\r\n0\r\n\r\n", 400, ""},
	{"5;name=a\rb\r\nhello\r\n0\r\n\r\n", 400, ""}, // CR in the line
	{"5;name\x80\r\nhello\r\n0\r\n\r\n", 400, ""},  // obs-text outside quotes
	{"5 5\r\nhello\r\n0\r\n\r\n", 400, ""},         // two sizes
	{"5\r\nhello\r\n0;\r\n\r\n", 400, ""},          // the last chunk's extension too
	{"5\r\nhello\r\n0 \r\n\r\n", 400, ""},
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

// chunkedOf is a chunked body of n chunks of size bytes each, the i-th
// with the extension ext(i) ("" for none), then the last chunk.
func chunkedOf(n, size int, ext func(i int) string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%x%s\r\n%s\r\n", size, ext(i), strings.Repeat("d", size))
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// extOf returns an extension ";x=eee..." of exactly n bytes (n >= 4).
func extOf(n int) func(int) string {
	return func(int) string { return ";x=" + strings.Repeat("e", n-3) }
}

// Chunk metadata is bounded against the data as net/http bounds it
// (CVE-2023-39326): each chunk may spend 16 bytes plus twice its data on
// its size line and the CRLF after its data, and the excess that builds up
// may not pass 16 KiB. The verdicts agree with net/http's chunked reader,
// whole and byte by byte.
func TestChunkOverhead(t *testing.T) {
	noExt := func(int) string { return "" }
	// A 1-byte chunk whose size line is "1" plus an extension of e bytes
	// leaves 1+e+2-16-2 = e-15 bytes of excess: 16 chunks with 1039-byte
	// extensions are exactly at the bound, one byte more passes it.
	atBound := func(extra int) func(int) string {
		return func(i int) string {
			if i == 0 {
				return extOf(1039 + extra)(i)
			}
			return extOf(1039)(i)
		}
	}
	cases := []struct {
		name   string
		in     string
		status int
	}{
		{"100 one-byte chunks with 1000-byte extensions", chunkedOf(100, 1, extOf(1000)), 400},
		{"1000 one-byte chunks", chunkedOf(1000, 1, noExt), 0},
		{"5000 one-byte chunks", chunkedOf(5000, 1, noExt), 0},
		{"2000 one-byte chunks with 15-byte extensions", chunkedOf(2000, 1, extOf(15)), 0},
		{"2000 one-byte chunks with 24-byte extensions", chunkedOf(2000, 1, extOf(24)), 400},
		{"16 chunks at the bound", chunkedOf(16, 1, atBound(0)), 0},
		{"16 chunks one byte past the bound", chunkedOf(16, 1, atBound(1)), 400},
		{"big chunks pay for long extensions", chunkedOf(100, 1000, extOf(2000)), 0},
		{"16 KiB of overhead, then data", chunkedOf(17, 1, extOf(1000)), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const maxSize = 1 << 20
			var s ChunkScanner
			raw, done, st := s.Scan([]byte(c.in), maxSize, 4096)
			if st != c.status || (st == 0 && (!done || raw != len(c.in))) {
				t.Fatalf("whole: status %d done %v raw %d of %d, want status %d", st, done, raw, len(c.in), c.status)
			}
			s.Reset()
			st, done = 0, false
			in := []byte(c.in)
			for k := 1; k <= len(in) && !done && st == 0; k++ {
				_, done, st = s.Scan(in[:k], maxSize, 4096)
			}
			if st != c.status || (st == 0 && !done) {
				t.Fatalf("byte by byte: status %d done %v, want status %d", st, done, c.status)
			}
			_, err := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(c.in)))
			if (err == nil) != (c.status == 0) {
				t.Errorf("net/http's chunked reader says %v where the scanner says %d", err, c.status)
			}
		})
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
