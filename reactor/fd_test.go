package reactor

import (
	"os"

	"golang.org/x/sys/unix"
)

// openFd opens name for a test handler, as a descriptor that no *os.File
// owns (a response owns it and the reactor closes it). It panics on error:
// handlers have no t, and a panic there turns into a 500 the test sees.
func openFd(name string) int {
	f, err := os.Open(name)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	return fd
}
