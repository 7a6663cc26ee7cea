package e2e

// End-to-end tests of HTTPS: curl and openssl s_client as real clients
// (TLS 1.2 and 1.3, KeyUpdate, a refused renegotiation), Go's client on one
// keep-alive connection and on 200 concurrent ones, pipelining inside one
// TLS record, a ClientHello that arrives one byte at a time, handshakes that
// fail in every way the server counts (and leave no descriptor behind), the
// cap on handshakes in progress, a 1 GiB download, the certificate reloaded on SIGHUP, --tls-redirect,
// --tls-only, configuration errors and the TLS counters of /stats and
// /metrics. Certificates come from tlscert_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tlsIOTimeout bounds every single socket operation of these tests.
const tlsIOTimeout = 10 * time.Second

// startTLS starts a server with leaf as its certificate, the https
// listener on a free port, and waits for both start lines (only the https
// one with o.TLSOnly).
func startTLS(t testing.TB, leaf *leafCert, o serverOptions) *server {
	t.Helper()
	o.Args = append([]string{"--tls-cert", leaf.CertPath, "--tls-key", leaf.KeyPath, "--tls-port", "0"}, o.Args...)
	if o.TLSOnly {
		o.Args = append(o.Args, "--tls-only")
	} else {
		o.TLS = true
	}
	return startServer(t, o)
}

// TLSURL is the https URL of path on this server.
func (s *server) TLSURL(path string) string { return "https://" + s.TLSAddr + path }

// tlsConfig trusts ca, verifies the name 127.0.0.1, and allows the
// versions from min to max (0 for crypto/tls's defaults).
func tlsConfig(ca *testCA, min, max uint16) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1", MinVersion: min, MaxVersion: max}
}

// tlsClient is a keep-alive net/http client that trusts ca (HTTP/1.1:
// a custom TLS configuration turns HTTP/2 off).
func tlsClient(t testing.TB, cfg *tls.Config) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     cfg,
		DialContext:         (&net.Dialer{Timeout: tlsIOTimeout}).DialContext,
		TLSHandshakeTimeout: tlsIOTimeout,
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// tlsConn is one raw TLS client connection with per-operation deadlines.
type tlsConn struct {
	t  testing.TB
	c  *tls.Conn
	br *bufio.Reader
}

// tlsTryDial connects and completes the handshake, or returns the error.
func tlsTryDial(addr string, cfg *tls.Config) (*tls.Conn, error) {
	raw, err := net.DialTimeout("tcp", addr, tlsIOTimeout)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), tlsIOTimeout)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// tlsDial connects and completes the handshake, or fails the test.
func tlsDial(t testing.TB, addr string, cfg *tls.Config) *tlsConn {
	t.Helper()
	c, err := tlsTryDial(addr, cfg)
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &tlsConn{t: t, c: c, br: bufio.NewReaderSize(c, 64*1024)}
}

// Send writes data in one call (one TLS record when it fits).
func (c *tlsConn) Send(data string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(tlsIOTimeout))
	if _, err := io.WriteString(c.c, data); err != nil {
		c.t.Fatalf("TLS write: %v", err)
	}
}

// Read reads one response (with a Content-Length body of at most 1 MiB).
func (c *tlsConn) Read() *rawResponse {
	c.t.Helper()
	r, err := readResponse(c.c, c.br)
	if err != nil {
		c.t.Fatalf("reading a response over TLS: %v (head %q)", err, clip(r.Head))
	}
	return r
}

// Do sends one request and reads its response.
func (c *tlsConn) Do(req string) *rawResponse {
	c.t.Helper()
	c.Send(req)
	return c.Read()
}

// ExpectClosed asserts that the server closes the connection now.
func (c *tlsConn) ExpectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(tlsIOTimeout))
	n, err := c.br.Read(make([]byte, 4096))
	if n > 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("expected the server to close the TLS connection: read %d bytes, %v", n, err)
	}
}

func (c *tlsConn) Close() { c.c.Close() }

// tlsPing checks that a fresh TLS connection with cfg gets pong, and
// returns its connection state.
func tlsPing(t testing.TB, addr string, cfg *tls.Config) tls.ConnectionState {
	t.Helper()
	c := tlsDial(t, addr, cfg)
	defer c.Close()
	if r := c.Do("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "pong" {
		t.Fatalf("GET /ping over TLS: %d %q", r.Status, r.Body)
	}
	return c.c.ConnectionState()
}

// tlsJSONStats fetches /stats?format=json over a fresh TLS connection
// (whose handshake the figures include).
func tlsJSONStats(t testing.TB, addr string, cfg *tls.Config) map[string]any {
	t.Helper()
	c := tlsDial(t, addr, cfg)
	defer c.Close()
	r := c.Do("GET /stats?format=json HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("GET /stats?format=json over TLS: status %d", r.Status)
	}
	return decodeJSON(t, r.Body)
}

// tlsCounts is the "tls" object of the JSON /stats.
type tlsCounts struct {
	Handshakes float64
	Failures   map[string]float64 // timeout, client_closed, not_tls, protocol
	Versions   map[string]float64 // "TLS 1.2", "TLS 1.3"
}

func (c tlsCounts) String() string {
	return fmt.Sprintf("handshakes %v, failures %v, versions %v", c.Handshakes, c.Failures, c.Versions)
}

// tlsCountsOf reads the "tls" object; every documented key must be there.
func tlsCountsOf(t testing.TB, m map[string]any) tlsCounts {
	t.Helper()
	obj, ok := m["tls"].(map[string]any)
	if !ok {
		t.Fatalf(`JSON /stats has no "tls" object: %v`, m)
	}
	c := tlsCounts{Failures: map[string]float64{}, Versions: map[string]float64{}}
	if c.Handshakes, ok = obj["handshakes"].(float64); !ok {
		t.Fatalf(`"tls" has no numeric "handshakes": %v`, obj)
	}
	fails, ok := obj["handshake_failures"].(map[string]any)
	if !ok {
		t.Fatalf(`"tls" has no "handshake_failures" object: %v`, obj)
	}
	for _, k := range []string{"timeout", "client_closed", "not_tls", "protocol"} {
		if c.Failures[k], ok = fails[k].(float64); !ok {
			t.Fatalf(`"handshake_failures" has no numeric %q: %v`, k, fails)
		}
	}
	vers, ok := obj["versions"].(map[string]any)
	if !ok {
		t.Fatalf(`"tls" has no "versions" object: %v`, obj)
	}
	for _, k := range []string{"TLS 1.2", "TLS 1.3"} {
		if c.Versions[k], ok = vers[k].(float64); !ok {
			t.Fatalf(`"versions" has no numeric %q: %v`, k, vers)
		}
	}
	return c
}

// requireTool finds a command-line client. curl and openssl are installed by
// .ci/run, so under CI their absence is a failure; elsewhere the test skips.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// freePort is a TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// listeningPorts lists the TCP ports that process pid listens on, from
// its socket descriptors and /proc/net/tcp{,6}.
func listeningPorts(t testing.TB, pid int) []int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("listing descriptors: %v", err)
	}
	inodes := map[string]bool{}
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" || !inodes[fs[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && !slices.Contains(ports, int(p)) {
				ports = append(ports, int(p)) // each loop has its own socket on the port: counted once
			}
		}
	}
	return ports
}

