package protocol

import (
	"bytes"
	"net/http"
	"strconv"
	"time"
)

// Validators describe the current representation of a file.
type Validators struct {
	ETag         []byte    // strong entity tag, quotes included
	LastModified time.Time // whole seconds, UTC
}

// AppendETag writes a strong entity tag built from size, mtime and inode:
// any change to the file's content that a stat can see changes it.
func AppendETag(dst []byte, size, mtimeNs int64, ino uint64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, size, 16)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, mtimeNs, 16)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, ino, 16)
	return append(dst, '"')
}

// Preconditions evaluates the conditional headers of req against v in the
// order RFC 9110 section 13.2.2 gives. It returns 0 to proceed, 304 (Not
// Modified) or 412 (Precondition Failed).
func Preconditions(req *Request, v *Validators) int {
	getOrHead := req.IsMethod("GET") || req.IsMethod("HEAD")
	if im, ok := req.HeaderValue("if-match"); ok {
		if !matchList(im, v.ETag, true) {
			return 412
		}
	} else if ius, ok := req.HeaderValue("if-unmodified-since"); ok {
		if t, err := http.ParseTime(string(ius)); err == nil && v.LastModified.After(t) {
			return 412
		}
	}
	if inm, ok := req.HeaderValue("if-none-match"); ok {
		if matchList(inm, v.ETag, false) {
			if getOrHead {
				return 304
			}
			return 412
		}
	} else if ims, ok := req.HeaderValue("if-modified-since"); ok && getOrHead {
		if t, err := http.ParseTime(string(ims)); err == nil && !v.LastModified.After(t) {
			return 304
		}
	}
	return 0
}

// RangeApplies reports whether a Range header may be honoured: without
// If-Range always; with it, only if the validator still matches (a strong
// ETag match, or the exact Last-Modified date).
func RangeApplies(req *Request, v *Validators) bool {
	ir, ok := req.HeaderValue("if-range")
	if !ok {
		return true
	}
	if len(ir) > 0 && (ir[0] == '"' || bytes.HasPrefix(ir, []byte("W/"))) {
		return strongEqual(ir, v.ETag)
	}
	t, err := http.ParseTime(string(ir))
	return err == nil && t.Equal(v.LastModified)
}

// matchList checks an If-Match / If-None-Match list against etag: "*"
// matches any current representation; strong uses strong comparison,
// otherwise weak comparison (W/ prefixes ignored).
func matchList(list, etag []byte, strong bool) bool {
	if string(bytes.TrimSpace(list)) == "*" {
		return true
	}
	for len(list) > 0 {
		var tag []byte
		tag, list, _ = bytes.Cut(list, []byte(","))
		tag = bytes.TrimSpace(tag)
		if strong {
			if strongEqual(tag, etag) {
				return true
			}
		} else if bytes.Equal(bytes.TrimPrefix(tag, []byte("W/")), bytes.TrimPrefix(etag, []byte("W/"))) {
			return true
		}
	}
	return false
}

func strongEqual(a, b []byte) bool {
	return !bytes.HasPrefix(a, []byte("W/")) && !bytes.HasPrefix(b, []byte("W/")) && bytes.Equal(a, b)
}
