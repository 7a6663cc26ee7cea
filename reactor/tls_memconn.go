package reactor

import (
	"io"
	"net"
	"sync"
	"time"
)

// memConn is the net.Conn that crypto/tls reads and writes. It never touches
// the socket: the reactor feeds it the ciphertext it read and sends what
// crypto/tls wrote (DESIGN invariant 1 holds for TLS too).
//
// While the handshake runs on its own goroutine, Read blocks until the
// reactor feeds bytes or gives up on the connection. Afterwards only the
// reactor uses it, and Read reports errWouldBlock instead of waiting:
// crypto/tls keeps a connection usable after a Temporary error and keeps the
// partial record it had read (pinned by TestTLSRecordsOneByteAtATime).
type memConn struct {
	mu    sync.Mutex
	ready sync.Cond // signalled when in grows or the connection ends

	in     []byte // ciphertext from the client; in[inOff:] not yet read
	inOff  int
	lent   bool   // in is the reactor's read buffer, valid until settle
	out    []byte // ciphertext for the client; out[outOff:] not yet sent
	outOff int

	blocking bool // handshake phase: Read waits for bytes
	eof      bool // the client closed its side: Read returns io.EOF once in is empty
	closed   bool // the reactor dropped the connection, or crypto/tls closed it

	wake func() // tells the reactor that output is waiting (handshake phase)

	local, remote net.Addr
}

func newMemConn(local, remote net.Addr, wake func()) *memConn {
	m := &memConn{blocking: true, wake: wake, local: local, remote: remote}
	m.ready.L = &m.mu
	return m
}

// wouldBlock is the error Read returns in the data phase when no ciphertext
// is waiting. It is Temporary, so crypto/tls does not make it permanent.
type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tls: no more input for now" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

var errWouldBlock net.Error = wouldBlock{}

// Read is called by crypto/tls.
func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if m.inOff < len(m.in) {
			n := copy(p, m.in[m.inOff:])
			m.inOff += n
			if m.inOff == len(m.in) && !m.lent {
				m.in, m.inOff = keepSmall(m.in), 0
			}
			return n, nil
		}
		if m.closed {
			return 0, net.ErrClosed
		}
		if m.eof {
			return 0, io.EOF
		}
		if !m.blocking {
			return 0, errWouldBlock
		}
		m.ready.Wait()
	}
}

// Write is called by crypto/tls; it never fails, so crypto/tls never
// records a permanent write error. The reactor sends the bytes.
func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	m.out = append(m.out, p...)
	wake := m.blocking && m.wake != nil
	m.mu.Unlock()
	if wake {
		m.wake()
	}
	return len(p), nil
}

// Close is called by crypto/tls when a handshake's context ends; it wakes a
// blocked Read.
func (m *memConn) Close() error {
	m.drop()
	return nil
}

func (m *memConn) LocalAddr() net.Addr              { return m.local }
func (m *memConn) RemoteAddr() net.Addr             { return m.remote }
func (m *memConn) SetDeadline(time.Time) error      { return nil } // time limits are the reactor's timers
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// feed appends ciphertext the reactor read from the socket.
func (m *memConn) feed(p []byte) {
	m.mu.Lock()
	if m.inOff == len(m.in) {
		m.in, m.inOff = m.in[:0], 0
	}
	m.in = append(m.in, p...)
	m.mu.Unlock()
	m.ready.Signal()
}

// lend hands crypto/tls the reactor's read buffer without a copy. It is
// for the data phase, where the reactor itself calls Read right after and
// then settle, before the buffer is used again.
func (m *memConn) lend(p []byte) {
	if m.inOff < len(m.in) {
		m.feed(p) // input still waiting: append behind it
		return
	}
	m.mu.Lock()
	m.in, m.inOff, m.lent = p, 0, true
	m.mu.Unlock()
}

// settle gives the lent buffer back: crypto/tls drains its input into its
// own record buffer whenever it reads, so usually nothing is left; what is
// left (reading stopped early) is copied.
func (m *memConn) settle() {
	m.mu.Lock()
	if m.lent {
		rest := m.in[m.inOff:]
		m.in, m.inOff, m.lent = nil, 0, false
		if len(rest) > 0 {
			m.in = append([]byte(nil), rest...)
		}
	}
	m.mu.Unlock()
}

// release drops both buffers if they are empty: the handshake's are large
// (the certificate chain) and an idle connection should not keep them.
func (m *memConn) release() {
	m.mu.Lock()
	if m.inOff == len(m.in) && !m.lent {
		m.in, m.inOff = nil, 0
	}
	if m.outOff == len(m.out) {
		m.out, m.outOff = nil, 0
	}
	m.mu.Unlock()
}

// inputLen is the ciphertext fed and not yet read by crypto/tls.
func (m *memConn) inputLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.in) - m.inOff
}

// peerClosed records the client's EOF.
func (m *memConn) peerClosed() {
	m.mu.Lock()
	m.eof = true
	m.mu.Unlock()
	m.ready.Signal()
}

// drop ends the connection for crypto/tls: a blocked Read returns.
func (m *memConn) drop() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.ready.Signal()
}

// dataPhase ends the handshake phase: from now on only the reactor reads.
func (m *memConn) dataPhase() {
	m.mu.Lock()
	m.blocking = false
	m.mu.Unlock()
}

// pending returns the ciphertext waiting to be sent. The slice stays valid
// until consumed is called, even if crypto/tls appends meanwhile.
func (m *memConn) pending() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out[m.outOff:]
}

// consumed marks n bytes of pending as sent.
func (m *memConn) consumed(n int) {
	m.mu.Lock()
	m.outOff += n
	if m.outOff == len(m.out) {
		m.out, m.outOff = m.out[:0], 0 // kept through a download; trim lets it go
	}
	m.mu.Unlock()
}

// trim lets a large output buffer go once it is empty: called when a job's
// output has left, so a connection between requests holds little.
func (m *memConn) trim() {
	m.mu.Lock()
	if m.outOff == len(m.out) {
		m.out, m.outOff = keepSmall(m.out), 0
	}
	m.mu.Unlock()
}

// keepSmall empties a buffer, keeping its array only if it is small, so an
// idle connection does not pin the buffer of its largest burst.
func keepSmall(b []byte) []byte {
	if cap(b) > 4<<10 {
		return nil
	}
	return b[:0]
}
