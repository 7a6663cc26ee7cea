package reactor

import (
	"http_server/protocol"
)

// Reading: bytes in from the transport, requests out of the buffer. The
// parser finds each head, the route says how large a body it takes, and
// protocol.Framing says where that body ends; complete requests leave
// together as one job (jobs.go).

// readable handles EPOLLIN.
func (r *Reactor) readable(c *conn) step {
	switch {
	case c.state == stateLingering:
		return r.drainLinger(c)
	case c.full || c.peerEOF || c.last || c.state == stateStalled:
		return stepOn // a stale event from before the interest changed
	}
	ready, s := r.receive(c)
	if !ready {
		return s // the bytes went to a TLS handshake, or nothing came
	}
	s = r.take(c, true)
	r.settle(c)
	return s
}

// resume goes on with c after its output left, or its handshake ended: the
// requests already buffered and, over TLS, those crypto/tls decrypted or
// holds as ciphertext, for which no epoll event will come. A plain socket
// is not read here: in a closed loop the next request has rarely arrived
// yet, and epoll reports it when it does.
func (r *Reactor) resume(c *conn) step { return r.take(c, false) }

// take fills c.in from the transport and parses what it holds.
func (r *Reactor) take(c *conn, socketReady bool) step {
	if s := r.fill(c, socketReady); s != stepOn {
		return s
	}
	return r.process(c)
}

// fill reads request bytes from the transport into c.in until it has no
// more for now: one socket read for plain HTTP when epoll said the socket
// is readable (level-triggered epoll reports the rest), everything
// crypto/tls can decrypt over TLS.
func (r *Reactor) fill(c *conn, socketReady bool) step {
	if !r.mayRecv(c, socketReady) {
		return stepOn
	}
	for !c.peerEOF && !c.last && !c.full {
		if !r.makeRoom(c) {
			if c.job == nil {
				return r.reject(c, 413) // one request larger than the buffer: a chunked body's framing
			}
			c.full = true // full while a job still reads the buffer; resumes after it
			break
		}
		n, res := r.recv(c, c.in[len(c.in):cap(c.in)])
		if n > 0 {
			if !c.buffered() && c.partialSince == 0 {
				c.partialSince = r.now()
			}
			c.in = c.in[:len(c.in)+n]
			c.lastRead = r.now()
		}
		switch res {
		case recvMore:
			continue
		case recvEOF:
			c.peerEOF = true
		case recvFailed:
			return stepAbort
		}
		break
	}
	return r.sendPending(c) // what reading produced over TLS: a KeyUpdate's reply, an alert
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

// process turns the complete requests in c's buffer into one job and hands
// it on. A connection has at most one job at a time, which keeps responses
// in request order (DESIGN invariant 4).
func (r *Reactor) process(c *conn) step {
	if c.state != stateReading || c.last {
		return stepOn
	}
	if !c.buffered() {
		c.partialSince = 0
		if c.in != nil {
			r.putBuf(c.in)
			c.in, c.start = nil, 0
		}
		if c.peerEOF || r.draining {
			return stepClose
		}
		c.idleSince = r.now()
		return stepOn
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
			limit, status = r.handler.Admit(req)
		}
		if status == 0 {
			limit = min(limit, r.opts.MaxBody)
			status = c.framing.Admit(req, limit)
		}
		raw, done := 0, false
		if status == 0 {
			raw, done, status = c.framing.Body(req, c.in[pos+n:], pos-c.start, n, limit)
		}
		if status != 0 {
			req.Err = status
			j.n++
			pos = len(c.in) // the framing of what follows is unknown: drop it
			c.last = true
			break
		}
		if !done {
			if s := r.awaitBody(c, req); s != stepOn {
				r.recycle(j)
				return s
			}
			break // makeRoom grows the buffer up to maxBuf
		}
		req.Body = c.framing.Take(req, c.in[pos+n:pos+n+raw])
		pos += n + raw
		j.n++
		c.bodySince = 0
		if c.served++; r.draining || (r.opts.MaxRequests > 0 && c.served >= r.opts.MaxRequests) {
			req.Close = true // the response says Connection: close
		}
		if req.Close {
			c.last = true // nothing after this request will be answered
			break
		}
	}

	if j.n == 0 {
		r.recycle(j)
		if c.peerEOF {
			return r.reject(c, 400) // the client stopped mid-request
		}
		return stepOn
	}
	j.consumed = pos - c.start
	if pos < len(c.in) && !c.last {
		c.partialSince = r.now() // the rest is the start of the next request
	} else {
		c.partialSince = 0
	}
	r.dispatch(c, j)
	return stepOn
}

// awaitBody notes that a request's head is in and its body is not: the body
// timeout starts, and a client that asked gets 100 Continue.
func (r *Reactor) awaitBody(c *conn, req *protocol.Request) step {
	if c.bodySince == 0 {
		c.bodySince = r.now()
	}
	if c.framing.Continue(req) {
		// No job is out, so the socket has no output pending and this tiny
		// interim response fits its buffer; if it somehow does not, the
		// connection's state is unknown and it is cut.
		if n, s := r.send(c, protocol.Continue100, false); n < len(protocol.Continue100) || s == stepAbort {
			return stepAbort
		}
	}
	return stepOn
}

// reject answers c with an error the reactor found itself (a timeout, a
// request cut short, a full pool) and closes it afterwards. The reactor
// encodes it: no handler is involved.
func (r *Reactor) reject(c *conn, status int) step {
	j := r.newJob(c)
	j.arrived = r.now()
	if c.partialSince != 0 {
		j.arrived = c.partialSince
	}
	req := j.next()
	req.Reset()
	req.Err = status
	j.n = 1
	r.enc.Error(&j.out, req, status, nil)
	j.consumed = len(c.in) - c.start
	c.last = true
	c.partialSince = 0
	c.job, c.state = j, stateQueued
	r.inline = append(r.inline, j)
	return stepOn
}

// drainLinger discards input after the last response, so that closing does
// not turn unread bytes into a reset that destroys the response in flight.
func (r *Reactor) drainLinger(c *conn) step {
	for i := 0; i < 4; i++ {
		n, res := readSocket(c.fd, r.scratch)
		switch {
		case res == recvEOF || res == recvFailed:
			return stepClose
		case n == 0:
			return stepOn
		}
	}
	return stepOn
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
