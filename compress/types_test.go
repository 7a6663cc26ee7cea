package compress

import (
	"strings"
	"testing"
)

func TestCompressible(t *testing.T) {
	yes := []string{
		"text/html; charset=utf-8",
		"text/html",
		"text/css",
		"text/plain; charset=utf-8",
		"text/javascript",
		"text/csv",
		"application/javascript",
		"application/json",
		"application/json; charset=utf-8",
		"image/svg+xml",
		"application/ld+json",
		"application/manifest+json",
		"application/rss+xml",
		"application/xml",
		"application/wasm",
		"font/ttf",
		"font/otf",
		" text/css ",
		"text/html;charset=UTF-8",
	}
	no := []string{
		"image/png",
		"image/jpeg",
		"image/gif",
		"image/webp",
		"image/avif",
		"video/mp4",
		"audio/mpeg",
		"application/zip",
		"application/gzip",
		"application/x-gzip",
		"application/zstd",
		"application/pdf",
		"font/woff",
		"font/woff2",
		"application/octet-stream",
		"",
		";",
		"text",          // no subtype, not text/…
		"xtext/html",    // prefix must be the type
		"application/x", // unknown
	}
	for _, ct := range yes {
		for _, v := range []string{ct, strings.ToUpper(ct), mixedCase(ct)} {
			if !Compressible(v) {
				t.Errorf("Compressible(%q) = false; want true", v)
			}
		}
	}
	for _, ct := range no {
		for _, v := range []string{ct, strings.ToUpper(ct), mixedCase(ct)} {
			if Compressible(v) {
				t.Errorf("Compressible(%q) = true; want false", v)
			}
		}
	}
}

// mixedCase upper-cases every other letter.
func mixedCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}
