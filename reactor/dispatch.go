package reactor

import "http_server/workers"

// newJob takes a recycled job (or makes one) for connection c.
func (r *Reactor) newJob(c *conn) *job {
	var j *job
	if n := len(r.jobs); n > 0 {
		j = r.jobs[n-1]
		r.jobs = r.jobs[:n-1]
	} else {
		j = &job{r: r}
		j.run = func() {
			workers.GrowStack()
			j.serve()
			r.done.push(j)
		}
	}
	j.id = c.id()
	return j
}

// recycle closes what j still owns and keeps it for reuse, up to a bound:
// a burst of many connections must not leave a job per connection behind.
func (r *Reactor) recycle(j *job) {
	j.reset()
	if len(r.jobs) < maxFreeJobs {
		r.jobs = append(r.jobs, j)
	}
}

// dispatch hands j to the pool without blocking. When the pool's queue is
// full the connection stops reading and waits its turn: nothing is dropped.
func (r *Reactor) dispatch(c *conn, j *job) {
	c.job, c.queued = j, true
	if r.pool == nil || (j.n == 1 && j.reqs[0].Err != 0) {
		j.serve() // no pool, or only an error to encode: no blocking work
		r.inline = append(r.inline, j)
		return
	}
	if r.pool.TrySubmit(j.run) {
		r.inflight++
		return
	}
	r.stats.QueueFull.Add(1)
	c.stalled, c.paused, c.stalledSince = true, true, r.now()
	r.stalled = append(r.stalled, c.id())
	r.updateInterest(c)
}

// retryStalled resubmits waiting jobs, oldest first, until the pool refuses.
func (r *Reactor) retryStalled() {
	for len(r.stalled) > 0 {
		c := r.table.byID(r.stalled[0])
		if c == nil || !c.stalled {
			r.stalled = r.stalled[1:]
			continue
		}
		if !r.pool.TrySubmit(c.job.run) {
			return
		}
		r.inflight++
		r.stalled = r.stalled[1:]
		c.stalled = false
		if c.paused && len(c.in) < cap(c.in) {
			c.paused = false
			r.updateInterest(c)
		}
	}
	if cap(r.stalled) > 1024 && len(r.stalled) == 0 {
		r.stalled = nil
	}
}

// complete takes the finished jobs back and starts writing their responses.
func (r *Reactor) complete() {
	for {
		jobs, evs := r.done.drain()
		for _, ev := range evs {
			r.handshakeEvent(ev)
		}
		for i, j := range jobs {
			r.inflight--
			r.finish(j)
			jobs[i] = nil
		}
		for len(r.inline) > 0 {
			j := r.inline[0]
			r.inline = r.inline[1:]
			r.finish(j)
		}
		r.inline = r.inline[:0]
		if len(jobs) == 0 && len(evs) == 0 {
			return
		}
	}
}

// finish writes a returned job's responses, or, if its connection is gone,
// drops it and closes the files it holds (DESIGN invariants 2 and 5).
func (r *Reactor) finish(j *job) {
	c := r.table.byID(j.id)
	if c == nil {
		r.recycle(j)
		return
	}
	c.queued = false
	c.start += j.consumed
	c.lastWrite = r.now() // the write-stall clock starts with the output
	r.flush(c)
	if c.fd >= 0 {
		r.schedule(c, r.deadline(c))
	}
}
