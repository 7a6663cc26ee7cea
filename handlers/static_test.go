package handlers

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"http_server/internal/respcheck"
	"http_server/protocol"
	"http_server/stats"

	"golang.org/x/sys/unix"
)

// How serveFile answers ranges and conditional requests, checked on the
// response as a client would read it. The rules underneath (which bytes a
// Range selects, which validator wins) are tested case by case in
// protocol; here each kind of answer is checked once, head and body.

// siteMtime is the modification time of the site's files: old enough for
// Last-Modified to be a strong validator, with a sub-second part that
// Last-Modified must drop.
var siteMtime = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

// strongETagRE is a strong entity tag: DQUOTE *etagc DQUOTE.
var strongETagRE = respcheck.StrongETag

// site is a document root with known files and, beside it, a secret that
// no request may reach.
type site struct {
	Base, Root string
	Secret     []byte            // content of Base/secret.txt, outside the root
	Files      map[string][]byte // every regular file under Root
}

// newSite builds a document root like the end-to-end tests' one:
//
//	hello.txt, r.bin (1000 random bytes), empty.bin, sub/index.html,
//	sub/page.txt, emptydir/ (no index), link-out -> BASE/secret.txt,
//	linkdir-out -> BASE
//
// every file with the mtime siteMtime.
func newSite(t testing.TB) *site {
	t.Helper()
	base := t.TempDir()
	s := &site{Base: base, Root: filepath.Join(base, "root"), Files: map[string][]byte{}}
	s.Secret = []byte(fmt.Sprintf("E2E-TOP-SECRET-%x", randomBytes(t, 16)))
	must(t, os.WriteFile(filepath.Join(base, "secret.txt"), s.Secret, 0o644))
	must(t, os.MkdirAll(filepath.Join(s.Root, "emptydir"), 0o755))
	s.Add(t, "hello.txt", []byte("hello, world\n"))
	s.Add(t, "r.bin", randomBytes(t, 1000))
	s.Add(t, "empty.bin", nil)
	s.Add(t, "sub/index.html", []byte("<html><body>sub index</body></html>\n"))
	s.Add(t, "sub/page.txt", []byte("a page in sub\n"))
	must(t, os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(s.Root, "link-out")))
	must(t, os.Symlink(base, filepath.Join(s.Root, "linkdir-out")))
	s.Touch(t)
	return s
}

// Add writes a file under the root.
func (s *site) Add(t testing.TB, name string, data []byte) {
	t.Helper()
	p := filepath.Join(s.Root, filepath.FromSlash(name))
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, data, 0o644))
	s.Files[name] = data
}

// Touch gives every file added so far the mtime siteMtime.
func (s *site) Touch(t testing.TB) {
	t.Helper()
	for name := range s.Files {
		p := filepath.Join(s.Root, filepath.FromSlash(name))
		must(t, os.Chtimes(p, siteMtime, siteMtime))
	}
}

// LastModified is the Last-Modified value a file must get: its mtime,
// truncated to seconds, as an IMF-fixdate.
func (s *site) LastModified(t testing.TB, name string) string {
	t.Helper()
	st, err := os.Stat(filepath.Join(s.Root, filepath.FromSlash(name)))
	must(t, err)
	return st.ModTime().UTC().Truncate(time.Second).Format(http.TimeFormat)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	must(t, err)
	return b
}

// siteRouter serves root in the given mode.
func siteRouter(t testing.TB, root string, compat protocol.Compat, dotfiles bool) *Router {
	t.Helper()
	files, err := OpenRoot(root)
	must(t, err)
	t.Cleanup(files.Close)
	rt, err := NewRouter(Config{Files: files, Compat: compat, WriteLimit: 1024, Dotfiles: dotfiles,
		Encoder: &protocol.Encoder{Compat: compat, Server: "t"}, Stats: stats.New()})
	must(t, err)
	return rt
}

// reply is one response as the client reads it: the head, its fields, and
// the body with the file's bytes read from the descriptor the reactor
// would send them from.
type reply struct {
	Status int
	Head   string // status line through the blank line
	Header http.Header
	Body   []byte
	Item   protocol.Item
}

