package e2e

// End-to-end tests of downloads whose file is not in the page cache: the
// reactor sends a file a window (workers.Window) at a time and, where
// cachestat says a window is not resident, a worker reads it in first.
// Cold downloads over plain HTTP (a Range too, and /ping answered
// meanwhile) and HTTPS, several at once, pipelined, a file evicted again
// and again while it is sent, and one truncated while it is sent (a
// failed read). A
// file is made cold with fdatasync and FADV_DONTNEED; where that does not
// work (tmpfs, no cachestat) the tests still check the bytes and log that
// the cold path was not exercised.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"http_server/internal/loadtest"
)

// coldSize is several windows and a tail that is not page-aligned.
const coldSize = 9<<20 + 12345

// coldWindow is the server's window (workers.Window), for messages.
const coldWindow = 2 << 20

// evict drops path's pages from the page cache (loadtest.EvictFile:
// fsync, then FADV_DONTNEED).
func evict(t testing.TB, path string) {
	t.Helper()
	if err := loadtest.EvictFile(path); err != nil {
		t.Fatal(err)
	}
}

// makeCold evicts path and reports whether it is now cold (at most half
// of its pages cached). When it is not, the download still runs and is
// checked, but the log says plainly that the cold path went untested.
func makeCold(t testing.TB, path string) bool {
	t.Helper()
	evict(t, path)
	cached, total, err := loadtest.ResidentPages(path)
	switch {
	case err != nil:
		t.Logf("COLD PATH NOT VERIFIED for %s: mincore: %v (cannot tell what is cached)", filepath.Base(path), err)
		return false
	case cached*2 > total:
		t.Logf("COLD PATH NOT EXERCISED for %s: %d of %d pages still cached after eviction (tmpfs?)", filepath.Base(path), cached, total)
		return false
	}
	t.Logf("%s is cold: %d of %d pages cached", filepath.Base(path), cached, total)
	return true
}

// writeFile writes n random bytes to dir/name and returns them.
func writeFile(t testing.TB, dir, name string, n int) []byte {
	t.Helper()
	data := randomBytes(t, n)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// getExact fetches url and checks a 200 whose Content-Length, length and
// SHA-256 are want's; a mismatch names the first byte that differs. For
// use in goroutines.
func getExact(ctx context.Context, c *http.Client, url string, want []byte) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(want)) {
		return fmt.Errorf("GET %s: status %d, Content-Length %d; want 200 and %d", url, resp.StatusCode, resp.ContentLength, len(want))
	}
	var buf bytes.Buffer
	buf.Grow(len(want) + bytes.MinRead)
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("GET %s: after %d of %d bytes: %v", url, buf.Len(), len(want), err)
	}
	got := buf.Bytes()
	if sha256.Sum256(got) != sha256.Sum256(want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		return fmt.Errorf("GET %s: %d bytes, SHA-256 differs from the file's; first difference at offset %d (window %d)", url, len(got), i, i/coldWindow)
	}
	return nil
}

// poolCompleted is the pool's count of finished tasks in a JSON /stats.
func poolCompleted(t testing.TB, m map[string]any) float64 {
	t.Helper()
	return poolNumber(t, m, "completed")
}

// poolNumber is one numeric field of the "pool" object of a JSON /stats.
func poolNumber(t testing.TB, m map[string]any, key string) float64 {
	t.Helper()
	return statsObjectNumber(t, m, "pool", key)
}

// statsObjectNumber is one numeric field of an object of a JSON /stats.
func statsObjectNumber(t testing.TB, m map[string]any, object, key string) float64 {
	t.Helper()
	p, ok := m[object].(map[string]any)
	if !ok {
		t.Fatalf(`JSON /stats has no %q object: %v`, object, m)
	}
	n, ok := p[key].(float64)
	if !ok {
		t.Fatalf(`%q has no numeric %q: %v`, object, key, p)
	}
	return n
}

