package protocol

import (
	"bytes"
	"iter"
	"reflect"
	"testing"
	"unsafe"
)

// fuzzParsers covers both wire formats and, with tiny limits, the 414/431
// paths that the default limits hide from short inputs.
var fuzzParsers = []Parser{
	{Limits: DefaultLimits, Compat: Modern},
	{Limits: DefaultLimits, Compat: Classic},
	{Limits: Limits{MaxRequestLine: 24, MaxHeaderBytes: 64, MaxHeaders: 3}, Compat: Modern},
}

// fuzzSuffixes are appended to a decided input; none may change the answer.
var fuzzSuffixes = [][]byte{
	[]byte("\n"),
	[]byte("\r\n"),
	[]byte("\r\n\r\n"),
	[]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	[]byte("\x00\xff"),
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		browserGET,
		"GET /search?q=go&x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
		"GET http://example.com?x=/y HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\n\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
		"GET /a?b#c HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
		"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n\r\n",
		"GET / HTTP/1.1\r\nX: 1\r\n\r\n",
		"GET / HTTP/1.1\r\n",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, in []byte) {
		// An exact-capacity copy: the parser can reach nothing but these bytes.
		buf := append(make([]byte, 0, len(in)), in...)
		var req, again Request
		for pi := range fuzzParsers {
			p := &fuzzParsers[pi]
			n, st := p.Parse(buf, &req)
			checkParseResult(t, p, buf, &req, n, st)

			if st == 0 && n == 0 {
				continue // undecided: more bytes may change anything
			}
			want := snapshot(&req)

			// The decided answer must not depend on what follows...
			for _, sfx := range fuzzSuffixes {
				longer := append(append(make([]byte, 0, len(buf)+len(sfx)), buf...), sfx...)
				n2, st2 := p.Parse(longer, &again)
				if n2 != n || st2 != st {
					t.Fatalf("%s: %q gives (%d, %d) but with %q appended (%d, %d)", p.Compat, buf, n, st, sfx, n2, st2)
				}
				if st == 0 && !reflect.DeepEqual(snapshot(&again), want) {
					t.Fatalf("%s: %q parses differently with %q appended:\n%+v\n%+v", p.Compat, buf, sfx, want, snapshot(&again))
				}
			}
			// ...nor on how it was split: every prefix is undecided or already
			// the same error, and a complete head is undecided until its end.
			for k := range prefixLens(buf, &p.Limits) {
				if p.Compat == Classic {
					break // only check() differs, and it runs on complete heads only
				}
				part := buf[:k:k]
				n2, st2 := p.Parse(part, &again)
				switch {
				case st2 == 0 && n2 == 0:
				case st != 0 && st2 == st:
				case st == 0 && st2 == 0 && k >= n && n2 == n:
				default:
					t.Fatalf("%s: %q gives (%d, %d) but its prefix %q gives (%d, %d)", p.Compat, buf, n, st, part, n2, st2)
				}
			}
			if st != 0 {
				continue
			}
			// The head alone parses to the same request.
			n2, st2 := p.Parse(buf[:n:n], &again)
			if n2 != n || st2 != 0 {
				t.Fatalf("%s: head %q alone gives (%d, %d), want (%d, 0)", p.Compat, buf[:n], n2, st2, n)
			}
			if !reflect.DeepEqual(snapshot(&again), want) {
				t.Fatalf("%s: head %q alone parses differently:\n%+v\n%+v", p.Compat, buf[:n], want, snapshot(&again))
			}
		}
	})
}

