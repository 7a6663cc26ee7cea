package protocol

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func newReq(method string, minor int) *Request {
	return &Request{Method: []byte(method), Target: []byte("/"), Path: []byte("/"), Minor: minor, ContentLength: -1}
}

// normalizeDate checks the Date field of a modern head and replaces its
// value with "<date>" so that the rest can be compared byte for byte.
func normalizeDate(t *testing.T, head string) string {
	t.Helper()
	const key = "\r\nDate: "
	i := strings.Index(head, key)
	if i < 0 {
		t.Fatalf("no Date field in %q", head)
	}
	v := head[i+len(key):]
	v = v[:strings.Index(v, "\r\n")]
	checkDate(t, v)
	return head[:i+len(key)] + "<date>" + head[i+len(key)+len(v):]
}

func checkDate(t *testing.T, v string) {
	t.Helper()
	got, err := http.ParseTime(v)
	if err != nil {
		t.Fatalf("Date %q: %v", v, err)
	}
	if _, err := time.Parse(http.TimeFormat, v); err != nil || !strings.HasSuffix(v, " GMT") {
		t.Fatalf("Date %q is not an IMF-fixdate: %v", v, err)
	}
	// A sanity bound on the clock, not a timing assertion.
	if d := time.Since(got); d < -time.Minute || d > time.Minute {
		t.Fatalf("Date %q is %v away from now", v, d)
	}
}

// encodeOne encodes r into a fresh batch and checks the spans.
func encodeOne(t *testing.T, e *Encoder, req *Request, r *Reply) (Item, string, string) {
	t.Helper()
	var b Batch
	e.Encode(&b, req, r)
	if len(b.Items) != 1 {
		t.Fatalf("%d items, want 1", len(b.Items))
	}
	it := b.Items[0]
	if it.Head.Start != 0 || it.Head.End != it.Body.Start || it.Body.End != len(b.Buf) {
		t.Fatalf("spans head %+v body %+v over %d bytes", it.Head, it.Body, len(b.Buf))
	}
	return it, string(b.Buf[it.Head.Start:it.Head.End]), string(b.Buf[it.Body.Start:it.Body.End])
}

