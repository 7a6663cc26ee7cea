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
	coding   string // content coding; "" for the file as it is
	body     []byte // the file compressed on the fly (nil: f is sent)
	vary     bool   // other forms exist: the response depends on Accept-Encoding
	fileSize int64  // the size of the file as it is, for bytes_saved
}

// choose picks the form of f that req accepts (RFC 9110 12.5.3), in the
// server's order of preference (br, zstd, gzip, then identity): a
// precompressed sidecar first, else a copy compressed on the fly. A
// sidecar replaces f, which it closes. status is 0, 406 when the client
// refuses identity and no coding it takes is available, or why an
// unopened f can not be opened (404, 403).
//
// Only files of a compressible type have other forms; every response for
// one carries Vary, and for any other file Accept-Encoding is not looked at.
// accept is the request's Accept-Encoding, present whether it had one.
func (rt *Router) choose(req *protocol.Request, f *OpenedFile, accept []byte, present bool) (rep representation, status int) {
	c := rt.cfg.Compression
	if !c.enabled() || !compress.Compressible(f.ContentType) {
		return rep, 0
	}
	rep.vary = true
	if !present {
		return rep, 0
	}
	now := time.Now()
	if f.Unopened() {
		// Known by a stat that did not check the root's containment: only
		// a copy kept for this very path and version may answer on its
		// word. Anything else opens the file under the root first.
		if rep.body, rep.coding = rt.keptCopy(accept, f, now); rep.body != nil {
			rep.fileSize = f.Size
			return rep, 0
		}
		if status := rt.cfg.Files.Reopen(f); status != 0 {
			return rep, status
		}
	}
	fly := c.fits(f.Size)
	var buf [3]string
	offered := c.offered(buf[:0], fly)
	for {
		coding, ok := protocol.NegotiateEncoding(accept, present, offered)
		switch {
		case !ok:
			c.notAcceptable.Add(1)
			return rep, 406
		case coding == protocol.Identity:
			return rep, 0
		}
		k := copyKey(f, coding)
		// A copy kept here stands for "no sidecar" for a second; past
		// that, the sidecar is looked for again.
		lookedForSidecar := false
		if slices.Contains(c.Sidecars, coding) && !(fly && c.Cache.NoSidecar(k, now)) {
			lookedForSidecar = true
			if sc, found := rt.cfg.Files.Sidecar(f, coding); found {
				rep.fileSize = f.Size
				f.Release()
				*f = sc
				rep.coding = coding
				return rep, 0
			}
		}
		if fly && slices.Contains(c.OnTheFly, coding) {
			if body := rt.compressed(f, k); body != nil {
				if lookedForSidecar {
					c.Cache.NoteNoSidecar(k, now)
				}
				rep.coding, rep.body, rep.fileSize = coding, body, f.Size
				return rep, 0
			}
		}
		offered = slices.DeleteFunc(offered, func(s string) bool { return s == coding })
	}
}

// offered appends to dst the codings that may exist for a file, in the
// server's order: every sidecar coding, and with fly those made on the fly.
func (c *Compression) offered(dst []string, fly bool) []string {
	for _, coding := range compress.Codings {
		if slices.Contains(c.Sidecars, coding) || (fly && slices.Contains(c.OnTheFly, coding)) {
			dst = append(dst, coding)
		}
	}
	return dst
}

// fits reports whether a file of this size is compressed on the fly.
func (c *Compression) fits(size int64) bool { return size >= c.Min && size <= c.Max }

// keptCopy returns the copy kept for an unopened f in the coding the
// client prefers, if there is one that may answer without opening it: made
// on the fly, for this path and version, and with no sidecar in that
// coding the last time one was looked for.
func (rt *Router) keptCopy(accept []byte, f *OpenedFile, now time.Time) ([]byte, string) {
	c := rt.cfg.Compression
	if !c.fits(f.Size) {
		return nil, ""
	}
	var buf [3]string
	coding, ok := protocol.NegotiateEncoding(accept, true, c.offered(buf[:0], true))
	if !ok || !slices.Contains(c.OnTheFly, coding) {
		return nil, ""
	}
	body, ok := c.Cache.Peek(copyKey(f, coding), slices.Contains(c.Sidecars, coding), now)
	if !ok || body == nil {
		return nil, ""
	}
	return body, coding
}

func copyKey(f *OpenedFile, coding string) compress.Key {
	return compress.Key{Path: f.Rel, Dev: f.Dev, Ino: f.Ino, Size: f.Size, MtimeNs: f.MtimeNs, CtimeNs: f.CtimeNs, Coding: coding}
}

// counted books a response sent in rep's form: its kind, and for a whole
// GET body the bytes compression saved.
func (c *Compression) counted(req *protocol.Request, rep *representation, status int, bodyLen int64) {
	switch {
	case c == nil || rep.coding == "":
		return
	case rep.body != nil:
		c.responses.Add(1)
	default:
		c.sidecarResponses.Add(1)
	}
	if status == 200 && req.IsMethod("GET") && rep.fileSize > bodyLen {
		c.bytesSaved.Add(uint64(rep.fileSize - bodyLen))
	}
}

// compressed returns f's copy k, from the cache or compressed here by the
// worker; nil when it can not be read or does not get smaller. The caller
// has f open (or its bytes at hand). If f changed since its stat, the
// copy made here goes to this response only: f's validators describe it,
// while requests waiting for k's copy get none and choose again.
func (rt *Router) compressed(f *OpenedFile, k compress.Key) []byte {
	c := rt.cfg.Compression
	var own []byte
	body, _, err := c.Cache.Get(k, func() ([]byte, bool, error) {
		src := f.Data
		if src == nil {
			src = make([]byte, f.Size)
			if err := workers.ReadAt(f.Fd, src, 0); err != nil {
				return nil, false, err
			}
		}
		out, err := c.Encoder.Encode(k.Coding, src)
		if err != nil {
			return nil, false, err
		}
		if len(out) >= len(src) {
			out = nil // kept as nil, so the file is not compressed again to learn it
		}
		if copyKey(f, k.Coding) != k || (f.Data == nil && !f.unchanged()) {
			own = out
			return nil, false, nil
		}
		return out, f.settled(), nil
	})
	if err != nil {
		rt.cfg.Stats.FileErrors.Add(1)
		return nil
	}
	if own != nil {
		return own
	}
	return body
}

// unchanged reports whether the open file still has the version it was
// opened with, so bytes read from it belong to that version.
func (f *OpenedFile) unchanged() bool {
	var st unix.Stat_t
	return unix.Fstat(f.Fd, &st) == nil && versionOf(&st) == f.fileVersion
}
