package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkModernHeaders asserts the headers every modern response carries.
func checkModernHeaders(t testing.TB, what string, h http.Header) {
	t.Helper()
	for _, k := range []string{"Date", "Server", "Content-Length"} {
		if h.Get(k) == "" {
			t.Errorf("%s: no %s header (headers %v)", what, k, h)
		}
	}
	if d := h.Get("Date"); d != "" {
		if _, err := http.ParseTime(d); err != nil {
			t.Errorf("%s: Date %q is not an HTTP date: %v", what, d, err)
		}
	}
}

func isTextPlain(ct string) bool {
	return ct == "text/plain" || strings.HasPrefix(ct, "text/plain;")
}

// TestE2EModernPing: GET and HEAD /ping with net/http and raw sockets.
func TestE2EModernPing(t *testing.T) {
	s := startServer(t, serverOptions{})
	c := newClient(t)

	resp, body := doRequest(t, c, "GET", s.URL("/ping"), nil)
	if resp.StatusCode != 200 || string(body) != "pong" {
		t.Fatalf("GET /ping: %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !isTextPlain(ct) {
		t.Errorf("GET /ping: Content-Type %q, want text/plain", ct)
	}
	if resp.ContentLength != 4 {
		t.Errorf("GET /ping: Content-Length %d, want 4", resp.ContentLength)
	}
	checkModernHeaders(t, "GET /ping", resp.Header)

	resp, body = doRequest(t, c, "HEAD", s.URL("/ping"), nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != 4 {
		t.Fatalf("HEAD /ping: %d, Content-Length %d, body %q", resp.StatusCode, resp.ContentLength, body)
	}
	if ct := resp.Header.Get("Content-Type"); !isTextPlain(ct) {
		t.Errorf("HEAD /ping: Content-Type %q, want text/plain", ct)
	}
	checkModernHeaders(t, "HEAD /ping", resp.Header)

	// Raw: a HEAD response carries no body, so the next response on the same
	// connection starts right after its head.
	rc := dial(t, s.Addr)
	rc.Send("HEAD /ping HTTP/1.1\r\nHost: e2e\r\n\r\nGET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n")
	h := rc.ReadResponse(true)
	if h.Status != 200 || h.Header.Get("Content-Length") != "4" {
		t.Fatalf("raw HEAD /ping: %q", h.Head)
	}
	g := rc.ReadResponse(false)
	if g.Status != 200 || string(g.Body) != "pong" {
		t.Fatalf("raw GET /ping after HEAD: %q %q", g.Head, g.Body)
	}
	if !bytes.HasPrefix(g.Head, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Errorf("status line: %q", g.Head)
	}
}

// TestE2EModernEcho: /echo returns the header lines exactly as received.
func TestE2EModernEcho(t *testing.T) {
	s := startServer(t, serverOptions{})

	cases := []struct{ block string }{
		{"Host: a\r\nX-A: 1"},
		{"Host: a"},
		{"Host: a\r\nX-Spaced:   padded value\r\nx-lower-case: MiXeD\r\nX-Empty:\r\nX-Tab:\tv"},
		{"X-First: before host\r\nHost: a\r\nAccept: */*\r\nX-Long: " + strings.Repeat("z", 600)},
	}
	for i, tc := range cases {
		r := sendOne(t, s.Addr, "GET /echo HTTP/1.1\r\n"+tc.block+"\r\n\r\n")
		if r.Status != 200 {
			t.Errorf("case %d: status %d (%q)", i, r.Status, r.Head)
			continue
		}
		if string(r.Body) != tc.block {
			t.Errorf("case %d: body %q, want %q", i, r.Body, tc.block)
		}
		if ct := r.Header.Get("Content-Type"); !isTextPlain(ct) {
			t.Errorf("case %d: Content-Type %q", i, ct)
		}
		checkModernHeaders(t, "GET /echo", r.Header)
	}

	// Pipelined: each echo shows only its own header lines.
	rc := dial(t, s.Addr)
	rc.Send("GET /echo HTTP/1.1\r\nHost: one\r\n\r\nGET /echo HTTP/1.1\r\nHost: two\r\nX-N: 2\r\n\r\n")
	if r := rc.ReadResponse(false); string(r.Body) != "Host: one" {
		t.Errorf("first pipelined echo: %q", r.Body)
	}
	if r := rc.ReadResponse(false); string(r.Body) != "Host: two\r\nX-N: 2" {
		t.Errorf("second pipelined echo: %q", r.Body)
	}

	// net/http: the header lines Go sends, as sent.
	c := newClient(t)
	resp, body := doRequest(t, c, "GET", s.URL("/echo"), nil, "X-From-Go", "yes")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /echo: %d", resp.StatusCode)
	}
	want := "Host: " + s.Addr + "\r\n"
	if !strings.HasPrefix(string(body), want) || !strings.Contains(string(body), "\r\nX-From-Go: yes") ||
		strings.HasSuffix(string(body), "\r\n") {
		t.Errorf("GET /echo via net/http: %q", body)
	}
}

// TestE2EModernWriteRead: /read and /write are byte exact, bounded, and
// answer errors for bad input.
func TestE2EModernWriteRead(t *testing.T) {
	s := startServer(t, serverOptions{})
	c := newClient(t)

	resp, body := doRequest(t, c, "GET", s.URL("/read"), nil)
	if resp.StatusCode != 200 || string(body) != "<empty>" {
		t.Fatalf("GET /read before any write: %d %q", resp.StatusCode, body)
	}
	checkModernHeaders(t, "GET /read", resp.Header)

	// Binary value with NUL and 0xFF bytes, every byte value present.
	val := make([]byte, 0, 1000)
	for i := 0; i < 1000; i++ {
		val = append(val, byte(i*7))
	}
	val[0], val[1], val[999] = 0, 0xFF, 0
	resp, body = doRequest(t, c, "POST", s.URL("/write"), val)
	if resp.StatusCode != 200 || !bytes.Equal(body, val) {
		t.Fatalf("POST /write: %d, echoed %d bytes, equal=%v", resp.StatusCode, len(body), bytes.Equal(body, val))
	}
	resp, body = doRequest(t, c, "GET", s.URL("/read"), nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, val) {
		t.Fatalf("GET /read: %d, %d bytes, equal=%v", resp.StatusCode, len(body), bytes.Equal(body, val))
	}
	resp, body = doRequest(t, c, "HEAD", s.URL("/read"), nil)
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(val)) || len(body) != 0 {
		t.Errorf("HEAD /read: %d, Content-Length %d, body %d bytes", resp.StatusCode, resp.ContentLength, len(body))
	}

	// Over the limit: 413, store unchanged.
	resp, _ = doRequest(t, c, "POST", s.URL("/write"), bytes.Repeat([]byte{'x'}, 1025))
	if resp.StatusCode != 413 {
		t.Errorf("POST /write of 1025 bytes: %d, want 413", resp.StatusCode)
	}
	resp, body = doRequest(t, c, "GET", s.URL("/read"), nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, val) {
		t.Errorf("GET /read after a 413: %d, changed=%v", resp.StatusCode, !bytes.Equal(body, val))
	}

	// Exactly the limit is fine.
	max := bytes.Repeat([]byte{0xFF}, 1024)
	resp, body = doRequest(t, c, "POST", s.URL("/write"), max)
	if resp.StatusCode != 200 || !bytes.Equal(body, max) {
		t.Errorf("POST /write of 1024 bytes: %d, %d bytes", resp.StatusCode, len(body))
	}

	// Raw: exact framing of the answer; without Content-Length or
	// Transfer-Encoding the body has length zero (RFC 9112 6.3), and the
	// empty value is stored.
	r := sendOne(t, s.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 6\r\n\r\nab\x00\xffcd")
	if r.Status != 200 || string(r.Body) != "ab\x00\xffcd" || r.Header.Get("Content-Length") != "6" {
		t.Errorf("raw POST /write: %q %q", r.Head, r.Body)
	}
	r = sendOne(t, s.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\n\r\n")
	if r.Status != 200 || len(r.Body) != 0 || r.Header.Get("Content-Length") != "0" {
		t.Errorf("POST /write without Content-Length: %d %q, want 200 with the empty value (%q)", r.Status, r.Body, r.Head)
	}
	r = sendOne(t, s.Addr, "GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n")
	if r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("GET /read after an empty POST /write: %d %q, want the empty value", r.Status, r.Body)
	}

	// A larger --write-limit is honoured.
	s2 := startServer(t, serverOptions{Args: []string{"--write-limit", "2048"}})
	big := bytes.Repeat([]byte{'q'}, 2048)
	resp, body = doRequest(t, c, "POST", s2.URL("/write"), big)
	if resp.StatusCode != 200 || !bytes.Equal(body, big) {
		t.Errorf("--write-limit 2048: POST of 2048 bytes: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = doRequest(t, c, "POST", s2.URL("/write"), append(big, 'q'))
	if resp.StatusCode != 413 {
		t.Errorf("--write-limit 2048: POST of 2049 bytes: %d, want 413", resp.StatusCode)
	}
}

// TestE2EModernWriteReadConcurrent: concurrent writers and readers never see
// a torn value.
func TestE2EModernWriteReadConcurrent(t *testing.T) {
	s := startServer(t, serverOptions{})
	c := newClient(t)

	type value struct {
		b byte
		n int
	}
	var mu sync.Mutex
	written := map[value]bool{}
	var seen []value
	var seenEmpty int
	errs := make(chan error, 8*50)

	classify := func(body []byte) error {
		if string(body) == "<empty>" {
			mu.Lock()
			seenEmpty++
			mu.Unlock()
			return nil
		}
		if len(body) == 0 {
			return fmt.Errorf("empty body")
		}
		for _, x := range body {
			if x != body[0] {
				return fmt.Errorf("torn value: %d bytes starting %q", len(body), clip(body))
			}
		}
		mu.Lock()
		seen = append(seen, value{body[0], len(body)})
		mu.Unlock()
		return nil
	}

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			for i := 0; i < 50; i++ {
				if g < 4 {
					v := value{byte(g*50 + i), 1 + rng.IntN(1024)}
					mu.Lock()
					written[v] = true
					mu.Unlock()
					resp, body, err := tryRequest(c, "POST", s.URL("/write"), bytes.Repeat([]byte{v.b}, v.n))
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("POST /write: status %d", resp.StatusCode)
					}
					if err == nil {
						err = classify(body)
					}
					if err != nil {
						errs <- err
						return
					}
				} else {
					resp, body, err := tryRequest(c, "GET", s.URL("/read"), nil)
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("GET /read: status %d", resp.StatusCode)
					}
					if err == nil {
						err = classify(body)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, v := range seen {
		if !written[v] {
			t.Errorf("read a value nobody wrote: %d x %#x", v.n, v.b)
		}
	}
	t.Logf("%d values observed, %d <empty>", len(seen), seenEmpty)
	if len(seen) < 200 {
		t.Errorf("only %d non-empty values observed, want at least the 200 write answers", len(seen))
	}
}

// TestE2EModernStats: the exact counter sequence on a fresh server, computed
// from the raw responses; JSON forms.
func TestE2EModernStats(t *testing.T) {
	s := startServer(t, serverOptions{})
	var exp statsCounters
	rc := dial(t, s.Addr)
	do := func(req string) *rawResponse {
		t.Helper()
		rc.Send(req)
		r := rc.ReadResponse(strings.HasPrefix(req, "HEAD "))
		exp.Count(r)
		return r
	}

	r := do(getRequest("/stats"))
	if r.Status != 200 || string(r.Body) != "Requests: 0\nHeader bytes: 0\nBody bytes: 0\nErrors: 0\nError bytes: 0" {
		t.Fatalf("first /stats: %d %q", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !isTextPlain(ct) {
		t.Errorf("/stats Content-Type %q", ct)
	}
	if r := do(getRequest("/ping")); r.Status != 200 {
		t.Fatalf("/ping: %d", r.Status)
	}
	if r := do(getRequest("/no-such-file")); r.Status != 404 {
		t.Fatalf("/no-such-file: %d, want 404", r.Status)
	}
	if r := do("POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 5\r\n\r\nhello"); r.Status != 200 || string(r.Body) != "hello" {
		t.Fatalf("POST /write: %d %q", r.Status, r.Body)
	}
	if r := do("DELETE /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 405 {
		t.Fatalf("DELETE /ping: %d, want 405", r.Status)
	}
	if r := do("HEAD /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 {
		t.Fatalf("HEAD /ping: %d", r.Status)
	}
	before := exp
	r = do(getRequest("/stats"))
	if got := parseStats(t, r.Body); got != before {
		t.Fatalf("/stats after 6 responses:\n got %q\nwant %q", got, before)
	}
	if before.Requests != 4 || before.Errors != 2 {
		t.Fatalf("test bug: expected 4 requests and 2 errors, computed %+v", before)
	}

	// Connections that send nothing count as nothing.
	for i := 0; i < 3; i++ {
		e := dial(t, s.Addr)
		if i == 1 {
			e.CloseWrite()
			e.ExpectClosed()
		}
		e.Close()
	}
	time.Sleep(100 * time.Millisecond)
	before = exp
	r = do(getRequest("/stats"))
	if got := parseStats(t, r.Body); got != before {
		t.Fatalf("/stats after empty connections:\n got %q\nwant %q", got, before)
	}

	// JSON, two ways: the same counters, plus the pool and connections.
	for _, req := range []string{
		getRequest("/stats?format=json"),
		"GET /stats HTTP/1.1\r\nHost: e2e\r\nAccept: application/json\r\n\r\n",
	} {
		before = exp
		r = do(req)
		if r.Status != 200 {
			t.Fatalf("JSON stats: %d", r.Status)
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Errorf("JSON stats Content-Type %q", ct)
		}
		m := decodeJSON(t, r.Body)
		want := map[string]uint64{
			"requests": before.Requests, "header_bytes": before.HeaderBytes, "body_bytes": before.BodyBytes,
			"errors": before.Errors, "error_bytes": before.ErrorBytes,
		}
		for k, v := range want {
			f, ok := m[k].(float64)
			if !ok {
				t.Errorf("JSON stats: key %q missing or not a number in %s", k, r.Body)
			} else if uint64(f) != v {
				t.Errorf("JSON stats: %s = %v, want %d", k, f, v)
			}
		}
		if _, ok := m["pool"].(map[string]any); !ok {
			t.Errorf("JSON stats: no pool object in %s", r.Body)
		}
		if n, ok := m["connections"].(float64); !ok || n < 1 {
			t.Errorf("JSON stats: connections %v, want a number >= 1 in %s", m["connections"], r.Body)
		}
	}
	before = exp
	r = do(getRequest("/stats"))
	if got := parseStats(t, r.Body); got != before {
		t.Fatalf("/stats after the JSON ones:\n got %q\nwant %q", got, before)
	}
	// HEAD /stats: head only, counted with zero body bytes.
	if r := do("HEAD /stats HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("HEAD /stats: %d", r.Status)
	}
	before = exp
	r = do(getRequest("/stats"))
	if got := parseStats(t, r.Body); got != before {
		t.Fatalf("/stats after HEAD /stats:\n got %q\nwant %q", got, before)
	}
}

// TestE2EModernKeepAlivePipelining: keep-alive reuses one connection; ten
// pipelined requests in one write come back in order.
func TestE2EModernKeepAlivePipelining(t *testing.T) {
	tr := makeTree(t)
	s := startServer(t, serverOptions{Root: tr.Root})
	c := newClient(t)

	newConns := 0
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			newConns++
		}
	}}
	for i, p := range []string{"/ping", "/echo", "/read", "/hello.txt", "/ping", "/stats"} {
		req, _ := http.NewRequest("GET", s.URL(p), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("request %d %s: %v", i, p, err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d %s: %d", i, p, resp.StatusCode)
		}
		if resp.Close {
			t.Errorf("request %d %s: the server asked to close a keep-alive connection", i, p)
		}
	}
	if newConns != 1 {
		t.Errorf("6 keep-alive requests used %d connections, want 1", newConns)
	}

	// Ten requests in one write.
	type step struct {
		method, req string
		status      int
		body        string
	}
	steps := []step{
		{"GET", getRequest("/ping"), 200, "pong"},
		{"GET", "GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Seq: 1\r\n\r\n", 200, "Host: e2e\r\nX-Seq: 1"},
		{"POST", "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 11\r\n\r\npipelined-1", 200, "pipelined-1"},
		{"GET", getRequest("/read"), 200, "pipelined-1"},
		{"GET", getRequest("/hello.txt"), 200, string(tr.Files["hello.txt"])},
		{"HEAD", "HEAD /ping HTTP/1.1\r\nHost: e2e\r\n\r\n", 200, ""},
		{"GET", "GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Seq: 2\r\n\r\n", 200, "Host: e2e\r\nX-Seq: 2"},
		{"GET", getRequest("/missing.txt"), 404, ""},
		{"GET", getRequest("/sub/page.txt"), 200, string(tr.Files["sub/page.txt"])},
		{"GET", getRequest("/ping"), 200, "pong"},
	}
	var all strings.Builder
	for _, st := range steps {
		all.WriteString(st.req)
	}
	rc := dial(t, s.Addr)
	rc.Send(all.String())
	rc.c.SetReadDeadline(time.Now().Add(ioTimeout))
	br := bufio.NewReader(rc.c)
	for i, st := range steps {
		resp, err := http.ReadResponse(br, &http.Request{Method: st.method})
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			t.Fatalf("pipelined response %d body: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != st.status {
			t.Fatalf("pipelined response %d (%q): status %d, want %d", i, st.req, resp.StatusCode, st.status)
		}
		if st.status == 200 && buf.String() != st.body {
			t.Fatalf("pipelined response %d (%q): body %q, want %q", i, st.req, buf.String(), st.body)
		}
		if st.method == "HEAD" && (resp.ContentLength != 4 || buf.Len() != 0) {
			t.Fatalf("pipelined HEAD: Content-Length %d, body %q", resp.ContentLength, buf.String())
		}
	}
	if br.Buffered() != 0 {
		t.Errorf("%d unexpected bytes after the 10 responses", br.Buffered())
	}
}

// TestE2EModernConnectionRules: Connection: close, HTTP/1.0 with and without
// keep-alive, and chunked requests (501, then close).
func TestE2EModernConnectionRules(t *testing.T) {
	s := startServer(t, serverOptions{})

	t.Run("connection close", func(t *testing.T) {
		rc := dial(t, s.Addr)
		rc.Send("GET /ping HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n")
		r := rc.ReadResponse(false)
		if r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("%q %q", r.Head, r.Body)
		}
		if !strings.EqualFold(r.Header.Get("Connection"), "close") {
			t.Errorf("no Connection: close in %q", r.Head)
		}
		rc.ExpectClosed()
	})
	t.Run("http/1.0", func(t *testing.T) {
		rc := dial(t, s.Addr)
		rc.Send("GET /ping HTTP/1.0\r\n\r\n")
		r := rc.ReadResponse(false)
		if r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("%q %q", r.Head, r.Body)
		}
		rc.ExpectClosed()
	})
	t.Run("http/1.0 keep-alive", func(t *testing.T) {
		rc := dial(t, s.Addr)
		rc.Send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		r := rc.ReadResponse(false)
		if r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("%q %q", r.Head, r.Body)
		}
		if !strings.EqualFold(r.Header.Get("Connection"), "keep-alive") {
			t.Errorf("HTTP/1.0 keep-alive response lacks Connection: keep-alive: %q", r.Head)
		}
		rc.Send("GET /ping HTTP/1.0\r\n\r\n")
		if r := rc.ReadResponse(false); r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("second HTTP/1.0 request: %q %q", r.Head, r.Body)
		}
		rc.ExpectClosed()
	})
	t.Run("chunked", func(t *testing.T) {
		// A coding the server can not decode: 501, and the stream's framing
		// is unknown, so the connection closes.
		for _, req := range []string{
			"POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			"GET /ping HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n",
		} {
			rc := dial(t, s.Addr)
			rc.Send(req)
			r := rc.ReadResponse(false)
			if r.Status != 501 {
				t.Errorf("%q: status %d, want 501", req, r.Status)
			}
			if !strings.EqualFold(r.Header.Get("Connection"), "close") {
				t.Errorf("%q: 501 without Connection: close: %q", req, r.Head)
			}
			rc.ExpectClosed()
		}
		if r := sendOne(t, s.Addr, getRequest("/read")); string(r.Body) != "<empty>" {
			t.Errorf("a rejected chunked POST /write changed the store: %q", r.Body)
		}
		// Chunked bodies are accepted by /write, and the connection stays open.
		rc := dial(t, s.Addr)
		rc.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n")
		if r := rc.ReadResponse(false); r.Status != 200 || string(r.Body) != "hello world" {
			t.Fatalf("chunked /write: %d %q", r.Status, r.Body)
		}
		rc.Send(getRequest("/read"))
		if r := rc.ReadResponse(false); string(r.Body) != "hello world" {
			t.Fatalf("after a chunked /write: %q", r.Body)
		}
	})
}