func checkParseResult(t *testing.T, p *Parser, buf []byte, req *Request, n, st int) {
	t.Helper()
	switch st {
	case 0:
	case 400, 414, 431, 501, 505:
		return
	default:
		t.Fatalf("%s: %q: status %d is not one the parser may answer", p.Compat, buf, st)
	}
	if n == 0 {
		return
	}
	if n < 0 || n > len(buf) {
		t.Fatalf("%s: %q: head length %d out of range", p.Compat, buf, n)
	}
	if n != req.HeadLen || !bytes.HasSuffix(buf[:n], []byte("\r\n\r\n")) {
		t.Fatalf("%s: %q: head length %d, HeadLen %d", p.Compat, buf, n, req.HeadLen)
	}
	if n > p.Limits.MaxHeaderBytes || len(req.Headers) > p.Limits.MaxHeaders {
		t.Fatalf("%s: %q: limits exceeded but accepted", p.Compat, buf)
	}
	if len(req.Method) == 0 || len(req.Target) == 0 || len(req.Path) == 0 || (req.Minor != 0 && req.Minor != 1) {
		t.Fatalf("%s: %q: incomplete request line %+v", p.Compat, buf, snapshot(req))
	}
	if req.ContentLength < -1 || (req.Chunked && req.ContentLength >= 0) {
		t.Fatalf("%s: %q: framing %+v", p.Compat, buf, snapshot(req))
	}
	if p.Compat == Modern && req.Minor == 1 && req.HostCount != 1 {
		t.Fatalf("%s: %q: HTTP/1.1 accepted with %d Host fields", p.Compat, buf, req.HostCount)
	}
	if p.Compat == Classic && !req.Close {
		t.Fatalf("%s: %q: classic request does not close", p.Compat, buf)
	}
	head := buf[:n]
	within := func(what string, s []byte) {
		if !subslice(head, s) {
			t.Fatalf("%s: %q: %s %q does not point into the head", p.Compat, buf, what, s)
		}
	}
	within("Method", req.Method)
	within("Target", req.Target)
	within("Path", req.Path)
	within("Query", req.Query)
	within("HeaderBlock", req.HeaderBlock)
	within("Host", req.Host)
	within("Accept", req.Accept)
	within("Expect", req.Expect)
	for _, h := range req.Headers {
		within("header name", h.Name)
		within("header value", h.Value)
		if len(h.Name) == 0 {
			t.Fatalf("%s: %q: empty header name accepted", p.Compat, buf)
		}
		if !subslice(req.HeaderBlock, h.Name) || !subslice(req.HeaderBlock, h.Value) {
			t.Fatalf("%s: %q: header %q: %q outside HeaderBlock", p.Compat, buf, h.Name, h.Value)
		}
	}
}

// subslice reports whether s lies within b's bytes (a nil s always does).
func subslice(b, s []byte) bool {
	if s == nil {
		return true
	}
	if len(b) == 0 {
		return len(s) == 0
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(b))
}

// prefixLens yields the prefix lengths k < len(buf) to try. Short inputs get
// every k. Longer ones, to keep each run cheap enough for the fuzzer to
// explore (and minimize) quickly, get the k at which an answer can change:
// either side of each CR and LF, around the limits, and the last byte.
// TestParseSplit covers every k of the table cases.
func prefixLens(buf []byte, lim *Limits) iter.Seq[int] {
	return func(yield func(int) bool) {
		lead := 0 // leading empty lines shift where the request line starts
		for lead+1 < len(buf) && buf[lead] == '\r' && buf[lead+1] == '\n' {
			lead += 2
		}
		near := func(k, at int) bool { return k >= at-2 && k <= at+2 }
		for k := range len(buf) {
			if len(buf) > 64 && k < len(buf)-1 &&
				!near(k, lead+lim.MaxRequestLine) && !near(k, lim.MaxHeaderBytes) &&
				buf[k] != '\r' && buf[k] != '\n' && (k == 0 || buf[k-1] != '\r' && buf[k-1] != '\n') {
				continue
			}
			if !yield(k) {
				return
			}
		}
	}
}

// FuzzValidValue holds the word-at-a-time value check to the byte loop.
func FuzzValidValue(f *testing.F) {
	for _, s := range []string{"", "text/html", "a\tb", "x\x7fy", "0123456789abcdef\x00", "\x80\xff\x1f", "        \r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		want := true
		for _, c := range v {
			if badValueByte[c] {
				want = false
			}
		}
		if got := validValue(v); got != want {
			t.Fatalf("validValue(%q) = %v, want %v", v, got, want)
		}
	})
}
