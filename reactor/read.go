package reactor

import (
	"bytes"

	"http_server/protocol"

	"golang.org/x/sys/unix"
)

// readable reads once from c (level-triggered epoll reports it again if
// more is waiting) and parses what arrived.
func (r *Reactor) readable(c *conn) {
	if c.lingering {
		r.drainLinger(c)
		return
	}
	if c.paused || c.peerEOF || c.finishing {
		return // a stale event from before the interest changed
	}
	if c.tls != nil {
		r.readTLS(c)
		return
	}
	if !r.makeRoom(c) {
		if c.job == nil {
			r.reject(c, 413) // one request larger than the buffer: a chunked body's framing
			return
		}
		c.paused = true // full while a job still reads the buffer; resumes after it
		r.updateInterest(c)
		return
	}
	n, err := unix.Read(c.fd, c.in[len(c.in):cap(c.in)])
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if err != nil {
		r.abort(c)
		return
	}
	if n == 0 {
		c.peerEOF = true
		r.updateInterest(c)
		r.process(c)
		return
	}
	if !c.buffered() && c.partialSince == 0 {
		c.partialSince = r.now()
	}
	c.in = c.in[:len(c.in)+n]
	c.lastRead = r.now()
	r.process(c)
}

// makeRoom makes sure c.in has free capacity. The bytes a job in the pool is
// reading are never moved or overwritten (DESIGN invariant 3): with a job
// out, the buffer only grows into a new array, leaving the old one to the job.
func (r *Reactor) makeRoom(c *conn) bool {
	if c.in == nil {
		c.in = r.getBuf()
	}
	if len(c.in) < cap(c.in) {
		return true
	}
	if c.job == nil && c.start > 0 {
		n := copy(c.in, c.in[c.start:])
		c.in, c.start = c.in[:n], 0
		return true
	}
	if cap(c.in) >= r.maxBuf {
		return false
	}
	nb := make([]byte, len(c.in), min(2*cap(c.in), r.maxBuf))
	copy(nb, c.in)
	if c.job == nil {
		r.putBuf(c.in)
	}
	c.in = nb
	return true
}

// next goes on with c after its output left: the requests already in its
// buffer, and over TLS the ones crypto/tls decrypted or holds as ciphertext,
// for which no epoll event will come.
func (r *Reactor) next(c *conn) {
	if c.tls != nil && !c.tls.handshaking {
		r.pullTLS(c)
		return
	}
	r.process(c)
}

// process turns the complete requests in c's buffer into one job and hands
// it on. A connection has at most one job at a time, which keeps responses
// in request order (DESIGN invariant 4).
func (r *Reactor) process(c *conn) {
	if c.job != nil || c.finishing || c.fd < 0 {
		return
	}
	if !c.buffered() {
		c.partialSince = 0
		if c.in != nil {
			r.putBuf(c.in)
			c.in, c.start = nil, 0
		}
		if c.peerEOF || r.draining {
			r.closeConn(c)
			return
		}
		c.idleSince = r.now()
		return
	}

	j := r.newJob(c)
	j.arrived = c.partialSince
	if j.arrived == 0 {
		j.arrived = r.now()
	}
	pos := c.start
	for j.n < r.opts.MaxBatch && pos < len(c.in) {
		req := j.next()
		n, status := r.parser.Parse(c.in[pos:], req)
		if status == 0 && n == 0 {
			break // head incomplete
		}
		req.TLS = c.tls != nil
		var limit int64
		if status == 0 {
			limit, status = r.admit(req)
		}
		raw := int(max(req.ContentLength, 0))
		if status == 0 && req.Chunked {
			var done bool
			raw, done, status = r.scanChunked(c, pos, n, limit)
			if status == 0 && !done {
				r.awaitBody(c, req)
				break
			}
		}
		if status != 0 {
			req.Err = status
			j.n++
			pos = len(c.in) // the framing of what follows is unknown: drop it
			c.finishing = true
			break
		}
		if len(c.in)-pos < n+raw {
			r.awaitBody(c, req) // makeRoom grows the buffer up to maxBuf
			break
		}
		req.Body = c.in[pos+n : pos+n+raw]
		if req.Chunked {
			req.Body = protocol.DecodeChunked(req.Body) // in place: these bytes are this request's
		}
		pos += n + raw
		j.n++
		c.chunkAt, c.continued, c.bodySince = -1, false, 0
		if c.served++; r.draining || (r.opts.MaxRequests > 0 && c.served >= r.opts.MaxRequests) {
			req.Close = true // the response says Connection: close
		}
		if req.Close {
			c.finishing = true // nothing after this request will be answered
			break
		}
	}

	if c.fd < 0 { // cut while sending 100 Continue
		r.recycle(j)
		return
	}
	if j.n == 0 {
		r.recycle(j)
		if c.peerEOF {
			r.reject(c, 400) // the client stopped mid-request
		}
		return
	}
	j.consumed = pos - c.start
	if pos < len(c.in) && !c.finishing {
		c.partialSince = r.now() // the rest is the start of the next request
	} else {
		c.partialSince = 0
	}
	if c.finishing {
		r.updateInterest(c)
	}
	r.dispatch(c, j)
}

