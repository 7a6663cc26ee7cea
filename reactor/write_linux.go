package reactor

import (
	"time"
	"unsafe"

	"http_server/logging"
	"http_server/protocol"
	"http_server/stats"
	"http_server/workers"

	"golang.org/x/sys/unix"
)

// flush writes c's job from where it stopped: contiguous header and body
// bytes with one write, files with sendfile from the worker's descriptor.
// On EAGAIN it waits for EPOLLOUT; a download is pulled by the socket's
// readiness and never read into memory.
func (r *Reactor) flush(c *conn) {
	if c.tls != nil {
		r.flushTLS(c)
		return
	}
	j := c.job
	items := j.out.Items
	budget := int64(sendBudget)
	for j.cur < len(items) {
		it := &items[j.cur]
		if j.pos < it.Body.End {
			end, fileNext := regionEnd(items, j.cur, len(j.out.Buf))
			want := end - j.pos
			n, err := send(c.fd, j.out.Buf[j.pos:end], fileNext)
			if n > 0 {
				j.pos += n
				c.lastWrite = r.now()
			}
			switch {
			case err == unix.EAGAIN || (err == nil && n < want):
				r.waitWritable(c)
				return
			case err == unix.EINTR:
			case err != nil:
				r.abort(c)
				return
			}
			continue
		}
		if it.HasFile && j.fileSent < it.File.Len {
			if budget <= 0 {
				r.waitWritable(c) // level-triggered: we come back next turn
				return
			}
			off := it.File.Off + j.fileSent
			chunk := min(it.File.Len-j.fileSent, sendfileChunk, budget)
			n, err := unix.Sendfile(c.fd, it.File.Fd, &off, int(chunk))
			if n > 0 {
				j.fileSent += int64(n)
				budget -= int64(n)
				c.lastWrite = r.now()
			}
			switch {
			case err == unix.EAGAIN:
				r.waitWritable(c)
				return
			case err == unix.EINTR:
			case err != nil:
				r.abort(c)
				return
			case n == 0:
				// The file shrank under us; Content-Length is already on
				// the wire, so the only honest end is to cut the connection.
				r.abort(c)
				return
			}
			continue
		}
		if !r.itemSent(c, j, it) {
			return
		}
	}
	r.jobSent(c, j)
}

// itemSent books items[cur], which has completely left. It reports false
// when the connection ended with it.
func (r *Reactor) itemSent(c *conn, j *job, it *protocol.Item) bool {
	r.stats.Record(stats.Route(it.Route), it.Status, int64(it.Head.Len()), it.BodyLen(), time.Duration(r.now()-j.arrived))
	r.logAccess(c, j, it.Status, it.BodyLen())
	workers.CloseFile(it)
	j.cur++
	j.fileSent = 0
	if it.Close {
		r.finishConn(c)
		return false
	}
	return true
}

// jobSent retires a job whose responses have all left and reads on.
func (r *Reactor) jobSent(c *conn, j *job) {
	c.job = nil
	r.recycle(j)
	if c.tls != nil {
		c.tls.mc.trim()
	}
	c.wantOut = false
	if c.paused && !c.stalled {
		c.paused = false
	}
	r.updateInterest(c)
	r.next(c)
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

// send writes p to a socket. When file bytes follow, MSG_MORE lets the
// kernel hold the header back and put it in one segment with the first
// sendfile bytes, instead of a small packet and an extra round of ACKs.
func send(fd int, p []byte, more bool) (int, error) {
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

func (r *Reactor) waitWritable(c *conn) {
	if !c.wantOut {
		c.wantOut = true
		r.updateInterest(c)
	}
}

// logAccess writes the access-log line for the response to j.reqs[j.cur].
// The request's bytes are still intact: the buffer is not compacted while
// its job is being written.
func (r *Reactor) logAccess(c *conn, j *job, status int, bytes int64) {
	if r.access == nil || j.cur >= j.n {
		return
	}
	req := &j.reqs[j.cur]
	e := &r.entry
	*e = logging.Entry{Time: time.Now(), Peer: c.peer, Method: req.Method, Target: req.Target,
		Minor: req.Minor, Status: status, Bytes: bytes, Duration: time.Duration(r.now() - j.arrived)}
	if len(req.Method) == 0 {
		e.Minor = -1
	}
	e.Referer, _ = req.HeaderValue("referer")
	e.UserAgent, _ = req.HeaderValue("user-agent")
	r.access.Log(e)
}

// recordPartial counts the response cut short on c by what actually left.
func (r *Reactor) recordPartial(c *conn, j *job) {
	if j.cur >= len(j.out.Items) {
		return
	}
	it := &j.out.Items[j.cur]
	head := int64(min(max(j.pos-it.Head.Start, 0), it.Head.Len()))
	body := int64(max(j.pos-it.Head.End, 0)) + j.fileSent
	if head > 0 || body > 0 {
		r.stats.Record(stats.Route(it.Route), it.Status, head, body, time.Duration(r.now()-j.arrived))
		r.logAccess(c, j, it.Status, body)
	}
}
