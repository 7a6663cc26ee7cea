package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestE2EDaemonCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("port = 8081\nqueue = 64\nheader_timeout = \"5s\"\nroot = \""+dir+"\"\n"), 0o644)
	code, out, errOut := runBinary(t, "--config", good, "--check-config")
	if code != 0 || !strings.Contains(out, "configuration ok") {
		t.Fatalf("good file: exit %d, %q %q", code, out, errOut)
	}
	cases := map[string]string{
		"queue = \"many\"\n":           "queue: expected an integer",
		"qeueu = 1\n":                  `unknown key "qeueu"`,
		"port = 1\nport = 2\n":         "line 2",
		"root = \"/does/not/exist\"\n": "document root",
		"idle_timeout = \"forever\"\n": "idle_timeout",
	}
	for content, want := range cases {
		bad := filepath.Join(dir, "bad.toml")
		os.WriteFile(bad, []byte(content), 0o644)
		code, _, errOut := runBinary(t, "--config", bad, "--check-config")
		if code != 1 || !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want 1 and one line containing %q", content, code, errOut, want)
		}
	}
	code, out, _ = runBinary(t, "--config", good, "--print-config", "--queue", "7")
	if code != 0 || !strings.Contains(out, "port               = 8081") || !strings.Contains(out, "queue              = 7            # flag --queue") {
		t.Fatalf("--print-config: exit %d\n%s", code, out)
	}
}

// A fake NOTIFY_SOCKET sees READY=1 with a STATUS, WATCHDOG=1 within the
// interval, and STOPPING=1 on SIGTERM.
func TestE2EDaemonNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	s := startServer(t, serverOptions{Env: []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"}, PidEnv: []string{"WATCHDOG_PID"}})
	await := func(what string, within time.Duration) string {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case m := <-msgs:
				if strings.Contains(m, what) {
					return m
				}
			case <-deadline:
				t.Fatalf("no %q on the notify socket within %v", what, within)
			}
		}
	}
	if m := await("READY=1", 5*time.Second); !strings.Contains(m, "STATUS=serving on "+s.Addr) {
		t.Errorf("READY without a STATUS naming the address: %q", m)
	}
	for i := 0; i < 3; i++ {
		await("WATCHDOG=1", 400*time.Millisecond)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	await("STOPPING=1", 5*time.Second)
	if code := s.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
}

// A listening socket passed as descriptor 3 with LISTEN_FDS is adopted.
func TestE2EDaemonSocketActivation(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // the duplicate in f keeps the socket listening
	s := startServer(t, serverOptions{Env: []string{"LISTEN_FDS=1"}, PidEnv: []string{"LISTEN_PID"}, Files: []*os.File{f}})
	f.Close()
	if s.Addr != addr || !strings.Contains(s.Line, "from the service manager") {
		t.Fatalf("start line %q, want the passed socket %s", s.Line, addr)
	}
	resp, body := doRequest(t, newClient(t), "GET", "http://"+addr+"/ping", nil)
	if resp.StatusCode != 200 || string(body) != "pong" {
		t.Fatalf("through the adopted socket: %d %q", resp.StatusCode, body)
	}

	// Two loops share the one socket: every connection is served, by
	// whichever loop the kernel wakes, and each is counted once.
	const conns = 20
	before := loopConnections(t, addr) // the client's keep-alive connection, and the stats request's own
	for i := 0; i < conns; i++ {
		c := dial(t, addr)
		defer c.Close()
		c.Send(getRequest("/ping"))
		if r := c.ReadResponse(false); r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("connection %d through the shared socket: %d %q", i, r.Status, r.Body)
		}
	}
	per := loopConnections(t, addr)
	if len(per) != 2 || len(before) != 2 || per[0]+per[1] != before[0]+before[1]+conns {
		t.Errorf(`"loops" = %v, then %v after %d more connections: want 2 loops holding them all`, before, per, conns)
	}
	t.Logf("connections per loop through the shared socket: %v", per)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM with two loops on one socket", code)
	}
}

