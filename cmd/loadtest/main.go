// Command loadtest drives http_server with load and compares pool sizes.
//
//	loadtest sweep [flags]        start the server per configuration (loops, pool, queue), run scenarios, write results
//	loadtest run --addr H:P       one run against a server that is already running
//	loadtest compare-wrk [flags]  validate the generator against wrk on GET /ping
//	loadtest fixtures DIR         write the fixture files (for a server started by hand)
//	loadtest report DIR           print a finished sweep's table again and redraw its chart
//
// The cold scenarios (cold-files, cold-large) keep their files out of the
// page cache, and --disk-read-mbps throttles the server's disk reads (root,
// cgroup blkio or io.max): together they show what a pool is worth when the
// data is not in memory:
//
//	loadtest sweep --scenarios cold-files,cold-large --disk-read-mbps 150 --workers 0,4,16 \
//	    --server-cpus 0 --client-cpus 1 --fixtures /var/tmp/loadtest-fixtures
//
// See the README's "Load tests" section.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"http_server/internal/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

const usage = `loadtest: load tests of http_server that compare pool sizes

usage:
  loadtest sweep [flags]        start ./http_server for each number of event loops (--loops,
                                default 1), pool size and queue size, run the scenarios,
                                print a table, write CSV, JSON and an SVG chart
  loadtest run --addr H:P [flags]
                                one run against a server that is already running
  loadtest compare-wrk [flags]  the generator and wrk alternately on GET /ping, same
                                connections and duration: how far apart they are
  loadtest fixtures DIR         write the fixture files into DIR (--root for a server
                                started by hand)
  loadtest report DIR           print the table and recommendation of a sweep's
                                results.json again, and redraw DIR/chart.svg

'loadtest COMMAND --help' lists the flags of each.

cold data: every default scenario reads files that stay in the page cache, where
handlers inline (--workers 0) do as well as a pool. cold-files and cold-large keep
their data out of it (the generator evicts their files before each run; cold-files
reads random 8 KiB ranges of one file far larger than a run reads, cold-large evicts
each file again after each download), and
--disk-read-mbps N makes the disk slow: the server runs in a cgroup that limits its
reads to N MB/s (root, and cgroup v1 blkio or v2 io.max). Not in the default lists
(--quick, make loadtest); run them as
  loadtest sweep --scenarios cold-files,cold-large --disk-read-mbps 150 --workers 0,4,16 \
      --server-cpus 0 --client-cpus 1 --fixtures /var/tmp/loadtest-fixtures
--fixtures keeps the file of cold-files (--cold-set-size, 2 GiB) and the cold-large
files (--large-conns of --cold-file-size each) for the next sweep; it must be on a
disk, not tmpfs.

scenarios:
`

func run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage+loadtest.ScenarioHelp())
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "sweep":
		err = sweep(ctx, args[1:])
	case "run":
		err = runOne(ctx, args[1:])
	case "compare-wrk":
		err = compareWrk(ctx, args[1:])
	case "fixtures":
		err = fixtures(args[1:])
	case "report":
		err = report(args[1:])
	default:
		fmt.Fprintf(os.Stderr, "loadtest: unknown command %q\n\n%s%s", args[0], usage, loadtest.ScenarioHelp())
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 2
	default:
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 1
	}
}

type usageError struct{ error }

