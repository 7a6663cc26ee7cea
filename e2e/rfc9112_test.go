package e2e

// HTTP/1.1 to the letter in modern mode (Host values, ASCII targets, a
// request line too long in its method, OPTIONS on a resource, a POST with
// no framing), and classic mode as lax as the C server with header names.

import (
	"strings"
	"testing"
)

func TestRFC9112RequestValidation(t *testing.T) {
	s := startServer(t, serverOptions{})
	for _, tc := range []struct{ name, req string }{
		{"Host with userinfo", "GET /ping HTTP/1.1\r\nHost: user@127.0.0.1:8080\r\n\r\n"},
		{"Host with a path", "GET /ping HTTP/1.1\r\nHost: 127.0.0.1:8080/path\r\n\r\n"},
		{"Host with two values", "GET /ping HTTP/1.1\r\nHost: 127.0.0.1:8080, other.example\r\n\r\n"},
		{"empty Host", "GET /ping HTTP/1.1\r\nHost:\r\n\r\n"},
		{"raw UTF-8 in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: e2e\r\n\r\n"},
		{"overlong encoding in the target", "GET /\xc0\xaf HTTP/1.1\r\nHost: e2e\r\n\r\n"},
		{"100,000 bytes of method", strings.Repeat("A", 100000)},
	} {
		c := dial(t, s.Addr)
		c.Send(tc.req)
		r := c.ReadResponse(false)
		if r.Status != 400 {
			t.Errorf("%s: %d, want 400\n%q", tc.name, r.Status, r.Head)
		} else {
			c.ExpectClosed()
		}
		c.Close()
	}
	// What stays valid.
	for _, h := range []string{"127.0.0.1:8080", "[::1]:8080", "example.com", "EXAMPLE.com:"} {
		if r := sendOne(t, s.Addr, "GET /ping HTTP/1.1\r\nHost: "+h+"\r\n\r\n"); r.Status != 200 {
			t.Errorf("Host: %s: %d, want 200", h, r.Status)
		}
	}
}

func TestRFC9112OptionsAndEmptyPost(t *testing.T) {
	s := startServer(t, serverOptions{})
	for path, allow := range map[string]string{"/ping": "GET, HEAD, OPTIONS", "/write": "POST, OPTIONS", "/any/file": "GET, HEAD, OPTIONS"} {
		// A 204 has no content: the connection then answers the next request.
		c := dial(t, s.Addr)
		c.Send("OPTIONS " + path + " HTTP/1.1\r\nHost: e2e\r\n\r\n" + getRequest("/ping"))
		r := c.ReadResponse(true)
		if r.Status != 204 || r.Header.Get("Allow") != allow || r.Header.Get("Content-Length") != "" {
			t.Errorf("OPTIONS %s: %d, Allow %q, Content-Length %q; want 204, Allow %q, none", path, r.Status,
				r.Header.Get("Allow"), r.Header.Get("Content-Length"), allow)
		}
		if next := c.ReadResponse(false); next.Status != 200 || string(next.Body) != "pong" {
			t.Errorf("after OPTIONS %s, the next response is %d %q, want the /ping", path, next.Status, next.Body)
		}
		c.Close()
	}
	if r := sendOne(t, s.Addr, "DELETE /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("DELETE /ping: %d, Allow %q; want 405 listing OPTIONS", r.Status, r.Header.Get("Allow"))
	}
	sendOne(t, s.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 3\r\n\r\nabc")
	if r := sendOne(t, s.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("POST /write with no framing: %d %q, want 200 storing the empty body", r.Status, r.Body)
	}
	if r := sendOne(t, s.Addr, "GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("GET /read after it: %q, want the empty value", r.Body)
	}
}

// Classic mode: the C server took any visible characters before the colon
// as a header name and /echo returned the line byte for byte.
func TestClassicLaxHeaderNames(t *testing.T) {
	s := startClassic(t, nil)
	got := exchange(t, s.Addr, "GET /echo HTTP/1.1\r\nX/y[z]: v\r\nA@b: c\r\n\r\n", false)
	if want := classicOK("X/y[z]: v\r\nA@b: c"); string(got) != want {
		t.Errorf("classic /echo of odd names: %q, want %q", got, want)
	}
}