// TestE2EModernMethodNotAllowed: known routes with the wrong method get 405
// and an Allow header.
func TestE2EModernMethodNotAllowed(t *testing.T) {
	s := startServer(t, serverOptions{})
	cases := []struct {
		req, allowHas string
	}{
		{"DELETE /ping HTTP/1.1\r\nHost: e2e\r\n\r\n", "GET"},
		{"POST /ping HTTP/1.1\r\nHost: e2e\r\nContent-Length: 0\r\n\r\n", "GET"},
		{"GET /write HTTP/1.1\r\nHost: e2e\r\n\r\n", "POST"},
		{"PUT /read HTTP/1.1\r\nHost: e2e\r\nContent-Length: 0\r\n\r\n", "GET"},
		{"POST /echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 0\r\n\r\n", "GET"},
		{"DELETE /stats HTTP/1.1\r\nHost: e2e\r\n\r\n", "GET"},
	}
	rc := dial(t, s.Addr)
	for _, tc := range cases {
		r := sendOne(t, s.Addr, tc.req)
		if r.Status != 405 {
			t.Errorf("%q: status %d, want 405", tc.req, r.Status)
			continue
		}
		if a := r.Header.Get("Allow"); !strings.Contains(a, tc.allowHas) {
			t.Errorf("%q: Allow %q, want it to list %s", tc.req, a, tc.allowHas)
		}
		checkModernHeaders(t, "405", r.Header)
		// A 405 leaves the connection usable.
		rc.Send(tc.req + getRequest("/ping"))
		if r := rc.ReadResponse(false); r.Status != 405 {
			t.Fatalf("keep-alive %q: %d", tc.req, r.Status)
		}
		if r := rc.ReadResponse(false); r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("/ping after a 405: %q %q", r.Head, r.Body)
		}
	}
}

