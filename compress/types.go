package compress

import "strings"

// Compressible reports whether a response of this media type is worth
// compressing: text and the structured formats built on it. Images,
// video, archives and woff fonts are compressed already; a second
// pass only costs CPU.
func Compressible(contentType string) bool {
	t, _, _ := strings.Cut(contentType, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case strings.HasPrefix(t, "text/"):
		return true
	case strings.HasSuffix(t, "+json"), strings.HasSuffix(t, "+xml"):
		return true // image/svg+xml, application/ld+json, application/rss+xml
	}
	switch t {
	case "application/javascript", "application/x-javascript", "application/ecmascript",
		"application/json", "application/xml", "application/wasm",
		"application/x-sh", "application/x-tar",
		"application/vnd.ms-fontobject", "font/ttf", "font/otf",
		"application/x-font-ttf", "application/x-font-otf":
		return true
	}
	return false
}
