package reactor

import (
	"log/slog"

	"http_server/protocol"
	"http_server/workers"
)

// Jobs out to the pool and back: a connection's complete requests leave as
// one job, a worker answers them, and the completion queue brings the job
// back to be written.

// job carries the complete requests of one connection to a worker and their
// responses back. While it is in the pool the worker owns it; once it is
// back, the reactor writes its responses and recycles it. Only the
// connection id links it to its connection, so a job that outlives its
// connection can never touch another client's (DESIGN invariant 2).
type job struct {
	r        *Reactor
	id       uint64
	reqs     []protocol.Request
	n        int
	consumed int   // bytes of the connection's buffer these requests span
	arrived  int64 // reactor clock when the first request's first byte came
	out      protocol.Batch

	// write cursor, reactor only
	pos      int   // bytes of out.Buf written
	cur      int   // first item not yet completely written
	fileSent int64 // bytes of items[cur]'s file sent

	// The next window of items[cur]'s file, which a worker reads in while
	// the connection waits (stateFetching).
	fetching bool
	fetchOff int64
	fetchLen int64
	fetchErr error

	run      func() // the pool task that serves the requests, bound once so submitting allocates nothing
	fetchRun func() // the pool task that reads a window in (while fetching)
}

// next returns a reset request slot at the end of the batch.
func (j *job) next() *protocol.Request {
	if j.n == len(j.reqs) {
		j.reqs = append(j.reqs, protocol.Request{})
	}
	return &j.reqs[j.n]
}

// serve answers the job's requests; on a worker, or inline without a pool.
func (j *job) serve() {
	workers.Serve(j.r.handler, j.r.enc, j.r.pages, j.reqs[:j.n], &j.out)
}

// reset closes every file the job still owns and clears it for reuse.
func (j *job) reset() {
	for k := range j.out.Items {
		workers.CloseFile(&j.out.Items[k])
	}
	j.out.Reset()
	for i := 0; i < j.n; i++ {
		j.reqs[i].Body = nil
	}
	j.id, j.n, j.consumed = 0, 0, 0
	j.pos, j.cur, j.fileSent = 0, 0, 0
	j.fetching, j.fetchErr = false, nil
}

// fetch reads the window the reactor asked for into the page cache; on a
// worker, or inline without a pool.
func (j *job) fetch() {
	f := &j.out.Items[j.cur].File
	j.fetchErr = j.r.pages.Fetch(f.Fd, j.fetchOff, j.fetchLen)
}

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
		j.fetchRun = func() {
			j.fetch()
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
	c.job, c.state = j, stateQueued
	if r.pool == nil || (j.n == 1 && j.reqs[0].Err != 0) {
		j.serve() // no pool, or only an error to encode: no blocking work
		r.inline = append(r.inline, j)
		return
	}
	r.submit(c, j)
}

// fetchWindow sends a worker to read the next n bytes of the file being
// sent into memory; the connection waits for it as for any job, and the
// reactor serves everyone else meanwhile.
func (r *Reactor) fetchWindow(c *conn, j *job, n int64) step {
	it := &j.out.Items[j.cur]
	j.fetching, j.fetchOff, j.fetchLen, j.fetchErr = true, it.File.Off+j.fileSent, n, nil
	c.state = stateFetching
	if r.pool == nil {
		j.fetch() // no pool: the loop itself waits, as --workers 0 means
		r.inline = append(r.inline, j)
		return stepFetching
	}
	r.submit(c, j)
	return stepFetching
}

// submit puts j in the pool, or queues the connection for a retry.
func (r *Reactor) submit(c *conn, j *job) {
	if r.trySubmit(j) {
		r.inflight++
		return
	}
	r.stats.QueueFull.Add(1)
	c.state, c.stalledSince = stateStalled, r.now()
	r.stalled = append(r.stalled, c.id())
}

// trySubmit hands j to the pool: a window read in its own lane.
func (r *Reactor) trySubmit(j *job) bool {
	if j.fetching {
		return r.pool.TrySubmitRead(j.fetchRun)
	}
	return r.pool.TrySubmit(j.run)
}

// retryStalled resubmits waiting jobs, oldest first, until the pool refuses.
func (r *Reactor) retryStalled() {
	for len(r.stalled) > 0 {
		c := r.table.byID(r.stalled[0])
		if c == nil || c.state != stateStalled {
			r.stalled = r.stalled[1:]
			continue
		}
		if !r.trySubmit(c.job) {
			return
		}
		r.inflight++
		r.stalled = r.stalled[1:]
		c.state = stateQueued
		if c.job.fetching {
			c.state = stateFetching
		}
		r.updateInterest(c) // reading resumes while the job runs
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
	c.state = stateWriting
	c.lastWrite = r.now() // the write-stall clock starts with the output
	if j.fetching {
		r.after(c, r.fetched(c, j))
		return
	}
	c.start += j.consumed
	r.after(c, r.flush(c))
}

// fetched goes on with a download whose next window a worker read in. A
// disk that failed cuts the connection: its Content-Length is out, so the
// client must see the response end short.
func (r *Reactor) fetched(c *conn, j *job) step {
	j.fetching = false
	if j.fetchErr != nil {
		r.stats.FileErrors.Add(1)
		slog.Warn("reading a file being sent failed; the connection is cut", "err", j.fetchErr)
		return stepAbort
	}
	f := &j.out.Items[j.cur].File
	f.Ready = j.fileSent + j.fetchLen
	return r.flush(c)
}