// TestE2EModernFullQueue: one worker and a queue of one under 50 concurrent
// keep-alive clients: every request answered correctly, none lost.
func TestE2EModernFullQueue(t *testing.T) {
	tr := makeTree(t)
	s := startServer(t, serverOptions{Root: tr.Root, Args: []string{"--workers", "1", "--queue", "1"}})
	c := newClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	var okCount sync.Map
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := 0
			for i := 0; i < 20; i++ {
				path, want := "/ping", "pong"
				if (g+i)%2 == 1 {
					path, want = "/hello.txt", string(tr.Files["hello.txt"])
				}
				resp, body, err := tryRequest(c, "GET", s.URL(path), nil)
				if err != nil {
					errs <- fmt.Errorf("client %d request %d %s: %v", g, i, path, err)
					return
				}
				if resp.StatusCode != 200 || string(body) != want {
					errs <- fmt.Errorf("client %d request %d %s: %d %q", g, i, path, resp.StatusCode, body)
					return
				}
				n++
			}
			okCount.Store(g, n)
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	okCount.Range(func(_, v any) bool { total += v.(int); return true })
	if total != 1000 {
		t.Errorf("%d of 1000 requests answered correctly", total)
	}
	m := jsonStats(t, s.Addr)
	pool, ok := m["pool"].(map[string]any)
	if !ok {
		t.Fatalf("no pool object in JSON stats: %v", m)
	}
	t.Logf("pool after the run: %v (queue_full > 0 is likely but not guaranteed)", pool)
	if req, _ := m["requests"].(float64); req < 1000 {
		t.Errorf("JSON stats requests = %v, want >= 1000", m["requests"])
	}
}

