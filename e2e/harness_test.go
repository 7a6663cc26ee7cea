package e2e

// The harness: starting the server binary and waiting for its start-up line,
// document roots with known files, raw sockets with deadlines, net/http
// clients and the /stats counters.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ioTimeout bounds every single socket operation, so that a hang fails a
// test instead of blocking the whole suite.
const ioTimeout = 5 * time.Second

// ---------------------------------------------------------------------------
// Running the server

// lockedBuffer collects what the server writes, for parsing and for failure logs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *lockedBuffer) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *lockedBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// serverOptions describe how to start a server.
type serverOptions struct {
	Root     string     // --root; a fresh empty temp dir when ""
	Args     []string   // more flags
	NoPort   bool       // do not pass --port 0
	PortFile string     // when set, written to port.txt in the working directory
	Ulimit   int        // when > 0, run under `ulimit -n Ulimit`
	Env      []string   // more environment variables, NAME=value
	PidEnv   []string   // variables set to the server's own pid (LISTEN_PID, WATCHDOG_PID)
	Files    []*os.File // passed as descriptors 3, 4, ...
	TLS      bool       // also wait for the "listening for https on" line (TLSAddr)
	TLSOnly  bool       // wait for the https line only (--tls-only: no plain listener, Addr stays "")
	Loops    int        // --loops; 0: 2, so every test runs the several-loop shape whatever the machine's CPUs
}

// server is one running http_server process.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	Dir    string // working directory
	Root   string
	Addr   string // 127.0.0.1:port
	Port   int
	Line   string // the start-up line (the https one with TLSOnly)
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{}
	err    error // from Wait, valid once done is closed

	// With serverOptions.TLS or TLSOnly: the https listener and its start line.
	TLSAddr string // 127.0.0.1:port
	TLSPort int
	TLSLine string
}

var (
	listenRE    = regexp.MustCompile(`listening on ([0-9.]+):([0-9]+)`)
	tlsListenRE = regexp.MustCompile(`listening for https on ([0-9.]+):([0-9]+)`)
)

