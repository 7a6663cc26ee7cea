package loadtest

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/unix"
)

// SweepConfig is a sweep: every scenario against a fresh server for every
// number of event loops, pool size and queue size, each point repeated.
type SweepConfig struct {
	ServerBin   string
	Scenarios   []string
	Loops       []int // event loops per server (--loops); empty: 1
	Workers     []int // pool sizes; 0 runs handlers inline on the reactor
	Queues      []int
	Repeats     int
	Duration    time.Duration // measured, per run
	Warmup      time.Duration // per run, excluded
	Connections int
	LargeConns  int // connections (= concurrent downloads) for large-file
	Pipeline    int
	ServerCPUs  string // taskset -c list for the server, or ""
	ClientCPUs  string // recorded in the report; the caller pins the process (PinProcess)
	ClientProcs int    // the generator's GOMAXPROCS, recorded in the report
	FixturesDir string // where fixtures go; "" for a temporary directory removed at the end
	ServerArgs  []string
	Command     string    // the command line, recorded in the report
	Progress    io.Writer // live progress bar, or nil
	Log         io.Writer // one line per run, or nil

	// ColdFileSize is the size of each cold-large file (0: 64 MiB).
	ColdFileSize int64
	// ColdSetSize is the size of the one file of cold-files (0: 2 GiB).
	ColdSetSize int64
	// AcceptEncoding is the compressed scenario's header ("": gzip, zstd).
	AcceptEncoding string
	// DiskReadMBps, above 0, limits the server's reads from the disk under
	// the fixtures to so many MB/s (a cgroup, see Throttle): root only.
	DiskReadMBps int
}

// loops is the list of event loop counts, with the default of one.
func (c *SweepConfig) loops() []int {
	if len(c.Loops) == 0 {
		return []int{1}
	}
	return c.Loops
}

// Runs is the number of measurements the sweep makes.
func (c *SweepConfig) Runs() int {
	return c.servers() * len(c.Scenarios)
}

// servers is the number of servers the sweep starts.
func (c *SweepConfig) servers() int {
	return c.Repeats * len(c.loops()) * len(c.Queues) * len(c.Workers)
}

// Estimate is roughly how long the sweep takes.
func (c *SweepConfig) Estimate() time.Duration {
	return time.Duration(c.Runs())*(c.Duration+c.Warmup+50*time.Millisecond) + time.Duration(c.servers())*150*time.Millisecond
}

func (c *SweepConfig) check() error {
	switch {
	case c.ServerBin == "":
		return errors.New("no server binary")
	case len(c.Scenarios) == 0, len(c.Workers) == 0, len(c.Queues) == 0:
		return errors.New("need at least one scenario, pool size and queue size")
	case c.Repeats < 1:
		return errors.New("repeats must be 1 or more")
	case c.Duration <= 0:
		return errors.New("duration must be positive")
	case c.Connections < 1 || c.LargeConns < 1:
		return errors.New("connections must be 1 or more")
	case c.ColdFileSize < 0:
		return errors.New("cold file size must not be negative")
	case c.ColdSetSize < 0:
		return errors.New("cold set size must not be negative")
	case c.DiskReadMBps < 0:
		return errors.New("disk read limit must not be negative")
	}
	for _, n := range c.loops() {
		if n < 1 {
			return fmt.Errorf("loops %d: must be 1 or more", n)
		}
	}
	for _, n := range c.Workers {
		if n < 0 {
			return fmt.Errorf("pool size %d: must be 0 or more", n)
		}
	}
	for _, n := range c.Queues {
		if n < 1 {
			return fmt.Errorf("queue size %d: must be 1 or more", n)
		}
	}
	for _, s := range c.Scenarios {
		if _, err := c.scenario(s, "x"); err != nil {
			return err
		}
	}
	return nil
}

// scenario builds a scenario with the sweep's sizes: cold-large has a file
// for each of its LargeConns connections.
func (c *SweepConfig) scenario(name, host string) (*Scenario, error) {
	return NewScenarioWith(name, host, Params{Downloads: c.LargeConns, ColdFileSize: c.ColdFileSize, ColdSetSize: c.ColdSetSize,
		AcceptEncoding: c.AcceptEncoding})
}

