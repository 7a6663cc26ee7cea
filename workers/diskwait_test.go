package workers

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// While a disk read is in flight the runtime has the spare Ps, and a
// linger after the last one ends they are gone again; with no spare Ps
// configured (no pool) GOMAXPROCS never moves.
func TestDiskWaitSpareProcs(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	t.Setenv("GOMAXPROCS", strconv.Itoa(base)) // restore to exactly base
	defer func(l time.Duration) { diskWaitLinger = l }(diskWaitLinger)
	diskWaitLinger = 20 * time.Millisecond
	defer SpareProcs(0)

	SpareProcs(0)
	diskWait.enter()
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("no spare Ps configured, yet GOMAXPROCS went from %d to %d", base, got)
	}
	diskWait.exit()

	SpareProcs(3)
	diskWait.enter()
	diskWait.enter()
	if got := runtime.GOMAXPROCS(0); got != base+3 {
		t.Fatalf("during a disk read GOMAXPROCS = %d, want %d", got, base+3)
	}
	diskWait.exit()
	time.Sleep(3 * diskWaitLinger)
	if got := runtime.GOMAXPROCS(0); got != base+3 {
		t.Fatalf("one read still in flight, yet GOMAXPROCS dropped to %d", got)
	}
	diskWait.exit()
	waitProcs(t, base)

	// A second episode raises them again.
	diskWait.enter()
	if got := runtime.GOMAXPROCS(0); got != base+3 {
		t.Fatalf("second episode: GOMAXPROCS = %d, want %d", got, base+3)
	}
	diskWait.exit()
	waitProcs(t, base)
}

func waitProcs(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS still %d 5 s after the last read, want %d", runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ReadAt returns the file's bytes whether they are cached, evicted, or
// cached only in part, and an unexpected EOF past the end.
func TestReadAt(t *testing.T) {
	data, fd := syncedFile(t, 256<<10)
	check := func(what string, off, n int) {
		t.Helper()
		p := make([]byte, n)
		if err := ReadAt(fd, p, int64(off)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !bytes.Equal(p, data[off:off+n]) {
			t.Fatalf("%s: bytes differ from the file's", what)
		}
	}
	check("cached", 4096, 16<<10)
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	check("evicted", 100<<10, 16<<10)
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	check("first half cached", 0, 64<<10)
	check("cached in part", 32<<10, 64<<10)
	if err := ReadAt(fd, make([]byte, 8192), int64(len(data))-100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("past the end: %v, want io.ErrUnexpectedEOF", err)
	}
}
