package reactor

import (
	"http_server/protocol"
	"http_server/workers"

	"golang.org/x/sys/unix"
)

// Writing: a returned job's responses go out in order through the
// transport (transport.go), headers and small bodies by write, files by
// sendfile (or encrypted slices over TLS), pulled by the socket's
// readiness and never read whole into memory. Then the connection reads
// on, lingers to a close, or closes; after is the one place that closes.

// writable handles EPOLLOUT.
func (r *Reactor) writable(c *conn) step {
	if c.state == stateWriting {
		return r.flush(c)
	}
	s := r.sendPending(c) // TLS records no job owns: a handshake's, a KeyUpdate reply
	if s == stepOn {
		c.blocked = false
	}
	return s
}

// flush writes c's job from where it stopped, within a budget per wake-up
// so one download cannot starve the other connections.
func (r *Reactor) flush(c *conn) step {
	if s := r.sendPending(c); s != stepOn {
		return s
	}
	j := c.job
	items := j.out.Items
	budget := int64(sendBudget)
	for j.cur < len(items) {
		it := &items[j.cur]
		switch {
		case j.pos < it.Body.End:
			end, fileNext := regionEnd(items, j.cur, len(j.out.Buf))
			n, s := r.send(c, j.out.Buf[j.pos:end], fileNext)
			j.pos += n
			if s != stepOn {
				return s
			}
		case it.HasFile && j.fileSent < it.File.Len:
			if budget <= 0 {
				return r.yieldTurn(c)
			}
			if j.fileSent >= it.File.Ready {
				// The next window: sent only once its pages are in memory,
				// so sendfile (or a TLS slice's pread) never waits for the disk.
				n := min(it.File.Len-j.fileSent, workers.Window)
				if !r.pages.Resident(it.File.Fd, it.File.Off+j.fileSent, n) {
					return r.fetchWindow(c, j, n)
				}
				it.File.Ready = j.fileSent + n
			}
			chunk := min(it.File.Len-j.fileSent, sendfileChunk, budget, it.File.Ready-j.fileSent)
			n, s := r.sendFile(c, &it.File, it.File.Off+j.fileSent, int(chunk))
			j.fileSent += int64(n)
			budget -= int64(n)
			if s != stepOn {
				return s
			}
		default:
			r.itemSent(c, j, it)
			if it.Close {
				return r.finishConn(c)
			}
		}
	}
	return r.jobSent(c, j)
}

// yieldTurn ends c's sending for this loop turn, its socket still
// writable: the next turn comes back to it without asking epoll (waiting
// for EPOLLOUT cost two epoll_ctl and a wake-up per 256 KiB sent).
func (r *Reactor) yieldTurn(c *conn) step {
	if !c.more {
		c.more = true
		r.more = append(r.more, c.id())
	}
	return stepOn
}

// sendMore goes on with the connections whose budget ran out last turn.
func (r *Reactor) sendMore() {
	ids := r.more
	r.more, r.moreNext = r.moreNext[:0], ids
	for _, id := range ids {
		c := r.table.byID(id)
		if c == nil {
			continue
		}
		c.more = false
		if c.state == stateWriting && !c.blocked {
			r.after(c, r.flush(c))
		}
	}
}

// itemSent books items[cur], which has completely left.
func (r *Reactor) itemSent(c *conn, j *job, it *protocol.Item) {
	r.record(c, j, it, int64(it.Head.Len()), it.BodyLen())
	workers.CloseFile(it)
	j.cur++
	j.fileSent = 0
}

// jobSent retires a job whose responses have all left and reads on.
func (r *Reactor) jobSent(c *conn, j *job) step {
	c.job = nil
	r.recycle(j)
	r.endOutput(c)
	c.state, c.blocked, c.full = stateReading, false, false
	return r.resume(c)
}

// regionEnd is where the bytes that can leave in one write end: at the head
// of the next item with a file to send (fileNext), or at the end of the buffer.
func regionEnd(items []protocol.Item, cur, bufLen int) (end int, fileNext bool) {
	for k := cur; k < len(items); k++ {
		if items[k].HasFile && items[k].File.Len > 0 {
			return items[k].Body.End, true
		}
	}
	return bufLen, false
}

// finishConn ends c after its last response: the output stream ends, then
// its input is drained until the client closes too (lingering).
func (r *Reactor) finishConn(c *conn) step {
	if s := r.closeWrite(c); s != stepOn {
		return s
	}
	if c.job != nil {
		r.recycle(c.job)
		c.job = nil
	}
	c.last, c.blocked = true, false
	if c.peerEOF {
		return stepClose
	}
	c.state, c.lingerSince = stateLingering, r.now()
	if c.in != nil {
		r.putBuf(c.in)
		c.in, c.start = nil, 0
	}
	return stepOn
}

// after applies what a step left c needing. It is the one place where a
// connection is closed; otherwise its epoll interest and its deadline
// follow its new state.
func (r *Reactor) after(c *conn, s step) {
	switch s {
	case stepAbort:
		if c.job != nil && (c.state == stateWriting || c.job.fetching) {
			r.recordPartial(c, c.job)
		}
		r.closeConn(c)
	case stepClose:
		r.closeConn(c)
	default:
		r.updateInterest(c)
		r.schedule(c, r.deadline(c))
	}
}

// updateInterest registers the events c needs, if they changed.
func (r *Reactor) updateInterest(c *conn) {
	if ev := c.interest(); ev != c.events {
		c.events = ev
		_ = r.poll.mod(c.fd, ev, c.slot, c.gen)
	}
}

// closeConn closes c's socket and retires its id. Order matters: epoll DEL,
// close(fd), then the generation moves on (table.release). A job still in the
// pool keeps the read buffer it points into; its completion will find no
// connection and be dropped.
func (r *Reactor) closeConn(c *conn) {
	r.poll.del(c.fd)
	unix.Close(c.fd)
	closeTransport(c)
	inPool := c.state == stateQueued || c.state == stateFetching
	if c.job != nil && !inPool {
		r.recycle(c.job)
	}
	if c.in != nil && !inPool {
		r.putBuf(c.in)
	}
	c.job, c.in = nil, nil
	r.table.release(c)
	r.stats.Connections.Add(-1)
	r.open.Add(-1)
}
