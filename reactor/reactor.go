// Package reactor owns every socket: it accepts, reads, parses, hands
// complete requests to the worker pool and writes the responses that come
// back, without ever blocking. See DESIGN.md for the invariants it keeps.
// It is built on Linux's epoll, eventfd and sendfile, and only for Linux.
//
// One file per stage, in the order a request meets them:
//
//	reactor.go      the loop: epoll events, completions, timers, drain
//	accept.go       listeners, accept, refusal over --max-conns, pauses
//	conn.go         a connection's state and the epoll interest it implies
//	read.go         bytes in, requests framed, one job per batch
//	jobs.go         jobs out to the pool and back (completions.go carries them)
//	write.go        responses out in order; after: the one place that closes
//	transport.go    plain socket or TLS: the only difference on the data path
//	timeouts.go     each state's deadline and what passing it costs
//	record.go       stats and the access log, by the bytes that left
//	tls.go          the TLS handshake (tls_memconn.go: crypto/tls's conn)
//	poller.go, socket.go   the epoll set and the socket system calls
package reactor

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"http_server/logging"
	"http_server/protocol"
	"http_server/stats"
	"http_server/workers"

	"golang.org/x/sys/unix"
)

// Submitter is the worker pool as the reactor sees it: submits that never
// block, for requests and, in a lane of their own, for reading file
// windows in.
type Submitter interface {
	TrySubmit(task func()) bool
	TrySubmitRead(task func()) bool
}

// Options configure a Reactor. Zero durations take the defaults below.
type Options struct {
	Addr     string
	Port     int
	Backlog  int
	ListenFd int // an already listening socket to adopt (systemd socket activation); 0: listen on Addr:Port

	// Set by Group for its loops: each binds its own listeners to the same
	// ports, or shares the adopted socket (which the Group then closes).
	ReusePort      bool
	SharedListenFd bool

	Handler workers.Handler
	Pages   workers.Pages // whether a file's pages are in memory, and how a worker reads them in (nil: the page cache)
	Pool    Submitter     // nil: handlers run inline on the reactor
	Parser  protocol.Parser
	Encoder *protocol.Encoder
	Stats   *stats.Counters

	MaxBody  int64 // largest body any route admits; sizes the read buffer
	MaxBatch int   // requests of one connection handed to one task

	HeaderTimeout  time.Duration // from a request's first byte to its complete head (408)
	BodyTimeout    time.Duration // from the complete head to the complete body (408)
	SilenceTimeout time.Duration // an incomplete request may be silent this long (0: off)
	IdleTimeout    time.Duration // keep-alive connection with nothing to do
	WriteTimeout   time.Duration // between two successful writes of pending output
	LingerTimeout  time.Duration // draining input after the last response
	QueueTimeout   time.Duration // longest wait for room in the pool's queue (503)

	// Heartbeat caps how long the loop sleeps, so Alive can tell an idle
	// loop from a stuck one at that resolution (0: one second).
	Heartbeat time.Duration

	AccessLog *logging.Access // one line per response, formatted here and written off the loop (nil: off)

	NoPlain bool        // no plain-HTTP listener (HTTPS only)
	TLS     *TLSOptions // an HTTPS listener as well (nil: none)

	MaxConns    int  // open connections; past it new ones get 503 and close (0: no cap)
	MaxRequests int  // requests served per connection before it closes (0: no cap)
	Expect      bool // honour Expect: 100-continue (modern mode)
}

const (
	readBufSize   = 4096
	sendfileChunk = 256 << 10 // measured: 2 MiB chunks left S4 at 0.93x nginx, 256 KiB interleave clients better
	sendBudget    = 256 << 10 // file bytes per connection per loop turn, so downloads cannot starve others (/ping p99 behind 4 cold downloads: 4 MiB 7-11 ms, 1 MiB 4-6 ms, 256 KiB 1.4-5 ms; 16 cached 1 GiB downloads 1.14x faster than with 1 MiB)
	yieldCap      = 50 * time.Microsecond
	maxFreeBufs   = 256 // recycled 4 KiB read buffers kept: 1 MiB
	maxFreeJobs   = 256 // recycled jobs kept
	acceptPause   = 100 * time.Millisecond
)

