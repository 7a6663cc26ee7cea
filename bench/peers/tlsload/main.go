// Command tlsload is the client of the HTTPS benchmark (bench/tls/run.sh).
// It speaks HTTP/1.1 over TLS 1.3 and has one mode per figure:
//
//	tlsload cert      -dir D                 writes D/cert.pem and D/key.pem (ECDSA P-256, self-signed)
//	tlsload handshake -addr A -ca C -pids P  new connections: full handshake + one GET /ping each
//	tlsload keepalive -addr A -ca C -pids P  GET /ping over and over on -conns connections
//	tlsload bulk      -addr A -ca C -pids P  GET -path over and over on -conns connections, counting bytes
//	tlsload idle      -addr A -ca C -pids P  -conns connections, one GET /ping each, then idle; RSS per connection
//	tlsload spin      -duration D            spins for D and prints the share of a CPU it got
//
// Every connection is a full handshake: the client has no session cache
// (tls.Config.ClientSessionCache is nil), so it never resumes. It offers
// HTTP/1.1 only (no ALPN), Go's default key-exchange groups, and verifies
// the server's certificate against -ca.
//
// The load modes run -conns goroutines for -warmup, then measure for
// -duration: the operations completed in the window, the server's CPU time
// (utime+stime from /proc/PID/stat, summed over -pids) and this process's
// own CPU time (getrusage), and print one line
//
//	TLSBENCH mode=M conns=N seconds=S count=C per_s=R server_cpu_s=X per_server_cpu_s=Y server_busy=B client_busy=B errors=E ...
//
// count is handshakes (handshake mode), responses (keepalive) or body
// bytes (bulk; also mib_per_s). server_busy and client_busy are CPU
// seconds per wall-clock second: near 1.0 on one pinned core means that
// side was the bottleneck. Errors are also described on standard error.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	addr       string
	ca         string
	serverName string
	path       string
	pids       []int
	conns      int
	window     int
	duration   time.Duration
	warmup     time.Duration
	settle     time.Duration
	size       int64
	clkTck     int
	dir        string
	groups     []tls.CurveID
	cpuProfile string
}

const usage = `usage: tlsload MODE [flags]
modes: cert, handshake, keepalive, bulk, idle, spin (tlsload MODE -h lists the flags)
`

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	mode := os.Args[1]
	var o options
	var pids string
	fs := flag.NewFlagSet("tlsload "+mode, flag.ExitOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8443", "server host:port")
	fs.StringVar(&o.ca, "ca", "cert.pem", "certificate the server's is verified against (PEM)")
	fs.StringVar(&o.serverName, "server-name", "localhost", "SNI and the name verified in the certificate")
	fs.StringVar(&o.path, "path", "", "request path (default /ping; bulk: required)")
	fs.StringVar(&pids, "pids", "", "comma-separated server PIDs whose CPU time (load modes) or RSS (idle) is measured")
	fs.IntVar(&o.conns, "conns", 0, "connections (default: handshake 32, keepalive 64, bulk 4, idle 5000)")
	fs.IntVar(&o.window, "window", 32, "idle: connections being opened at once")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured time")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured time before the measured one")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "idle: wait between the last connection and the second RSS reading")
	fs.Int64Var(&o.size, "size", 0, "bulk: expected Content-Length (0: not checked)")
	fs.IntVar(&o.clkTck, "clk-tck", 100, "clock ticks per second in /proc/PID/stat (getconf CLK_TCK)")
	fs.StringVar(&o.dir, "dir", ".", "cert: where cert.pem and key.pem are written")
	groups := fs.String("groups", "", "key-exchange groups offered, comma-separated (X25519MLKEM768, X25519, P256, ...); empty: Go's defaults")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write this client's CPU profile to the file (for checking that the client is not the bottleneck)")
	fs.Parse(os.Args[2:])
	if *groups != "" {
		names := map[string]tls.CurveID{}
		for _, id := range []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024, tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521} {
			names[strings.ToLower(id.String())] = id
		}
		for _, g := range strings.Split(*groups, ",") {
			id, ok := names[strings.ToLower(strings.TrimSpace(g))]
			if !ok {
				fail(fmt.Errorf("unknown group %q in -groups", g))
			}
			o.groups = append(o.groups, id)
		}
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			fail(fmt.Errorf("bad PID %q in -pids", p))
		}
		o.pids = append(o.pids, n)
	}
	if o.path == "" && mode != "bulk" {
		o.path = "/ping"
	}
	defaults := map[string]int{"handshake": 32, "keepalive": 64, "bulk": 4, "idle": 5000}
	if o.conns <= 0 {
		o.conns = defaults[mode]
	}

	var err error
	switch mode {
	case "cert":
		err = writeCert(o.dir)
	case "handshake", "keepalive", "bulk":
		err = runLoad(mode, o)
	case "idle":
		err = runIdle(o)
	case "spin":
		spin(o.duration)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlsload:", err)
	os.Exit(1)
}

