package e2e

// End-to-end conformance of modern mode against hostile and malformed input
// (RFC 9112 framing, RFC 9110 semantics): one table case per rule, each sent
// over a raw socket followed, in the same write, by a pipelined GET /ping.
// A case asserts the status, then either that the pipelined request is
// answered (the connection stays usable) or that the response says
// `Connection: close`, the server closes and no second response appears.
// After every case a fresh connection must still work and /stats must have
// counted the error. Separate tests cover Expect, body limits sent before
// the body, smuggling and requests split at every byte boundary.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// confPing is the request pipelined after each case's request.
const confPing = "GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"

// confAfter is what must happen after a case's response.
type confAfter int

const (
	// confKeep: the connection stays usable; the pipelined /ping is
	// answered with pong.
	confKeep confAfter = iota
	// confClose: the response carries Connection: close, the server
	// closes, and nothing more arrives (no second response).
	confClose
	// confEOF: the server closes after the response (HTTP/1.0 without
	// keep-alive) and nothing more arrives; no header is required.
	confEOF
)

func (a confAfter) String() string {
	switch a {
	case confKeep:
		return "keep-alive"
	case confClose:
		return "close"
	}
	return "eof"
}

// confCase is one conformance rule.
type confCase struct {
	name   string
	req    string
	status int
	after  confAfter
	// alone: do not pipeline a /ping after req (the request is incomplete
	// on purpose and the response must come without the rest).
	alone bool
	// check, when set, asserts more about the response.
	check func(t *testing.T, r *rawResponse)
}

// confErrors is the JSON /stats errors counter.
func confErrors(t *testing.T, addr string) float64 {
	t.Helper()
	m := jsonStats(t, addr)
	v, ok := m["errors"].(float64)
	if !ok {
		t.Fatalf("JSON /stats has no numeric errors field: %v", m)
	}
	return v
}

// confExpectEOF asserts that the connection ends (EOF or reset) with no
// more bytes, within the 10 s deadline.
func confExpectEOF(t *testing.T, c *staticConn, what string) {
	t.Helper()
	if rest := c.ReadAll(); len(rest) != 0 {
		t.Errorf("%s: %d bytes after the response where the connection must close with nothing more: %q",
			what, len(rest), clip(rest))
	}
}

// confIsClose reports whether the response says Connection: close.
func confIsClose(r *rawResponse) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "close") {
				return true
			}
		}
	}
	return false
}

// confPingFresh asserts that a new connection gets pong.
func confPingFresh(t *testing.T, addr, what string) {
	t.Helper()
	c := staticDial(t, addr)
	defer c.Close()
	c.Send(confPing)
	if r := c.Read("GET"); r.Status != 200 || string(r.Body) != "pong" {
		t.Errorf("%s: a new connection afterwards got %d %q, want 200 pong", what, r.Status, r.Body)
	}
}

// confRunCase runs one case on its own connection and checks the
// server's health and error counter afterwards.
func confRunCase(t *testing.T, s *server, tc confCase) {
	t.Helper()
	before := confErrors(t, s.Addr)

	c := staticDial(t, s.Addr)
	defer c.Close()
	data := tc.req
	if !tc.alone {
		data += confPing
	}
	c.Send(data)
	r := c.Read("GET")
	if r.Status != tc.status {
		t.Errorf("sent %q\nstatus %d, want %d; response head %q", clip([]byte(data)), r.Status, tc.status, r.Head)
	}
	if tc.check != nil {
		tc.check(t, r)
	}
	switch tc.after {
	case confKeep:
		if confIsClose(r) {
			t.Errorf("sent %q\nthe response asks to close a connection that must stay usable: %q", clip([]byte(data)), r.Head)
		}
		if tc.alone {
			c.Send(confPing)
		}
		if r2 := c.Read("GET"); r2.Status != 200 || string(r2.Body) != "pong" {
			t.Errorf("sent %q\nthe /ping after it on the same connection got %d %q, want 200 pong", clip([]byte(data)), r2.Status, r2.Body)
		}
	case confClose:
		if !confIsClose(r) {
			t.Errorf("sent %q\nthe %d response lacks Connection: close: %q", clip([]byte(data)), r.Status, r.Head)
		}
		confExpectEOF(t, c, fmt.Sprintf("sent %q", clip([]byte(data))))
	case confEOF:
		confExpectEOF(t, c, fmt.Sprintf("sent %q", clip([]byte(data))))
	}

	confPingFresh(t, s.Addr, tc.name)
	after := confErrors(t, s.Addr)
	want := 0.0
	if tc.status >= 400 {
		want = 1
	}
	if after-before != want {
		t.Errorf("/stats errors went from %v to %v for a %d response, want +%v", before, after, tc.status, want)
	}
}

