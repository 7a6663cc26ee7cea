package reactor

import (
	"net/netip"

	"http_server/protocol"

	"golang.org/x/sys/unix"
)

// state is where a connection is in its life. Exactly one holds at a time;
// timeouts (timeouts.go) and epoll interest (interest below) follow from it.
//
//	handshake ─▶ reading ─▶ queued ─▶ writing ─▶ reading ...
//	                 │  ▲       ▲        │  ▲
//	                 ▼  │       │        ▼  │
//	              stalled ──────┘     fetching      writing ─▶ lingering ─▶ closed
type state uint8

const (
	stateClosed    state = iota // the slot is free
	stateHandshake              // a TLS handshake goroutine holds the session
	stateReading                // no job: idle, or a request partly in
	stateStalled                // its job waits for room in the pool's queue
	stateQueued                 // its job is in the pool (or served inline, not yet written)
	stateWriting                // its job is back and its responses are going out
	stateFetching               // a worker is bringing the next window of its file into memory
	stateLingering              // write side shut; input drained until EOF or timeout
)

// step is what an I/O step leaves the connection needing. Steps return it
// instead of closing as a side effect; Reactor.after is the one place that
// acts on it, so a caller never touches a connection that a callee closed.
type step uint8

const (
	stepOn       step = iota // go on (waiting for input or a worker, if anything)
	stepBlocked              // the socket is full: c.blocked is set, EPOLLOUT resumes it
	stepFetching             // a worker reads the file's next window in; its completion resumes it
	stepClose                // close now: the exchange is over
	stepAbort                // close now, counting the response cut short
)

// conn is one client connection. Only the reactor goroutine touches it.
type conn struct {
	fd    int
	slot  int32
	gen   uint32 // bumped on close; with slot it forms the connection id
	state state

	// Conditions that hold alongside the state.
	blocked bool // output is pending and the socket was full: EPOLLOUT wanted
	full    bool // the read buffer is full while a job still reads it: input paused
	peerEOF bool // the client half-closed (or closed)
	last    bool // no more requests will be taken: close after the output
	more    bool // its send budget ran out with the socket writable: Reactor.more brings it back next turn

	in    []byte // read buffer: in[start:] is not yet consumed
	start int
	job   *job // queued, stalled or writing: the one job of this connection

	framing protocol.Framing // where the body of the request being read ends
	served  int              // requests taken from this connection
	events  uint32           // epoll interest now registered

	partialSince int64 // when the incomplete request in the buffer began (0: none)
	bodySince    int64 // when its head was complete and its body not (0: none)
	stalledSince int64 // when its job found the pool's queue full
	lingerSince  int64
	lastRead     int64
	lastWrite    int64
	idleSince    int64
	timerAt      int64 // deadline of this connection's entry in the timer heap (0: none)

	peer netip.AddrPort // the client, read only when the access log is on

	tls *tlsConn // nil: plain HTTP (transport.go and tls.go read it)
}

func (c *conn) id() uint64 { return uint64(c.gen)<<32 | uint64(uint32(c.slot)) }

// buffered reports whether unconsumed request bytes are waiting.
func (c *conn) buffered() bool { return c.start < len(c.in) }

// interest is the set of epoll events the connection needs in its state.
func (c *conn) interest() uint32 {
	var ev uint32
	switch c.state {
	case stateLingering:
		ev = unix.EPOLLIN
	case stateHandshake, stateReading, stateQueued, stateWriting, stateFetching:
		if !c.peerEOF && !c.full && !c.last {
			ev = unix.EPOLLIN
		}
	}
	if c.blocked {
		ev |= unix.EPOLLOUT
	}
	return ev
}