// Sweep runs the sweep. The repetitions are the outer loop, so a slow drift
// of the machine (another process, thermal limits) spreads over every
// configuration instead of landing on one. On a cancelled context it stops
// the server and returns what it has, with the context's error.
func Sweep(ctx context.Context, cfg SweepConfig) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Pipeline < 1 {
		cfg.Pipeline = 1
	}
	cfg.Loops = cfg.loops()
	started := time.Now()
	rep := &Report{
		Started: started,
		Machine: describeMachine(cfg),
		Settings: Settings{
			Scenarios: cfg.Scenarios, Loops: cfg.Loops, Workers: cfg.Workers, Queues: cfg.Queues, Repeats: cfg.Repeats,
			Duration: cfg.Duration.String(), Warmup: cfg.Warmup.String(),
			Connections: cfg.Connections, LargeConns: cfg.LargeConns, Pipeline: cfg.Pipeline,
			ServerArgs: cfg.ServerArgs, Command: cfg.Command, DiskReadMBps: cfg.DiskReadMBps,
		},
	}
	for _, name := range cfg.Scenarios {
		switch name {
		case "cold-large":
			rep.Settings.ColdFileSize = cmp.Or(cfg.ColdFileSize, DefaultColdFileSize)
		case "cold-files":
			rep.Settings.ColdSetSize = cmp.Or(cfg.ColdSetSize, DefaultColdSetSize)
		case "compressed":
			rep.Settings.AcceptEncoding = cmp.Or(cfg.AcceptEncoding, DefaultAcceptEncoding)
		}
	}
	v, err := ServerVersion(ctx, cfg.ServerBin)
	if err != nil {
		return nil, err
	}
	rep.Machine.Server = v

	dir := cfg.FixturesDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "loadtest-fixtures-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var th *Throttle
	if cfg.DiskReadMBps > 0 {
		// Before the fixtures, which can take a while: a throttle that
		// cannot be had fails at once.
		if th, err = NewThrottle(dir, cfg.DiskReadMBps); err != nil {
			return nil, err
		}
		defer func() {
			if err := th.Close(); err != nil {
				cfg.note("%v", err)
			}
		}()
		rep.Settings.Throttle = th.String()
		cfg.note("%s", th)
	}
	var need Fixture
	for _, name := range cfg.Scenarios {
		s, _ := cfg.scenario(name, "x")
		need |= s.Fixtures
		if len(s.Cold) > 0 {
			t0 := time.Now()
			n, err := MakeColdFixtures(dir, s)
			if err != nil {
				return nil, fmt.Errorf("fixtures: %w", err)
			}
			if n > 0 {
				cfg.note("fixtures: wrote %d MiB for %s under %s in %.1f s", n>>20, name, dir, time.Since(t0).Seconds())
			}
			// Written back and evicted once now, which also fails at once
			// where eviction cannot work (tmpfs), before any server starts.
			if err := NewColdSet(s, dir).EvictAll(); err != nil {
				return nil, err
			}
		}
	}
	if err := MakeFixtures(dir, need); err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}

	var bar *progressbar.ProgressBar
	if cfg.Progress != nil {
		bar = progressbar.NewOptions(cfg.Runs(),
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetWidth(24),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(cfg.Progress) }),
		)
	}

	var runErr error
sweep:
	for r := 1; r <= cfg.Repeats; r++ {
		for _, l := range cfg.Loops {
			for _, q := range cfg.Queues {
				for _, w := range cfg.Workers {
					runs, err := runServer(ctx, cfg, dir, serverSize{loops: l, workers: w, queue: q}, r, th, bar)
					rep.Runs = append(rep.Runs, runs...)
					if err != nil {
						runErr = err
						break sweep
					}
				}
			}
		}
	}
	if bar != nil && runErr == nil {
		_ = bar.Finish()
	} else if bar != nil {
		fmt.Fprintln(cfg.Progress)
	}
	rep.Seconds = time.Since(started).Seconds()
	rep.Points = Summarize(rep.Runs)
	rep.Best = FindBest(rep.Points)
	rep.Recommendation = Recommend(rep.Best, rep.Machine, cfg.Loops)
	return rep, runErr
}

// serverSize is the configuration of one server of the sweep.
type serverSize struct {
	loops, workers, queue int
}

