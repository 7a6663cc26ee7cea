package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// serverBinary is the http_server to test against: $HTTP_SERVER_BIN (make
// test sets it to the binary it built), else one built here, once.
func serverBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("HTTP_SERVER_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "loadtest-server-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "http_server")
		out, err := exec.Command("go", "build", "-o", builtBin, "http_server/cmd/http_server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// sweepAndWrite runs cfg, writes its outputs to a temporary directory and
// reads them back (CheckOutputs checks they agree with each other).
func sweepAndWrite(t *testing.T, cfg SweepConfig, log *bytes.Buffer) (string, *Report) {
	t.Helper()
	rep, err := Sweep(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteOutputs(dir, rep); err != nil {
		t.Fatal(err)
	}
	return dir, CheckOutputs(t, dir)
}

// TestSweepEndToEnd runs a tiny sweep against the real server: two pool
// sizes, one second each, one scenario, and checks that the CSV, JSON and
// SVG are written and agree with each other.
func TestSweepEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	bin := serverBinary(t)
	var log, bar bytes.Buffer
	cfg := SweepConfig{
		ServerBin: bin, Scenarios: []string{"small-file"}, Workers: []int{0, 2}, Queues: []int{64},
		Repeats: 1, Duration: time.Second, Warmup: 200 * time.Millisecond,
		Connections: 8, LargeConns: 1, Pipeline: 2,
		Log: &log, Progress: &bar,
	}
	_, back := sweepAndWrite(t, cfg, &log)

	if len(back.Runs) != 2 || len(back.Points) != 2 {
		t.Fatalf("%d runs, %d points, want 2 and 2", len(back.Runs), len(back.Points))
	}
	for i, p := range back.Points {
		// No loops given: one, the server's --loops set explicitly.
		if p.Workers != cfg.Workers[i] || p.Queue != 64 || p.Scenario != "small-file" || p.Loops != 1 {
			t.Errorf("point %d: %+v", i, p)
		}
		if p.RPS < 100 || p.Errors != 0 || p.Non2xx != 0 {
			t.Errorf("pool %d: %.0f req/s, %d errors, %d non-2xx", p.Workers, p.RPS, p.Errors, p.Non2xx)
		}
		// 4 KiB bodies: the bytes received match the requests.
		if min := p.RPS * SmallFileSize / 1e6; p.MBps < min {
			t.Errorf("pool %d: %.2f MB/s for %.0f req/s of 4 KiB", p.Workers, p.MBps, p.RPS)
		}
	}
	if r := back.Runs[0]; r.Seconds != 1 || r.Connections != 8 || r.Pipeline != 2 {
		t.Errorf("run: %+v", r)
	}
	if !strings.HasPrefix(back.Machine.Server, "http_server") || back.Machine.CPUs < 1 {
		t.Errorf("machine %+v", back.Machine)
	}
	if len(back.Settings.Loops) != 1 || back.Settings.Loops[0] != 1 {
		t.Errorf("settings loops %v, want [1]", back.Settings.Loops)
	}
	if len(back.Best) != 1 || !strings.Contains(back.Recommendation, "for scenario small-file, pool size") {
		t.Errorf("best %+v, recommendation %q", back.Best, back.Recommendation)
	}
	if n := strings.Count(log.String(), "\n"); n != 2 {
		t.Errorf("%d log lines, want 2:\n%s", n, log.String())
	}
	if !strings.Contains(bar.String(), "2/2") {
		t.Errorf("progress bar did not reach 2/2: %q", bar.String())
	}
}

func TestSweepRejectsBadConfig(t *testing.T) {
	good := SweepConfig{ServerBin: "x", Scenarios: []string{"ping"}, Workers: []int{0}, Queues: []int{1}, Repeats: 1, Duration: time.Second, Connections: 1, LargeConns: 1}
	for name, mod := range map[string]func(*SweepConfig){
		"no binary":    func(c *SweepConfig) { c.ServerBin = "" },
		"bad scenario": func(c *SweepConfig) { c.Scenarios = []string{"pong"} },
		"negative":     func(c *SweepConfig) { c.Workers = []int{-1} },
		"queue 0":      func(c *SweepConfig) { c.Queues = []int{0} },
		"loops 0":      func(c *SweepConfig) { c.Loops = []int{1, 0} },
		"loops -1":     func(c *SweepConfig) { c.Loops = []int{-1} },
		"no repeats":   func(c *SweepConfig) { c.Repeats = 0 },
		"no duration":  func(c *SweepConfig) { c.Duration = 0 },
		"disk limit":   func(c *SweepConfig) { c.DiskReadMBps = -1 },
		"cold size":    func(c *SweepConfig) { c.ColdFileSize = -1 },
		"br":           func(c *SweepConfig) { c.Scenarios, c.AcceptEncoding = []string{"compressed"}, "br" },
	} {
		c := good
		mod(&c)
		if _, err := Sweep(context.Background(), c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if good.Runs() != 1 || good.Estimate() <= time.Second {
		t.Errorf("runs %d estimate %v", good.Runs(), good.Estimate())
	}
	// Every loops value is a server per pool and queue size, repeat.
	big := good
	big.Scenarios, big.Loops, big.Workers, big.Queues, big.Repeats = []string{"ping", "echo"}, []int{1, 2, 4}, []int{0, 4}, []int{64, 1024}, 3
	if n := big.Runs(); n != 2*3*2*2*3 {
		t.Errorf("runs %d, want %d", n, 2*3*2*2*3)
	}
	one := big
	one.Loops = []int{1}
	if big.Estimate() < 3*one.Estimate()-time.Millisecond || one.Runs() != big.Runs()/3 {
		t.Errorf("estimate %v with 3 loops values, %v with one", big.Estimate(), one.Estimate())
	}
}

// A tiny sweep of two loops values against the real server: both are
// recorded in every output, and the recommendation names the loops.
func TestSweepLoops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	var log bytes.Buffer
	cfg := SweepConfig{
		ServerBin: serverBinary(t), Scenarios: []string{"ping"}, Loops: []int{1, 2}, Workers: []int{1}, Queues: []int{64},
		Repeats: 1, Duration: 300 * time.Millisecond, Connections: 4, LargeConns: 1, Log: &log,
	}
	dir, back := sweepAndWrite(t, cfg, &log)
	if len(back.Runs) != 2 || len(back.Points) != 2 {
		t.Fatalf("%d runs, %d points, want 2 and 2", len(back.Runs), len(back.Points))
	}
	for i, p := range back.Points {
		if p.Loops != cfg.Loops[i] || p.Workers != 1 || back.Runs[i].Loops != cfg.Loops[i] || p.RPS <= 0 || p.Errors != 0 {
			t.Errorf("point %d: %+v, run %+v", i, p, back.Runs[i])
		}
	}
	if fmt.Sprint(back.Settings.Loops) != "[1 2]" || !strings.Contains(back.Recommendation, "loop") {
		t.Errorf("settings loops %v, recommendation %q", back.Settings.Loops, back.Recommendation)
	}
	if !strings.Contains(log.String(), "run 1/1 loops 2 pool 1 queue 64 ping") {
		t.Errorf("log:\n%s", log.String())
	}
	svg, _ := os.ReadFile(filepath.Join(dir, ChartSVG))
	if !strings.Contains(string(svg), "ping, 1 loop") || !strings.Contains(string(svg), "ping, 2 loops") {
		t.Error("chart has no line per loops value")
	}
}

// The server gets --loops: its "listening on" line says how many it runs.
func TestServerLoopsFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	srv, err := StartServer(ServerConfig{Binary: serverBinary(t), Root: t.TempDir(), Loops: 3, Workers: 1, Queue: 1})
	if err != nil {
		t.Fatal(err)
	}
	tail := srv.Tail()
	// Its exit status is not checked: a SIGTERM this soon after "listening
	// on" can come before the server handles the signal, and kill it.
	_ = srv.Stop(10 * time.Second)
	if !strings.Contains(tail, "loops=3") {
		t.Errorf("server log does not say loops=3:\n%s", tail)
	}
}

func TestServerStartFailureIsReported(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	_, err := StartServer(ServerConfig{Binary: serverBinary(t), Root: filepath.Join(t.TempDir(), "missing"), Workers: 1, Queue: 1})
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Errorf("err = %v", err)
	}
}

