package reactor

import (
	"golang.org/x/sys/unix"
)

// Special slots in EpollEvent.Fd for descriptors that are not connections:
// the eventfd, and listener i at slotListener-i.
const (
	slotWake     = -1
	slotListener = -2
)

// poller is a level-triggered epoll set. Each event carries a slot and a
// generation instead of a descriptor, so an event for a connection that was
// closed earlier in the same batch is recognised as stale (DESIGN invariant 2).
type poller struct {
	fd     int
	events []unix.EpollEvent
}

func newPoller(size int) (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &poller{fd: fd, events: make([]unix.EpollEvent, size)}, nil
}

func (p *poller) add(fd int, events uint32, slot int32, gen uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: slot, Pad: int32(gen)}
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (p *poller) mod(fd int, events uint32, slot int32, gen uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: slot, Pad: int32(gen)}
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_MOD, fd, &ev)
}

func (p *poller) del(fd int) {
	_ = unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// wait returns the number of ready events; EINTR counts as zero.
func (p *poller) wait(msec int) (int, error) {
	n, err := unix.EpollWait(p.fd, p.events, msec)
	if err == unix.EINTR {
		return 0, nil
	}
	return n, err
}

func (p *poller) close() { unix.Close(p.fd) }