func newFlags(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: loadtest %s\n\nflags:\n%s", synopsis, fs.FlagUsages())
		if name == "sweep" || name == "run" {
			fmt.Fprintf(os.Stderr, "\nscenarios:\n%s", loadtest.ScenarioHelp())
		}
	}
	return fs
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 && fs.Name() != "fixtures" && fs.Name() != "report" {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func defaultServerBin() string {
	if b := os.Getenv("HTTP_SERVER_BIN"); b != "" {
		return b
	}
	return "./http_server"
}

// pinClient pins this process to cpus, and returns the CPU list it had
// before (for a server that must not inherit the pinning).
func pinClient(cpus string) (before string, err error) {
	if cpus == "" {
		return "", nil
	}
	list, err := loadtest.ParseCPUList(cpus)
	if err != nil {
		return "", usageError{fmt.Errorf("--client-cpus: %w", err)}
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		var all []string
		for c := 0; c < 1024; c++ {
			if set.IsSet(c) {
				all = append(all, strconv.Itoa(c))
			}
		}
		before = strings.Join(all, ",")
	}
	return before, loadtest.PinProcess(list)
}

// setProcs sets how many threads run the generator's goroutines: procs if
// given, else the number of --client-cpus, else half the CPUs. The server
// shares the machine: a Go client with as many Ps as CPUs keeps waking
// spare threads that preempt the server's reactor, and on 2 CPUs measured
// 15-20% fewer req/s than with one P (see the README's "Load tests").
func setProcs(clientCPUs string, procs int) int {
	switch {
	case procs > 0:
		runtime.GOMAXPROCS(procs)
	case clientCPUs == "":
		runtime.GOMAXPROCS(max(1, runtime.NumCPU()/2))
	}
	return runtime.GOMAXPROCS(0)
}

func checkCPUs(flag, s string) error {
	if s == "" {
		return nil
	}
	if _, err := loadtest.ParseCPUList(s); err != nil {
		return usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return nil
}

func sweep(ctx context.Context, args []string) error {
	fs := newFlags("sweep", "sweep [flags]")
	server := fs.String("server", defaultServerBin(), "http_server binary to start (default: $HTTP_SERVER_BIN, else ./http_server)")
	quick := fs.Bool("quick", false, "the quick sweep of 'make loadtest': scenarios ping,small-file,many-files,mixed; --duration 1s --warmup 500ms (flags given explicitly still win)")
	scen := fs.String("scenarios", "ping,echo,write-read,small-file,many-files,file-1m,large-file,mixed,compressed", "comma-separated scenarios, or 'all'")
	loops := fs.IntSlice("loops", []int{1}, "event loops (--loops of the server), each with its own connections, all sharing the pool; every server gets it explicitly, whatever its own default (one per CPU)")
	workers := fs.IntSlice("workers", []int{0, 1, 2, 4, 8, 16, 64}, "pool sizes (--workers of the server); 0 runs handlers inline, the baseline")
	queues := fs.IntSlice("queues", []int{1024}, "queue sizes (--queue of the server)")
	repeats := fs.Int("repeats", 3, "measurements of each point; the table shows the median and the spread")
	duration := fs.Duration("duration", 5*time.Second, "measured time of each run")
	warmup := fs.Duration("warmup", time.Second, "load before each measurement, excluded from the figures")
	conns := fs.IntP("connections", "c", 50, "concurrent keep-alive connections (closed loop)")
	largeConns := fs.Int("large-conns", loadtest.DefaultDownloads, "concurrent downloads in large-file (of one 1 GiB file) and cold-large (one file each)")
	coldSize := fs.String("cold-file-size", "64M", "size of each cold-large file (bytes, or with k, M, G); written once per size")
	setSize := fs.String("cold-set-size", "2G", "size of the one file cold-files reads 8 KiB ranges of (bytes, or with k, M, G); written once per size")
	diskMBps := fs.Int("disk-read-mbps", 0, "limit the server's reads from the disk under the fixtures to N MB/s (10^6 bytes); root and a cgroup io controller (blkio or io.max); 0: no limit")
	acceptEnc := fs.String("accept-encoding", loadtest.DefaultAcceptEncoding, "Accept-Encoding of the compressed scenario: gzip, zstd or both (q-values allowed)")
	pipeline := fs.Int("pipeline", 1, "requests in flight per connection (1: no pipelining)")
	serverCPUs := fs.String("server-cpus", "", "pin the server to these CPUs (taskset -c list, e.g. 0)")
	clientCPUs := fs.String("client-cpus", "", "pin the load generator to these CPUs (e.g. 1)")
	procs := fs.Int("client-procs", 0, "GOMAXPROCS of the generator (default: the number of --client-cpus, else half the CPUs)")
	out := fs.String("out", "", "output directory (default loadtest-results/YYYYMMDD-HHMMSS)")
	fixturesDir := fs.String("fixtures", "", "fixtures directory, kept (default: a temporary one, removed); the cold scenarios need it on a disk, not tmpfs")
	serverArgs := fs.StringArray("server-arg", nil, "extra server flag, repeatable (--server-arg=--max-requests=0)")
	store := fs.String("store", "", "the server's --store (redis://host:port/db): write-read then waits for Redis, a network-bound route")
	progress := fs.String("progress", "auto", "bar (live progress bar), lines (one line per run), none; auto: bar on a terminal, else lines")
	markdown := fs.Bool("markdown", false, "also print the table as Markdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *quick {
		if !fs.Changed("scenarios") {
			*scen = "ping,small-file,many-files,mixed"
		}
		if !fs.Changed("duration") {
			*duration = time.Second
		}
		if !fs.Changed("warmup") {
			*warmup = 500 * time.Millisecond
		}
	}
	if *scen == "all" {
		*scen = strings.Join(loadtest.ScenarioNames(), ",")
	}
	for _, f := range [][2]string{{"--server-cpus", *serverCPUs}, {"--client-cpus", *clientCPUs}} {
		if err := checkCPUs(f[0], f[1]); err != nil {
			return err
		}
	}
	if err := checkLoops(*loops); err != nil {
		return err
	}
	coldBytes, setBytes, err := checkColdFlags(*coldSize, *setSize, *diskMBps)
	if err != nil {
		return err
	}
	if err := checkAcceptEncoding(*acceptEnc); err != nil {
		return err
	}
	cfg := loadtest.SweepConfig{
		ServerBin: *server, Scenarios: splitList(*scen), Loops: *loops, Workers: *workers, Queues: *queues,
		Repeats: *repeats, Duration: *duration, Warmup: *warmup,
		Connections: *conns, LargeConns: *largeConns, Pipeline: *pipeline,
		ServerCPUs: *serverCPUs, ClientCPUs: *clientCPUs,
		FixturesDir: *fixturesDir, ServerArgs: withStore(*serverArgs, *store),
		ColdFileSize: coldBytes, ColdSetSize: setBytes, DiskReadMBps: *diskMBps,
		AcceptEncoding: *acceptEnc,
		Command:        "loadtest sweep " + strings.Join(args, " "),
	}
	switch *progress {
	case "auto":
		if isTerminal(os.Stderr) {
			cfg.Progress = os.Stderr
		} else {
			cfg.Log = os.Stderr
		}
	case "bar":
		cfg.Progress = os.Stderr
	case "lines":
		cfg.Log = os.Stderr
	case "none":
	default:
		return usageError{fmt.Errorf("--progress: %q is not auto, bar, lines or none", *progress)}
	}
	if *out == "" {
		*out = filepath.Join("loadtest-results", time.Now().Format("20060102-150405"))
	}
	if _, err := os.Stat(cfg.ServerBin); err != nil {
		return fmt.Errorf("server binary: %w (build it with 'make all', or pass --server)", err)
	}
	if cfg.DiskReadMBps > 0 {
		if err := loadtest.CheckThrottle(); err != nil {
			return err
		}
	}
	before, err := pinClient(*clientCPUs)
	if err != nil {
		return err
	}
	if cfg.ServerCPUs == "" && before != "" {
		// The server would inherit the generator's pinning: give it back
		// every CPU the process had.
		cfg.ServerCPUs = before
	}
	cfg.ClientProcs = setProcs(*clientCPUs, *procs)

	loopCounts := ""
	if len(cfg.Loops) > 1 {
		loopCounts = fmt.Sprintf(" x %d loop counts", len(cfg.Loops))
	}
	fmt.Fprintf(os.Stderr, "loadtest: %d runs (%d scenarios%s x %d pool sizes x %d queue sizes x %d repeats), about %v\n",
		cfg.Runs(), len(cfg.Scenarios), loopCounts, len(cfg.Workers), len(cfg.Queues), cfg.Repeats, cfg.Estimate().Round(time.Second))
	report, err := loadtest.Sweep(ctx, cfg)
	if report == nil {
		return err
	}
	if cfg.ServerCPUs != *serverCPUs { // record what was asked, not the restored mask
		report.Machine.ServerCPUs = *serverCPUs
		report.Recommendation = loadtest.Recommend(report.Best, report.Machine, report.Settings.Loops)
	}
	if werr := loadtest.WriteOutputs(*out, report); werr != nil {
		return errors.Join(err, werr)
	}
	fmt.Println()
	_ = loadtest.WriteTable(os.Stdout, report.Points, report.Best)
	if *markdown {
		fmt.Println()
		_ = loadtest.WriteMarkdownTable(os.Stdout, report.Points, report.Best)
	}
	fmt.Println()
	best := "best pool size per scenario (* in the table)"
	if len(cfg.Loops) > 1 {
		best = "best loops and pool size per scenario (* in the table)"
	}
	fmt.Println(best + ": highest median req/s (MB/s for downloads); within 3% of it, lowest p99")
	fmt.Println(report.Recommendation)
	fmt.Printf("\nresults: %s/{%s,%s,%s,%s} (%.0f s)\n", *out,
		loadtest.PointsCSV, loadtest.RunsCSV, loadtest.ReportJSON, loadtest.ChartSVG, report.Seconds)
	if err != nil {
		return fmt.Errorf("sweep stopped early (partial results written): %w", err)
	}
	return nil
}

func runOne(ctx context.Context, args []string) error {
	fs := newFlags("run", "run --addr HOST:PORT [flags]")
	addr := fs.String("addr", "", "server address, host:port (required)")
	scen := fs.String("scenario", "ping", "scenario (file scenarios need the server's --root to hold 'loadtest fixtures DIR')")
	conns := fs.IntP("connections", "c", 50, "concurrent keep-alive connections (cold-large: one file each, so a few)")
	pipeline := fs.Int("pipeline", 1, "requests in flight per connection")
	duration := fs.DurationP("duration", "d", 10*time.Second, "measured time")
	requests := fs.Int64P("requests", "n", 0, "stop after this many measured responses instead of after --duration")
	warmup := fs.Duration("warmup", time.Second, "load before measuring, excluded")
	timeout := fs.Duration("timeout", 5*time.Second, "connect timeout; requests unanswered this long at the end count as timeouts")
	clientCPUs := fs.String("client-cpus", "", "pin the load generator to these CPUs")
	procs := fs.Int("client-procs", 0, "GOMAXPROCS of the generator (default: the number of --client-cpus, else half the CPUs)")
	root := fs.String("fixtures", "", "the server's --root on this machine; the cold scenarios need it: the generator writes their files there if missing and evicts them")
	coldSize := fs.String("cold-file-size", "64M", "size of each cold-large file (bytes, or with k, M, G)")
	setSize := fs.String("cold-set-size", "2G", "size of the one file cold-files reads 8 KiB ranges of (bytes, or with k, M, G)")
	diskMBps := fs.Int("disk-read-mbps", 0, "limit the server's reads from the disk under --fixtures to N MB/s for the run (moves --server-pid into a cgroup, and back after); root and a cgroup io controller")
	serverPid := fs.Int("server-pid", 0, "the server's process id, for --disk-read-mbps")
	acceptEnc := fs.String("accept-encoding", loadtest.DefaultAcceptEncoding, "Accept-Encoding of the compressed scenario: gzip, zstd or both (q-values allowed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *addr == "" {
		return usageError{errors.New("--addr is required")}
	}
	coldBytes, setBytes, err := checkColdFlags(*coldSize, *setSize, *diskMBps)
	if err != nil {
		return err
	}
	sc, err := loadtest.NewScenarioWith(*scen, *addr, loadtest.Params{Downloads: *conns, ColdFileSize: coldBytes, ColdSetSize: setBytes,
		AcceptEncoding: *acceptEnc})
	if err != nil {
		return usageError{err}
	}
	switch {
	case len(sc.Cold) > 0 && *root == "":
		return usageError{fmt.Errorf("scenario %s evicts its files from the page cache: --fixtures DIR (the server's --root) is needed", sc.Name)}
	case *diskMBps > 0 && (*serverPid <= 0 || *root == ""):
		return usageError{errors.New("--disk-read-mbps needs --server-pid (the process to throttle) and --fixtures (the disk to throttle is the one under it)")}
	}
	if *diskMBps > 0 {
		th, err := loadtest.NewThrottle(*root, *diskMBps)
		if err != nil {
			return err
		}
		defer func() {
			if err := th.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "loadtest:", err)
			}
		}()
		if err := th.Add(*serverPid); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "loadtest: process %d: %s\n", *serverPid, th)
	}
	if len(sc.Cold) > 0 {
		if _, err := loadtest.MakeColdFixtures(*root, sc); err != nil {
			return fmt.Errorf("fixtures: %w", err)
		}
	}
	if _, err := pinClient(*clientCPUs); err != nil {
		return err
	}
	setProcs(*clientCPUs, *procs)
	res, err := loadtest.Run(ctx, loadtest.Options{
		Addr: *addr, Scenario: sc, Connections: *conns, Pipeline: *pipeline,
		Duration: *duration, Requests: *requests, Warmup: *warmup, Timeout: *timeout,
		Root: *root,
	})
	if res == nil {
		return err
	}
	l := res.Latency
	fmt.Printf("scenario %s against %s: %d connections, pipeline %d, %v measured after %v warm-up, GOMAXPROCS %d\n",
		sc.Name, *addr, res.Connections, res.Pipeline, res.Elapsed.Round(time.Millisecond), *warmup, runtime.GOMAXPROCS(0))
	fmt.Printf("  requests  %d (%.0f req/s), non-2xx %d, errors %d %+v, reconnects %d\n",
		res.Requests, res.RPS(), res.Non2xx, res.Errors.Total(), res.Errors, res.Reconnects)
	fmt.Printf("  received  %.1f MB/s\n", res.BytesPerSec()/1e6)
	if sc.Compress != nil {
		rate, ratio := 0.0, 0.0
		if res.Elapsed > 0 && res.Bytes > 0 {
			rate, ratio = float64(res.FileBytes)/res.Elapsed.Seconds()/1e6, float64(res.FileBytes)/float64(res.Bytes)
		}
		fmt.Printf("  files     %.1f MB/s decoded: %.2fx the bytes on the wire (heads included)\n", rate, ratio)
	}
	if res.CheckError != "" {
		fmt.Printf("  check     %d responses failed; the first: %s\n", res.Errors.Check, res.CheckError)
	}
	if res.EvictFailed > 0 {
		fmt.Printf("  evictions failed: %d (those requests may have found their file cached)\n", res.EvictFailed)
	}
	fmt.Printf("  latency   mean %v  p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n",
		l.Mean(), l.Quantile(0.5), l.Quantile(0.9), l.Quantile(0.99), l.Quantile(0.999), l.Max())
	if len(res.PerItem) > 1 {
		fmt.Print("  by request")
		for _, it := range sc.Items {
			fmt.Printf("  %s %d", it.Name, res.PerItem[it.Name])
		}
		fmt.Println()
	}
	return err
}

