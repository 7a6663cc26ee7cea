package reactor

import (
	"log/slog"
	"net/netip"
	"time"

	"http_server/protocol"
	"http_server/stats"

	"golang.org/x/sys/unix"
)

// acceptAll accepts what l's backlog holds, up to a batch per turn.
func (r *Reactor) acceptAll(l *listener) {
	for i := 0; i < 256; i++ {
		if l.tls && !r.tls.room() {
			r.pauseAccepting() // at the handshake cap: the backlog waits
			return
		}
		fd, err := accept(l.fd)
		switch err {
		case nil:
		case unix.EAGAIN:
			return
		case unix.ECONNABORTED, unix.EPERM:
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			// Out of descriptors or memory: stop accepting for a moment
			// instead of spinning on a listener that stays readable, and
			// keep serving the connections we have. Logged once an episode.
			r.acceptPaused = r.now() + int64(acceptPause)
			r.pauseAccepting()
			r.stats.AcceptPaused.Add(1)
			if !r.acceptLogged {
				r.acceptLogged = true
				slog.Warn("accept: out of descriptors or memory; pausing accepts until they free up", "err", err, "pause", acceptPause.String())
			}
			return
		default:
			slog.Error("accept", "err", err)
			return
		}
		if r.acceptLogged {
			r.acceptLogged = false
			slog.Info("accepting again")
		}
		if r.opts.MaxConns > 0 && r.table.open >= r.opts.MaxConns {
			r.refuse(fd, l.tls)
			continue
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		c := r.table.alloc(fd)
		c.events = unix.EPOLLIN
		c.idleSince = r.now()
		if r.access != nil {
			c.peer = peerOf(fd)
		}
		if err := r.poll.add(fd, c.events, c.slot, c.gen); err != nil {
			unix.Close(fd)
			r.table.release(c)
			continue
		}
		r.stats.Connections.Add(1)
		r.stats.Accepted.Add(1)
		if l.tls {
			r.startHandshake(c, l)
		}
		r.schedule(c, r.deadline(c))
	}
}

// refuse answers a connection over --max-conns with 503 and closes it at
// once, so the backlog never fills with peers that wait for nothing. The
// socket is new and empty, so the short response fits its buffer. A TLS
// client is closed without a word: there is no session to answer it in.
func (r *Reactor) refuse(fd int, tls bool) {
	r.stats.Refused.Add(1)
	if r.enc.Compat == protocol.Modern && !tls {
		r.refusal.Reset()
		req := protocol.Request{Minor: 1, Err: 503}
		r.handler.Serve(&req, &r.refusal)
		it := &r.refusal.Items[0]
		if n, _ := unix.Write(fd, r.refusal.Buf[it.Head.Start:it.Body.End]); n > 0 {
			r.stats.Record(stats.RouteOther, it.Status, int64(min(n, it.Head.Len())), int64(max(n-it.Head.Len(), 0)), 0)
		}
	}
	unix.Close(fd)
}

// pauseAccepting stops accepting on the listeners that must wait: all of
// them while descriptors are short, the TLS one while handshakes are at the cap.
func (r *Reactor) pauseAccepting() {
	for i := range r.lis {
		if r.acceptPaused != 0 || (r.lis[i].tls && !r.tls.room()) {
			r.setAccepting(i, false)
		}
	}
}

// resumeAccept turns accepting back on where the reason to wait has passed.
func (r *Reactor) resumeAccept() {
	if r.acceptPaused != 0 && r.now() >= r.acceptPaused {
		r.acceptPaused = 0
	}
	if r.draining {
		return
	}
	for i := range r.lis {
		if r.acceptPaused == 0 && (!r.lis[i].tls || r.tls.room()) {
			r.setAccepting(i, true)
		}
	}
}

// updateInterest registers the events c needs, if they changed.
func (r *Reactor) updateInterest(c *conn) {
	if c.fd < 0 {
		return
	}
	if ev := c.interest(); ev != c.events {
		c.events = ev
		_ = r.poll.mod(c.fd, ev, c.slot, c.gen)
	}
}

// finishConn ends c after its last response: shut the write side so the
// client sees EOF at once, then drain its input until it closes too.
func (r *Reactor) finishConn(c *conn) {
	if c.tls != nil && !r.closeNotify(c) {
		return
	}
	if c.job != nil {
		r.recycle(c.job)
		c.job = nil
	}
	c.finishing, c.wantOut = true, false
	_ = unix.Shutdown(c.fd, unix.SHUT_WR)
	if c.peerEOF {
		r.closeConn(c)
		return
	}
	c.lingering, c.lingerSince = true, r.now()
	if c.in != nil {
		r.putBuf(c.in)
		c.in, c.start = nil, 0
	}
	r.updateInterest(c)
}

// abort closes c at once, counting the response it was sending by the bytes
// that actually left.
func (r *Reactor) abort(c *conn) {
	if c.job != nil && !c.queued {
		r.recordPartial(c, c.job)
	}
	r.closeConn(c)
}

// closeConn closes c's socket and retires its id. Order matters: epoll DEL,
// close(fd), then the generation moves on (table.release). A job still in the
// pool keeps the read buffer it points into; its completion will find no
// connection and be dropped.
func (r *Reactor) closeConn(c *conn) {
	r.poll.del(c.fd)
	unix.Close(c.fd)
	if c.tls != nil {
		c.tls.mc.drop() // a handshake goroutine still reading gives up
	}
	inPool := c.job != nil && c.queued && !c.stalled
	if c.job != nil && !inPool {
		r.recycle(c.job)
	}
	if c.in != nil && !inPool {
		r.putBuf(c.in)
	}
	c.job, c.in = nil, nil
	r.table.release(c)
	r.stats.Connections.Add(-1)
}

// deadline is when c must next be looked at, from its state (0: never).
func (r *Reactor) deadline(c *conn) int64 {
	o := &r.opts
	switch {
	case c.lingering:
		return c.lingerSince + int64(o.LingerTimeout)
	case c.tls != nil && c.tls.handshaking:
		// The handshake's context ends it first; this is the backstop.
		return c.idleSince + int64(r.tls.timeout) + int64(time.Second)
	case c.stalled:
		return c.stalledSince + int64(o.QueueTimeout)
	case c.job != nil && c.queued:
		return 0 // a worker has it; the pool is not subject to client timeouts
	case c.wantOut:
		return c.lastWrite + int64(o.WriteTimeout)
	case c.job != nil:
		return 0
	case c.partialSince != 0:
		at := c.partialSince + int64(o.HeaderTimeout)
		if c.bodySince != 0 {
			at = c.bodySince + int64(o.BodyTimeout)
		}
		if o.SilenceTimeout > 0 {
			at = min(at, c.lastRead+int64(o.SilenceTimeout))
		}
		return at
	}
	return c.idleSince + int64(o.IdleTimeout)
}

// timeout acts on a deadline that passed.
func (r *Reactor) timeout(c *conn) {
	r.stats.TimedOut.Add(1)
	switch {
	case c.stalled:
		// Waited too long for room in the pool: 503, and the client may
		// retry. Its job never ran, so nothing of it reached a worker.
		r.recycle(c.job)
		c.job, c.queued, c.stalled, c.paused = nil, false, false, false
		r.reject(c, 503)
		if c.fd >= 0 {
			r.schedule(c, r.deadline(c))
		}
	case c.partialSince != 0 && !c.lingering && c.job == nil && !c.peerEOF:
		r.reject(c, 408)
		if c.fd >= 0 {
			r.schedule(c, r.deadline(c))
		}
	default:
		r.abort(c) // idle, a stalled writer, or a lingering close that took too long
	}
}

// peerOf reads the client's address for the access log.
func peerOf(fd int) netip.AddrPort {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	ap, _ := addrPort(sa)
	return ap
}
