package main

import (
	"fmt"
	"log/slog"
	"time"

	"http_server/reactor"
	"http_server/stats"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notify sends a state line to systemd when NOTIFY_SOCKET is set; outside
// systemd it does nothing.
func notify(state string) { _, _ = daemon.SdNotify(false, state) }

// activatedListener returns the first socket systemd passed with
// LISTEN_FDS (socket activation), or 0. The descriptor is duplicated so that
// no *os.File (and its finalizer) owns it.
func activatedListener() (int, error) {
	files := activation.Files(true)
	if len(files) == 0 {
		return 0, nil
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if len(files) > 1 {
		slog.Warn("more than one socket passed by the service manager; using the first", "sockets", len(files))
	}
	fd, err := unix.FcntlInt(files[0].Fd(), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return 0, fmt.Errorf("socket activation: %w", err)
	}
	return fd, nil
}

// watchdog feeds systemd's watchdog (WatchdogSec=) at half its interval,
// but only while every event loop is turning: a stuck loop stops the
// feeding, and systemd restarts the service. It also refreshes STATUS=.
func watchdog(r *reactor.Group, counters *stats.Counters, stop <-chan struct{}) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if r.Alive(interval / 2) {
				notify("WATCHDOG=1\n" + statusLine(counters))
			}
		}
	}
}

// statusLine is the short summary systemctl status shows.
func statusLine(c *stats.Counters) string {
	s := c.Snapshot()
	return fmt.Sprintf("STATUS=%d connections open, %d requests, %d errors served",
		c.Connections.Load(), s.Requests, s.Errors)
}