// Reactor is one event loop with its listener.
type Reactor struct {
	opts     Options
	handler  workers.Handler
	pages    workers.Pages
	pool     Submitter
	parser   protocol.Parser
	enc      *protocol.Encoder
	stats    *stats.Counters
	access   *logging.Access
	entry    logging.Entry // reused for each access-log line
	maxBuf   int
	maxSleep int // milliseconds an idle loop sleeps at most

	lis   []listener
	poll  *poller
	done  *completions
	table table

	timers   timerHeap
	jobs     []*job     // recycled jobs
	bufs     [][]byte   // recycled read buffers
	stalled  []uint64   // connections whose job waits for room in the pool, oldest first
	inline   []*job     // jobs served inline, waiting to be written
	more     []uint64   // connections that go on sending next turn (their budget ran out)
	moreNext []uint64   // the other half of more's double buffer
	inflight int        // jobs in the pool
	kicked   bool       // this turn made a handshake goroutine runnable: yield before sleeping
	tls      *tlsServer // nil: no HTTPS listener
	scratch  []byte     // lingering reads land here
	refusal  protocol.Batch

	epoch        time.Time
	clock        int64         // nanoseconds since epoch, read once per loop turn
	acceptPaused int64         // when accepting resumes after EMFILE (0: not paused)
	acceptLogged bool          // this episode of descriptor exhaustion was logged
	heartbeat    atomic.Int64  // wall-clock nanoseconds of the loop's latest turn
	open         atomic.Int64  // this loop's open connections, for the per-loop gauges
	turns        atomic.Uint64 // odd while a turn runs: bytes may have left that are not yet counted (Group.Settle)
	stopping     atomic.Bool
	drainReq     atomic.Bool
	draining     bool // no new connections; each open one closes after its current response
}

