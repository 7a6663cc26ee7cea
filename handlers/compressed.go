package handlers

import (
	"slices"
	"sync/atomic"
	"time"

	"http_server/compress"
	"http_server/protocol"
	"http_server/workers"

	"golang.org/x/sys/unix"
)

// Compression is how static files are compressed in modern mode. The zero
// value compresses nothing and never looks at Accept-Encoding.
type Compression struct {
	Sidecars []string // codings looked for as precompressed files beside the file (app.js.br)
	OnTheFly []string // codings the workers make from the file itself
	Min, Max int64    // sizes of the files compressed on the fly
	Encoder  *compress.Encoder
	Cache    *compress.Cache

	responses, sidecarResponses, bytesSaved, notAcceptable atomic.Uint64
}

// CompressionStats are the compression figures for /stats and /metrics.
type CompressionStats struct {
	compress.CacheStats
	Responses        uint64 `json:"responses"`         // compressed on the fly (from the cache or made for it)
	SidecarResponses uint64 `json:"sidecar_responses"` // precompressed files sent
	BytesSaved       uint64 `json:"bytes_saved"`       // file bytes minus the bytes of the compressed bodies sent
	NotAcceptable    uint64 `json:"not_acceptable"`    // 406: no coding the client takes, identity refused
}

// Stats reports the figures (zeros when nothing is compressed).
func (c *Compression) Stats() CompressionStats {
	if c == nil {
		return CompressionStats{}
	}
	s := CompressionStats{Responses: c.responses.Load(), SidecarResponses: c.sidecarResponses.Load(),
		BytesSaved: c.bytesSaved.Load(), NotAcceptable: c.notAcceptable.Load()}
	if c.Cache != nil {
		s.CacheStats = c.Cache.Stats()
	}
	return s
}

func (c *Compression) enabled() bool {
	return c != nil && (len(c.Sidecars) > 0 || len(c.OnTheFly) > 0)
}

// representation is the form of a file a response sends.
type representation struct {
	coding string // content coding; "" for the file as it is
	body   []byte // the file compressed on the fly (nil: f is sent)
	vary   bool   // other forms exist: the response depends on Accept-Encoding
}

// choose picks the form of f that req accepts (RFC 9110 12.5.3), in the
// server's order of preference (br, zstd, gzip, then identity): a
// precompressed sidecar first, else a copy compressed on the fly. A
// sidecar replaces f, which it closes. ok is false when the client refuses
// identity and no coding it takes is available: the caller answers 406.
//
// Without Accept-Encoding no sidecar is looked for, so such a response of
// a type that is not compressible carries no Vary; every response of a
// compressible type does.
func (rt *Router) choose(req *protocol.Request, f *OpenedFile) (rep representation, ok bool) {
	c := rt.cfg.Compression
	if !c.enabled() {
		return rep, true
	}
	accept, present := req.HeaderValue("accept-encoding")
	compressible := compress.Compressible(f.ContentType)
	fly := compressible && f.Size >= c.Min && f.Size <= c.Max
	rep.vary = compressible
	var buf [3]string
	offered := buf[:0]
	for _, coding := range compress.Codings {
		if slices.Contains(c.Sidecars, coding) || (fly && slices.Contains(c.OnTheFly, coding)) {
			offered = append(offered, coding)
		}
	}
	for {
		coding, ok := protocol.NegotiateEncoding(accept, present, offered)
		switch {
		case !ok:
			c.notAcceptable.Add(1)
			return rep, false
		case coding == protocol.Identity:
			return rep, true
		}
		if slices.Contains(c.Sidecars, coding) {
			if sc, found := rt.cfg.Files.Sidecar(f, coding); found {
				size := f.Size
				f.Release()
				*f = sc
				rep.coding, rep.vary = coding, true
				c.sidecarResponses.Add(1)
				if req.IsMethod("GET") && size > sc.Size {
					c.bytesSaved.Add(uint64(size - sc.Size))
				}
				return rep, true
			}
		}
		if fly && slices.Contains(c.OnTheFly, coding) {
			if body := rt.compressed(f, coding); body != nil {
				rep.coding, rep.body = coding, body
				c.responses.Add(1)
				if req.IsMethod("GET") {
					c.bytesSaved.Add(uint64(f.Size - int64(len(body))))
				}
				return rep, true
			}
		}
		offered = slices.DeleteFunc(offered, func(s string) bool { return s == coding })
	}
}

// compressed returns f in coding, from the cache or compressed here by
// the worker; nil when it can not be read or does not get smaller.
func (rt *Router) compressed(f *OpenedFile, coding string) []byte {
	c := rt.cfg.Compression
	k := compress.Key{Dev: f.Dev, Ino: f.Ino, Size: f.Size, MtimeNs: f.MtimeNs, CtimeNs: f.CtimeNs, Coding: coding}
	body, _, err := c.Cache.Get(k, func() ([]byte, bool, error) {
		src := f.Data
		if src == nil {
			src = make([]byte, f.Size)
			if err := workers.ReadAt(f.Fd, src, 0); err != nil {
				return nil, false, err
			}
		}
		out, err := c.Encoder.Encode(coding, src)
		if err != nil {
			return nil, false, err
		}
		if len(out) >= len(src) {
			out = nil // kept as nil, so the file is not compressed again to learn it
		}
		return out, f.settled() && (f.Data != nil || f.unchanged()), nil
	})
	if err != nil {
		rt.cfg.Stats.FileErrors.Add(1)
		return nil
	}
	return body
}

// settled reports whether f's last change is old enough that another
// change would move its timestamps (see settleTime).
func (f *OpenedFile) settled() bool {
	before := time.Now().Add(-settleTime).UnixNano()
	return f.MtimeNs <= before && f.CtimeNs <= before
}

// unchanged reports whether the open file still has the version it was
// opened with, so bytes read from it belong to that version.
func (f *OpenedFile) unchanged() bool {
	var st unix.Stat_t
	return unix.Fstat(f.Fd, &st) == nil && st.Size == f.Size &&
		st.Mtim.Nano() == f.MtimeNs && st.Ctim.Nano() == f.CtimeNs
}