// checkNoFileErrors asserts that no download was cut for a failed read.
func checkNoFileErrors(t testing.TB, addr string) {
	t.Helper()
	if n := statsNumber(t, addr, "file_errors"); n != 0 {
		t.Errorf("JSON /stats file_errors = %v, want 0", n)
	}
}

// TestE2EColdDownloadPlain: a cold 9 MiB file (five windows, the last one
// short) comes whole over plain HTTP while another keep-alive connection
// gets its 20 /pings answered; then a Range across windows of the file,
// cold again, has exactly its bytes.
func TestE2EColdDownloadPlain(t *testing.T) {
	root := t.TempDir()
	data := writeFile(t, root, "cold.bin", coldSize)
	path := filepath.Join(root, "cold.bin")
	s := startServer(t, serverOptions{Root: root})
	c := downloadsClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cold := makeCold(t, path)
	m := jsonStats(t, s.Addr)
	before, waitsBefore := poolCompleted(t, m), poolNumber(t, m, "disk_waits")
	start := time.Now()
	var finished atomic.Bool
	done := make(chan error, 1)
	go func() {
		defer finished.Store(true)
		done <- getExact(ctx, c, s.URL("/cold.bin"), data)
	}()

	// A client that does not wait for the disk is answered meanwhile; how
	// many pings overlap the download is logged, not asserted.
	const pings = 20
	p := dial(t, s.Addr)
	overlapped := 0
	for i := 0; i < pings; i++ {
		p.Send(getRequest("/ping"))
		r := p.ReadResponse(false)
		if r.Status != 200 || string(r.Body) != "pong" || r.Header.Get("Connection") == "close" {
			t.Fatalf("/ping %d during the cold download: %d %q, Connection %q", i, r.Status, r.Body, r.Header.Get("Connection"))
		}
		if !finished.Load() {
			overlapped++
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatalf("cold download: %v", err)
	}
	elapsed := time.Since(start)
	// Pool tasks beyond the requests' own (this stats request, the
	// download, the pings) are windows a worker read in.
	m = jsonStats(t, s.Addr)
	fetched := poolCompleted(t, m) - before - 2 - pings
	if waits := poolNumber(t, m, "disk_waits") - waitsBefore; cold && waits == 0 {
		t.Errorf("JSON /stats pool.disk_waits did not move for a download of an evicted file")
	}
	if cold && fetched == 0 {
		t.Logf("no window after the first was read in by a worker: read-ahead brought them in with it (TestE2EColdEvictedMidDownload covers that path)")
	}
	after, total, _ := loadtest.ResidentPages(path)
	t.Logf("cold=%v: %d bytes in %v, %d of %d pings answered before it ended; ~%v pool tasks beyond the requests; %d of %d pages cached afterwards",
		cold, coldSize, elapsed.Round(time.Millisecond), overlapped, pings, fetched, after, total)

	// A range that starts and ends inside windows, none of them resident.
	makeCold(t, path)
	const first, last = 3000000, 7000000
	r := rawDo(t, s.Addr, "GET", "/cold.bin", "Range", fmt.Sprintf("bytes=%d-%d", first, last))
	checkRange(t, "cold Range", r, data, 206, first, last)
	if !bytes.Equal(r.Body, data[first:last+1]) {
		t.Errorf("cold Range: body differs from bytes %d-%d of the file", first, last)
	}
	checkNoFileErrors(t, s.Addr)
}

// TestE2EColdDownloadHTTPS: over HTTPS the reactor preads slices of the
// file to encrypt them; a cold 9 MiB file and a cold small one (read by
// the worker into the response) both arrive byte-exact.
func TestE2EColdDownloadHTTPS(t *testing.T) {
	root := t.TempDir()
	data := writeFile(t, root, "cold.bin", coldSize)
	small := writeFile(t, root, "small.bin", 5000)
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-cold"), serverOptions{Root: root})
	c := tlsClient(t, tlsConfig(ca, 0, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	for _, f := range []struct {
		name string
		data []byte
	}{{"cold.bin", data}, {"small.bin", small}} {
		cold := makeCold(t, filepath.Join(root, f.name))
		start := time.Now()
		if err := getExact(ctx, c, s.TLSURL("/"+f.name), f.data); err != nil {
			t.Fatalf("cold download over HTTPS: %v", err)
		}
		t.Logf("cold=%v: %s, %d bytes over HTTPS in %v", cold, f.name, len(f.data), time.Since(start).Round(time.Millisecond))
	}
	checkNoFileErrors(t, s.Addr)
}

// TestE2EColdManyConcurrent: six distinct cold 5 MiB files downloaded at
// once, so several connections wait for their windows together; every one
// is byte-exact, no read failed, and every connection is gone afterwards.
func TestE2EColdManyConcurrent(t *testing.T) {
	const n, size = 6, 5 << 20
	root := t.TempDir()
	files := make([][]byte, n)
	for i := range files {
		files[i] = writeFile(t, root, fmt.Sprintf("f%d.bin", i), size)
	}
	s := startServer(t, serverOptions{Root: root})
	c := downloadsClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cold := 0
	for i := range files {
		if makeCold(t, filepath.Join(root, fmt.Sprintf("f%d.bin", i))) {
			cold++
		}
	}
	m := jsonStats(t, s.Addr)
	baseline, ok := m["connections"].(float64) // the stats request's own
	if !ok {
		t.Fatalf(`JSON /stats has no numeric "connections": %v`, m)
	}
	before := poolCompleted(t, m)

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := getExact(ctx, c, s.URL(fmt.Sprintf("/f%d.bin", i)), files[i]); err != nil {
				errs <- fmt.Errorf("download %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	elapsed := time.Since(start)
	// Pool tasks beyond the requests' own (the stats request before, the
	// downloads) are windows a worker read in.
	fetched := poolCompleted(t, jsonStats(t, s.Addr)) - before - 1 - n
	c.Transport.(*http.Transport).CloseIdleConnections()

	// Every download's connection is closed: the count is back where it was.
	var open float64
	deadline := time.Now().Add(5 * time.Second)
	for {
		open = statsNumber(t, s.Addr, "connections")
		if open == baseline || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if open != baseline {
		t.Errorf("JSON /stats connections = %v after the downloads and closing the client, want %v as before", open, baseline)
	}
	checkNoFileErrors(t, s.Addr)
	t.Logf("%d of %d files cold: %d x %d MiB in %v; ~%v pool tasks beyond the requests",
		cold, n, n, size>>20, elapsed.Round(time.Millisecond), fetched)
}

// slowDial connects to addr (over TLS when cfg is set) with a 64 KiB
// receive buffer set before the handshake, so that the server gets at
// most its send buffer (tcp_wmem, 4 MiB by default) ahead of the reader.
func slowDial(t testing.TB, addr string, cfg *tls.Config) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{Timeout: ioTimeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 64<<10)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if cfg != nil {
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(ioTimeout))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS handshake with %s: %v", addr, err)
		}
		tc.SetDeadline(time.Time{})
		c = tc
	}
	return c, bufio.NewReaderSize(c, 64<<10)
}

// startDownload sends GET path with Connection: close and reads the
// response head, which must be a 200 with Content-Length size.
func startDownload(t testing.TB, c net.Conn, br *bufio.Reader, path string, size int) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, rawRequest("GET", path, "Connection", "close")); err != nil {
		t.Fatalf("write: %v", err)
	}
	var h []byte
	for !bytes.HasSuffix(h, []byte("\r\n\r\n")) {
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		line, err := br.ReadSlice('\n')
		h = append(h, line...)
		if err != nil {
			t.Fatalf("reading the response head: %v (got %q)", err, clip(h))
		}
	}
	status, hdr, err := parseHead(h)
	if err != nil {
		t.Fatalf("%v in %q", err, h)
	}
	if status != 200 || hdr.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("GET %s: %q, want 200 with Content-Length %d", path, h, size)
	}
}

