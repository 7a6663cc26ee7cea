package reactor

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"http_server/protocol"
)

// Drain refuses new connections, closes idle ones at once, lets a request
// in a worker finish with Connection: close, and then Run returns.
func TestDrain(t *testing.T) {
	release := make(chan struct{})
	h := &testHandler{serve: func(h *testHandler, req *protocol.Request, out *protocol.Batch) {
		if req.PathIs("/slow") {
			<-release
		}
		h.text(req, out, req.Path)
	}}
	s := startReactor(t, 2, 8, h, nil)
	idle := dial(t, s.addr)
	io.WriteString(idle, get("/x"))
	idleBr := bufio.NewReader(idle)
	readBody(t, idleBr)
	busy := dial(t, s.addr)
	io.WriteString(busy, get("/slow"))
	time.Sleep(20 * time.Millisecond) // the slow request reaches a worker

	s.r.Drain()
	if n, err := idleBr.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("idle connection during a drain: %d bytes, %v; want EOF", n, err)
	}
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case <-s.done:
		t.Fatal("Run returned with a request still in a worker")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	br := bufio.NewReader(busy)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("in-flight request during a drain: %v %v (want 200 and Connection: close)", resp, err)
	}
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
}