// admit asks the route how large a body it takes and checks the request's
// length and expectation before any of its body is read.
func (r *Reactor) admit(req *protocol.Request) (int64, int) {
	limit, status := r.handler.Admit(req)
	if status != 0 {
		return 0, status
	}
	limit = min(limit, r.opts.MaxBody)
	if req.ContentLength > limit {
		return 0, 413 // answered before reading the body
	}
	if r.opts.Expect && len(req.Expect) > 0 && !isContinue(req.Expect) {
		return 0, 417
	}
	return limit, 0
}

func isContinue(v []byte) bool { return bytes.EqualFold(v, []byte("100-continue")) }

// scanChunked continues the chunked body of the request whose head of n
// bytes starts at pos. The scan resumes where the previous call stopped, as
// long as it is the same request.
func (r *Reactor) scanChunked(c *conn, pos, n int, limit int64) (raw int, done bool, status int) {
	if at := pos - c.start; c.chunkAt != at {
		c.chunk.Reset()
		c.chunkAt = at
	}
	return c.chunk.Scan(c.in[pos+n:], limit, r.parser.Limits.MaxHeaderBytes-n)
}

// awaitBody notes that a request's head is in and its body is not: the body
// timeout starts, and a client that asked sends the body after 100 Continue.
func (r *Reactor) awaitBody(c *conn, req *protocol.Request) {
	if c.bodySince == 0 {
		c.bodySince = r.now()
	}
	if r.opts.Expect && !c.continued && req.Minor == 1 && len(req.Expect) > 0 {
		c.continued = true
		// The socket has no output pending (no job is out), so this tiny
		// interim response fits its buffer; if it somehow does not, the
		// connection's state is unknown and it is cut.
		if c.tls != nil {
			r.sendInterimTLS(c, continue100)
		} else if n, err := unix.Write(c.fd, continue100); err != nil || n != len(continue100) {
			r.abort(c)
		}
	}
}

var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// reject answers c with a final error (timeouts, a request cut short) and
// closes it afterwards.
func (r *Reactor) reject(c *conn, status int) {
	j := r.newJob(c)
	j.arrived = r.now()
	if c.partialSince != 0 {
		j.arrived = c.partialSince
	}
	req := j.next()
	req.Reset()
	req.Err = status
	j.n = 1
	j.consumed = len(c.in) - c.start
	c.finishing = true
	c.partialSince = 0
	r.updateInterest(c)
	r.dispatch(c, j)
}

// drainLinger discards input after the last response, so that closing does
// not turn unread bytes into a reset that destroys the response in flight.
func (r *Reactor) drainLinger(c *conn) {
	for i := 0; i < 4; i++ {
		n, err := unix.Read(c.fd, r.scratch)
		if err == unix.EAGAIN || err == unix.EINTR {
			return
		}
		if err != nil || n == 0 {
			r.closeConn(c)
			return
		}
	}
}

func (r *Reactor) getBuf() []byte {
	if n := len(r.bufs); n > 0 {
		b := r.bufs[n-1]
		r.bufs = r.bufs[:n-1]
		return b
	}
	return make([]byte, 0, readBufSize)
}

// putBuf keeps standard-size buffers for reuse; grown ones, and more than
// the busy connections of a moment need, go to the GC, so that a crowd of
// idle keep-alive connections does not pin a buffer each (invariant 7).
func (r *Reactor) putBuf(b []byte) {
	if cap(b) == readBufSize && len(r.bufs) < maxFreeBufs {
		r.bufs = append(r.bufs, b[:0])
	}
}