// ---------------------------------------------------------------- certificate

// writeCert writes a self-signed ECDSA P-256 certificate for localhost and
// 127.0.0.1, valid from an hour ago for 30 days, and its key (PKCS #8).
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"http_server bench"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
}

// ---------------------------------------------------------------- TLS

func clientConfig(o options) (*tls.Config, error) {
	b, err := os.ReadFile(o.ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no certificate", o.ca)
	}
	return &tls.Config{
		RootCAs:    pool,
		ServerName: o.serverName,
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		// nil: Go's default groups.
		CurvePreferences: o.groups,
		// ClientSessionCache stays nil: no tickets are kept, every
		// connection is a full handshake.
	}, nil
}

// dialer has TCP keep-alive probes off, so idle connections are idle.
var dialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: -1}

// dial opens a TCP connection with deadline (zero: none) and completes the
// TLS handshake.
func dial(cfg *tls.Config, addr string, deadline time.Time) (*tls.Conn, error) {
	raw, err := dialer.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if !deadline.IsZero() {
		raw.SetDeadline(deadline)
	} else {
		raw.SetDeadline(time.Now().Add(10 * time.Second))
	}
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		raw.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	return c, nil
}

// ---------------------------------------------------------------- HTTP/1.1 responses

// respReader reads responses with a Content-Length body from one
// connection, keeping what it read past a response for the next.
type respReader struct {
	c    io.Reader
	buf  []byte
	r, w int
}

var errStopped = errors.New("stopped")

func (rr *respReader) reset(c io.Reader) { rr.c, rr.r, rr.w = c, 0, 0 }

