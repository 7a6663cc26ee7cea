package reactor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// completions carries finished jobs from the workers back to the reactor: a
// mutex-guarded slice swapped whole by the reactor, and an eventfd that wakes
// the reactor only when it is (about to be) asleep in epoll_wait.
type completions struct {
	mu    sync.Mutex
	items []*job
	spare []*job // the reactor's side of the double buffer
	tls   []tlsEvent
	tlsSp []tlsEvent

	n           atomic.Int32 // len(items)+len(tls), readable without the lock
	sleeping    atomic.Bool  // the reactor is in, or about to enter, a blocking wait
	wakePending atomic.Bool  // an eventfd write is outstanding
	efd         int

	// efdMu keeps a late wake (Stop after Run returned) from writing to a
	// closed descriptor number that the kernel may have handed out again.
	efdMu  sync.RWMutex
	closed bool
}

func newCompletions() (*completions, error) {
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &completions{efd: efd}, nil
}

var one = [8]byte{1, 0, 0, 0, 0, 0, 0, 0}

// push hands a finished job to the reactor. Called from workers.
func (q *completions) push(j *job) {
	q.mu.Lock()
	q.items = append(q.items, j)
	q.publish()
}

// tlsEvent tells the reactor that a handshake goroutine wrote output for
// connection id, or (done) that its handshake ended.
type tlsEvent struct {
	id   uint64
	done bool
}

// pushTLS hands a handshake event to the reactor. Called from handshake goroutines.
func (q *completions) pushTLS(ev tlsEvent) {
	q.mu.Lock()
	q.tls = append(q.tls, ev)
	q.publish()
}

// publish ends a push: it counts what waits, unlocks, and wakes a sleeping
// reactor. The store of n and the load of sleeping pair with the reactor's
// store of sleeping and its load of n: either it sees what was pushed, or
// the pusher sees it asleep.
func (q *completions) publish() {
	q.n.Store(int32(len(q.items) + len(q.tls)))
	q.mu.Unlock()
	if q.sleeping.Load() {
		q.wake()
	}
}

// wake writes the eventfd once per sleep, however many producers call it.
func (q *completions) wake() {
	if q.wakePending.CompareAndSwap(false, true) {
		q.efdMu.RLock()
		if !q.closed {
			_, _ = unix.Write(q.efd, one[:])
		}
		q.efdMu.RUnlock()
	}
}

// pending reports whether jobs are waiting.
func (q *completions) pending() bool { return q.n.Load() > 0 }

// spin gives workers just started a chance to finish before the reactor
// sleeps: with one P, a reactor blocked in epoll_wait keeps them off the CPU
// until the runtime takes the P back, tens of microseconds later. It
// reports whether a job came back within limit.
func (q *completions) spin(limit time.Duration) bool {
	start := time.Now()
	for i := 0; !q.pending(); i++ {
		runtime.Gosched()
		if i&7 == 7 && time.Since(start) > limit {
			return false
		}
	}
	return true
}

// drain returns the waiting jobs and handshake events; the slices are
// valid until the next drain.
func (q *completions) drain() ([]*job, []tlsEvent) {
	q.mu.Lock()
	out, evs := q.items, q.tls
	q.items, q.tls = q.spare[:0], q.tlsSp[:0]
	q.n.Store(0)
	q.mu.Unlock()
	q.spare, q.tlsSp = out, evs
	return out, evs
}

// acknowledge consumes the eventfd after it fired.
func (q *completions) acknowledge() {
	var buf [8]byte
	_, _ = unix.Read(q.efd, buf[:])
	q.wakePending.Store(false)
}

func (q *completions) close() {
	q.efdMu.Lock()
	if !q.closed {
		q.closed = true
		unix.Close(q.efd)
	}
	q.efdMu.Unlock()
}