func confRunTable(t *testing.T, cases []confCase) {
	s := startServer(t, serverOptions{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { confRunCase(t, s, tc) })
	}
}

// confAllowHas returns a check that Allow lists method.
func confAllowHas(method string) func(*testing.T, *rawResponse) {
	return func(t *testing.T, r *rawResponse) {
		t.Helper()
		allow := r.Header.Get("Allow")
		for _, m := range strings.Split(allow, ",") {
			if strings.TrimSpace(m) == method {
				return
			}
		}
		t.Errorf("Allow %q does not list %s (head %q)", allow, method, r.Head)
	}
}

// confBody returns a check of the response body.
func confBody(want string) func(*testing.T, *rawResponse) {
	return func(t *testing.T, r *rawResponse) {
		t.Helper()
		if string(r.Body) != want {
			t.Errorf("body %q, want %q", clip(r.Body), want)
		}
	}
}

// confFields is a request with n header fields (Host included).
func confFields(n int) string {
	var b strings.Builder
	b.WriteString("GET /ping HTTP/1.1\r\nHost: e2e\r\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "X-F%d: %d\r\n", i, i)
	}
	b.WriteString("\r\n")
	return b.String()
}

// TestE2EConfRequestLine: the request line's method, spacing, target and
// version.
func TestE2EConfRequestLine(t *testing.T) {
	h := "Host: e2e\r\n\r\n"
	confRunTable(t, []confCase{
		{name: "lower-case method is a token, not GET", req: "get /ping HTTP/1.1\r\n" + h, status: 405, after: confKeep, check: confAllowHas("GET")},
		{name: "double space", req: "GET  /ping HTTP/1.1\r\n" + h, status: 400, after: confClose},
		{name: "space before the method", req: " GET /ping HTTP/1.1\r\n" + h, status: 400, after: confClose},
		{name: "trailing space after version", req: "GET /ping HTTP/1.1 \r\n" + h, status: 400, after: confClose},
		{name: "HTTP/2.0", req: "GET /ping HTTP/2.0\r\n" + h, status: 505, after: confClose},
		{name: "HTTP/1.2", req: "GET /ping HTTP/1.2\r\n" + h, status: 505, after: confClose},
		{name: "HTTP/3.0", req: "GET /ping HTTP/3.0\r\n" + h, status: 505, after: confClose},
		{name: "HTTX/1.1", req: "GET /ping HTTX/1.1\r\n" + h, status: 400, after: confClose},
		{name: "HTTP/0.9 style", req: "GET /ping\r\n\r\n", status: 400, after: confClose},
		{name: "method with a non-token byte", req: "GE(T /ping HTTP/1.1\r\n" + h, status: 400, after: confClose},
		{name: "request line over 8 KiB", req: "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\n" + h, status: 414, after: confClose},
		{name: "absolute-form", req: "GET http://example.com/ping HTTP/1.1\r\nHost: example.com\r\n\r\n", status: 200, after: confKeep, check: confBody("pong")},
		{name: "OPTIONS asterisk", req: "OPTIONS * HTTP/1.1\r\n" + h, status: 200, after: confKeep, check: func(t *testing.T, r *rawResponse) {
			if r.Header.Get("Allow") == "" {
				t.Errorf("OPTIONS * without Allow: %q", r.Head)
			}
		}},
		{name: "GET asterisk", req: "GET * HTTP/1.1\r\n" + h, status: 400, after: confClose},
		{name: "fragment in target", req: "GET /ping#frag HTTP/1.1\r\n" + h, status: 400, after: confClose},
	})
}