func (rr *respReader) fill() error {
	if rr.r > 0 {
		copy(rr.buf, rr.buf[rr.r:rr.w])
		rr.w -= rr.r
		rr.r = 0
	}
	if rr.w == len(rr.buf) {
		return errors.New("response head larger than the read buffer")
	}
	n, err := rr.c.Read(rr.buf[rr.w:])
	rr.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

var crlf2 = []byte("\r\n\r\n")

// head reads a response head: status, Content-Length, and whether the
// server closes the connection after this response.
func (rr *respReader) head() (status int, length int64, closing bool, err error) {
	for {
		if i := bytes.Index(rr.buf[rr.r:rr.w], crlf2); i >= 0 {
			h := rr.buf[rr.r : rr.r+i]
			rr.r += i + 4
			return parseHead(h)
		}
		if err := rr.fill(); err != nil {
			if err == io.EOF && rr.w > rr.r {
				err = io.ErrUnexpectedEOF
			}
			return 0, 0, false, err
		}
	}
}

// small returns the next n (<= len(buf)) bytes of body.
func (rr *respReader) small(n int) ([]byte, error) {
	for rr.w-rr.r < n {
		if err := rr.fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	b := rr.buf[rr.r : rr.r+n]
	rr.r += n
	return b, nil
}

// discard reads n bytes of body, passing each chunk's length to count; it
// returns errStopped when stop is set between two reads.
func (rr *respReader) discard(n int64, count func(int), stop *atomic.Bool) error {
	for n > 0 {
		if rr.r == rr.w {
			if stop != nil && stop.Load() {
				return errStopped
			}
			rr.r, rr.w = 0, 0
			if err := rr.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		k := rr.w - rr.r
		if int64(k) > n {
			k = int(n)
		}
		rr.r += k
		n -= int64(k)
		if count != nil {
			count(k)
		}
	}
	return nil
}

func parseHead(h []byte) (status int, length int64, closing bool, err error) {
	line, rest, _ := bytes.Cut(h, []byte("\r\n"))
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, fmt.Errorf("bad status line %q", line)
	}
	status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	closing = line[7] == '0'
	length = -1
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		name, val = bytes.TrimSpace(name), bytes.TrimSpace(val)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length = 0
			for _, c := range val {
				if c < '0' || c > '9' {
					return 0, 0, false, fmt.Errorf("bad Content-Length %q", val)
				}
				length = length*10 + int64(c-'0')
			}
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(val, []byte("close")) {
				closing = true
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, 0, false, fmt.Errorf("Transfer-Encoding %q is not supported by this client", val)
		}
	}
	if length < 0 {
		return status, 0, closing, errors.New("response without Content-Length")
	}
	return status, length, closing, nil
}

func request(o options) []byte {
	return []byte("GET " + o.path + " HTTP/1.1\r\nHost: " + o.serverName + "\r\nUser-Agent: tlsload\r\n\r\n")
}

// ping sends GET /ping and checks for 200 "pong"; closing reports that the
// server will close the connection.
func ping(c io.Writer, rr *respReader, req []byte) (closing bool, err error) {
	if _, err := c.Write(req); err != nil {
		return false, err
	}
	status, n, closing, err := rr.head()
	if err != nil {
		return false, err
	}
	if status != 200 || n != 4 {
		return false, fmt.Errorf("GET /ping: status %d, %d-byte body", status, n)
	}
	b, err := rr.small(4)
	if err != nil {
		return false, err
	}
	if string(b) != "pong" {
		return false, fmt.Errorf("GET /ping: body %q", b)
	}
	return closing, nil
}

// ---------------------------------------------------------------- measurement

// counters are shared by the workers of one run.
type counters struct {
	count      atomic.Int64 // handshakes, responses or body bytes
	errs       atomic.Int64
	resumed    atomic.Int64
	reconnects atomic.Int64 // keepalive, bulk: the server said Connection: close
	completed  atomic.Int64 // bulk: whole downloads
	handshakes atomic.Int64 // completed handshakes, warm-up included
	firstErr   sync.Once
	group      atomic.Value // tls.CurveID as a string
}

func (k *counters) fail(err error) {
	k.errs.Add(1)
	k.firstErr.Do(func() { fmt.Fprintln(os.Stderr, "tlsload: first error:", err) })
}

func (k *counters) state(c *tls.Conn) {
	k.handshakes.Add(1)
	st := c.ConnectionState()
	if st.DidResume {
		k.resumed.Add(1)
	}
	if k.group.Load() == nil {
		k.group.Store(st.CurveID.String())
	}
}

type sample struct {
	t      time.Time
	count  int64
	errs   int64
	srvCPU float64 // seconds
	cliCPU float64 // seconds
}

func (k *counters) take(o options) (sample, error) {
	s := sample{t: time.Now(), count: k.count.Load(), errs: k.errs.Load()}
	var err error
	s.srvCPU, err = cpuSeconds(o.pids, o.clkTck)
	var ru syscall.Rusage
	if e := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); e == nil {
		s.cliCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return s, err
}

// cpuSeconds sums utime and stime (fields 14 and 15 of /proc/PID/stat,
// every thread of the process, in clock ticks) over pids.
func cpuSeconds(pids []int, clkTck int) (float64, error) {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		// The command name, field 2, is in parentheses and may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
		}
		f := strings.Fields(string(b[i+1:]))
		// f[0] is field 3 (state): utime is field 14, stime 15.
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: short", pid)
		}
		for _, s := range f[11:13] {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, err
			}
			ticks += v
		}
	}
	return float64(ticks) / float64(clkTck), nil
}

// rssKiB sums VmRSS from /proc/PID/status over pids.
func rssKiB(pids []int) (int64, error) {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		found := false
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				v, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					return 0, err
				}
				total += v
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
		}
	}
	return total, nil
}

// ---------------------------------------------------------------- load modes

