package reactor

// The socket system calls the reactor makes, apart from reads, writes and
// sendfile on connections (transport.go) and epoll (poller.go).

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// listen opens a non-blocking, close-on-exec TCP listener on addr:port.
// Port 0 lets the kernel pick; the bound address is returned. reusePort
// lets each loop of a Group bind its own listener to the same port, and
// the kernel spreads new connections across them.
func listen(addr string, port int, backlog int, reusePort bool) (int, *net.TCPAddr, error) {
	ta, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		return -1, nil, err
	}
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil || ta.IP == nil {
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		family = unix.AF_INET6
		s := &unix.SockaddrInet6{Port: ta.Port}
		copy(s.Addr[:], ta.IP.To16())
		sa = s
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("socket: %w", err)
	}
	// SO_REUSEADDR lets a restarted server bind while old connections sit in TIME_WAIT.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("setsockopt: %w", err)
	}
	if reusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			unix.Close(fd)
			return -1, nil, fmt.Errorf("setsockopt SO_REUSEPORT: %w", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("bind %s: %w", ta, err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("listen %s: %w", ta, err)
	}
	bound, err := boundAddr(fd)
	if err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, bound, nil
}

// accept takes one pending connection without asking for the peer address,
// which would cost an allocation per connection. Nagle is off: responses
// leave whole, and a small one must not wait for the client's ACK.
func accept(lfd int) (int, error) {
	for {
		nfd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd), 0, 0,
			unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		_ = unix.SetsockoptInt(int(nfd), unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		return int(nfd), nil
	}
}

// adopt takes over a socket that is already listening (systemd socket
// activation passes it as descriptor 3 and up).
func adopt(fd int) (int, *net.TCPAddr, error) {
	if ok, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || ok != 1 {
		return -1, nil, fmt.Errorf("descriptor %d passed by the service manager is not a listening socket", fd)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return -1, nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	unix.CloseOnExec(fd)
	bound, err := boundAddr(fd)
	if err != nil {
		return -1, nil, fmt.Errorf("descriptor %d passed by the service manager: %w", fd, err)
	}
	return fd, bound, nil
}

// boundAddr is the local address of a TCP socket.
func boundAddr(fd int) (*net.TCPAddr, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	ap, ok := addrPort(sa)
	if !ok {
		return nil, fmt.Errorf("not a TCP/IP socket")
	}
	return net.TCPAddrFromAddrPort(ap), nil
}

// addrPort converts an IPv4 or IPv6 socket address.
func addrPort(sa unix.Sockaddr) (netip.AddrPort, bool) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), true
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)), true
	}
	return netip.AddrPort{}, false
}

// peerOf reads the client's address for the access log.
func peerOf(fd int) netip.AddrPort {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	ap, _ := addrPort(sa)
	return ap
}