// SIGTERM while four 1 GiB downloads run: they complete, new connections
// are refused, the exit status is 0.
func TestE2EDaemonDrainDownloads(t *testing.T) {
	root := t.TempDir()
	if err := os.Truncate(filepath.Join(root, "big.bin"), 0); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	f, _ := os.Create(filepath.Join(root, "big.bin"))
	f.Truncate(1 << 30)
	f.Close()
	s := startServer(t, serverOptions{Root: root})
	var wg sync.WaitGroup
	got := make([]int64, 4)
	errs := make([]error, 4)
	started := make(chan struct{}, 4)
	for i := range got {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Get(s.URL("/big.bin"))
			if err != nil {
				errs[i] = err
				started <- struct{}{}
				return
			}
			defer resp.Body.Close()
			n, _ := io.CopyN(io.Discard, resp.Body, 1<<20)
			started <- struct{}{}
			m, err := io.Copy(io.Discard, resp.Body)
			got[i], errs[i] = n+m, err
		}(i)
	}
	for range got {
		<-started
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("a new connection was accepted during the drain")
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != 1<<30 {
			t.Errorf("download %d: %d bytes, %v; want all 1 GiB", i, got[i], errs[i])
		}
	}
	if code := s.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d after the drain", code)
	}
}

// A download that outlives --shutdown-timeout is cut, and the exit is 0.
func TestE2EDaemonDrainTimeout(t *testing.T) {
	root := t.TempDir()
	f, _ := os.Create(filepath.Join(root, "big.bin"))
	f.Truncate(1 << 30)
	f.Close()
	s := startServer(t, serverOptions{Root: root, Args: []string{"--shutdown-timeout", "500ms"}})
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	c.Read(make([]byte, 4096)) // the download has begun; now read nothing more
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 5*time.Second {
		t.Fatalf("exited %v after SIGTERM, want about the 500ms shutdown timeout", d)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading the cut download: %v", err)
	}
}

// kill -9 right after an acknowledged write; after a restart /read returns it.
func TestE2EDaemonDurableWrite(t *testing.T) {
	state := filepath.Join(t.TempDir(), "store")
	s := startServer(t, serverOptions{Args: []string{"--state-file", state}})
	value := "durable \x00\xff value"
	resp, body := doRequest(t, newClient(t), "POST", s.URL("/write"), []byte(value))
	if resp.StatusCode != 200 || string(body) != value {
		t.Fatalf("write: %d %q", resp.StatusCode, body)
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.Wait(10 * time.Second)

	s2 := startServer(t, serverOptions{Args: []string{"--state-file", state}})
	if resp, body := doRequest(t, newClient(t), "GET", s2.URL("/read"), nil); resp.StatusCode != 200 || string(body) != value {
		t.Fatalf("after kill -9 and a restart: %d %q, want %q", resp.StatusCode, body, value)
	}
	code, _, errOut := runBinary(t, "--state-file", filepath.Join(t.TempDir(), "no", "such", "dir", "store"), "--port", "0")
	if code == 0 || !strings.Contains(errOut, "state file") {
		t.Fatalf("unwritable state file: exit %d, %q", code, errOut)
	}
}

// scrapeMetrics scrapes url and parses it with Prometheus's own parser.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := doRequest(t, newClient(t), "GET", url, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%s: %d %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%s does not parse: %v", url, err)
	}
	return families
}