// startServer starts the server with --addr 127.0.0.1 --port 0 --root ROOT and
// the given flags, and waits for its start-up line.
func startServer(t testing.TB, o serverOptions) *server {
	t.Helper()
	dir := t.TempDir()
	root := o.Root
	if root == "" {
		root = t.TempDir()
	}
	if o.PortFile != "" {
		if err := os.WriteFile(filepath.Join(dir, "port.txt"), []byte(o.PortFile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--addr", "127.0.0.1"}
	if !o.NoPort {
		args = append(args, "--port", "0")
	}
	args = append(args, "--root", root)
	loops := o.Loops
	if loops == 0 {
		loops = 2
	}
	args = append(args, "--loops", strconv.Itoa(loops))
	args = append(args, o.Args...)

	var cmd *exec.Cmd
	if o.Ulimit > 0 || len(o.PidEnv) > 0 {
		// sh's $$ is the pid the server keeps after exec.
		script := `exec "$0" "$@"`
		for _, v := range o.PidEnv {
			script = fmt.Sprintf("export %s=$$ && %s", v, script)
		}
		if o.Ulimit > 0 {
			script = fmt.Sprintf("ulimit -n %d && %s", o.Ulimit, script)
		}
		cmd = exec.Command("sh", append([]string{"-c", script, serverBin}, args...)...)
	} else {
		cmd = exec.Command(serverBin, args...)
	}
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.ExtraFiles = o.Files
	s := &server{
		t: t, cmd: cmd, Dir: dir, Root: root,
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{},
		done: make(chan struct{}),
	}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", serverBin, err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if !s.exited() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				t.Errorf("server pid %d did not die after SIGKILL", cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("server %v\n--- stdout ---\n%s\n--- stderr ---\n%s", cmd.Args, s.stdout, s.stderr)
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	wantPlain, wantTLS := !o.TLSOnly, o.TLS || o.TLSOnly
	want := "listening on"
	if !wantPlain {
		want = "listening for https on"
	} else if wantTLS {
		want = "listening on and listening for https on"
	}
	for {
		// The start lines are log records on stderr, in the text or JSON format.
		out := s.stderr.String()
		plain := listenRE.FindStringSubmatch(out)
		secure := tlsListenRE.FindStringSubmatch(out)
		if (plain != nil || !wantPlain) && (secure != nil || !wantTLS) {
			if wantPlain {
				s.Port, _ = strconv.Atoi(plain[2])
				s.Addr = net.JoinHostPort(plain[1], plain[2])
				s.Line = lineWith(out, "listening on")
			}
			if wantTLS {
				s.TLSPort, _ = strconv.Atoi(secure[2])
				s.TLSAddr = net.JoinHostPort(secure[1], secure[2])
				s.TLSLine = lineWith(out, "listening for https on")
				if !wantPlain {
					s.Line = s.TLSLine
				}
			}
			break
		}
		if s.exited() {
			t.Fatalf("server exited before listening: %v\nstdout: %s\nstderr: %s", s.err, s.stdout, s.stderr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line within 10s\nstdout: %s\nstderr: %s", want, s.stdout, s.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if wantPlain {
		if m := listenRE.FindStringSubmatch(s.Line); m == nil || m[1] != "127.0.0.1" || s.Port == 0 {
			t.Fatalf("start-up line %q does not name 127.0.0.1 and a real port", s.Line)
		}
	}
	if wantTLS {
		if m := tlsListenRE.FindStringSubmatch(s.TLSLine); m == nil || m[1] != "127.0.0.1" || s.TLSPort == 0 {
			t.Fatalf("https start-up line %q does not name 127.0.0.1 and a real port", s.TLSLine)
		}
	}
	return s
}

// lineWith is the first line of out that contains substr.
func lineWith(out, substr string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, substr) {
			return line
		}
	}
	return ""
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Pid is the server's process id.
func (s *server) Pid() int { return s.cmd.Process.Pid }

// URL is the http URL of path on this server.
func (s *server) URL(path string) string { return "http://" + s.Addr + path }

// Stop sends sig and waits (up to 10 s) for the process to exit. It returns
// the exit code; -1 means killed by a signal.
func (s *server) Stop(sig os.Signal) int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
	return s.Wait(10 * time.Second)
}

// Wait waits for the process to exit and returns its exit code.
func (s *server) Wait(d time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		s.t.Fatalf("server did not exit within %v", d)
	}
	return s.cmd.ProcessState.ExitCode()
}

// Output is what the server printed so far.
func (s *server) Output() string { return s.stdout.String() + s.stderr.String() }

// runBinary runs the binary to completion (10 s at most) in a temp dir.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Dir = t.TempDir()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not exit within 10s (stdout %q, stderr %q)", args, o.String(), e.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

// ---------------------------------------------------------------------------
// Document roots

// docTree is a document root with known files, plus a secret file outside it.
type docTree struct {
	Base   string // parent of Root; holds the secret
	Root   string
	Secret []byte // content of Base/secret.txt, outside the root
	Files  map[string][]byte
}

// makeTree builds a document root:
//
//	hello.txt, bin.dat (100 KiB random), sub/index.html, sub/page.txt,
//	emptydir/ (no index), link-out -> ../secret.txt, linkdir-out -> ..
func makeTree(t testing.TB) *docTree {
	t.Helper()
	base := t.TempDir()
	tr := &docTree{
		Base:   base,
		Root:   filepath.Join(base, "root"),
		Secret: []byte("E2E-TOP-SECRET-" + hex.EncodeToString(randomBytes(t, 16))),
		Files:  map[string][]byte{},
	}
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), tr.Secret, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"", "sub", "emptydir"} {
		if err := os.MkdirAll(filepath.Join(tr.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tr.Add(t, "hello.txt", []byte("hello, world\n"))
	tr.Add(t, "bin.dat", randomBytes(t, 100*1024))
	tr.Add(t, "sub/index.html", []byte("<html><body>sub index</body></html>\n"))
	tr.Add(t, "sub/page.txt", []byte("a page in sub\n"))
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(tr.Root, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(tr.Root, "linkdir-out")); err != nil {
		t.Fatal(err)
	}
	return tr
}

// Add writes a file under the root.
func (tr *docTree) Add(t testing.TB, name string, data []byte) {
	t.Helper()
	p := filepath.Join(tr.Root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tr.Files[name] = data
}

// AddRandom writes a file of n random bytes under the root and returns its
// sha256. The content is not kept in Files (it may be large).
func (tr *docTree) AddRandom(t testing.TB, name string, n int) [32]byte {
	t.Helper()
	data := randomBytes(t, n)
	p := filepath.Join(tr.Root, filepath.FromSlash(name))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------------
// Raw sockets

// rawConn is a raw client connection with per-operation deadlines.
type rawConn struct {
	t  testing.TB
	c  *net.TCPConn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c.(*net.TCPConn), br: bufio.NewReaderSize(c, 64*1024)}
}

// Send writes all of data.
func (c *rawConn) Send(data string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.c, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// CloseWrite half-closes the connection.
func (c *rawConn) CloseWrite() {
	c.t.Helper()
	if err := c.c.CloseWrite(); err != nil {
		c.t.Fatalf("CloseWrite: %v", err)
	}
}

func (c *rawConn) Close() { c.c.Close() }

// ReadAll reads until EOF and returns everything. Any other error (a
// timeout, a reset) fails the test.
func (c *rawConn) ReadAll() []byte {
	c.t.Helper()
	var out []byte
	buf := make([]byte, 64*1024)
	for {
		c.c.SetReadDeadline(time.Now().Add(ioTimeout))
		n, err := c.br.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			c.t.Fatalf("reading until EOF: %v (after %d bytes: %q)", err, len(out), clip(out))
		}
	}
}

// ExpectClosed asserts that the server closed the connection: the next read
// gives EOF (or a reset), no bytes, and no timeout.
func (c *rawConn) ExpectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	buf := make([]byte, 4096)
	n, err := c.br.Read(buf)
	if n > 0 {
		c.t.Fatalf("expected the server to close the connection, got %d more bytes: %q", n, clip(buf[:n]))
	}
	if err == nil {
		c.t.Fatalf("expected the server to close the connection, read returned nothing and no error")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("expected the server to close the connection, it stayed open for %v", ioTimeout)
	}
	if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("expected EOF, got %v", err)
	}
}

// rawResponse is one response exactly as it came off the wire.
type rawResponse struct {
	Status int
	Head   []byte // status line through the blank line, CRLFCRLF included
	Body   []byte
	Header http.Header
}

// Raw is the whole response.
func (r *rawResponse) Raw() []byte { return append(append([]byte{}, r.Head...), r.Body...) }

// ReadResponse reads one response. When head is true (the request was
// HEAD) no body is read whatever Content-Length says.
func (c *rawConn) ReadResponse(head bool) *rawResponse {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	var h []byte
	for !bytes.HasSuffix(h, []byte("\r\n\r\n")) {
		line, err := c.br.ReadSlice('\n')
		h = append(h, line...)
		if err != nil {
			c.t.Fatalf("reading response head: %v (got %q)", err, clip(h))
		}
		if len(h) > 64*1024 {
			c.t.Fatalf("response head too long: %q", clip(h))
		}
	}
	r := &rawResponse{Head: h}
	status, hdr, err := parseHead(h)
	if err != nil {
		c.t.Fatalf("%v in %q", err, h)
	}
	r.Status, r.Header = status, hdr
	if head {
		return r
	}
	cl := hdr.Get("Content-Length")
	if cl == "" {
		c.t.Fatalf("response without Content-Length: %q", h)
	}
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 {
		c.t.Fatalf("bad Content-Length %q", cl)
	}
	r.Body = make([]byte, n)
	if _, err := io.ReadFull(c.br, r.Body); err != nil {
		c.t.Fatalf("reading %d body bytes: %v", n, err)
	}
	return r
}

// parseHead parses a response head (status line and fields).
func parseHead(h []byte) (int, http.Header, error) {
	lines := strings.Split(strings.TrimSuffix(string(h), "\r\n\r\n"), "\r\n")
	parts := strings.SplitN(lines[0], " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") {
		return 0, nil, fmt.Errorf("bad status line %q", lines[0])
	}
	status, err := strconv.Atoi(parts[1])
	if err != nil || len(parts[1]) != 3 {
		return 0, nil, fmt.Errorf("bad status code in %q", lines[0])
	}
	hdr := http.Header{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return 0, nil, fmt.Errorf("bad header line %q", l)
		}
		hdr.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return status, hdr, nil
}

// exchange sends req on a fresh connection, optionally half-closes, and
// returns every byte the server sent until it closed the connection.
func exchange(t testing.TB, addr, req string, halfClose bool) []byte {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	if req != "" {
		c.Send(req)
	}
	if halfClose {
		c.CloseWrite()
	}
	return c.ReadAll()
}

// sendOne sends one modern request on a fresh connection and reads one
// response.
func sendOne(t testing.TB, addr, req string) *rawResponse {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	c.Send(req)
	return c.ReadResponse(strings.HasPrefix(req, "HEAD "))
}

// getRequest is a minimal modern GET request.
func getRequest(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: e2e\r\n\r\n"
}

func clip(b []byte) []byte {
	if len(b) > 300 {
		return append(append([]byte{}, b[:300]...), "..."...)
	}
	return b
}

// ---------------------------------------------------------------------------
// net/http

// newClient is a keep-alive client for one test.
func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// doRequest sends one request and returns the response with its body read.
func doRequest(t testing.TB, c *http.Client, method, url string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	resp, data, err := tryRequest(c, method, url, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, data
}

// tryRequest is doRequest that returns errors (for use in goroutines).
func tryRequest(c *http.Client, method, url string, body []byte, hdr ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, data, fmt.Errorf("reading body: %w", err)
	}
	return resp, data, nil
}

// downloadSum fetches url and returns the sha256 of the body and its length.
func downloadSum(c *http.Client, url string) ([32]byte, int64, error) {
	var sum [32]byte
	resp, err := c.Get(url)
	if err != nil {
		return sum, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return sum, 0, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return sum, n, err
	}
	if resp.ContentLength != n {
		return sum, n, fmt.Errorf("Content-Length %d, got %d bytes", resp.ContentLength, n)
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

// ---------------------------------------------------------------------------
// Stats

// statsCounters are the five counters of /stats.
type statsCounters struct {
	Requests, HeaderBytes, BodyBytes, Errors, ErrorBytes uint64
}

var statsRE = regexp.MustCompile(`^Requests: (\d+)\nHeader bytes: (\d+)\nBody bytes: (\d+)\nErrors: (\d+)\nError bytes: (\d+)$`)

func (c statsCounters) String() string {
	return fmt.Sprintf("Requests: %d\nHeader bytes: %d\nBody bytes: %d\nErrors: %d\nError bytes: %d",
		c.Requests, c.HeaderBytes, c.BodyBytes, c.Errors, c.ErrorBytes)
}

// Count adds one response as it came off the wire.
func (c *statsCounters) Count(r *rawResponse) {
	if r.Status < 400 {
		c.Requests++
		c.HeaderBytes += uint64(len(r.Head))
		c.BodyBytes += uint64(len(r.Body))
	} else {
		c.Errors++
		c.ErrorBytes += uint64(len(r.Head) + len(r.Body))
	}
}

// CountRaw adds one complete raw response (classic: head + body up to EOF).
func (c *statsCounters) CountRaw(t testing.TB, raw []byte) {
	t.Helper()
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("no head in %q", clip(raw))
	}
	status, _, err := parseHead(raw[:i+4])
	if err != nil {
		t.Fatal(err)
	}
	c.Count(&rawResponse{Status: status, Head: raw[:i+4], Body: raw[i+4:]})
}

// parseStats parses the exact plain-text /stats body.
func parseStats(t testing.TB, body []byte) statsCounters {
	t.Helper()
	m := statsRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("/stats body is not in the exact format: %q", body)
	}
	var v [5]uint64
	for i := range v {
		v[i], _ = strconv.ParseUint(string(m[i+1]), 10, 64)
	}
	return statsCounters{v[0], v[1], v[2], v[3], v[4]}
}

// jsonStats fetches /stats?format=json over a fresh raw connection (which
// closes, so it leaves no idle connection behind) and decodes it.
func jsonStats(t testing.TB, addr string) map[string]any {
	t.Helper()
	r := sendOne(t, addr, "GET /stats?format=json HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("GET /stats?format=json: status %d", r.Status)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("/stats?format=json is not JSON: %v: %q", err, r.Body)
	}
	return m
}

// fdCount is the number of open descriptors of process pid.
func fdCount(t testing.TB, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("listing descriptors: %v", err)
	}
	return len(ents)
}

// decodeJSON decodes a JSON object.
func decodeJSON(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %q", err, body)
	}
	return m
}
