package e2e

// End-to-end tests of static-file serving in modern mode: content types and
// caching headers, methods, byte ranges (RFC 9110 section 14), conditional
// requests (section 13), directories, dotfiles and a traversal table that
// tries every way out of the root. Raw sockets carry the requests whose
// exact bytes matter, since Go's client cleans paths and adds fields.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"http_server/internal/respcheck"
)

// staticIOTimeout bounds every single socket operation of these tests.
const staticIOTimeout = 10 * time.Second

// fixtureMtime is the modification time given to the fixtures: old enough
// for Last-Modified to be a strong validator, with a sub-second part that
// Last-Modified must drop.
var fixtureMtime = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

// strongETagRE is a strong entity tag: DQUOTE *etagc DQUOTE.
var strongETagRE = respcheck.StrongETag

// ---------------------------------------------------------------------------
// Raw connections with 10 s deadlines

type staticConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func staticDial(t testing.TB, addr string) *staticConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, staticIOTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &staticConn{t: t, c: c, br: bufio.NewReaderSize(c, 64*1024)}
}

func (c *staticConn) Send(data string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(staticIOTimeout))
	if _, err := io.WriteString(c.c, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *staticConn) Close() { c.c.Close() }

// Read reads one response to a request with the given method. HEAD, 1xx,
// 204 and 304 responses have no body whatever their fields say; any other
// response must carry Content-Length, and exactly that many bytes are read.
func (c *staticConn) Read(method string) *rawResponse {
	c.t.Helper()
	var h []byte
	for !bytes.HasSuffix(h, []byte("\r\n\r\n")) {
		c.c.SetReadDeadline(time.Now().Add(staticIOTimeout))
		line, err := c.br.ReadSlice('\n')
		h = append(h, line...)
		if err != nil {
			c.t.Fatalf("reading a response head: %v (got %q)", err, clip(h))
		}
		if len(h) > 64*1024 {
			c.t.Fatalf("response head too long: %q", clip(h))
		}
	}
	status, hdr, err := parseHead(h)
	if err != nil {
		c.t.Fatalf("%v in %q", err, clip(h))
	}
	r := &rawResponse{Status: status, Head: h, Header: hdr}
	if method == "HEAD" || status < 200 || status == 204 || status == 304 {
		return r
	}
	cl := hdr.Get("Content-Length")
	if cl == "" || len(hdr.Values("Content-Length")) != 1 {
		c.t.Fatalf("response without exactly one Content-Length: %q", h)
	}
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 {
		c.t.Fatalf("bad Content-Length %q", cl)
	}
	r.Body = make([]byte, n)
	c.c.SetReadDeadline(time.Now().Add(staticIOTimeout))
	if _, err := io.ReadFull(c.br, r.Body); err != nil {
		c.t.Fatalf("reading %d body bytes after %q: %v", n, h, err)
	}
	return r
}

// ReadAll reads until the server closes the connection. A reset after some
// bytes counts as the end; a timeout fails the test.
func (c *staticConn) ReadAll() []byte {
	c.t.Helper()
	var out []byte
	buf := make([]byte, 64*1024)
	for {
		c.c.SetReadDeadline(time.Now().Add(staticIOTimeout))
		n, err := c.br.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF || errors.Is(err, syscall.ECONNRESET) {
			return out
		}
		if err != nil {
			c.t.Fatalf("reading until EOF: %v (after %d bytes: %q)", err, len(out), clip(out))
		}
	}
}