func TestEncodeModern(t *testing.T) {
	e := &Encoder{Compat: Modern, Server: "test-server"}
	const pre = "Server: test-server\r\nDate: <date>\r\n"
	file := FileSegment{Fd: 7, Off: 100, Len: 4096}
	closing := newReq("GET", 1)
	closing.Close = true
	failed := newReq("GET", 1)
	failed.Err = 431
	old := newReq("GET", 0)
	old.KeepAlive = true
	oldClose := newReq("GET", 0)
	oldClose.Close = true

	cases := []struct {
		name      string
		req       *Request
		reply     Reply
		head      string
		body      string
		close     bool
		hasFile   bool
		file      FileSegment
		bodyBytes int64
	}{
		{name: "200 text", req: newReq("GET", 1),
			reply: Reply{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("hello")},
			head:  "HTTP/1.1 200 OK\r\n" + pre + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n",
			body:  "hello", bodyBytes: 5},
		{name: "404 empty without type", req: newReq("GET", 1),
			reply: Reply{Status: 404},
			head:  "HTTP/1.1 404 Not Found\r\n" + pre + "Content-Length: 0\r\n\r\n"},
		{name: "extra fields after length", req: newReq("GET", 1),
			reply: Reply{Status: 301, Fields: []Field{{"Location", "/dir/"}, {"Cache-Control", "no-cache"}}},
			head:  "HTTP/1.1 301 Moved Permanently\r\n" + pre + "Content-Length: 0\r\nLocation: /dir/\r\nCache-Control: no-cache\r\n\r\n"},
		{name: "reply closes", req: newReq("GET", 1),
			reply: Reply{Status: 503, ContentType: "text/plain", Body: []byte("busy\n"), Close: true},
			head:  "HTTP/1.1 503 Service Unavailable\r\n" + pre + "Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
			body:  "busy\n", close: true, bodyBytes: 5},
		{name: "request closes", req: closing,
			reply: Reply{Status: 200, Body: []byte("x"), Fields: []Field{{"X-A", "1"}}},
			head:  "HTTP/1.1 200 OK\r\n" + pre + "Content-Length: 1\r\nX-A: 1\r\nConnection: close\r\n\r\n",
			body:  "x", close: true, bodyBytes: 1},
		{name: "request failed", req: failed,
			reply: Reply{Status: 431},
			head:  "HTTP/1.1 431 Request Header Fields Too Large\r\n" + pre + "Content-Length: 0\r\nConnection: close\r\n\r\n",
			close: true},
		{name: "http/1.0 keep-alive", req: old,
			reply: Reply{Status: 200, Body: []byte("ok")},
			head:  "HTTP/1.1 200 OK\r\n" + pre + "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n",
			body:  "ok", bodyBytes: 2},
		{name: "http/1.0 close", req: oldClose,
			reply: Reply{Status: 200, Body: []byte("ok")},
			head:  "HTTP/1.1 200 OK\r\n" + pre + "Content-Length: 2\r\nConnection: close\r\n\r\n",
			body:  "ok", close: true, bodyBytes: 2},
		{name: "HEAD keeps length drops body", req: newReq("HEAD", 1),
			reply: Reply{Status: 200, ContentType: "text/html", Body: []byte("<p>hi</p>")},
			head:  "HTTP/1.1 200 OK\r\n" + pre + "Content-Type: text/html\r\nContent-Length: 9\r\n\r\n"},
		{name: "file", req: newReq("GET", 1),
			reply:   Reply{Status: 200, ContentType: "application/octet-stream", File: file, HasFile: true},
			head:    "HTTP/1.1 200 OK\r\n" + pre + "Content-Type: application/octet-stream\r\nContent-Length: 4096\r\n\r\n",
			hasFile: true, file: file, bodyBytes: 4096},
		{name: "HEAD file still owns fd", req: newReq("HEAD", 1),
			reply:   Reply{Status: 200, File: file, HasFile: true},
			head:    "HTTP/1.1 200 OK\r\n" + pre + "Content-Length: 4096\r\n\r\n",
			hasFile: true, file: FileSegment{Fd: 7, Off: 100, Len: 0}},
		{name: "unknown status", req: newReq("GET", 1),
			reply: Reply{Status: 299},
			head:  "HTTP/1.1 299 Unknown\r\n" + pre + "Content-Length: 0\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it, head, body := encodeOne(t, e, c.req, &c.reply)
			if got := normalizeDate(t, head); got != c.head {
				t.Errorf("head\n got %q\nwant %q", got, c.head)
			}
			if body != c.body {
				t.Errorf("body %q, want %q", body, c.body)
			}
			if it.Status != c.reply.Status || it.Close != c.close || it.HasFile != c.hasFile || it.File != c.file {
				t.Errorf("item %+v, want status %d close %v hasFile %v file %+v",
					it, c.reply.Status, c.close, c.hasFile, c.file)
			}
			if it.BodyLen() != c.bodyBytes {
				t.Errorf("BodyLen %d, want %d", it.BodyLen(), c.bodyBytes)
			}
		})
	}
}

