package reactor

import (
	"http_server/protocol"
	"http_server/workers"
)

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

	run func() // the pool task, bound once so submitting allocates nothing
}

// next returns a reset request slot at the end of the batch.
func (j *job) next() *protocol.Request {
	if j.n == len(j.reqs) {
		j.reqs = append(j.reqs, protocol.Request{})
	}
	return &j.reqs[j.n]
}

// serve answers every request of the job in order; it runs on a worker, or
// inline on the reactor when there is no pool.
func (j *job) serve() {
	workers.Serve(j.r.handler, j.r.enc, j.reqs[:j.n], &j.out)
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
}