func compareWrk(ctx context.Context, args []string) error {
	fs := newFlags("compare-wrk", "compare-wrk [flags]")
	server := fs.String("server", defaultServerBin(), "http_server binary to start")
	wrk := fs.String("wrk", "wrk", "wrk binary")
	conns := fs.IntP("connections", "c", 50, "connections, both tools")
	duration := fs.DurationP("duration", "d", 10*time.Second, "duration of each run, both tools (whole seconds)")
	rounds := fs.Int("rounds", 3, "rounds; each runs both tools, alternating which goes first")
	threads := fs.IntP("threads", "t", 0, "wrk threads (default: the generator's GOMAXPROCS)")
	workers := fs.Int("workers", max(4, 2*runtime.NumCPU()), "server pool size")
	queue := fs.Int("queue", 1024, "server queue size")
	serverCPUs := fs.String("server-cpus", "", "pin the server to these CPUs")
	clientCPUs := fs.String("client-cpus", "", "pin both clients (the generator and wrk) to these CPUs")
	procs := fs.Int("client-procs", 0, "GOMAXPROCS of the generator (default: the number of --client-cpus, else half the CPUs)")
	first := fs.String("first", "wrk", "which tool runs first in odd rounds: wrk or loadtest")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, f := range [][2]string{{"--server-cpus", *serverCPUs}, {"--client-cpus", *clientCPUs}} {
		if err := checkCPUs(f[0], f[1]); err != nil {
			return err
		}
	}
	if _, err := os.Stat(*server); err != nil {
		return fmt.Errorf("server binary: %w", err)
	}
	// wrk is started by this process and inherits its pinning.
	before, err := pinClient(*clientCPUs)
	if err != nil {
		return err
	}
	srvCPUs := *serverCPUs
	if srvCPUs == "" {
		srvCPUs = before
	}
	if *first != "wrk" && *first != "loadtest" {
		return usageError{fmt.Errorf("--first: %q is not wrk or loadtest", *first)}
	}
	if *threads == 0 {
		*threads = setProcs(*clientCPUs, *procs)
	} else {
		setProcs(*clientCPUs, *procs)
	}
	root, err := os.MkdirTemp("", "loadtest-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	fmt.Fprintf(os.Stderr, "GET /ping, %d connections, %v each, %d rounds; wrk -t %d, loadtest GOMAXPROCS %d; server --workers %d\n",
		*conns, *duration, *rounds, *threads, runtime.GOMAXPROCS(0), *workers)
	rs, err := loadtest.CompareWrk(ctx, loadtest.CompareConfig{
		Wrk: *wrk, Threads: *threads, Connections: *conns, Duration: *duration, Rounds: *rounds, LoadtestFirst: *first == "loadtest",
		Server: loadtest.ServerConfig{Binary: *server, Root: root, Workers: *workers, Queue: *queue, CPUs: srvCPUs},
		Log:    os.Stdout,
	})
	if len(rs) > 0 {
		w, o, ratio := loadtest.CompareSummary(rs)
		fmt.Printf("median: wrk %.0f req/s, loadtest %.0f req/s: loadtest/wrk = %.3f (%+.1f%%)\n", w, o, ratio, 100*(ratio-1))
	}
	return err
}