// ---------------------------------------------------------------------------
// 1. curl

// TestE2ETLSCurl: curl with TLS 1.2 forced and with TLS 1.3 gets the right
// bodies, negotiates the version it asked for and http/1.1 by ALPN; the
// other routes (/echo, /write, /read, a file, a range) work over TLS, the
// certificate's DNS name works with SNI, and the plain listener still
// answers plain HTTP.
func TestE2ETLSCurl(t *testing.T) {
	curl := requireTool(t, "curl")
	ca := newCA(t)
	leaf := ca.Leaf(t, "e2e-curl")
	tr := makeTree(t)
	s := startTLS(t, leaf, serverOptions{Root: tr.Root})
	run := func(args ...string) (out []byte, verbose string) {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--fail", "--max-time", "20", "--cacert", ca.Path}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %v: %v: %s", args, err, stderr.String())
		}
		return out, stderr.String()
	}

	for _, v := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"TLS 1.2", []string{"--tlsv1.2", "--tls-max", "1.2"}, "SSL connection using TLSv1.2"},
		{"TLS 1.3", []string{"--tlsv1.3"}, "SSL connection using TLSv1.3"},
	} {
		out, verbose := run(append(v.flags, "-v", s.TLSURL("/ping"))...)
		if string(out) != "pong" {
			t.Errorf("%s: curl /ping: %q", v.name, out)
		}
		if !strings.Contains(verbose, v.want) {
			t.Errorf("%s: curl -v does not say %q:\n%s", v.name, v.want, verbose)
		}
		// curl offers h2 and http/1.1; the server must pick http/1.1.
		if !strings.Contains(verbose, "ALPN: server accepted http/1.1") {
			t.Errorf("%s: ALPN did not settle on http/1.1:\n%s", v.name, verbose)
		}
		out, _ = run(append(v.flags, "-H", "X-Curl: "+v.name, s.TLSURL("/echo"))...)
		if !strings.HasPrefix(string(out), "Host: "+s.TLSAddr+"\r\n") || !strings.Contains(string(out), "\r\nX-Curl: "+v.name) {
			t.Errorf("%s: curl /echo: %q", v.name, out)
		}
	}

	val := append([]byte("tls\x00data\xff\r\n"), randomBytes(t, 988)...) // 1000 bytes, under --write-limit
	post := filepath.Join(t.TempDir(), "post.bin")
	if err := os.WriteFile(post, val, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := run("--data-binary", "@"+post, s.TLSURL("/write")); !bytes.Equal(out, val) {
		t.Errorf("curl POST /write over TLS: answer differs (%d bytes, want %d)", len(out), len(val))
	}
	if out, _ := run(s.TLSURL("/read")); !bytes.Equal(out, val) {
		t.Errorf("curl /read over TLS: differs (%d bytes, want %d)", len(out), len(val))
	}
	dl := filepath.Join(t.TempDir(), "dl.bin")
	run("-o", dl, s.TLSURL("/bin.dat"))
	if got, _ := os.ReadFile(dl); !bytes.Equal(got, tr.Files["bin.dat"]) {
		t.Errorf("curl download of /bin.dat over TLS differs (%d bytes, want %d)", len(got), len(tr.Files["bin.dat"]))
	}
	code, _ := run("-r", "1000-1999", "-o", dl, "-w", "%{http_code}", s.TLSURL("/bin.dat"))
	if got, _ := os.ReadFile(dl); string(code) != "206" || !bytes.Equal(got, tr.Files["bin.dat"][1000:2000]) {
		t.Errorf("curl -r 1000-1999 over TLS: status %s, %d bytes, equal %v", code, len(got), bytes.Equal(got, tr.Files["bin.dat"][1000:2000]))
	}
	// The DNS name of the certificate, sent as SNI.
	host := fmt.Sprintf("localhost:%d", s.TLSPort)
	if out, _ := run("--resolve", host+":127.0.0.1", "https://"+host+"/ping"); string(out) != "pong" {
		t.Errorf("curl https://%s/ping: %q", host, out)
	}
	// The plain listener is still plain HTTP.
	if out, _ := run(s.URL("/ping")); string(out) != "pong" {
		t.Errorf("curl plain /ping next to TLS: %q", out)
	}
}

// ---------------------------------------------------------------------------
// 2. Go's client

