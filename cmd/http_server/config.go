package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"http_server/compress"
	"http_server/protocol"

	"github.com/spf13/pflag"
)

// config is every setting of the daemon. Flags are its one source of truth:
// the help text, the README table and the defaults below agree.
type config struct {
	addr            string
	port            int
	root            string
	workers         int
	loops           int
	queue           int
	compat          protocol.Compat
	writeLimit      int64
	fileCache       int64
	onTheFly        []string // --compress: codings made on the fly
	sidecars        []string // --precompressed: codings looked for as sidecar files
	compressMin     int64
	compressMax     int64
	compressCache   int64
	levels          compress.Levels
	maxHeaderBytes  int
	headerTimeout   time.Duration
	bodyTimeout     time.Duration
	queueTimeout    time.Duration
	maxConns        int
	maxRequests     int
	idleTimeout     time.Duration
	writeTimeout    time.Duration
	classicTimeout  time.Duration
	dotfiles        bool
	shutdownTimeout time.Duration

	tlsCert             string
	tlsKey              string
	tlsPort             int
	tlsOnly             bool
	tlsRedirect         bool
	tlsHandshakeTimeout time.Duration
	tlsMaxHandshakes    int

	stateFile       string
	store           string
	storeKey        string
	storeTimeout    time.Duration
	metricsAddr     string
	pprof           bool
	logFormat       string
	logLevel        string
	accessLog       string
	accessLogFormat string
	configFile      string
	checkConfig     bool
	printConfig     bool

	codingLists [2]*string // --compress and --precompressed as given, parsed into onTheFly and sidecars

	flags  *pflag.FlagSet
	source map[string]string // where each option not at its default came from
}

// errHelp asks for a clean exit 0 after --help or --version.
var errHelp = errors.New("help")

// defaultWorkers favours file I/O that blocks: twice the cores, at least 4.
func defaultWorkers() int { return max(4, 2*runtime.NumCPU()) }

// defaultLoops is one event loop per CPU the process may use (its
// affinity and CPU quota, as GOMAXPROCS counts them).
func defaultLoops() int { return runtime.GOMAXPROCS(0) }

// Meta flags act on the command line only; they have no config-file key
// and no environment variable.
var metaFlags = map[string]bool{"help": true, "version": true, "config": true,
	"check-config": true, "print-config": true}

