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
