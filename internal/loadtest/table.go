package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Best is the configuration (loops, pool size, queue) a sweep found best
// for one scenario.
type Best struct {
	Scenario    string  `json:"scenario"`
	Loops       int     `json:"loops"`
	Workers     int     `json:"workers"`
	Queue       int     `json:"queue"`
	RPS         float64 `json:"rps"`
	P99Ms       float64 `json:"p99_ms"`
	BaselineRPS float64 `json:"baseline_rps,omitempty"` // pool size 0 (inline), same loops and queue, if measured
	WorstRPS    float64 `json:"worst_rps"`
	// ByMBps: a download scenario, ranked by MB/s rather than req/s (a run
	// completes only a few downloads, so their rate is coarse); then these
	// are the MB/s of the same configurations as the req/s above.
	ByMBps       bool    `json:"by_mb_per_s,omitempty"`
	MBps         float64 `json:"mb_per_s,omitempty"`
	BaselineMBps float64 `json:"baseline_mb_per_s,omitempty"`
	WorstMBps    float64 `json:"worst_mb_per_s,omitempty"`
}

// rate, baseline and worst are the figures a Best is ranked by.
func (b Best) rate() float64 {
	if b.ByMBps {
		return b.MBps
	}
	return b.RPS
}

func (b Best) baseline() float64 {
	if b.ByMBps {
		return b.BaselineMBps
	}
	return b.BaselineRPS
}

func (b Best) worst() float64 {
	if b.ByMBps {
		return b.WorstMBps
	}
	return b.WorstRPS
}

// tieBand: configurations whose median req/s is within this fraction of
// the highest are taken as equal in throughput (a sweep's repetitions
// rarely agree better than that), and the one with the lowest median p99
// wins among them; then the smaller pool, then fewer loops: the smaller
// server of two that serve alike.
const tieBand = 0.03

// FindBest picks the best configuration of each scenario: by req/s, or by
// MB/s for the download scenarios (large-file, cold-large).
func FindBest(points []Point) []Best {
	var out []Best
	for _, name := range scenarioOrder(points) {
		byMBps := isDownloads(name)
		rate := func(p Point) float64 {
			if byMBps {
				return p.MBps
			}
			return p.RPS
		}
		var ps []Point
		for _, p := range points {
			if p.Scenario == name {
				ps = append(ps, p)
			}
		}
		top, worst, worstMB := 0.0, math.Inf(1), math.Inf(1)
		for _, p := range ps {
			top = math.Max(top, rate(p))
			worst = math.Min(worst, p.RPS)
			worstMB = math.Min(worstMB, p.MBps)
		}
		var best *Point
		for i := range ps {
			p := &ps[i]
			if rate(*p) < top*(1-tieBand) {
				continue
			}
			if best == nil || cmp.Or(cmp.Compare(p.P99Ms, best.P99Ms), cmp.Compare(p.Workers, best.Workers), cmp.Compare(p.Loops, best.Loops)) < 0 {
				best = p
			}
		}
		b := Best{Scenario: name, Loops: best.Loops, Workers: best.Workers, Queue: best.Queue, RPS: best.RPS, P99Ms: best.P99Ms, WorstRPS: worst}
		if byMBps {
			b.ByMBps, b.MBps, b.WorstMBps = true, best.MBps, worstMB
		}
		for _, p := range ps {
			if p.Workers == 0 && p.Queue == best.Queue && p.Loops == best.Loops {
				b.BaselineRPS = p.RPS
				if byMBps {
					b.BaselineMBps = p.MBps
				}
			}
		}
		out = append(out, b)
	}
	return out
}

func scenarioOrder(points []Point) []string {
	var names []string
	seen := map[string]bool{}
	for _, p := range points {
		if !seen[p.Scenario] {
			seen[p.Scenario] = true
			names = append(names, p.Scenario)
		}
	}
	return names
}

// Recommend is the one-line answer: for the mixed scenario if it was run,
// else for the scenario where the configuration mattered most (the largest
// ratio of best to worst throughput). A cold scenario (cold-files,
// cold-large) that is not the one answered for gets a line of its own:
// cold data is where a pool pays, and a mix of cached files does not show it.
// loops are the sweep's event loop counts: the answer names the loops
// unless they were all 1.
func Recommend(best []Best, m Machine, loops []int) string {
	if len(best) == 0 {
		return "no results"
	}
	pick := best[0]
	found := false
	for _, b := range best {
		if b.Scenario == "mixed" {
			pick, found = b, true
		}
	}
	if !found {
		ratio := func(b Best) float64 {
			if b.worst() <= 0 {
				return math.Inf(1)
			}
			return b.rate() / b.worst()
		}
		for _, b := range best {
			if ratio(b) > ratio(pick) {
				pick = b
			}
		}
	}
	where := fmt.Sprintf("%d CPUs", m.CPUs)
	if m.ServerCPUs != "" {
		where += ", server on CPU " + m.ServerCPUs
	}
	if m.ClientCPUs != "" {
		where += ", load generator on CPU " + m.ClientCPUs
	}
	showLoops := namesLoops(loops)
	s := fmt.Sprintf("On this machine (%s), %s.", where, describeBest(pick, showLoops))
	for _, b := range best {
		if b.Scenario != pick.Scenario && IsCold(b.Scenario) {
			s += fmt.Sprintf("\nOn data not in the page cache, %s.", describeBest(b, showLoops))
		}
	}
	return s
}

// namesLoops says whether results name their event loops: not when every
// server ran one, as before the sweep had loops, so such output is as it was.
func namesLoops(loops []int) bool {
	for _, n := range loops {
		if n != 1 {
			return true
		}
	}
	return false
}

