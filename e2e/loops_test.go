package e2e

// Several event loops (--loops): connections land on every loop, /stats
// counts each loop's, and a response always goes back on the connection
// that asked for it, whichever loop owns it.

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// loopConnections is the "loops" array of a JSON /stats.
func loopConnections(t testing.TB, addr string) []float64 {
	t.Helper()
	m := jsonStats(t, addr)
	raw, ok := m["loops"].([]any)
	if !ok {
		t.Fatalf(`JSON /stats has no "loops" array: %v`, m)
	}
	n := make([]float64, len(raw))
	for i, v := range raw {
		if n[i], ok = v.(float64); !ok {
			t.Fatalf(`"loops"[%d] is not a number: %v`, i, raw)
		}
	}
	return n
}

// TestLoopsSpreadConnections: with --loops 2, 40 keep-alive connections
// land on both loops (each has its own listener on the port; the kernel
// spreads by address, so all 40 on one loop has odds of 2^-39), and
// /stats counts them per loop.
func TestLoopsSpreadConnections(t *testing.T) {
	s := startServer(t, serverOptions{Loops: 2})
	const conns = 40
	cs := make([]*rawConn, conns)
	for i := range cs {
		cs[i] = dial(t, s.Addr)
		defer cs[i].Close()
		cs[i].Send(getRequest("/ping"))
		if r := cs[i].ReadResponse(false); r.Status != 200 || string(r.Body) != "pong" {
			t.Fatalf("connection %d: /ping answered %d %q", i, r.Status, r.Body)
		}
	}
	per := loopConnections(t, s.Addr)
	if len(per) != 2 {
		t.Fatalf(`JSON /stats "loops" = %v, want 2 loops`, per)
	}
	total := per[0] + per[1]
	if total != conns+1 { // the stats request's own connection counts too
		t.Errorf(`"loops" = %v: %v connections, want %d`, per, total, conns+1)
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf(`"loops" = %v: a loop got no connection`, per)
	}
	t.Logf("connections per loop: %v", per)

	one := startServer(t, serverOptions{Loops: 1})
	if per := loopConnections(t, one.Addr); len(per) != 1 || per[0] != 1 {
		t.Errorf(`--loops 1: "loops" = %v, want [1]`, per)
	}
}

// TestLoopsAnswersReachTheirConnection: 24 connections spread over 3 loops
// each pipeline 40 /echo requests carrying their own tag; every response
// echoes the tag of the request it answers, in order. A completion handed
// to the wrong loop, or to the wrong connection, shows up as a foreign or
// missing tag.
func TestLoopsAnswersReachTheirConnection(t *testing.T) {
	s := startServer(t, serverOptions{Loops: 3, Args: []string{"--workers", "8"}})
	const conns, reqs = 24, 40
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, s.Addr)
			defer c.Close()
			var b strings.Builder
			for k := 0; k < reqs; k++ {
				fmt.Fprintf(&b, "GET /echo HTTP/1.1\r\nHost: e2e\r\nX-Tag: c%d-r%d\r\n\r\n", i, k)
			}
			c.Send(b.String())
			for k := 0; k < reqs; k++ {
				r := c.ReadResponse(false)
				want := fmt.Sprintf("X-Tag: c%d-r%d", i, k)
				if r.Status != 200 || !strings.Contains(string(r.Body), want) {
					errs <- fmt.Errorf("connection %d, response %d: %d %q, want a body with %q", i, k, r.Status, r.Body, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if per := loopConnections(t, s.Addr); len(per) != 3 {
		t.Errorf(`"loops" = %v, want 3 loops`, per)
	}
}
