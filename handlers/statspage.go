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
	Loops        []int64            `json:"loops,omitempty"` // open connections of each event loop
	Pool         workers.PoolStats  `json:"pool"`
	FileCache    FileCacheStats     `json:"file_cache"`
	TLS          *stats.TLSSnapshot `json:"tls,omitempty"` // only with an HTTPS listener
}

// SetLoops gives /stats each event loop's open connections. Called before
// the loops run.
func (rt *Router) SetLoops(conns func() []int64) { rt.cfg.LoopConnections = conns }

// stats reports the counters as they were before this response; the
// reactor counts the response itself once it has left.
func (rt *Router) stats(req *protocol.Request, out *protocol.Batch) {
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
			Loops:        rt.loopConnections(),
			Pool:         ps,
			FileCache:    rt.cfg.Files.CacheStats(),
			TLS:          rt.tlsStats(),
		})
		rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: "application/json", Body: body})
		return
	}
	rt.text(req, out, appendClassicStats(make([]byte, 0, 128), s))
}

func (rt *Router) loopConnections() []int64 {
	if rt.cfg.LoopConnections == nil {
		return nil
	}
	return rt.cfg.LoopConnections()
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
