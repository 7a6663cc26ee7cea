package loadtest

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CompareConfig is a validation of the generator against wrk: the same
// scenario (GET /ping), the same connections and duration, against one
// server, the two tools alternating round by round so that drift of the
// machine hits both equally.
type CompareConfig struct {
	Wrk           string // path of wrk
	Threads       int    // wrk -t
	Connections   int
	Duration      time.Duration
	Rounds        int
	Path          string // default /ping
	LoadtestFirst bool   // round 1 starts with the generator instead of wrk
	Server        ServerConfig
	Log           io.Writer // one line per measurement, or nil
}

// CompareRound is one measurement by one tool.
type CompareRound struct {
	Round int     `json:"round"`
	Tool  string  `json:"tool"` // "wrk" or "loadtest"
	RPS   float64 `json:"rps"`
	P99Ms float64 `json:"p99_ms"`
}

// CompareWrk runs the comparison and returns every measurement.
func CompareWrk(ctx context.Context, cfg CompareConfig) ([]CompareRound, error) {
	if cfg.Path == "" {
		cfg.Path = "/ping"
	}
	srv, err := StartServer(cfg.Server)
	if err != nil {
		return nil, err
	}
	defer srv.Stop(10 * time.Second)
	sc := &Scenario{Name: "ping", Items: []Item{{Name: "ping", Weight: 1, Requests: [][]byte{
		[]byte("GET " + cfg.Path + " HTTP/1.1\r\nHost: " + srv.Addr + "\r\n\r\n")}}}}

	var out []CompareRound
	runWrk := func(round int) error {
		args := []string{"-t", strconv.Itoa(cfg.Threads), "-c", strconv.Itoa(cfg.Connections),
			"-d", fmt.Sprintf("%ds", int(cfg.Duration.Seconds())), "--latency", "http://" + srv.Addr + cfg.Path}
		b, err := exec.CommandContext(ctx, cfg.Wrk, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("wrk: %w: %s", err, b)
		}
		rps, p99, err := parseWrk(string(b))
		if err != nil {
			return err
		}
		out = append(out, CompareRound{Round: round, Tool: "wrk", RPS: rps, P99Ms: p99})
		return nil
	}
	runOwn := func(round int) error {
		res, err := Run(ctx, Options{Addr: srv.Addr, Scenario: sc, Connections: cfg.Connections, Duration: cfg.Duration})
		if err != nil {
			return err
		}
		if n := res.Errors.Total(); n > 0 {
			return fmt.Errorf("loadtest: %d errors", n)
		}
		out = append(out, CompareRound{Round: round, Tool: "loadtest", RPS: res.RPS(), P99Ms: float64(res.Latency.Quantile(0.99)) / 1e6})
		return nil
	}
	for round := 1; round <= cfg.Rounds; round++ {
		order := []func(int) error{runWrk, runOwn}
		if (round%2 == 0) != cfg.LoadtestFirst {
			order[0], order[1] = order[1], order[0]
		}
		for _, f := range order {
			if err := f(round); err != nil {
				return out, err
			}
			if cfg.Log != nil {
				r := out[len(out)-1]
				fmt.Fprintf(cfg.Log, "round %d %-8s %s req/s, p99 %s ms\n", r.Round, r.Tool, fmtRate(r.RPS), fmtMs(r.P99Ms))
			}
		}
	}
	return out, nil
}

// CompareSummary is the median req/s of each tool and their ratio.
func CompareSummary(rounds []CompareRound) (wrk, own, ratio float64) {
	var a, b []float64
	for _, r := range rounds {
		if r.Tool == "wrk" {
			a = append(a, r.RPS)
		} else {
			b = append(b, r.RPS)
		}
	}
	sort.Float64s(a)
	sort.Float64s(b)
	wrk, own = median(a), median(b)
	if wrk > 0 {
		ratio = own / wrk
	}
	return wrk, own, ratio
}

var (
	wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99 = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s)\s*$`)
)

// parseWrk reads req/s and the 99th percentile (ms) from wrk --latency.
func parseWrk(s string) (rps, p99 float64, err error) {
	m := wrkRPS.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("wrk: no Requests/sec in %q", s)
	}
	rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkP99.FindStringSubmatch(s); m != nil {
		p99, _ = strconv.ParseFloat(m[1], 64)
		switch m[2] {
		case "us":
			p99 /= 1000
		case "s":
			p99 *= 1000
		}
	}
	if strings.Contains(s, "Non-2xx") || strings.Contains(s, "Socket errors") {
		return rps, p99, fmt.Errorf("wrk reported errors: %s", s)
	}
	return rps, p99, nil
}