// TestE2EModernInline: with --workers 0 every endpoint still works.
func TestE2EModernInline(t *testing.T) {
	tr := makeTree(t)
	s := startServer(t, serverOptions{Root: tr.Root, Args: []string{"--workers", "0"}})
	checkEndpoints(t, s, tr)
}

// TestE2EModernEndpointsDefault runs the same endpoint sweep on the default
// pool, and with a pool of one.
func TestE2EModernEndpointsDefault(t *testing.T) {
	tr := makeTree(t)
	for _, args := range [][]string{nil, {"--workers", "1"}} {
		t.Run(strings.Join(append([]string{"workers"}, args...), " "), func(t *testing.T) {
			s := startServer(t, serverOptions{Root: tr.Root, Args: args})
			checkEndpoints(t, s, tr)
		})
	}
}

// checkEndpoints sweeps every endpoint on a fresh server over tr.
func checkEndpoints(t *testing.T, s *server, tr *docTree) {
	t.Helper()
	c := newClient(t)
	get := func(path string, status int, body string) {
		t.Helper()
		resp, b := doRequest(t, c, "GET", s.URL(path), nil)
		if resp.StatusCode != status || (body != "" && string(b) != body) {
			t.Errorf("GET %s: %d %q, want %d %q", path, resp.StatusCode, clip(b), status, body)
		}
	}
	get("/stats", 200, "Requests: 0\nHeader bytes: 0\nBody bytes: 0\nErrors: 0\nError bytes: 0")
	get("/ping", 200, "pong")
	get("/read", 200, "<empty>")
	resp, b := doRequest(t, c, "POST", s.URL("/write"), []byte("v\x00\xff"))
	if resp.StatusCode != 200 || string(b) != "v\x00\xff" {
		t.Errorf("POST /write: %d %q", resp.StatusCode, b)
	}
	get("/read", 200, "v\x00\xff")
	get("/hello.txt", 200, string(tr.Files["hello.txt"]))
	get("/sub/", 200, string(tr.Files["sub/index.html"]))
	get("/bin.dat", 200, string(tr.Files["bin.dat"]))
	get("/nope", 404, "")
	get("/emptydir/", 404, "")
	if r := sendOne(t, s.Addr, "GET /echo HTTP/1.1\r\nHost: e2e\r\nX-A: 1\r\n\r\n"); r.Status != 200 || string(r.Body) != "Host: e2e\r\nX-A: 1" {
		t.Errorf("GET /echo: %d %q", r.Status, r.Body)
	}
	if r := sendOne(t, s.Addr, "DELETE /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 405 || r.Header.Get("Allow") == "" {
		t.Errorf("DELETE /ping: %q", r.Head)
	}
	resp, b = doRequest(t, c, "HEAD", s.URL("/ping"), nil)
	if resp.StatusCode != 200 || resp.ContentLength != 4 || len(b) != 0 {
		t.Errorf("HEAD /ping: %d %d %q", resp.StatusCode, resp.ContentLength, b)
	}
	rc := dial(t, s.Addr)
	rc.Send(getRequest("/ping") + getRequest("/hello.txt") + getRequest("/read"))
	for i, want := range []string{"pong", string(tr.Files["hello.txt"]), "v\x00\xff"} {
		if r := rc.ReadResponse(false); r.Status != 200 || string(r.Body) != want {
			t.Errorf("pipelined %d: %d %q, want %q", i, r.Status, r.Body, want)
		}
	}
	m := jsonStats(t, s.Addr)
	if req, _ := m["requests"].(float64); req < 10 {
		t.Errorf("JSON stats requests = %v after at least 10 successful responses", m["requests"])
	}
}

