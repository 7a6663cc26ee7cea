package stats

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The tests name two routes, as the handlers' route table does for the server.
var testRoutes = []string{"ping", "file"}

const (
	routePing Route = 1
	routeFile Route = 2
)

func TestRecordSplitsByStatus(t *testing.T) {
	var c Counters
	c.Record(routePing, 200, 39, 66, time.Millisecond)
	c.Record(routePing, 304, 100, 0, time.Millisecond)
	c.Record(routePing, 404, 27, 0, time.Millisecond)
	c.Record(routePing, 500, 50, 22, time.Millisecond)
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
			c.Record(routePing, 200, 10, 5, time.Millisecond)
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

// The Prometheus series parse with Prometheus's own text parser and count
// what was recorded.
func TestMetricsExposition(t *testing.T) {
	c := New(testRoutes...)
	c.Record(routePing, 200, 100, 4, 2*time.Millisecond)
	c.Record(routePing, 200, 100, 4, 3*time.Millisecond)
	c.Record(routeFile, 404, 90, 10, time.Millisecond)
	c.Record(RouteOther, 431, 50, 0, -1)
	c.Record(Route(len(testRoutes)+1), 200, 0, 0, -1) // no name: counted as "other"
	c.Accepted.Add(3)
	var b bytes.Buffer
	c.Metrics().Write(&b)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	value := func(family string, labels ...string) float64 {
		t.Helper()
		f, ok := families[family]
		if !ok {
			t.Fatalf("no %s", family)
		}
	next:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.Label {
					if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Untyped != nil:
				return m.Untyped.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("no %s%v", family, labels)
		return 0
	}
	if v := value("http_server_responses_total", "route", "ping", "code", "2xx"); v != 2 {
		t.Errorf("ping 2xx = %v, want 2", v)
	}
	if v := value("http_server_responses_total", "route", "file", "code", "4xx"); v != 1 {
		t.Errorf("file 4xx = %v, want 1", v)
	}
	if v := value("http_server_responses_total", "route", "other", "code", "2xx"); v != 1 {
		t.Errorf("other 2xx = %v, want 1", v)
	}
	if v := value("http_server_responses_total", "route", "file", "code", "5xx"); v != 0 {
		t.Errorf("file 5xx = %v, want a series at 0 before any response", v)
	}
	if v := value("http_server_error_responses_total", "code", "431"); v != 1 {
		t.Errorf("431s = %v, want 1", v)
	}
	if v := value("http_server_response_bytes_total"); v != 358 {
		t.Errorf("bytes out = %v, want 358", v)
	}
	if v := value("http_server_request_duration_seconds"); v != 3 { // the unknown (negative) ones are skipped
		t.Errorf("latency samples = %v, want 3", v)
	}
	if v := value("http_server_connections_total"); v != 3 {
		t.Errorf("connections total = %v, want 3", v)
	}
}
