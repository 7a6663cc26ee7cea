package reactor

import "container/heap"

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
		r.timeout(c)
	}
}