// TestE2EConfHeaders: field syntax, line endings, limits and Host.
func TestE2EConfHeaders(t *testing.T) {
	big := "GET /ping HTTP/1.1\r\nHost: e2e\r\n"
	for i := 0; i < 20; i++ {
		big += fmt.Sprintf("X-Big-%d: %s\r\n", i, strings.Repeat("b", 1000))
	}
	big += "\r\n"
	confRunTable(t, []confCase{
		{name: "space before colon (Host)", req: "GET /ping HTTP/1.1\r\nHost : e2e\r\n\r\n", status: 400, after: confClose},
		{name: "space before colon (other field)", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A : 1\r\n\r\n", status: 400, after: confClose},
		{name: "tab before colon", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A\t: 1\r\n\r\n", status: 400, after: confClose},
		{name: "obs-fold with SP", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: 1\r\n continued\r\n\r\n", status: 400, after: confClose},
		{name: "obs-fold with HTAB", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: 1\r\n\tcontinued\r\n\r\n", status: 400, after: confClose},
		{name: "NUL in value", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: a\x00b\r\n\r\n", status: 400, after: confClose},
		{name: "bare CR in value", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: a\rb\r\n\r\n", status: 400, after: confClose},
		{name: "SOH in value", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: a\x01b\r\n\r\n", status: 400, after: confClose},
		{name: "ESC in value", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: a\x1bb\r\n\r\n", status: 400, after: confClose},
		{name: "DEL in value", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX-A: a\x7fb\r\n\r\n", status: 400, after: confClose},
		{name: "non-token byte in name", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nX(A): 1\r\n\r\n", status: 400, after: confClose},
		{name: "bare LF after request line", req: "GET /ping HTTP/1.1\nHost: e2e\r\n\r\n", status: 400, after: confClose},
		{name: "bare LF after a field", req: "GET /ping HTTP/1.1\r\nHost: e2e\nX-A: 1\r\n\r\n", status: 400, after: confClose},
		{name: "bare LF as the blank line", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\n\n", status: 400, after: confClose},
		{name: "bare LF everywhere", req: "GET /ping HTTP/1.1\nHost: e2e\n\n", status: 400, after: confClose},
		{name: "leading empty lines ignored", req: "\r\n\r\nGET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n", status: 200, after: confKeep, check: confBody("pong")},
		{name: "head over max-header-bytes", req: big, status: 431, after: confClose},
		{name: "100 fields accepted", req: confFields(100), status: 200, after: confKeep, check: confBody("pong")},
		{name: "101 fields", req: confFields(101), status: 431, after: confClose},
		{name: "HTTP/1.1 without Host", req: "GET /ping HTTP/1.1\r\nX-A: 1\r\n\r\n", status: 400, after: confClose},
		{name: "two Host fields", req: "GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400, after: confClose},
		{name: "two equal Host fields", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nHost: e2e\r\n\r\n", status: 400, after: confClose},
		{name: "HTTP/1.0 without Host", req: "GET /ping HTTP/1.0\r\n\r\n", status: 200, after: confEOF, check: confBody("pong")},
		{name: "HTTP/1.0 keep-alive without Host", req: "GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", status: 200, after: confKeep, check: confBody("pong")},
	})
}

// TestE2EConfContentLength: Content-Length syntax and repeats.
func TestE2EConfContentLength(t *testing.T) {
	w := "POST /write HTTP/1.1\r\nHost: e2e\r\n"
	cases := []confCase{}
	for _, v := range []string{"abc", "+5", "-1", "5 5", "5, 5", "0x5", "5.0", ""} {
		cases = append(cases, confCase{
			name: fmt.Sprintf("Content-Length %q", v), req: w + "Content-Length: " + v + "\r\n\r\nhello",
			status: 400, after: confClose,
		})
	}
	cases = append(cases,
		confCase{name: "repeated, different values", req: w + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status: 400, after: confClose},
		confCase{name: "repeated, same value", req: w + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", status: 200, after: confKeep, check: confBody("hello")},
		confCase{name: "GET with a 10-byte body", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nContent-Length: 10\r\n\r\n0123456789", status: 200, after: confKeep, check: confBody("pong")},
		confCase{name: "leading zeros", req: w + "Content-Length: 005\r\n\r\nzeros", status: 200, after: confKeep, check: confBody("zeros")},
	)
	confRunTable(t, cases)
}

// TestE2EConfTransferEncoding: codings, TE with CL, HTTP/1.0 with TE, and
// every violation of chunked framing.
func TestE2EConfTransferEncoding(t *testing.T) {
	w := "POST /write HTTP/1.1\r\nHost: e2e\r\n"
	body := "5\r\nhello\r\n0\r\n\r\n"
	confRunTable(t, []confCase{
		{name: "chunked with extensions and trailers", req: w + "Transfer-Encoding: chunked\r\n\r\n5;ext=1;q=\"a b\"\r\nhello\r\n1\r\n,\r\n6 ; x=y\r\n world\r\n0;last\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n",
			status: 200, after: confKeep, check: confBody("hello, world")},
		{name: "chunked, upper-case hex and coding", req: w + "Transfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
			status: 200, after: confKeep, check: confBody("0123456789")},
		{name: "gzip, chunked", req: w + "Transfer-Encoding: gzip, chunked\r\n\r\n" + body, status: 501, after: confClose},
		{name: "chunked, gzip", req: w + "Transfer-Encoding: chunked, gzip\r\n\r\n" + body, status: 400, after: confClose},
		{name: "chunked twice in two fields", req: w + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + body, status: 400, after: confClose},
		{name: "chunked twice in one field", req: w + "Transfer-Encoding: chunked, chunked\r\n\r\n" + body, status: 400, after: confClose},
		{name: "TE then CL", req: w + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + body, status: 400, after: confClose},
		{name: "CL then TE", req: w + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + body, status: 400, after: confClose},
		{name: "HTTP/1.0 with TE", req: "POST /write HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + body, status: 400, after: confClose},
		{name: "non-hex chunk size", req: w + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "empty chunk size", req: w + "Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "missing CRLF after chunk data", req: w + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n", status: 400, after: confClose},
		{name: "data longer than announced", req: w + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "bare LF after chunk size", req: w + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "bare LF after chunk data", req: w + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", status: 400, after: confClose},
		{name: "bare LF after last chunk", req: w + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\r\n", status: 400, after: confClose},
		{name: "NUL in chunk extension", req: w + "Transfer-Encoding: chunked\r\n\r\n5;a\x00b\r\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "chunk-size line over 4096 bytes (zeros)", req: w + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("0", 5000) + "5\r\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "chunk-size line over 4096 bytes (extension)", req: w + "Transfer-Encoding: chunked\r\n\r\n5;x=" + strings.Repeat("e", 5000) + "\r\nhello\r\n0\r\n\r\n", status: 400, after: confClose},
		{name: "chunked GET then pipelined", req: "GET /ping HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status: 200, after: confKeep, check: confBody("pong")},
	})
}

// TestE2EConfSmuggling: a CL+TE request carrying a whole request in its body
// gets exactly one response and EOF; a chunked request and the requests
// pipelined after it in the same write are answered in order.
func TestE2EConfSmuggling(t *testing.T) {
	s := startServer(t, serverOptions{})
	smuggled := "GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"
	for _, tc := range []struct{ name, req string }{
		{"CL.TE", "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: " + strconv.Itoa(len("0\r\n\r\n"+smuggled)) +
			"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"TE.CL", "POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" +
			fmt.Sprintf("%x\r\n", len(smuggled)) + smuggled + "\r\n0\r\n\r\n"},
		{"TE with a space before the colon", "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: " + strconv.Itoa(len("0\r\n\r\n"+smuggled)) +
			"\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"TE with an obs-fold", "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: " + strconv.Itoa(len("0\r\n\r\n"+smuggled)) +
			"\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + smuggled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := staticDial(t, s.Addr)
			defer c.Close()
			c.Send(tc.req)
			all := c.ReadAll() // until the server closes
			if n := bytes.Count(all, []byte("HTTP/1.1 ")); n != 1 {
				t.Fatalf("sent %q\ngot %d responses, want exactly one: %q", tc.req, n, clip(all))
			}
			if st := rawStatus(t, all); st != 400 {
				t.Errorf("sent %q\nstatus %d, want 400: %q", tc.req, st, clip(all))
			}
			if bytes.Contains(all, []byte("pong")) {
				t.Errorf("the smuggled /ping was answered: %q", all)
			}
			i := bytes.Index(all, []byte("\r\n\r\n"))
			_, hdr, err := parseHead(all[:i+4])
			if err != nil {
				t.Fatal(err)
			}
			if !confIsClose(&rawResponse{Header: hdr}) {
				t.Errorf("the 400 lacks Connection: close: %q", all[:i+4])
			}
		})
	}
	confPingFresh(t, s.Addr, "after the smuggling attempts")
	if r := rawDo(t, s.Addr, "GET", "/read"); string(r.Body) != "<empty>" {
		t.Errorf("a rejected request changed the /write store: %q", r.Body)
	}

	t.Run("chunked then pipelined", func(t *testing.T) {
		c := staticDial(t, s.Addr)
		defer c.Close()
		// The body, in two chunks, is itself a request: it must be stored,
		// never parsed.
		c.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("4\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", smuggled[:4], len(smuggled)-4, smuggled[4:]) +
			"GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n" +
			"GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Seq: 3\r\n\r\n")
		want := smuggled
		if r := c.Read("POST"); r.Status != 200 || string(r.Body) != want {
			t.Fatalf("chunked /write: %d %q, want 200 %q", r.Status, r.Body, want)
		}
		if r := c.Read("GET"); r.Status != 200 || string(r.Body) != want {
			t.Fatalf("pipelined /read: %d %q, want 200 %q", r.Status, r.Body, want)
		}
		if r := c.Read("GET"); r.Status != 200 || string(r.Body) != "Host: e2e\r\nX-Seq: 3" {
			t.Fatalf("pipelined /echo: %d %q", r.Status, r.Body)
		}
		// Nothing else: the chunk data holding a request was never parsed
		// as one. The connection is still open and idle.
		c.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 512)
		n, err := c.br.Read(buf)
		if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("after three responses: %d more bytes %q, err %v; want silence", n, buf[:n], err)
		}
	})
}

// TestE2EConfBodyLimits: a body too large for /write gets 413 and close as
// soon as the head (or the chunk size that crosses the limit) arrives,
// before the body, and the store is unchanged.
func TestE2EConfBodyLimits(t *testing.T) {
	s := startServer(t, serverOptions{})
	if r := rawDo(t, s.Addr, "GET", "/ping"); r.Status != 200 {
		t.Fatalf("warm-up /ping: %d", r.Status)
	}
	c := staticDial(t, s.Addr)
	c.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 7\r\n\r\nkeep-me")
	if r := c.Read("POST"); r.Status != 200 || string(r.Body) != "keep-me" {
		t.Fatalf("POST /write keep-me: %d %q", r.Status, r.Body)
	}
	c.Close()

	w := "POST /write HTTP/1.1\r\nHost: e2e\r\n"
	cases := []confCase{
		{name: "CL 5000, head only", req: w + "Content-Length: 5000\r\n\r\n", status: 413, after: confClose, alone: true},
		{name: "CL 1025, head only", req: w + "Content-Length: 1025\r\n\r\n", status: 413, after: confClose, alone: true},
		{name: "CL huge, head only", req: w + "Content-Length: 99999999999999999999999\r\n\r\n", status: 413, after: confClose, alone: true},
		{name: "CL 5000 with Expect: 100-continue", req: w + "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n", status: 413, after: confClose, alone: true},
		{name: "chunk of 0x401 announced", req: w + "Transfer-Encoding: chunked\r\n\r\n401\r\n", status: 413, after: confClose, alone: true},
		{name: "chunks crossing the limit", req: w + "Transfer-Encoding: chunked\r\n\r\n200\r\n" + strings.Repeat("x", 512) + "\r\n201\r\n", status: 413, after: confClose, alone: true},
		{name: "huge chunk size", req: w + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", status: 413, after: confClose, alone: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A huge chunk size may be refused as malformed (400) or too
			// large (413); everything else here must be 413.
			if tc.name == "huge chunk size" || tc.name == "CL huge, head only" {
				c := staticDial(t, s.Addr)
				defer c.Close()
				c.Send(tc.req)
				r := c.Read("POST")
				if r.Status != 413 && r.Status != 400 {
					t.Errorf("sent %q: status %d, want 413 or 400", tc.req, r.Status)
				}
				if !confIsClose(r) {
					t.Errorf("sent %q: no Connection: close in %q", tc.req, r.Head)
				}
				confExpectEOF(t, c, tc.name)
				return
			}
			confRunCase(t, s, tc)
		})
	}
	if r := rawDo(t, s.Addr, "GET", "/read"); string(r.Body) != "keep-me" {
		t.Errorf("/read after the refused bodies: %q, want keep-me", r.Body)
	}
}

// TestE2EConfExpect: 100-continue before the body, 417 for other
// expectations, and no 100 for HTTP/1.0.
func TestE2EConfExpect(t *testing.T) {
	s := startServer(t, serverOptions{})

	t.Run("100-continue", func(t *testing.T) {
		c := staticDial(t, s.Addr)
		defer c.Close()
		c.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 8\r\nExpect: 100-continue\r\n\r\n")
		want := "HTTP/1.1 100 Continue\r\n\r\n"
		got := make([]byte, len(want))
		c.c.SetReadDeadline(time.Now().Add(staticIOTimeout))
		if _, err := io.ReadFull(c.br, got); err != nil || string(got) != want {
			t.Fatalf("after the head only: %q (%v), want %q", got, err, want)
		}
		c.Send("continue")
		r := c.Read("POST")
		if r.Status != 200 || string(r.Body) != "continue" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
		if confIsClose(r) {
			t.Errorf("keep-alive lost after 100-continue: %q", r.Head)
		}
		// The connection stays usable; the store has the body.
		c.Send("GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n")
		if r := c.Read("GET"); string(r.Body) != "continue" {
			t.Errorf("/read: %q", r.Body)
		}
	})
	t.Run("100-continue, chunked", func(t *testing.T) {
		c := staticDial(t, s.Addr)
		defer c.Close()
		c.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
		r := c.Read("POST")
		if r.Status != 100 || string(r.Head) != "HTTP/1.1 100 Continue\r\n\r\n" {
			t.Fatalf("after the head only: %q, want the 100 Continue", r.Head)
		}
		c.Send("3\r\nabc\r\n0\r\n\r\n")
		if r := c.Read("POST"); r.Status != 200 || string(r.Body) != "abc" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
	})
	t.Run("100-continue with the body already sent", func(t *testing.T) {
		// A client that did not wait: at most one 100, then the final 200.
		c := staticDial(t, s.Addr)
		defer c.Close()
		c.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nxyz" + confPing)
		r := c.Read("POST")
		if r.Status == 100 {
			r = c.Read("POST")
		}
		if r.Status != 200 || string(r.Body) != "xyz" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
		if r := c.Read("GET"); r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("pipelined /ping: %d %q", r.Status, r.Body)
		}
	})
	t.Run("417 for another expectation", func(t *testing.T) {
		confRunCase(t, s, confCase{
			name:   "Expect: something-else",
			req:    "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\n",
			status: 417, after: confClose, alone: true,
		})
	})
	t.Run("HTTP/1.0 gets no 100", func(t *testing.T) {
		c := staticDial(t, s.Addr)
		defer c.Close()
		c.Send("POST /write HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
		c.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 256)
		n, err := c.br.Read(buf)
		if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("HTTP/1.0 head with Expect: got %q (%v) before the body, want nothing", buf[:n], err)
		}
		c.Send("ten!")
		r := c.Read("POST")
		if r.Status != 200 || string(r.Body) != "ten!" {
			t.Fatalf("HTTP/1.0 POST with Expect: %d %q (head %q), want 200 ten!", r.Status, r.Body, r.Head)
		}
		confExpectEOF(t, c, "HTTP/1.0")
	})
	if r := rawDo(t, s.Addr, "GET", "/read"); string(r.Body) != "ten!" {
		t.Errorf("/read at the end: %q", r.Body)
	}
}

// TestE2EConfSplitEveryByte: valid requests split in two at every byte
// boundary, with a pause between the halves, are answered correctly.
func TestE2EConfSplitEveryByte(t *testing.T) {
	s := startServer(t, serverOptions{})
	echoBlock := "Host: e2e\r\nX-One: 1\r\nX-Two:  two \r\nAccept: */*"
	cases := []struct {
		name, req, method, body string
	}{
		{"POST /write", "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 10\r\n\r\nsplit-body", "POST", "split-body"},
		{"GET /echo", "GET /echo HTTP/1.1\r\n" + echoBlock + "\r\n\r\n", "GET", echoBlock},
		{"chunked POST /write", "POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n", "POST", "abcde"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k := 1; k < len(tc.req); k++ {
				c := staticDial(t, s.Addr)
				c.Send(tc.req[:k])
				time.Sleep(2 * time.Millisecond)
				c.Send(tc.req[k:])
				r := c.Read(tc.method)
				if r.Status != 200 || string(r.Body) != tc.body {
					c.Close()
					t.Fatalf("split after %d bytes (%q | %q): %d %q, want 200 %q",
						k, tc.req[:k], tc.req[k:], r.Status, r.Body, tc.body)
				}
				c.Close()
			}
		})
	}
	m := jsonStats(t, s.Addr)
	if e, _ := m["errors"].(float64); e != 0 {
		t.Errorf("JSON stats count %v errors after only valid requests", e)
	}
}
