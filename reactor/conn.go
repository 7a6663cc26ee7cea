package reactor

import (
	"net/netip"

	"http_server/protocol"

	"golang.org/x/sys/unix"
)

// conn is one client connection. Only the reactor goroutine touches it.
type conn struct {
	fd   int
	slot int32
	gen  uint32 // bumped on close; with slot it forms the connection id

	in    []byte // read buffer: in[start:] is not yet consumed
	start int

	job     *job // in the pool (queued), or being written (!queued)
	queued  bool // job is in the pool or waiting for room in it
	stalled bool // job waits for room in the pool's queue

	events      uint32 // epoll interest now registered
	wantOut     bool   // output is pending and the socket was full
	paused      bool   // reading paused: buffer full while a job is out, or stalled
	peerEOF     bool   // the client half-closed (or closed)
	finishing   bool   // no more requests will be read: close after the output
	lingering   bool   // write side shut; draining input until EOF or timeout
	lingerSince int64

	partialSince int64 // when the incomplete request in the buffer began (0: none)
	bodySince    int64 // when its head was complete and its body not (0: none)
	stalledSince int64 // when its job found the pool's queue full
	served       int   // requests taken from this connection

	chunk     protocol.ChunkScanner // progress through a chunked body
	chunkAt   int                   // offset from start of the request it belongs to (-1: none)
	continued bool                  // 100 Continue sent for the request being read
	lastRead  int64
	lastWrite int64
	idleSince int64

	timerAt int64 // deadline of this connection's entry in the timer heap (0: none)

	peer netip.AddrPort // the client, read only when the access log is on

	tls *tlsConn // nil: plain HTTP
}

func (c *conn) id() uint64 { return uint64(c.gen)<<32 | uint64(uint32(c.slot)) }

// buffered reports whether unconsumed request bytes are waiting.
func (c *conn) buffered() bool { return c.start < len(c.in) }

// interest computes the epoll events this connection needs now.
func (c *conn) interest() uint32 {
	var ev uint32
	if c.lingering || (!c.peerEOF && !c.paused && !c.finishing) {
		ev |= unix.EPOLLIN
	}
	if c.wantOut {
		ev |= unix.EPOLLOUT
	}
	return ev
}
