// Package stats holds the counters that the reactor updates as responses
// leave and that the /stats route reports.
package stats

import (
	"sync"
	"sync/atomic"
	"time"
)

// Snapshot is a consistent copy of the response counters.
type Snapshot struct {
	Requests    uint64 // responses with status < 400
	HeaderBytes uint64 // header bytes written for those
	BodyBytes   uint64 // body bytes written for those
	Errors      uint64 // responses with status >= 400
	ErrorBytes  uint64 // all bytes written for those
}

// Counters are shared by the reactor (writer) and the workers (readers).
// The five response counters move together under one mutex, so a /stats
// reader never sees a request counted without its bytes.
type Counters struct {
	mu      sync.Mutex
	snap    Snapshot
	metrics *Metrics

	QueueFull    atomic.Uint64 // times a submit found the pool's queue full
	Connections  atomic.Int64  // open client connections
	Accepted     atomic.Uint64 // connections accepted since start
	TimedOut     atomic.Uint64 // connections closed by a timeout
	Refused      atomic.Uint64 // connections turned away over the connection cap
	AcceptPaused atomic.Uint64 // times accepting paused for lack of descriptors
	FileErrors   atomic.Uint64 // responses cut because reading their file failed
	StoreErrors  atomic.Uint64 // /write and /read calls the store failed (503 or 500)

	TLS TLSCounters
}

// New returns counters with their Prometheus series. routes are the metrics'
// route labels for Route 1, 2, ... in order; every series is created here,
// so that counting a response allocates nothing. Responses tagged RouteOther
// or a number without a name count as "other".
func New(routes ...string) *Counters {
	c := &Counters{metrics: newMetrics(routes)}
	c.registerCounters()
	return c
}

// Metrics are the Prometheus series; nil for counters made without New.
func (c *Counters) Metrics() *Metrics { return c.metrics }

// Record counts one response that has left (or been cut short): head and
// body are the bytes actually written, latency runs from the request's
// first byte to its last response byte (negative: unknown).
func (c *Counters) Record(route Route, status int, head, body int64, latency time.Duration) {
	if c.metrics != nil {
		c.metrics.record(route, status, head+body, latency)
	}
	c.mu.Lock()
	if status < 400 {
		c.snap.Requests++
		c.snap.HeaderBytes += uint64(head)
		c.snap.BodyBytes += uint64(body)
	} else {
		c.snap.Errors++
		c.snap.ErrorBytes += uint64(head + body)
	}
	c.mu.Unlock()
}

// Snapshot returns the counters as they are now.
func (c *Counters) Snapshot() Snapshot {
	c.mu.Lock()
	s := c.snap
	c.mu.Unlock()
	return s
}
