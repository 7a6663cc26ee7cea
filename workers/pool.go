// Package workers is the pond pool and what runs on it: a batch of a
// connection's requests answered in order by the Handler, with a panic
// turned into a 500. It never touches a socket (DESIGN invariant 1).
package workers

import (
	"github.com/alitto/pond/v2"
)

// Pool is a bounded pond pool with a submit that never blocks.
type Pool struct {
	p     pond.Pool
	reads pond.Pool // the lane for reading file windows in: half the workers (the one, with a pool of one)
	size  int
	queue int
}

// NewPool starts a pool of at most size concurrent workers and a queue of
// queue waiting tasks. Without WithNonBlocking a full queue would block the
// caller, and the caller is the reactor.
func NewPool(size, queue int) *Pool {
	p := pond.NewPool(size, pond.WithQueueSize(queue), pond.WithNonBlocking(true))
	SpareProcs(size) // every worker may wait for the disk at once
	// Downloads from a slow disk would otherwise take every worker, and a
	// request as light as /ping would queue behind their reads.
	return &Pool{p: p, reads: p.NewSubpool(max(1, size/2)), size: size, queue: queue}
}

// TrySubmit queues task, or reports false at once when the queue is full.
// pool.Go skips the future that Submit would allocate for every task.
func (p *Pool) TrySubmit(task func()) bool { return p.p.Go(task) == nil }

// TrySubmitRead queues a task that reads a file window in, in the lane
// that leaves the other half of the workers to requests.
func (p *Pool) TrySubmitRead(task func()) bool { return p.reads.Go(task) == nil }

// Stop waits for the queued and running tasks to finish.
func (p *Pool) Stop() {
	p.reads.StopAndWait()
	p.p.StopAndWait()
}

// PoolStats are the pool's figures for /stats.
type PoolStats struct {
	Workers   int    `json:"workers"`    // maximum concurrency
	QueueSize int    `json:"queue_size"` // bound of the waiting queue
	Running   int64  `json:"running"`    // workers busy now
	Queued    uint64 `json:"queued"`     // tasks waiting now
	Completed uint64 `json:"completed"`  // tasks finished since start
	QueueFull uint64 `json:"queue_full"` // submits refused because the queue was full
	DiskWaits uint64 `json:"disk_waits"` // file reads that waited for the disk (see diskwait.go)
}

// Stats reads the pool's counters; a nil pool (inline mode) reports zeros
// but for the disk waits, which the loop then does itself.
func (p *Pool) Stats() PoolStats {
	if p == nil {
		return PoolStats{DiskWaits: DiskWaits()}
	}
	return PoolStats{
		Workers: p.size, QueueSize: p.queue,
		Running:   p.p.RunningWorkers(),
		Queued:    p.p.WaitingTasks(),
		Completed: p.p.CompletedTasks(),
		DiskWaits: DiskWaits(),
	}
}
