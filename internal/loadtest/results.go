package loadtest

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// RunResult is one measurement: one scenario against one server
// configuration, one repetition. Latencies are in milliseconds.
type RunResult struct {
	Scenario    string  `json:"scenario"`
	Loops       int     `json:"loops"` // event loops (--loops of the server)
	Workers     int     `json:"workers"`
	Queue       int     `json:"queue"`
	Repeat      int     `json:"repeat"`
	Connections int     `json:"connections"`
	Pipeline    int     `json:"pipeline"`
	Seconds     float64 `json:"seconds"`
	Requests    int64   `json:"requests"`
	Non2xx      int64   `json:"non_2xx"`
	Errors      int64   `json:"errors"`
	Reconnects  int64   `json:"reconnects"`
	RPS         float64 `json:"rps"`
	MBps        float64 `json:"mb_per_s"` // 10^6 bytes per second received
	MeanMs      float64 `json:"mean_ms"`
	P50Ms       float64 `json:"p50_ms"`
	P90Ms       float64 `json:"p90_ms"`
	P99Ms       float64 `json:"p99_ms"`
	P999Ms      float64 `json:"p999_ms"`
	MaxMs       float64 `json:"max_ms"`
}

// NewRunResult condenses a generator Result.
func NewRunResult(r *Result, loops, workers, queue, repeat int) RunResult {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return RunResult{
		Scenario: r.Scenario, Loops: loops, Workers: workers, Queue: queue, Repeat: repeat,
		Connections: r.Connections, Pipeline: r.Pipeline,
		Seconds:  r.Elapsed.Seconds(),
		Requests: r.Requests, Non2xx: r.Non2xx, Errors: r.Errors.Total(), Reconnects: r.Reconnects,
		RPS: r.RPS(), MBps: r.BytesPerSec() / 1e6,
		MeanMs: ms(r.Latency.Mean()), P50Ms: ms(r.Latency.Quantile(0.50)),
		P90Ms: ms(r.Latency.Quantile(0.90)), P99Ms: ms(r.Latency.Quantile(0.99)),
		P999Ms: ms(r.Latency.Quantile(0.999)), MaxMs: ms(r.Latency.Max()),
	}
}

// Point is one configuration of one scenario over its repetitions: the
// median of each figure, and the spread (smallest and largest) of the two
// the chart shows. Errors and Non2xx are totals over the repetitions.
type Point struct {
	Scenario string  `json:"scenario"`
	Loops    int     `json:"loops"`
	Workers  int     `json:"workers"`
	Queue    int     `json:"queue"`
	Repeats  int     `json:"repeats"`
	RPS      float64 `json:"rps"`
	RPSMin   float64 `json:"rps_min"`
	RPSMax   float64 `json:"rps_max"`
	MBps     float64 `json:"mb_per_s"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	P99MinMs float64 `json:"p99_min_ms"`
	P99MaxMs float64 `json:"p99_max_ms"`
	Errors   int64   `json:"errors"`
	Non2xx   int64   `json:"non_2xx"`
}

// Spread is (max - min) / median of req/s, as a fraction.
func (p Point) Spread() float64 {
	if p.RPS == 0 {
		return 0
	}
	return (p.RPSMax - p.RPSMin) / p.RPS
}

// Summarize groups runs by scenario, loops, workers and queue, in the
// order the scenarios first appear and then by loops, queue and workers.
func Summarize(runs []RunResult) []Point {
	type key struct {
		scenario              string
		loops, workers, queue int
	}
	order := map[string]int{}
	groups := map[key][]RunResult{}
	for _, r := range runs {
		if _, ok := order[r.Scenario]; !ok {
			order[r.Scenario] = len(order)
		}
		k := key{r.Scenario, r.Loops, r.Workers, r.Queue}
		groups[k] = append(groups[k], r)
	}
	points := make([]Point, 0, len(groups))
	for k, g := range groups {
		p := Point{Scenario: k.scenario, Loops: k.loops, Workers: k.workers, Queue: k.queue, Repeats: len(g)}
		pick := func(f func(RunResult) float64) []float64 {
			v := make([]float64, len(g))
			for i, r := range g {
				v[i] = f(r)
			}
			sort.Float64s(v)
			return v
		}
		rps := pick(func(r RunResult) float64 { return r.RPS })
		p99 := pick(func(r RunResult) float64 { return r.P99Ms })
		p.RPS, p.RPSMin, p.RPSMax = median(rps), rps[0], rps[len(rps)-1]
		p.P99Ms, p.P99MinMs, p.P99MaxMs = median(p99), p99[0], p99[len(p99)-1]
		p.P50Ms = median(pick(func(r RunResult) float64 { return r.P50Ms }))
		p.MBps = median(pick(func(r RunResult) float64 { return r.MBps }))
		for _, r := range g {
			p.Errors += r.Errors
			p.Non2xx += r.Non2xx
		}
		points = append(points, p)
	}
	sort.Slice(points, func(i, j int) bool {
		a, b := points[i], points[j]
		if a.Scenario != b.Scenario {
			return order[a.Scenario] < order[b.Scenario]
		}
		if a.Loops != b.Loops {
			return a.Loops < b.Loops
		}
		if a.Queue != b.Queue {
			return a.Queue < b.Queue
		}
		return a.Workers < b.Workers
	})
	return points
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Machine describes where a sweep ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model,omitempty"`
	Kernel     string `json:"kernel,omitempty"`
	GoVersion  string `json:"go_version"`
	Server     string `json:"server"` // the binary's --version
	ServerCPUs string `json:"server_cpus,omitempty"`
	ClientCPUs string `json:"client_cpus,omitempty"`
	// ClientProcs is the generator's GOMAXPROCS.
	ClientProcs int `json:"client_procs,omitempty"`
}

