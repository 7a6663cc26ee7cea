// Package respcheck holds checks on HTTP responses that the handlers'
// unit tests and the end-to-end tests share, so that a rule (what a 206
// must carry, say) is written once whether the response came from the
// router in memory or from the binary over a socket.
package respcheck

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Response is a response as a test received it.
type Response struct {
	Status int
	Head   string // status line through the blank line
	Header http.Header
	Body   []byte
}

// StrongETag matches a strong entity tag.
var StrongETag = regexp.MustCompile(`^"[\x21\x23-\x7e\x80-\xff]*"$`)

// Range checks a response to a Range request on file: 206 with bytes
// [first, last], 416, or 200 with the whole file.
func Range(t testing.TB, what string, r Response, file []byte, status, first, last int) {
	t.Helper()
	size := len(file)
	if r.Status != status {
		t.Errorf("%s: status %d, want %d\n%q", what, r.Status, status, r.Head)
		return
	}
	cr := r.Header.Get("Content-Range")
	switch status {
	case 206:
		want := fmt.Sprintf("bytes %d-%d/%d", first, last, size)
		if cr != want {
			t.Errorf("%s: Content-Range %q, want %q", what, cr, want)
		}
		if got, want := r.Header.Get("Content-Length"), strconv.Itoa(last-first+1); got != want {
			t.Errorf("%s: Content-Length %q, want %s", what, got, want)
		}
		if !bytes.Equal(r.Body, file[first:last+1]) {
			t.Errorf("%s: body is not bytes %d-%d of the file (%d bytes)", what, first, last, len(r.Body))
		}
		if r.Header.Get("Accept-Ranges") != "bytes" || !StrongETag.MatchString(r.Header.Get("ETag")) {
			t.Errorf("%s: 206 without Accept-Ranges or a strong ETag:\n%q", what, r.Head)
		}
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
			t.Errorf("%s: a single range came as %q", what, ct)
		}
	case 416:
		if want := fmt.Sprintf("bytes */%d", size); cr != want {
			t.Errorf("%s: Content-Range %q, want %q", what, cr, want)
		}
		if size > 0 && bytes.Contains(r.Body, file) {
			t.Errorf("%s: 416 carries the file", what)
		}
	case 200:
		if cr != "" {
			t.Errorf("%s: 200 with Content-Range %q", what, cr)
		}
		if r.Header.Get("Content-Length") != strconv.Itoa(size) || !bytes.Equal(r.Body, file) {
			t.Errorf("%s: 200 is not the whole file: Content-Length %q, %d bytes", what, r.Header.Get("Content-Length"), len(r.Body))
		}
	}
}

// SameMediaType reports whether two Content-Type values name the same
// media type with the same charset.
func SameMediaType(got, want string) bool {
	gm, gp, err := mime.ParseMediaType(got)
	if err != nil {
		return false
	}
	wm, wp, _ := mime.ParseMediaType(want)
	return gm == wm && strings.EqualFold(gp["charset"], wp["charset"])
}

// FileFields checks the fields of a 200 or 206 file response (or a HEAD
// of one): the type, the length of what is sent, the validators and the
// hardening field, each exactly once, with Date and Server.
func FileFields(t testing.TB, what string, r Response, wantType string, wantLen int, lastMod string) {
	t.Helper()
	h := r.Header
	if got := h.Get("Content-Type"); !SameMediaType(got, wantType) {
		t.Errorf("%s: Content-Type %q, want %q", what, got, wantType)
	}
	if got := h.Get("Content-Length"); got != strconv.Itoa(wantLen) {
		t.Errorf("%s: Content-Length %q, want %d", what, got, wantLen)
	}
	if got := h.Get("Accept-Ranges"); got != "bytes" {
		t.Errorf("%s: Accept-Ranges %q, want bytes", what, got)
	}
	if et := h.Get("ETag"); !StrongETag.MatchString(et) {
		t.Errorf("%s: ETag %q is not a strong quoted entity tag", what, et)
	}
	if got := h.Get("Last-Modified"); got != lastMod {
		t.Errorf("%s: Last-Modified %q, want %q", what, got, lastMod)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
	for _, k := range []string{"Content-Type", "Content-Length", "Accept-Ranges", "ETag", "Last-Modified", "X-Content-Type-Options", "Date", "Server"} {
		if n := len(h.Values(k)); n != 1 {
			t.Errorf("%s: %d %s fields, want 1", what, n, k)
		}
	}
}

// NotModified checks a 304 to a conditional request on a file of size
// bytes: it carries the current ETag, no Content-Range, and a
// Content-Length that is absent or the 200's (RFC 9110 section 8.6).
func NotModified(t testing.TB, what string, r Response, etag string, size int) {
	t.Helper()
	if got := r.Header.Get("ETag"); got != etag {
		t.Errorf("%s: 304 with ETag %q, want %q", what, got, etag)
	}
	if cl := r.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(size) {
		t.Errorf("%s: 304 with Content-Length %q (RFC 9110 8.6: absent or the 200's length)", what, cl)
	}
	if r.Header.Get("Content-Range") != "" {
		t.Errorf("%s: 304 with Content-Range %q", what, r.Header.Get("Content-Range"))
	}
}
