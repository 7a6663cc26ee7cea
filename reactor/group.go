package reactor

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Group is several loops, each a Reactor with its own epoll set, timers and
// connections, all handing jobs to the one pool; a job's completion goes
// back to the loop that owns its connection (job.r), never to another.
//
// Connections are spread by the kernel: each loop binds its own listener
// to the same port with SO_REUSEPORT, so each has its own accept queue and
// no loop wakes for another's connection. A socket passed by the service
// manager is one socket: every loop waits on it with EPOLLEXCLUSIVE, which
// wakes one loop per connection. See DESIGN.md for why.
//
// What is global stays global: --max-conns counts every loop's connections
// (stats.Connections), the handshake cap is shared out between the loops, the
// watchdog is fed only while every loop turns, and a drain ends when every
// loop has drained.
type Group struct {
	loops    []*Reactor
	sharedFd int // the adopted socket every loop shares (-1: none), closed after the loops
}

// withHandshakeShare gives loop i of n its share of total concurrent
// handshakes: the shares add up to total, and each loop has at least one
// (with fewer handshakes allowed than loops, the bound is the loop count).
func withHandshakeShare(o Options, total, n, i int) Options {
	if o.TLS == nil || n == 1 {
		return o
	}
	t := *o.TLS
	t.MaxHandshakes = handshakeShare(total, n, i)
	o.TLS = &t
	return o
}

func handshakeShare(total, n, i int) int {
	share := total / n
	if i < total%n {
		share++
	}
	return max(share, 1)
}

// NewGroup opens n loops (n < 1 counts as 1). One loop is exactly a
// Reactor as New makes it.
func NewGroup(o Options, n int) (*Group, error) {
	n = max(n, 1)
	g := &Group{sharedFd: -1}
	if n > 1 {
		if o.ListenFd > 0 {
			o.SharedListenFd = true
			g.sharedFd = o.ListenFd
		} else {
			o.ReusePort = true
		}
	}
	total := 0
	if o.TLS != nil {
		if total = o.TLS.MaxHandshakes; total <= 0 {
			total = 256
		}
	}
	first, err := New(withHandshakeShare(o, total, n, 0))
	if err != nil {
		return nil, err
	}
	g.loops = append(g.loops, first)
	// The other loops bind the ports the first one got (port 0 picks once).
	if a := first.Addr(); a != nil && !o.SharedListenFd {
		o.Port = a.Port
	}
	if a := first.TLSAddr(); a != nil {
		t := *o.TLS
		t.Port = a.Port
		o.TLS = &t
	}
	for i := 1; i < n; i++ {
		lo := o
		if o.AccessLog != nil {
			lo.AccessLog = o.AccessLog.ForLoop() // each loop formats its own lines
		}
		r, err := New(withHandshakeShare(lo, total, n, i))
		if err != nil {
			g.Close()
			return nil, err
		}
		g.loops = append(g.loops, r)
	}
	return g, nil
}

// Run runs every loop and returns once all have returned, with the first
// error any of them met. A loop that fails stops the others.
func (g *Group) Run() error {
	if len(g.loops) == 1 {
		return g.loops[0].Run()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(g.loops))
	for i, r := range g.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = r.Run(); errs[i] != nil {
				g.Stop()
			}
		}()
	}
	wg.Wait()
	g.closeShared()
	return errors.Join(errs...)
}

// Stop asks every loop to return. Safe from any goroutine.
func (g *Group) Stop() {
	for _, r := range g.loops {
		r.Stop()
	}
}

// Drain asks every loop to drain (Reactor.Drain); Run returns when all have.
func (g *Group) Drain() {
	for _, r := range g.loops {
		r.Drain()
	}
}

// Alive reports whether every loop turned within the last d.
func (g *Group) Alive(d time.Duration) bool {
	for _, r := range g.loops {
		if !r.Alive(d) {
			return false
		}
	}
	return true
}

// Addr is the address the plain-HTTP listeners are bound to (nil: none).
func (g *Group) Addr() *net.TCPAddr { return g.loops[0].Addr() }

// TLSAddr is the address the HTTPS listeners are bound to (nil: none).
func (g *Group) TLSAddr() *net.TCPAddr { return g.loops[0].TLSAddr() }

// Settle waits until every loop has counted the responses it had written
// when Settle was called. A loop counts a response once its bytes have
// left, so for a moment a client can hold a response that /stats, served
// on another loop, does not count yet; /stats calls Settle first. It waits
// for a loop only while that loop is in a turn (microseconds), and never
// more than 10 ms in all. Not for code running on a loop (--workers 0):
// it would wait for itself.
func (g *Group) Settle() {
	if len(g.loops) == 1 {
		return // one loop writes, counts and serves /stats in that order
	}
	deadline := time.Now().Add(settleLimit)
	for _, r := range g.loops {
		t := r.turns.Load()
		for t%2 == 1 && r.turns.Load() == t && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
}

// settleLimit bounds Settle's wait (tests lengthen it).
var settleLimit = 10 * time.Millisecond

// Loops is the number of loops.
func (g *Group) Loops() int { return len(g.loops) }

// Connections is each loop's open connections, in loop order.
func (g *Group) Connections() []int64 {
	n := make([]int64, len(g.loops))
	for i, r := range g.loops {
		n[i] = r.open.Load()
	}
	return n
}

// Close frees a group that will not Run.
func (g *Group) Close() {
	for _, r := range g.loops {
		r.Close()
	}
	g.closeShared()
}

func (g *Group) closeShared() {
	if g.sharedFd >= 0 {
		unix.Close(g.sharedFd)
		g.sharedFd = -1
	}
}
