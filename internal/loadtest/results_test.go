package loadtest

import (
	"bytes"
	"encoding/xml"
	"os"
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
					Scenario: sc, Loops: 1, Workers: w, Queue: 1024, Repeat: r, Connections: 50, Pipeline: 1,
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
	line := Recommend(best, Machine{CPUs: 2, ServerCPUs: "0", ClientCPUs: "1"}, []int{1})
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
	if line := Recommend(b, Machine{CPUs: 4}, []int{1}); !strings.Contains(line, "pool size 16 (queue 64) gives 24,500 req/s with p99 2.50 ms, 2.45x the inline baseline") {
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
	line := Recommend(best, Machine{CPUs: 2}, []int{1})
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
	if line := Recommend(FindBest(pts[2:4]), Machine{CPUs: 2}, nil); strings.Contains(line, "\n") || !strings.Contains(line, "for scenario cold-files, pool size 4") {
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
	if !strings.HasPrefix(b.String(), "scenario,loops,workers,queue,repeats,rps,rps_min,rps_max,") {
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
		Settings: Settings{Scenarios: []string{"ping", "mixed"}, Loops: []int{1}, Workers: []int{0, 4}, Queues: []int{1024}, Repeats: 3, Duration: "1s", Warmup: "0s", Connections: 50, LargeConns: 4, Pipeline: 1},
		Points:   points, Runs: runs, Best: best, Recommendation: Recommend(best, Machine{CPUs: 2}, []int{1}),
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
	svg := chartOf(t, points)
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
	abs := chartOf(t, Summarize(sampleRuns()[:6])) // ping only: absolute
	if !strings.Contains(abs, "Throughput (req/s)") || strings.Contains(abs, "relative") {
		t.Error("chart of similar scenarios is not absolute")
	}
	var b bytes.Buffer
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

// loopsRuns is sampleRuns again with two event loops: mixed gains from the
// second loop with a pool, ping measures the same as with one.
func loopsRuns() []RunResult {
	runs := sampleRuns()
	for _, r := range sampleRuns() {
		r.Loops = 2
		if r.Scenario == "mixed" && r.Workers == 4 {
			r.RPS, r.P99Ms = 60000+float64(r.Repeat), 1.5
		}
		runs = append(runs, r)
	}
	return runs
}

func TestFindBestAcrossLoops(t *testing.T) {
	points := Summarize(loopsRuns())
	var order []string
	for _, p := range points {
		order = append(order, p.Scenario+"/"+itoa(p.Loops)+"/"+itoa(p.Workers))
	}
	if got := strings.Join(order, " "); got != "ping/1/0 ping/1/4 ping/2/0 ping/2/4 mixed/1/0 mixed/1/4 mixed/2/0 mixed/2/4" {
		t.Errorf("order %s", got)
	}
	best := FindBest(points)
	// ping: the same figures with either loops count; the fewer loops win.
	if best[0].Loops != 1 || best[0].Workers != 0 {
		t.Errorf("ping best %+v", best[0])
	}
	// mixed: 2 loops and a pool of 4; the baseline is pool 0 with 2 loops.
	if b := best[1]; b.Loops != 2 || b.Workers != 4 || b.RPS != 60002 || b.BaselineRPS != 40000 || b.WorstRPS != 40000 {
		t.Errorf("mixed best %+v", b)
	}
	line := Recommend(best, Machine{CPUs: 2}, []int{1, 2})
	if want := "for scenario mixed, 2 loops, pool size 4 (queue 1024) gives 60,002 req/s with p99 1.50 ms, 1.50x the inline baseline (2 loops, pool size 0: 40,000 req/s)."; !strings.HasSuffix(line, want) {
		t.Errorf("got  %s\nwant %s", line, want)
	}
	// Several loops swept and one is best: it is named too.
	if line := Recommend(best[:1], Machine{CPUs: 2}, []int{1, 2}); !strings.Contains(line, "for scenario ping, 1 loop, pool size 0 (handlers inline; queue 1024) gives 100,000 req/s") ||
		!strings.Contains(line, "no other pool size or number of loops beats it") {
		t.Errorf("ping: %q", line)
	}
	// One loop only, as every sweep before loops: the line is as it was.
	if line := Recommend(FindBest(Summarize(sampleRuns())), Machine{CPUs: 2}, []int{1}); strings.Contains(line, "loop") {
		t.Errorf("one loop named: %q", line)
	}
	// A single loops value other than 1 is named: the answer depends on it.
	two := sampleRuns()
	for i := range two {
		two[i].Loops = 4
	}
	if line := Recommend(FindBest(Summarize(two)), Machine{CPUs: 2}, []int{4}); !strings.Contains(line, "for scenario mixed, 4 loops, pool size 0") {
		t.Errorf("4 loops: %q", line)
	}
}

func TestTablesWithLoops(t *testing.T) {
	points := Summarize(loopsRuns())
	best := FindBest(points)
	var b bytes.Buffer
	if err := WriteTable(&b, points, best); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if f := strings.Fields(lines[0]); len(f) < 3 || f[0] != "scenario" || f[1] != "loops" || f[2] != "pool" {
		t.Errorf("header %q", lines[0])
	}
	// The best of mixed: 2 loops, pool 4, marked.
	if f := strings.Fields(lines[len(lines)-1]); len(f) < 4 || f[0] != "2" || f[1] != "4" || f[3] != "60,002*" {
		t.Errorf("last row %q", lines[len(lines)-1])
	}
	b.Reset()
	_ = WriteMarkdownTable(&b, points, best)
	md := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(md[0], "| scenario | loops | pool |") || strings.Count(md[1], "|") != strings.Count(md[0], "|") ||
		!strings.Contains(b.String(), "| mixed | 2 | 4 | 1024 | **60,002** |") {
		t.Errorf("markdown:\n%s", b.String())
	}
	// One loop: no loops column, as before.
	b.Reset()
	points = Summarize(sampleRuns())
	_ = WriteTable(&b, points, FindBest(points))
	if strings.Contains(b.String(), "loops") {
		t.Errorf("one loop, loops column:\n%s", b.String())
	}
}

// A results.json written before the sweep recorded loops (no loops
// anywhere) reads as one loop, and its table and chart are as they were.
func TestReadJSONWithoutLoops(t *testing.T) {
	const old = `{
  "started": "2026-11-26T10:00:00Z", "seconds": 12.5,
  "machine": {"cpus": 2, "go_version": "go1.26", "server": "http_server v1"},
  "settings": {"scenarios": ["ping"], "workers": [0, 4], "queues": [1024], "repeats": 1,
    "duration": "1s", "warmup": "0s", "connections": 50, "large_conns": 4, "pipeline": 1},
  "points": [
    {"scenario": "ping", "workers": 0, "queue": 1024, "repeats": 1, "rps": 100000, "rps_min": 100000, "rps_max": 100000, "p99_ms": 2, "p99_min_ms": 2, "p99_max_ms": 2},
    {"scenario": "ping", "workers": 4, "queue": 1024, "repeats": 1, "rps": 90000, "rps_min": 90000, "rps_max": 90000, "p99_ms": 2.4, "p99_min_ms": 2.4, "p99_max_ms": 2.4}],
  "runs": [
    {"scenario": "ping", "workers": 0, "queue": 1024, "repeat": 1, "rps": 100000, "p99_ms": 2},
    {"scenario": "ping", "workers": 4, "queue": 1024, "repeat": 1, "rps": 90000, "p99_ms": 2.4}],
  "best": [{"scenario": "ping", "workers": 0, "queue": 1024, "rps": 100000, "p99_ms": 2, "worst_rps": 90000}],
  "recommendation": "On this machine (2 CPUs), for scenario ping, pool size 0 (handlers inline; queue 1024) gives 100,000 req/s with p99 2.00 ms."
}`
	path := filepath.Join(t.TempDir(), ReportJSON)
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Settings.Loops, []int{1}) {
		t.Errorf("settings loops %v, want [1]", rep.Settings.Loops)
	}
	for _, r := range rep.Runs {
		if r.Loops != 1 {
			t.Errorf("run %+v: loops %d", r, r.Loops)
		}
	}
	for _, p := range rep.Points {
		if p.Loops != 1 {
			t.Errorf("point %+v: loops %d", p, p.Loops)
		}
	}
	if rep.Best[0].Loops != 1 {
		t.Errorf("best %+v", rep.Best[0])
	}
	// The summary of the runs is the points, and the best still marked.
	if got := Summarize(rep.Runs); len(got) != 2 || got[0].Loops != 1 || got[1].Workers != 4 {
		t.Errorf("summary %+v", got)
	}
	var b bytes.Buffer
	if err := WriteTable(&b, rep.Points, rep.Best); err != nil || strings.Contains(b.String(), "loops") || !strings.Contains(b.String(), "100,000*") {
		t.Errorf("table (%v):\n%s", err, b.String())
	}
	b.Reset()
	if err := WriteChart(&b, rep); err != nil || strings.Contains(b.String(), "loop") {
		t.Errorf("chart of an old report: %v", err)
	}
}

// Several loops values: one line per scenario and loops, the lines of a
// scenario in its colour and told apart by dashes.
func TestChartWithLoops(t *testing.T) {
	points := Summarize(loopsRuns())
	ss := chartSeries(points)
	var got []string
	for _, s := range ss {
		got = append(got, s.label+"/"+itoa(s.colour)+"/"+itoa(s.dashes)+"/"+itoa(len(s.points)))
	}
	if want := "ping, 1 loop/0/0/2 ping, 2 loops/0/1/2 mixed, 1 loop/1/0/2 mixed, 2 loops/1/1/2"; strings.Join(got, " ") != want {
		t.Errorf("series %q\nwant     %q", strings.Join(got, " "), want)
	}
	svg := chartOf(t, points)
	for _, want := range []string{">ping, 1 loop", ">ping, 2 loops", ">mixed, 1 loop", ">mixed, 2 loops", "with 1 and 2 event loops", "stroke-dasharray", ">0 (inline)<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	// One loop: the series are those of before, solid, without loops.
	for i, s := range chartSeries(Summarize(sampleRuns())) {
		if strings.Contains(s.label, "loop") || s.colour != i || s.dashes != 0 {
			t.Errorf("one loop: series %d %+v", i, s)
		}
	}
}

// chartOf draws the chart of points and checks it is XML.
func chartOf(t *testing.T, points []Point) string {
	t.Helper()
	rep := &Report{Machine: Machine{CPUs: 2}, Settings: Settings{Repeats: 3, Connections: 50, Duration: "1s"}, Points: points}
	var b bytes.Buffer
	if err := WriteChart(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	return b.String()
}