// pointLoops is every loops value of the points.
func pointLoops(points []Point) []int {
	var out []int
	for _, p := range points {
		if !slices.Contains(out, p.Loops) {
			out = append(out, p.Loops)
		}
	}
	slices.Sort(out)
	return out
}

func loopsName(n int) string {
	if n == 1 {
		return "1 loop"
	}
	return strconv.Itoa(n) + " loops"
}

// describeBest says what the best configuration of a scenario gives.
func describeBest(b Best, showLoops bool) string {
	pool := fmt.Sprintf("%d (queue %d)", b.Workers, b.Queue)
	if b.Workers == 0 {
		pool = fmt.Sprintf("0 (handlers inline; queue %d)", b.Queue)
	}
	loops, baseline, others := "", "pool size 0", "no pool size"
	if showLoops {
		loops = loopsName(b.Loops) + ", "
		baseline = loopsName(b.Loops) + ", pool size 0"
		others = "no other pool size or number of loops"
	}
	rate := func(rps, mbps float64) string {
		if b.ByMBps {
			return fmt.Sprintf("%.1f MB/s", mbps)
		}
		return fmtRate(rps) + " req/s"
	}
	gives := rate(b.RPS, b.MBps)
	if b.ByMBps {
		gives += fmt.Sprintf(" (%s downloads/s)", fmtRate(b.RPS))
	}
	s := fmt.Sprintf("for scenario %s, %spool size %s gives %s with p99 %s ms", b.Scenario, loops, pool, gives, fmtMs(b.P99Ms))
	switch {
	case b.Workers != 0 && b.baseline() > 0:
		s += fmt.Sprintf(", %.2fx the inline baseline (%s: %s)", b.rate()/b.baseline(), baseline, rate(b.BaselineRPS, b.BaselineMBps))
	case b.Workers == 0 && b.worst() > 0:
		s += fmt.Sprintf("; %s beats it here (the slowest setting gives %s)", others, rate(b.WorstRPS, b.WorstMBps))
	}
	return s
}

func poolName(workers int) string {
	if workers == 0 {
		return "0 (inline)"
	}
	return strconv.Itoa(workers)
}

// fmtRate prints a rate with thousands separators, or with two decimals
// when it is small (large-file downloads per second).
func fmtRate(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtMs(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// config identifies a point of a scenario: what the table marks as best.
type config struct {
	scenario              string
	loops, workers, queue int
}

func bestConfigs(best []Best) map[config]bool {
	is := map[config]bool{}
	for _, b := range best {
		is[config{b.Scenario, b.Loops, b.Workers, b.Queue}] = true
	}
	return is
}

// WriteTable prints the points as an aligned table; the best configuration
// of each scenario is marked with '*'. A loops column comes first when a
// point ran other than one loop.
func WriteTable(w io.Writer, points []Point, best []Best) error {
	isBest := bestConfigs(best)
	showLoops := namesLoops(pointLoops(points))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	loopsHead := ""
	if showLoops {
		loopsHead = "loops\t"
	}
	fmt.Fprintln(tw, "scenario\t"+loopsHead+"pool\tqueue\treq/s\tspread\tp50 ms\tp99 ms\tp99 range\tMB/s\terrors\tnon-2xx\t")
	prev := ""
	for _, p := range points {
		name := p.Scenario
		if name == prev {
			name = ""
		}
		prev = p.Scenario
		mark := " "
		if isBest[config{p.Scenario, p.Loops, p.Workers, p.Queue}] {
			mark = "*"
		}
		if showLoops {
			name += "\t" + strconv.Itoa(p.Loops)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s%s\t±%.1f%%\t%s\t%s\t%s-%s\t%.1f\t%d\t%d\t\n",
			name, poolName(p.Workers), p.Queue, fmtRate(p.RPS), mark, 50*p.Spread(),
			fmtMs(p.P50Ms), fmtMs(p.P99Ms), fmtMs(p.P99MinMs), fmtMs(p.P99MaxMs), p.MBps, p.Errors, p.Non2xx)
	}
	return tw.Flush()
}

// WriteMarkdownTable prints the points as a Markdown table (for the README),
// with a loops column as WriteTable has one.
func WriteMarkdownTable(w io.Writer, points []Point, best []Best) error {
	isBest := bestConfigs(best)
	showLoops := namesLoops(pointLoops(points))
	loopsHead, loopsAlign := "", ""
	if showLoops {
		loopsHead, loopsAlign = " loops |", " ---: |"
	}
	fmt.Fprintln(w, "| scenario |"+loopsHead+" pool | queue | req/s (median) | spread | p50 ms | p99 ms (min-max) | MB/s | errors | non-2xx |")
	fmt.Fprintln(w, "| --- |"+loopsAlign+" ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, p := range points {
		rate := fmtRate(p.RPS)
		if isBest[config{p.Scenario, p.Loops, p.Workers, p.Queue}] {
			rate = "**" + rate + "**"
		}
		name := p.Scenario
		if showLoops {
			name += " | " + strconv.Itoa(p.Loops)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | ±%.1f%% | %s | %s (%s-%s) | %.1f | %d | %d |\n",
			name, poolName(p.Workers), p.Queue, rate, 50*p.Spread(),
			fmtMs(p.P50Ms), fmtMs(p.P99Ms), fmtMs(p.P99MinMs), fmtMs(p.P99MaxMs), p.MBps, p.Errors, p.Non2xx)
	}
	return nil
}
