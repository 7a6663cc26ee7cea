package reactor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"http_server/protocol"
	"http_server/stats"
	"http_server/workers"
)

// testHandler answers with the request path unless serve is set.
type testHandler struct {
	enc   *protocol.Encoder
	serve func(h *testHandler, req *protocol.Request, out *protocol.Batch)
}

func (h *testHandler) Admit(*protocol.Request) (int64, int) { return 1 << 20, 0 }

func (h *testHandler) Serve(req *protocol.Request, out *protocol.Batch) {
	if req.Err != 0 {
		h.enc.Encode(out, req, &protocol.Reply{Status: req.Err})
		return
	}
	if h.serve != nil {
		h.serve(h, req, out)
		return
	}
	h.text(req, out, req.Path)
}

func (h *testHandler) text(req *protocol.Request, out *protocol.Batch, body []byte) {
	h.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: "text/plain", Body: body})
}

type testServer struct {
	r     *Reactor
	stats *stats.Counters
	addr  string
	done  chan error
}

// startReactor runs a reactor on a loopback port; workers < 0 means inline.
func startReactor(t *testing.T, workersN, queue int, h *testHandler, tweak func(*Options)) *testServer {
	t.Helper()
	enc := &protocol.Encoder{Server: "test"}
	h.enc = enc
	st := stats.New()
	o := Options{Addr: "127.0.0.1", Port: 0, Handler: h, Encoder: enc, Stats: st,
		Parser: protocol.Parser{Limits: protocol.DefaultLimits}, MaxBody: 1 << 20}
	var pool *workers.Pool
	if workersN > 0 {
		pool = workers.NewPool(workersN, queue)
		o.Pool = pool
	}
	if tweak != nil {
		tweak(&o)
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{r: r, stats: st, addr: r.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- r.Run() }()
	t.Cleanup(func() {
		r.Stop()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("reactor did not stop")
		}
		if pool != nil {
			pool.Stop()
		}
	})
	return s
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

func get(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n" }

// readBody reads one response and returns its status and body.
func readBody(t *testing.T, br *bufio.Reader) (int, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestKeepAlive(t *testing.T) {
	for _, n := range []int{-1, 2} {
		t.Run(fmt.Sprintf("workers=%d", n), func(t *testing.T) {
			s := startReactor(t, n, 8, &testHandler{}, nil)
			c := dial(t, s.addr)
			br := bufio.NewReader(c)
			for i := 0; i < 20; i++ {
				p := fmt.Sprintf("/req%d", i)
				io.WriteString(c, get(p))
				if st, body := readBody(t, br); st != 200 || body != p {
					t.Fatalf("got %d %q, want 200 %q", st, body, p)
				}
			}
			if got := s.stats.Accepted.Load(); got != 1 {
				t.Fatalf("accepted %d connections, want 1 (keep-alive)", got)
			}
		})
	}
}

// Invariant 4: responses leave in request order, even when handlers finish
// out of order.
func TestPipeliningOrder(t *testing.T) {
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		var n int
		fmt.Sscanf(string(req.Path), "/%d", &n)
		time.Sleep(time.Duration(n%3) * time.Millisecond)
		h.text(req, out, req.Path)
	}}
	s := startReactor(t, 4, 64, h, func(o *Options) { o.MaxBatch = 3 })
	c := dial(t, s.addr)
	var all bytes.Buffer
	for i := 0; i < 100; i++ {
		all.WriteString(get(fmt.Sprintf("/%d", i)))
	}
	go c.Write(all.Bytes())
	br := bufio.NewReader(c)
	for i := 0; i < 100; i++ {
		if _, body := readBody(t, br); body != fmt.Sprintf("/%d", i) {
			t.Fatalf("response %d is for %s", i, body)
		}
	}
}

// The pool's queue fills: connections wait their turn, nothing is lost,
// and the stats count the refusals.
func TestFullQueue(t *testing.T) {
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		time.Sleep(200 * time.Microsecond)
		h.text(req, out, req.Path)
	}}
	s := startReactor(t, 1, 1, h, nil)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				bad.Add(1)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			for k := 0; k < 20; k++ {
				p := fmt.Sprintf("/%d/%d", i, k)
				io.WriteString(c, get(p))
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					bad.Add(1)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				if string(b) != p {
					bad.Add(1)
				}
			}
		}(i)
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d requests failed or were answered wrongly", bad.Load())
	}
	// The reactor counts a response right after its write returns, which
	// may be just after the client read it.
	waitFor(t, "1000 requests in the stats", func() bool { return s.stats.Snapshot().Requests == 1000 })
	if s.stats.QueueFull.Load() == 0 {
		t.Fatalf("50 clients on 1 worker with a queue of 1 never found the queue full")
	}
	t.Logf("queue full %d times", s.stats.QueueFull.Load())
}

