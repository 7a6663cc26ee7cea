package workers

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A worker waiting for the disk sits in a system call, and Go's scheduler
// lets it keep its P (the right to run Go code) until the runtime's monitor
// notices, 20 µs to 20 ms later. A server confined to one CPU has one P, so
// the reactor would wait that long for it: exactly the wait the pool is
// there to take off the loop. So while any worker is in a disk read, the
// runtime has one P more per worker, and the spare Ps go again once no
// read has been in flight for a second. A cached file never gets here:
// its read does not wait (preadv2 with RWF_NOWAIT says so), and raising
// GOMAXPROCS for good costs 12-17% on cached data on one CPU.

// diskWaitLinger is how long the spare Ps outlive the last disk read:
// changing GOMAXPROCS stops the world, so it is not done per read.
var diskWaitLinger = time.Second

type diskWaits struct {
	mu      sync.Mutex
	extra   int  // Ps added while reading: the pool's size (0: no pool, the loop itself reads)
	base    int  // GOMAXPROCS before they were added
	raised  bool // the spare Ps are there
	reading int  // disk reads in flight
	last    time.Time
	timer   *time.Timer
}

var diskWait diskWaits

// diskWaitCount counts the reads that waited for the disk, for /stats.
var diskWaitCount atomic.Uint64

// DiskWaits is how many file reads have waited for the disk since start:
// how often the page cache missed.
func DiskWaits() uint64 { return diskWaitCount.Load() }

// SpareProcs sets how many Ps are added while workers wait for the disk:
// the pool's size, so that every worker can wait with the loop still
// running. 0 turns it off (no pool: the loop itself waits, as --workers 0 means).
func SpareProcs(n int) {
	diskWait.mu.Lock()
	diskWait.extra = n
	diskWait.mu.Unlock()
}

// enter marks a worker going into a read that waits for the disk.
func (d *diskWaits) enter() {
	diskWaitCount.Add(1)
	d.mu.Lock()
	d.reading++
	if !d.raised && d.extra > 0 {
		d.base = runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(d.base + d.extra)
		d.raised = true
		if d.timer == nil {
			d.timer = time.AfterFunc(diskWaitLinger, d.lower)
		} else {
			d.timer.Reset(diskWaitLinger)
		}
	}
	d.mu.Unlock()
}

// exit marks the end of such a read.
func (d *diskWaits) exit() {
	d.mu.Lock()
	d.reading--
	d.last = time.Now()
	d.mu.Unlock()
}

// lower takes the spare Ps away once no read has been in flight for
// diskWaitLinger; otherwise it looks again later.
func (d *diskWaits) lower() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.raised {
		return
	}
	if idle := time.Since(d.last); d.reading > 0 || idle < diskWaitLinger {
		d.timer.Reset(max(diskWaitLinger-idle, diskWaitLinger/10))
		return
	}
	d.raised = false
	if os.Getenv("GOMAXPROCS") != "" {
		runtime.GOMAXPROCS(d.base) // the user's own setting
	} else {
		runtime.SetDefaultGOMAXPROCS() // the runtime's, which follows CPU limits as they change
	}
}

// ReadAt fills p from fd at off. A read that would wait for the disk is
// done as a disk wait (above): only the part that is not in memory. A file
// that ends first is io.ErrUnexpectedEOF.
func ReadAt(fd int, p []byte, off int64) error {
	n, err := preadNoWait(fd, p, off)
	if err == nil && n == len(p) {
		return nil
	}
	if err != nil && err != unix.EAGAIN && err != unix.EOPNOTSUPP && err != unix.EINTR {
		return err
	}
	n = max(n, 0)
	diskWait.enter()
	defer diskWait.exit()
	return preadFull(fd, p[n:], off+int64(n))
}

// preadNoWait reads what of [off, off+len(p)) is in the page cache without
// waiting for the disk: EAGAIN when the first page is not.
func preadNoWait(fd int, p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	iov := unix.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	n, _, errno := unix.Syscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&iov)), 1,
		uintptr(off), uintptr(off>>32), unix.RWF_NOWAIT)
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