func TestEncodeClassic(t *testing.T) {
	e := &Encoder{Compat: Classic, Server: "ignored"}
	file := FileSegment{Fd: 9, Off: 0, Len: 1 << 20}
	keep := newReq("GET", 1)
	keep.KeepAlive = true
	cases := []struct {
		name      string
		req       *Request
		reply     Reply
		status    int
		head      string
		body      string
		hasFile   bool
		file      FileSegment
		bodyBytes int64
	}{
		{name: "200", req: keep,
			reply:  Reply{Status: 200, ContentType: "text/html", Body: []byte("<h1>hi</h1>"), Fields: []Field{{"X", "y"}}},
			status: 200, head: "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", body: "<h1>hi</h1>", bodyBytes: 11},
		{name: "200 empty", req: newReq("GET", 0),
			reply:  Reply{Status: 200},
			status: 200, head: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{name: "200 HEAD", req: newReq("HEAD", 1),
			reply:  Reply{Status: 200, Body: []byte("hello")},
			status: 200, head: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
		{name: "200 file", req: newReq("GET", 1),
			reply:  Reply{Status: 200, ContentType: "image/png", File: file, HasFile: true},
			status: 200, head: "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n",
			hasFile: true, file: file, bodyBytes: 1 << 20},
		{name: "200 HEAD file", req: newReq("HEAD", 1),
			reply:  Reply{Status: 200, File: file, HasFile: true},
			status: 200, head: "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n",
			hasFile: true, file: FileSegment{Fd: 9}},
		{name: "400", req: newReq("GET", 1),
			reply:  Reply{Status: 400, ContentType: "text/plain", Body: []byte("bad request\n")},
			status: 400, head: "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{name: "404", req: newReq("GET", 1),
			reply:  Reply{Status: 404, ContentType: "text/html", Body: []byte("<h1>404</h1>"), Fields: []Field{{"X", "y"}}},
			status: 404, head: "HTTP/1.1 404 Not Found\r\n\r\n"},
		{name: "404 with file closes it", req: newReq("GET", 1),
			reply:  Reply{Status: 404, File: file, HasFile: true},
			status: 404, head: "HTTP/1.1 404 Not Found\r\n\r\n", hasFile: true, file: FileSegment{Fd: 9}},
		{name: "413", req: newReq("POST", 1), reply: Reply{Status: 413, Body: []byte("too big")},
			status: 413, head: "HTTP/1.1 413 Request Entity Too Large\r\n\r\n"},
		{name: "414 is 413", req: newReq("GET", 1), reply: Reply{Status: 414},
			status: 413, head: "HTTP/1.1 413 Request Entity Too Large\r\n\r\n"},
		{name: "431 is 413", req: newReq("GET", 1), reply: Reply{Status: 431},
			status: 413, head: "HTTP/1.1 413 Request Entity Too Large\r\n\r\n"},
		{name: "403 is 400", req: newReq("GET", 1), reply: Reply{Status: 403, Body: []byte("no")},
			status: 400, head: "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{name: "405 is 400", req: newReq("PUT", 1), reply: Reply{Status: 405},
			status: 400, head: "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{name: "500 is 400", req: newReq("GET", 1), reply: Reply{Status: 500},
			status: 400, head: "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{name: "501 is 400", req: newReq("POST", 1), reply: Reply{Status: 501},
			status: 400, head: "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{name: "505 is 400", req: newReq("GET", 1), reply: Reply{Status: 505},
			status: 400, head: "HTTP/1.1 400 Bad Request\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it, head, body := encodeOne(t, e, c.req, &c.reply)
			if head != c.head || body != c.body {
				t.Errorf("got %q + %q, want %q + %q", head, body, c.head, c.body)
			}
			if it.Status != c.status || !it.Close || it.HasFile != c.hasFile || it.File != c.file {
				t.Errorf("item %+v, want status %d, close, hasFile %v file %+v", it, c.status, c.hasFile, c.file)
			}
			if it.BodyLen() != c.bodyBytes {
				t.Errorf("BodyLen %d, want %d", it.BodyLen(), c.bodyBytes)
			}
		})
	}
}

// TestEncodeBatch encodes a pipeline's worth of replies into one batch: the
// items are in order, contiguous, and each equals its encoding alone.
func TestEncodeBatch(t *testing.T) {
	for _, compat := range []Compat{Modern, Classic} {
		t.Run(compat.String(), func(t *testing.T) {
			e := &Encoder{Compat: compat, Server: "s"}
			reqs := []*Request{newReq("GET", 1), newReq("HEAD", 1), newReq("GET", 1), newReq("GET", 0)}
			replies := []Reply{
				{Status: 200, ContentType: "text/plain", Body: []byte("first")},
				{Status: 200, Body: []byte("not sent")},
				{Status: 200, File: FileSegment{Fd: 3, Len: 10}, HasFile: true},
				{Status: 404, Body: []byte("missing")},
			}
			var b Batch
			b.Buf = append(b.Buf, "stale"...) // Reset must drop it
			b.Items = append(b.Items, Item{Status: 999})
			b.Reset()
			for i := range reqs {
				e.Encode(&b, reqs[i], &replies[i])
			}
			if len(b.Items) != len(reqs) {
				t.Fatalf("%d items, want %d", len(b.Items), len(reqs))
			}
			end := 0
			for i, it := range b.Items {
				if it.Head.Start != end || it.Head.End <= it.Head.Start || it.Body.Start != it.Head.End || it.Body.End < it.Body.Start {
					t.Fatalf("item %d: head %+v body %+v, previous end %d", i, it.Head, it.Body, end)
				}
				end = it.Body.End
				_, head, body := encodeOne(t, e, reqs[i], &replies[i])
				gotHead, gotBody := string(b.Buf[it.Head.Start:it.Head.End]), string(b.Buf[it.Body.Start:it.Body.End])
				if compat == Modern {
					head, gotHead = normalizeDate(t, head), normalizeDate(t, gotHead)
				}
				if gotHead != head || gotBody != body {
					t.Errorf("item %d: %q + %q, alone %q + %q", i, gotHead, gotBody, head, body)
				}
			}
			if end != len(b.Buf) {
				t.Fatalf("items end at %d, buffer holds %d", end, len(b.Buf))
			}
			if !b.Items[2].HasFile || b.Items[2].Body.Len() != 0 {
				t.Errorf("file item %+v", b.Items[2])
			}

			capBuf, capItems := cap(b.Buf), cap(b.Items)
			b.Reset()
			if len(b.Buf) != 0 || len(b.Items) != 0 || cap(b.Buf) != capBuf || cap(b.Items) != capItems {
				t.Errorf("Reset: len %d/%d cap %d/%d, want 0/0 %d/%d",
					len(b.Buf), len(b.Items), cap(b.Buf), cap(b.Items), capBuf, capItems)
			}
		})
	}
}

func TestAppendDate(t *testing.T) {
	a := string(appendDate(nil))
	checkDate(t, a)
	b := string(appendDate([]byte("x")))
	if b[0] != 'x' || len(b) != 1+len(http.TimeFormat) {
		t.Fatalf("appendDate did not append: %q", b)
	}
	checkDate(t, b[1:])
}

func TestStatusText(t *testing.T) {
	// RFC 9110 section 15 reason phrases.
	for code, want := range map[int]string{
		100: "Continue", 200: "OK", 206: "Partial Content", 301: "Moved Permanently",
		304: "Not Modified", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
		405: "Method Not Allowed", 408: "Request Timeout", 411: "Length Required",
		413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
		417: "Expectation Failed", 431: "Request Header Fields Too Large",
		500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
		505: "HTTP Version Not Supported", 299: "Unknown", 412: "Precondition Failed",
		204: "No Content", 308: "Permanent Redirect",
	} {
		if got := StatusText(code); got != want {
			t.Errorf("StatusText(%d) = %q, want %q", code, got, want)
		}
	}
}

// Every status in the table has a reason, and every error status a body
// naming it: no status can go out as "Unknown".
func TestStatusTable(t *testing.T) {
	seen := map[int]bool{}
	for _, s := range Statuses {
		if seen[s.Code] {
			t.Errorf("status %d listed twice", s.Code)
		}
		seen[s.Code] = true
		if s.Reason == "" || StatusText(s.Code) != s.Reason {
			t.Errorf("status %d: reason %q, StatusText %q", s.Code, s.Reason, StatusText(s.Code))
		}
		if want := s.Reason + "\n"; s.Code >= 400 && string(ErrorBody(s.Code)) != want {
			t.Errorf("ErrorBody(%d) = %q, want %q", s.Code, ErrorBody(s.Code), want)
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	e := &Encoder{Compat: Modern, Server: "http_server"}
	req := newReq("GET", 1)
	reply := &Reply{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("Hello, World!\n"),
		Fields: []Field{{"Cache-Control", "no-cache"}}}
	var b Batch
	allocs := testing.AllocsPerRun(1000, func() {
		b.Reset()
		e.Encode(&b, req, reply)
	})
	if allocs != 0 {
		t.Errorf("Encode of a small modern reply into a reused batch: %v allocs/op, want 0", allocs)
	}
}