// hasCompress reports whether the server has --compress, which is being
// added: its --help mentions it.
func hasCompress(t *testing.T, bin string) bool {
	t.Helper()
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	return strings.Contains(string(out), "--compress")
}

// The compressed scenario against the real server: every response passes
// the check, and the bytes on the wire are a fraction of the files'.
func TestSweepCompressed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	bin := serverBinary(t)
	if !hasCompress(t, bin) {
		t.Skip("the server's --help has no --compress: it does not compress yet")
	}
	var log bytes.Buffer
	cfg := SweepConfig{
		ServerBin: bin, Scenarios: []string{"compressed"}, Workers: []int{2}, Queues: []int{64},
		Repeats: 1, Duration: 500 * time.Millisecond, Warmup: 200 * time.Millisecond, Connections: 4, LargeConns: 1, Log: &log,
	}
	_, back := sweepAndWrite(t, cfg, &log)
	if len(back.Points) != 1 {
		t.Fatalf("%d points", len(back.Points))
	}
	p := back.Points[0]
	if p.Errors != 0 || p.Non2xx != 0 || p.RPS < 50 {
		t.Errorf("%.0f req/s, %d errors, %d non-2xx:\n%s", p.RPS, p.Errors, p.Non2xx, log.String())
	}
	if files := p.RPS * CompressedFileSize / 1e6; p.MBps > files/2 {
		t.Errorf("%.1f MB/s on the wire for %.1f MB/s of files: not compressed", p.MBps, files)
	}
	if back.Settings.AcceptEncoding != DefaultAcceptEncoding {
		t.Errorf("settings: accept-encoding %q", back.Settings.AcceptEncoding)
	}
}

