package workers

import (
	"io"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The reactor sends files with sendfile, which waits for the disk when the
// pages are not in memory. So a file goes out a window at a time, and
// before a window is sent its pages are known to be in the page cache:
// probed with cachestat (cheap, never waits), and where they are not,
// read in by a worker. Reading blocks the worker, never the reactor.

// Window is how much of a file is made resident ahead of the reactor at a
// time: the read-ahead a download holds in the page cache beyond what it
// has sent, so sixteen cold downloads pin at most 32 MiB of it.
const Window = 2 << 20

// SmallFile is the size up to which a file's bytes are read by the worker
// into the response itself: one write then sends head and body, and no
// probe is needed.
const SmallFile = 16 << 10

// Pages is how the reactor learns whether a window is in memory and how a
// worker brings it in. Tests replace it to hold a read back or fail it.
type Pages interface {
	// Resident reports whether [off, off+n) of fd is in the page cache. It
	// never waits for the disk; where the kernel cannot tell, false.
	Resident(fd int, off, n int64) bool
	// Fetch reads [off, off+n) of fd so that its pages are in the page
	// cache. It blocks: workers only. A file that ends early is
	// io.ErrUnexpectedEOF; a failing disk is its error (EIO).
	Fetch(fd int, off, n int64) error
}

// PageCache is Pages over the kernel's page cache.
type PageCache struct{}

// cachestatRange and cachestatResult are the kernel's struct cachestat_range
// and struct cachestat (Linux 6.5).
type cachestatRange struct{ off, len uint64 }
type cachestatResult struct{ cache, dirty, writeback, evicted, recentlyEvicted uint64 }

var pageSize = int64(unix.Getpagesize())

// Resident asks cachestat how many pages of the range are cached.
func (PageCache) Resident(fd int, off, n int64) bool {
	if n <= 0 {
		return true
	}
	first := off / pageSize
	pages := (off+n+pageSize-1)/pageSize - first
	r := cachestatRange{off: uint64(first * pageSize), len: uint64(pages * pageSize)}
	var cs cachestatResult
	_, _, errno := unix.Syscall6(unix.SYS_CACHESTAT, uintptr(fd), uintptr(unsafe.Pointer(&r)),
		uintptr(unsafe.Pointer(&cs)), 0, 0, 0)
	return errno == 0 && int64(cs.cache) >= pages
}

// devNull is where Fetch sends the bytes it waits for: sendfile to it
// waits until each page is read from the disk (and reports EIO) but
// copies nothing, where a read into a buffer copied every byte of every
// cold window (on an unthrottled disk, cold downloads went 1.02-1.24x
// faster without the copy). Opened once at start, so the process's
// descriptors do not change under load; -1 where there is no /dev/null.
var devNull = func() int {
	fd, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}()

// NoReadahead turns the kernel's own read-ahead off for an open file: it
// would put pages in the page cache that are still being read from the
// disk, which cachestat counts as cached and sendfile then waits for. The
// windows Fetch reads in are the read-ahead instead.
func NoReadahead(fd int) { _ = unix.Fadvise(fd, 0, 0, unix.FADV_RANDOM) }

// Fetch starts the disk reads for the whole range at once (readahead(2)),
// then waits for them by sending the range to /dev/null, which reports
// their errors. The reactor asks only for windows that are not in
// memory, so this is always a disk wait.
func (PageCache) Fetch(fd int, off, n int64) error {
	diskWait.enter()
	defer diskWait.exit()
	_, _, _ = unix.Syscall(unix.SYS_READAHEAD, uintptr(fd), uintptr(off), uintptr(n))
	if devNull < 0 {
		return readThrough(fd, off, n)
	}
	for n > 0 {
		k, err := unix.Sendfile(devNull, fd, &off, int(min(n, 1<<30)))
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err != nil:
			return err
		case k == 0:
			return io.ErrUnexpectedEOF
		}
		n -= int64(k)
	}
	return nil
}

// readThrough waits for [off, off+n) of fd by reading it through a buffer.
func readThrough(fd int, off, n int64) error {
	buf := make([]byte, 64<<10)
	for n > 0 {
		k := min(int64(len(buf)), n)
		if err := preadFull(fd, buf[:k], off); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// preadFull fills p from fd at off: io.ErrUnexpectedEOF if the file ends first.
func preadFull(fd int, p []byte, off int64) error {
	for len(p) > 0 {
		k, err := unix.Pread(fd, p, off)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case k == 0:
			return io.ErrUnexpectedEOF
		}
		p = p[k:]
		off += int64(k)
	}
	return nil
}