// Settings are the sweep's parameters, as run.
type Settings struct {
	Scenarios   []string `json:"scenarios"`
	Loops       []int    `json:"loops"`
	Workers     []int    `json:"workers"`
	Queues      []int    `json:"queues"`
	Repeats     int      `json:"repeats"`
	Duration    string   `json:"duration"`
	Warmup      string   `json:"warmup"`
	Connections int      `json:"connections"`
	LargeConns  int      `json:"large_conns"`
	Pipeline    int      `json:"pipeline"`
	ServerArgs  []string `json:"server_args,omitempty"`
	Command     string   `json:"command,omitempty"`
	// ColdFileSize is the size of each cold-large file, if it ran.
	ColdFileSize int64 `json:"cold_file_size,omitempty"`
	// ColdSetSize is the size of the file of cold-files, if it ran.
	ColdSetSize int64 `json:"cold_set_size,omitempty"`
	// AcceptEncoding is the header of the compressed scenario, if it ran.
	AcceptEncoding string `json:"accept_encoding,omitempty"`
	// DiskReadMBps is the server's disk read limit (0: none); Throttle
	// says how it was applied.
	DiskReadMBps int    `json:"disk_read_mbps,omitempty"`
	Throttle     string `json:"throttle,omitempty"`
}

// Report is everything a sweep produced; results.json holds it whole.
type Report struct {
	Started        time.Time   `json:"started"`
	Seconds        float64     `json:"seconds"` // wall time of the whole sweep
	Machine        Machine     `json:"machine"`
	Settings       Settings    `json:"settings"`
	Points         []Point     `json:"points"`
	Runs           []RunResult `json:"runs"`
	Best           []Best      `json:"best"`
	Recommendation string      `json:"recommendation"`
}

// Output file names, in the sweep's output directory.
const (
	PointsCSV  = "results.csv"
	RunsCSV    = "runs.csv"
	ReportJSON = "results.json"
	ChartSVG   = "chart.svg"
)

// WriteJSON writes the report, indented.
func WriteJSON(path string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadJSON reads a report written by WriteJSON. A report from before the
// sweep recorded loops has none; they read as 1, what the server ran before
// it had --loops.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.Settings.Loops) == 0 {
		r.Settings.Loops = []int{1}
	}
	for i := range r.Runs {
		r.Runs[i].Loops = cmp.Or(r.Runs[i].Loops, 1)
	}
	for i := range r.Points {
		r.Points[i].Loops = cmp.Or(r.Points[i].Loops, 1)
	}
	for i := range r.Best {
		r.Best[i].Loops = cmp.Or(r.Best[i].Loops, 1)
	}
	return &r, nil
}

// The CSV files have one column per field of Point or RunResult, named as
// in the JSON, in field order, so the two formats cannot drift apart.

// WritePointsCSV writes the summary, one row per configuration.
func WritePointsCSV(w io.Writer, points []Point) error { return writeCSV(w, points) }

// ReadPointsCSV reads what WritePointsCSV wrote.
func ReadPointsCSV(r io.Reader) ([]Point, error) { return readCSV[Point](r) }

// WriteRunsCSV writes every repetition, one row each.
func WriteRunsCSV(w io.Writer, runs []RunResult) error { return writeCSV(w, runs) }

// ReadRunsCSV reads what WriteRunsCSV wrote.
func ReadRunsCSV(r io.Reader) ([]RunResult, error) { return readCSV[RunResult](r) }

func csvHeader(t reflect.Type) []string {
	h := make([]string, t.NumField())
	for i := range h {
		h[i] = jsonName(t.Field(i))
	}
	return h
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			return tag[:i]
		}
	}
	if tag == "" {
		return f.Name
	}
	return tag
}

func writeCSV[T any](w io.Writer, rows []T) error {
	t := reflect.TypeFor[T]()
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader(t)); err != nil {
		return err
	}
	rec := make([]string, t.NumField())
	for _, row := range rows {
		v := reflect.ValueOf(row)
		for i := range rec {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.String:
				rec[i] = f.String()
			case reflect.Int, reflect.Int64:
				rec[i] = strconv.FormatInt(f.Int(), 10)
			case reflect.Float64:
				// Shortest form that reads back as the same float64.
				rec[i] = strconv.FormatFloat(f.Float(), 'g', -1, 64)
			default:
				return fmt.Errorf("csv: unsupported field %s", t.Field(i).Name)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func readCSV[T any](r io.Reader) ([]T, error) {
	t := reflect.TypeFor[T]()
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("csv: empty")
	}
	want := csvHeader(t)
	if !reflect.DeepEqual(recs[0], want) {
		return nil, fmt.Errorf("csv: header %v, want %v", recs[0], want)
	}
	rows := make([]T, 0, len(recs)-1)
	for line, rec := range recs[1:] {
		var row T
		v := reflect.ValueOf(&row).Elem()
		for i, s := range rec {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(s)
			case reflect.Int, reflect.Int64:
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("csv line %d, %s: %w", line+2, want[i], err)
				}
				f.SetInt(n)
			case reflect.Float64:
				x, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("csv line %d, %s: %w", line+2, want[i], err)
				}
				f.SetFloat(x)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
