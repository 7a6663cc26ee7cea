package reactor

import (
	"sync/atomic"
	"testing"
	"time"
)

// Settle returns only once a loop that was in a turn has left it, and
// does not wait for a loop between turns.
func TestGroupSettleWaitsForTurns(t *testing.T) {
	defer func(d time.Duration) { settleLimit = d }(settleLimit)
	settleLimit = time.Minute
	g := &Group{loops: []*Reactor{{}, {}}}
	g.loops[1].turns.Store(7) // in a turn
	var counted atomic.Bool
	go func() {
		time.Sleep(20 * time.Millisecond)
		counted.Store(true) // the loop counts what it wrote, then ends its turn
		g.loops[1].turns.Add(1)
	}()
	g.Settle()
	if !counted.Load() {
		t.Fatal("Settle returned while a loop was still in the turn it was in when called")
	}
	g.Settle() // both between turns now: returns at once (a hang fails the test by timeout)
}

// The loops' shares of the handshake cap add up to it, and every loop
// has at least one.
func TestHandshakeShare(t *testing.T) {
	for _, c := range []struct {
		total, n int
		want     []int
	}{
		{256, 2, []int{128, 128}},
		{3, 2, []int{2, 1}},
		{7, 3, []int{3, 2, 2}},
		{2, 2, []int{1, 1}},
		{1, 3, []int{1, 1, 1}}, // fewer than the loops: one each
	} {
		for i, want := range c.want {
			if got := handshakeShare(c.total, c.n, i); got != want {
				t.Errorf("handshakeShare(%d, %d, %d) = %d, want %d", c.total, c.n, i, got, want)
			}
		}
	}
}