// New opens the listener and the epoll set. Errors name what failed.
func New(o Options) (*Reactor, error) {
	if o.Handler == nil || o.Encoder == nil || o.Stats == nil {
		return nil, errors.New("reactor: Handler, Encoder and Stats are required")
	}
	setDefaults(&o)
	if o.NoPlain && o.TLS == nil {
		return nil, errors.New("reactor: no listener: NoPlain without TLS")
	}
	r := &Reactor{
		opts: o, handler: o.Handler, pool: o.Pool, parser: o.Parser, enc: o.Encoder,
		stats: o.Stats, access: o.AccessLog, epoch: time.Now(), pages: o.Pages,
		// Room for a head and a body; a chunked body's framing gets twice
		// the body limit plus a margin before it counts as too large.
		maxBuf:   o.Parser.Limits.MaxHeaderBytes + 2*int(o.MaxBody) + 4096,
		scratch:  make([]byte, 64<<10),
		maxSleep: 1000,
	}
	if o.Heartbeat > 0 {
		r.maxSleep = max(1, int(o.Heartbeat/time.Millisecond))
	}
	if err := r.openListeners(); err != nil {
		r.release()
		return nil, err
	}
	var err error
	if r.poll, err = newPoller(512); err != nil {
		r.release()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	if r.done, err = newCompletions(); err != nil {
		r.release()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	err = r.poll.add(r.done.efd, unix.EPOLLIN, slotWake, 0)
	for i := 0; err == nil && i < len(r.lis); i++ {
		err = r.poll.add(r.lis[i].fd, r.lis[i].events(), slotListener-int32(i), 0)
		r.lis[i].active = true
	}
	if err != nil {
		r.release()
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return r, nil
}

func setDefaults(o *Options) {
	if o.Pages == nil {
		o.Pages = workers.PageCache{}
	}
	if o.Backlog <= 0 {
		o.Backlog = 4096
	}
	if o.Parser.Limits == (protocol.Limits{}) {
		o.Parser.Limits = protocol.DefaultLimits
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 32
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 60 * time.Second
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = 60 * time.Second
	}
	if o.QueueTimeout <= 0 {
		o.QueueTimeout = 10 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 75 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 60 * time.Second
	}
	if o.LingerTimeout <= 0 {
		o.LingerTimeout = 2 * time.Second
	}
}

// Alive reports whether the event loop turned within the last d: the loop
// wakes at least every Options.Heartbeat, so a stale heartbeat means it is stuck.
// The systemd watchdog is fed only while this holds.
func (r *Reactor) Alive(d time.Duration) bool {
	return time.Now().UnixNano()-r.heartbeat.Load() < int64(d)
}

// Addr is the address the plain-HTTP listener is bound to (nil: none).
func (r *Reactor) Addr() *net.TCPAddr { return r.listenerAddr(false) }

// TLSAddr is the address the HTTPS listener is bound to (nil: none).
func (r *Reactor) TLSAddr() *net.TCPAddr { return r.listenerAddr(true) }

func (r *Reactor) listenerAddr(tls bool) *net.TCPAddr {
	for i := range r.lis {
		if r.lis[i].tls == tls {
			return r.lis[i].addr
		}
	}
	return nil
}

// Stop asks Run to return. Safe from any goroutine.
func (r *Reactor) Stop() {
	r.stopping.Store(true)
	r.done.wake()
}

// Drain asks Run to stop accepting, let every connection finish the request
// it is in, close it after that response, and return once none is left.
// Stop cuts a drain short. Safe from any goroutine.
func (r *Reactor) Drain() {
	r.enc.Drain()
	r.drainReq.Store(true)
	r.done.wake()
}

func (r *Reactor) now() int64 { return r.clock }

// tick reads the clock once per loop turn: for the timers, the watchdog's
// heartbeat and the responses' Date, which workers then never read the
// clock for (time.Now was 8% of pipelined /ping's CPU profile).
func (r *Reactor) tick() {
	now := time.Now()
	r.clock = int64(now.Sub(r.epoch))
	r.heartbeat.Store(now.UnixNano())
	protocol.TickDate(now)
}

// Run is the event loop. It returns after Stop, with every connection closed
// and every job back from the pool.
func (r *Reactor) Run() error {
	defer r.release()

	r.tick()
	defer func() {
		if r.turns.Load()%2 == 1 {
			r.turns.Add(1)
		}
	}()
	for !r.stopping.Load() {
		if r.turns.Load()%2 == 1 {
			r.turns.Add(1) // even: between turns, all that was written is counted
		}
		timeout := r.nextTimeout(r.maxSleep)
		if r.acceptPaused != 0 {
			// wake when accepting resumes, not a whole idle sleep later
			timeout = min(timeout, max(0, int((r.acceptPaused-r.now()+999_999)/1_000_000)))
		}
		if len(r.stalled) > 0 && timeout > 1 {
			timeout = 1 // a worker slot may free up without a completion
		}
		if r.done.pending() || len(r.inline) > 0 || len(r.more) > 0 {
			timeout = 0
		} else if (r.inflight > 0 || r.kicked) && timeout != 0 {
			if r.done.spin(yieldCap) {
				timeout = 0
			}
		}
		r.kicked = false
		if timeout != 0 {
			r.done.sleeping.Store(true)
			if r.done.pending() {
				timeout = 0
			}
		}
		n, err := r.poll.wait(timeout)
		r.turns.Add(1) // odd: a turn that may write runs
		r.done.sleeping.Store(false)
		if err != nil {
			r.closeAll()
			return fmt.Errorf("epoll_wait: %w", err)
		}
		r.tick()
		if r.done.pending() {
			// Responses that are ready leave before this turn's downloads
			// take their budgets: a /ping behind busy downloads waits for
			// one round of sendfile, not two.
			r.complete()
		}
		for i := 0; i < n; i++ {
			ev := r.poll.events[i]
			switch {
			case ev.Fd >= 0:
				if c := r.table.bySlot(ev.Fd, uint32(ev.Pad)); c != nil {
					r.handle(c, ev.Events)
				}
			case ev.Fd == slotWake:
				r.done.acknowledge()
			default:
				if l := &r.lis[slotListener-ev.Fd]; l.fd >= 0 {
					r.acceptAll(l)
				}
			}
		}
		r.expire() // before complete: a timeout may queue an error response
		r.complete()
		r.sendMore()
		r.retryStalled()
		r.resumeAccept()
		if r.drainReq.Load() && !r.draining {
			r.startDrain()
		}
		if r.draining && r.table.open == 0 && r.inflight == 0 && len(r.inline) == 0 {
			break
		}
	}
	r.closeAll()
	return nil
}

// handle dispatches one epoll event; EPOLLOUT first, so a connection that
// can write drains its output before it reads more requests.
func (r *Reactor) handle(c *conn, events uint32) {
	if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		// HUP: both directions are shut (the peer reset, or closed after our
		// shutdown); ERR: a socket error. Nothing more can be delivered.
		r.after(c, stepAbort)
		return
	}
	if events&unix.EPOLLOUT != 0 {
		if s := r.writable(c); s == stepClose || s == stepAbort {
			r.after(c, s)
			return
		}
	}
	s := stepOn
	if events&unix.EPOLLIN != 0 {
		s = r.readable(c)
	}
	r.after(c, s)
}

// startDrain closes the listener, so new connections are refused, and every
// connection that is between requests. The others close after their
// current response (process checks r.draining).
func (r *Reactor) startDrain() {
	r.draining = true
	r.closeListener()
	for _, c := range r.table.conns {
		if (c.state == stateReading || c.state == stateHandshake) && !c.buffered() {
			r.closeConn(c)
		}
	}
}

// closeAll closes every connection and waits (briefly) for jobs in the pool,
// releasing what they hold.
func (r *Reactor) closeAll() {
	r.closeListener()
	for _, c := range r.table.conns {
		if c.fd >= 0 {
			r.closeConn(c)
		}
	}
	r.stalled = r.stalled[:0]
	r.complete()
	for deadline := time.Now().Add(5 * time.Second); r.inflight > 0 && time.Now().Before(deadline); {
		_, _ = r.poll.wait(10)
		r.done.acknowledge()
		r.complete()
	}
}

// Close frees a reactor that will not Run (Run frees its own on return).
func (r *Reactor) Close() { r.release() }

// release frees the reactor's own descriptors.
func (r *Reactor) release() {
	r.closeListener()
	if r.poll != nil && r.poll.fd >= 0 {
		r.poll.close()
		r.poll.fd = -1
	}
	if r.done != nil {
		r.done.close()
	}
}