// get builds a request for target with Host and the given field pairs.
func get(method, target string, hdr ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: h\r\n")
	for i := 0; i+1 < len(hdr); i += 2 {
		b.WriteString(hdr[i] + ": " + hdr[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// respond runs raw and returns the response, with a file's bytes read.
func respond(t testing.TB, rt *Router, raw string) reply {
	t.Helper()
	b := run(t, rt, raw)
	it := b.Items[0]
	r := reply{Item: it, Head: string(b.Buf[it.Head.Start:it.Head.End]),
		Body: append([]byte{}, b.Buf[it.Body.Start:it.Body.End]...)}
	if it.HasFile {
		buf := make([]byte, it.File.Len)
		k, err := unix.Pread(it.File.Fd, buf, it.File.Off)
		unix.Close(it.File.Fd)
		if err != nil || int64(k) != it.File.Len {
			t.Fatalf("%q: reading %d file bytes at %d: %d, %v", raw, it.File.Len, it.File.Off, k, err)
		}
		r.Body = append(r.Body, buf...)
	}
	lines := strings.Split(strings.TrimSuffix(r.Head, "\r\n\r\n"), "\r\n")
	f := strings.SplitN(lines[0], " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		t.Fatalf("%q: bad status line %q", raw, lines[0])
	}
	r.Status, _ = strconv.Atoi(f[1])
	r.Header = http.Header{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("%q: bad header line %q", raw, l)
		}
		r.Header.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return r
}

// checkRange checks a response to a Range request on a file (respcheck.Range).
func checkRange(t testing.TB, what string, r reply, file []byte, status, first, last int) {
	t.Helper()
	respcheck.Range(t, what, respcheck.Response{Status: r.Status, Head: r.Head, Header: r.Header, Body: r.Body}, file, status, first, last)
}

// TestServeFileRanges: each kind of answer to a Range on a 1000-byte file
// (one range, ranges that coalesce, none satisfiable, an ignored header,
// ranges that stay apart, too many ranges), Range on HEAD, and on an empty
// file.
func TestServeFileRanges(t *testing.T) {
	s := newSite(t)
	rt := siteRouter(t, s.Root, protocol.Modern, false)
	file := s.Files["r.bin"]
	seventeen := "bytes=0-0" + strings.Repeat(",0-0", 16)
	for _, tc := range []struct {
		name, rng   string
		status      int
		first, last int
	}{
		{"one range", "bytes=100-199", 206, 100, 199},
		{"suffix", "bytes=-10", 206, 990, 999},
		{"end clipped", "bytes=995-2000", 206, 995, 999},
		{"ranges that coalesce", "bytes=10-19,0-9", 206, 0, 19},
		{"unsatisfiable", "bytes=1000-", 416, 0, 0},
		{"several, none satisfiable", "bytes=1000-1001,2000-", 416, 0, 0},
		{"malformed", "bytes=abc", 200, 0, 0},
		{"other unit", "items=0-1", 200, 0, 0},
		{"apart", "bytes=0-9,20-29", 200, 0, 0},
		{"too many", seventeen, 200, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := respond(t, rt, get("GET", "/r.bin", "Range", tc.rng))
			checkRange(t, "GET /r.bin Range: "+tc.rng, r, file, tc.status, tc.first, tc.last)
		})
	}

	t.Run("HEAD ignores Range", func(t *testing.T) {
		for _, rng := range []string{"bytes=0-9", "bytes=1000-", "bytes=-5"} {
			r := respond(t, rt, get("HEAD", "/r.bin", "Range", rng))
			if r.Status != 200 || r.Header.Get("Content-Length") != "1000" || r.Header.Get("Content-Range") != "" || len(r.Body) != 0 {
				t.Errorf("HEAD /r.bin Range: %s: want 200 with Content-Length 1000, no Content-Range and no body, got\n%q (%d body bytes)", rng, r.Head, len(r.Body))
			}
		}
	})

	t.Run("empty file", func(t *testing.T) {
		r := respond(t, rt, get("GET", "/empty.bin", "Range", "bytes=0-"))
		checkRange(t, "GET /empty.bin Range: bytes=0-", r, nil, 416, 0, 0)
		r = respond(t, rt, get("GET", "/empty.bin"))
		if r.Status != 200 || r.Header.Get("Content-Length") != "0" || len(r.Body) != 0 {
			t.Errorf("GET /empty.bin: %q", r.Head)
		}
	})
}

// TestServeFileConditional: each kind of answer to validators: 304 (GET,
// HEAD, with a Range) carries the ETag, no body and no Content-Range; 412
// does not carry the file; a request whose validators do not match gets
// the file with all its fields; If-Range with the current ETag or the exact
// Last-Modified keeps the range, anything else gives the whole file.
func TestServeFileConditional(t *testing.T) {
	s := newSite(t)
	rt := siteRouter(t, s.Root, protocol.Modern, false)
	file := s.Files["r.bin"]
	etag := respond(t, rt, get("HEAD", "/r.bin")).Header.Get("ETag")
	if !strongETagRE.MatchString(etag) {
		t.Fatalf("HEAD /r.bin: ETag %q", etag)
	}
	lm := s.LastModified(t, "r.bin")

	for _, tc := range []struct {
		name   string
		method string
		hdr    []string
		status int
	}{
		{"INM current", "GET", []string{"If-None-Match", etag}, 304},
		{"IMS equal", "GET", []string{"If-Modified-Since", lm}, 304},
		{"HEAD INM current", "HEAD", []string{"If-None-Match", etag}, 304},
		{"INM current with a Range", "GET", []string{"If-None-Match", etag, "Range", "bytes=0-9"}, 304},
		{"INM other", "GET", []string{"If-None-Match", `"e2e-other"`}, 200},
		{"IM current", "GET", []string{"If-Match", etag}, 200},
		{"IM other", "GET", []string{"If-Match", `"e2e-other"`}, 412},
		{"IUS an hour before", "GET", []string{"If-Unmodified-Since", siteMtime.Add(-time.Hour).Format(http.TimeFormat)}, 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			what := fmt.Sprintf("%s /r.bin %q", tc.method, tc.hdr)
			r := respond(t, rt, get(tc.method, "/r.bin", tc.hdr...))
			if r.Status != tc.status {
				t.Fatalf("%s: status %d, want %d\n%q", what, r.Status, tc.status, r.Head)
			}
			switch tc.status {
			case 304:
				respcheck.NotModified(t, what, respcheck.Response{Status: r.Status, Head: r.Head, Header: r.Header, Body: r.Body}, etag, 1000)
				if len(r.Body) != 0 || r.Item.Close {
					t.Errorf("%s: 304 with %d body bytes, close %v", what, len(r.Body), r.Item.Close)
				}
			case 200:
				if !bytes.Equal(r.Body, file) {
					t.Errorf("%s: 200 without the file (%d bytes)", what, len(r.Body))
				}
				checkFileFields(t, what, r, "application/octet-stream", 1000, lm)
			case 412:
				if bytes.Equal(r.Body, file) || r.Item.HasFile {
					t.Errorf("%s: 412 carries the file", what)
				}
			}
		})
	}

	for _, tc := range []struct {
		name, ifRange string
		status        int
	}{
		{"If-Range current ETag", etag, 206},
		{"If-Range exact Last-Modified", lm, 206},
		{"If-Range other ETag", `"e2e-not-the-tag"`, 200},
		{"If-Range weak current ETag", "W/" + etag, 200},
		{"If-Range a second earlier", siteMtime.Truncate(time.Second).Add(-time.Second).Format(http.TimeFormat), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := respond(t, rt, get("GET", "/r.bin", "Range", "bytes=10-19", "If-Range", tc.ifRange))
			checkRange(t, fmt.Sprintf("Range: bytes=10-19, If-Range: %s", tc.ifRange), r, file, tc.status, 10, 19)
		})
	}
}

// checkFileFields checks a file response's fields (respcheck.FileFields).
func checkFileFields(t testing.TB, what string, r reply, wantType string, wantLen int, lastMod string) {
	t.Helper()
	respcheck.FileFields(t, what, respcheck.Response{Status: r.Status, Head: r.Head, Header: r.Header, Body: r.Body},
		wantType, wantLen, lastMod)
}

// TestServeClassicFileIgnoresRange: in classic mode a file is exactly
// "HTTP/1.1 200 OK\r\nContent-Length: N\r\n\r\n" and its bytes, whatever
// Range or validator fields the request carries.
func TestServeClassicFileIgnoresRange(t *testing.T) {
	s := newSite(t)
	rt := siteRouter(t, s.Root, protocol.Classic, false)
	for _, tc := range []struct{ name, fields string }{
		{"plain", ""},
		{"range", "Range: bytes=0-3\r\n"},
		{"suffix range", "Range: bytes=-5\r\n"},
		{"unsatisfiable range", "Range: bytes=5000-\r\n"},
		{"if-none-match star", "If-None-Match: *\r\n"},
		{"if-modified-since", "If-Modified-Since: " + time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) + "\r\n"},
		{"range and if-range", "Range: bytes=0-3\r\nIf-Range: \"x\"\r\n"},
	} {
		for _, name := range []string{"hello.txt", "r.bin"} {
			r := respond(t, rt, "GET /"+name+" HTTP/1.1\r\n"+tc.fields+"\r\n")
			want := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(s.Files[name]))
			if r.Head != want || !bytes.Equal(r.Body, s.Files[name]) || !r.Item.Close {
				t.Errorf("classic GET /%s (%s):\n got %q and %d body bytes (close %v)\nwant %q and the file", name, tc.name, r.Head, len(r.Body), r.Item.Close, want)
			}
		}
	}
}
