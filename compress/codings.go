// Package compress makes and keeps compressed copies of static files:
// the content codings this server offers, which media types are worth
// compressing, and a bounded cache of what the workers have compressed.
package compress

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// The content codings the server knows, in its default order of
// preference: brotli gives the smallest text, zstd is next and decodes
// fastest, gzip is what every client takes.
const (
	Brotli = "br"
	Zstd   = "zstd"
	Gzip   = "gzip"
)

// Codings is every coding the server knows, in its default preference.
var Codings = []string{Brotli, Zstd, Gzip}

// SidecarSuffix is the file name ending of a precompressed copy in the
// given coding, as nginx's gzip_static and Caddy's precompressed look for.
func SidecarSuffix(coding string) string {
	switch coding {
	case Brotli:
		return ".br"
	case Zstd:
		return ".zst"
	case Gzip:
		return ".gz"
	}
	return ""
}

// ParseList reads a comma-separated list of codings ("br,zstd,gzip"):
// which codings are on; "off" or "" is none. The order of preference is
// always the server's (Codings), whatever the list's order.
func ParseList(s string) ([]string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "off" {
		return nil, nil
	}
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(Codings, name) {
			return nil, fmt.Errorf("%q is not a coding this server makes (br, zstd, gzip, or off)", name)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("%q is listed twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// Levels are the compression levels of the codings made on the fly.
type Levels struct {
	Gzip   int // 1 (fastest) .. 9 (smallest)
	Zstd   int // 1 .. 22, mapped onto the library's four speeds
	Brotli int // 0 .. 11
}

// DefaultLevels favour size within a small memory footprint: a copy is
// made once per file version and then served from memory, so a slower
// level costs only the first request, but the encoders' tables stay. On
// CSS-like text gzip 9 is 10% smaller than gzip 6 (whose output here is
// larger than zlib's at 6), zstd 7 6% smaller than zstd 3, brotli 6 4%
// smaller than brotli 5. zstd 11+ and brotli 7+ gain 4-7% more for a peak
// of 40-100 MB instead of about 25.
var DefaultLevels = Levels{Gzip: 9, Zstd: 7, Brotli: 6}

// Check reports a level out of its coding's range.
func (l Levels) Check() error {
	switch {
	case l.Gzip < 1 || l.Gzip > 9:
		return fmt.Errorf("gzip level %d must be 1..9", l.Gzip)
	case l.Zstd < 1 || l.Zstd > 22:
		return fmt.Errorf("zstd level %d must be 1..22", l.Zstd)
	case l.Brotli < 0 || l.Brotli > 11:
		return fmt.Errorf("brotli level %d must be 0..11", l.Brotli)
	}
	return nil
}

// Encoder compresses whole files in the codings it was built for. It is
// safe for concurrent use by the workers.
type Encoder struct {
	levels Levels
	gzips  sync.Pool // streamWriter: *gzip.Writer at levels.Gzip
	zstd   *zstd.Encoder
	brs    sync.Pool // streamWriter: *brotli.Writer at levels.Brotli
}

// NewEncoder builds an encoder with the given levels.
func NewEncoder(l Levels) (*Encoder, error) {
	if err := l.Check(); err != nil {
		return nil, err
	}
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(l.Zstd)))
	if err != nil {
		return nil, err
	}
	return &Encoder{levels: l, zstd: z}, nil
}

// Encode returns src compressed in coding.
func (e *Encoder) Encode(coding string, src []byte) ([]byte, error) {
	switch coding {
	case Zstd:
		// EncodeAll records the content size in the frame header, so a
		// decoder can size its buffer at once.
		return e.zstd.EncodeAll(src, make([]byte, 0, len(src)/3+64)), nil
	case Gzip:
		return stream(&e.gzips, src, func(w io.Writer) (streamWriter, error) {
			return gzip.NewWriterLevel(w, e.levels.Gzip)
		})
	case Brotli:
		return stream(&e.brs, src, func(w io.Writer) (streamWriter, error) {
			return brotli.NewWriterLevel(w, e.levels.Brotli), nil
		})
	}
	return nil, fmt.Errorf("compress: unknown coding %q", coding)
}

// streamWriter is a compressor that can be reset onto a new output and
// reused: its tables cost more than compressing a small file does.
type streamWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// stream compresses src with a writer from pool (made by newWriter when
// the pool is empty).
func stream(pool *sync.Pool, src []byte, newWriter func(io.Writer) (streamWriter, error)) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(src)/3 + 64)
	w, _ := pool.Get().(streamWriter)
	if w == nil {
		var err error
		if w, err = newWriter(&b); err != nil {
			return nil, err
		}
	} else {
		w.Reset(&b)
	}
	defer pool.Put(w)
	if _, err := w.Write(src); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
