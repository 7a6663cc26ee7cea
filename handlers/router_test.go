package handlers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"http_server/protocol"
	"http_server/stats"
	"http_server/workers"
)

func newTestRouter(t *testing.T, compat protocol.Compat) *Router {
	root, _ := fixture(t)
	files, err := OpenRoot(root)
	must(t, err)
	t.Cleanup(files.Close)
	rt, err := NewRouter(Config{Files: files, Compat: compat, WriteLimit: 1024,
		Encoder: &protocol.Encoder{Compat: compat, Server: "t"}, Stats: stats.New(RouteNames()...)})
	must(t, err)
	return rt
}

// run parses raw (one complete request), admits it as the reactor does
// and serves it as a worker does; the batch holds its one response.
func run(t testing.TB, rt *Router, raw string) protocol.Batch {
	t.Helper()
	p := protocol.Parser{Limits: protocol.DefaultLimits, Compat: rt.cfg.Compat}
	var req protocol.Request
	n, status := p.Parse([]byte(raw), &req)
	if status == 0 && n == 0 {
		t.Fatalf("incomplete request %q", raw)
	}
	if status == 0 {
		limit, st := rt.Admit(&req)
		switch {
		case st != 0:
			status = st
		case req.ContentLength > limit:
			status = 413
		case req.ContentLength > 0:
			req.Body = []byte(raw[n : n+int(req.ContentLength)])
		}
	}
	req.Err = status
	var b protocol.Batch
	workers.Serve(rt, rt.enc, nil, []protocol.Request{req}, &b) // rejected requests never reach the router
	if len(b.Items) != 1 {
		t.Fatalf("%q: %d items for one request", raw, len(b.Items))
	}
	return b
}

// serve runs raw and returns the response bytes (files are reported by
// their length, not read).
func serve(t *testing.T, rt *Router, raw string) (protocol.Item, string) {
	t.Helper()
	b := run(t, rt, raw)
	it := b.Items[0]
	if it.HasFile {
		defer closeFd(it.File.Fd)
	}
	return it, string(b.Buf)
}

