package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"sweep", "--workers", "x"},
		{"sweep", "--progress", "loud"},
		{"sweep", "--server-cpus", "1-0"},
		{"sweep", "extra"},
		{"run"},
		{"run", "--addr", "127.0.0.1:1", "--scenario", "nope"},
		{"fixtures"},
		{"report"},
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
		"--workers", "1", "--repeats", "1", "--duration", "300ms", "--warmup", "0s", "-c", "4",
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
			Duration  string
			Command   string
		}
		Points []struct{ RPS float64 }
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Points) != 1 || rep.Points[0].RPS <= 0 || rep.Settings.Duration != "300ms" ||
		len(rep.Settings.Scenarios) != 1 || rep.Settings.Command == "" {
		t.Errorf("report: %s", b)
	}
}