// Invariant 6: a jammed pool does not stop the reactor. With the only
// worker blocked and the queue full, the reactor still accepts and answers
// what needs no worker (a malformed request), and every blocked request is
// answered once the worker is free.
func TestReactorNeverBlocksOnPool(t *testing.T) {
	release := make(chan struct{})
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		if req.PathIs("/block") {
			<-release
		}
		h.text(req, out, req.Path)
	}}
	s := startReactor(t, 1, 1, h, nil)
	var blocked []net.Conn
	for i := 0; i < 4; i++ { // one running, one queued, two stalled
		c := dial(t, s.addr)
		io.WriteString(c, get("/block"))
		blocked = append(blocked, c)
	}
	waitFor(t, "a stalled submit", func() bool { return s.stats.QueueFull.Load() > 0 })

	c := dial(t, s.addr)
	io.WriteString(c, "BAD REQUEST LINE\r\n\r\n")
	if st, _ := readBody(t, bufio.NewReader(c)); st != 400 {
		t.Fatalf("malformed request got %d while the pool was jammed, want 400", st)
	}
	close(release)
	for _, c := range blocked {
		if st, body := readBody(t, bufio.NewReader(c)); st != 200 || body != "/block" {
			t.Fatalf("blocked request got %d %q", st, body)
		}
	}
}

// Invariants 2 and 5: a completion for a connection the client already
// closed is dropped and its file closed, and it never reaches the new
// connection that now has the same descriptor number and slot.
func TestCompletionForClosedConnection(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "payload")
	if err := os.WriteFile(name, []byte("stale response for the first client"), 0o644); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	opened := make(chan int, 1)
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		if !req.PathIs("/file") {
			h.text(req, out, req.Path)
			return
		}
		fd := openFd(name)
		opened <- fd
		<-release
		h.enc.Encode(out, req, &protocol.Reply{Status: 200, HasFile: true,
			File: protocol.FileSegment{Fd: fd, Len: 35}})
	}}
	s := startReactor(t, 2, 4, h, nil)

	first := dial(t, s.addr)
	io.WriteString(first, get("/file"))
	fd := <-opened
	first.(*net.TCPConn).SetLinger(0) // reset: the reactor sees the error at once
	first.Close()
	waitFor(t, "the reactor to close the first connection", func() bool { return s.stats.Connections.Load() == 0 })

	second := dial(t, s.addr) // likely the same fd number and the same slot
	waitFor(t, "the second connection", func() bool { return s.stats.Connections.Load() == 1 })
	close(release)
	io.WriteString(second, get("/mine"))
	br := bufio.NewReader(second)
	if st, body := readBody(t, br); st != 200 || body != "/mine" {
		t.Fatalf("second client got %d %q, want its own response", st, body)
	}
	waitFor(t, "the dropped completion's file to be closed", func() bool {
		target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		return err != nil || target != name
	})
}

// Invariant 3: the bytes a worker reads are not touched while it reads them,
// even when the client keeps sending and the reactor keeps reading.
func TestRequestOwnsItsBytes(t *testing.T) {
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		before := string(req.Path) + "|" + string(req.Body)
		time.Sleep(5 * time.Millisecond) // the reactor reads more meanwhile
		after := string(req.Path) + "|" + string(req.Body)
		if before != after {
			h.text(req, out, []byte("CHANGED: "+before+" -> "+after))
			return
		}
		h.text(req, out, []byte(after))
	}}
	s := startReactor(t, 2, 8, h, func(o *Options) { o.MaxBatch = 1 })
	c := dial(t, s.addr)
	var want []string
	go func() {
		for i := 0; i < 200; i++ {
			body := strings.Repeat(string(rune('a'+i%26)), 100+i)
			fmt.Fprintf(c, "POST /%d HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s", i, len(body), body)
		}
	}()
	for i := 0; i < 200; i++ {
		want = append(want, fmt.Sprintf("/%d|%s", i, strings.Repeat(string(rune('a'+i%26)), 100+i)))
	}
	br := bufio.NewReader(c)
	for i := 0; i < 200; i++ {
		if _, body := readBody(t, br); body != want[i] {
			t.Fatalf("request %d: got %q", i, body)
		}
	}
}

// A panicking handler costs its client a 500, not the server.
func TestHandlerPanic(t *testing.T) {
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		if req.PathIs("/panic") {
			panic("boom")
		}
		h.text(req, out, req.Path)
	}}
	s := startReactor(t, 2, 8, h, nil)
	c := dial(t, s.addr)
	io.WriteString(c, get("/panic"))
	if st, _ := readBody(t, bufio.NewReader(c)); st != 500 {
		t.Fatalf("got %d, want 500", st)
	}
	c2 := dial(t, s.addr)
	io.WriteString(c2, get("/ok"))
	if st, body := readBody(t, bufio.NewReader(c2)); st != 200 || body != "/ok" {
		t.Fatalf("after a panic: %d %q", st, body)
	}
}
