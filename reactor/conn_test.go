package reactor

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The epoll interest follows from the state and the conditions beside it.
func TestInterest(t *testing.T) {
	const in, out = unix.EPOLLIN, unix.EPOLLOUT
	cases := []struct {
		name string
		c    conn
		want uint32
	}{
		{"reading", conn{state: stateReading}, in},
		{"handshake", conn{state: stateHandshake}, in},
		{"handshake after EOF", conn{state: stateHandshake, peerEOF: true}, 0},
		{"queued reads ahead", conn{state: stateQueued}, in},
		{"queued, buffer full", conn{state: stateQueued, full: true}, 0},
		{"stalled stops reading", conn{state: stateStalled}, 0},
		{"writing", conn{state: stateWriting}, in},
		{"writing, blocked", conn{state: stateWriting, blocked: true}, in | out},
		{"writing the last response, blocked", conn{state: stateWriting, last: true, blocked: true}, out},
		{"reading after EOF", conn{state: stateReading, peerEOF: true}, 0},
		{"reading, TLS records blocked", conn{state: stateReading, blocked: true}, in | out},
		{"lingering drains input", conn{state: stateLingering, last: true, peerEOF: false}, in},
		{"closed", conn{state: stateClosed}, 0},
	}
	for _, c := range cases {
		if got := c.c.interest(); got != c.want {
			t.Errorf("%s: interest %#x, want %#x", c.name, got, c.want)
		}
	}
}

// Each state has its own clock; a change to one timeout lands in deadline.
func TestDeadline(t *testing.T) {
	o := Options{HeaderTimeout: 1 * time.Second, BodyTimeout: 2 * time.Second, SilenceTimeout: 0,
		IdleTimeout: 3 * time.Second, WriteTimeout: 4 * time.Second, LingerTimeout: 5 * time.Second,
		QueueTimeout: 6 * time.Second}
	r := &Reactor{opts: o, tls: &tlsServer{timeout: 7 * time.Second}}
	const t0 = int64(1000)
	s := func(d time.Duration) int64 { return t0 + int64(d) }
	cases := []struct {
		name string
		c    conn
		want int64
	}{
		{"idle", conn{state: stateReading, idleSince: t0}, s(o.IdleTimeout)},
		{"head partly in", conn{state: stateReading, partialSince: t0}, s(o.HeaderTimeout)},
		{"body partly in", conn{state: stateReading, partialSince: 1, bodySince: t0}, s(o.BodyTimeout)},
		{"stalled", conn{state: stateStalled, stalledSince: t0}, s(o.QueueTimeout)},
		{"queued: no client clock", conn{state: stateQueued, partialSince: 1, blocked: true}, 0},
		{"writing, not blocked", conn{state: stateWriting, lastWrite: t0}, 0},
		{"writing, blocked", conn{state: stateWriting, blocked: true, lastWrite: t0}, s(o.WriteTimeout)},
		{"lingering", conn{state: stateLingering, lingerSince: t0}, s(o.LingerTimeout)},
		{"handshake", conn{state: stateHandshake, idleSince: t0}, s(7*time.Second + time.Second)},
	}
	for _, c := range cases {
		if got := r.deadline(&c.c); got != c.want {
			t.Errorf("%s: deadline %d, want %d", c.name, got, c.want)
		}
	}
	r.opts.SilenceTimeout = 500 * time.Millisecond
	c := conn{state: stateReading, partialSince: t0, lastRead: t0}
	if got := r.deadline(&c); got != s(r.opts.SilenceTimeout) {
		t.Errorf("silent partial request: deadline %d, want %d", got, s(r.opts.SilenceTimeout))
	}
}