// TestE2ETLSGoClientKeepAlive: 1,000 requests of four kinds on one TLS
// connection (one handshake on the server, one local address, every later
// request on the reused connection); the 1,000th, at --max-requests, ends
// the connection.
func TestE2ETLSGoClientKeepAlive(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-keepalive"), serverOptions{})
	c := tlsClient(t, tlsConfig(ca, 0, 0))
	// One connection at most: without the cap, the transport may dial a
	// second one while the first is on its way back to the idle pool.
	c.Transport.(*http.Transport).MaxConnsPerHost = 1
	var mu sync.Mutex
	fresh, locals := 0, map[string]int{}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		mu.Lock()
		defer mu.Unlock()
		if !info.Reused {
			fresh++
		}
		locals[info.Conn.LocalAddr().String()]++
	}}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	const n = 1000
	last := "<empty>"
	var lastResp *http.Response
	for i := 0; i < n; i++ {
		method, path, want := "GET", "/ping", "pong"
		var body []byte
		var hdr []string
		switch i % 4 {
		case 1:
			last = fmt.Sprintf("value %d", i)
			method, path, want, body = "POST", "/write", last, []byte(last)
		case 2:
			path, want = "/read", last
		case 3:
			path, hdr = "/echo", []string{"X-N", strconv.Itoa(i)}
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, s.TLSURL(path), rd)
		for j := 0; j+1 < len(hdr); j += 2 {
			req.Header.Set(hdr[j], hdr[j+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("request %d (%s %s): %v", i, method, path, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("request %d (%s %s): reading the body: %v", i, method, path, err)
		}
		ok := resp.StatusCode == 200 && string(got) == want
		if hdr != nil {
			ok = resp.StatusCode == 200 && strings.Contains(string(got), "\r\nX-N: "+hdr[1])
		}
		if !ok {
			t.Fatalf("request %d (%s %s): %d %q, want 200 %q", i, method, path, resp.StatusCode, got, want)
		}
		if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
			t.Fatalf("request %d: not over TLS 1.3: %+v", i, resp.TLS)
		}
		lastResp = resp
	}
	if fresh != 1 || len(locals) != 1 {
		t.Errorf("%d requests used %d new connections from %d local addresses, want 1 and 1", n, fresh, len(locals))
	}
	if !lastResp.Close {
		t.Errorf("request %d (the --max-requests default of 1000) did not end the connection", n)
	}
	if got := tlsCountsOf(t, jsonStats(t, s.Addr)); got.Handshakes != 1 || got.Versions["TLS 1.3"] != 1 {
		t.Errorf("after %d requests on one connection the server counts %v, want 1 handshake (TLS 1.3)", n, got)
	}
}

// TestE2ETLSGoClientConcurrent: 200 connections at once, 50 requests each
// (/ping, /echo with the connection's and request's number, a file); every
// body is right, each client used one connection, and the server counts
// exactly 200 handshakes.
func TestE2ETLSGoClientConcurrent(t *testing.T) {
	const conns, per = 200, 50
	ca := newCA(t)
	tree := makeTree(t)
	s := startTLS(t, ca.Leaf(t, "e2e-concurrent"), serverOptions{Root: tree.Root})
	before := tlsCountsOf(t, jsonStats(t, s.Addr)).Handshakes
	hello := string(tree.Files["hello.txt"])
	start := time.Now()
	var wg sync.WaitGroup
	var dialed atomic.Int64
	errs := make(chan error, 2*conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dialer := &net.Dialer{Timeout: tlsIOTimeout}
			var finished atomic.Bool // past its last response; closing is the client's own doing
			tr := &http.Transport{
				TLSClientConfig: tlsConfig(ca, 0, 0),
				// Every connection is watched: one the server ends while the
				// client still holds it is a failure of keep-alive.
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					nc, err := dialer.DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					dialed.Add(1)
					return &watchedConn{Conn: nc, id: i, errs: errs, finished: &finished}, nil
				},
				TLSHandshakeTimeout: 30 * time.Second,
				MaxConnsPerHost:     1,
				MaxIdleConnsPerHost: 1,
				DisableCompression:  true,
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var fresh atomic.Int32
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) {
					if !info.Reused {
						fresh.Add(1)
					}
				},
			})
			for j := 0; j < per; j++ {
				path, want := "/ping", "pong"
				switch j % 3 {
				case 1:
					path, want = "/echo", fmt.Sprintf("\r\nX-Id: %d-%d", i, j)
				case 2:
					path, want = "/hello.txt", hello
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", s.TLSURL(path), nil)
				req.Header.Set("X-Id", fmt.Sprintf("%d-%d", i, j))
				resp, err := c.Do(req)
				if err != nil {
					errs <- fmt.Errorf("connection %d request %d: %v", i, j, err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				ok := resp.StatusCode == 200 && (string(body) == want || (path == "/echo" && strings.Contains(string(body), want)))
				if err != nil || !ok {
					errs <- fmt.Errorf("connection %d request %d GET %s: %d %q, %v", i, j, path, resp.StatusCode, clip(body), err)
					return
				}
			}
			// Go's client itself replaces a connection when its own write
			// goroutine reports a request written more than 50 ms after the
			// response came (net/http's maxWriteWaitBeforeConnReuse), which
			// happens under the race detector with 200 clients; the server's
			// part, never closing, is what watchedConn checks.
			finished.Store(true)
			if n := fresh.Load(); n != 1 {
				t.Logf("client %d: %d requests used %d connections (closed by the client)", i, per, n)
			}
		}()
	}
	wg.Wait()
	failed := 0
	for len(errs) > 0 { // not closed: a connection's reader may still end after wg.Wait
		err := <-errs
		if failed++; failed <= 10 {
			t.Error(err)
		}
	}
	if failed > 10 {
		t.Errorf("... and %d more failures", failed-10)
	}
	t.Logf("%d connections x %d requests over TLS in %v", conns, per, time.Since(start).Round(time.Millisecond))
	if got := tlsCountsOf(t, jsonStats(t, s.Addr)); got.Handshakes-before != float64(dialed.Load()) {
		t.Errorf("the server counts %v handshakes for %d connections (%v)", got.Handshakes-before, dialed.Load(), got)
	}
}

