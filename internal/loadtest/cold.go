package loadtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Cold data. The server sends a file that is not in the page cache by
// having a worker read it in, so a pool should beat handlers inline (the
// event loop waiting for the disk itself) only on cold data. Every other
// scenario reads files that stay cached; the cold scenarios keep theirs out
// of the page cache, from the client's side:
//
//   - before each run (and so before its warm-up), every file of the
//     scenario is written back (fsync: freshly written fixtures are dirty)
//     and evicted (posix_fadvise POSIX_FADV_DONTNEED, which drops the clean
//     pages nobody has mapped): one call per file, whatever its size;
//   - cold-files then stays cold by its size alone: it asks for random
//     8 KiB ranges of one large file (2 GiB by default), and a run of a few
//     seconds reads only a small part of it, so nearly every range is
//     still on the disk only. Nothing is evicted during the run: fadvise
//     DONTNEED drains the per-CPU LRU lists of every CPU (an interrupt on
//     each, the server's included), and once per response it limited the
//     run;
//   - cold-large (Scenario.EvictEach) reads whole files: each is evicted
//     again by the connection that downloaded it, as soon as the download
//     has arrived and before that connection asks for the next one. That
//     is one call per download of 64 MiB, rare enough to cost nothing.
//
// Only the files' data goes cold: their inodes and directories stay in the
// kernel's caches, as they would on a server with a large cold data set.

// EvictFile drops path's pages from the page cache: it writes back what is
// dirty (fsync), then advises the kernel that the pages are not needed
// (POSIX_FADV_DONTNEED), which drops every clean page not mapped or locked.
// On tmpfs there is no disk to drop them to: the call succeeds and the
// pages stay.
func EvictFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise %s: %w", path, err)
	}
	return nil
}

// dropPages is EvictFile for a file known to be clean (no fsync): what the
// generator calls after each download of cold-large.
func dropPages(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	err = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	unix.Close(fd)
	if err != nil {
		return &os.PathError{Op: "fadvise", Path: path, Err: err}
	}
	return nil
}

// ResidentPages reports how many of the pages of path are in the page
// cache, and how many pages it has (mincore(2) over a mapping of it; the
// mapping itself reads nothing).
func ResidentPages(path string) (resident, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if fi.Size() == 0 {
		return 0, 0, nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, fmt.Errorf("mmap %s: %w", path, err)
	}
	defer unix.Munmap(m)
	page := unix.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, 0, fmt.Errorf("mincore %s: %w", path, errno)
	}
	for _, v := range vec {
		resident += int(v & 1)
	}
	return resident, len(vec), nil
}

// ColdSet keeps the files of a cold scenario (Scenario.Cold) out of the
// page cache during a run.
type ColdSet struct {
	root   string
	paths  []string // absolute, the scenario's Cold
	failed atomic.Int64
}

// NewColdSet is the cold set of s, whose fixtures are under root; nil if s
// is not a cold scenario.
func NewColdSet(s *Scenario, root string) *ColdSet {
	if len(s.Cold) == 0 {
		return nil
	}
	c := &ColdSet{root: root, paths: make([]string, len(s.Cold))}
	for i, rel := range s.Cold {
		c.paths[i] = filepath.Join(root, filepath.FromSlash(rel))
	}
	return c
}

// EvictAll writes back and evicts every file (EvictFile: fsync, since
// freshly written fixtures are dirty and dirty pages cannot be dropped,
// then one fadvise DONTNEED over the whole file), then checks that
// eviction works here: on tmpfs, and any other file system that keeps
// files only in memory, the pages stay, and a "cold" run would measure the
// page cache.
func (c *ColdSet) EvictAll() error {
	for _, p := range c.paths {
		if err := EvictFile(p); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("cold fixture missing (is %s the fixtures directory the scenario was made in?): %w", c.root, err)
			}
			return err
		}
	}
	resident, total, err := ResidentPages(c.paths[0])
	if err != nil {
		return err
	}
	if total > 0 && resident == total {
		return fmt.Errorf("evicting %s from the page cache has no effect: %s must be on a disk (not tmpfs) for a cold scenario", c.paths[0], c.root)
	}
	return nil
}

// evict drops the file that request req of the scenario's first item read
// (Scenario.EvictEach). It runs on the connection's goroutine; a failure is counted (Failed),
// not fatal.
func (c *ColdSet) evict(item, req int) {
	if item != 0 || req >= len(c.paths) {
		return
	}
	if dropPages(c.paths[req]) != nil {
		c.failed.Add(1)
	}
}

// Failed is the number of evictions that failed during runs.
func (c *ColdSet) Failed() int64 { return c.failed.Load() }
