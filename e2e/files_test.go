package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2EFilesStatic: regular files, index.html, directories without one,
// missing files, HEAD, and ways out of the root (modern mode).
func TestE2EFilesStatic(t *testing.T) {
	tr := makeTree(t)
	tr.Add(t, "with space.txt", []byte("spaced name\n"))
	tr.Add(t, "empty.txt", nil)
	s := startServer(t, serverOptions{Root: tr.Root})
	c := newClient(t)

	for _, tc := range []struct{ path, file string }{
		{"/hello.txt", "hello.txt"},
		{"/bin.dat", "bin.dat"},
		{"/sub/page.txt", "sub/page.txt"},
		{"/sub/", "sub/index.html"},
		{"/hello.txt?x=1", "hello.txt"},
		{"/with%20space.txt", "with space.txt"},
		{"/empty.txt", "empty.txt"},
	} {
		resp, body := doRequest(t, c, "GET", s.URL(tc.path), nil)
		want := tr.Files[tc.file]
		if resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Errorf("GET %s: %d, %d bytes (want 200, %d bytes of %s)", tc.path, resp.StatusCode, len(body), len(want), tc.file)
			continue
		}
		if resp.ContentLength != int64(len(want)) {
			t.Errorf("GET %s: Content-Length %d, want %d", tc.path, resp.ContentLength, len(want))
		}
		checkModernHeaders(t, "GET "+tc.path, resp.Header)
	}

	// HEAD of a file: the length, no body (checked on the wire).
	rc := dial(t, s.Addr)
	rc.Send("HEAD /bin.dat HTTP/1.1\r\nHost: e2e\r\n\r\n" + getRequest("/hello.txt"))
	if r := rc.ReadResponse(true); r.Status != 200 || r.Header.Get("Content-Length") != fmt.Sprint(len(tr.Files["bin.dat"])) {
		t.Errorf("HEAD /bin.dat: %q", r.Head)
	}
	if r := rc.ReadResponse(false); r.Status != 200 || !bytes.Equal(r.Body, tr.Files["hello.txt"]) {
		t.Errorf("GET after HEAD of a file: %q %q (the HEAD sent a body?)", r.Head, clip(r.Body))
	}

	// A directory without a slash: its index, or a redirect to the slash.
	resp, body := doRequest(t, &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, "GET", s.URL("/sub"), nil)
	switch resp.StatusCode {
	case 200:
		if !bytes.Equal(body, tr.Files["sub/index.html"]) {
			t.Errorf("GET /sub: 200 with %q", body)
		}
	case 301, 302, 307, 308:
		if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/sub/") {
			t.Errorf("GET /sub: redirect to %q", loc)
		}
	default:
		t.Errorf("GET /sub: %d, want its index.html or a redirect to /sub/", resp.StatusCode)
	}

	for _, p := range []string{"/missing.txt", "/emptydir/", "/emptydir", "/sub/missing", "/hello.txt/x"} {
		resp, _ := doRequest(t, c, "GET", s.URL(p), nil)
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	// The root itself has no index.html.
	if resp, _ := doRequest(t, c, "GET", s.URL("/"), nil); resp.StatusCode != 404 {
		t.Errorf("GET / without index.html: %d, want 404", resp.StatusCode)
	}

	// Leaving the root: raw, so that no client cleans the path first. The
	// full lists are the handlers package's TestPathTraversalDefault.
	strict := []string{"/../etc/passwd", "/%2e%2e/secret.txt"}
	loose := []string{"/..%2fsecret.txt", "/link-out"}
	for i, p := range append(strict, loose...) {
		r := sendOne(t, s.Addr, "GET "+p+" HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n")
		if i < len(strict) {
			if r.Status != 404 && r.Status != 403 {
				t.Errorf("GET %s: %d, want 404 or 403", p, r.Status)
			}
		} else if r.Status < 400 {
			t.Errorf("GET %s: %d, want an error status", p, r.Status)
		}
		if bytes.Contains(r.Body, tr.Secret) || bytes.Contains(r.Body, []byte("root:x:0:0")) {
			t.Errorf("GET %s leaked a file from outside the root: %q", p, clip(r.Body))
		}
	}
	// The server is still fine.
	if resp, body := doRequest(t, c, "GET", s.URL("/ping"), nil); resp.StatusCode != 200 || string(body) != "pong" {
		t.Errorf("/ping after the traversal attempts: %d %q", resp.StatusCode, body)
	}
}

