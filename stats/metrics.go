package stats

import (
	"fmt"
	"io"
	"time"

	"http_server/protocol"

	"github.com/VictoriaMetrics/metrics"
)

// Metrics are the Prometheus series. VictoriaMetrics/metrics keeps them as
// plain atomic counters with no registry locking on the hot path and no
// dependencies; every series the reactor touches per response is created
// up front, so recording one allocates nothing.
type Metrics struct {
	set      *metrics.Set
	requests [][6]*metrics.Counter    // by Route and status class (1xx..5xx; 0 unused)
	errors   map[int]*metrics.Counter // error responses by status code
	bytesOut *metrics.Counter
	latency  *metrics.PrometheusHistogram
}

// maxRoutes is how many names a Route can number after RouteOther.
const maxRoutes = 255

// latencyBuckets run from 100 µs to 60 s: small routes answer in
// microseconds, downloads take seconds.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// newMetrics creates the series; routes name Route 1, 2, ... (see New).
func newMetrics(routes []string) *Metrics {
	if len(routes) > maxRoutes {
		panic(fmt.Sprintf("stats: %d route names, at most %d fit in a Route", len(routes), maxRoutes))
	}
	metrics.ExposeMetadata(true) // # HELP and # TYPE lines, as Prometheus parsers expect
	m := &Metrics{set: metrics.NewSet(), errors: map[int]*metrics.Counter{}}
	names := append([]string{otherName}, routes...) // names[r] labels Route r
	m.requests = make([][6]*metrics.Counter, len(names))
	for r, name := range names {
		for class := 1; class <= 5; class++ {
			m.requests[r][class] = m.set.NewCounter(fmt.Sprintf(`http_server_responses_total{route=%q,code="%dxx"}`, name, class))
		}
	}
	for _, s := range protocol.Statuses { // the statuses this server sends; others count as "other"
		if s.Code >= 400 {
			m.errors[s.Code] = m.set.NewCounter(fmt.Sprintf(`http_server_error_responses_total{code="%d"}`, s.Code))
		}
	}
	m.errors[0] = m.set.NewCounter(`http_server_error_responses_total{code="other"}`)
	m.bytesOut = m.set.NewCounter("http_server_response_bytes_total")
	m.latency = m.set.NewPrometheusHistogramExt("http_server_request_duration_seconds", latencyBuckets)
	return m
}

// record counts one response. Called by the reactor as the response leaves.
func (m *Metrics) record(route Route, status int, bytes int64, latency time.Duration) {
	class := status / 100
	if class < 1 || class > 5 {
		class, route = 5, RouteOther
	}
	if int(route) >= len(m.requests) {
		route = RouteOther // a number New was given no name for
	}
	m.requests[route][class].Inc()
	if status >= 400 {
		c, ok := m.errors[status]
		if !ok {
			c = m.errors[0]
		}
		c.Inc()
	}
	m.bytesOut.AddInt64(bytes)
	if latency >= 0 {
		m.latency.Update(latency.Seconds())
	}
}

// Gauge registers a value read at scrape time.
func (m *Metrics) Gauge(name string, f func() float64) { m.set.NewGauge(name, f) }

// Counter registers a counter kept elsewhere, read at scrape time.
func (m *Metrics) Counter(name string, f func() uint64) {
	m.set.RegisterMetricsWriter(func(w io.Writer) { metrics.WriteCounterUint64(w, name, f()) })
}

// Write renders every series in the Prometheus text format.
func (m *Metrics) Write(w io.Writer) { m.set.WritePrometheus(w) }

// registerCounters exposes the counters the reactor keeps as atomics, read
// at scrape time, and the process's own figures (memory, descriptors, CPU).
func (c *Counters) registerCounters() {
	c.metrics.set.RegisterMetricsWriter(func(w io.Writer) {
		metrics.WriteGaugeUint64(w, "http_server_connections_open", uint64(max(c.Connections.Load(), 0)))
		metrics.WriteCounterUint64(w, "http_server_connections_total", c.Accepted.Load())
		metrics.WriteCounterUint64(w, "http_server_timeouts_total", c.TimedOut.Load())
		metrics.WriteCounterUint64(w, "http_server_refused_connections_total", c.Refused.Load())
		metrics.WriteCounterUint64(w, "http_server_accept_pauses_total", c.AcceptPaused.Load())
		metrics.WriteCounterUint64(w, "http_server_pool_queue_full_total", c.QueueFull.Load())
		metrics.WriteCounterUint64(w, "http_server_file_read_errors_total", c.FileErrors.Load())
		metrics.WriteCounterUint64(w, "http_server_store_errors_total", c.StoreErrors.Load())
		c.TLS.writeMetrics(w)
		metrics.WriteProcessMetrics(w)
	})
}