// watchedConn reports a connection that ends (EOF or an error on read)
// while its client still uses it: neither closed nor finished. (Closing
// starts with close_notify, to which the server rightly answers by
// closing, before the client closes the socket.)
type watchedConn struct {
	net.Conn
	id       int
	errs     chan<- error
	finished *atomic.Bool
	closed   atomic.Bool
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && !c.closed.Load() && !c.finished.Load() {
		select {
		case c.errs <- fmt.Errorf("client %d: the server ended a keep-alive connection: %v", c.id, err):
		default:
		}
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// ---------------------------------------------------------------------------
// 3 and 7. openssl s_client

// sClient is one interactive openssl s_client.
type sClient struct {
	t    testing.TB
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *lockedBuffer // stdout and stderr, in order
	done chan struct{}
}

func startSClient(t testing.TB, openssl string, args ...string) *sClient {
	t.Helper()
	cmd := exec.Command(openssl, append([]string{"s_client"}, args...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &sClient{t: t, cmd: cmd, in: in, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting openssl s_client: %v", err)
	}
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		if !c.exited() {
			cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("openssl %v output:\n%s", cmd.Args, c.out)
		}
	})
	return c
}

func (c *sClient) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Send writes to s_client's standard input in one write, which it reads
// in one read: data, or a command letter on its own line.
func (c *sClient) Send(data string) error {
	_, err := io.WriteString(c.in, data)
	return err
}

// WaitFor waits until substr has appeared n times in the output.
func (c *sClient) WaitFor(substr string, n int) {
	c.t.Helper()
	deadline := time.Now().Add(tlsIOTimeout)
	for strings.Count(c.out.String(), substr) < n {
		if c.exited() {
			c.t.Fatalf("openssl s_client exited before %q appeared %d times", substr, n)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%q did not appear %d times within %v", substr, n, tlsIOTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestE2ETLSOpenSSLKeyUpdate: over TLS 1.3, a request, then a KeyUpdate
// that asks the server to update too (K), which the server answers with a
// KeyUpdate of its own before its next response, then a request, then a
// KeyUpdate that asks nothing (k), then a request: every response arrives,
// and the client closes cleanly.
func TestE2ETLSOpenSSLKeyUpdate(t *testing.T) {
	openssl := requireTool(t, "openssl")
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-keyupdate"), serverOptions{})
	sc := startSClient(t, openssl, "-connect", s.TLSAddr, "-CAfile", ca.Path, "-verify_return_error",
		"-verify_ip", "127.0.0.1", "-tls1_3", "-msg")
	sc.WaitFor("Verify return code: 0 (ok)", 1)
	sc.Send("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n")
	sc.WaitFor("pong", 1)

	const serverKeyUpdate = "<<< TLS 1.3, Handshake [length 0005], KeyUpdate"
	sc.Send("K\n")
	sc.WaitFor("KEYUPDATE", 1)
	sc.Send("GET /echo HTTP/1.1\r\nHost: e2e\r\nX-After: update requested\r\n\r\n")
	sc.WaitFor("X-After: update requested", 1)
	out := sc.out.String()
	ku, resp := strings.Index(out, serverKeyUpdate), strings.Index(out, "X-After: update requested")
	if ku < 0 || ku > resp {
		t.Errorf("the server did not send its own KeyUpdate before answering after a KeyUpdate with update_requested")
	}

	sc.Send("k\n")
	sc.WaitFor("KEYUPDATE", 2)
	sc.Send("GET /echo HTTP/1.1\r\nHost: e2e\r\nX-After: update not requested\r\n\r\n")
	sc.WaitFor("X-After: update not requested", 1)
	sc.Send("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n")
	sc.WaitFor("pong", 2)

	// End of input: s_client closes the connection and exits 0.
	sc.in.Close()
	select {
	case <-sc.done:
	case <-time.After(tlsIOTimeout):
		t.Fatal("openssl s_client did not exit after its input ended")
	}
	if code := sc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("openssl s_client exit status %d", code)
	}
	tlsPing(t, s.TLSAddr, tlsConfig(ca, 0, 0))
}

// TestE2ETLSRenegotiation: the server never asks for a renegotiation (Go's
// client allowed to renegotiate freely sees none over many requests), and
// refuses one that the client starts on an established TLS 1.2 connection
// (openssl s_client's R): no new handshake, an alert or a close, no
// response to a request sent after it; a fresh connection still works.
func TestE2ETLSRenegotiation(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-renegotiation"), serverOptions{})

	t.Run("server never renegotiates", func(t *testing.T) {
		cfg := tlsConfig(ca, tls.VersionTLS12, tls.VersionTLS12)
		cfg.Renegotiation = tls.RenegotiateFreelyAsClient
		c := tlsDial(t, s.TLSAddr, cfg)
		for i := 0; i < 20; i++ {
			if r := c.Do("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "pong" {
				t.Fatalf("request %d: %d %q", i, r.Status, r.Body)
			}
		}
		if v := c.c.ConnectionState().Version; v != tls.VersionTLS12 {
			t.Fatalf("version %s, want TLS 1.2", tls.VersionName(v))
		}
	})

	t.Run("client renegotiation refused", func(t *testing.T) {
		openssl := requireTool(t, "openssl")
		sc := startSClient(t, openssl, "-connect", s.TLSAddr, "-CAfile", ca.Path, "-verify_return_error",
			"-verify_ip", "127.0.0.1", "-tls1_2", "-msg")
		sc.WaitFor("Verify return code: 0 (ok)", 1)
		sc.Send("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n")
		sc.WaitFor("pong", 1)
		sc.Send("R\n")
		sc.WaitFor("RENEGOTIATING", 1)
		time.Sleep(100 * time.Millisecond)
		if !sc.exited() {
			// Whatever happens to the new ClientHello, this request must
			// not be answered. The write fails if s_client is gone.
			sc.Send("GET /echo HTTP/1.1\r\nHost: e2e\r\nX-After: renegotiation\r\n\r\n")
		}
		select {
		case <-sc.done:
		case <-time.After(tlsIOTimeout):
			t.Fatalf("the connection neither completed nor refused the renegotiation within %v", tlsIOTimeout)
		}
		out := sc.out.String()
		after := out[strings.Index(out, "RENEGOTIATING"):]
		if !strings.Contains(after, ">>> TLS 1.2, Handshake") || !strings.Contains(after, "ClientHello") {
			t.Errorf("s_client did not send a new ClientHello after R")
		}
		if strings.Contains(after, "ServerHello") {
			t.Errorf("the server answered the renegotiation with a ServerHello")
		}
		if strings.Contains(after, "X-After: renegotiation") || strings.Count(out, "pong") != 1 {
			t.Errorf("the server answered a request sent after the refused renegotiation")
		}
		tlsPing(t, s.TLSAddr, tlsConfig(ca, tls.VersionTLS12, tls.VersionTLS12))
		tlsPing(t, s.TLSAddr, tlsConfig(ca, 0, 0))
	})
	if s.exited() {
		t.Fatal("the server exited")
	}
}

// ---------------------------------------------------------------------------
// 4 and 5. Pipelining and a trickled handshake

// TestE2ETLSPipelined: three GET /ping in one TLS write get three responses
// in order; so do a write, a read and an echo in one record, and 300
// requests (about 20 KB, more than one TLS record) in one write. ALPN
// picks http/1.1 when the client offers h2 first.
func TestE2ETLSPipelined(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-pipelined"), serverOptions{})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cfg := tlsConfig(ca, v, v)
			cfg.NextProtos = []string{"h2", "http/1.1"}
			c := tlsDial(t, s.TLSAddr, cfg)
			if st := c.c.ConnectionState(); st.NegotiatedProtocol != "http/1.1" || st.Version != v {
				t.Fatalf("ALPN %q, version %s; want http/1.1 and %s", st.NegotiatedProtocol, tls.VersionName(st.Version), tls.VersionName(v))
			}
			ping := "GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"
			c.Send(ping + ping + ping)
			for i := 0; i < 3; i++ {
				if r := c.Read(); r.Status != 200 || string(r.Body) != "pong" {
					t.Fatalf("pipelined /ping %d: %d %q", i, r.Status, r.Body)
				}
			}
			val := "pipelined " + tls.VersionName(v)
			c.Send("POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: " + strconv.Itoa(len(val)) + "\r\n\r\n" + val +
				"GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n" +
				"GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Third: 3\r\n\r\n")
			if r := c.Read(); r.Status != 200 || string(r.Body) != val {
				t.Fatalf("pipelined POST /write: %d %q", r.Status, r.Body)
			}
			if r := c.Read(); r.Status != 200 || string(r.Body) != val {
				t.Fatalf("pipelined GET /read: %d %q", r.Status, r.Body)
			}
			if r := c.Read(); r.Status != 200 || string(r.Body) != "Host: e2e\r\nX-Third: 3" {
				t.Fatalf("pipelined GET /echo: %d %q", r.Status, r.Body)
			}
			var batch strings.Builder
			const n = 300
			for i := 0; i < n; i++ {
				fmt.Fprintf(&batch, "GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Seq: %d\r\n\r\n", i)
			}
			c.Send(batch.String())
			for i := 0; i < n; i++ {
				if r := c.Read(); r.Status != 200 || string(r.Body) != fmt.Sprintf("Host: e2e\r\nX-Seq: %d", i) {
					t.Fatalf("response %d of %d pipelined: %d %q", i, n, r.Status, r.Body)
				}
			}
		})
	}
}

// trickleConn writes every byte in its own write (TCP_NODELAY is on, so
// in its own segment), with a pause between them.
type trickleConn struct {
	net.Conn
	writes int
}

func (c *trickleConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := c.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
		c.writes++
		time.Sleep(20 * time.Microsecond)
	}
	return len(p), nil
}

// TestE2ETLSByteAtATime: a client whose ClientHello, Finished and requests
// each arrive one byte per TCP segment completes the handshake (TLS 1.2 and
// 1.3) and gets its responses on the same connection.
func TestE2ETLSByteAtATime(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-trickle"), serverOptions{})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			raw, err := net.DialTimeout("tcp", s.TLSAddr, tlsIOTimeout)
			if err != nil {
				t.Fatal(err)
			}
			raw.(*net.TCPConn).SetNoDelay(true)
			tc := &trickleConn{Conn: raw}
			c := tls.Client(tc, tlsConfig(ca, v, v))
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if err := c.Handshake(); err != nil {
				t.Fatalf("handshake one byte at a time: %v", err)
			}
			if st := c.ConnectionState(); st.Version != v {
				t.Fatalf("version %s, want %s", tls.VersionName(st.Version), tls.VersionName(v))
			}
			handshakeWrites := tc.writes
			conn := &tlsConn{t: t, c: c, br: bufio.NewReader(c)}
			if r := conn.Do("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "pong" {
				t.Fatalf("GET /ping one byte at a time: %d %q", r.Status, r.Body)
			}
			if r := conn.Do("GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Slow: yes\r\n\r\n"); r.Status != 200 || string(r.Body) != "Host: e2e\r\nX-Slow: yes" {
				t.Fatalf("GET /echo one byte at a time: %d %q", r.Status, r.Body)
			}
			t.Logf("%s: handshake in %d one-byte writes, %d in all", tls.VersionName(v), handshakeWrites, tc.writes)
		})
	}
}