// sendAhead bounds how far the server can get ahead of a reader that
// stops: its socket's send buffer at most (the maximum of tcp_wmem), plus
// a MiB for the reader's receive buffer and the TLS slice held back.
func sendAhead(t testing.TB) int {
	t.Helper()
	wmem := 4 << 20 // Linux's default
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				wmem = n
			}
		}
	}
	return wmem + 1<<20
}

// TestE2EColdEvictedMidDownload: a cold download whose file is evicted
// again after every 512 KiB the client reads. Evicting only beforehand
// may leave no window for a worker: the first window's read-ahead
// (read_ahead_kb, 8 MiB on some disks) brings the next ones in with it.
// Here windows ahead of the reactor keep going cold, and pages of the
// window being sent vanish under sendfile (or the TLS pread). Byte-exact
// over plain HTTP and HTTPS; how many windows workers read in is logged.
func TestE2EColdEvictedMidDownload(t *testing.T) {
	root := t.TempDir()
	data := writeFile(t, root, "cold.bin", coldSize)
	path := filepath.Join(root, "cold.bin")
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-cold"), serverOptions{Root: root})
	for _, cfg := range []*tls.Config{nil, tlsConfig(ca, 0, 0)} {
		name, addr := "plain", s.Addr
		if cfg != nil {
			name, addr = "https", s.TLSAddr
		}
		t.Run(name, func(t *testing.T) {
			cold := makeCold(t, path)
			before := poolCompleted(t, jsonStats(t, s.Addr))
			start := time.Now()
			c, br := slowDial(t, addr, cfg)
			startDownload(t, c, br, "/cold.bin", coldSize)
			got := make([]byte, coldSize)
			for off := 0; off < coldSize; {
				k := min(512<<10, coldSize-off)
				c.SetReadDeadline(time.Now().Add(ioTimeout))
				if n, err := io.ReadFull(br, got[off:off+k]); err != nil {
					t.Fatalf("after %d of %d bytes: %v", off+n, coldSize, err)
				}
				off += k
				evict(t, path)
			}
			c.Close()
			if !bytes.Equal(got, data) {
				i := 0
				for got[i] == data[i] {
					i++
				}
				t.Fatalf("the body differs from the file from offset %d (window %d)", i, i/coldWindow)
			}
			// Pool tasks beyond the requests' own (the stats request, the
			// download) are windows a worker read in.
			fetched := poolCompleted(t, jsonStats(t, s.Addr)) - before - 2
			if cold && fetched == 0 {
				t.Logf("COLD PATH NOT EXERCISED: no window was read in by a worker")
			}
			t.Logf("cold=%v: %d bytes in %v; ~%v windows read in by workers",
				cold, coldSize, time.Since(start).Round(time.Millisecond), fetched)
			checkNoFileErrors(t, s.Addr)
		})
	}
}