// name is how errors and progress lines call the configuration. Errors
// always name the loops; progress lines only when namesLoops, so those of
// a sweep of one loop read as before.
func (s serverSize) name(sep string, withLoops bool) string {
	n := fmt.Sprintf("pool %d%squeue %d", s.workers, sep, s.queue)
	if withLoops {
		n = fmt.Sprintf("loops %d%s%s", s.loops, sep, n)
	}
	return n
}

// runServer starts one server and runs every scenario against it.
func runServer(ctx context.Context, cfg SweepConfig, root string, size serverSize, repeat int, th *Throttle, bar *progressbar.ProgressBar) ([]RunResult, error) {
	showLoops := namesLoops(cfg.Loops)
	srv, err := StartServer(ServerConfig{
		Binary: cfg.ServerBin, Root: root, Loops: size.loops, Workers: size.workers, Queue: size.queue,
		CPUs: cfg.ServerCPUs, Args: cfg.ServerArgs, Throttle: th,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", size.name(", ", true), err)
	}
	var out []RunResult
	for _, name := range cfg.Scenarios {
		sc, _ := cfg.scenario(name, srv.Addr)
		conns := cfg.Connections
		if sc.Downloads {
			conns = cfg.LargeConns
		}
		label := fmt.Sprintf("run %d/%d %s %s", repeat, cfg.Repeats, size.name(" ", showLoops), name)
		if bar != nil {
			bar.Describe(label)
		}
		res, err := Run(ctx, Options{
			Addr: srv.Addr, Scenario: sc, Connections: conns, Pipeline: cfg.Pipeline,
			Duration: cfg.Duration, Warmup: cfg.Warmup, Root: root,
			Progress: func(p Progress) {
				if bar != nil {
					bar.Describe(fmt.Sprintf("%s: %s req/s", label, fmtRate(float64(p.Requests)/p.Elapsed.Seconds())))
				}
			},
		})
		if err != nil {
			_ = srv.Stop(5 * time.Second)
			return out, err
		}
		rr := NewRunResult(res, size.loops, size.workers, size.queue, repeat)
		out = append(out, rr)
		if bar != nil {
			_ = bar.Add(1)
		}
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "%s: %s req/s, p99 %s ms, %.1f MB/s, %d errors, %d non-2xx\n",
				label, fmtRate(rr.RPS), fmtMs(rr.P99Ms), rr.MBps, rr.Errors, rr.Non2xx)
			if res.EvictFailed > 0 {
				fmt.Fprintf(cfg.Log, "%s: %d evictions failed: some requests may have found their file cached\n", label, res.EvictFailed)
			}
		}
		if res.CheckError != "" {
			cfg.note("%s: %d responses failed the check; the first: %s", label, res.Errors.Check, res.CheckError)
		}
	}
	// A server that does not drain and exit 0 is a finding, not noise.
	if err := srv.Stop(30 * time.Second); err != nil {
		return out, fmt.Errorf("%s: %w", size.name(", ", true), err)
	}
	return out, nil
}

// note prints a line about the sweep's setup where its progress goes.
func (c *SweepConfig) note(format string, args ...any) {
	w := c.Log
	if w == nil {
		w = c.Progress
	}
	if w != nil {
		fmt.Fprintf(w, "loadtest: "+format+"\n", args...)
	}
}

func describeMachine(cfg SweepConfig) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), ServerCPUs: cfg.ServerCPUs, ClientCPUs: cfg.ClientCPUs, ClientProcs: cfg.ClientProcs}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return m
}

// WriteOutputs writes results.csv, runs.csv, results.json and chart.svg
// into dir, creating it.
func WriteOutputs(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, f func(io.Writer) error) error {
		file, err := os.Create(dir + "/" + name)
		if err != nil {
			return err
		}
		if err := f(file); err != nil {
			file.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		return file.Close()
	}
	if err := write(PointsCSV, func(w io.Writer) error { return WritePointsCSV(w, r.Points) }); err != nil {
		return err
	}
	if err := write(RunsCSV, func(w io.Writer) error { return WriteRunsCSV(w, r.Runs) }); err != nil {
		return err
	}
	if err := WriteJSON(dir+"/"+ReportJSON, r); err != nil {
		return err
	}
	if len(r.Points) == 0 {
		return nil
	}
	return WriteChartFile(dir+"/"+ChartSVG, r)
}