func fixtures(args []string) error {
	fs := newFlags("fixtures", "fixtures DIR [--large]")
	large := fs.Bool("large", false, "also the 1 GiB sparse file of the large-file scenario")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("fixtures needs one directory")}
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	set := loadtest.FixtureSmall | loadtest.FixtureMany | loadtest.FixtureMedium | loadtest.FixtureCompressed
	if *large {
		set |= loadtest.FixtureLarge
	}
	return loadtest.MakeFixtures(dir, set)
}

func report(args []string) error {
	fs := newFlags("report", "report DIR [--markdown] [--chart FILE]")
	markdown := fs.Bool("markdown", false, "also print the table as Markdown")
	chart := fs.String("chart", "", "where to write the chart (default DIR/chart.svg)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("report needs the directory of a sweep")}
	}
	dir := fs.Arg(0)
	rep, err := loadtest.ReadJSON(filepath.Join(dir, loadtest.ReportJSON))
	if err != nil {
		return err
	}
	if *chart == "" {
		*chart = filepath.Join(dir, loadtest.ChartSVG)
	}
	if err := loadtest.WriteChartFile(*chart, rep); err != nil {
		return err
	}
	if rep.Settings.Command != "" {
		fmt.Printf("%s  (%s, %.0f s)\n\n", rep.Settings.Command, rep.Started.Format("2006-01-02 15:04"), rep.Seconds)
	}
	_ = loadtest.WriteTable(os.Stdout, rep.Points, rep.Best)
	if *markdown {
		fmt.Println()
		_ = loadtest.WriteMarkdownTable(os.Stdout, rep.Points, rep.Best)
	}
	fmt.Println()
	fmt.Println(rep.Recommendation)
	fmt.Printf("chart: %s\n", *chart)
	return nil
}