// A server that does not compress (one started with --compress=off, or one
// without compression) fails the check on every response, and the sweep
// says why.
func TestSweepCompressedRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	bin := serverBinary(t)
	var args []string
	if hasCompress(t, bin) {
		args = []string{"--compress=off"}
	}
	var log bytes.Buffer
	cfg := SweepConfig{
		ServerBin: bin, Scenarios: []string{"compressed"}, Workers: []int{0}, Queues: []int{64}, ServerArgs: args,
		Repeats: 1, Duration: 300 * time.Millisecond, Connections: 2, LargeConns: 1, Log: &log,
	}
	_, back := sweepAndWrite(t, cfg, &log)
	r := back.Runs[0]
	if r.Requests == 0 || r.Errors != r.Requests || r.Non2xx != 0 {
		t.Errorf("%d requests, %d errors, %d non-2xx", r.Requests, r.Errors, r.Non2xx)
	}
	if !strings.Contains(log.String(), "failed the check; the first: /compressed/") || !strings.Contains(log.String(), "did not compress") {
		t.Errorf("log does not say the server did not compress:\n%s", log.String())
	}
}

func TestFixtures(t *testing.T) {
	dir := t.TempDir()
	if err := MakeFixtures(dir, FixtureSmall|FixtureMedium|FixtureLarge|FixtureMany); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int64{
		SmallFileName: SmallFileSize, MediumFileName: MediumFileSize, LargeFileName: LargeFileSize,
		ManyFilePath(0)[1:]: SmallFileSize, ManyFilePath(ManyFilesCount - 1)[1:]: SmallFileSize,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() != size {
			t.Errorf("%s: %v, size %d want %d", name, err, fi.Size(), size)
		}
	}
	// The 1 GiB file is sparse: it takes (almost) no blocks.
	var st = statBlocks(t, filepath.Join(dir, LargeFileName))
	if st > 1<<20 {
		t.Errorf("large file uses %d bytes on disk; not sparse", st)
	}
	// A second call keeps what is there.
	before, _ := os.Stat(filepath.Join(dir, SmallFileName))
	if err := MakeFixtures(dir, FixtureSmall); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, SmallFileName))
	if !before.ModTime().Equal(after.ModTime()) {
		t.Error("existing fixture rewritten")
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]string{"1": "[1]", "0,2": "[0 2]", "0-3,6": "[0 1 2 3 6]", "1,1": "[1]"} {
		got, err := ParseCPUList(in)
		if err != nil || fmtInts(got) != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "1,", "-1"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:1/ping
  2 threads and 50 connections
  Latency Distribution
     50%  361.00us
     75%  450.00us
     90%  600.00us
     99%    2.91ms
  1000000 requests in 10.00s, 141.00MB read
Requests/sec: 100000.50
Transfer/sec:     14.10MB
`
	rps, p99, err := parseWrk(out)
	if err != nil || rps != 100000.50 || p99 != 2.91 {
		t.Errorf("%v %v %v", rps, p99, err)
	}
	if _, _, err := parseWrk(out + "  Non-2xx or 3xx responses: 5\n"); err == nil {
		t.Error("non-2xx not reported")
	}
	w, o, ratio := CompareSummary([]CompareRound{{Tool: "wrk", RPS: 100}, {Tool: "loadtest", RPS: 95}, {Tool: "wrk", RPS: 110}, {Tool: "loadtest", RPS: 105}})
	if w != 105 || o != 100 || ratio < 0.952 || ratio > 0.953 {
		t.Errorf("%v %v %v", w, o, ratio)
	}
}
