package stats

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// TLS handshake outcomes. The failure reasons are a fixed set, so the
// metrics have a bounded number of series whatever clients send.
const (
	FailTimeout      = iota // the handshake timeout passed
	FailClientClosed        // the client closed or reset mid-handshake
	FailNotTLS              // the first bytes were not a TLS record (plain HTTP, a scanner)
	FailProtocol            // anything else: no shared version or cipher, bad messages
	numFails
)

var failNames = [numFails]string{"timeout", "client_closed", "not_tls", "protocol"}

// TLSCounters count handshakes. Handshakes run on their own goroutines, so
// these are atomics.
type TLSCounters struct {
	TLS12, TLS13 atomic.Uint64
	Failures     [numFails]atomic.Uint64
}

// Handshake counts one completed handshake by its negotiated version.
func (t *TLSCounters) Handshake(version uint16) {
	if version >= 0x0304 {
		t.TLS13.Add(1)
	} else {
		t.TLS12.Add(1)
	}
}

// Fail counts one failed handshake by reason (one of the Fail constants).
func (t *TLSCounters) Fail(reason int) { t.Failures[reason].Add(1) }

// TLSSnapshot is what /stats shows about TLS.
type TLSSnapshot struct {
	Handshakes uint64            `json:"handshakes"`
	Failures   map[string]uint64 `json:"handshake_failures"`
	Versions   map[string]uint64 `json:"versions"`
}

// Snapshot reads the counters.
func (t *TLSCounters) Snapshot() TLSSnapshot {
	s := TLSSnapshot{Failures: map[string]uint64{}, Versions: map[string]uint64{
		"TLS 1.2": t.TLS12.Load(), "TLS 1.3": t.TLS13.Load()}}
	s.Handshakes = s.Versions["TLS 1.2"] + s.Versions["TLS 1.3"]
	for i, name := range failNames {
		s.Failures[name] = t.Failures[i].Load()
	}
	return s
}

// writeMetrics writes each family's metadata once, then its labelled series
// (WriteCounterUint64 would repeat the metadata for every label value).
func (t *TLSCounters) writeMetrics(w io.Writer) {
	metrics.WriteMetadataIfNeeded(w, "http_server_tls_handshakes_total", "counter")
	fmt.Fprintf(w, "http_server_tls_handshakes_total{version=\"1.2\"} %d\n", t.TLS12.Load())
	fmt.Fprintf(w, "http_server_tls_handshakes_total{version=\"1.3\"} %d\n", t.TLS13.Load())
	metrics.WriteMetadataIfNeeded(w, "http_server_tls_handshake_failures_total", "counter")
	for i, name := range failNames {
		fmt.Fprintf(w, "http_server_tls_handshake_failures_total{reason=%q} %d\n", name, t.Failures[i].Load())
	}
}