// keepAlive runs exchanges on one connection after another until stop:
// it dials (retrying after a failure), runs exchange until it fails or the
// server closes, counts each success in done, and records every error that
// is not the run ending.
func keepAlive(cfg *tls.Config, addr string, deadline time.Time, rr *respReader, stop *atomic.Bool,
	k *counters, exchange func(*tls.Conn, *respReader) (closing bool, err error), done *atomic.Int64) {
	for !stop.Load() {
		c, err := dial(cfg, addr, deadline)
		if err != nil {
			if !stop.Load() {
				k.fail(err)
				time.Sleep(time.Millisecond)
			}
			continue
		}
		k.state(c)
		rr.reset(c)
		for !stop.Load() {
			var closing bool
			closing, err = exchange(c, rr)
			if err != nil {
				break
			}
			done.Add(1)
			if closing {
				k.reconnects.Add(1)
				break
			}
		}
		if err != nil && err != errStopped && !stop.Load() {
			k.fail(err)
		}
		c.Close()
	}
}

func runLoad(mode string, o options) error {
	if len(o.pids) == 0 {
		return errors.New("-pids is required (the server's CPU time is measured)")
	}
	if mode == "bulk" && o.path == "" {
		return errors.New("bulk: -path is required")
	}
	cfg, err := clientConfig(o)
	if err != nil {
		return err
	}
	var k counters
	var stop atomic.Bool
	start := time.Now()
	// No read or write may outlast the run by more than 5 s, so a stuck
	// connection cannot hold the client up.
	deadline := start.Add(o.warmup + o.duration + 5*time.Second)
	req := request(o)

	var worker func()
	switch mode {
	case "handshake":
		worker = func() {
			rr := &respReader{buf: make([]byte, 4096)}
			for !stop.Load() {
				if err := handshakeOnce(cfg, o.addr, deadline, rr, req, &k); err != nil {
					if stop.Load() {
						return
					}
					k.fail(err)
					time.Sleep(time.Millisecond)
					continue
				}
				k.count.Add(1)
			}
		}
	case "keepalive":
		worker = func() {
			keepAlive(cfg, o.addr, deadline, &respReader{buf: make([]byte, 4096)}, &stop, &k, func(c *tls.Conn, rr *respReader) (bool, error) {
				return ping(c, rr, req)
			}, &k.count)
		}
	case "bulk":
		count := func(n int) { k.count.Add(int64(n)) }
		worker = func() {
			keepAlive(cfg, o.addr, deadline, &respReader{buf: make([]byte, 256<<10)}, &stop, &k, func(c *tls.Conn, rr *respReader) (bool, error) {
				return download(c, rr, req, o.size, count, &stop)
			}, &k.completed)
		}
	}

	var wg sync.WaitGroup
	for i := 0; i < o.conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker()
		}()
	}
	time.Sleep(o.warmup)
	a, err := k.take(o)
	if err != nil {
		stop.Store(true)
		return err
	}
	time.Sleep(o.duration)
	b, err := k.take(o)
	stop.Store(true)
	if err != nil {
		return err
	}
	wg.Wait()

	secs := b.t.Sub(a.t).Seconds()
	n := b.count - a.count
	srv := b.srvCPU - a.srvCPU
	perCPU := 0.0
	if srv > 0 {
		perCPU = float64(n) / srv
	}
	group, _ := k.group.Load().(string)
	if group == "" {
		group = "none"
	}
	line := fmt.Sprintf("TLSBENCH mode=%s conns=%d seconds=%.3f count=%d per_s=%.1f server_cpu_s=%.3f per_server_cpu_s=%.1f server_busy=%.3f client_busy=%.3f errors=%d errors_total=%d handshakes_total=%d resumed=%d group=%s",
		mode, o.conns, secs, n, float64(n)/secs, srv, perCPU, srv/secs, (b.cliCPU-a.cliCPU)/secs,
		b.errs-a.errs, k.errs.Load(), k.handshakes.Load(), k.resumed.Load(), group)
	switch mode {
	case "keepalive":
		line += fmt.Sprintf(" reconnects=%d", k.reconnects.Load())
	case "bulk":
		line += fmt.Sprintf(" mib_per_s=%.2f completed=%d reconnects=%d", float64(n)/secs/(1<<20), k.completed.Load(), k.reconnects.Load())
	}
	fmt.Println(line)
	return nil
}

// handshakeOnce opens a connection (a full handshake), sends GET /ping,
// reads the response and closes.
func handshakeOnce(cfg *tls.Config, addr string, deadline time.Time, rr *respReader, req []byte, k *counters) error {
	c, err := dial(cfg, addr, deadline)
	if err != nil {
		return err
	}
	defer c.Close()
	k.state(c)
	rr.reset(c)
	_, err = ping(c, rr, req)
	return err
}