// TestE2EColdTruncatedMidDownload: a file that shrinks mid-download is a
// read that fails where a worker reads the next window in (the file ends
// early). The server has sent the head with the old Content-Length, so it
// can only cut that connection short: the client gets a true prefix of the
// file and then the end of the stream; the failure counts in file_errors
// and http_server_file_read_errors_total; other clients are served as before.
func TestE2EColdTruncatedMidDownload(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "cold.bin")
	ca := newCA(t)
	s := startTLS(t, ca.Leaf(t, "e2e-cold"), serverOptions{Root: root})
	// The file is cut inside a window the server cannot have reached
	// before the truncation, and is longer than the cut by a window.
	cut := (sendAhead(t)/coldWindow+1)*coldWindow + coldWindow/2 + 12345
	size := max(coldSize, cut+coldWindow)
	for i, cfg := range []*tls.Config{nil, tlsConfig(ca, 0, 0)} {
		name, addr := "plain", s.Addr
		if cfg != nil {
			name, addr = "https", s.TLSAddr
		}
		t.Run(name, func(t *testing.T) {
			data := writeFile(t, root, "cold.bin", size)
			evict(t, path) // the windows before the cut are read in too
			c, br := slowDial(t, addr, cfg)
			startDownload(t, c, br, "/cold.bin", size)
			got := make([]byte, 64<<10)
			c.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := io.ReadFull(br, got); err != nil {
				t.Fatalf("the first 64 KiB: %v", err)
			}
			if err := os.Truncate(path, int64(cut)); err != nil {
				t.Fatal(err)
			}
			// The rest, until the server ends the stream: a timeout is a
			// hang, anything else (EOF, a reset, a TLS stream without
			// close_notify) is the cut.
			var end error
			buf := make([]byte, 64<<10)
			for end == nil {
				c.SetReadDeadline(time.Now().Add(ioTimeout))
				n, err := br.Read(buf)
				got = append(got, buf[:n]...)
				end = err
			}
			if errors.Is(end, os.ErrDeadlineExceeded) {
				t.Fatalf("after %d bytes of the truncated file the connection stayed open for %v", len(got), ioTimeout)
			}
			if len(got) > cut {
				t.Fatalf("%d bytes of a response announced as %d, of a file cut to %d", len(got), size, cut)
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Fatalf("the %d bytes before the cut are not the file's", len(got))
			}
			t.Logf("cut after %d bytes (window %d + %d) with %v", len(got), len(got)/coldWindow, len(got)%coldWindow, end)

			if n := statsNumber(t, s.Addr, "file_errors"); n != float64(i+1) {
				t.Errorf("JSON /stats file_errors = %v, want %d", n, i+1)
			}
			fams := scrapeMetrics(t, s.URL("/metrics"))
			if n := metricSeries(t, fams, "http_server_file_read_errors_total"); n != float64(i+1) {
				t.Errorf("http_server_file_read_errors_total = %v, want %d", n, i+1)
			}
			if r := sendOne(t, s.Addr, getRequest("/ping")); r.Status != 200 || string(r.Body) != "pong" {
				t.Errorf("/ping after the cut: %d %q", r.Status, r.Body)
			}
			tlsPing(t, s.TLSAddr, tlsConfig(ca, 0, 0))
		})
	}
}

