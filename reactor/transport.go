package reactor

import (
	"errors"
	"io"
	"unsafe"

	"http_server/protocol"

	"golang.org/x/sys/unix"
)

// The transport moves a connection's bytes: over plain HTTP straight to and
// from the socket (write, sendfile), over HTTPS through crypto/tls and its
// in-memory conn (tls_memconn.go), whose ciphertext the reactor then writes.
// The read and write loops (read.go, write.go) are written once against
// these calls; this file and tls.go are the only ones that tell the two apart.

// recvResult says what a read left behind.
type recvResult uint8

const (
	recvWait   recvResult = iota // nothing more until the socket is readable again
	recvMore                     // more may be had at once: read again
	recvEOF                      // the client closed its side
	recvFailed                   // the connection is broken
)

// receive handles a readable socket before fill: plain HTTP leaves the read
// to fill (ready); TLS reads the ciphertext here (readCipher in tls.go).
func (r *Reactor) receive(c *conn) (ready bool, s step) {
	if c.tls == nil {
		return true, stepOn
	}
	return r.readCipher(c)
}

// settle ends a turn of reading: ciphertext lent to crypto/tls and not yet
// decrypted is copied out of the reactor's scratch buffer.
func (r *Reactor) settle(c *conn) {
	if c.tls != nil {
		c.tls.mc.settle()
	}
}

// mayRecv reports whether the transport may have request bytes: a plain
// socket when epoll said it is readable, crypto/tls always (it holds what
// it decrypted, and ciphertext no event will announce again).
func (r *Reactor) mayRecv(c *conn, socketReady bool) bool {
	return socketReady || c.tls != nil
}

// recv reads request bytes into p.
func (r *Reactor) recv(c *conn, p []byte) (int, recvResult) {
	if c.tls == nil {
		return readSocket(c.fd, p)
	}
	n, err := c.tls.tc.Read(p)
	switch {
	case err == nil:
		return n, recvMore
	case errors.Is(err, errWouldBlock): // a comparison first: no reflection per read
		return n, recvWait
	case errors.Is(err, io.EOF):
		return n, recvEOF // close_notify, or EOF at a record boundary
	}
	// A bad record, or a message the connection refuses (renegotiation):
	// crypto/tls has queued an alert, and the session is unusable.
	r.sendPending(c)
	return n, recvFailed
}

// readSocket makes one read; level-triggered epoll reports what it left.
func readSocket(fd int, p []byte) (int, recvResult) {
	n, err := unix.Read(fd, p)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return 0, recvWait
	case err != nil:
		return 0, recvFailed
	case n == 0:
		return 0, recvEOF
	}
	return n, recvWait
}

// send writes p and reports how much of it was taken. stepBlocked means
// the socket is full: a plain socket took less than p, or TLS records
// made of p wait for EPOLLOUT. more says file bytes follow: MSG_MORE lets
// the kernel put the header in one segment with the first of them.
func (r *Reactor) send(c *conn, p []byte, more bool) (int, step) {
	if c.tls != nil {
		p = p[:min(len(p), tlsSlice)] // encrypted a slice at a time (see sendPending)
		if _, err := c.tls.tc.Write(p); err != nil {
			return 0, stepAbort
		}
		return len(p), r.sendPending(c)
	}
	n, err := writeSocket(c.fd, p, more)
	n = max(n, 0) // a failed write reports -1
	if n > 0 {
		c.lastWrite = r.now()
	}
	switch {
	case err == unix.EAGAIN || (err == nil && n < len(p)):
		return n, r.block(c)
	case err != nil && err != unix.EINTR:
		return n, stepAbort
	}
	return n, stepOn
}

// sendFile sends up to n bytes of f from off: sendfile over plain HTTP, so
// a download never passes through memory; over TLS a slice read into the
// reactor's buffer and encrypted. It reports the bytes taken; stepAbort
// when the file gave fewer bytes than promised (it shrank, and its length
// is already on the wire, so the only honest end is to cut the connection).
func (r *Reactor) sendFile(c *conn, f *protocol.FileSegment, off int64, n int) (int, step) {
	if c.tls != nil {
		want := min(n, tlsSlice)
		got, err := unix.Pread(f.Fd, r.tls.buf[:want], off)
		if err == unix.EINTR {
			return 0, stepOn
		}
		if err != nil || got <= 0 {
			r.stats.FileErrors.Add(1)
			return 0, stepAbort
		}
		if _, err := c.tls.tc.Write(r.tls.buf[:got]); err != nil {
			return 0, stepAbort
		}
		return got, r.sendPending(c)
	}
	sent, err := unix.Sendfile(c.fd, f.Fd, &off, n)
	if sent > 0 {
		c.lastWrite = r.now()
	}
	switch {
	case err == unix.EAGAIN:
		return max(sent, 0), r.block(c)
	case err == unix.EINTR:
		return max(sent, 0), stepOn
	case err == nil && sent == 0, err == unix.EIO:
		r.stats.FileErrors.Add(1) // the file shrank, or the disk failed
		return 0, stepAbort
	case err != nil:
		return 0, stepAbort // the client went away
	}
	return sent, stepOn
}

// sendPending writes output that waits in the transport: TLS records (of a
// response slice, a handshake, a KeyUpdate reply, an alert). A slice is
// encrypted only once the previous one has left, so a client that reads
// slowly holds no more than a slice beyond its socket buffer. Plain HTTP
// keeps nothing back.
func (r *Reactor) sendPending(c *conn) step {
	if c.tls == nil {
		return stepOn
	}
	for {
		p := c.tls.mc.pending()
		if len(p) == 0 {
			return stepOn
		}
		n, err := unix.Write(c.fd, p)
		if n > 0 {
			c.tls.mc.consumed(n)
			c.lastWrite = r.now()
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN || (err == nil && n < len(p)):
			return r.block(c)
		case err != nil:
			return stepAbort
		}
	}
}

// block notes that the socket is full: EPOLLOUT will resume the output.
func (r *Reactor) block(c *conn) step {
	c.blocked = true
	return stepBlocked
}

// endOutput is called when a job's output has all left: the transport lets
// go of what it grew for it.
func (r *Reactor) endOutput(c *conn) {
	if c.tls != nil {
		c.tls.mc.trim()
	}
}

// closeWrite ends the output stream: over TLS with close_notify, so the
// client can tell the end of the responses from a cut, then the socket's
// write side, so the client sees EOF at once.
func (r *Reactor) closeWrite(c *conn) step {
	if c.tls != nil && c.state != stateHandshake {
		_ = c.tls.tc.CloseWrite()
		if s := r.sendPending(c); s == stepAbort { // everything before has left, so these few bytes fit
			return s
		}
	}
	_ = unix.Shutdown(c.fd, unix.SHUT_WR)
	return stepOn
}

// closeTransport lets go of the transport when the socket closes: a
// handshake goroutine still reading gives up.
func closeTransport(c *conn) {
	if c.tls != nil {
		c.tls.mc.drop()
	}
}

// writeSocket writes p to a socket; with more, through sendto and MSG_MORE.
func writeSocket(fd int, p []byte, more bool) (int, error) {
	if !more {
		return unix.Write(fd, p)
	}
	n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])),
		uintptr(len(p)), unix.MSG_MORE|unix.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