// ---------------------------------------------------------------------------
// 6. Failed handshakes

// clientHello is the first record a Go client sends: its ClientHello.
func clientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	cli, srv := net.Pipe()
	defer srv.Close()
	go func() {
		tls.Client(cli, cfg).Handshake()
		cli.Close()
	}()
	srv.SetReadDeadline(time.Now().Add(tlsIOTimeout))
	head := make([]byte, 5)
	if _, err := io.ReadFull(srv, head); err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, 5+int(binary.BigEndian.Uint16(head[3:])))
	copy(rec, head)
	if _, err := io.ReadFull(srv, rec[5:]); err != nil {
		t.Fatal(err)
	}
	if rec[0] != 0x16 || rec[5] != 1 {
		t.Fatalf("not a ClientHello record: % x", rec[:6])
	}
	return rec
}

// TestE2ETLSHandshakeFailures, with --tls-handshake-timeout 1s: clients
// that stay silent, or send half a ClientHello and stay silent, are closed
// by the server 1-3 s after they connected (timeout); clients that send
// half a ClientHello and leave are client_closed; plain HTTP to the TLS
// port is closed unanswered (not_tls); TLS 1.0 and 1.1 clients and a
// malformed ClientHello are refused (protocol). Meanwhile a good client is
// served at once. /stats and /metrics count each reason exactly, and the
// server's descriptors return to their baseline.
func TestE2ETLSHandshakeFailures(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-failures"), serverOptions{Args: []string{"--tls-handshake-timeout", "1s"}})
	good := tlsConfig(ca, 0, 0)
	tlsPing(t, s.TLSAddr, good) // anything opened lazily is open now
	jsonStats(t, s.Addr)
	baseline := tlsSettledFds(t, s.Pid(), -1)
	hello := clientHello(t, good)

	const silent, halfSilent, halfClose, plain = 6, 4, 6, 3
	type pending struct {
		c     net.Conn
		since time.Time
		what  string
	}
	var waiting []pending
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", s.TLSAddr, tlsIOTimeout)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	write := func(c net.Conn, b []byte) {
		t.Helper()
		c.SetWriteDeadline(time.Now().Add(tlsIOTimeout))
		if _, err := c.Write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	for i := 0; i < silent; i++ {
		waiting = append(waiting, pending{dial(), time.Now(), "silent"})
	}
	for i := 0; i < halfSilent; i++ {
		c := dial()
		write(c, hello[:len(hello)/2])
		waiting = append(waiting, pending{c, time.Now(), "half a ClientHello, then silent"})
	}
	for i := 0; i < halfClose; i++ {
		c := dial()
		write(c, hello[:len(hello)/2])
		c.Close()
	}

	// While those wait, a good client is served without delay.
	start := time.Now()
	tlsPing(t, s.TLSAddr, good)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a good TLS client took %v while %d handshakes were pending", d, silent+halfSilent)
	}

	// Plain HTTP to the TLS port: closed at once, with nothing or at most a
	// 400 (as net/http does), never served.
	for i := 0; i < plain; i++ {
		c := dial()
		write(c, []byte("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(tlsIOTimeout))
		got, err := io.ReadAll(c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("plain HTTP to the TLS port: the connection stayed open for %v", tlsIOTimeout)
		}
		if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.0 400 ")) && !bytes.HasPrefix(got, []byte("HTTP/1.1 400 ")) {
			t.Fatalf("plain HTTP to the TLS port got %q, want a close (after a 400 at most)", clip(got))
		}
	}

	// Versions below TLS 1.2 and a malformed ClientHello.
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if c, err := tlsTryDial(s.TLSAddr, tlsConfig(ca, v, v)); err == nil {
			c.Close()
			t.Errorf("a %s handshake succeeded, want TLS 1.2 at least", tls.VersionName(v))
		}
	}
	bad := dial()
	write(bad, []byte{0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0xff, 0xff})
	bad.SetReadDeadline(time.Now().Add(tlsIOTimeout))
	if _, err := io.ReadAll(bad); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a malformed ClientHello: the connection stayed open for %v", tlsIOTimeout)
	}
	const protocol = 3

	// The silent ones are closed by the handshake timeout.
	var wg sync.WaitGroup
	for _, p := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.c.SetReadDeadline(time.Now().Add(tlsIOTimeout))
			n, err := p.c.Read(make([]byte, 4096))
			d := time.Since(p.since)
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				t.Errorf("%s: still open after %v with a 1s handshake timeout", p.what, d)
			case err == nil:
				t.Errorf("%s: got %d bytes and no close", p.what, n)
			case d < 500*time.Millisecond || d > 3*time.Second:
				t.Errorf("%s: closed %v after connecting, want about 1s", p.what, d.Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()

	// Every failure counted under its reason; two good handshakes.
	want := map[string]float64{"timeout": silent + halfSilent, "client_closed": halfClose, "not_tls": plain, "protocol": protocol}
	var got tlsCounts
	deadline := time.Now().Add(3 * time.Second)
	for {
		got = tlsCountsOf(t, jsonStats(t, s.Addr))
		ok := got.Handshakes == 2
		for k, v := range want {
			ok = ok && got.Failures[k] == v
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.Handshakes != 2 {
		t.Errorf("handshakes %v, want 2 (%v)", got.Handshakes, got)
	}
	for k, v := range want {
		if got.Failures[k] != v {
			t.Errorf("handshake failures %q = %v, want %v (%v)", k, got.Failures[k], v, got)
		}
	}
	// No descriptor is left behind.
	if n := tlsSettledFds(t, s.Pid(), baseline); n != baseline {
		t.Errorf("the server has %d descriptors open, %d before the failed handshakes", n, baseline)
	}
	if open := jsonStats(t, s.Addr)["connections"]; open != 1.0 {
		t.Errorf("JSON /stats connections = %v with only the /stats connection open, want 1", open)
	}
	// (After the descriptor count: scrapeMetrics leaves a keep-alive connection.)
	fams := scrapeMetrics(t, s.URL("/metrics"))
	for k, v := range want {
		if m := metricSeries(t, fams, "http_server_tls_handshake_failures_total", "reason", k); m != v {
			t.Errorf(`http_server_tls_handshake_failures_total{reason=%q} = %v, want %v`, k, m, v)
		}
	}
	tlsPing(t, s.TLSAddr, good)
}

// TestE2ETLSMaxHandshakes, with --tls-max-handshakes 2 and a 1 s handshake
// timeout: two silent clients hold both handshake slots, so a good client
// waits (the listener is not accepted from) until the timeout frees them,
// about 1 s, and then succeeds; afterwards handshakes are quick again, so
// neither the timed-out nor the finished handshakes kept a slot.
func TestE2ETLSMaxHandshakes(t *testing.T) {
	ca := newCA(t)
	// One loop: with several, each has its share of the cap (reactor's
	// TestHandshakeShare), and which loop a connection lands on is the
	// kernel's hash, so the silent clients could leave another loop's
	// slot free for the good one.
	s := startTLS(t, ca.Leaf(t, "e2e-max-handshakes"), serverOptions{Loops: 1, Args: []string{"--tls-max-handshakes", "2", "--tls-handshake-timeout", "1s"}})
	good := tlsConfig(ca, 0, 0)
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", s.TLSAddr, tlsIOTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(100 * time.Millisecond) // both accepted: the slots are taken
	start := time.Now()
	tlsPing(t, s.TLSAddr, good)
	if d := time.Since(start); d < 700*time.Millisecond || d > 3*time.Second {
		t.Errorf("with both handshake slots held by silent clients, a good client was served after %v, want about 1s", d.Round(time.Millisecond))
	}
	for i := 0; i < 5; i++ {
		start := time.Now()
		tlsPing(t, s.TLSAddr, good)
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("handshake %d after the slots were freed took %v", i, d.Round(time.Millisecond))
		}
	}
	if got := tlsCountsOf(t, jsonStats(t, s.Addr)); got.Handshakes != 6 || got.Failures["timeout"] != 2 {
		t.Errorf("%v, want 6 handshakes and 2 timeouts", got)
	}
}

// tlsSettledFds waits (up to 5 s) until the process's descriptor count
// equals want (any stable count when want < 0) and returns the last count.
func tlsSettledFds(t testing.TB, pid, want int) int {
	t.Helper()
	prev := -1
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := fdCount(t, pid)
		if (want >= 0 && n == want) || (want < 0 && n == prev) || time.Now().After(deadline) {
			return n
		}
		prev = n
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// 8. A large download

// blockFile writes a file of n MiB: one random 1 MiB block, stamped in
// two places with its index so that no two blocks are alike (a block sent
// twice or out of order changes the hash). It returns the file's SHA-256
// and a function giving the expected bytes of any range.
func blockFile(t testing.TB, path string, mib int) ([32]byte, func(first, last int64) []byte) {
	t.Helper()
	base := randomBytes(t, 1<<20)
	block := func(i int64, b []byte) []byte {
		b = append(b[:0], base...)
		binary.BigEndian.PutUint64(b[0:], uint64(i))
		binary.BigEndian.PutUint64(b[1<<19:], ^uint64(i))
		return b
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	buf := make([]byte, 0, 1<<20)
	for i := 0; i < mib; i++ {
		if _, err := w.Write(block(int64(i), buf)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	bytesOf := func(first, last int64) []byte {
		var out []byte
		for off := first; off <= last; {
			b := block(off>>20, nil)
			k := min(last+1, (off>>20+1)<<20)
			out = append(out, b[off&(1<<20-1):k-(off>>20)<<20]...)
			off = k
		}
		return out
	}
	return sum, bytesOf
}

// TestE2ETLSDownload1GiB: a 1 GiB file downloaded over TLS has the file's
// SHA-256 and length; ranges across a block boundary and at the end are
// right; the server's memory does not follow the bytes sent.
func TestE2ETLSDownload1GiB(t *testing.T) {
	const mib = 1024
	const size = int64(mib) << 20
	ca := newCA(t)
	root := t.TempDir()
	want, bytesOf := blockFile(t, filepath.Join(root, "big.bin"), mib)
	s := startTLS(t, ca.Leaf(t, "e2e-download"), serverOptions{Root: root})
	c := tlsClient(t, tlsConfig(ca, 0, 0))
	c.Timeout = 0
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.TLSURL("/big.bin"), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != size {
		resp.Body.Close()
		t.Fatalf("GET /big.bin: %d, Content-Length %d; want 200, %d", resp.StatusCode, resp.ContentLength, size)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, resp.Body, make([]byte, 1<<20))
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil || n != size {
		t.Fatalf("downloaded %d of %d bytes: %v", n, size, err)
	}
	if !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("the 1 GiB downloaded over TLS differs from the file (SHA-256)")
	}
	_, hwm := readRSS(s.Pid())
	t.Logf("1 GiB over TLS in %v (%.0f MiB/s); server VmHWM %d MiB", elapsed.Round(time.Millisecond),
		float64(size)/(1<<20)/elapsed.Seconds(), hwm>>10)
	if hwm > 256<<10 {
		t.Errorf("server peak RSS %d MiB after a 1 GiB download, want well under 256 MiB", hwm>>10)
	}

	for _, r := range [][2]int64{{512<<20 - 10, 512<<20 + 9}, {size - 100, size - 1}, {0, 0}} {
		resp, body := doRequest(t, c, "GET", s.TLSURL("/big.bin"), nil, "Range", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
		wantCR := fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], size)
		if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != wantCR || !bytes.Equal(body, bytesOf(r[0], r[1])) {
			t.Errorf("Range bytes=%d-%d over TLS: %d, Content-Range %q, %d bytes, equal %v", r[0], r[1],
				resp.StatusCode, resp.Header.Get("Content-Range"), len(body), bytes.Equal(body, bytesOf(r[0], r[1])))
		}
	}
}

// ---------------------------------------------------------------------------
// 9. Reloading the certificate

// TestE2ETLSCertReload: with a keep-alive connection open on certificate
// A, the files are replaced by certificate B and SIGHUP sent: the server
// logs the reload, the old connection still works (still on A), and new
// connections get B. A file that is not a certificate, then a certificate
// whose key is not the key file, are refused with an error in the log
// and B stays in use; a good pair again is taken. SIGTERM then closes the
// old connection and exits 0.
func TestE2ETLSCertReload(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a := ca.LeafAt(t, "e2e-cert-A", certPath, keyPath)
	s := startTLS(t, a, serverOptions{})
	cfg := tlsConfig(ca, 0, 0)
	serial := func(st tls.ConnectionState) string {
		if len(st.PeerCertificates) == 0 {
			return "<none>"
		}
		return st.PeerCertificates[0].SerialNumber.String() + " (" + st.PeerCertificates[0].Subject.CommonName + ")"
	}
	want := func(l *leafCert) string { return l.Serial.String() + " (" + l.CN + ")" }
	ping := func(c *tlsConn, what string) {
		t.Helper()
		if r := c.Do("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("%s: GET /ping: %d %q", what, r.Status, r.Body)
		}
	}
	old := tlsDial(t, s.TLSAddr, cfg)
	ping(old, "the connection on A")
	if got := serial(old.c.ConnectionState()); got != want(a) {
		t.Fatalf("first certificate %s, want %s", got, want(a))
	}

	const reloaded = "SIGHUP: TLS certificate reloaded"
	// hup sends SIGHUP and waits for the reload line (good) or for a new
	// error line (not good); the other must not appear.
	hup := func(what string, good bool) {
		t.Helper()
		out := s.stderr.String()
		r0, e0 := strings.Count(out, reloaded), strings.Count(out, "level=ERROR")
		if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			out := s.stderr.String()
			r, e := strings.Count(out, reloaded)-r0, strings.Count(out, "level=ERROR")-e0
			switch {
			case good && e > 0, !good && r > 0:
				t.Fatalf("%s: after SIGHUP the log has %d new %q lines and %d new errors", what, r, reloaded, e)
			case good && r == 1, !good && e > 0:
				return
			case r > 1:
				t.Fatalf("%s: one SIGHUP logged %d %q lines", what, r, reloaded)
			case time.Now().After(deadline) || s.exited():
				t.Fatalf("%s: no %s in the log within 5s of SIGHUP (exited %v)", what, map[bool]string{true: "\"" + reloaded + "\" line", false: "level=ERROR line"}[good], s.exited())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	b := ca.LeafAt(t, "e2e-cert-B", certPath, keyPath)
	hup("certificate B", true)
	ping(old, "the connection opened on A, after the reload")
	if got := serial(old.c.ConnectionState()); got != want(a) {
		t.Errorf("the old connection now reports %s, want still %s", got, want(a))
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if got := serial(tlsPing(t, s.TLSAddr, tlsConfig(ca, v, v))); got != want(b) {
			t.Errorf("a new %s connection after the reload got %s, want %s", tls.VersionName(v), got, want(b))
		}
	}

	writeAtomic(t, certPath, []byte("this is not a certificate\n"))
	hup("a file that is not PEM", false)
	if got := serial(tlsPing(t, s.TLSAddr, cfg)); got != want(b) {
		t.Errorf("after a bad certificate file, a new connection got %s, want the kept %s", got, want(b))
	}
	ca.LeafAt(t, "e2e-cert-C", certPath, filepath.Join(dir, "c-key.pem")) // key.pem is still B's
	hup("a certificate that does not match the key", false)
	if got := serial(tlsPing(t, s.TLSAddr, cfg)); got != want(b) {
		t.Errorf("after a mismatched key, a new connection got %s, want the kept %s", got, want(b))
	}
	ping(old, "the connection opened on A, after two refused reloads")

	d := ca.LeafAt(t, "e2e-cert-D", certPath, keyPath)
	hup("certificate D", true)
	if got := serial(tlsPing(t, s.TLSAddr, cfg)); got != want(d) {
		t.Errorf("after reloading D, a new connection got %s, want %s", got, want(d))
	}
	ping(old, "the connection opened on A, after three reloads")

	if code := s.Stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
	old.ExpectClosed()
}

// ---------------------------------------------------------------------------
// 10. --tls-redirect and --tls-only

// TestE2ETLSRedirect: with --tls-redirect every plain request (GET, HEAD,
// POST with a body, any Host spelling) gets 308 with Location
// https://<host without port>:<tls port><target> and Connection: close,
// and the connection closes; the POST changed nothing. Go's client follows
// the redirect to the TLS listener.
func TestE2ETLSRedirect(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-redirect"), serverOptions{Args: []string{"--tls-redirect"}})
	tp := strconv.Itoa(s.TLSPort)
	cases := []struct {
		req, location string
	}{
		{"GET /ping HTTP/1.1\r\nHost: " + s.Addr + "\r\n\r\n", "https://127.0.0.1:" + tp + "/ping"},
		{"GET /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "https://example.com:" + tp + "/a/b%20c?x=1&y=%2F"},
		{"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "https://localhost:" + tp + "/"},
		{"HEAD /hello.txt HTTP/1.1\r\nHost: example.com\r\n\r\n", "https://example.com:" + tp + "/hello.txt"},
		{"POST /write HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello", "https://example.com:" + tp + "/write"},
		{"GET /v6 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "https://[::1]:" + tp + "/v6"},
		{"GET /ping HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n", "https://example.com:" + tp + "/ping"},
	}
	for _, tc := range cases {
		raw := exchange(t, s.Addr, tc.req, false) // until the server closes
		line, _, _ := strings.Cut(tc.req, "\r\n")
		i := bytes.Index(raw, []byte("\r\n\r\n"))
		if i < 0 {
			t.Errorf("%s: no response head in %q", line, clip(raw))
			continue
		}
		status, hdr, err := parseHead(raw[:i+4])
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if status != 308 || hdr.Get("Location") != tc.location || !strings.EqualFold(hdr.Get("Connection"), "close") {
			t.Errorf("%s: %d, Location %q, Connection %q; want 308, %q, close", line, status, hdr.Get("Location"), hdr.Get("Connection"), tc.location)
		}
		if cl := hdr.Get("Content-Length"); cl != "" && !strings.HasPrefix(line, "HEAD ") && cl != strconv.Itoa(len(raw)-i-4) {
			t.Errorf("%s: Content-Length %s but %d body bytes before the close", line, cl, len(raw)-i-4)
		}
	}
	cfg := tlsConfig(ca, 0, 0)
	c := tlsDial(t, s.TLSAddr, cfg)
	if r := c.Do("GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "<empty>" {
		t.Errorf("a redirected POST /write changed the store: /read over TLS is %d %q", r.Status, r.Body)
	}

	client := tlsClient(t, cfg)
	resp, body := doRequest(t, client, "GET", s.URL("/ping"), nil)
	if resp.StatusCode != 200 || string(body) != "pong" || resp.TLS == nil || resp.Request.URL.String() != s.TLSURL("/ping") {
		t.Errorf("Go's client following the redirect: %d %q at %s, TLS %v", resp.StatusCode, body, resp.Request.URL, resp.TLS != nil)
	}
	// 308 keeps the method and the body.
	resp, body = doRequest(t, client, "POST", s.URL("/write"), []byte("via 308"))
	if resp.StatusCode != 200 || string(body) != "via 308" || resp.TLS == nil {
		t.Errorf("POST through the redirect: %d %q, TLS %v", resp.StatusCode, body, resp.TLS != nil)
	}
}

// TestE2ETLSOnly: with --tls-only there is no plain start line, the plain
// port is not opened (the process listens on the TLS port alone), and
// HTTPS serves.
func TestE2ETLSOnly(t *testing.T) {
	ca := newCA(t)
	port := freePort(t)
	s := startTLS(t, ca.Leaf(t, "e2e-only"), serverOptions{NoPort: true, TLSOnly: true, Args: []string{"--port", strconv.Itoa(port)}})
	if m := listenRE.FindString(s.Output()); m != "" {
		t.Errorf("--tls-only logged a plain listener: %q", m)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		c.Close()
		t.Errorf("--tls-only: the plain port %d accepts connections", port)
	}
	if ports := listeningPorts(t, s.Pid()); len(ports) != 1 || ports[0] != s.TLSPort {
		t.Errorf("--tls-only: the server listens on %v, want only the TLS port %d", ports, s.TLSPort)
	}
	cfg := tlsConfig(ca, 0, 0)
	tlsPing(t, s.TLSAddr, cfg)
	if got := tlsCountsOf(t, tlsJSONStats(t, s.TLSAddr, cfg)); got.Handshakes != 2 {
		t.Errorf("--tls-only: %v, want 2 handshakes", got)
	}
}

// ---------------------------------------------------------------------------
// 11. Configuration

// runBinaryEnv runs the binary to completion (10 s at most) with more
// environment variables.
func runBinaryEnv(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v %v did not exit within 10s (stdout %q, stderr %q)", env, args, o.String(), e.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

// TestE2ETLSConfigErrors: a certificate without a key (flag or
// environment), a key without a certificate, a missing or unreadable file,
// a key that does not match, and --compat classic with TLS each end the
// server with a non-zero status (2 for classic) and one line on stderr
// that names the option.
func TestE2ETLSConfigErrors(t *testing.T) {
	ca := newCA(t)
	leaf, other := ca.Leaf(t, "e2e-config"), ca.Leaf(t, "e2e-other")
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	base := []string{"--addr", "127.0.0.1", "--port", "0", "--tls-port", "0", "--root", dir}
	cases := []struct {
		name  string
		env   []string
		args  []string
		code  int      // 0: any non-zero status
		names []string // the line names one of these
	}{
		{"cert without key", nil, []string{"--tls-cert", leaf.CertPath}, 0, []string{"tls-key", "tls-cert"}},
		{"key without cert", nil, []string{"--tls-key", leaf.KeyPath}, 0, []string{"tls-cert", "tls-key"}},
		{"cert without key, environment", []string{"HTTP_SERVER_TLS_CERT=" + leaf.CertPath}, nil, 0,
			[]string{"tls-key", "tls_key", "TLS_KEY", "tls-cert", "tls_cert", "TLS_CERT"}},
		{"missing cert file", nil, []string{"--tls-cert", missing, "--tls-key", leaf.KeyPath}, 0, []string{"tls-cert"}},
		{"missing key file", nil, []string{"--tls-cert", leaf.CertPath, "--tls-key", missing}, 0, []string{"tls-key"}},
		{"cert not PEM", nil, []string{"--tls-cert", garbage, "--tls-key", leaf.KeyPath}, 0, []string{"tls-cert"}},
		{"key does not match", nil, []string{"--tls-cert", leaf.CertPath, "--tls-key", other.KeyPath}, 0, []string{"tls-key", "tls-cert"}},
		{"classic with TLS", nil, []string{"--compat", "classic", "--tls-cert", leaf.CertPath, "--tls-key", leaf.KeyPath}, 2, []string{"compat"}},
		{"bad handshake timeout", nil, []string{"--tls-cert", leaf.CertPath, "--tls-key", leaf.KeyPath, "--tls-handshake-timeout", "soon"}, 0,
			[]string{"tls-handshake-timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runBinaryEnv(t, tc.env, append(append([]string{}, base...), tc.args...)...)
			msg := strings.TrimSpace(errOut)
			switch {
			case code == 0:
				t.Errorf("exit status 0, want non-zero (stdout %q, stderr %q)", out, errOut)
			case tc.code != 0 && code != tc.code:
				t.Errorf("exit status %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("stderr is not one line: %q", errOut)
			}
			named := false
			for _, n := range tc.names {
				named = named || strings.Contains(msg, n)
			}
			if !named {
				t.Errorf("stderr %q names none of %q", msg, tc.names)
			}
			if strings.Contains(out+errOut, "listening") || strings.Contains(out+errOut, "goroutine ") {
				t.Errorf("output: %s%s", out, errOut)
			}
		})
	}
}

// TestE2ETLSConfigSources: --help lists every TLS flag; the environment
// variables and the configuration file keys turn TLS on like the flags.
func TestE2ETLSConfigSources(t *testing.T) {
	code, out, errOut := runBinary(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, f := range []string{"--tls-cert", "--tls-key", "--tls-port", "--tls-only", "--tls-redirect",
		"--tls-handshake-timeout", "--tls-max-handshakes"} {
		if !strings.Contains(out+errOut, f) {
			t.Errorf("--help does not mention %s", f)
		}
	}
	ca := newCA(t)
	leaf := ca.Leaf(t, "e2e-sources")
	cfg := tlsConfig(ca, 0, 0)

	s := startServer(t, serverOptions{TLS: true, Env: []string{"HTTP_SERVER_TLS_CERT=" + leaf.CertPath,
		"HTTP_SERVER_TLS_KEY=" + leaf.KeyPath, "HTTP_SERVER_TLS_PORT=0", "HTTP_SERVER_TLS_HANDSHAKE_TIMEOUT=3s",
		"HTTP_SERVER_TLS_MAX_HANDSHAKES=8"}})
	if st := tlsPing(t, s.TLSAddr, cfg); st.PeerCertificates[0].Subject.CommonName != leaf.CN {
		t.Errorf("TLS from the environment: certificate %q", st.PeerCertificates[0].Subject.CommonName)
	}

	file := filepath.Join(t.TempDir(), "tls.toml")
	toml := fmt.Sprintf("tls_cert = %q\ntls_key = %q\ntls_port = 0\ntls_handshake_timeout = \"3s\"\ntls_max_handshakes = 8\ntls_only = true\n",
		leaf.CertPath, leaf.KeyPath)
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, serverOptions{TLSOnly: true, Args: []string{"--config", file}})
	tlsPing(t, s2.TLSAddr, cfg)
	if ports := listeningPorts(t, s2.Pid()); len(ports) != 1 {
		t.Errorf("tls_only = true in the file: listening on %v, want the TLS port alone", ports)
	}
}

// ---------------------------------------------------------------------------
// 12. Counters

// TestE2ETLSStats: after three TLS 1.2 and two TLS 1.3 connections, the JSON
// /stats fetched over TLS 1.3 counts 6 handshakes (its own included), 3 of
// each version and no failure; the text /stats over TLS keeps its exact
// format and counts the responses sent over TLS like plain ones; /metrics
// has the handshakes by version.
func TestE2ETLSStats(t *testing.T) {
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-stats"), serverOptions{})
	var want statsCounters
	for i, v := range []uint16{tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS13, tls.VersionTLS13} {
		c := tlsDial(t, s.TLSAddr, tlsConfig(ca, v, v))
		r := c.Do("GET /ping HTTP/1.1\r\nHost: e2e\r\n\r\n")
		if r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("connection %d: %d %q", i, r.Status, r.Body)
		}
		want.Count(r)
		c.Close()
	}
	tls13 := tlsConfig(ca, tls.VersionTLS13, tls.VersionTLS13)
	c := tlsDial(t, s.TLSAddr, tls13)
	r := c.Do("GET /stats?format=json HTTP/1.1\r\nHost: e2e\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("JSON /stats over TLS: %d", r.Status)
	}
	got := tlsCountsOf(t, decodeJSON(t, r.Body))
	if got.Handshakes != 6 || got.Versions["TLS 1.2"] != 3 || got.Versions["TLS 1.3"] != 3 {
		t.Errorf("JSON /stats over TLS: %v; want 6 handshakes, 3 TLS 1.2, 3 TLS 1.3", got)
	}
	for k, v := range got.Failures {
		if v != 0 {
			t.Errorf("handshake failures %q = %v after only good handshakes", k, v)
		}
	}
	want.Count(r)

	r = c.Do("GET /stats HTTP/1.1\r\nHost: e2e\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("/stats over TLS: %d", r.Status)
	}
	if stats := parseStats(t, r.Body); stats != want {
		t.Errorf("text /stats over TLS:\n%v\nwant (the plaintext of the responses before it):\n%v", stats, want)
	}

	fams := scrapeMetrics(t, s.URL("/metrics"))
	for _, v := range []struct {
		label string
		want  float64
	}{{"1.2", 3}, {"1.3", 3}} {
		if m := metricSeries(t, fams, "http_server_tls_handshakes_total", "version", v.label); m != v.want {
			t.Errorf(`http_server_tls_handshakes_total{version=%q} = %v, want %v`, v.label, m, v.want)
		}
	}
}