// TestE2EColdPipelined: cold responses pipelined on one keep-alive
// connection (a large file, a small one, a range, the large one again)
// each wait for their own windows and come back byte-exact and in order,
// and the connection then serves a /ping.
func TestE2EColdPipelined(t *testing.T) {
	root := t.TempDir()
	big := writeFile(t, root, "big.bin", coldSize)
	small := writeFile(t, root, "small.bin", 5000)
	mid := writeFile(t, root, "mid.bin", 3<<20+7)
	s := startServer(t, serverOptions{Root: root})
	for _, name := range []string{"big.bin", "small.bin", "mid.bin"} {
		makeCold(t, filepath.Join(root, name))
	}
	c := dial(t, s.Addr)
	c.Send(getRequest("/big.bin") + getRequest("/small.bin") +
		rawRequest("GET", "/mid.bin", "Range", "bytes=1000-3000000") + getRequest("/big.bin"))
	for i, want := range [][]byte{big, small, mid[1000:3000001], big} {
		r := c.ReadResponse(false)
		if r.Status/100 != 2 || !bytes.Equal(r.Body, want) {
			t.Errorf("pipelined response %d: %d with %d bytes, want %d bytes of the file", i, r.Status, len(r.Body), len(want))
		}
	}
	c.Send(getRequest("/ping"))
	if r := c.ReadResponse(false); r.Status != 200 || string(r.Body) != "pong" {
		t.Errorf("/ping after the pipelined downloads: %d %q", r.Status, r.Body)
	}
	checkNoFileErrors(t, s.Addr)
}
