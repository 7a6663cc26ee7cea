package e2e

// End-to-end download tests: many concurrent 1 GiB downloads, a file split
// into parallel ranges and put back together, downloads abandoned midway
// (no descriptor may stay behind), and, where it is installed, aria2c.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// downloadsClient is a client for large transfers: no overall timeout
// (the caller's context bounds the test), but bounded dialing and waiting
// for the response head.
func downloadsClient(t testing.TB) *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: staticIOTimeout}).DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: staticIOTimeout,
		DisableCompression:    true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// zeroCounter counts what is written to it and checks it is all zeros.
type zeroCounter struct {
	n       int64
	nonZero int64 // offset of the first non-zero byte, -1 if none
}

var zeroBlock = make([]byte, 1<<20)

func (w *zeroCounter) Write(p []byte) (int, error) {
	for q, off := p, w.n; len(q) > 0; {
		k := min(len(q), len(zeroBlock))
		if w.nonZero < 0 && !bytes.Equal(q[:k], zeroBlock[:k]) {
			w.nonZero = off + int64(bytes.IndexFunc(q[:k], func(r rune) bool { return r != 0 }))
		}
		q, off = q[k:], off+int64(k)
	}
	w.n += int64(len(p))
	return len(p), nil
}

// readRSS reads VmRSS and VmHWM (peak) of a process, in KiB.
func readRSS(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch name {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// TestE2EDownloadsConcurrent1GiB: eight concurrent full downloads of a
// 1 GiB (sparse) file with Go's client; each gets exactly 1 GiB of zeros.
// The server's memory does not follow the bytes sent.
func TestE2EDownloadsConcurrent1GiB(t *testing.T) {
	const size = 1 << 30
	const n = 8
	root := t.TempDir()
	p := filepath.Join(root, "big.iso")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOptions{Root: root})
	c := downloadsClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	_, hwmBefore := readRSS(s.Pid())
	var peakRSS int64
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		for {
			if rss, _ := readRSS(s.Pid()); rss > peakRSS {
				peakRSS = rss
			}
			select {
			case <-stopRSS:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL("/big.iso"), nil)
			resp, err := c.Do(req)
			if err != nil {
				errs <- fmt.Errorf("download %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength != size {
				errs <- fmt.Errorf("download %d: status %d, Content-Length %d, want 200 and %d", i, resp.StatusCode, resp.ContentLength, size)
				return
			}
			w := &zeroCounter{nonZero: -1}
			_, err = io.CopyBuffer(w, resp.Body, make([]byte, 1<<20))
			switch {
			case err != nil:
				errs <- fmt.Errorf("download %d: after %d bytes: %v", i, w.n, err)
			case w.n != size:
				errs <- fmt.Errorf("download %d: %d bytes, want %d", i, w.n, size)
			case w.nonZero >= 0:
				errs <- fmt.Errorf("download %d: non-zero byte at offset %d of a sparse file", i, w.nonZero)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopRSS)
	<-rssDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, hwmAfter := readRSS(s.Pid())
	t.Logf("%d x 1 GiB in %v: %.0f MiB/s aggregate; server RSS peak sampled %d MiB, VmHWM %d -> %d MiB",
		n, elapsed.Round(time.Millisecond), float64(n*size)/(1<<20)/elapsed.Seconds(), peakRSS>>10, hwmBefore>>10, hwmAfter>>10)
	// 8 GiB went out; a server that buffered file data would show it.
	if hwmAfter > 256<<10 {
		t.Errorf("server peak RSS %d MiB while sending 8 x 1 GiB, want well under 256 MiB", hwmAfter>>10)
	}
}

// TestE2EDownloadsRangeSplit64MiB: a 64 MiB random file fetched as eight
// ranges in parallel (each 206 with its Content-Range, guarded by If-Range
// as download managers do) and reassembled has the original SHA-256.
func TestE2EDownloadsRangeSplit64MiB(t *testing.T) {
	const size = 64 << 20
	const parts = 8
	root := t.TempDir()
	data := randomBytes(t, size)
	if err := os.WriteFile(filepath.Join(root, "random.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	s := startServer(t, serverOptions{Root: root})
	c := downloadsClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// What a download manager asks first.
	head, _ := http.NewRequestWithContext(ctx, "HEAD", s.URL("/random.bin"), nil)
	resp, err := c.Do(head)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.ContentLength != size || resp.Header.Get("Accept-Ranges") != "bytes" || etag == "" {
		t.Fatalf("HEAD /random.bin: %d, Content-Length %d, Accept-Ranges %q, ETag %q",
			resp.StatusCode, resp.ContentLength, resp.Header.Get("Accept-Ranges"), etag)
	}

	start := time.Now()
	out := make([]byte, size)
	var wg sync.WaitGroup
	errs := make(chan error, parts)
	// Uneven boundaries, so that no part is aligned to anything.
	bounds := make([]int, parts+1)
	for i := range bounds {
		bounds[i] = i * (size / parts)
		if i > 0 && i < parts {
			bounds[i] += i*4099 - 7
		}
	}
	bounds[parts] = size
	for i := 0; i < parts; i++ {
		first, last := bounds[i], bounds[i+1]-1
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL("/random.bin"), nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", first, last))
			req.Header.Set("If-Range", etag)
			resp, err := c.Do(req)
			if err != nil {
				errs <- fmt.Errorf("part %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			wantCR := fmt.Sprintf("bytes %d-%d/%d", first, last, size)
			if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != wantCR || resp.ContentLength != int64(last-first+1) {
				errs <- fmt.Errorf("part %d: %d, Content-Range %q, Content-Length %d; want 206, %q, %d",
					i, resp.StatusCode, resp.Header.Get("Content-Range"), resp.ContentLength, wantCR, last-first+1)
				return
			}
			if _, err := io.ReadFull(resp.Body, out[first:last+1]); err != nil {
				errs <- fmt.Errorf("part %d: %v", i, err)
				return
			}
			if n, _ := resp.Body.Read(make([]byte, 1)); n != 0 {
				errs <- fmt.Errorf("part %d: bytes past the range", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := false
	for err := range errs {
		failed = true
		t.Error(err)
	}
	if failed {
		return
	}
	if got := sha256.Sum256(out); got != want {
		for i := 0; i < parts; i++ {
			if !bytes.Equal(out[bounds[i]:bounds[i+1]], data[bounds[i]:bounds[i+1]]) {
				t.Errorf("part %d (bytes %d-%d) differs from the file", i, bounds[i], bounds[i+1]-1)
			}
		}
		t.Fatalf("reassembled SHA-256 %x, want %x", got, want)
	}
	t.Logf("64 MiB in %d parallel ranges in %v", parts, time.Since(start).Round(time.Millisecond))
}

// TestE2EDownloadsAbortedNoLeak: 200 downloads of a 64 MiB file abandoned
// midway, 20 at a time (whole-file and range requests, closed after a few
// KiB, some with a reset), leave the server with the descriptors it had
// before; then a full download still works.
func TestE2EDownloadsAbortedNoLeak(t *testing.T) {
	const size = 64 << 20
	root := t.TempDir()
	data := randomBytes(t, size)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	data = nil
	s := startServer(t, serverOptions{Root: root})

	// Warm up whatever the server opens lazily, with connections that
	// close, then count.
	for _, req := range []string{
		rawRequest("GET", "/big.bin", "Connection", "close", "Range", "bytes=0-99"),
		rawRequest("GET", "/missing", "Connection", "close"),
		rawRequest("HEAD", "/big.bin", "Connection", "close"),
	} {
		c := staticDial(t, s.Addr)
		c.Send(req)
		c.ReadAll()
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	initial := fdCount(t, s.Pid())

	const total, batch = 200, 20
	start := time.Now()
	sem := make(chan struct{}, batch)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i := 0; i < total; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := abortedDownload(s.Addr, i); err != nil {
				errs <- fmt.Errorf("aborted download %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d aborted downloads in %v", total, time.Since(start).Round(time.Millisecond))

	var now int
	deadline := time.Now().Add(3 * time.Second)
	for {
		now = fdCount(t, s.Pid())
		if now <= initial+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if now > initial+1 {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.Pid()))
		var links []string
		for _, e := range ents {
			l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", s.Pid(), e.Name()))
			links = append(links, e.Name()+"->"+l)
		}
		if len(links) > 30 {
			links = append(links[:30], "...")
		}
		t.Errorf("descriptors: %d before the aborted downloads, %d 3 s after (leak); open: %v", initial, now, links)
	} else {
		t.Logf("descriptors: %d before, %d after", initial, now)
	}

	c := downloadsClient(t)
	got, n, err := downloadSum(c, s.URL("/big.bin"))
	if err != nil || n != size || got != want {
		t.Fatalf("full download after the aborted ones: %d bytes, err %v, SHA-256 equal %v", n, err, got == want)
	}
}

// abortedDownload starts download i, reads a few KiB of it and goes
// away: half of them request the whole file, half a range from the middle;
// one in four leaves with a reset (SO_LINGER 0) instead of a FIN.
func abortedDownload(addr string, i int) error {
	conn, err := net.DialTimeout("tcp", addr, staticIOTimeout)
	if err != nil {
		return err
	}
	tc := conn.(*net.TCPConn)
	if i%4 == 3 {
		tc.SetLinger(0)
	}
	defer tc.Close()
	req := rawRequest("GET", "/big.bin")
	wantStatus := " 200 "
	if i%2 == 1 {
		req = rawRequest("GET", "/big.bin", "Range", fmt.Sprintf("bytes=%d-", 1<<20+i*1000))
		wantStatus = " 206 "
	}
	tc.SetWriteDeadline(time.Now().Add(staticIOTimeout))
	if _, err := io.WriteString(tc, req); err != nil {
		return err
	}
	want := 1024 * (4 + i%64) // 4..67 KiB, head included
	buf := make([]byte, 16*1024)
	var got []byte // the first 64 bytes
	read := 0
	for read < want {
		tc.SetReadDeadline(time.Now().Add(staticIOTimeout))
		n, err := tc.Read(buf)
		got = append(got, buf[:min(n, 64-len(got))]...)
		read += n
		if err != nil {
			return fmt.Errorf("after %d bytes: %v", read, err)
		}
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1")) || !bytes.Contains(got[:min(len(got), 20)], []byte(wantStatus)) {
		return fmt.Errorf("response starts %q, want status%s", clip(got), wantStatus)
	}
	return nil
}

// TestE2EDownloadsAria2c: where aria2c is installed, it fetches the 64 MiB
// file over eight connections and gets the right bytes. aria2c is not a
// CI dependency, so this test skips when it is missing, even under CI.
func TestE2EDownloadsAria2c(t *testing.T) {
	bin, err := exec.LookPath("aria2c")
	if err != nil {
		t.Skip("aria2c is not installed")
	}
	const size = 64 << 20
	root := t.TempDir()
	data := randomBytes(t, size)
	if err := os.WriteFile(filepath.Join(root, "random.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	s := startServer(t, serverOptions{Root: root})
	outDir := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-x", "8", "-s", "8", "-k", "1M",
		"--file-allocation=none", "--allow-overwrite=true", "--auto-file-renaming=false",
		"--console-log-level=warn", "--summary-interval=0", "--no-conf=true",
		"-d", outDir, "-o", "random.bin", s.URL("/random.bin"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if ctx.Err() != nil || !errors.As(err, &ee) {
			t.Fatalf("aria2c: %v (context: %v)\n%s", err, ctx.Err(), out.String())
		}
		t.Fatalf("aria2c exited with %d\n%s", ee.ExitCode(), out.String())
	}
	got, err := os.ReadFile(filepath.Join(outDir, "random.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != size || sha256.Sum256(got) != want {
		t.Fatalf("aria2c got %d bytes, SHA-256 equal %v", len(got), sha256.Sum256(got) == want)
	}
	t.Logf("aria2c -x 8 -s 8: 64 MiB in %v", time.Since(start).Round(time.Millisecond))
}
