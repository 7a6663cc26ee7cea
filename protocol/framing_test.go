package protocol

import (
	"fmt"
	"strings"
	"testing"
)

// framed is what framing a stream yields for one request.
type framed struct {
	status int    // 0: complete
	body   string // decoded body of a complete request
}

// frameStream drives Parser and Framing over stream the way the reactor
// does, with the bytes arriving step at a time (0: all at once): after each
// arrival, every complete request is taken, and an incomplete one waits for
// more. It stops at the first error, as the reactor drops what follows.
func frameStream(t *testing.T, stream string, step int, limit int64, expect bool) (out []framed, continues int) {
	t.Helper()
	p := Parser{Limits: DefaultLimits, Compat: Modern}
	f := NewFraming(expect, DefaultLimits.MaxHeaderBytes)
	buf := []byte(stream)
	if step <= 0 {
		step = len(buf)
	}
	pos := 0
	var req Request
	for have := min(step, len(buf)); ; have = min(have+step, len(buf)) {
		for pos < have {
			req.Reset()
			n, status := p.Parse(buf[pos:have], &req)
			if status == 0 && n == 0 {
				break
			}
			if status == 0 {
				status = f.Admit(&req, limit)
			}
			raw, done := 0, false
			if status == 0 {
				raw, done, status = f.Body(&req, buf[pos+n:have], pos, n, limit)
			}
			if status != 0 {
				return append(out, framed{status: status}), continues
			}
			if !done {
				if f.Continue(&req) {
					continues++
				}
				break
			}
			body := f.Take(&req, buf[pos+n:pos+n+raw])
			out = append(out, framed{body: string(body)})
			pos += n + raw
		}
		if have == len(buf) {
			return out, continues
		}
	}
}

func TestFraming(t *testing.T) {
	post := func(body string, extra string) string {
		return fmt.Sprintf("POST /write HTTP/1.1\r\nHost: h\r\n%sContent-Length: %d\r\n\r\n%s", extra, len(body), body)
	}
	chunked := func(raw string, extra string) string {
		return "POST /write HTTP/1.1\r\nHost: h\r\n" + extra + "Transfer-Encoding: chunked\r\n\r\n" + raw
	}
	get := "GET /ping HTTP/1.1\r\nHost: h\r\n\r\n"
	cases := []struct {
		name      string
		stream    string
		limit     int64
		expect    bool
		want      []framed
		continues int
	}{
		{"no body", get + get, 1024, false, []framed{{}, {}}, 0},
		{"content-length", post("hello", "") + get, 1024, false, []framed{{body: "hello"}, {}}, 0},
		{"empty content-length", post("", ""), 1024, false, []framed{{}}, 0},
		{"incomplete body waits", post("hello", "")[:len(post("hello", ""))-1], 1024, false, nil, 0},
		{"declared length past the limit", post("hello", ""), 4, false, []framed{{status: 413}}, 0},
		{"length at the limit", post("hello", ""), 5, false, []framed{{body: "hello"}}, 0},
		{"chunked", chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "") + get, 1024, false,
			[]framed{{body: "hello world"}, {}}, 0},
		{"chunked with trailers", chunked("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", ""), 1024, false,
			[]framed{{body: "hello"}}, 0},
		{"chunked past the limit", chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", ""), 8, false,
			[]framed{{status: 413}}, 0},
		{"broken chunk framing", chunked("5\r\nhelloX\r\n0\r\n\r\n", ""), 1024, false, []framed{{status: 400}}, 0},
		{"trailers past the head limit", chunked("0\r\nX: "+strings.Repeat("a", DefaultLimits.MaxHeaderBytes)+"\r\n\r\n", ""),
			1024, false, []framed{{status: 431}}, 0},
		{"100-continue asked once", post("hello", "Expect: 100-continue\r\n"), 1024, true, []framed{{body: "hello"}}, 1},
		{"100-continue ignored when off", post("hello", "Expect: 100-continue\r\n"), 1024, false, []framed{{body: "hello"}}, 0},
		{"unknown expectation", post("hello", "Expect: 200-ok\r\n"), 1024, true, []framed{{status: 417}}, 0},
		{"unknown expectation when off", post("hello", "Expect: 200-ok\r\n"), 1024, false, []framed{{body: "hello"}}, 0},
		{"100-continue case-insensitive", post("hi", "Expect: 100-Continue\r\n"), 1024, true, []framed{{body: "hi"}}, 1},
		{"no 100-continue for HTTP/1.0",
			"POST /write HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", 1024, true, []framed{{body: "hi"}}, 0},
	}
	for _, c := range cases {
		for _, step := range []int{0, 1, 7} {
			got, continues := frameStream(t, c.stream, step, c.limit, c.expect)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s (step %d): got %v, want %v", c.name, step, got, c.want)
			}
			// Byte by byte, the head is in before any of the body; in
			// larger pieces the body may come with it and need no asking.
			if want := c.continues; step == 1 && continues != want {
				t.Errorf("%s (step %d): %d 100 Continue, want %d", c.name, step, continues, want)
			}
		}
	}
}

// A chunked body that arrives in pieces is scanned from where the last
// look stopped, and a new request starts a new scan.
func TestFramingResumesScan(t *testing.T) {
	f := NewFraming(false, DefaultLimits.MaxHeaderBytes)
	req := Request{Chunked: true, ContentLength: -1}
	body := []byte("5\r\nhello\r\n0\r\n\r\n")
	for i := 0; i < len(body); i++ {
		if _, done, st := f.Body(&req, body[:i], 0, 10, 1024); done || st != 0 {
			t.Fatalf("after %d bytes: done=%v status=%d, want neither", i, done, st)
		}
	}
	raw, done, st := f.Body(&req, body, 0, 10, 1024)
	if !done || st != 0 || raw != len(body) {
		t.Fatalf("whole body: raw=%d done=%v status=%d", raw, done, st)
	}
	if got := f.Take(&req, body[:raw]); string(got) != "hello" {
		t.Fatalf("decoded %q", got)
	}
	// Another request at another offset: the scanner starts again.
	other := []byte("3\r\nabc\r\n0\r\n\r\n")
	if raw, done, st := f.Body(&req, other, 40, 10, 1024); !done || st != 0 || raw != len(other) {
		t.Fatalf("next request: raw=%d done=%v status=%d", raw, done, st)
	}
}

func FuzzFraming(f *testing.F) {
	f.Add("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", 3)
	f.Add("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n", 1)
	f.Fuzz(func(t *testing.T, stream string, step int) {
		// However the bytes arrive, the requests and bodies found are the same.
		whole, _ := frameStream(t, stream, 0, 1<<10, true)
		pieces, _ := frameStream(t, stream, 1+abs(step)%17, 1<<10, true)
		if fmt.Sprint(whole) != fmt.Sprint(pieces) {
			t.Fatalf("all at once %v, in pieces of %d %v", whole, 1+abs(step)%17, pieces)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
