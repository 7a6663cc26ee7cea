package reactor

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"http_server/protocol"
	"http_server/workers"

	"golang.org/x/sys/unix"
)

// heldPages says no window past the first is in memory, and holds the
// worker that reads one in until release is closed, or fails it with err.
type heldPages struct {
	release chan struct{}
	err     error
	fetches atomic.Int32 // windows past the first that a worker read
	probes  atomic.Int32 // windows past the first that the reactor probed
}

func (p *heldPages) Resident(fd int, off, n int64) bool {
	if off < workers.Window {
		return true
	}
	p.probes.Add(1)
	return false
}

func (p *heldPages) Fetch(fd int, off, n int64) error {
	if off < workers.Window {
		return workers.PageCache{}.Fetch(fd, off, n)
	}
	p.fetches.Add(1)
	<-p.release
	if p.err != nil {
		return p.err
	}
	return workers.PageCache{}.Fetch(fd, off, n)
}

// fileHandler serves /file from name (its whole length) and answers any
// other path with the path.
func fileHandler(t *testing.T, name string, opened chan<- int) *testHandler {
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		if string(req.Path) != "/file" {
			h.text(req, out, req.Path)
			return
		}
		fd := openFd(name)
		if opened != nil {
			opened <- fd
		}
		h.enc.Encode(out, req, &protocol.Reply{Status: 200, HasFile: true,
			File: protocol.FileSegment{Fd: fd, Len: st.Size()}})
	}}
}

func randomFile(t *testing.T, size int) (string, []byte) {
	data := make([]byte, size)
	rand.Read(data)
	name := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name, data
}

// While a worker waits for a download's next window, the reactor serves
// everyone else; once the window is in, the download goes on byte-exact.
func TestHeldWindowServesOthers(t *testing.T) {
	name, data := randomFile(t, 3*workers.Window+12345)
	pages := &heldPages{release: make(chan struct{})}
	s := startReactor(t, 4, 64, fileHandler(t, name, nil), func(o *Options) { o.Pages = pages })

	dl := dial(t, s.addr)
	io.WriteString(dl, get("/file"))
	br := bufio.NewReader(dl)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != int64(len(data)) {
		t.Fatalf("Content-Length %d, want %d", resp.ContentLength, len(data))
	}
	// The first window arrives; the second is held back on a worker.
	first := make([]byte, workers.Window)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("first window: %v", err)
	}
	waitFor(t, "a worker to be reading the second window", func() bool { return pages.fetches.Load() == 1 })

	other := dial(t, s.addr)
	obr := bufio.NewReader(other)
	for i := 0; i < 50; i++ {
		io.WriteString(other, get(fmt.Sprintf("/ping%d", i)))
		if code, body := readBody(t, obr); code != 200 || body != fmt.Sprintf("/ping%d", i) {
			t.Fatalf("request %d on another connection while the download waits: %d %q", i, code, body)
		}
	}

	close(pages.release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("rest of the download: %v", err)
	}
	if got := append(first, rest...); !bytes.Equal(got, data) {
		t.Fatalf("download of %d bytes differs from the file (got %d bytes)", len(data), len(got))
	}
	if n := pages.fetches.Load(); n != 3 {
		t.Errorf("%d windows read in by a worker, want 3", n)
	}
	// The connection is still good for more.
	io.WriteString(dl, get("/after"))
	if code, body := readBody(t, br); code != 200 || body != "/after" {
		t.Fatalf("after the download: %d %q", code, body)
	}
}

// A disk that fails mid-download cuts that connection only: the client
// sees the body end short, the file is closed, the error is counted.
func TestWindowReadErrorCutsOnlyItsConnection(t *testing.T) {
	name, data := randomFile(t, 2*workers.Window+100)
	pages := &heldPages{release: make(chan struct{}), err: unix.EIO}
	close(pages.release)
	opened := make(chan int, 1)
	s := startReactor(t, 4, 64, fileHandler(t, name, opened), func(o *Options) { o.Pages = pages })

	other := dial(t, s.addr)
	obr := bufio.NewReader(other)
	io.WriteString(other, get("/before"))
	if code, _ := readBody(t, obr); code != 200 {
		t.Fatalf("another connection: %d", code)
	}

	dl := dial(t, s.addr)
	io.WriteString(dl, get("/file"))
	fd := <-opened
	resp, err := http.ReadResponse(bufio.NewReader(dl), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if err == nil || len(got) >= len(data) {
		t.Fatalf("a failed read mid-download must cut the body short: %d of %d bytes, err %v", len(got), len(data), err)
	}
	if !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("the bytes before the cut differ from the file")
	}
	waitFor(t, "the cut connection to close", func() bool { return s.stats.Connections.Load() == 1 })
	if n := s.stats.FileErrors.Load(); n != 1 {
		t.Errorf("file read errors %d, want 1", n)
	}
	if tg, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && tg == name {
		t.Errorf("the file of the cut download is still open")
	}
	io.WriteString(other, get("/after"))
	if code, body := readBody(t, obr); code != 200 || body != "/after" {
		t.Fatalf("the other connection after the cut: %d %q", code, body)
	}
}

// Without a pool the loop reads the window in itself (--workers 0 means
// exactly that), and the download is still whole.
func TestWindowsInline(t *testing.T) {
	name, data := randomFile(t, 2*workers.Window+777)
	pages := &heldPages{release: make(chan struct{})}
	close(pages.release)
	s := startReactor(t, -1, 0, fileHandler(t, name, nil), func(o *Options) { o.Pages = pages })
	c := dial(t, s.addr)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, get("/file"))
	if code, body := readBody(t, bufio.NewReader(c)); code != 200 || body != string(data) {
		t.Fatalf("inline download: %d, %d bytes, equal %v", code, len(body), body == string(data))
	}
	if pages.fetches.Load() != 2 || pages.probes.Load() != 2 {
		t.Errorf("%d windows probed and %d read in, want 2 and 2", pages.probes.Load(), pages.fetches.Load())
	}
}

// A small file leaves with its head in one write, read by the worker; a
// file that shrank before it was read gets a 500, not a short body.
func TestSmallFileReadByWorker(t *testing.T) {
	name, data := randomFile(t, 5000)
	s := startReactor(t, 2, 8, fileHandler(t, name, nil), nil)
	c := dial(t, s.addr)
	br := bufio.NewReader(c)
	io.WriteString(c, get("/file"))
	if code, body := readBody(t, br); code != 200 || body != string(data) {
		t.Fatalf("small file: %d, %d bytes", code, len(body))
	}
	if err := os.Truncate(name, 0); err != nil {
		t.Fatal(err)
	}
	// The handler still announces the old length (it stat-ed before).
	s2 := startReactor(t, 2, 8, &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		h.enc.Encode(out, req, &protocol.Reply{Status: 200, HasFile: true,
			File: protocol.FileSegment{Fd: openFd(name), Len: 5000}})
	}}, nil)
	c2 := dial(t, s2.addr)
	io.WriteString(c2, get("/file"))
	if code, _ := readBody(t, bufio.NewReader(c2)); code != 500 {
		t.Fatalf("a file that shrank before it was read: %d, want 500", code)
	}
}