// TestE2EFilesLargeModern: six concurrent 16 MB downloads held mid-transfer
// while /ping answers; then a full download with net/http.
func TestE2EFilesLargeModern(t *testing.T) {
	tr := makeTree(t)
	const size = 16 << 20
	sum := tr.AddRandom(t, "big.bin", size)
	s := startServer(t, serverOptions{Root: tr.Root})
	c := newClient(t)
	c.Timeout = 5 * time.Second
	concurrentDownloads(t, s, "/big.bin", size, sum, false, func() {
		for i := 0; i < 10; i++ {
			start := time.Now()
			resp, body := doRequest(t, c, "GET", s.URL("/ping"), nil)
			if resp.StatusCode != 200 || string(body) != "pong" {
				t.Errorf("/ping during downloads: %d %q", resp.StatusCode, body)
			}
			if el := time.Since(start); el >= time.Second {
				t.Errorf("/ping during downloads took %v, want < 1s", el)
			}
			resp, body = doRequest(t, c, "GET", s.URL("/hello.txt"), nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, tr.Files["hello.txt"]) {
				t.Errorf("small file during downloads: %d %q", resp.StatusCode, body)
			}
		}
	})
	c.Timeout = 30 * time.Second
	got, n, err := downloadSum(c, s.URL("/big.bin"))
	if err != nil || n != size || got != sum {
		t.Errorf("net/http download: %d bytes, err %v, equal=%v", n, err, got == sum)
	}
}