// newFlagSet declares every option with its default and help text: the one
// source of truth for the flags, the config file keys, the environment
// variables, --print-config and the example configuration.
func newFlagSet(c *config) (*pflag.FlagSet, *string, *string) {
	fs := pflag.NewFlagSet("http_server", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&c.addr, "addr", "127.0.0.1", "address to listen on")
	fs.IntVar(&c.port, "port", 8080, "TCP port, 0 picks a free one; when not set anywhere else, the number in ./port.txt if that file exists")
	fs.StringVar(&c.root, "root", ".", "document root for static files")
	fs.IntVar(&c.workers, "workers", defaultWorkers(), "worker pool size, 0 runs handlers inline on the reactor; the default is 2 x CPUs, at least 4")
	fs.IntVar(&c.loops, "loops", defaultLoops(), "event loops (reactors), each with its own connections, all sharing the pool; the default is one per CPU the process may use")
	fs.IntVar(&c.queue, "queue", 1024, "bounded queue of requests waiting for a worker")
	compat := fs.String("compat", "modern", "wire format: modern (HTTP/1.1, keep-alive) or classic (the C server's exact bytes)")
	fs.Int64Var(&c.writeLimit, "write-limit", 1024, "largest POST /write body, in bytes")
	fs.Int64Var(&c.fileCache, "file-cache", 16<<20, "bytes of small static files (16 KiB or less) kept in memory, each served while a stat shows it unchanged; 0 turns the cache off")
	onTheFly := fs.String("compress", "br,zstd,gzip", "codings the workers compress text files into, made once per file version and cached (br, zstd, gzip, or off); the client's Accept-Encoding chooses, ties go to br, then zstd, then gzip")
	sidecars := fs.String("precompressed", "br,zstd,gzip", "codings looked for as precompressed files beside the file (app.js.br, app.js.zst, app.js.gz), sent with sendfile (or off)")
	fs.Int64Var(&c.compressMin, "compress-min", 256, "smallest file compressed on the fly, in bytes")
	fs.Int64Var(&c.compressMax, "compress-max", 4<<20, "largest file compressed on the fly, in bytes; larger ones go as they are (or as a sidecar)")
	fs.Int64Var(&c.compressCache, "compress-cache", 64<<20, "bytes of compressed copies kept in memory, least recently used out first; 0 compresses every response again")
	fs.IntVar(&c.levels.Gzip, "gzip-level", compress.DefaultLevels.Gzip, "gzip level of copies made on the fly: 1 (fastest) to 9 (smallest)")
	fs.IntVar(&c.levels.Zstd, "zstd-level", compress.DefaultLevels.Zstd, "zstd level of copies made on the fly: 1 to 22")
	fs.IntVar(&c.levels.Brotli, "brotli-level", compress.DefaultLevels.Brotli, "brotli level of copies made on the fly: 0 to 11")
	fs.IntVar(&c.maxHeaderBytes, "max-header-bytes", protocol.DefaultLimits.MaxHeaderBytes, "largest request head (request line and headers), in bytes; 431 past it")
	fs.DurationVar(&c.headerTimeout, "header-timeout", 60*time.Second, "time from a request's first byte to its complete head; 408 past it")
	fs.DurationVar(&c.bodyTimeout, "body-timeout", 60*time.Second, "time from a request's complete head to its complete body; 408 past it")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 75*time.Second, "time a keep-alive connection may wait for its next request")
	fs.DurationVar(&c.writeTimeout, "write-timeout", 60*time.Second, "time allowed between two successful writes to a client that stopped reading")
	fs.DurationVar(&c.queueTimeout, "queue-timeout", 10*time.Second, "longest wait for room in a full queue; 503 with Retry-After past it")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM or SIGINT, time allowed for responses in flight to finish before connections are cut")
	fs.IntVar(&c.maxConns, "max-conns", 0, "open connections; past it new ones get 503 and are closed (0: half the descriptor limit)")
	fs.IntVar(&c.maxRequests, "max-requests", 1000, "requests served on one keep-alive connection before it closes (0: no cap)")
	fs.DurationVar(&c.classicTimeout, "classic-timeout", 200*time.Millisecond, "classic mode: an incomplete request silent this long gets 400")
	dotfiles := fs.String("dotfiles", "deny", "files and directories whose name starts with a dot: deny (404) or allow")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "HTTPS: certificate chain (PEM); with --tls-key it opens the HTTPS listener; SIGHUP reloads both")
	fs.StringVar(&c.tlsKey, "tls-key", "", "HTTPS: private key (PEM) for --tls-cert")
	fs.IntVar(&c.tlsPort, "tls-port", 8443, "HTTPS: TCP port on --addr, 0 picks a free one")
	fs.BoolVar(&c.tlsOnly, "tls-only", false, "HTTPS: open no plain-HTTP listener")
	fs.BoolVar(&c.tlsRedirect, "tls-redirect", false, "HTTPS: answer every plain-HTTP request with 308 to the same path over HTTPS")
	fs.DurationVar(&c.tlsHandshakeTimeout, "tls-handshake-timeout", 10*time.Second, "HTTPS: time from accept to a complete handshake")
	fs.IntVar(&c.tlsMaxHandshakes, "tls-max-handshakes", 256, "HTTPS: handshakes in progress at once; past it new connections wait in the backlog")
	fs.StringVar(&c.stateFile, "state-file", "", "file that keeps the /write value across restarts, written atomically before each write is answered (empty: memory only); the same as --store file:PATH")
	fs.StringVar(&c.store, "store", "memory", "where the /write value lives: memory, file:PATH, or redis://[user:password@]host:port[/db] (rediss:// for TLS) to share it between instances")
	fs.StringVar(&c.storeKey, "store-key", "http_server:value", "the Redis key that holds the /write value")
	fs.DurationVar(&c.storeTimeout, "store-timeout", 2*time.Second, "deadline of each store call; past it /write and /read answer 503 with Retry-After")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", `where /metrics (Prometheus) is served: "" on the main listener, "off", or host:port for a separate listener that is not public`)
	fs.BoolVar(&c.pprof, "pprof", false, "serve the Go profiler (net/http/pprof) under /debug/pprof/ on the --metrics-addr listener, which must be a host:port")
	fs.StringVar(&c.logFormat, "log-format", "text", "server log on standard error: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "server log level: debug, info, warn or error")
	fs.StringVar(&c.accessLog, "access-log", "off", `access log: a file path, "-" for standard output, or "off"; SIGHUP reopens the file`)
	fs.StringVar(&c.accessLogFormat, "access-log-format", "combined", "access log format: combined (as nginx and Apache) or json")
	fs.StringVar(&c.configFile, "config", "", "TOML configuration file (see configs/http_server.toml)")
	fs.BoolVar(&c.checkConfig, "check-config", false, "validate the configuration (and the document root), print the result and exit 0 or 1")
	fs.BoolVar(&c.printConfig, "print-config", false, "print the effective configuration as TOML and exit")
	fs.BoolP("help", "h", false, "show this help and exit")
	fs.Bool("version", false, "print the version and exit")
	c.codingLists = [2]*string{onTheFly, sidecars}
	return fs, compat, dotfiles
}

