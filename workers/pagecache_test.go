package workers

import (
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Fetch brings an evicted range into the page cache, after which Resident
// says so; a range past the end of the file is an unexpected EOF.
func TestPageCacheFetch(t *testing.T) {
	data, fd := syncedFile(t, 3<<20)
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	var pc PageCache
	evicted := !pc.Resident(fd, 1<<20, 1<<20)
	if err := pc.Fetch(fd, 1<<20, 1<<20); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !pc.Resident(fd, 1<<20, 1<<20) {
		t.Fatalf("after Fetch the range is not resident (evicted before: %v)", evicted)
	}
	if !evicted {
		t.Logf("the file system kept the pages cached: eviction not exercised")
	}
	if err := pc.Fetch(fd, int64(len(data))-100, 4096); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Fetch past the end: %v, want io.ErrUnexpectedEOF", err)
	}
	if !pc.Resident(fd, 0, 0) {
		t.Fatalf("an empty range is resident")
	}
}

// Without /dev/null, Fetch waits by reading through a buffer: the same
// answers (nil, then io.ErrUnexpectedEOF past the end).
func TestReadThrough(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, make([]byte, 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := readThrough(int(f.Fd()), 4096, 150<<10); err != nil {
		t.Fatalf("readThrough inside the file: %v", err)
	}
	if err := readThrough(int(f.Fd()), 100<<10, 150<<10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("readThrough past the end: %v, want io.ErrUnexpectedEOF", err)
	}
}

// syncedFile writes n random bytes to a new file, syncs it so that its
// pages can be evicted, and returns them with a descriptor open for reading
// (closed when the test ends).
func syncedFile(t *testing.T, n int) ([]byte, int) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "f")
	data := make([]byte, n)
	rand.Read(data)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return data, int(f.Fd())
}
