package reactor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"http_server/protocol"
)

// A request that does not arrive in full within the read timeout gets 408
// and the connection closes; an idle keep-alive connection is closed quietly.
func TestTimeouts(t *testing.T) {
	s := startReactor(t, 2, 8, &testHandler{}, func(o *Options) {
		o.HeaderTimeout = 100 * time.Millisecond
		o.IdleTimeout = 100 * time.Millisecond
	})
	slow := dial(t, s.addr)
	io.WriteString(slow, "GET /slow HTTP/1.1\r\nHo")
	if st, _ := readBody(t, bufio.NewReader(slow)); st != 408 {
		t.Fatalf("slow request got %d, want 408", st)
	}

	idle := dial(t, s.addr)
	io.WriteString(idle, get("/x"))
	br := bufio.NewReader(idle)
	if st, _ := readBody(t, br); st != 200 {
		t.Fatalf("got %d", st)
	}
	start := time.Now()
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("idle connection: read %d bytes, %v; want EOF", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("idle connection closed after %v", d)
	}
	waitFor(t, "two timeouts counted", func() bool { return s.stats.TimedOut.Load() == 2 })
}

// A response larger than the socket buffer is resumed on EPOLLOUT at the
// right offset while the client reads slowly.
func TestSlowReaderGetsEveryByte(t *testing.T) {
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	name := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		fd := openFd(name)
		h.enc.Encode(out, req, &protocol.Reply{Status: 200, HasFile: true,
			File: protocol.FileSegment{Fd: fd, Len: int64(len(data))}})
	}}
	s := startReactor(t, 2, 8, h, nil)
	c := dial(t, s.addr)
	io.WriteString(c, get("/big")+get("/big"))
	br := bufio.NewReader(c)
	time.Sleep(100 * time.Millisecond) // let the socket buffers fill
	for i := 0; i < 2; i++ {
		_, body := readBody(t, br)
		if body != string(data) {
			t.Fatalf("response %d: %d bytes, content differs", i, len(body))
		}
	}
}

// A client that stops reading is cut off once no write has succeeded for
// the write timeout, and the file it was sent is closed.
func TestWriteStall(t *testing.T) {
	name := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(name, make([]byte, 32<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	opened := make(chan int, 1)
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		fd := openFd(name)
		opened <- fd
		h.enc.Encode(out, req, &protocol.Reply{Status: 200, HasFile: true,
			File: protocol.FileSegment{Fd: fd, Len: 32 << 20}})
	}}
	s := startReactor(t, 1, 8, h, func(o *Options) { o.WriteTimeout = 100 * time.Millisecond })
	c := dial(t, s.addr)
	io.WriteString(c, get("/big")) // and never read
	fd := <-opened
	waitFor(t, "the stalled connection to be closed", func() bool { return s.stats.Connections.Load() == 0 })
	if s.stats.TimedOut.Load() != 1 {
		t.Fatalf("timed out %d, want 1", s.stats.TimedOut.Load())
	}
	if tg, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err == nil && tg == name {
		t.Fatalf("the file of the cut-off response is still open")
	}
	snap := s.stats.Snapshot()
	if snap.Requests != 1 || snap.BodyBytes == 0 || snap.BodyBytes >= 32<<20 {
		t.Fatalf("a cut-off download counts its bytes that left: %+v", snap)
	}
}

// A job that waits for room in a full pool longer than the queue timeout
// gets 503 with the connection closed; the jobs ahead of it still finish.
func TestQueueTimeout(t *testing.T) {
	release := make(chan struct{})
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		if req.Err == 0 && req.PathIs("/block") {
			<-release
		}
		h.text(req, out, req.Path)
	}}
	s := startReactor(t, 1, 1, h, func(o *Options) { o.QueueTimeout = 200 * time.Millisecond })
	running, queued, waiting := dial(t, s.addr), dial(t, s.addr), dial(t, s.addr)
	io.WriteString(running, get("/block"))
	time.Sleep(20 * time.Millisecond)
	io.WriteString(queued, get("/block"))
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	io.WriteString(waiting, get("/late"))
	br := bufio.NewReader(waiting)
	if st, _ := readBody(t, br); st != 503 {
		t.Fatalf("a job stalled past the queue timeout got %d, want 503", st)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("503 after %v, want about 200ms", d)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the 503: %d bytes, %v; want EOF", n, err)
	}
	close(release)
	for _, c := range []net.Conn{running, queued} {
		if st, body := readBody(t, bufio.NewReader(c)); st != 200 || body != "/block" {
			t.Fatalf("job ahead of the stalled one: %d %q", st, body)
		}
	}
}