// metricSeries finds the value of one series by its labels.
func metricSeries(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			ok := false
			for _, l := range m.Label {
				ok = ok || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !ok {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// /metrics counts the traffic the test sent.
func TestE2EDaemonMetrics(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f.txt"), []byte("0123456789"), 0o644)
	s := startServer(t, serverOptions{Root: root})
	c := newClient(t)
	for i := 0; i < 5; i++ {
		doRequest(t, c, "GET", s.URL("/ping"), nil)
	}
	for i := 0; i < 3; i++ {
		doRequest(t, c, "GET", s.URL("/f.txt"), nil)
	}
	doRequest(t, c, "GET", s.URL("/missing"), nil)
	doRequest(t, c, "DELETE", s.URL("/ping"), nil)
	fams := scrapeMetrics(t, s.URL("/metrics"))
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"http_server_responses_total", []string{"route", "ping", "code", "2xx"}, 5},
		{"http_server_responses_total", []string{"route", "ping", "code", "4xx"}, 1},
		{"http_server_responses_total", []string{"route", "file", "code", "2xx"}, 3},
		{"http_server_responses_total", []string{"route", "file", "code", "4xx"}, 1},
		{"http_server_error_responses_total", []string{"code", "404"}, 1},
		{"http_server_error_responses_total", []string{"code", "405"}, 1},
		{"http_server_request_duration_seconds", nil, 10},
	}
	for _, ck := range checks {
		if v := metricSeries(t, fams, ck.name, ck.labels...); v != ck.want {
			t.Errorf("%s%v = %v, want %v", ck.name, ck.labels, v, ck.want)
		}
	}
	for _, name := range []string{"http_server_response_bytes_total", "http_server_connections_total",
		"http_server_connections_open", "http_server_pool_workers", "http_server_pool_queue_depth",
		"http_server_pool_queue_full_total", "http_server_timeouts_total", "process_resident_memory_bytes"} {
		metricSeries(t, fams, name)
	}
	if v := metricSeries(t, fams, "http_server_pool_workers"); v < 1 {
		t.Errorf("pool workers %v", v)
	}

	// A separate, private address; the main listener no longer has /metrics.
	s2 := startServer(t, serverOptions{Root: root, Args: []string{"--metrics-addr", "127.0.0.1:0"}})
	m := regexp.MustCompile(`metrics on (http://[^\s"]+)`).FindStringSubmatch(s2.Output())
	if m == nil {
		t.Fatalf("no metrics address in %q", s2.Output())
	}
	scrapeMetrics(t, m[1])
	if resp, _ := doRequest(t, c, "GET", s2.URL("/metrics"), nil); resp.StatusCode != 404 {
		t.Errorf("/metrics on the main listener with --metrics-addr: %d, want 404", resp.StatusCode)
	}
	s3 := startServer(t, serverOptions{Root: root, Args: []string{"--metrics-addr", "off"}})
	if resp, _ := doRequest(t, c, "GET", s3.URL("/metrics"), nil); resp.StatusCode != 404 {
		t.Errorf("/metrics with --metrics-addr off: %d, want 404", resp.StatusCode)
	}
}

// The access log has one Combined Log Format line per response, JSON on
// request, and SIGHUP reopens the file after logrotate moved it.
func TestE2EDaemonAccessLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	s := startServer(t, serverOptions{Args: []string{"--access-log", path}})
	c := newClient(t)
	req, _ := http.NewRequest("GET", s.URL("/ping?x=\"1\""), nil)
	req.Header.Set("User-Agent", "e2e-agent")
	req.Header.Set("Referer", "http://example/")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	doRequest(t, c, "GET", s.URL("/missing"), nil)
	lines := awaitLines(t, path, 2)
	re := regexp.MustCompile(`^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /ping\?x=\\x221\\x22 HTTP/1\.1" 200 4 "http://example/" "e2e-agent"$`)
	if !re.MatchString(lines[0]) {
		t.Errorf("combined line: %q", lines[0])
	}
	if !strings.Contains(lines[1], `"GET /missing HTTP/1.1" 404 `) {
		t.Errorf("404 line: %q", lines[1])
	}
	os.Rename(path, path+".1")
	s.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	doRequest(t, c, "GET", s.URL("/ping"), nil)
	if l := awaitLines(t, path, 1); !strings.Contains(l[0], `"GET /ping HTTP/1.1" 200 4`) {
		t.Errorf("after SIGHUP: %q", l[0])
	}
	if s.exited() {
		t.Fatal("SIGHUP stopped the server")
	}

	jsonPath := filepath.Join(dir, "access.json")
	s2 := startServer(t, serverOptions{Args: []string{"--access-log", jsonPath, "--access-log-format", "json", "--log-format", "json"}})
	doRequest(t, c, "GET", s2.URL("/echo"), nil)
	var m map[string]any
	if err := json.Unmarshal([]byte(awaitLines(t, jsonPath, 1)[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["target"] != "/echo" || m["status"] != 200.0 || m["remote"] != "127.0.0.1" {
		t.Errorf("json access line: %v", m)
	}
	var start map[string]any
	if err := json.Unmarshal([]byte(s2.Line), &start); err != nil || start["level"] != "INFO" {
		t.Errorf("--log-format json start line %q: %v", s2.Line, err)
	}
}

func awaitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	for i := 0; i < 300; i++ {
		b, _ := os.ReadFile(path)
		if lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); len(b) > 0 && len(lines) >= n {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("%s: %q, want %d lines", path, b, n)
	return nil
}

// SIGTERM sent the moment the start line appears drains the server (exit
// 0, "stopped"), rather than killing it before its handler is in place.
func TestE2EDaemonSigtermRightAfterStart(t *testing.T) {
	for i := 0; i < 5; i++ {
		s := startServer(t, serverOptions{})
		s.cmd.Process.Signal(syscall.SIGTERM)
		if code := s.Wait(10 * time.Second); code != 0 {
			t.Fatalf("run %d: exit %d after a SIGTERM right after the start line, want 0", i, code)
		}
		if !strings.Contains(s.Output(), "stopped") {
			t.Fatalf("run %d: no \"stopped\" line after SIGTERM:\n%s", i, s.Output())
		}
	}
}
