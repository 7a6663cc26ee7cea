package reactor

import (
	"fmt"
	"log/slog"
	"net"

	"http_server/protocol"
	"http_server/stats"

	"golang.org/x/sys/unix"
)

// Accepting connections: the listeners, the accept loop, refusals over
// --max-conns, and pausing while descriptors or handshake slots are short.

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
		if r.opts.MaxConns > 0 && r.stats.Connections.Load() >= int64(r.opts.MaxConns) { // all loops together
			r.refuse(fd, l.tls)
			continue
		}
		c := r.table.alloc(fd)
		c.state = stateReading
		c.framing = protocol.NewFraming(r.opts.Expect, r.parser.Limits.MaxHeaderBytes)
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
		r.open.Add(1)
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
		r.enc.Error(&r.refusal, &req, 503, nil)
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

// listener is one listening socket. Connections from the TLS one go through
// crypto/tls before their requests are parsed.
type listener struct {
	fd     int
	addr   *net.TCPAddr
	tls    bool
	active bool // EPOLLIN is registered: accepting
	shared bool // one socket for every loop (socket activation): EPOLLEXCLUSIVE, closed by the Group
}

// events is the epoll interest of an accepting listener. A shared one
// wakes one loop per connection, not all of them.
func (l *listener) events() uint32 {
	if l.shared {
		return unix.EPOLLIN | unix.EPOLLEXCLUSIVE
	}
	return unix.EPOLLIN
}

// openListeners opens the plain listener (or adopts the socket the service
// manager passed) and the HTTPS one, as the options ask.
func (r *Reactor) openListeners() error {
	o := &r.opts
	if !o.NoPlain {
		var l listener
		var err error
		if o.ListenFd > 0 {
			l.fd, l.addr, err = adopt(o.ListenFd)
			l.shared = o.SharedListenFd
		} else {
			l.fd, l.addr, err = listen(o.Addr, o.Port, o.Backlog, o.ReusePort)
		}
		if err != nil {
			return err
		}
		r.lis = append(r.lis, l)
	}
	if o.TLS != nil {
		fd, addr, err := listen(o.TLS.Addr, o.TLS.Port, o.Backlog, o.ReusePort)
		if err != nil {
			return fmt.Errorf("https listener: %w", err)
		}
		r.lis = append(r.lis, listener{fd: fd, addr: addr, tls: true})
		r.tls = newTLSServer(o.TLS)
	}
	return nil
}

// setAccepting turns accepting on one listener on or off.
func (r *Reactor) setAccepting(i int, on bool) {
	l := &r.lis[i]
	if l.fd < 0 || l.active == on {
		return
	}
	switch {
	case l.shared && on: // EPOLLEXCLUSIVE cannot be modified, only added and deleted
		r.poll.add(l.fd, l.events(), slotListener-int32(i), 0)
	case l.shared:
		r.poll.del(l.fd)
	case on:
		r.poll.mod(l.fd, l.events(), slotListener-int32(i), 0)
	default:
		r.poll.mod(l.fd, 0, slotListener-int32(i), 0)
	}
	l.active = on
}

// closeListener stops accepting: new connections are refused.
func (r *Reactor) closeListener() {
	for i := range r.lis {
		l := &r.lis[i]
		if l.fd < 0 {
			continue
		}
		if r.poll != nil && r.poll.fd >= 0 {
			r.poll.del(l.fd)
		}
		if !l.shared {
			unix.Close(l.fd)
		}
		l.fd, l.active = -1, false
	}
}
