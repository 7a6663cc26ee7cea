package loadtest

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sampleRuns() []RunResult {
	var runs []RunResult
	rps := map[string][]float64{
		"ping/0": {100000, 102000, 98000.5}, "ping/4": {90000, 91000.25, 89000},
		"mixed/0": {40000, 41000, 39000}, "mixed/4": {40500, 40900, 1.0 / 3},
	}
	for _, sc := range []string{"ping", "mixed"} {
		for _, w := range []int{0, 4} {
			for r := 1; r <= 3; r++ {
				v := rps[sc+"/"+itoa(w)][r-1]
				runs = append(runs, RunResult{
					Scenario: sc, Workers: w, Queue: 1024, Repeat: r, Connections: 50, Pipeline: 1,
					Seconds: 1, Requests: int64(v), Errors: int64(r - 1), Non2xx: 1, RPS: v, MBps: v / 7e3,
					P50Ms: 0.3 + float64(r)/10, P99Ms: 2 + float64(w)/10 + float64(r)/100, MeanMs: 0.5,
				})
			}
		}
	}
	return runs
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSummarizeMedianAndSpread(t *testing.T) {
	points := Summarize(sampleRuns())
	if len(points) != 4 {
		t.Fatalf("%d points", len(points))
	}
	// Scenario order as first seen, then pool size.
	var order []string
	for _, p := range points {
		order = append(order, p.Scenario+"/"+itoa(p.Workers))
	}
	if got := strings.Join(order, " "); got != "ping/0 ping/4 mixed/0 mixed/4" {
		t.Errorf("order %s", got)
	}
	p := points[0]
	if p.RPS != 100000 || p.RPSMin != 98000.5 || p.RPSMax != 102000 || p.Repeats != 3 {
		t.Errorf("ping/0: %+v", p)
	}
	if p.Errors != 3 || p.Non2xx != 3 {
		t.Errorf("ping/0 errors %d non-2xx %d, want totals 3 and 3", p.Errors, p.Non2xx)
	}
	if p.P99Ms != 2.02 || p.P99MinMs != 2.01 || p.P99MaxMs != 2.03 {
		t.Errorf("ping/0 p99 %v %v %v", p.P99Ms, p.P99MinMs, p.P99MaxMs)
	}
	if s := p.Spread(); s < 0.0399 || s > 0.0401 {
		t.Errorf("spread %v", s)
	}
	if m := median([]float64{1, 2, 3, 10}); m != 2.5 {
		t.Errorf("median of even count %v", m)
	}
}

func TestFindBestAndRecommend(t *testing.T) {
	points := Summarize(sampleRuns())
	best := FindBest(points)
	if len(best) != 2 {
		t.Fatalf("%+v", best)
	}
	if best[0].Scenario != "ping" || best[0].Workers != 0 {
		t.Errorf("ping best %+v", best[0])
	}
	// mixed: 40,000 (pool 0) and 40,500 (pool 4) are within 3%: the lower
	// p99 (pool 0) wins.
	if best[1].Workers != 0 || best[1].BaselineRPS != 40000 {
		t.Errorf("mixed best %+v", best[1])
	}
	line := Recommend(best, Machine{CPUs: 2, ServerCPUs: "0", ClientCPUs: "1"})
	for _, want := range []string{"2 CPUs, server on CPU 0, load generator on CPU 1", "scenario mixed", "pool size 0", "40,000 req/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("recommendation %q lacks %q", line, want)
		}
	}

	// A clear winner with a pool: the ratio to the inline baseline.
	pts := []Point{
		{Scenario: "many-files", Workers: 0, Queue: 64, RPS: 10000, P99Ms: 5},
		{Scenario: "many-files", Workers: 8, Queue: 64, RPS: 25000, P99Ms: 3},
		{Scenario: "many-files", Workers: 16, Queue: 64, RPS: 24500, P99Ms: 2.5},
	}
	b := FindBest(pts)
	if b[0].Workers != 16 { // within 3% of the top, and a lower p99
		t.Errorf("best %+v", b[0])
	}
	if line := Recommend(b, Machine{CPUs: 4}); !strings.Contains(line, "pool size 16 (queue 64) gives 24,500 req/s with p99 2.50 ms, 2.45x the inline baseline") {
		t.Errorf("recommendation %q", line)
	}
}