// parseConfig builds the configuration. Precedence: flags, then
// HTTP_SERVER_* environment variables, then the --config file, then
// port.txt (for the port), then the defaults.
func parseConfig(args []string, stdout io.Writer, portFile string) (*config, error) {
	return parseConfigEnv(args, stdout, portFile, os.LookupEnv)
}

func parseConfigEnv(args []string, stdout io.Writer, portFile string, env func(string) (string, bool)) (*config, error) {
	c := &config{}
	fs, compat, dotfiles := newFlagSet(c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if on, _ := fs.GetBool("help"); on {
		fmt.Fprintf(stdout, "Usage: http_server [flags]\n\nAn HTTP/1.1 server: epoll reactor, bounded queue, worker pool.\n"+
			"Every flag can also be set as HTTP_SERVER_<NAME> in the environment (--write-limit: HTTP_SERVER_WRITE_LIMIT)\n"+
			"or as <name> in the --config file (write_limit). Flags win over the environment, which wins over the file.\n\nFlags:\n%s",
			fs.FlagUsages())
		return nil, errHelp
	}
	if on, _ := fs.GetBool("version"); on {
		fmt.Fprintf(stdout, "http_server %s\n", version_)
		return nil, errHelp
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.source = map[string]string{}
	fs.Visit(func(f *pflag.Flag) { c.source[f.Name] = "flag --" + f.Name })
	if err := applyEnv(fs, c, env); err != nil {
		return nil, err
	}
	if c.configFile != "" {
		if err := applyFile(fs, c, c.configFile); err != nil {
			return nil, err
		}
	}
	if _, set := c.source["port"]; !set {
		p, found, err := readPortFile(portFile)
		if err != nil {
			return nil, err
		}
		if found {
			c.port = p
			c.source["port"] = portFile
		}
	}
	var ok bool
	if c.compat, ok = protocol.ParseCompat(*compat); !ok {
		return nil, c.optionError("compat", fmt.Sprintf("must be modern or classic, not %q", *compat))
	}
	switch *dotfiles {
	case "deny":
	case "allow":
		c.dotfiles = true
	default:
		return nil, c.optionError("dotfiles", fmt.Sprintf("must be deny or allow, not %q", *dotfiles))
	}
	for name, v := range map[string]string{"log-format": c.logFormat, "access-log-format": c.accessLogFormat} {
		if v != "text" && v != "json" && v != "combined" || (name == "log-format" && v == "combined") ||
			(name == "access-log-format" && v == "text") {
			return nil, c.optionError(name, fmt.Sprintf("%q is not a format this option knows", v))
		}
	}
	for i, name := range []string{"compress", "precompressed"} {
		list, err := compress.ParseList(*c.codingLists[i])
		if err != nil {
			return nil, c.optionError(name, err.Error())
		}
		if i == 0 {
			c.onTheFly = list
		} else {
			c.sidecars = list
		}
	}
	switch c.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, c.optionError("log-level", fmt.Sprintf("must be debug, info, warn or error, not %q", c.logLevel))
	}
	c.flags = fs
	return c, c.validate()
}

func (c *config) validate() error {
	switch {
	case c.port < 0 || c.port > 65535:
		return c.optionError("port", fmt.Sprintf("%d must be 0..65535", c.port))
	case c.stateFile != "" && c.store != "memory":
		return c.optionError("store", "--state-file is --store file:PATH; set one of them")
	case c.storeTimeout <= 0:
		return c.optionError("store-timeout", fmt.Sprintf("%v must be positive", c.storeTimeout))
	case c.workers < 0:
		return c.optionError("workers", fmt.Sprintf("%d must be 0 or more", c.workers))
	case c.loops < 1 || c.loops > 1024:
		return c.optionError("loops", fmt.Sprintf("%d must be 1..1024", c.loops))
	case c.queue < 1:
		return c.optionError("queue", fmt.Sprintf("%d must be 1 or more", c.queue))
	case c.compressMin < 0:
		return c.optionError("compress-min", fmt.Sprintf("%d must be 0 or more", c.compressMin))
	case c.compressMax < c.compressMin || c.compressMax > 1<<30:
		return c.optionError("compress-max", fmt.Sprintf("%d must be from --compress-min (%d) to 1073741824", c.compressMax, c.compressMin))
	case c.compressCache < 0:
		return c.optionError("compress-cache", fmt.Sprintf("%d must be 0 or more", c.compressCache))
	case c.levels.Gzip < 1 || c.levels.Gzip > 9:
		return c.optionError("gzip-level", fmt.Sprintf("%d must be 1..9", c.levels.Gzip))
	case c.levels.Zstd < 1 || c.levels.Zstd > 22:
		return c.optionError("zstd-level", fmt.Sprintf("%d must be 1..22", c.levels.Zstd))
	case c.levels.Brotli < 0 || c.levels.Brotli > 11:
		return c.optionError("brotli-level", fmt.Sprintf("%d must be 0..11", c.levels.Brotli))
	case c.fileCache < 0:
		return c.optionError("file-cache", fmt.Sprintf("%d must be 0 or more", c.fileCache))
	case c.writeLimit < 0 || c.writeLimit > 1<<30:
		return c.optionError("write-limit", fmt.Sprintf("%d must be 0..1073741824", c.writeLimit))
	case c.maxHeaderBytes < 256 || c.maxHeaderBytes > 1<<20:
		return c.optionError("max-header-bytes", fmt.Sprintf("%d must be 256..1048576", c.maxHeaderBytes))
	case c.maxConns < 0:
		return c.optionError("max-conns", fmt.Sprintf("%d must be 0 or more", c.maxConns))
	case c.maxRequests < 0:
		return c.optionError("max-requests", fmt.Sprintf("%d must be 0 or more", c.maxRequests))
	case c.pprof && (c.metricsAddr == "" || c.metricsAddr == "off"):
		return c.optionError("pprof", "needs --metrics-addr host:port: the profiler is never served on the public listener")
	case c.tlsPort < 0 || c.tlsPort > 65535:
		return c.optionError("tls-port", fmt.Sprintf("%d must be 0..65535", c.tlsPort))
	case c.tlsMaxHandshakes < 1:
		return c.optionError("tls-max-handshakes", fmt.Sprintf("%d must be 1 or more", c.tlsMaxHandshakes))
	case c.tlsHandshakeTimeout <= 0:
		return c.optionError("tls-handshake-timeout", fmt.Sprintf("%v must be a positive duration such as 10s", c.tlsHandshakeTimeout))
	case (c.tlsCert == "") != (c.tlsKey == ""):
		if c.tlsCert == "" {
			return c.optionError("tls-cert", "is required with --tls-key")
		}
		return c.optionError("tls-key", "is required with --tls-cert")
	case c.tlsCert == "" && c.tlsOnly:
		return c.optionError("tls-only", "needs --tls-cert and --tls-key")
	case c.tlsCert == "" && c.tlsRedirect:
		return c.optionError("tls-redirect", "needs --tls-cert and --tls-key")
	case c.tlsOnly && c.tlsRedirect:
		return c.optionError("tls-redirect", "needs the plain listener that --tls-only turns off")
	case c.tlsCert != "" && c.compat == protocol.Classic:
		return c.optionError("tls-cert", "HTTPS is not available with --compat classic, which keeps the C server's plain wire format")
	}
	for name, d := range map[string]time.Duration{"header-timeout": c.headerTimeout, "body-timeout": c.bodyTimeout,
		"idle-timeout": c.idleTimeout, "write-timeout": c.writeTimeout, "classic-timeout": c.classicTimeout,
		"queue-timeout": c.queueTimeout, "shutdown-timeout": c.shutdownTimeout} {
		if d <= 0 {
			return c.optionError(name, fmt.Sprintf("%v must be a positive duration such as 500ms or 60s", d))
		}
	}
	return nil
}

// readPortFile reads the port number the C server took from port.txt.
func readPortFile(name string) (port int, found bool, err error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s := strings.TrimSpace(string(b))
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, false, fmt.Errorf("%s: %q is not a port number", name, s)
	}
	return p, true, nil
}

// storeURL is the --store URL, with --state-file as its file: form.
func (c *config) storeURL() string {
	if c.stateFile != "" {
		return "file:" + c.stateFile
	}
	return c.store
}