// rawRequest builds a request with Host and the given field pairs.
func rawRequest(method, target string, hdr ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: e2e\r\n")
	for i := 0; i+1 < len(hdr); i += 2 {
		b.WriteString(hdr[i] + ": " + hdr[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// rawDo sends one request on a fresh connection and reads its response.
func rawDo(t testing.TB, addr, method, target string, hdr ...string) *rawResponse {
	t.Helper()
	c := staticDial(t, addr)
	defer c.Close()
	c.Send(rawRequest(method, target, hdr...))
	return c.Read(method)
}

// ---------------------------------------------------------------------------
// Fixtures

// staticFixture is a document root (from makeTree) plus more files,
// every one with the mtime fixtureMtime.
type staticFixture struct {
	*docTree
}

func makeStaticFixture(t testing.TB) *staticFixture {
	t.Helper()
	f := &staticFixture{makeTree(t)}
	f.Add(t, "r.bin", randomBytes(t, 1000))
	f.Add(t, "empty.bin", nil)
	for name, body := range map[string]string{
		"data.json": `{"a":1}` + "\n",
		"noext":     "no extension\n",
	} {
		f.Add(t, name, []byte(body))
	}
	f.TouchAll(t, fixtureMtime)
	return f
}

// TouchAll sets the mtime of every file added so far.
func (f *staticFixture) TouchAll(t testing.TB, mt time.Time) {
	t.Helper()
	for name := range f.Files {
		if err := os.Chtimes(f.Path(name), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *staticFixture) Path(name string) string {
	return filepath.Join(f.Root, filepath.FromSlash(name))
}

// LastModified is the Last-Modified value the file must get: its mtime,
// truncated to seconds, as an IMF-fixdate.
func (f *staticFixture) LastModified(t testing.TB, name string) string {
	t.Helper()
	st, err := os.Stat(f.Path(name))
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime().UTC().Truncate(time.Second).Format(http.TimeFormat)
}

// checkFileHeaders checks a file response's fields (respcheck.FileFields)
// and those every modern response has.
func checkFileHeaders(t testing.TB, what string, r *rawResponse, wantType string, wantLen int, lastMod string) {
	t.Helper()
	respcheck.FileFields(t, what, respcheck.Response{Status: r.Status, Head: string(r.Head), Header: r.Header, Body: r.Body},
		wantType, wantLen, lastMod)
	checkModernHeaders(t, what, r.Header)
}

// checkContentType compares media types and their charset parameter.
func checkContentType(t testing.TB, what, got, want string) {
	t.Helper()
	if !respcheck.SameMediaType(got, want) {
		t.Errorf("%s: Content-Type %q, want %q", what, got, want)
	}
}

// ---------------------------------------------------------------------------
// Headers, types, HEAD and ETags

// TestE2EStaticFileHeaders: every file response carries its type (from the
// extension; charset=utf-8 for text), its length, Accept-Ranges, a strong
// ETag, Last-Modified (the mtime to the second) and nosniff; HEAD carries
// the same fields and no body; the ETag is stable across requests. The
// type of every extension is the handlers package's TestContentType; here
// a few files show it reaches the wire.
func TestE2EStaticFileHeaders(t *testing.T) {
	f := makeStaticFixture(t)
	s := startServer(t, serverOptions{Root: f.Root})

	types := map[string]string{
		"hello.txt":    "text/plain; charset=utf-8",
		"data.json":    "application/json",
		"noext":        "application/octet-stream",
		"empty.bin":    "application/octet-stream",
		"sub/page.txt": "text/plain; charset=utf-8",
	}
	etags := map[string]string{}
	for name, ctype := range types {
		t.Run(name, func(t *testing.T) {
			want := f.Files[name]
			lm := f.LastModified(t, name)
			c := staticDial(t, s.Addr)
			// HEAD, then GET, then GET again, pipelined: a body after the
			// HEAD would break the framing of the next response.
			c.Send(rawRequest("HEAD", "/"+name) + rawRequest("GET", "/"+name) + rawRequest("GET", "/"+name))
			head := c.Read("HEAD")
			get := c.Read("GET")
			again := c.Read("GET")
			if head.Status != 200 || get.Status != 200 || again.Status != 200 {
				t.Fatalf("HEAD/GET/GET /%s: %d %d %d\n%q\n%q", name, head.Status, get.Status, again.Status, head.Head, get.Head)
			}
			if !bytes.Equal(get.Body, want) || !bytes.Equal(again.Body, want) {
				t.Errorf("GET /%s: body %q, want %q", name, clip(get.Body), clip(want))
			}
			checkFileHeaders(t, "GET /"+name, get, ctype, len(want), lm)
			checkFileHeaders(t, "HEAD /"+name, head, ctype, len(want), lm)
			for _, k := range []string{"Content-Type", "Content-Length", "Accept-Ranges", "ETag", "Last-Modified", "X-Content-Type-Options"} {
				if head.Header.Get(k) != get.Header.Get(k) {
					t.Errorf("/%s: HEAD %s %q, GET %s %q", name, k, head.Header.Get(k), k, get.Header.Get(k))
				}
			}
			if get.Header.Get("Content-Range") != "" {
				t.Errorf("GET /%s without Range: Content-Range %q", name, get.Header.Get("Content-Range"))
			}
			// A fresh connection gets the same tag.
			other := rawDo(t, s.Addr, "GET", "/"+name)
			et := get.Header.Get("ETag")
			if again.Header.Get("ETag") != et || other.Header.Get("ETag") != et {
				t.Errorf("/%s: ETag not stable: %q, %q, %q", name, et, again.Header.Get("ETag"), other.Header.Get("ETag"))
			}
			etags[name] = et
		})
	}
	// Different files (different inodes and sizes) have different tags.
	seen := map[string]string{}
	for name, et := range etags {
		if prev, ok := seen[et]; ok {
			t.Errorf("/%s and /%s share the ETag %s", name, prev, et)
		}
		seen[et] = name
	}
}

// TestE2EStaticETagChanges: the ETag and Last-Modified follow the file: a
// new content and mtime, a same-size rewrite within the same second, and a
// touch without any change to the bytes each give a new tag, and the old
// tag stops matching If-None-Match.
func TestE2EStaticETagChanges(t *testing.T) {
	f := makeStaticFixture(t)
	f.Add(t, "change.txt", []byte("version one\n"))
	f.TouchAll(t, fixtureMtime)
	s := startServer(t, serverOptions{Root: f.Root})

	first := rawDo(t, s.Addr, "GET", "/change.txt")
	if first.Status != 200 || string(first.Body) != "version one\n" {
		t.Fatalf("GET /change.txt: %d %q", first.Status, first.Body)
	}
	seen := []string{first.Header.Get("ETag")}

	// waitChange polls (a short-lived open-file cache may keep the old
	// answer briefly) until the tag differs from every one seen so far.
	waitChange := func(what string, body []byte, lastMod string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			r := rawDo(t, s.Addr, "GET", "/change.txt")
			et := r.Header.Get("ETag")
			fresh := true
			for _, old := range seen {
				fresh = fresh && et != old
			}
			if fresh && r.Status == 200 && bytes.Equal(r.Body, body) {
				if !strongETagRE.MatchString(et) {
					t.Errorf("%s: ETag %q is not strong", what, et)
				}
				if got := r.Header.Get("Last-Modified"); got != lastMod {
					t.Errorf("%s: Last-Modified %q, want %q", what, got, lastMod)
				}
				// Every earlier tag is stale now.
				for _, old := range seen {
					c := rawDo(t, s.Addr, "GET", "/change.txt", "If-None-Match", old)
					if c.Status != 200 || !bytes.Equal(c.Body, body) {
						t.Errorf("%s: If-None-Match with the old tag %s: %d %q, want 200 with the new body", what, old, c.Status, c.Body)
					}
				}
				seen = append(seen, et)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: after 3 s GET gives %d, ETag %q (seen %v), body %q", what, r.Status, et, seen, r.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	write := func(body string, mt time.Time) {
		t.Helper()
		if err := os.WriteFile(f.Path("change.txt"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f.Path("change.txt"), mt, mt); err != nil {
			t.Fatal(err)
		}
	}

	t2 := fixtureMtime.Add(time.Hour)
	write("version two, longer\n", t2)
	waitChange("new content and mtime", []byte("version two, longer\n"), t2.Truncate(time.Second).Format(http.TimeFormat))

	// Same size, mtime 1 ms later (the same second): only the tag can tell.
	t3 := t2.Add(time.Millisecond)
	write("version TWO, longer\n", t3)
	waitChange("same-size rewrite in the same second", []byte("version TWO, longer\n"), t2.Truncate(time.Second).Format(http.TimeFormat))

	// A touch: the bytes stay, the mtime moves.
	t4 := t3.Add(time.Minute)
	if err := os.Chtimes(f.Path("change.txt"), t4, t4); err != nil {
		t.Fatal(err)
	}
	waitChange("touch", []byte("version TWO, longer\n"), t4.Truncate(time.Second).Format(http.TimeFormat))
}

// TestE2EStaticMethodsNotAllowed: methods other than GET and HEAD on a file
// get 405 with Allow: GET, HEAD, OPTIONS, and change nothing.
func TestE2EStaticMethodsNotAllowed(t *testing.T) {
	f := makeStaticFixture(t)
	s := startServer(t, serverOptions{Root: f.Root})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		for _, p := range []string{"/hello.txt", "/r.bin", "/sub/index.html"} {
			c := staticDial(t, s.Addr)
			req := m + " " + p + " HTTP/1.1\r\nHost: e2e\r\nContent-Length: 5\r\n\r\nXXXXX"
			c.Send(req + rawRequest("GET", "/ping"))
			r := c.Read(m)
			if r.Status != 405 {
				t.Errorf("%s %s: status %d, want 405\n%q", m, p, r.Status, r.Head)
				continue
			}
			if got := r.Header.Get("Allow"); got != "GET, HEAD, OPTIONS" {
				t.Errorf("%s %s: Allow %q, want %q", m, p, got, "GET, HEAD, OPTIONS")
			}
			if r.Header.Get("Connection") != "close" {
				if next := c.Read("GET"); next.Status != 200 || string(next.Body) != "pong" {
					t.Errorf("%s %s: the next request on the connection got %d %q", m, p, next.Status, next.Body)
				}
			}
		}
	}
	for _, name := range []string{"hello.txt", "r.bin", "sub/index.html"} {
		if r := rawDo(t, s.Addr, "GET", "/"+name); r.Status != 200 || !bytes.Equal(r.Body, f.Files[name]) {
			t.Errorf("GET /%s after the refused methods: %d, %d bytes", name, r.Status, len(r.Body))
		}
	}
}

// ---------------------------------------------------------------------------
// Ranges

// checkRange checks a response to a Range request on a file (respcheck.Range).
func checkRange(t testing.TB, what string, r *rawResponse, file []byte, status, first, last int) {
	t.Helper()
	respcheck.Range(t, what, respcheck.Response{Status: r.Status, Head: string(r.Head), Header: r.Header, Body: r.Body}, file, status, first, last)
}

// TestE2EStaticRanges: a Range on the wire gets its answer with the right
// bytes: one range and a suffix (206), ranges that coalesce (206), none
// satisfiable (416), a malformed header and ranges that stay apart (200,
// the whole file); Range on HEAD; ranges of a larger file. Which bytes
// every form of Range selects is protocol's TestRangeSelection, and each
// kind of answer is the handlers package's TestServeFileRanges.
func TestE2EStaticRanges(t *testing.T) {
	f := makeStaticFixture(t)
	s := startServer(t, serverOptions{Root: f.Root})
	file := f.Files["r.bin"]
	for _, tc := range []struct {
		name, rng   string
		status      int
		first, last int
	}{
		{"middle", "bytes=100-199", 206, 100, 199},
		{"suffix", "bytes=-10", 206, 990, 999},
		{"touching, unsorted", "bytes=10-19,0-9", 206, 0, 19},
		{"start at size", "bytes=1000-", 416, 0, 0},
		{"malformed letters", "bytes=abc", 200, 0, 0},
		{"apart", "bytes=0-9,20-29", 200, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawDo(t, s.Addr, "GET", "/r.bin", "Range", tc.rng)
			checkRange(t, fmt.Sprintf("GET /r.bin Range: %s", tc.rng), r, file, tc.status, tc.first, tc.last)
		})
	}

	t.Run("HEAD ignores Range", func(t *testing.T) {
		for _, rng := range []string{"bytes=0-9", "bytes=1000-", "bytes=-5"} {
			c := staticDial(t, s.Addr)
			c.Send(rawRequest("HEAD", "/r.bin", "Range", rng) + rawRequest("GET", "/ping"))
			r := c.Read("HEAD")
			if r.Status != 200 || r.Header.Get("Content-Length") != "1000" || r.Header.Get("Content-Range") != "" {
				t.Errorf("HEAD /r.bin Range: %s: want 200 with Content-Length 1000 and no Content-Range, got\n%q", rng, r.Head)
			}
			if next := c.Read("GET"); next.Status != 200 || string(next.Body) != "pong" {
				t.Errorf("after HEAD with Range %s: next response %d %q", rng, next.Status, next.Body)
			}
		}
	})

	t.Run("larger file", func(t *testing.T) {
		big := f.Files["bin.dat"] // 100 KiB
		n := len(big)
		for _, tc := range []struct {
			rng         string
			first, last int
		}{
			{"bytes=65535-65536", 65535, 65536},
			{fmt.Sprintf("bytes=%d-", n-70000), n - 70000, n - 1},
			{"bytes=-70000", n - 70000, n - 1},
			{"bytes=1-", 1, n - 1},
		} {
			r := rawDo(t, s.Addr, "GET", "/bin.dat", "Range", tc.rng)
			checkRange(t, "GET /bin.dat Range: "+tc.rng, r, big, 206, tc.first, tc.last)
		}
	})
}

// TestE2EStaticRangesPipelined: 206, 416, ignored ranges, HEAD with a
// range and a 304 in one write on one connection keep the framing.
func TestE2EStaticRangesPipelined(t *testing.T) {
	f := makeStaticFixture(t)
	s := startServer(t, serverOptions{Root: f.Root})
	file := f.Files["r.bin"]
	etag := rawDo(t, s.Addr, "HEAD", "/r.bin").Header.Get("ETag")

	type step struct {
		method, rng, inm string
		status           int
		first, last      int
	}
	steps := []step{
		{"GET", "bytes=0-9", "", 206, 0, 9},
		{"GET", "bytes=1000-", "", 416, 0, 0},
		{"GET", "bytes=abc", "", 200, 0, 0},
		{"HEAD", "bytes=0-9", "", 200, 0, 0},
		{"GET", "bytes=0-9", etag, 304, 0, 0},
		{"GET", "bytes=-5", "", 206, 995, 999},
		{"GET", "bytes=0-9,20-29", "", 200, 0, 0},
		{"GET", "bytes=500-", "", 206, 500, 999},
	}
	var all strings.Builder
	for _, st := range steps {
		hdr := []string{"Range", st.rng}
		if st.inm != "" {
			hdr = append(hdr, "If-None-Match", st.inm)
		}
		all.WriteString(rawRequest(st.method, "/r.bin", hdr...))
	}
	all.WriteString(rawRequest("GET", "/ping"))
	c := staticDial(t, s.Addr)
	c.Send(all.String())
	for i, st := range steps {
		r := c.Read(st.method)
		what := fmt.Sprintf("pipelined %d: %s Range: %s", i, st.method, st.rng)
		switch {
		case st.method == "HEAD":
			if r.Status != 200 || r.Header.Get("Content-Length") != "1000" {
				t.Fatalf("%s: %q", what, r.Head)
			}
		case st.status == 304:
			if r.Status != 304 {
				t.Fatalf("%s If-None-Match: %s: status %d, want 304", what, st.inm, r.Status)
			}
		default:
			checkRange(t, what, r, file, st.status, st.first, st.last)
		}
		if r.Header.Get("Connection") == "close" {
			t.Fatalf("%s: the server closed the connection: %q", what, r.Head)
		}
	}
	if r := c.Read("GET"); r.Status != 200 || string(r.Body) != "pong" {
		t.Fatalf("the /ping after the pipelined file requests: %d %q", r.Status, r.Body)
	}
}

// TestE2EStaticIfRange: If-Range with the current ETag or the exact
// Last-Modified date keeps the range; another date gives the whole file
// with 200. Every form of If-Range is protocol's TestRangeAppliesIfRange.
func TestE2EStaticIfRange(t *testing.T) {
	f := makeStaticFixture(t)
	s := startServer(t, serverOptions{Root: f.Root})
	file := f.Files["r.bin"]
	etag := rawDo(t, s.Addr, "HEAD", "/r.bin").Header.Get("ETag")
	if !strongETagRE.MatchString(etag) {
		t.Fatalf("HEAD /r.bin: ETag %q", etag)
	}
	lm := f.LastModified(t, "r.bin")
	lmTime, _ := http.ParseTime(lm)
	date := func(d time.Duration) string { return lmTime.Add(d).Format(http.TimeFormat) }

	for _, tc := range []struct {
		name, ifRange string
		status        int
	}{
		{"current ETag", etag, 206},
		{"exact Last-Modified", lm, 206},
		{"a second earlier", date(-time.Second), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawDo(t, s.Addr, "GET", "/r.bin", "Range", "bytes=10-19", "If-Range", tc.ifRange)
			checkRange(t, fmt.Sprintf("Range: bytes=10-19, If-Range: %s", tc.ifRange), r, file, tc.status, 10, 19)
		})
	}
}

// ---------------------------------------------------------------------------
// Validators

// TestE2EStaticValidators: matching validators give 304 with no body (GET,
// HEAD, and with a Range), non-matching ones 200, If-Match and
// If-Unmodified-Since 412. Every 304 is followed on the same connection by
// a pipelined GET that must parse right after its head. Which validator
// wins in every combination is protocol's TestPreconditionsValidators.
func TestE2EStaticValidators(t *testing.T) {
	f := makeStaticFixture(t)
	s := startServer(t, serverOptions{Root: f.Root})
	file := f.Files["r.bin"]
	etag := rawDo(t, s.Addr, "HEAD", "/r.bin").Header.Get("ETag")
	if !strongETagRE.MatchString(etag) {
		t.Fatalf("HEAD /r.bin: ETag %q", etag)
	}
	lm := f.LastModified(t, "r.bin")
	lmTime, _ := http.ParseTime(lm)
	date := func(d time.Duration) string { return lmTime.Add(d).Format(http.TimeFormat) }
	other := `"e2e-other"`

	for _, tc := range []struct {
		name   string
		method string
		hdr    []string
		status int
	}{
		{"INM current", "GET", []string{"If-None-Match", etag}, 304},
		{"INM other", "GET", []string{"If-None-Match", other}, 200},
		{"IMS equal", "GET", []string{"If-Modified-Since", lm}, 304},
		{"IMS a second before", "GET", []string{"If-Modified-Since", date(-time.Second)}, 200},
		{"HEAD INM current", "HEAD", []string{"If-None-Match", etag}, 304},
		{"INM current with a Range", "GET", []string{"If-None-Match", etag, "Range", "bytes=0-9"}, 304},
		{"IM other", "GET", []string{"If-Match", other}, 412},
		{"IUS a second before", "GET", []string{"If-Unmodified-Since", date(-time.Second)}, 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			what := fmt.Sprintf("%s /r.bin %q", tc.method, tc.hdr)
			c := staticDial(t, s.Addr)
			c.Send(rawRequest(tc.method, "/r.bin", tc.hdr...) + rawRequest("GET", "/r.bin"))
			r := c.Read(tc.method)
			if r.Status != tc.status {
				t.Fatalf("%s: status %d, want %d\n%q", what, r.Status, tc.status, r.Head)
			}
			switch tc.status {
			case 304:
				respcheck.NotModified(t, what, respcheck.Response{Status: r.Status, Head: string(r.Head), Header: r.Header, Body: r.Body}, etag, 1000)
			case 200:
				if tc.method == "GET" && !bytes.Equal(r.Body, file) {
					t.Errorf("%s: 200 without the file (%d bytes)", what, len(r.Body))
				}
				checkFileHeaders(t, what, r, "application/octet-stream", 1000, lm)
			case 412:
				if bytes.Equal(r.Body, file) {
					t.Errorf("%s: 412 carries the file", what)
				}
			}
			if r.Header.Get("Connection") == "close" {
				if tc.status == 304 {
					t.Errorf("%s: 304 closed the connection", what)
				}
				return
			}
			// Nothing may follow the 304's head but the next response.
			next := c.Read("GET")
			if next.Status != 200 || !bytes.Equal(next.Body, file) {
				t.Errorf("%s: the pipelined GET after it: %d, %d bytes\n%q", what, next.Status, len(next.Body), next.Head)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Directories

// TestE2EStaticDirectories: /dir redirects to /dir/ (keeping the query),
// no redirect leaves the site, /dir/ serves its index.html, a directory
// without one is 404, and nothing is ever listed; Go's client follows the
// redirect. The full tables are the handlers package's TestPathDirectories.
func TestE2EStaticDirectories(t *testing.T) {
	f := makeStaticFixture(t)
	f.Add(t, "sub/deeper/index.html", []byte("<p>deeper</p>\n"))
	f.Add(t, "nolist/e2e-alpha.txt", []byte("alpha\n"))
	f.Add(t, "nolist/e2e-beta.txt", []byte("beta\n"))
	f.Add(t, "evil.example/index.html", []byte("<p>evil</p>\n"))
	f.TouchAll(t, fixtureMtime)
	s := startServer(t, serverOptions{Root: f.Root})

	for _, tc := range []struct{ method, target, loc string }{
		{"HEAD", "/sub", "/sub/"},
		{"GET", "/sub?x=1&y=%20z", "/sub/?x=1&y=%20z"},
	} {
		r := rawDo(t, s.Addr, tc.method, tc.target)
		if r.Status != 301 || r.Header.Get("Location") != tc.loc {
			t.Errorf("%s %s: want 301 with Location %s, got\n%q", tc.method, tc.target, tc.loc, r.Head)
		}
	}

	// No redirect can leave the site: //evil.example must not become a
	// scheme-relative Location.
	for _, target := range []string{"//evil.example"} {
		r := rawDo(t, s.Addr, "GET", target)
		loc := r.Header.Get("Location")
		if r.Status == 301 && (strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") || strings.Contains(loc, "://")) {
			t.Errorf("GET %s: redirect off the site: Location %q", target, loc)
		}
	}

	for _, tc := range []struct{ target, file string }{
		{"/sub/?q=1", "sub/index.html"},
	} {
		r := rawDo(t, s.Addr, "GET", tc.target)
		if r.Status != 200 || !bytes.Equal(r.Body, f.Files[tc.file]) {
			t.Errorf("GET %s: %d %q, want 200 with %s", tc.target, r.Status, clip(r.Body), tc.file)
			continue
		}
		checkFileHeaders(t, "GET "+tc.target, r, "text/html; charset=utf-8", len(f.Files[tc.file]), f.LastModified(t, tc.file))
	}

	// Directories without index.html: 404, and no listing.
	for _, target := range []string{"/nolist/"} {
		r := rawDo(t, s.Addr, "GET", target)
		if r.Status != 404 {
			t.Errorf("GET %s (no index.html): status %d, want 404", target, r.Status)
		}
		for _, name := range []string{"e2e-alpha.txt", "e2e-beta.txt", "hello.txt", "nolist"} {
			if bytes.Contains(r.Body, []byte(name)) {
				t.Errorf("GET %s: the body lists %s: %q", target, name, clip(r.Body))
			}
		}
	}

	// Go's client follows the redirect to the index.
	c := newClient(t)
	resp, body := doRequest(t, c, "GET", s.URL("/sub/deeper"), nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, f.Files["sub/deeper/index.html"]) || resp.Request.URL.Path != "/sub/deeper/" {
		t.Errorf("net/http GET /sub/deeper: %d at %s, %q", resp.StatusCode, resp.Request.URL, body)
	}
}

// ---------------------------------------------------------------------------
// Dotfiles

// TestE2EStaticDotfiles: names and directories that start with a dot are
// 404 by default, however the dot is spelled, and served with
// --dotfiles allow, which opens no way out of the root. Every spelling is
// the handlers package's TestPathDotfiles; here the flag reaches the rule.
func TestE2EStaticDotfiles(t *testing.T) {
	f := makeStaticFixture(t)
	dot := map[string]string{
		".env":             "E2E_DOT_ENV=1\n",
		".git/config":      "[core] e2e-git-config\n",
		".hiddendir/f.txt": "e2e in a dot directory\n",
	}
	for name, body := range dot {
		f.Add(t, name, []byte(body))
	}
	f.TouchAll(t, fixtureMtime)
	targets := map[string]string{ // request target -> file
		"/.env":             ".env",
		"/%2Egit/config":    ".git/config",
		"/.hiddendir/f.txt": ".hiddendir/f.txt",
	}

	t.Run("deny by default", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: f.Root})
		for target, file := range targets {
			for _, m := range []string{"GET", "HEAD"} {
				c := staticDial(t, s.Addr)
				c.Send(rawRequest(m, target, "Connection", "close"))
				raw := c.ReadAll()
				st := rawStatus(t, raw)
				if st != 404 {
					t.Errorf("%s %s: status %d, want 404\n%q", m, target, st, clip(raw))
				}
				if bytes.Contains(raw, []byte(dot[file])) {
					t.Errorf("%s %s: the response carries %s", m, target, file)
				}
			}
		}
		for _, target := range []string{"/.git"} {
			r := rawDo(t, s.Addr, "GET", target)
			if r.Status != 404 {
				t.Errorf("GET %s: status %d, want 404 (no redirect, no hint)\n%q", target, r.Status, r.Head)
			}
		}
		if r := rawDo(t, s.Addr, "GET", "/hello.txt"); r.Status != 200 {
			t.Errorf("GET /hello.txt: %d", r.Status)
		}
	})

	t.Run("allow", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: f.Root, Args: []string{"--dotfiles", "allow"}})
		for target, file := range targets {
			r := rawDo(t, s.Addr, "GET", target)
			if r.Status != 200 || string(r.Body) != dot[file] {
				t.Errorf("GET %s with --dotfiles allow: %d %q, want 200 %q", target, r.Status, r.Body, dot[file])
			}
		}
		// Still sealed.
		for _, target := range []string{"/.%2e/secret.txt", "/link-out"} {
			c := staticDial(t, s.Addr)
			c.Send(rawRequest("GET", target, "Connection", "close"))
			raw := c.ReadAll()
			if st := rawStatus(t, raw); st != 400 && st != 403 && st != 404 {
				t.Errorf("GET %s with --dotfiles allow: status %d", target, st)
			}
			if bytes.Contains(raw, f.Secret) {
				t.Errorf("GET %s with --dotfiles allow leaked the secret", target)
			}
		}
	})
}

// rawStatus is the status code of a raw response (0 when there is no
// parsable head).
func rawStatus(t testing.TB, raw []byte) int {
	t.Helper()
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		return 0
	}
	st, _, err := parseHead(raw[:i+4])
	if err != nil {
		return 0
	}
	return st
}

// ---------------------------------------------------------------------------
// Traversal

// TestE2EStaticTraversal: no request target, however encoded, and no
// symlink can bring a byte from outside the root into a response; each
// attempt gets 400, 403 or 404. Both with dotfiles denied (where ".." is
// also a dot segment) and allowed (where only the kernel's containment
// stands in the way). A few targets of each kind go over the wire, where
// no client cleans them first; every one of the table is the handlers
// package's TestPathTraversal.
func TestE2EStaticTraversal(t *testing.T) {
	f := makeStaticFixture(t)
	// A relative symlink out of the root, next to the absolute ones of
	// makeTree (link-out -> BASE/secret.txt, linkdir-out -> BASE).
	if err := os.Symlink("../secret.txt", f.Path("link-rel")); err != nil {
		t.Fatal(err)
	}
	secretHex := f.Secret[len("E2E-TOP-SECRET-"):]

	targets := []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/..%2fsecret.txt",
		"/..\\secret.txt",
		"/a%00b",
		"/link-out",
		"/link-rel",
		"/linkdir-out/secret.txt",
		"http://e2e/../secret.txt",
		"../secret.txt",
	}
	for _, mode := range []struct {
		name string
		args []string
	}{{"dotfiles deny", nil}, {"dotfiles allow", []string{"--dotfiles", "allow"}}} {
		t.Run(mode.name, func(t *testing.T) {
			s := startServer(t, serverOptions{Root: f.Root, Args: mode.args})
			for _, target := range targets {
				for _, extra := range [][]string{nil, {"Range", "bytes=0-"}} {
					c := staticDial(t, s.Addr)
					c.Send(rawRequest("GET", target, append([]string{"Connection", "close"}, extra...)...))
					raw := c.ReadAll()
					st := rawStatus(t, raw)
					if st != 400 && st != 403 && st != 404 {
						t.Errorf("GET %s %q: status %d, want 400, 403 or 404\n%q", target, extra, st, clip(raw))
					}
					if bytes.Contains(raw, f.Secret) || bytes.Contains(raw, secretHex) {
						t.Errorf("GET %s %q: THE SECRET OUTSIDE THE ROOT LEAKED:\n%q", target, extra, clip(raw))
					}
				}
			}
			// Still serving, and in-root files are fine.
			if r := rawDo(t, s.Addr, "GET", "/hello.txt"); r.Status != 200 || !bytes.Equal(r.Body, f.Files["hello.txt"]) {
				t.Errorf("GET /hello.txt after the traversal table: %d %q", r.Status, r.Body)
			}
			if r := rawDo(t, s.Addr, "GET", "/ping"); r.Status != 200 || string(r.Body) != "pong" {
				t.Errorf("GET /ping after the traversal table: %d %q", r.Status, r.Body)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Classic mode

// TestE2EStaticClassicIgnoresRange: in classic mode a file is exactly
// "HTTP/1.1 200 OK\r\nContent-Length: N\r\n\r\n" and its bytes, whatever
// Range or validator fields the request carries (every such field is the
// handlers package's TestServeClassicFileIgnoresRange).
func TestE2EStaticClassicIgnoresRange(t *testing.T) {
	f := makeStaticFixture(t)
	s := startClassic(t, f.docTree)
	for _, tc := range []struct{ name, fields string }{
		{"range", "Range: bytes=0-3\r\n"},
		{"if-none-match star", "If-None-Match: *\r\n"},
	} {
		for _, name := range []string{"hello.txt", "r.bin"} {
			c := staticDial(t, s.Addr)
			c.Send("GET /" + name + " HTTP/1.1\r\n" + tc.fields + "\r\n")
			got := c.ReadAll()
			if want := classicOK(string(f.Files[name])); string(got) != want {
				t.Errorf("classic GET /%s (%s):\n got %q\nwant %q", name, tc.name, clip(got), clip([]byte(want)))
			}
		}
	}
}