// download sends one GET for the big file and reads its body, checking
// the length against size (when not 0).
func download(c io.Writer, rr *respReader, req []byte, size int64, count func(int), stop *atomic.Bool) (bool, error) {
	if _, err := c.Write(req); err != nil {
		return false, err
	}
	status, n, closing, err := rr.head()
	if err != nil {
		return false, err
	}
	if status != 200 {
		return false, fmt.Errorf("GET: status %d", status)
	}
	if size > 0 && n != size {
		return false, fmt.Errorf("GET: Content-Length %d, expected %d", n, size)
	}
	return closing, rr.discard(n, count, stop)
}

// spin busy-loops for d on one goroutine and prints the CPU time it got
// per second of wall-clock time: about 1.00 when run pinned to an idle
// core, less when something else (another process, the hypervisor) takes
// that core.
func spin(d time.Duration) {
	cpu := func() float64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	t0, c0 := time.Now(), cpu()
	x := uint64(1)
	for time.Since(t0) < d {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf("TLSBENCH mode=spin seconds=%.3f busy=%.3f x=%d\n", secs, (cpu()-c0)/secs, x&1)
}

// ---------------------------------------------------------------- idle mode

// runIdle opens o.conns connections, -window at a time; each completes a
// handshake and one GET /ping and then stays open with nothing to do.
// The server's RSS is read before the first connection and -settle after
// the last one; then every connection is checked (a peek at the socket):
// still open with nothing to read, closed by the server (dropped), or with
// unread bytes (pending: the server sent something unasked, e.g. an alert).
func runIdle(o options) error {
	if len(o.pids) == 0 {
		return errors.New("-pids is required (the server's RSS is measured)")
	}
	cfg, err := clientConfig(o)
	if err != nil {
		return err
	}
	var k counters
	req := request(o)
	before, err := rssKiB(o.pids)
	if err != nil {
		return err
	}
	conns := make([]*tls.Conn, o.conns)
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < o.window; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := &respReader{buf: make([]byte, 4096)}
			for {
				i := int(next.Add(1) - 1)
				if i >= o.conns {
					return
				}
				c, err := dial(cfg, o.addr, time.Time{})
				if err == nil {
					k.state(c)
					rr.reset(c)
					var closing bool
					closing, err = ping(c, rr, req)
					if err == nil && closing {
						err = errors.New("the server closes the connection after GET /ping")
					}
					if err != nil {
						c.Close()
					}
				}
				if err != nil {
					k.fail(err)
					continue
				}
				c.NetConn().SetDeadline(time.Time{})
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	openSecs := time.Since(t0).Seconds()
	time.Sleep(o.settle)
	after, err := rssKiB(o.pids)
	if err != nil {
		return err
	}
	open, dropped, pending := 0, 0, 0
	for _, c := range conns {
		if c == nil {
			continue
		}
		switch peek(c) {
		case peekIdle:
			open++
		case peekData:
			pending++
		default:
			dropped++
		}
	}
	perConn := 0.0
	if open > 0 {
		perConn = float64(after-before) * 1024 / float64(open)
	}
	group, _ := k.group.Load().(string)
	if group == "" {
		group = "none"
	}
	fmt.Printf("TLSBENCH mode=idle conns=%d open=%d failed=%d dropped=%d pending=%d rss_before_kib=%d rss_after_kib=%d bytes_per_conn=%.0f open_seconds=%.2f handshakes_total=%d resumed=%d group=%s\n",
		o.conns, open, k.errs.Load(), dropped, pending, before, after, perConn, openSecs, k.handshakes.Load(), k.resumed.Load(), group)
	for _, c := range conns {
		if c != nil {
			c.NetConn().Close()
		}
	}
	return nil
}

const (
	peekIdle = iota
	peekData
	peekClosed
)

// peek looks at a connection's socket without reading from it.
func peek(c *tls.Conn) int {
	tc, ok := c.NetConn().(*net.TCPConn)
	if !ok {
		return peekClosed
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return peekClosed
	}
	res := peekClosed
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case e == syscall.EAGAIN:
			res = peekIdle
		case e != nil || n == 0:
			res = peekClosed
		default:
			res = peekData
		}
		return true
	})
	if err != nil {
		return peekClosed
	}
	return res
}