// TestE2EModernCurl: curl against /ping, /echo, POST /write --data-binary and
// a file download.
func TestE2EModernCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed; .ci/run installs it")
		}
		t.Skip("curl is not installed")
	}
	tr := makeTree(t)
	s := startServer(t, serverOptions{Root: tr.Root})
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--fail", "--http1.1", "--max-time", "20"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %v: %v: %s", args, err, stderr.String())
		}
		return out
	}
	if out := run(s.URL("/ping")); string(out) != "pong" {
		t.Errorf("curl /ping: %q", out)
	}
	out := run("-H", "X-Curl: yes", s.URL("/echo"))
	if !strings.HasPrefix(string(out), "Host: "+s.Addr+"\r\n") || !strings.Contains(string(out), "\r\nX-Curl: yes") ||
		strings.HasSuffix(string(out), "\r\n") {
		t.Errorf("curl /echo: %q", out)
	}
	val := append([]byte("curl\x00data\xff\r\n"), randomBytes(t, 500)...)
	p := filepath.Join(t.TempDir(), "post.bin")
	if err := os.WriteFile(p, val, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run("--data-binary", "@"+p, s.URL("/write")); !bytes.Equal(out, val) {
		t.Errorf("curl POST /write: answer differs (%d bytes, want %d)", len(out), len(val))
	}
	if out := run(s.URL("/read")); !bytes.Equal(out, val) {
		t.Errorf("curl /read: differs (%d bytes, want %d)", len(out), len(val))
	}
	dl := filepath.Join(t.TempDir(), "dl.bin")
	run("-o", dl, s.URL("/bin.dat"))
	got, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tr.Files["bin.dat"]) {
		t.Errorf("curl download of /bin.dat differs (%d bytes, want %d)", len(got), len(tr.Files["bin.dat"]))
	}
	// curl sees the headers too.
	head := run("-I", s.URL("/ping"))
	if !bytes.Contains(head, []byte("Content-Length: 4")) || !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
		t.Errorf("curl -I /ping: %q", head)
	}
}