// Download scenarios are ranked by MB/s: a short run completes a handful
// of 64 MiB downloads, so downloads/s is coarse (here pool 4 completed one
// download fewer than pool 16 but moved more bytes). A cold scenario that
// is not the headline (mixed is) gets its own line.
func TestFindBestDownloadsAndColdLine(t *testing.T) {
	pts := []Point{
		{Scenario: "mixed", Workers: 0, Queue: 64, RPS: 40000, P99Ms: 2, MBps: 10},
		{Scenario: "mixed", Workers: 4, Queue: 64, RPS: 39000, P99Ms: 3, MBps: 10},
		{Scenario: "cold-files", Workers: 0, Queue: 64, RPS: 2000, P99Ms: 40, MBps: 17},
		{Scenario: "cold-files", Workers: 4, Queue: 64, RPS: 6000, P99Ms: 12, MBps: 50},
		{Scenario: "cold-large", Workers: 0, Queue: 64, RPS: 1.0, P99Ms: 4000, MBps: 60},
		{Scenario: "cold-large", Workers: 4, Queue: 64, RPS: 2.0, P99Ms: 2100, MBps: 148},
		{Scenario: "cold-large", Workers: 16, Queue: 64, RPS: 2.5, P99Ms: 2000, MBps: 120},
	}
	best := FindBest(pts)
	if len(best) != 3 || best[1].Workers != 4 || best[1].ByMBps {
		t.Fatalf("%+v", best)
	}
	cl := best[2]
	if !cl.ByMBps || cl.Workers != 4 || cl.MBps != 148 || cl.BaselineMBps != 60 || cl.WorstMBps != 60 || cl.RPS != 2 {
		t.Errorf("cold-large best %+v", cl)
	}
	line := Recommend(best, Machine{CPUs: 2})
	lines := strings.Split(line, "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "scenario mixed, pool size 0") {
		t.Fatalf("recommendation:\n%s", line)
	}
	if want := "On data not in the page cache, for scenario cold-files, pool size 4 (queue 64) gives 6,000 req/s with p99 12.0 ms, 3.00x the inline baseline (pool size 0: 2,000 req/s)."; lines[1] != want {
		t.Errorf("got  %s\nwant %s", lines[1], want)
	}
	if want := "for scenario cold-large, pool size 4 (queue 64) gives 148.0 MB/s (2.00 downloads/s) with p99 2100 ms, 2.47x the inline baseline (pool size 0: 60.0 MB/s)."; !strings.HasSuffix(lines[2], want) {
		t.Errorf("got  %s\nwant %s", lines[2], want)
	}
	// cold-files alone: it is the answer, on one line.
	if line := Recommend(FindBest(pts[2:4]), Machine{CPUs: 2}); strings.Contains(line, "\n") || !strings.Contains(line, "for scenario cold-files, pool size 4") {
		t.Errorf("cold-files alone: %q", line)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	runs := sampleRuns()
	points := Summarize(runs)
	var b bytes.Buffer
	if err := WritePointsCSV(&b, points); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "scenario,workers,queue,repeats,rps,rps_min,rps_max,") {
		t.Errorf("header: %q", strings.SplitN(b.String(), "\n", 2)[0])
	}
	back, err := ReadPointsCSV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, points) {
		t.Errorf("points differ after CSV:\n%+v\n%+v", back, points)
	}
	b.Reset()
	if err := WriteRunsCSV(&b, runs); err != nil {
		t.Fatal(err)
	}
	backRuns, err := ReadRunsCSV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(backRuns, runs) {
		t.Error("runs differ after CSV")
	}
	if _, err := ReadPointsCSV(strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Error("wrong header accepted")
	}
	if _, err := ReadRunsCSV(strings.NewReader("")); err == nil {
		t.Error("empty file accepted")
	}
}

func TestJSONRoundTripAndOutputs(t *testing.T) {
	runs := sampleRuns()
	points := Summarize(runs)
	best := FindBest(points)
	rep := &Report{
		Started: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Seconds: 12.5,
		Machine:  Machine{CPUs: 2, GoVersion: "go1.26", Server: "http_server test"},
		Settings: Settings{Scenarios: []string{"ping", "mixed"}, Workers: []int{0, 4}, Queues: []int{1024}, Repeats: 3, Duration: "1s", Warmup: "0s", Connections: 50, LargeConns: 4, Pipeline: 1},
		Points:   points, Runs: runs, Best: best, Recommendation: Recommend(best, Machine{CPUs: 2}),
	}
	dir := t.TempDir()
	if err := WriteOutputs(dir, rep); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(filepath.Join(dir, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rep) {
		t.Errorf("report differs after JSON:\n%+v\n%+v", back, rep)
	}
	CheckOutputs(t, dir)
}

func TestTables(t *testing.T) {
	points := Summarize(sampleRuns())
	best := FindBest(points)
	var b bytes.Buffer
	if err := WriteTable(&b, points, best); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"req/s", "100,000*", "0 (inline)", "±2.0%", "mixed"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	_ = WriteMarkdownTable(&b, points, best)
	if lines := strings.Count(b.String(), "\n"); lines != 2+len(points) || !strings.Contains(b.String(), "**100,000**") {
		t.Errorf("markdown:\n%s", b.String())
	}
}

func TestChartSVG(t *testing.T) {
	points := Summarize(sampleRuns())
	// A second queue size makes one line per scenario and queue.
	for _, p := range Summarize(sampleRuns()) {
		p.Queue = 64
		points = append(points, p)
	}
	rep := &Report{Machine: Machine{CPUs: 2}, Settings: Settings{Repeats: 3, Connections: 50, Duration: "1s"}, Points: points}
	var b bytes.Buffer
	if err := WriteChart(&b, rep); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	for _, want := range []string{"<svg", "ping q=1024", "mixed q=64", "0 (inline)", "p99 latency", "Throughput"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	// One point at a third of a request per second: the lines span more
	// than a factor of ten, so the throughput panel is relative.
	if !strings.Contains(svg, "Throughput relative to pool size 0 (inline)") || !strings.Contains(svg, "(100k req/s, 2.02 ms)") {
		t.Error("chart of very different scenarios is not relative to pool size 0")
	}
	b.Reset()
	rep.Points = Summarize(sampleRuns()[:6]) // ping only: absolute
	if err := WriteChart(&b, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Throughput (req/s)") || strings.Contains(b.String(), "relative") {
		t.Error("chart of similar scenarios is not absolute")
	}
	if err := WriteChart(&b, &Report{}); err == nil {
		t.Error("chart of no points: no error")
	}
}

func TestShortNumber(t *testing.T) {
	for v, want := range map[float64]string{0.05: "0.05", 2: "2", 250: "250", 2500: "2.5k", 120000: "120k", 1500000: "1.5M"} {
		if got := shortNumber(v); got != want {
			t.Errorf("shortNumber(%v) = %q, want %q", v, got, want)
		}
	}
}
