package workers

import "sync/atomic"

// store holds the /write value. Values are immutable once stored and swapped
// whole, so a reader never sees half of one write and half of another.
type store struct {
	v atomic.Pointer[[]byte]
}

var emptyValue = []byte("<empty>")

// load returns the stored bytes, or <empty> before any write.
func (s *store) load() []byte {
	if p := s.v.Load(); p != nil {
		return *p
	}
	return emptyValue
}

// save copies b (it points into the reactor's buffer) and stores the copy.
func (s *store) save(b []byte) []byte {
	c := append([]byte(nil), b...)
	s.v.Store(&c)
	return c
}
