package reactor

import (
	"container/heap"
	"time"
)

// Timeouts: each connection's next deadline follows from its state
// (deadline), a lazy min-heap wakes the loop for the earliest one, and
// timeout decides what a passed deadline costs the connection.

// timerEntry asks the reactor to look at a connection at a given time.
type timerEntry struct {
	at   int64
	slot int32
	gen  uint32
}

// timerHeap is a min-heap of deadlines with lazy deletion: a connection's
// deadline may move later without touching the heap; when its entry comes
// up, the reactor recomputes the deadline and re-queues it if needed. So the
// common case, a deadline pushed back by new traffic, costs nothing.
type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// schedule makes sure c is looked at no later than at.
func (r *Reactor) schedule(c *conn, at int64) {
	if at == 0 {
		return
	}
	if c.timerAt != 0 && c.timerAt <= at {
		return // an earlier entry exists; it will re-queue if needed
	}
	c.timerAt = at
	heap.Push(&r.timers, timerEntry{at: at, slot: c.slot, gen: c.gen})
}

// nextTimeout returns the epoll_wait timeout in milliseconds until the
// earliest deadline, capped at max.
func (r *Reactor) nextTimeout(max int) int {
	if len(r.timers) == 0 {
		return max
	}
	d := r.timers[0].at - r.now()
	if d <= 0 {
		return 0
	}
	ms := int((d + 999_999) / 1_000_000)
	if ms > max {
		return max
	}
	return ms
}

// expire fires the deadlines that have passed.
func (r *Reactor) expire() {
	now := r.now()
	for len(r.timers) > 0 && r.timers[0].at <= now {
		e := heap.Pop(&r.timers).(timerEntry)
		c := r.table.bySlot(e.slot, e.gen)
		if c == nil || c.timerAt != e.at {
			continue
		}
		c.timerAt = 0
		at := r.deadline(c)
		if at == 0 {
			continue
		}
		if at > now {
			r.schedule(c, at)
			continue
		}
		r.after(c, r.timeout(c))
	}
}

// deadline is when c must next be looked at, from its state (0: never).
func (r *Reactor) deadline(c *conn) int64 {
	o := &r.opts
	switch c.state {
	case stateLingering:
		return c.lingerSince + int64(o.LingerTimeout)
	case stateHandshake:
		// The handshake's context ends it first; this is the backstop.
		return c.idleSince + int64(r.tls.timeout) + int64(time.Second)
	case stateStalled:
		return c.stalledSince + int64(o.QueueTimeout)
	case stateQueued, stateFetching:
		return 0 // a worker has it; the pool is not subject to client timeouts
	}
	if c.blocked { // writing, or TLS records that no job owns
		return c.lastWrite + int64(o.WriteTimeout)
	}
	switch {
	case c.state == stateWriting:
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

// timeout decides what a passed deadline costs c.
func (r *Reactor) timeout(c *conn) step {
	r.stats.TimedOut.Add(1)
	switch {
	case c.state == stateStalled && c.job.fetching:
		return stepAbort // mid-download: its head is out, so no error can follow
	case c.state == stateStalled:
		// Waited too long for room in the pool: 503, and the client may
		// retry. Its job never ran, so nothing of it reached a worker.
		r.recycle(c.job)
		c.job, c.state = nil, stateReading
		return r.reject(c, 503)
	case c.state == stateReading && c.partialSince != 0 && !c.peerEOF:
		return r.reject(c, 408)
	}
	return stepAbort // idle, a stalled writer, a handshake or a lingering close that took too long
}
