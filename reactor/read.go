package reactor

import (
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
	if !r.makeRoom(c) {
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
		if c.peerEOF {
			r.closeConn(c)
			return
		}
		c.idleSince = r.now()
		return
	}

	j := r.newJob(c)
	pos := c.start
	for j.n < r.opts.MaxBatch && pos < len(c.in) {
		req := j.next()
		n, status := r.parser.Parse(c.in[pos:], req)
		if status == 0 && n == 0 {
			break // head incomplete
		}
		if status == 0 {
			status = r.admit(req)
		}
		if status != 0 {
			req.Err = status
			j.n++
			pos = len(c.in) // the framing of what follows is unknown: drop it
			c.finishing = true
			break
		}
		need := n + int(max(req.ContentLength, 0))
		if len(c.in)-pos < need {
			break // body incomplete; makeRoom grows the buffer up to maxBuf
		}
		req.Body = c.in[pos+n : pos+need]
		pos += need
		j.n++
		if req.Close {
			c.finishing = true // nothing after this request will be answered
			break
		}
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

// admit asks the route how large a body it takes and checks the request's.
func (r *Reactor) admit(req *protocol.Request) int {
	limit, status := r.handler.Admit(req)
	if status != 0 {
		return status
	}
	if req.ContentLength > min(limit, r.opts.MaxBody) {
		return 413 // answered before reading the body
	}
	return 0
}

// reject answers c with a final error (timeouts, a request cut short) and
// closes it afterwards.
func (r *Reactor) reject(c *conn, status int) {
	j := r.newJob(c)
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

// putBuf keeps standard-size buffers for reuse; grown ones go to the GC.
func (r *Reactor) putBuf(b []byte) {
	if cap(b) == readBufSize && len(r.bufs) < 4096 {
		r.bufs = append(r.bufs, b[:0])
	}
}
