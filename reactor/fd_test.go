package reactor

import (
	"os"

	"golang.org/x/sys/unix"
)

// dupFd gives the test a descriptor that no *os.File owns.
func dupFd(f *os.File) (int, error) {
	return unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
}
