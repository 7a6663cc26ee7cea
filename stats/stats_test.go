package stats

import (
	"sync"
	"testing"
)

func TestRecordSplitsByStatus(t *testing.T) {
	var c Counters
	c.Record(200, 39, 66)
	c.Record(304, 100, 0)
	c.Record(404, 27, 0)
	c.Record(500, 50, 22)
	want := Snapshot{Requests: 2, HeaderBytes: 139, BodyBytes: 66, Errors: 2, ErrorBytes: 99}
	if got := c.Snapshot(); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// A snapshot never shows a response counted without its bytes.
func TestSnapshotConsistent(t *testing.T) {
	var c Counters
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10000; i++ {
			c.Record(200, 10, 5)
		}
	}()
	for i := 0; i < 1000; i++ {
		s := c.Snapshot()
		if s.HeaderBytes != 10*s.Requests || s.BodyBytes != 5*s.Requests {
			t.Fatalf("torn snapshot %+v", s)
		}
	}
	wg.Wait()
}