// TestE2EFilesWorkersOneDownloadWithPings: with one worker a download in
// flight (sent by the reactor) does not hold up pings.
func TestE2EFilesWorkersOneDownloadWithPings(t *testing.T) {
	tr := makeTree(t)
	const size = 16 << 20
	sum := tr.AddRandom(t, "big.bin", size)
	s := startServer(t, serverOptions{Root: tr.Root, Args: []string{"--workers", "1"}})
	c := newClient(t)
	c.Timeout = 5 * time.Second

	// A download held mid-transfer.
	dl := dial(t, s.Addr)
	paused := make(chan struct{})
	resume := make(chan struct{})
	var once sync.Once
	unpause := func() { once.Do(func() { close(resume) }) }
	defer unpause()
	done := make(chan error, 1)
	go func() {
		done <- download(dl, "GET /big.bin HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n", size, sum, false, func() {
			close(paused)
			<-resume
		})
	}()
	select {
	case <-paused:
	case err := <-done:
		t.Fatalf("download ended before pausing: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("download did not start")
	}
	for i := 0; i < 20; i++ {
		resp, body := doRequest(t, c, "GET", s.URL("/ping"), nil)
		if resp.StatusCode != 200 || string(body) != "pong" {
			t.Fatalf("/ping %d during a download: %d %q", i, resp.StatusCode, body)
		}
	}
	unpause()
	if err := <-done; err != nil {
		t.Errorf("held download: %v", err)
	}

	// Free-running: pings in a loop while a download runs to completion.
	stop := make(chan struct{})
	pingErr := make(chan error, 1)
	pings := 0
	go func() {
		defer close(pingErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, body, err := tryRequest(c, "GET", s.URL("/ping"), nil)
			if err == nil && (resp.StatusCode != 200 || string(body) != "pong") {
				err = fmt.Errorf("%d %q", resp.StatusCode, body)
			}
			if err != nil {
				pingErr <- err
				return
			}
			pings++
		}
	}()
	c2 := newClient(t)
	got, n, err := downloadSum(c2, s.URL("/big.bin"))
	close(stop)
	if perr := <-pingErr; perr != nil {
		t.Errorf("/ping during a download: %v", perr)
	}
	if err != nil || n != size || got != sum {
		t.Errorf("download: %d bytes, err %v, equal=%v", n, err, got == sum)
	}
	t.Logf("%d pings during one 16 MB download", pings)
}

// TestE2EFilesClientDisconnect: clients that vanish mid-download, or right
// after sending a request, do not disturb anyone else, and their
// connections are gone afterwards.
func TestE2EFilesClientDisconnect(t *testing.T) {
	tr := makeTree(t)
	const size = 16 << 20
	sum := tr.AddRandom(t, "big.bin", size)
	for _, args := range [][]string{nil, {"--workers", "1", "--queue", "1"}} {
		t.Run(strings.Join(append([]string{"workers"}, args...), " "), func(t *testing.T) {
			s := startServer(t, serverOptions{Root: tr.Root, Args: args})
			buf := make([]byte, 8192)
			for i := 0; i < 20; i++ {
				c := dial(t, s.Addr)
				c.Send("GET /big.bin HTTP/1.1\r\nHost: e2e\r\n\r\n")
				c.c.SetReadDeadline(time.Now().Add(ioTimeout))
				got := 0
				for got < 4096 {
					n, err := c.br.Read(buf)
					got += n
					if err != nil {
						t.Fatalf("partial download %d: %v", i, err)
					}
				}
				c.Close()
			}
			// Gone before the answer: the completion finds no connection.
			for i := 0; i < 20; i++ {
				c := dial(t, s.Addr)
				c.Send("GET /big.bin HTTP/1.1\r\nHost: e2e\r\n\r\nGET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n")
				c.Close()
			}
			cl := newClient(t)
			if resp, body := doRequest(t, cl, "GET", s.URL("/ping"), nil); resp.StatusCode != 200 || string(body) != "pong" {
				t.Fatalf("/ping after disconnects: %d %q", resp.StatusCode, body)
			}
			got, n, err := downloadSum(cl, s.URL("/big.bin"))
			if err != nil || n != size || got != sum {
				t.Fatalf("full download after disconnects: %d bytes, err %v, equal=%v", n, err, got == sum)
			}
			cl.Transport.(*http.Transport).CloseIdleConnections()
			// Every abandoned connection is closed: only the stats request's
			// own connection remains.
			var conns any
			deadline := time.Now().Add(3 * time.Second)
			for {
				m := jsonStats(t, s.Addr)
				conns = m["connections"]
				if n, ok := conns.(float64); ok && n <= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("JSON stats still report %v open connections (want 1: the stats request itself)", conns)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestE2EFilesDescriptorLeak: under `ulimit -n 100`, 201 requests, 100 file
// downloads and some 404s all succeed, and the descriptor count returns to
// where it started (both modes).
func TestE2EFilesDescriptorLeak(t *testing.T) {
	tr := makeTree(t)
	const fsize = 256 << 10
	sum := tr.AddRandom(t, "f.bin", fsize)
	for _, mode := range []string{"modern", "classic"} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, serverOptions{Root: tr.Root, Ulimit: 100, Args: []string{"--compat", mode}})
			limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", s.Pid()))
			if err != nil {
				t.Fatal(err)
			}
			if !hasNofile100(string(limits)) {
				t.Fatalf("the server does not run with 100 descriptors:\n%s", limits)
			}
			classic := mode == "classic"
			host := "Host: e2e\r\n"
			if classic {
				host = ""
			}
			one := func(path string) []byte { // one request on a fresh connection, until EOF
				t.Helper()
				req := "GET " + path + " HTTP/1.1\r\n" + host + "\r\n"
				if !classic {
					req = "GET " + path + " HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"
				}
				return exchange(t, s.Addr, req, false)
			}
			body := func(raw []byte) (int, string) {
				i := bytes.Index(raw, []byte("\r\n\r\n"))
				if i < 0 {
					return 0, ""
				}
				st, _, err := parseHead(raw[:i+4])
				if err != nil {
					return 0, ""
				}
				return st, string(raw[i+4:])
			}

			// Warm up (lazy runtime descriptors, the file path), then count.
			for _, p := range []string{"/ping", "/f.bin", "/nope", "/echo"} {
				one(p)
			}
			time.Sleep(100 * time.Millisecond)
			initial := fdCount(t, s.Pid())

			paths := []struct{ path, want string }{
				{"/ping", "pong"}, {"/read", "<empty>"}, {"/hello.txt", string(tr.Files["hello.txt"])},
			}
			var ka *rawConn
			for i := 0; i < 201; i++ {
				p := paths[i%len(paths)]
				if classic || i%2 == 0 {
					if st, b := body(one(p.path)); st != 200 || b != p.want {
						t.Fatalf("request %d %s: %d %q", i, p.path, st, clip([]byte(b)))
					}
					continue
				}
				// Modern: keep-alive connections, ten requests each.
				if ka == nil {
					ka = dial(t, s.Addr)
				}
				ka.Send("GET " + p.path + " HTTP/1.1\r\nHost: e2e\r\n\r\n")
				if r := ka.ReadResponse(false); r.Status != 200 || string(r.Body) != p.want {
					t.Fatalf("keep-alive request %d %s: %d %q", i, p.path, r.Status, r.Body)
				}
				if i%20 == 19 {
					ka.Close()
					ka = nil
				}
			}
			if ka != nil {
				ka.Close()
			}
			for i := 0; i < 100; i++ {
				c := dial(t, s.Addr)
				req := "GET /f.bin HTTP/1.1\r\n" + host + "\r\n"
				if !classic {
					req = "GET /f.bin HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"
				}
				if err := download(c, req, fsize, sum, classic, nil); err != nil {
					t.Fatalf("download %d: %v", i, err)
				}
				c.Close()
			}
			for i := 0; i < 20; i++ {
				if st, _ := body(one(fmt.Sprintf("/missing-%d", i))); st != 404 {
					t.Fatalf("404 request %d: status %d", i, st)
				}
			}
			// Still serving after all that.
			if st, b := body(one("/ping")); st != 200 || b != "pong" {
				t.Fatalf("/ping at the end: %d %q", st, b)
			}

			var now int
			deadline := time.Now().Add(2 * time.Second)
			for {
				now = fdCount(t, s.Pid())
				if now <= initial+2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if now > initial+2 {
				t.Errorf("descriptors: %d at the start, %d after the run (leak)", initial, now)
			}
			t.Logf("descriptors: %d at the start, %d after the run", initial, now)
		})
	}
}

// hasNofile100 reports whether a /proc/PID/limits text shows a soft
// limit of 100 open files.
func hasNofile100(limits string) bool {
	for _, l := range strings.Split(limits, "\n") {
		if strings.HasPrefix(l, "Max open files") {
			f := strings.Fields(strings.TrimPrefix(l, "Max open files"))
			return len(f) >= 1 && f[0] == "100"
		}
	}
	return false
}
