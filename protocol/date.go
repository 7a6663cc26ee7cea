package protocol

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateValue caches the IMF-fixdate for the current second, so encoding a
// response costs one clock read and no formatting.
type dateValue struct {
	sec  int64
	text [len(http.TimeFormat)]byte
}

var (
	cachedDate atomic.Pointer[dateValue]
	ticked     atomic.Bool // an event loop keeps cachedDate current
)

// TickDate is called by an event loop on every turn with the time it read
// anyway. From then on responses carry the date of the loop's latest turn,
// which precedes the response by at most the time it takes to build it,
// and encoding one reads no clock.
func TickDate(now time.Time) {
	setDate(now)
	ticked.Store(true)
}

func setDate(now time.Time) *dateValue {
	d := cachedDate.Load()
	if d == nil || d.sec != now.Unix() {
		d = &dateValue{sec: now.Unix()}
		now.UTC().AppendFormat(d.text[:0], http.TimeFormat)
		cachedDate.Store(d)
	}
	return d
}

// appendDate appends the current HTTP date; it is reformatted at most once a second.
func appendDate(dst []byte) []byte {
	var d *dateValue
	if ticked.Load() {
		d = cachedDate.Load()
	} else {
		d = setDate(time.Now())
	}
	return append(dst, d.text[:]...)
}
