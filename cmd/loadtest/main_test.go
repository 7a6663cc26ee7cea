package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"http_server/internal/loadtest"
)

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"sweep", "--workers", "x"},
		{"sweep", "--loops", "x"},
		{"sweep", "--loops", "0"},
		{"sweep", "--loops", "1,-2"},
		{"sweep", "--loops="},
		{"sweep", "--progress", "loud"},
		{"sweep", "--server-cpus", "1-0"},
		{"sweep", "extra"},
		{"run"},
		{"run", "--addr", "127.0.0.1:1", "--scenario", "nope"},
		{"fixtures"},
		{"report"},
		{"sweep", "--disk-read-mbps", "-1"},
		{"sweep", "--disk-read-mbps", "x"},
		{"sweep", "--cold-file-size", "64X"},
		{"sweep", "--cold-file-size", "4k"},
		{"sweep", "--cold-set-size", "2X"},
		{"sweep", "--cold-set-size", "512k"},
		{"run", "--addr", "127.0.0.1:1", "--cold-set-size", "-1"},
		{"run", "--addr", "127.0.0.1:1", "--cold-file-size", "-1"},
		{"run", "--addr", "127.0.0.1:1", "--scenario", "cold-files"},
		{"run", "--addr", "127.0.0.1:1", "--scenario", "cold-large", "-c", "2"},
		{"run", "--addr", "127.0.0.1:1", "--disk-read-mbps", "100"},
		{"run", "--addr", "127.0.0.1:1", "--disk-read-mbps", "100", "--server-pid", "1"},
		{"run", "--addr", "127.0.0.1:1", "--disk-read-mbps", "-5", "--server-pid", "1", "--fixtures", "/tmp"},
		{"sweep", "--accept-encoding", "br"},
		{"run", "--addr", "127.0.0.1:1", "--scenario", "compressed", "--accept-encoding", "identity"},
	} {
		if code := run(ctx, args); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	for _, args := range [][]string{{"--help"}, {"sweep", "--help"}, {"run", "-h"}} {
		if code := run(ctx, args); code != 0 {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
	}
	if code := run(ctx, []string{"sweep", "--server", "/nonexistent/http_server"}); code != 1 {
		t.Errorf("missing server: exit %d, want 1", code)
	}
}

func TestCheckCold(t *testing.T) {
	if n, err := checkCold("64M", 150); err != nil || n != 64<<20 {
		t.Errorf("64M: %d %v", n, err)
	}
	if n, err := checkCold("65536", 0); err != nil || n != 64<<10 {
		t.Errorf("64 KiB: %d %v", n, err)
	}
	for _, c := range []struct {
		size string
		mbps int
		want string
	}{{"1k", 0, "less than 64 KiB"}, {"lots", 0, "bad size"}, {"1G", -1, "negative"}} {
		_, err := checkCold(c.size, c.mbps)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %d: %v, want a usage error with %q", c.size, c.mbps, err, c.want)
		}
	}
	// The help shows how to run the cold scenarios.
	if !strings.Contains(usage, "--scenarios cold-files,cold-large --disk-read-mbps 150") {
		t.Error("usage does not say how to run the cold scenarios")
	}
}

// A user who is not root gets one line saying what --disk-read-mbps needs,
// before anything starts.
func TestDiskReadNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root")
	}
	bin, _ := os.Executable() // any file: the server is not started
	if code := run(context.Background(), []string{"sweep", "--server", bin, "--disk-read-mbps", "100", "--progress", "none"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if err := loadtest.CheckThrottle(); err == nil || !strings.Contains(err.Error(), "--disk-read-mbps needs root") {
		t.Errorf("%v", err)
	}
}

// The command line end to end: a one-point sweep through the flags writes
// its four files where --out says.
func TestSweepCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	bin := os.Getenv("HTTP_SERVER_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "http_server")
		if out, err := exec.Command("go", "build", "-o", bin, "http_server/cmd/http_server").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	out := filepath.Join(t.TempDir(), "results")
	code := run(context.Background(), []string{"sweep", "--server", bin, "--quick", "--scenarios", "ping",
		"--loops", "1,2", "--workers", "1", "--repeats", "1", "--duration", "300ms", "--warmup", "0s", "-c", "4",
		"--progress", "none", "--out", out})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"results.csv", "runs.csv", "results.json", "chart.svg"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// report re-reads the JSON and redraws the chart.
	if err := os.Remove(filepath.Join(out, "chart.svg")); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"report", out}); code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(out, "chart.svg")); err != nil {
		t.Errorf("report did not redraw the chart: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "results.json"))
	var rep struct {
		Settings struct {
			Scenarios []string
			Loops     []int
			Duration  string
			Command   string
		}
		Points []struct {
			Loops int
			RPS   float64
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Points) != 2 || rep.Points[0].RPS <= 0 || rep.Settings.Duration != "300ms" ||
		len(rep.Settings.Scenarios) != 1 || rep.Settings.Command == "" {
		t.Errorf("report: %s", b)
	}
	if len(rep.Points) == 2 && (rep.Points[0].Loops != 1 || rep.Points[1].Loops != 2 || len(rep.Settings.Loops) != 2) {
		t.Errorf("loops: settings %v, points %+v", rep.Settings.Loops, rep.Points)
	}
}

// report reads a results.json from before loops were recorded.
func TestReportOfOldSweep(t *testing.T) {
	dir := t.TempDir()
	old := `{"machine": {"cpus": 2}, "settings": {"scenarios": ["ping"], "workers": [0, 4], "queues": [1024], "repeats": 1, "duration": "1s"},
  "points": [{"scenario": "ping", "workers": 0, "queue": 1024, "repeats": 1, "rps": 1000, "rps_min": 1000, "rps_max": 1000, "p99_ms": 1},
    {"scenario": "ping", "workers": 4, "queue": 1024, "repeats": 1, "rps": 900, "rps_min": 900, "rps_max": 900, "p99_ms": 1.2}],
  "best": [{"scenario": "ping", "workers": 0, "queue": 1024, "rps": 1000, "p99_ms": 1}], "recommendation": "pool size 0"}`
	if err := os.WriteFile(filepath.Join(dir, loadtest.ReportJSON), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"report", dir}); code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, loadtest.ChartSVG)); err != nil {
		t.Errorf("no chart: %v", err)
	}
}

// --store reaches the server as one more flag; without it nothing is added.
func TestWithStore(t *testing.T) {
	if got := withStore([]string{"--max-requests=0"}, ""); len(got) != 1 {
		t.Errorf("no --store: %q", got)
	}
	got := withStore([]string{"--max-requests=0"}, "redis://127.0.0.1:6379/0")
	if len(got) != 2 || got[1] != "--store=redis://127.0.0.1:6379/0" {
		t.Errorf("--store redis://...: server args %q", got)
	}
}
