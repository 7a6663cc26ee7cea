package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers like http_server on a few paths: /ping (200 pong),
// /big (200, 256 KiB), anything else 404. After closeAfter requests on a
// connection (if set) it answers with Connection: close and closes, like
// --max-requests. It counts the requests it answered. With respond, that
// answers every request instead: status, extra header lines (each ending
// in CRLF) and body.
type fakeServer struct {
	ln         net.Listener
	closeAfter int
	delay      time.Duration
	respond    func(*http.Request) (int, string, []byte)
	served     atomic.Int64
	conns      atomic.Int64
	wg         sync.WaitGroup
}

func startFake(t *testing.T, closeAfter int) *fakeServer {
	t.Helper()
	return startFakeWith(t, closeAfter, nil)
}

func startFakeWith(t *testing.T, closeAfter int, respond func(*http.Request) (int, string, []byte)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, closeAfter: closeAfter, respond: respond}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

var bigBody = make([]byte, 256<<10)

func (s *fakeServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for n := 1; ; n++ {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		if s.delay > 0 {
			time.Sleep(s.delay)
		}
		status, extra, body := 200, "", []byte("pong")
		switch {
		case s.respond != nil:
			status, extra, body = s.respond(req)
		case req.URL.Path == "/ping":
		case req.URL.Path == "/big":
			body = bigBody
		default:
			status, body = 404, []byte("not found")
		}
		closing := s.closeAfter > 0 && n >= s.closeAfter
		fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nServer: fake\r\nContent-Length: %d\r\n%s", status, http.StatusText(status), len(body), extra)
		if closing {
			w.WriteString("Connection: close\r\n")
		}
		w.WriteString("\r\n")
		w.Write(body)
		s.served.Add(1)
		if closing {
			w.Flush()
			return
		}
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}

func scenarioOf(addr string, items ...Item) *Scenario {
	return &Scenario{Name: "test", Items: items}
}

func item(name string, weight int, path, addr string) Item {
	return Item{Name: name, Weight: weight, Requests: [][]byte{[]byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")}}
}

func TestRunCountsResponsesBytesAndLatency(t *testing.T) {
	s := startFake(t, 0)
	addr := s.ln.Addr().String()
	res, err := Run(context.Background(), Options{
		Addr: addr, Scenario: scenarioOf(addr, item("ping", 3, "/ping", addr), item("missing", 1, "/nope", addr)),
		Connections: 4, Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 100 {
		t.Fatalf("only %d requests", res.Requests)
	}
	if res.Errors.Total() != 0 {
		t.Errorf("errors: %+v", res.Errors)
	}
	// The warm-up and the requests cut by the end are not counted.
	if served := s.served.Load(); res.Requests >= served {
		t.Errorf("measured %d requests, server answered %d: warm-up not excluded", res.Requests, served)
	}
	if res.Latency.Count() != res.Requests {
		t.Errorf("histogram holds %d, requests %d", res.Latency.Count(), res.Requests)
	}
	if res.PerItem["ping"]+res.PerItem["missing"] != res.Requests || res.PerItem["missing"] != res.Non2xx {
		t.Errorf("per item %v, non-2xx %d, requests %d", res.PerItem, res.Non2xx, res.Requests)
	}
	share := float64(res.Non2xx) / float64(res.Requests)
	if share < 0.2 || share > 0.3 {
		t.Errorf("404 share %.3f, want about 0.25", share)
	}
	if res.Elapsed != 400*time.Millisecond {
		t.Errorf("elapsed %v", res.Elapsed)
	}
	if res.RPS() <= 0 || res.BytesPerSec() < float64(res.Requests)*40/res.Elapsed.Seconds() {
		t.Errorf("rps %.0f, bytes/s %.0f", res.RPS(), res.BytesPerSec())
	}
	if p := res.Latency.Quantile(0.5); p <= 0 || p > time.Second {
		t.Errorf("median latency %v", p)
	}
}

func TestRunPipelinedAndReconnecting(t *testing.T) {
	s := startFake(t, 10) // the server closes every connection after 10 requests
	addr := s.ln.Addr().String()
	res, err := Run(context.Background(), Options{
		Addr: addr, Scenario: scenarioOf(addr, item("ping", 1, "/ping", addr)),
		Connections: 2, Pipeline: 4, Requests: 500,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 500 || res.Latency.Count() != 500 {
		t.Errorf("requests %d, histogram %d, want exactly 500", res.Requests, res.Latency.Count())
	}
	if res.Errors.Total() != 0 || res.Non2xx != 0 {
		t.Errorf("errors %+v, non-2xx %d", res.Errors, res.Non2xx)
	}
	if res.Reconnects < 40 || s.conns.Load() < 50 {
		t.Errorf("reconnects %d, server saw %d connections; want about 50", res.Reconnects, s.conns.Load())
	}
}

func TestRunLargeBodies(t *testing.T) {
	s := startFake(t, 0)
	addr := s.ln.Addr().String()
	sc := scenarioOf(addr, item("big", 1, "/big", addr))
	sc.LargeBodies = true
	res, err := Run(context.Background(), Options{Addr: addr, Scenario: sc, Connections: 2, Requests: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || res.Errors.Total() != 0 {
		t.Fatalf("requests %d errors %+v", res.Requests, res.Errors)
	}
	if res.Bytes < 50*int64(len(bigBody)) {
		t.Errorf("bytes %d, want at least %d", res.Bytes, 50*len(bigBody))
	}
}

func TestRunCountsConnectErrorsAndTimeouts(t *testing.T) {
	// Nothing listens: every dial fails, and the run still ends on time.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	res, err := Run(context.Background(), Options{
		Addr: addr, Scenario: scenarioOf(addr, item("ping", 1, "/ping", addr)),
		Connections: 2, Duration: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors.Connect == 0 || res.Requests != 0 || time.Since(start) > 2*time.Second {
		t.Errorf("errors %+v, requests %d, took %v", res.Errors, res.Requests, time.Since(start))
	}

	// A server that never answers: the requests in flight at the end are
	// timeouts once they are older than Timeout.
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	addr = silent.Addr().String()
	res, err = Run(context.Background(), Options{
		Addr: addr, Scenario: scenarioOf(addr, item("ping", 1, "/ping", addr)),
		Connections: 3, Duration: 300 * time.Millisecond, Timeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors.Timeout != 3 || res.Requests != 0 {
		t.Errorf("timeouts %d (want 3), requests %d", res.Errors.Timeout, res.Requests)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	s := startFake(t, 0)
	addr := s.ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var progress atomic.Int64
	_, err := Run(ctx, Options{
		Addr: addr, Scenario: scenarioOf(addr, item("ping", 1, "/ping", addr)),
		Connections: 2, Duration: time.Hour,
		Progress: func(Progress) { progress.Add(1) },
	})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	sc := scenarioOf("x", item("ping", 1, "/ping", "x"))
	for _, o := range []Options{
		{Addr: "x", Connections: 1, Duration: time.Second},
		{Addr: "x", Scenario: sc, Duration: time.Second},
		{Addr: "x", Scenario: sc, Connections: 1},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