func TestModernRoutes(t *testing.T) {
	rt := newTestRouter(t, protocol.Modern)
	cases := []struct {
		raw, status, body, header string
	}{
		{"GET /ping HTTP/1.1\r\nHost: h\r\n\r\n", "200", "pong", ""},
		{"HEAD /ping HTTP/1.1\r\nHost: h\r\n\r\n", "200", "", "Content-Length: 4"},
		{"POST /ping HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "405", "", "Allow: GET, HEAD, OPTIONS"},
		{"GET /echo HTTP/1.1\r\nHost: h\r\nX-A:  1 \r\n\r\n", "200", "Host: h\r\nX-A:  1 ", ""},
		{"GET /read HTTP/1.1\r\nHost: h\r\n\r\n", "200", "<empty>", ""},
		{"POST /write HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz", "200", "xyz", ""},
		{"GET /read HTTP/1.1\r\nHost: h\r\n\r\n", "200", "xyz", ""},
		{"POST /write HTTP/1.1\r\nHost: h\r\n\r\n", "200", "", "Content-Length: 0"},
		{"OPTIONS /ping HTTP/1.1\r\nHost: h\r\n\r\n", "204", "", "Allow: GET, HEAD, OPTIONS"},
		{"OPTIONS /a.txt HTTP/1.1\r\nHost: h\r\n\r\n", "204", "", "Allow: GET, HEAD, OPTIONS"},
		{"OPTIONS /write HTTP/1.1\r\nHost: h\r\n\r\n", "204", "", "Allow: POST, OPTIONS"},
		{"GET /write HTTP/1.1\r\nHost: h\r\n\r\n", "405", "", "Allow: POST, OPTIONS"},
		{"DELETE /a.txt HTTP/1.1\r\nHost: h\r\n\r\n", "405", "", "Allow: GET, HEAD, OPTIONS"},
		{"GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\n", "200", "", "Content-Length: 5"},
		{"GET /a.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=1-2\r\n\r\n", "206", "", "Content-Range: bytes 1-2/5"},
		{"GET /a.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=9-\r\n\r\n", "416", "", "Content-Range: bytes */5"},
		{"GET /a.txt HTTP/1.1\r\nHost: h\r\nIf-None-Match: *\r\n\r\n", "304", "", "ETag: \""},
		{"GET /a.txt HTTP/1.1\r\nHost: h\r\nIf-Match: \"x\"\r\n\r\n", "412", "", ""},
		{"GET /sub?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", "301", "", "Location: /sub/?q=1"},
		{"GET /.env HTTP/1.1\r\nHost: h\r\n\r\n", "404", "", ""},
		{"GET /nope HTTP/1.1\r\nHost: h\r\n\r\n", "404", "", ""},
		{"GET /stats HTTP/1.1\r\nHost: h\r\n\r\n", "200", "Requests: 0\nHeader bytes: 0\nBody bytes: 0\nErrors: 0\nError bytes: 0", ""},
		{"GET /stats?a=1&format=json HTTP/1.1\r\nHost: h\r\n\r\n", "200", "", "application/json"},
	}
	for _, c := range cases {
		_, out := serve(t, rt, c.raw)
		head, body, _ := strings.Cut(out, "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.1 "+c.status+" ") {
			t.Errorf("%q: got %q, want status %s", c.raw, head, c.status)
		}
		if c.status == "200" && c.body != "" && body != c.body {
			t.Errorf("%q: body %q, want %q", c.raw, body, c.body)
		}
		if c.header != "" && !strings.Contains(head, c.header) {
			t.Errorf("%q: head lacks %q:\n%s", c.raw, c.header, head)
		}
	}
}

func TestClassicRoutes(t *testing.T) {
	rt := newTestRouter(t, protocol.Classic)
	long := "GET /echo HTTP/1.1\r\nX: " + strings.Repeat("a", 1021) + "\r\n\r\n" // block of 1024 bytes
	longer := "GET /echo HTTP/1.1\r\nX: " + strings.Repeat("a", 1022) + "\r\n\r\n"
	cases := []struct{ raw, want string }{
		{"GET /ping HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong"},
		{"HEAD /ping HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{"GET /ping HTTP/1.0\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{"POST /ping HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{"GET /write HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n\r\n"},
		{"POST /write HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", "HTTP/1.1 413 Request Entity Too Large\r\n\r\n"},
		{"POST /write HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"},
		{"GET /read HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"},
		{long, "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\nX: " + strings.Repeat("a", 1021)},
		{longer, "HTTP/1.1 413 Request Entity Too Large\r\n\r\n"},
		{"GET /sub HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n\r\n"},
		{"GET /a.txt HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	}
	for _, c := range cases {
		it, out := serve(t, rt, c.raw)
		if out != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.raw, out, c.want)
		}
		if !it.Close {
			t.Errorf("%q: classic responses close the connection", c.raw)
		}
	}
}

// Concurrent writers and readers never see a torn value.
func TestStoreNoTornValues(t *testing.T) {
	s := &store{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if _, err := s.Save(bytes.Repeat([]byte{byte('a' + w)}, 1+i%1024)); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				v := mustLoad(t, s)
				if string(v) == "<empty>" {
					continue
				}
				if len(bytes.Trim(v, string(v[:1]))) != 0 {
					t.Errorf("torn value: %q...", v[:min(len(v), 20)])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// With a state file, the value survives a new store (a restart), and the
// file holds exactly the last value written.
func TestStoreStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store")
	s, err := openStore(path)
	must(t, err)
	if string(mustLoad(t, s)) != "<empty>" {
		t.Fatalf("fresh store: %q", mustLoad(t, s))
	}
	for _, v := range []string{"first", "", "bin\x00\xff"} {
		if _, err := s.Save([]byte(v)); err != nil {
			t.Fatal(err)
		}
		again, err := openStore(path)
		must(t, err)
		if string(mustLoad(t, again)) != v {
			t.Fatalf("after a restart: %q, want %q", mustLoad(t, again), v)
		}
	}
	if _, err := openStore(filepath.Join(t.TempDir(), "missing-dir", "store")); err == nil {
		t.Fatal("a state file in a missing directory must fail at start")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func mustLoad(t *testing.T, s Store) []byte {
	t.Helper()
	v, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
