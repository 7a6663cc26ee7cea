package handlers

import (
	"encoding/json"
	"strconv"

	"http_server/protocol"
	"http_server/stats"
	"http_server/workers"
)

// statsJSON is the /stats body with Accept: application/json or ?format=json.
type statsJSON struct {
	Requests     uint64             `json:"requests"`
	HeaderBytes  uint64             `json:"header_bytes"`
	BodyBytes    uint64             `json:"body_bytes"`
	Errors       uint64             `json:"errors"`
	ErrorBytes   uint64             `json:"error_bytes"`
	Connections  int64              `json:"connections"`
	Accepted     uint64             `json:"accepted"`
	TimedOut     uint64             `json:"timed_out"`
	Refused      uint64             `json:"refused"`
	AcceptPaused uint64             `json:"accept_paused"`
	FileErrors   uint64             `json:"file_errors"`
	StoreErrors  uint64             `json:"store_errors"`
	Loops        []int64            `json:"loops,omitempty"` // open connections of each event loop
	Pool         workers.PoolStats  `json:"pool"`
	FileCache    FileCacheStats     `json:"file_cache"`
	Compression  CompressionStats   `json:"compression"`
	TLS          *stats.TLSSnapshot `json:"tls,omitempty"` // only with an HTTPS listener
}

// Loops is what /stats needs of the event loops.
type Loops interface {
	Connections() []int64 // each loop's open connections
	Settle()              // wait until every loop has counted what it wrote
}

// SetLoops gives /stats the event loops. settle says whether /stats waits
// for them to count what they wrote (not when handlers run on a loop
// themselves, --workers 0). Called before the loops run.
func (rt *Router) SetLoops(l Loops, settle bool) {
	rt.cfg.Loops, rt.settle = l, settle
}

// stats reports the counters as they were before this response; the
// reactor counts the response itself once it has left.
func (rt *Router) stats(req *protocol.Request, out *protocol.Batch) {
	if rt.settle {
		rt.cfg.Loops.Settle() // a response another loop sent just now is counted
	}
	s := rt.cfg.Stats.Snapshot()
	if rt.cfg.Compat == protocol.Modern && wantsJSON(req) {
		ps := rt.cfg.Pool.Stats()
		ps.QueueFull = rt.cfg.Stats.QueueFull.Load()
		body, _ := json.Marshal(statsJSON{
			Requests: s.Requests, HeaderBytes: s.HeaderBytes, BodyBytes: s.BodyBytes,
			Errors: s.Errors, ErrorBytes: s.ErrorBytes,
			Connections:  rt.cfg.Stats.Connections.Load(),
			Accepted:     rt.cfg.Stats.Accepted.Load(),
			TimedOut:     rt.cfg.Stats.TimedOut.Load(),
			Refused:      rt.cfg.Stats.Refused.Load(),
			AcceptPaused: rt.cfg.Stats.AcceptPaused.Load(),
			FileErrors:   rt.cfg.Stats.FileErrors.Load(),
			StoreErrors:  rt.cfg.Stats.StoreErrors.Load(),
			Loops:        rt.loopConnections(),
			Pool:         ps,
			FileCache:    rt.cfg.Files.CacheStats(),
			Compression:  rt.cfg.Compression.Stats(),
			TLS:          rt.tlsStats(),
		})
		rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: "application/json", Body: body})
		return
	}
	rt.text(req, out, appendClassicStats(make([]byte, 0, 128), s))
}

func (rt *Router) loopConnections() []int64 {
	if rt.cfg.Loops == nil {
		return nil
	}
	return rt.cfg.Loops.Connections()
}

// appendClassicStats writes the plain-text body the C server sent.
func appendClassicStats(b []byte, s stats.Snapshot) []byte {
	b = append(b, "Requests: "...)
	b = strconv.AppendUint(b, s.Requests, 10)
	b = append(b, "\nHeader bytes: "...)
	b = strconv.AppendUint(b, s.HeaderBytes, 10)
	b = append(b, "\nBody bytes: "...)
	b = strconv.AppendUint(b, s.BodyBytes, 10)
	b = append(b, "\nErrors: "...)
	b = strconv.AppendUint(b, s.Errors, 10)
	b = append(b, "\nError bytes: "...)
	b = strconv.AppendUint(b, s.ErrorBytes, 10)
	return b
}

func (rt *Router) tlsStats() *stats.TLSSnapshot {
	if !rt.cfg.TLS {
		return nil
	}
	s := rt.cfg.Stats.TLS.Snapshot()
	return &s
}
