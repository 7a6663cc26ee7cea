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

var cachedDate atomic.Pointer[dateValue]

// appendDate appends the current HTTP date; it is reformatted at most once a second.
func appendDate(dst []byte) []byte {
	now := time.Now()
	d := cachedDate.Load()
	if d == nil || d.sec != now.Unix() {
		nd := &dateValue{sec: now.Unix()}
		now.UTC().AppendFormat(nd.text[:0], http.TimeFormat)
		cachedDate.Store(nd)
		d = nd
	}
	return append(dst, d.text[:]...)
}
