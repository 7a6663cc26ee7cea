package protocol

import (
	"net/http"
	"testing"
	"time"
)

// Once an event loop ticks, responses carry the date of its latest turn,
// reformatted when the second changes, and encoding reads no clock.
func TestTickDate(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, now := range []time.Time{t0, t0.Add(400 * time.Millisecond), t0.Add(time.Second), t0.Add(time.Hour)} {
		TickDate(now)
		got := string(appendDate(nil))
		if want := now.Format(http.TimeFormat); got != want {
			t.Fatalf("after TickDate(%v): Date %q, want %q", now, got, want)
		}
	}
	TickDate(time.Now()) // leave the clock current for the other tests
}