// checkLoops validates --loops: a server has at least one event loop.
func checkLoops(loops []int) error {
	if len(loops) == 0 {
		return usageError{errors.New("--loops: need at least one value")}
	}
	for _, n := range loops {
		if n < 1 {
			return usageError{fmt.Errorf("--loops: %d is less than 1", n)}
		}
	}
	return nil
}

// minColdFileSize: a cold-large file below this is hardly a download.
const minColdFileSize = 64 << 10

// checkCold validates --cold-file-size and --disk-read-mbps, and returns
// the size in bytes.
// checkColdFlags validates the cold scenarios' sizes and the read limit.
func checkColdFlags(fileSize, setSize string, mbps int) (file, set int64, err error) {
	if file, err = checkCold(fileSize, mbps); err != nil {
		return 0, 0, err
	}
	set, err = checkColdSet(setSize)
	return file, set, err
}

func checkCold(size string, mbps int) (int64, error) {
	n, err := loadtest.ParseSize(size)
	if err != nil {
		return 0, usageError{fmt.Errorf("--cold-file-size: %w", err)}
	}
	if n < minColdFileSize {
		return 0, usageError{fmt.Errorf("--cold-file-size: %s is less than 64 KiB", size)}
	}
	if mbps < 0 {
		return 0, usageError{fmt.Errorf("--disk-read-mbps: %d is negative (0: no limit)", mbps)}
	}
	return n, nil
}

// minColdSetSize: a cold-files set below this is read whole by a short run.
const minColdSetSize = 1 << 20

// checkColdSet validates --cold-set-size and returns it in bytes.
func checkColdSet(size string) (int64, error) {
	n, err := loadtest.ParseSize(size)
	if err != nil {
		return 0, usageError{fmt.Errorf("--cold-set-size: %w", err)}
	}
	if n < minColdSetSize {
		return 0, usageError{fmt.Errorf("--cold-set-size: %s is less than 1 MiB", size)}
	}
	return n, nil
}

// checkAcceptEncoding validates --accept-encoding.
func checkAcceptEncoding(v string) error {
	if _, err := loadtest.NewScenarioWith("compressed", "x", loadtest.Params{AcceptEncoding: v}); err != nil {
		return usageError{fmt.Errorf("--accept-encoding: %w", err)}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// withStore adds --store to the server's flags, recorded with the results
// like any --server-arg.
func withStore(args []string, store string) []string {
	if store == "" {
		return args
	}
	return append(args, "--store="+store)
}
