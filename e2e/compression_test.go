package e2e

// Compressed responses of static files (--compress, --precompressed and
// their sizes, levels and cache): precompressed sidecars (app.js.br,
// app.js.zst, app.js.gz) chosen by Accept-Encoding and sent as they are,
// text files compressed on the fly into a bounded cache keyed by file
// version, the negotiation's q-values, ties and 406, validators and ranges
// of each form, a changed file never served stale, the switches that turn
// it off, classic mode, and the /stats and /metrics figures. Raw sockets
// carry the requests whose exact fields matter; net/http (with and without
// its own gzip handling) and curl --compressed are the real clients.
//
// The server keeps a compressed copy only of a file whose last change is
// more than a second old (both mtime and ctime: see settleTime in
// handlers/filecache.go and OpenedFile.settled). ctime can not be set back,
// so the tests that count cache hits write their files first and wait once
// (settleWait) before asking for them.

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compressCodings are the codings the server makes, in its preference.
var compressCodings = []string{"br", "zstd", "gzip"}

// sidecarSuffix is the file name ending of each coding's precompressed copy.
var sidecarSuffix = map[string]string{"br": ".br", "zstd": ".zst", "gzip": ".gz"}

// settleWait waits until every file written so far is older than the
// server's settle time (1 s), so that its caches may keep it.
func settleWait() { time.Sleep(1200 * time.Millisecond) }

// ---------------------------------------------------------------------------
// Fixtures

// putFile writes data to root/name and returns the path.
func putFile(t testing.TB, root, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func setMtime(t testing.TB, p string, mt time.Time) {
	t.Helper()
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
}

// putSettled writes root/name with an mtime long past, so that the server
// keeps what it makes of it.
func putSettled(t testing.TB, root, name string, data []byte) {
	t.Helper()
	setMtime(t, putFile(t, root, name, data), fixtureMtime)
}

// putAppJS writes app.js (size bytes of JS-like text from seed), settled,
// with its sidecars in every coding a minute newer.
func putAppJS(t testing.TB, root string, seed uint64, size int) ([]byte, map[string][]byte) {
	t.Helper()
	js := jsText(seed, size)
	putSettled(t, root, "app.js", js)
	return js, putSidecars(t, root, "app.js", js, fixtureMtime.Add(time.Minute))
}

// putSidecars writes the precompressed copies of data beside root/name in
// every coding, made by the test at the libraries' best levels (never the
// server's defaults, so a body equal to a sidecar can only be the sidecar),
// with the given mtime. It returns each coding's bytes.
func putSidecars(t testing.TB, root, name string, data []byte, mt time.Time) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, c := range compressCodings {
		out[c] = encodeWith(t, c, data)
		setMtime(t, putFile(t, root, name+sidecarSuffix[c], out[c]), mt)
	}
	return out
}

// encodeWith compresses data in coding at the best level. A gzip sidecar
// carries a comment in its header, so that its bytes never equal a copy the
// server makes on the fly at the same level.
func encodeWith(t testing.TB, coding string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch coding {
	case "gzip":
		w, err := kgzip.NewWriterLevel(&b, kgzip.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		w.Comment = "precompressed sidecar"
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case "br":
		w := brotli.NewWriterLevel(&b, brotli.BestCompression)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case "zstd":
		w, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		return w.EncodeAll(data, nil)
	default:
		t.Fatalf("encodeWith: unknown coding %q", coding)
	}
	return b.Bytes()
}

// decodeWith decodes a body in coding ("" is identity). gzip is decoded by
// the standard library, independent of the server's compressor.
func decodeWith(coding string, body []byte) ([]byte, error) {
	switch coding {
	case "":
		return body, nil
	case "gzip":
		r, err := stdgzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Multistream(false)
		out, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		if rest, _ := io.ReadAll(r); len(rest) > 0 {
			return nil, errors.New("bytes after the gzip member")
		}
		return out, nil
	case "br":
		return io.ReadAll(brotli.NewReader(bytes.NewReader(body)))
	case "zstd":
		d, err := zstd.NewReader(nil)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		return d.DecodeAll(body, nil)
	}
	return nil, fmt.Errorf("unknown coding %q", coding)
}

// checkDecodes asserts that body in coding decodes to want.
func checkDecodes(t testing.TB, what, coding string, body, want []byte) {
	t.Helper()
	got, err := decodeWith(coding, body)
	if err != nil {
		t.Errorf("%s: %d-byte %q body does not decode: %v", what, len(body), coding, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the %q body decodes to %d bytes that differ from the %d-byte file", what, coding, len(got), len(want))
	}
}

var jsIdents = []string{"render", "state", "props", "value", "index", "element", "handler", "config",
	"options", "result", "buffer", "count", "items", "update", "create", "remove", "listener", "node"}

// jsText is n bytes of JavaScript-like text, different for each seed.
func jsText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var b bytes.Buffer
	id := func() string { return jsIdents[r.IntN(len(jsIdents))] }
	for i := 0; b.Len() < n; i++ {
		switch r.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "function %s%d(%s, %s) {\n  return %s.%s + %d;\n}\n", id(), i, id(), id(), id(), id(), r.IntN(10000))
		case 1:
			fmt.Fprintf(&b, "const %s_%x = { %s: \"%s-%d\", %s: [%d, %d, %d] };\n", id(), r.Uint32(), id(), id(), r.IntN(999), id(), r.IntN(100), r.IntN(100), r.IntN(100))
		case 2:
			fmt.Fprintf(&b, "if (%s.%s !== undefined) { %s.push(%s(%d)); }\n", id(), id(), id(), id(), r.IntN(500))
		default:
			fmt.Fprintf(&b, "// %s %s %s: seed %d line %d\n", id(), id(), id(), seed, i)
		}
	}
	return b.Bytes()[:n]
}

var cssProps = []string{"color", "margin", "padding", "border", "background", "font-size", "line-height",
	"display", "width", "height", "z-index", "opacity", "transition", "box-shadow"}

// cssText is n bytes of CSS-like text, different for each seed.
func cssText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x51ed2701f3a5c2b9))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, ".%s-%d > .%s:hover {\n", cssProps[r.IntN(len(cssProps))], i, jsIdents[r.IntN(len(jsIdents))])
		for k := 1 + r.IntN(5); k > 0; k-- {
			switch p := cssProps[r.IntN(len(cssProps))]; r.IntN(3) {
			case 0:
				fmt.Fprintf(&b, "  %s: #%06x;\n", p, r.IntN(1<<24))
			case 1:
				fmt.Fprintf(&b, "  %s: %dpx %dpx;\n", p, r.IntN(64), r.IntN(64))
			default:
				fmt.Fprintf(&b, "  %s: %d.%02dem;\n", p, r.IntN(4), r.IntN(100))
			}
		}
		b.WriteString("}\n")
	}
	return b.Bytes()[:n]
}

// wordsText is n bytes of text made of words drawn from a vocabulary of
// its own (so that the files differ): the repeats give the compressors
// matches, and it compresses to less than half, so that many such files
// fill a small cache. (Random letters without repeats would not do: the
// fast gzip and zstd levels send text without matches stored.)
func wordsText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	vocab := make([]string, 1500)
	for i := range vocab {
		w := make([]byte, 3+r.IntN(8))
		for k := range w {
			w[k] = byte('a' + r.IntN(26))
		}
		vocab[i] = string(w)
	}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(vocab[r.IntN(len(vocab))])
		if r.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// ---------------------------------------------------------------------------
// Responses

// codingOf is the response's Content-Encoding ("" when it has none).
func codingOf(r *rawResponse) string { return strings.Join(r.Header.Values("Content-Encoding"), ", ") }

// varyOf is the response's Vary ("" when it has none).
func varyOf(r *rawResponse) string { return strings.Join(r.Header.Values("Vary"), ", ") }

// wantVary is the Vary a response must carry.
func wantVary(vary bool) string {
	if vary {
		return "Accept-Encoding"
	}
	return ""
}

// flyETag is the tag of a copy compressed on the fly: the file's own
// (strong) tag made weak, with the coding added.
func flyETag(identity, coding string) string {
	return "W/" + strings.TrimSuffix(identity, `"`) + "-" + coding + `"`
}

// checkForm asserts a 200 in the given coding ("" for identity) whose body
// decodes to file, with Vary exactly as wanted and Content-Length right.
func checkForm(t testing.TB, what string, r *rawResponse, coding string, vary bool, file []byte) {
	t.Helper()
	if r.Status != 200 {
		t.Errorf("%s: status %d, want 200 (%q)", what, r.Status, r.Head)
		return
	}
	if got := codingOf(r); got != coding {
		t.Errorf("%s: Content-Encoding %q, want %q", what, got, coding)
	}
	if got := varyOf(r); got != wantVary(vary) {
		t.Errorf("%s: Vary %q, want %q", what, got, wantVary(vary))
	}
	if cl := r.Header.Get("Content-Length"); cl != strconv.Itoa(len(r.Body)) {
		t.Errorf("%s: Content-Length %q for %d body bytes", what, cl, len(r.Body))
	}
	if coding != "" && len(r.Body) >= len(file) {
		t.Errorf("%s: the %q body has %d bytes, not fewer than the file's %d", what, coding, len(r.Body), len(file))
	}
	checkDecodes(t, what, coding, r.Body, file)
}

// headNoBody sends HEAD and then GET /ping on one connection: the HEAD
// response must have no body, or the second response would not parse as
// the pong.
func headNoBody(t testing.TB, addr, target string, hdr ...string) *rawResponse {
	t.Helper()
	c := staticDial(t, addr)
	defer c.Close()
	c.Send(rawRequest("HEAD", target, hdr...) + rawRequest("GET", "/ping"))
	h := c.Read("HEAD")
	if p := c.Read("GET"); p.Status != 200 || string(p.Body) != "pong" {
		t.Fatalf("HEAD %s %q: the next response on the connection is %d %q: the HEAD response carried a body",
			target, hdr, p.Status, clip(p.Head))
	}
	return h
}

// compareHead asserts that a HEAD response has the GET response's fields.
func compareHead(t testing.TB, what string, get, head *rawResponse) {
	t.Helper()
	if head.Status != get.Status {
		t.Errorf("%s: HEAD %d, GET %d", what, head.Status, get.Status)
	}
	for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding", "ETag", "Last-Modified", "Vary", "Accept-Ranges"} {
		if g, h := strings.Join(get.Header.Values(k), ", "), strings.Join(head.Header.Values(k), ", "); g != h {
			t.Errorf("%s: %s on HEAD %q, on GET %q", what, k, h, g)
		}
	}
}

// compStats are the "compression" figures of JSON /stats.
type compStats struct {
	Hits, Misses, Evictions, Entries, Bytes, MaxBytes   float64
	Responses, SidecarResponses, BytesSaved, NotAccepts float64
}

func compressionStats(t testing.TB, addr string) compStats {
	t.Helper()
	m := jsonStats(t, addr)
	n := func(k string) float64 { return statsObjectNumber(t, m, "compression", k) }
	return compStats{n("hits"), n("misses"), n("evictions"), n("entries"), n("bytes"), n("max_bytes"),
		n("responses"), n("sidecar_responses"), n("bytes_saved"), n("not_acceptable")}
}

// awaitSidecar asks for target in coding until the body is the sidecar,
// just written, and returns how long that took: at most 2 s (the server
// looks for a sidecar again at least every second). Every response until
// then must be a right copy made on the fly.
func awaitSidecar(t testing.TB, addr, target, coding string, sidecar, file []byte) time.Duration {
	t.Helper()
	written := time.Now()
	for {
		r := rawDo(t, addr, "GET", target, "Accept-Encoding", coding)
		checkForm(t, "GET "+target+" "+coding+", sidecar just written", r, coding, true, file)
		if bytes.Equal(r.Body, sidecar) {
			if !strongETagRE.MatchString(r.Header.Get("ETag")) {
				t.Errorf("GET %s %s: the sidecar sent with ETag %q", target, coding, r.Header.Get("ETag"))
			}
			return time.Since(written)
		}
		if et := r.Header.Get("ETag"); !strings.HasPrefix(et, "W/") || !strings.HasSuffix(et, "-"+coding+`"`) {
			t.Fatalf("GET %s %s while the sidecar is not yet seen: ETag %q, want a copy made on the fly", target, coding, et)
		}
		if time.Since(written) > 2*time.Second {
			t.Fatalf("GET %s %s: the sidecar written %v ago is still not sent", target, coding, time.Since(written))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// 1. Sidecars

// TestCompressSidecars: each coding's response is the precompressed file
// byte for byte, with its coding, Vary, its own strong ETag, its own
// length, the file's type, and the same fields on HEAD without a body.
func TestCompressSidecars(t *testing.T) {
	root := t.TempDir()
	js, side := putAppJS(t, root, 1, 20*1024)
	s := startServer(t, serverOptions{Root: root})

	id := rawDo(t, s.Addr, "GET", "/app.js")
	checkForm(t, "GET /app.js without Accept-Encoding", id, "", true, js)
	if et := id.Header.Get("ETag"); !strongETagRE.MatchString(et) || id.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("identity: ETag %q, Accept-Ranges %q", et, id.Header.Get("Accept-Ranges"))
	}
	ctype := id.Header.Get("Content-Type")
	if !strings.HasPrefix(ctype, "text/javascript") && !strings.HasPrefix(ctype, "application/javascript") {
		t.Errorf("identity Content-Type %q", ctype)
	}
	compareHead(t, "identity", id, headNoBody(t, s.Addr, "/app.js"))

	seen := map[string]string{id.Header.Get("ETag"): "identity"}
	for _, c := range compressCodings {
		what := "GET /app.js, Accept-Encoding: " + c
		r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", c)
		checkForm(t, what, r, c, true, js)
		if !bytes.Equal(r.Body, side[c]) {
			t.Errorf("%s: the body (%d bytes) is not the sidecar app.js%s (%d bytes)", what, len(r.Body), sidecarSuffix[c], len(side[c]))
		}
		if cl := r.Header.Get("Content-Length"); cl != strconv.Itoa(len(side[c])) {
			t.Errorf("%s: Content-Length %q, want the sidecar's %d", what, cl, len(side[c]))
		}
		if got := r.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want the file's %q", what, got, ctype)
		}
		et := r.Header.Get("ETag")
		if !strongETagRE.MatchString(et) {
			t.Errorf("%s: ETag %q is not strong", what, et)
		}
		if other, dup := seen[et]; dup {
			t.Errorf("%s: ETag %q is also the %s form's", what, et, other)
		}
		seen[et] = c
		if r.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: Accept-Ranges %q, want bytes (a sidecar is a file)", what, r.Header.Get("Accept-Ranges"))
		}
		if _, err := http.ParseTime(r.Header.Get("Last-Modified")); err != nil {
			t.Errorf("%s: Last-Modified %q", what, r.Header.Get("Last-Modified"))
		}
		compareHead(t, what, r, headNoBody(t, s.Addr, "/app.js", "Accept-Encoding", c))
	}

	// Go's client, which leaves the coding alone: the sidecar's bytes.
	c := newClient(t)
	resp, body := doRequest(t, c, "GET", s.URL("/app.js"), nil, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, side["gzip"]) ||
		resp.ContentLength != int64(len(side["gzip"])) || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("net/http GET /app.js gzip: %d, Content-Encoding %q, Vary %q, Content-Length %d, body is the sidecar: %v",
			resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), resp.ContentLength, bytes.Equal(body, side["gzip"]))
	}
	// Go's client that asks for gzip itself and decodes it.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, body = doRequest(t, &http.Client{Transport: tr, Timeout: 30 * time.Second}, "GET", s.URL("/app.js"), nil)
	if resp.StatusCode != 200 || !resp.Uncompressed || !bytes.Equal(body, js) {
		t.Errorf("net/http with its own gzip: %d, decoded by the transport: %v, body is the file: %v",
			resp.StatusCode, resp.Uncompressed, bytes.Equal(body, js))
	}

	// The sidecar asked for by its own name is a file like any other: it
	// must not be labelled with a Content-Encoding, or a client would
	// unpack the download.
	for _, ae := range []string{"", "gzip"} {
		var r *rawResponse
		if ae == "" {
			r = rawDo(t, s.Addr, "GET", "/app.js.gz")
		} else {
			r = rawDo(t, s.Addr, "GET", "/app.js.gz", "Accept-Encoding", ae)
		}
		if r.Status != 200 || !bytes.Equal(r.Body, side["gzip"]) || codingOf(r) != "" {
			t.Errorf("GET /app.js.gz (Accept-Encoding %q): %d, Content-Encoding %q, body is the .gz file: %v",
				ae, r.Status, codingOf(r), bytes.Equal(r.Body, side["gzip"]))
		}
	}
}

// TestCompressSidecarPlacement: a directory's index.html finds its
// sidecar; a sidecar that is a symlink out of the root, or a directory,
// is never sent (the file is compressed on the fly instead).
func TestCompressSidecarPlacement(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	later := fixtureMtime.Add(time.Minute)

	page := append([]byte("<!doctype html>\n<html><body>\n"), jsText(2, 8000)...)
	putSettled(t, root, "sub/index.html", page)
	subGz := encodeWith(t, "gzip", page)
	setMtime(t, putFile(t, root, "sub/index.html.gz", subGz), later)
	top := append([]byte("<!doctype html>\n<title>top</title>\n"), cssText(3, 6000)...)
	putSettled(t, root, "index.html", top)
	topBr := encodeWith(t, "br", top)
	setMtime(t, putFile(t, root, "index.html.br", topBr), later)

	esc := jsText(4, 9000)
	putSettled(t, root, "esc.js", esc)
	secret := encodeWith(t, "gzip", bytes.Repeat([]byte("OUTSIDE-THE-ROOT "), 600))
	setMtime(t, putFile(t, base, "outside.gz", secret), later)
	if err := os.Symlink(filepath.Join(base, "outside.gz"), filepath.Join(root, "esc.js.gz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside.gz", filepath.Join(root, "esc.js.br")); err != nil {
		t.Fatal(err)
	}
	dirjs := cssText(5, 9000)
	putSettled(t, root, "dir.js", dirjs)
	if err := os.Mkdir(filepath.Join(root, "dir.js.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOptions{Root: root})

	r := rawDo(t, s.Addr, "GET", "/sub/", "Accept-Encoding", "gzip")
	checkForm(t, "GET /sub/ gzip", r, "gzip", true, page)
	if !bytes.Equal(r.Body, subGz) {
		t.Errorf("GET /sub/ gzip: not sub/index.html.gz")
	}
	r = rawDo(t, s.Addr, "GET", "/", "Accept-Encoding", "br")
	checkForm(t, "GET / br", r, "br", true, top)
	if !bytes.Equal(r.Body, topBr) {
		t.Errorf("GET / br: not index.html.br")
	}

	id := rawDo(t, s.Addr, "GET", "/esc.js")
	for _, c := range []string{"gzip", "br"} {
		what := "GET /esc.js " + c + " (its sidecar a symlink out of the root)"
		r := rawDo(t, s.Addr, "GET", "/esc.js", "Accept-Encoding", c)
		checkForm(t, what, r, c, true, esc)
		if bytes.Equal(r.Body, secret) || bytes.Contains(r.Body, secret[:40]) {
			t.Errorf("%s: sent the file outside the root", what)
		}
		if et := r.Header.Get("ETag"); et != flyETag(id.Header.Get("ETag"), c) {
			t.Errorf("%s: ETag %q, want the on-the-fly %q", what, et, flyETag(id.Header.Get("ETag"), c))
		}
	}
	idDir := rawDo(t, s.Addr, "GET", "/dir.js")
	r = rawDo(t, s.Addr, "GET", "/dir.js", "Accept-Encoding", "gzip")
	checkForm(t, "GET /dir.js gzip (dir.js.gz a directory)", r, "gzip", true, dirjs)
	if et := r.Header.Get("ETag"); et != flyETag(idDir.Header.Get("ETag"), "gzip") {
		t.Errorf("GET /dir.js gzip: ETag %q, want the on-the-fly one", et)
	}
}

// ---------------------------------------------------------------------------
// 2. Negotiation

// negotiationCases: an Accept-Encoding (absent when "-") and the form the
// server must choose: a coding, "" for identity, "406".
var negotiationCases = []struct{ accept, want string }{
	{"-", ""},
	{"", ""}, // present and empty: no coding wanted
	{"gzip;q=0.5, br;q=0.9", "br"},
	{"gzip, br;q=0", "gzip"},
	{"*;q=0.1, zstd", "zstd"},
	{"br, zstd, gzip", "br"},
	{"gzip, zstd, br", "br"}, // ties go to the server's order, not the client's
	{"gzip, zstd", "zstd"},
	{"br;q=1.0, gzip;q=1", "br"},
	{"gzip;q=0.8, zstd;q=0.8, br;q=0.7", "zstd"},
	{"GZIP", "gzip"},
	{"gzip ; q=0.5", "gzip"},
	{"*", "br"},
	{"deflate", ""},
	{"gzip;q=0", ""},
	{"identity, gzip;q=0.5", ""},
	{"identity;q=0.5, gzip", "gzip"},
	{"identity;q=0, gzip", "gzip"},
	{"gzip, *;q=0", "gzip"},
	{"identity;q=0, deflate", "406"},
	{"identity;q=0", "406"},
	{"*;q=0", "406"},
	{"gzip;q=0, identity;q=0", "406"},
}

// TestCompressNegotiation runs the table against a file with sidecars
// (the body must be the sidecar) and one compressed on the fly (the body
// must decode to the file); 406 carries Vary and is counted.
func TestCompressNegotiation(t *testing.T) {
	root := t.TempDir()
	js, side := putAppJS(t, root, 6, 20*1024)
	css := cssText(7, 30*1024)
	putSettled(t, root, "style.css", css)
	s := startServer(t, serverOptions{Root: root})

	ids := map[string]string{}
	for _, name := range []string{"/app.js", "/style.css"} {
		ids[name] = rawDo(t, s.Addr, "GET", name).Header.Get("ETag")
	}
	refused := 0
	for _, tc := range negotiationCases {
		for _, name := range []string{"/app.js", "/style.css"} {
			file := js
			if name == "/style.css" {
				file = css
			}
			var hdr []string
			if tc.accept != "-" {
				hdr = []string{"Accept-Encoding", tc.accept}
			}
			what := fmt.Sprintf("GET %s, Accept-Encoding %q", name, tc.accept)
			r := rawDo(t, s.Addr, "GET", name, hdr...)
			if tc.want == "406" {
				refused++
				if r.Status != 406 || varyOf(r) != "Accept-Encoding" || codingOf(r) != "" {
					t.Errorf("%s: %d, Vary %q, Content-Encoding %q; want 406 with Vary: Accept-Encoding",
						what, r.Status, varyOf(r), codingOf(r))
				}
				continue
			}
			checkForm(t, what, r, tc.want, true, file)
			switch {
			case tc.want == "":
				if r.Header.Get("ETag") != ids[name] {
					t.Errorf("%s: identity ETag %q, want %q", what, r.Header.Get("ETag"), ids[name])
				}
			case name == "/app.js":
				if !bytes.Equal(r.Body, side[tc.want]) {
					t.Errorf("%s: the body is not the %s sidecar", what, tc.want)
				}
			default:
				if et := r.Header.Get("ETag"); et != flyETag(ids[name], tc.want) {
					t.Errorf("%s: ETag %q, want %q", what, et, flyETag(ids[name], tc.want))
				}
			}
		}
	}
	if got := compressionStats(t, s.Addr).NotAccepts; got != float64(refused) {
		t.Errorf("compression.not_acceptable = %v after %d refusals", got, refused)
	}

	// Errors and other routes are never compressed.
	if r := rawDo(t, s.Addr, "GET", "/missing.js", "Accept-Encoding", "gzip"); r.Status != 404 || codingOf(r) != "" {
		t.Errorf("GET /missing.js gzip: %d, Content-Encoding %q", r.Status, codingOf(r))
	}
	if r := rawDo(t, s.Addr, "GET", "/ping", "Accept-Encoding", "identity;q=0, gzip"); r.Status != 200 || codingOf(r) != "" || string(r.Body) != "pong" {
		t.Errorf("GET /ping gzip: %d, Content-Encoding %q, %q", r.Status, codingOf(r), r.Body)
	}
}

// TestCompressAcceptEncodingOnSeveralLines: Accept-Encoding is a list
// (RFC 9110 12.5.3), so two field lines mean their comma-joined value
// (RFC 9110 5.3): "identity;q=0" then "gzip" accepts gzip.
func TestCompressAcceptEncodingOnSeveralLines(t *testing.T) {
	root := t.TempDir()
	css := cssText(8, 30*1024)
	putFile(t, root, "style.css", css)
	s := startServer(t, serverOptions{Root: root})
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"deflate", "br"}, "br"},
		{[]string{"identity;q=0", "gzip"}, "gzip"},
		{[]string{"gzip", "br;q=0"}, "gzip"},
	} {
		hdr := []string{}
		for _, l := range tc.lines {
			hdr = append(hdr, "Accept-Encoding", l)
		}
		r := rawDo(t, s.Addr, "GET", "/style.css", hdr...)
		what := fmt.Sprintf("GET /style.css with Accept-Encoding lines %q", tc.lines)
		if r.Status != 200 || codingOf(r) != tc.want {
			t.Errorf("%s: %d, Content-Encoding %q; want 200 in %s (the lines' combined value %q)",
				what, r.Status, codingOf(r), tc.want, strings.Join(tc.lines, ", "))
			continue
		}
		checkForm(t, what, r, tc.want, true, css)
	}
}

// ---------------------------------------------------------------------------
// 3. Stale sidecars

// TestCompressStaleSidecar: a sidecar older than its file (left behind by
// an edit) is ignored and the file is compressed on the fly; one as old as
// the file is used; a sidecar refreshed later is used at once.
func TestCompressStaleSidecar(t *testing.T) {
	root := t.TempDir()
	v1, v2 := jsText(10, 20*1024), jsText(11, 20*1024)
	p := putFile(t, root, "app.js", v2)
	setMtime(t, p, fixtureMtime)
	staleGz := encodeWith(t, "gzip", v1)
	setMtime(t, putFile(t, root, "app.js.gz", staleGz), fixtureMtime.Add(-time.Minute))
	staleZst := encodeWith(t, "zstd", v1)
	setMtime(t, putFile(t, root, "app.js.zst", staleZst), fixtureMtime.Add(-time.Nanosecond))
	sameBr := encodeWith(t, "br", v2)
	putSettled(t, root, "app.js.br", sameBr)
	s := startServer(t, serverOptions{Root: root})

	idTag := rawDo(t, s.Addr, "GET", "/app.js").Header.Get("ETag")
	for _, tc := range []struct {
		coding string
		stale  []byte
	}{{"gzip", staleGz}, {"zstd", staleZst}} {
		what := "GET /app.js " + tc.coding + " (stale sidecar)"
		r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", tc.coding)
		checkForm(t, what, r, tc.coding, true, v2)
		if bytes.Equal(r.Body, tc.stale) {
			t.Errorf("%s: sent the stale sidecar", what)
		}
		if et := r.Header.Get("ETag"); et != flyETag(idTag, tc.coding) {
			t.Errorf("%s: ETag %q, want the on-the-fly %q", what, et, flyETag(idTag, tc.coding))
		}
		if ar := r.Header.Get("Accept-Ranges"); ar != "" {
			t.Errorf("%s: Accept-Ranges %q on a copy made on the fly", what, ar)
		}
	}
	r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "br")
	checkForm(t, "GET /app.js br (sidecar as old as the file)", r, "br", true, v2)
	if !bytes.Equal(r.Body, sameBr) || !strongETagRE.MatchString(r.Header.Get("ETag")) {
		t.Errorf("GET /app.js br: the sidecar with the file's own mtime was not sent (ETag %q)", r.Header.Get("ETag"))
	}

	// The build regenerates app.js.gz: it is sent within a second (at once
	// while no copy of app.js is kept; a kept copy stands for "no sidecar"
	// for up to compress.SidecarRecheck, and app.js settles during this
	// test: see TestCompressSidecarAppears).
	freshGz := encodeWith(t, "gzip", v2)
	setMtime(t, putFile(t, root, "app.js.gz", freshGz), fixtureMtime.Add(time.Minute))
	awaitSidecar(t, s.Addr, "/app.js", "gzip", freshGz, v2)
	// The file is edited again: the sidecar is stale once more.
	setMtime(t, p, fixtureMtime.Add(2*time.Minute))
	r = rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip")
	checkForm(t, "GET /app.js gzip (file newer than the sidecar again)", r, "gzip", true, v2)
	if bytes.Equal(r.Body, freshGz) || !strings.HasPrefix(r.Header.Get("ETag"), "W/") {
		t.Errorf("GET /app.js gzip after the file became newer: sent the sidecar (ETag %q)", r.Header.Get("ETag"))
	}
}

// TestCompressSidecarAppears: while a copy made on the fly is kept, it
// stands for "no sidecar" for at most a second (compress.SidecarRecheck):
// a sidecar written later is sent within that time, every response until
// then is right, and once the sidecar is removed the copy made on the fly
// comes back at once.
func TestCompressSidecarAppears(t *testing.T) {
	root := t.TempDir()
	css := cssText(18, 40*1024)
	putFile(t, root, "style.css", css)
	settleWait()
	s := startServer(t, serverOptions{Root: root})
	id := rawDo(t, s.Addr, "GET", "/style.css").Header.Get("ETag")
	for i := 0; i < 2; i++ {
		r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "gzip")
		checkForm(t, "style.css gzip, no sidecar", r, "gzip", true, css)
		if et := r.Header.Get("ETag"); et != flyETag(id, "gzip") {
			t.Fatalf("style.css gzip, no sidecar: ETag %q, want %q", et, flyETag(id, "gzip"))
		}
	}
	if st := compressionStats(t, s.Addr); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("style.css settled, asked for twice: %+v; want the copy kept (1 miss, 1 hit)", st)
	}

	gz := encodeWith(t, "gzip", css)
	putFile(t, root, "style.css.gz", gz)
	t.Logf("the sidecar was sent %v after it was written", awaitSidecar(t, s.Addr, "/style.css", "gzip", gz, css).Round(time.Millisecond))

	if err := os.Remove(filepath.Join(root, "style.css.gz")); err != nil {
		t.Fatal(err)
	}
	r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "gzip")
	checkForm(t, "style.css gzip, sidecar removed", r, "gzip", true, css)
	if r.Header.Get("ETag") != flyETag(id, "gzip") || bytes.Equal(r.Body, gz) {
		t.Errorf("style.css gzip right after the sidecar was removed: ETag %q, want the copy made on the fly", r.Header.Get("ETag"))
	}
}

// TestCompressSymlinkOutOfRoot: a compressible file reached through a
// symlink that leaves the root is 404 with or without Accept-Encoding
// (the stat-only look-up for compressed copies follows symlinks; the open
// under the root must still decide).
func TestCompressSymlinkOutOfRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	secret := append([]byte("/* SECRET-OUTSIDE-THE-ROOT */\n"), cssText(19, 30*1024)...)
	putFile(t, base, "secret.css", secret)
	putFile(t, root, "ok.css", cssText(20, 30*1024))
	if err := os.Symlink("../secret.css", filepath.Join(root, "leak.css")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	settleWait()
	s := startServer(t, serverOptions{Root: root})
	for _, path := range []string{"/leak.css", "/up/secret.css"} {
		for _, ae := range []string{"-", "gzip", "br, zstd, gzip", "identity;q=0, gzip", "identity;q=0"} {
			var hdr []string
			if ae != "-" {
				hdr = []string{"Accept-Encoding", ae}
			}
			for i := 0; i < 2; i++ {
				r := rawDo(t, s.Addr, "GET", path, hdr...)
				if r.Status != 404 || codingOf(r) != "" || bytes.Contains(r.Body, []byte("SECRET")) {
					t.Errorf("GET %s, Accept-Encoding %q: %d, Content-Encoding %q; want 404", path, ae, r.Status, codingOf(r))
				}
				if h := headNoBody(t, s.Addr, path, hdr...); h.Status != 404 {
					t.Errorf("HEAD %s, Accept-Encoding %q: %d; want 404", path, ae, h.Status)
				}
			}
		}
	}
	if n := statsObjectNumber(t, jsonStats(t, s.Addr), "compression", "entries"); n != 0 {
		t.Errorf("compression.entries = %v after requests only for files out of the root", n)
	}

	// The same file is also in the root (a hard link), and an absolute
	// symlink in the root names a file in it: both symlinks are refused
	// by the open under the root (404 without Accept-Encoding), and must
	// stay refused once that file's compressed copy is kept.
	if err := os.Link(filepath.Join(base, "secret.css"), filepath.Join(root, "linked.css")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "ok.css"), filepath.Join(root, "abs.css")); err != nil {
		t.Fatal(err)
	}
	settleWait()
	for _, tc := range []struct{ link, target string }{{"/leak.css", "/linked.css"}, {"/abs.css", "/ok.css"}} {
		if r := rawDo(t, s.Addr, "GET", tc.link); r.Status != 404 {
			t.Fatalf("GET %s (a symlink the root refuses): %d, want 404", tc.link, r.Status)
		}
		for i := 0; i < 2; i++ { // the second is served from the cache
			if r := rawDo(t, s.Addr, "GET", tc.target, "Accept-Encoding", "gzip"); r.Status != 200 || codingOf(r) != "gzip" {
				t.Fatalf("GET %s gzip: %d %q", tc.target, r.Status, codingOf(r))
			}
		}
		for _, ae := range []string{"gzip", "br, gzip", "identity;q=0, gzip"} {
			if r := rawDo(t, s.Addr, "GET", tc.link, "Accept-Encoding", ae); r.Status != 404 {
				t.Errorf("GET %s, Accept-Encoding %q, after %s was kept compressed: %d (Content-Encoding %q, %d bytes); want 404 as without Accept-Encoding",
					tc.link, ae, tc.target, r.Status, codingOf(r), len(r.Body))
			}
		}
	}
	checkForm(t, "ok.css gzip", rawDo(t, s.Addr, "GET", "/ok.css", "Accept-Encoding", "gzip"), "gzip", true, cssText(20, 30*1024))
}

// ---------------------------------------------------------------------------
// 4. Conditional requests

// TestCompressConditional: If-None-Match with a form's ETag on a request
// that selects the same form gives 304 with that ETag and Vary; the tag
// of another form gives 200 with the selected form.
func TestCompressConditional(t *testing.T) {
	root := t.TempDir()
	js, side := putAppJS(t, root, 12, 20*1024)
	css := cssText(13, 30*1024)
	putSettled(t, root, "style.css", css)
	s := startServer(t, serverOptions{Root: root})

	forms := append([]string{""}, compressCodings...)
	ae := func(coding string) []string {
		if coding == "" {
			return nil
		}
		return []string{"Accept-Encoding", coding}
	}
	for _, name := range []string{"/app.js", "/style.css"} {
		tags := map[string]string{}
		for _, c := range forms {
			tags[c] = rawDo(t, s.Addr, "GET", name, ae(c)...).Header.Get("ETag")
			if tags[c] == "" {
				t.Fatalf("GET %s in %q: no ETag", name, c)
			}
		}
		var all []string
		for _, c := range forms {
			all = append(all, tags[c])
			what := fmt.Sprintf("GET %s in %q, If-None-Match its own ETag %s", name, c, tags[c])
			r := rawDo(t, s.Addr, "GET", name, append(ae(c), "If-None-Match", tags[c])...)
			if r.Status != 304 || r.Header.Get("ETag") != tags[c] || varyOf(r) != "Accept-Encoding" || len(r.Body) != 0 {
				t.Errorf("%s: %d, ETag %q, Vary %q; want 304 with the same ETag and Vary", what, r.Status, r.Header.Get("ETag"), varyOf(r))
			}
			h := headNoBody(t, s.Addr, name, append(ae(c), "If-None-Match", tags[c])...)
			if h.Status != 304 || h.Header.Get("ETag") != tags[c] {
				t.Errorf("HEAD %s: %d, ETag %q; want 304", what, h.Status, h.Header.Get("ETag"))
			}
			// Every other form's tag: the selected form is sent in full.
			for _, other := range forms {
				if other == c {
					continue
				}
				what := fmt.Sprintf("GET %s in %q, If-None-Match the %q form's ETag", name, c, other)
				r := rawDo(t, s.Addr, "GET", name, append(ae(c), "If-None-Match", tags[other])...)
				checkForm(t, what, r, c, true, map[string][]byte{"/app.js": js, "/style.css": css}[name])
				if r.Header.Get("ETag") != tags[c] {
					t.Errorf("%s: ETag %q, want %q", what, r.Header.Get("ETag"), tags[c])
				}
			}
		}
		// A list of every form's tag matches whichever form is selected.
		for _, c := range forms {
			if r := rawDo(t, s.Addr, "GET", name, append(ae(c), "If-None-Match", strings.Join(all, ", "))...); r.Status != 304 || r.Header.Get("ETag") != tags[c] {
				t.Errorf("GET %s in %q, If-None-Match every tag: %d, ETag %q", name, c, r.Status, r.Header.Get("ETag"))
			}
			if r := rawDo(t, s.Addr, "GET", name, append(ae(c), "If-None-Match", "*")...); r.Status != 304 {
				t.Errorf("GET %s in %q, If-None-Match *: %d", name, c, r.Status)
			}
		}
	}
	// The brief's exact case: the identity tag with a request that selects gzip.
	idTag := rawDo(t, s.Addr, "GET", "/app.js").Header.Get("ETag")
	r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip", "If-None-Match", idTag)
	if r.Status != 200 || codingOf(r) != "gzip" || !bytes.Equal(r.Body, side["gzip"]) {
		t.Errorf("GET /app.js gzip with the identity ETag: %d %q; want 200 with the gzip sidecar", r.Status, codingOf(r))
	}
}

// ---------------------------------------------------------------------------
// 5. Ranges

// TestCompressRange: a range of a sidecar is a range of the sidecar's
// bytes (206, its length in Content-Range, If-Range with its own tag); a
// range of a copy compressed on the fly is ignored (200, the whole copy,
// no Accept-Ranges).
func TestCompressRange(t *testing.T) {
	root := t.TempDir()
	_, side := putAppJS(t, root, 14, 20*1024)
	gz := side["gzip"]
	css := cssText(15, 64*1024)
	putSettled(t, root, "style.css", css)
	s := startServer(t, serverOptions{Root: root})

	check206 := func(what string, r *rawResponse, first, last int) {
		t.Helper()
		if r.Status != 206 {
			t.Errorf("%s: %d, want 206", what, r.Status)
			return
		}
		wantCR := fmt.Sprintf("bytes %d-%d/%d", first, last, len(gz))
		if cr := r.Header.Get("Content-Range"); cr != wantCR {
			t.Errorf("%s: Content-Range %q, want %q", what, cr, wantCR)
		}
		if !bytes.Equal(r.Body, gz[first:last+1]) {
			t.Errorf("%s: body is not the sidecar's bytes %d-%d", what, first, last)
		}
		if codingOf(r) != "gzip" || varyOf(r) != "Accept-Encoding" || r.Header.Get("Content-Length") != strconv.Itoa(last-first+1) {
			t.Errorf("%s: Content-Encoding %q, Vary %q, Content-Length %q", what, codingOf(r), varyOf(r), r.Header.Get("Content-Length"))
		}
	}
	check206("sidecar bytes=10-109", rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=10-109"), 10, 109)
	check206("sidecar bytes=-50", rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=-50"), len(gz)-50, len(gz)-1)
	// Past the sidecar's end (but within the file): 416 with the sidecar's length.
	r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip", "Range", fmt.Sprintf("bytes=%d-", len(gz)))
	if want := fmt.Sprintf("bytes */%d", len(gz)); r.Status != 416 || r.Header.Get("Content-Range") != want {
		t.Errorf("sidecar range past its end: %d, Content-Range %q, want 416 %q", r.Status, r.Header.Get("Content-Range"), want)
	}
	// If-Range: the sidecar's own tag keeps the range; the identity tag
	// names another representation, so the whole sidecar comes with 200.
	gzTag := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip").Header.Get("ETag")
	idTag := rawDo(t, s.Addr, "GET", "/app.js").Header.Get("ETag")
	check206("sidecar If-Range its own tag", rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=10-109", "If-Range", gzTag), 10, 109)
	r = rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip", "Range", "bytes=10-109", "If-Range", idTag)
	if r.Status != 200 || !bytes.Equal(r.Body, gz) || codingOf(r) != "gzip" {
		t.Errorf("sidecar range, If-Range the identity tag: %d, %d bytes; want 200 with the whole sidecar", r.Status, len(r.Body))
	}

	// On the fly: the Range is ignored.
	for _, c := range compressCodings {
		what := "style.css " + c + " with Range: bytes=10-109"
		r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", c, "Range", "bytes=10-109")
		checkForm(t, what, r, c, true, css)
		if r.Header.Get("Accept-Ranges") != "" || r.Header.Get("Content-Range") != "" {
			t.Errorf("%s: Accept-Ranges %q, Content-Range %q; want neither", what, r.Header.Get("Accept-Ranges"), r.Header.Get("Content-Range"))
		}
	}
	// The identity form of the same file still serves ranges, with Vary.
	r = rawDo(t, s.Addr, "GET", "/style.css", "Range", "bytes=10-109")
	if r.Status != 206 || !bytes.Equal(r.Body, css[10:110]) || r.Header.Get("Accept-Ranges") != "bytes" ||
		varyOf(r) != "Accept-Encoding" || codingOf(r) != "" {
		t.Errorf("identity style.css range: %d, Accept-Ranges %q, Vary %q, Content-Encoding %q",
			r.Status, r.Header.Get("Accept-Ranges"), varyOf(r), codingOf(r))
	}
	r = rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "deflate", "Range", "bytes=10-109")
	if r.Status != 206 || !bytes.Equal(r.Body, css[10:110]) || codingOf(r) != "" {
		t.Errorf("style.css range with only deflate accepted: %d, Content-Encoding %q", r.Status, codingOf(r))
	}
}

// ---------------------------------------------------------------------------
// 6. On the fly

// TestCompressOnTheFly: a text file is compressed in each coding and
// decodes to the file exactly (raw socket, net/http, pipelined); files
// outside the size limits and types that do not compress go as they are,
// with Vary only when the type is compressible.
func TestCompressOnTheFly(t *testing.T) {
	root := t.TempDir()
	css := cssText(16, 64*1024)
	putSettled(t, root, "style.css", css)
	js, side := putAppJS(t, root, 17, 20*1024)
	small := []byte("body { color: red; }\n/* smaller than --compress-min */\n")
	putFile(t, root, "small.css", small)
	png := append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(t, 20000)...)
	putFile(t, root, "image.png", png)
	bin := bytes.Repeat([]byte("compressible but octet-stream "), 1000)
	putFile(t, root, "data.bin", bin)
	noise := randomBytes(t, 8000) // text/plain that no coding makes smaller
	putFile(t, root, "noise.txt", noise)
	s := startServer(t, serverOptions{Root: root})

	id := rawDo(t, s.Addr, "GET", "/style.css")
	checkForm(t, "style.css identity", id, "", true, css)
	for _, c := range compressCodings {
		what := "GET /style.css " + c
		r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", c)
		checkForm(t, what, r, c, true, css)
		if et := r.Header.Get("ETag"); et != flyETag(id.Header.Get("ETag"), c) {
			t.Errorf("%s: ETag %q, want %q", what, et, flyETag(id.Header.Get("ETag"), c))
		}
		if r.Header.Get("Content-Type") != id.Header.Get("Content-Type") || r.Header.Get("Last-Modified") != id.Header.Get("Last-Modified") {
			t.Errorf("%s: Content-Type %q, Last-Modified %q; want the file's %q, %q", what,
				r.Header.Get("Content-Type"), r.Header.Get("Last-Modified"), id.Header.Get("Content-Type"), id.Header.Get("Last-Modified"))
		}
		if r.Header.Get("Accept-Ranges") != "" {
			t.Errorf("%s: Accept-Ranges %q", what, r.Header.Get("Accept-Ranges"))
		}
		compareHead(t, what, r, headNoBody(t, s.Addr, "/style.css", "Accept-Encoding", c))
	}

	// net/http with a plain Accept-Encoding: gzip, decoded by the test.
	c := newClient(t)
	resp, body := doRequest(t, c, "GET", s.URL("/style.css"), nil, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != int64(len(body)) ||
		resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("net/http gzip: %d, Content-Encoding %q, Content-Length %d for %d bytes, Vary %q",
			resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.ContentLength, len(body), resp.Header.Get("Vary"))
	}
	checkDecodes(t, "net/http gzip", "gzip", body, css)
	// net/http asking for gzip itself and decoding it transparently.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, body = doRequest(t, &http.Client{Transport: tr, Timeout: 30 * time.Second}, "GET", s.URL("/style.css"), nil)
	if resp.StatusCode != 200 || !resp.Uncompressed || !bytes.Equal(body, css) {
		t.Errorf("net/http with its own gzip: %d, decoded by the transport: %v, body is the file: %v",
			resp.StatusCode, resp.Uncompressed, bytes.Equal(body, css))
	}

	// Pipelined on one connection, sidecars and copies made on the fly in
	// several codings: each response in order, in its own form.
	type step struct{ path, ae, want string }
	steps := []step{
		{"/style.css", "br", "br"}, {"/app.js", "gzip", "gzip"}, {"/style.css", "zstd", "zstd"},
		{"/style.css", "-", ""}, {"/style.css", "gzip", "gzip"}, {"/app.js", "br", "br"},
		{"/app.js", "-", ""}, {"/style.css", "deflate", ""}, {"/style.css", "br;q=0.1, gzip", "gzip"},
	}
	conn := staticDial(t, s.Addr)
	var all strings.Builder
	for _, st := range steps {
		if st.ae == "-" {
			all.WriteString(rawRequest("GET", st.path))
		} else {
			all.WriteString(rawRequest("GET", st.path, "Accept-Encoding", st.ae))
		}
	}
	conn.Send(all.String())
	for i, st := range steps {
		r := conn.Read("GET")
		what := fmt.Sprintf("pipelined #%d GET %s %q", i, st.path, st.ae)
		if st.path == "/app.js" {
			checkForm(t, what, r, st.want, true, js)
			if st.want != "" && !bytes.Equal(r.Body, side[st.want]) {
				t.Errorf("%s: not the sidecar", what)
			}
		} else {
			checkForm(t, what, r, st.want, true, css)
		}
	}
	conn.Close()

	// Not compressed: too small (Vary: the type is compressible), a PNG
	// and an octet-stream (no Vary: no other form exists), and text that
	// no coding makes smaller (sent as it is, with Vary).
	for _, tc := range []struct {
		path string
		file []byte
		vary bool
	}{
		{"/small.css", small, true},
		{"/image.png", png, false},
		{"/data.bin", bin, false},
		{"/noise.txt", noise, true},
	} {
		for _, ae := range []string{"gzip", "br, zstd, gzip", "br"} {
			what := fmt.Sprintf("GET %s, Accept-Encoding %q", tc.path, ae)
			r := rawDo(t, s.Addr, "GET", tc.path, "Accept-Encoding", ae)
			checkForm(t, what, r, "", tc.vary, tc.file)
			if !strongETagRE.MatchString(r.Header.Get("ETag")) || r.Header.Get("Accept-Ranges") != "bytes" {
				t.Errorf("%s: ETag %q, Accept-Ranges %q", what, r.Header.Get("ETag"), r.Header.Get("Accept-Ranges"))
			}
		}
	}
	// A type that is not compressible has no other form: Accept-Encoding
	// is not looked at, so refusing identity still gets the file (RFC 9110
	// 12.5.3 lets the server ignore the field rather than answer 406), and
	// a sidecar beside it is not used.
	for _, ae := range []string{"identity;q=0, gzip", "identity;q=0", "*;q=0"} {
		what := fmt.Sprintf("GET /image.png, Accept-Encoding %q", ae)
		checkForm(t, what, rawDo(t, s.Addr, "GET", "/image.png", "Accept-Encoding", ae), "", false, png)
	}
	setMtime(t, putFile(t, root, "image.png.gz", encodeWith(t, "gzip", png)), time.Now().Add(time.Hour))
	checkForm(t, "GET /image.png gzip, with image.png.gz beside it", rawDo(t, s.Addr, "GET", "/image.png", "Accept-Encoding", "gzip"), "", false, png)
}

// TestCompressSizeLimits: --compress-min and --compress-max bound the files
// compressed on the fly, both ends included; a file past the maximum still
// goes as its sidecar (sent with sendfile, whatever its size).
func TestCompressSizeLimits(t *testing.T) {
	root := t.TempDir()
	const minSize, maxSize = 1000, 30000
	files := map[string][]byte{
		"below.txt": wordsText(20, minSize-1),
		"min.txt":   wordsText(21, minSize),
		"max.txt":   wordsText(22, maxSize),
		"above.txt": wordsText(23, maxSize+1),
	}
	for name, data := range files {
		putFile(t, root, name, data)
	}
	big := jsText(24, 300*1024)
	putSettled(t, root, "big.js", big)
	bigGz := encodeWith(t, "gzip", big)
	setMtime(t, putFile(t, root, "big.js.gz", bigGz), fixtureMtime.Add(time.Minute))
	s := startServer(t, serverOptions{Root: root, Args: []string{
		"--compress-min", strconv.Itoa(minSize), "--compress-max", strconv.Itoa(maxSize)}})

	for name, want := range map[string]string{"below.txt": "", "min.txt": "gzip", "max.txt": "gzip", "above.txt": ""} {
		r := rawDo(t, s.Addr, "GET", "/"+name, "Accept-Encoding", "gzip")
		checkForm(t, fmt.Sprintf("GET /%s (%d bytes) gzip", name, len(files[name])), r, want, true, files[name])
	}
	r := rawDo(t, s.Addr, "GET", "/big.js", "Accept-Encoding", "br, gzip")
	checkForm(t, "GET /big.js br, gzip (past --compress-max, with a .gz sidecar)", r, "gzip", true, big)
	if !bytes.Equal(r.Body, bigGz) {
		t.Errorf("GET /big.js: not the sidecar")
	}
	r = rawDo(t, s.Addr, "GET", "/big.js", "Accept-Encoding", "br")
	checkForm(t, "GET /big.js br (past --compress-max, no .br sidecar)", r, "", true, big)
}

// TestCompressCurl: curl --compressed chooses a coding and its output is
// the file exactly, for a copy made on the fly and for a sidecar.
func TestCompressCurl(t *testing.T) {
	curl := needTool(t, "curl", "curl")
	root := t.TempDir()
	css := cssText(30, 64*1024)
	putFile(t, root, "style.css", css)
	js, side := putAppJS(t, root, 31, 20*1024)
	s := startServer(t, serverOptions{Root: root})

	for _, tc := range []struct {
		path string
		file []byte
	}{{"/style.css", css}, {"/app.js", js}} {
		dir := t.TempDir()
		hdrs, out := filepath.Join(dir, "headers"), filepath.Join(dir, "out")
		cmd := exec.Command(curl, "-sS", "--fail", "--http1.1", "--max-time", "20", "--compressed",
			"-D", hdrs, "-o", out, s.URL(tc.path))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("curl --compressed %s: %v: %s", tc.path, err, b)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tc.file) {
			t.Errorf("curl --compressed %s: %d bytes that differ from the %d-byte file", tc.path, len(got), len(tc.file))
		}
		raw, err := os.ReadFile(hdrs)
		if err != nil {
			t.Fatal(err)
		}
		_, h, err := parseHead(raw)
		if err != nil {
			t.Fatalf("curl -D %s: %v: %q", tc.path, err, raw)
		}
		ce := h.Get("Content-Encoding")
		if _, known := sidecarSuffix[ce]; !known || h.Get("Vary") != "Accept-Encoding" {
			t.Errorf("curl --compressed %s: Content-Encoding %q, Vary %q; want a coding and Vary", tc.path, ce, h.Get("Vary"))
			continue
		}
		if tc.path == "/app.js" && h.Get("Content-Length") != strconv.Itoa(len(side[ce])) {
			t.Errorf("curl --compressed /app.js in %s: Content-Length %q, want the sidecar's %d", ce, h.Get("Content-Length"), len(side[ce]))
		}
	}
}

// ---------------------------------------------------------------------------
// 7. A changed file is never served stale

// TestCompressModifiedFile: a cached compressed copy is never sent for a
// file that changed since, whether rewritten at the same size, with its
// old mtime put back (rsync -t), at another size, or replaced by rename;
// the same for a small file served from the small-file cache.
func TestCompressModifiedFile(t *testing.T) {
	root := t.TempDir()
	const size = 64 * 1024
	css := cssText(40, size)
	p := putFile(t, root, "style.css", css)
	smallCSS := cssText(41, 8*1024) // small enough for the small-file cache
	sp := putFile(t, root, "small.css", smallCSS)
	settleWait()
	s := startServer(t, serverOptions{Root: root})

	// fetch asks for name in every coding and checks each decodes to want.
	fetch := func(what, name string, want []byte) map[string]string {
		t.Helper()
		tags := map[string]string{}
		for _, c := range compressCodings {
			r := rawDo(t, s.Addr, "GET", name, "Accept-Encoding", c)
			checkForm(t, what+" "+c, r, c, true, want)
			tags[c] = r.Header.Get("ETag")
		}
		return tags
	}
	// cached checks that the file's copies are in the cache: asking again
	// is a hit in every coding.
	cached := func(what, name string, want []byte) {
		t.Helper()
		before := compressionStats(t, s.Addr)
		fetch(what+" (again)", name, want)
		after := compressionStats(t, s.Addr)
		if after.Hits-before.Hits != 3 || after.Misses != before.Misses {
			t.Fatalf("%s: asking again in 3 codings gave %v hits and %v misses; want 3 hits (the file is settled)",
				what, after.Hits-before.Hits, after.Misses-before.Misses)
		}
	}

	for _, tc := range []struct {
		name, path string
		data       []byte
	}{{"/style.css", p, css}, {"/small.css", sp, smallCSS}} {
		old := fetch("settled "+tc.name, tc.name, tc.data)
		cached("settled "+tc.name, tc.name, tc.data)
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}

		// Same size, new bytes.
		v2 := cssText(42, len(tc.data))
		if err := os.WriteFile(tc.path, v2, 0o644); err != nil {
			t.Fatal(err)
		}
		tags := fetch(tc.name+" rewritten, same size", tc.name, v2)
		for _, c := range compressCodings {
			if tags[c] == old[c] {
				t.Errorf("%s rewritten: the %s ETag stayed %q", tc.name, c, tags[c])
			}
		}
		// Same size again with the old mtime put back: only ctime tells.
		v3 := cssText(43, len(tc.data))
		if err := os.WriteFile(tc.path, v3, 0o644); err != nil {
			t.Fatal(err)
		}
		setMtime(t, tc.path, st.ModTime())
		fetch(tc.name+" rewritten, same size, old mtime restored", tc.name, v3)
		// Another size.
		v4 := cssText(44, len(tc.data)-100)
		if err := os.WriteFile(tc.path, v4, 0o644); err != nil {
			t.Fatal(err)
		}
		fetch(tc.name+" rewritten, another size", tc.name, v4)
		// Replaced by rename, same size as the first version.
		v5 := cssText(45, len(tc.data))
		tmp := putFile(t, root, "tmp-"+strings.TrimPrefix(tc.name, "/"), v5)
		if err := os.Rename(tmp, tc.path); err != nil {
			t.Fatal(err)
		}
		fetch(tc.name+" replaced by rename", tc.name, v5)
		if r := rawDo(t, s.Addr, "GET", tc.name); !bytes.Equal(r.Body, v5) {
			t.Errorf("%s replaced by rename: the identity body is not the new file", tc.name)
		}
	}

	// Once the new versions settle they are cached in turn, and still right.
	v5css, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	settleWait()
	fetch("style.css settled again", "/style.css", v5css)
	cached("style.css settled again", "/style.css", v5css)
}

// ---------------------------------------------------------------------------
// 8. The cache

// TestCompressCacheBound: with a small --compress-cache, many settled
// files fill it: it stays within its bytes, evicts least recently used
// first, and every response is right; a settled file asked for twice is a
// miss then a hit; a fresh file is compressed every time and not kept.
func TestCompressCacheBound(t *testing.T) {
	root := t.TempDir()
	const maxBytes = 200000
	const n = 60
	files := make([][]byte, n)
	for i := range files {
		files[i] = wordsText(uint64(100+i), 16*1024+i*(16*1024/n))
		putFile(t, root, fmt.Sprintf("f%02d.txt", i), files[i])
	}
	hit := jsText(200, 24*1024)
	putFile(t, root, "hit.js", hit)
	settleWait()
	s := startServer(t, serverOptions{Root: root, Args: []string{"--compress-cache", strconv.Itoa(maxBytes)}})

	for i, data := range files {
		for _, c := range compressCodings {
			r := rawDo(t, s.Addr, "GET", fmt.Sprintf("/f%02d.txt", i), "Accept-Encoding", c)
			checkForm(t, fmt.Sprintf("GET /f%02d.txt %s", i, c), r, c, true, data)
		}
	}
	st := compressionStats(t, s.Addr)
	if st.MaxBytes != maxBytes || st.Bytes > st.MaxBytes || st.Bytes <= 0 || st.Evictions <= 0 || st.Entries <= 0 ||
		st.Misses != 3*n || st.Hits != 0 || st.Entries >= 3*n {
		t.Fatalf("after %d distinct copies: %+v; want bytes in (0, max_bytes=%d], evictions > 0, %d misses, no hits",
			3*n, st, maxBytes, 3*n)
	}

	// The first copy made was the least recently used: it is gone, and
	// asking for it compresses it again; the last one made is still there.
	r := rawDo(t, s.Addr, "GET", "/f00.txt", "Accept-Encoding", "br")
	checkForm(t, "GET /f00.txt br after evictions", r, "br", true, files[0])
	st2 := compressionStats(t, s.Addr)
	if st2.Misses != st.Misses+1 || st2.Hits != st.Hits {
		t.Errorf("the least recently used copy: %v misses, %v hits more; want it evicted (1 miss)", st2.Misses-st.Misses, st2.Hits-st.Hits)
	}
	r = rawDo(t, s.Addr, "GET", fmt.Sprintf("/f%02d.txt", n-1), "Accept-Encoding", "gzip")
	checkForm(t, "GET the last file gzip", r, "gzip", true, files[n-1])
	st3 := compressionStats(t, s.Addr)
	if st3.Hits != st2.Hits+1 || st3.Misses != st2.Misses {
		t.Errorf("the most recently made copy: %v hits, %v misses more; want a hit", st3.Hits-st2.Hits, st3.Misses-st2.Misses)
	}

	// A settled file twice: a miss, then a hit and no miss.
	r = rawDo(t, s.Addr, "GET", "/hit.js", "Accept-Encoding", "zstd")
	checkForm(t, "GET /hit.js zstd", r, "zstd", true, hit)
	a := compressionStats(t, s.Addr)
	if a.Misses != st3.Misses+1 || a.Hits != st3.Hits {
		t.Errorf("first GET /hit.js: %v misses, %v hits more; want 1 miss", a.Misses-st3.Misses, a.Hits-st3.Hits)
	}
	r2 := rawDo(t, s.Addr, "GET", "/hit.js", "Accept-Encoding", "zstd")
	checkForm(t, "GET /hit.js zstd again", r2, "zstd", true, hit)
	if !bytes.Equal(r.Body, r2.Body) || r.Header.Get("ETag") != r2.Header.Get("ETag") {
		t.Errorf("GET /hit.js twice: the cached copy differs from the first")
	}
	b := compressionStats(t, s.Addr)
	if b.Hits != a.Hits+1 || b.Misses != a.Misses {
		t.Errorf("second GET /hit.js: %v hits, %v misses more; want 1 hit, 0 misses", b.Hits-a.Hits, b.Misses-a.Misses)
	}

	// A file changed less than a second ago is compressed, sent, and not kept.
	fresh := jsText(201, 24*1024)
	putFile(t, root, "fresh.js", fresh)
	for i := 0; i < 2; i++ {
		r := rawDo(t, s.Addr, "GET", "/fresh.js", "Accept-Encoding", "gzip")
		checkForm(t, "GET /fresh.js gzip", r, "gzip", true, fresh)
	}
	c := compressionStats(t, s.Addr)
	if c.Misses != b.Misses+2 || c.Hits != b.Hits || c.Entries != b.Entries {
		t.Errorf("a fresh file twice: %v misses, %v hits, %v entries more; want 2 misses and nothing kept",
			c.Misses-b.Misses, c.Hits-b.Hits, c.Entries-b.Entries)
	}
	if c.Bytes > c.MaxBytes {
		t.Errorf("compression.bytes %v > max_bytes %v", c.Bytes, c.MaxBytes)
	}
}

// TestCompressCacheConcurrent: many clients at once ask for one settled
// file in three codings: each copy is made once (3 misses), every other
// request waits for it or finds it (hits), and every body is right.
func TestCompressCacheConcurrent(t *testing.T) {
	root := t.TempDir()
	css := cssText(50, 200*1024)
	putFile(t, root, "big.css", css)
	settleWait()
	s := startServer(t, serverOptions{Root: root})
	c := newClient(t)
	const goroutines, each = 24, 6
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				coding := compressCodings[(g+i)%3]
				resp, body, err := tryRequest(c, "GET", s.URL("/big.css"), nil, "Accept-Encoding", coding)
				if err != nil {
					errs <- err
					continue
				}
				if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != coding {
					errs <- fmt.Errorf("%s: %d, Content-Encoding %q", coding, resp.StatusCode, resp.Header.Get("Content-Encoding"))
					continue
				}
				got, err := decodeWith(coding, body)
				if err != nil || !bytes.Equal(got, css) {
					errs <- fmt.Errorf("%s: body does not decode to the file (%v)", coding, err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := compressionStats(t, s.Addr)
	if st.Misses != 3 || st.Hits != goroutines*each-3 || st.Entries != 3 {
		t.Errorf("%d concurrent requests for one file in 3 codings: %+v; want 3 misses, %d hits, 3 entries",
			goroutines*each, st, goroutines*each-3)
	}
}

// ---------------------------------------------------------------------------
// 9. Switched off, and classic mode

// TestCompressOff: with --compress off --precompressed off Accept-Encoding
// is not looked at (no coding, no Vary, no 406); each switch alone leaves
// the other form; a --compress list limits the codings made; classic mode
// never compresses.
func TestCompressOff(t *testing.T) {
	root := t.TempDir()
	js, side := putAppJS(t, root, 60, 20*1024)
	css := cssText(61, 64*1024)
	putSettled(t, root, "style.css", css)

	t.Run("both off", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: root, Args: []string{"--compress", "off", "--precompressed", "off"}})
		for _, name := range []string{"/app.js", "/style.css"} {
			file := map[string][]byte{"/app.js": js, "/style.css": css}[name]
			for _, ae := range []string{"gzip", "br", "zstd", "br, zstd, gzip", "identity;q=0", "identity;q=0, deflate", "*;q=0"} {
				what := fmt.Sprintf("GET %s, Accept-Encoding %q", name, ae)
				r := rawDo(t, s.Addr, "GET", name, "Accept-Encoding", ae)
				checkForm(t, what, r, "", false, file)
				if !strongETagRE.MatchString(r.Header.Get("ETag")) || r.Header.Get("Accept-Ranges") != "bytes" {
					t.Errorf("%s: ETag %q, Accept-Ranges %q", what, r.Header.Get("ETag"), r.Header.Get("Accept-Ranges"))
				}
			}
		}
		if st := compressionStats(t, s.Addr); st.Responses != 0 || st.SidecarResponses != 0 || st.NotAccepts != 0 || st.Misses != 0 {
			t.Errorf("/stats compression with both off: %+v", st)
		}
	})

	t.Run("compress off", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: root, Args: []string{"--compress", "off"}})
		checkForm(t, "style.css gzip, --compress off", rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "gzip"), "", true, css)
		r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip")
		checkForm(t, "app.js gzip, --compress off", r, "gzip", true, js)
		if !bytes.Equal(r.Body, side["gzip"]) {
			t.Errorf("app.js gzip, --compress off: not the sidecar")
		}
		if r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "identity;q=0, gzip"); r.Status != 406 || varyOf(r) != "Accept-Encoding" {
			t.Errorf("style.css, identity refused, --compress off, no sidecar: %d, Vary %q; want 406", r.Status, varyOf(r))
		}
	})

	t.Run("precompressed off", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: root, Args: []string{"--precompressed", "off"}})
		id := rawDo(t, s.Addr, "GET", "/app.js").Header.Get("ETag")
		for _, c := range compressCodings {
			r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", c)
			checkForm(t, "app.js "+c+", --precompressed off", r, c, true, js)
			if bytes.Equal(r.Body, side[c]) || r.Header.Get("ETag") != flyETag(id, c) {
				t.Errorf("app.js %s, --precompressed off: the sidecar was sent (ETag %q)", c, r.Header.Get("ETag"))
			}
		}
		if st := compressionStats(t, s.Addr); st.SidecarResponses != 0 || st.Responses != 3 {
			t.Errorf("/stats compression with --precompressed off: %+v; want 3 responses, no sidecar", st)
		}
	})

	t.Run("compress gzip only", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: root, Args: []string{"--compress", "gzip", "--precompressed", "off"}})
		checkForm(t, "br, zstd with --compress gzip", rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "br, zstd"), "", true, css)
		checkForm(t, "br, gzip;q=0.5 with --compress gzip", rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "br, gzip;q=0.5"), "gzip", true, css)
		if r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "br, identity;q=0"); r.Status != 406 {
			t.Errorf("br only, identity refused, --compress gzip: %d, want 406", r.Status)
		}
	})

	t.Run("classic", func(t *testing.T) {
		s := startServer(t, serverOptions{Root: root, Args: []string{"--compat", "classic"}})
		for _, tc := range []struct {
			path string
			file []byte
		}{{"/style.css", css}, {"/app.js", js}} {
			for _, ae := range []string{"gzip", "br, zstd, gzip", "identity;q=0"} {
				got := exchange(t, s.Addr, "GET "+tc.path+" HTTP/1.1\r\nAccept-Encoding: "+ae+"\r\n\r\n", false)
				if want := classicOK(string(tc.file)); string(got) != want {
					t.Errorf("classic GET %s, Accept-Encoding %q: %q, want the classic bytes of the file", tc.path, ae, clip(got))
				}
			}
		}
	})
}

// TestCompressFlags: the levels change the copies made (all still decode
// right); levels and coding lists out of range stop the start-up with the
// option named; --print-config shows the settings.
func TestCompressFlags(t *testing.T) {
	root := t.TempDir()
	css := cssText(70, 64*1024)
	putFile(t, root, "style.css", css)
	fast := startServer(t, serverOptions{Root: root, Args: []string{"--gzip-level", "1", "--zstd-level", "1", "--brotli-level", "0"}})
	best := startServer(t, serverOptions{Root: root, Args: []string{"--gzip-level", "9", "--zstd-level", "19", "--brotli-level", "11"}})
	for _, c := range compressCodings {
		a := rawDo(t, fast.Addr, "GET", "/style.css", "Accept-Encoding", c)
		b := rawDo(t, best.Addr, "GET", "/style.css", "Accept-Encoding", c)
		checkForm(t, c+" at the fastest level", a, c, true, css)
		checkForm(t, c+" at the best level", b, c, true, css)
		if len(b.Body) >= len(a.Body) {
			t.Errorf("%s: best level %d bytes, fastest %d; want the best level smaller", c, len(b.Body), len(a.Body))
		}
	}

	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--gzip-level", "0"}, "--gzip-level"},
		{[]string{"--gzip-level", "10"}, "--gzip-level"},
		{[]string{"--zstd-level", "23"}, "--zstd-level"},
		{[]string{"--brotli-level", "12"}, "--brotli-level"},
		{[]string{"--compress", "deflate"}, "--compress"},
		{[]string{"--precompressed", "gzip,gzip"}, "--precompressed"},
		{[]string{"--compress-min=-1"}, "--compress-min"},
		{[]string{"--compress-min", "2000", "--compress-max", "1000"}, "--compress-max"},
		{[]string{"--compress-cache=-5"}, "--compress-cache"},
	} {
		code, _, errOut := runBinary(t, append(tc.args, "--check-config")...)
		if code == 0 || !strings.Contains(errOut, tc.flag) {
			t.Errorf("%v: exit %d, %q; want a failure naming %s", tc.args, code, errOut, tc.flag)
		}
	}
	if code, _, errOut := runBinary(t, "--check-config", "--compress", "zstd, gzip", "--precompressed", "off", "--compress-cache", "0"); code != 0 {
		t.Errorf("a valid compression configuration: exit %d, %q", code, errOut)
	}
	code, out, errOut := runBinary(t, "--print-config", "--compress", "gzip", "--brotli-level", "9", "--precompressed", "off")
	if code != 0 || !strings.Contains(out, `compress           = "gzip"`) || !strings.Contains(out, "brotli_level       = 9") ||
		!strings.Contains(out, `precompressed      = "off"`) {
		t.Errorf("--print-config: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCompressZeroCache: --compress-cache 0 keeps nothing: every request
// compresses again and is still right.
func TestCompressZeroCache(t *testing.T) {
	root := t.TempDir()
	css := cssText(80, 32*1024)
	putFile(t, root, "style.css", css)
	settleWait()
	s := startServer(t, serverOptions{Root: root, Args: []string{"--compress-cache", "0"}})
	for i := 0; i < 3; i++ {
		checkForm(t, "style.css gzip, no cache", rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "gzip"), "gzip", true, css)
	}
	if st := compressionStats(t, s.Addr); st.Misses != 3 || st.Hits != 0 || st.Entries != 0 || st.Bytes != 0 || st.MaxBytes != 0 {
		t.Errorf("--compress-cache 0 after 3 requests: %+v; want 3 misses and nothing kept", st)
	}
}

// ---------------------------------------------------------------------------
// 10. /stats and /metrics

// TestCompressMetrics: the figures of /stats count the responses and the
// bytes saved exactly (file size minus body size, for each GET that sent
// a compressed body), and /metrics shows the same.
func TestCompressMetrics(t *testing.T) {
	root := t.TempDir()
	js, side := putAppJS(t, root, 90, 20*1024)
	css := cssText(91, 64*1024)
	putFile(t, root, "style.css", css)
	settleWait()
	s := startServer(t, serverOptions{Root: root})

	saved := 0
	r := rawDo(t, s.Addr, "GET", "/app.js", "Accept-Encoding", "gzip")
	checkForm(t, "app.js gzip", r, "gzip", true, js)
	saved += len(js) - len(side["gzip"])
	r = rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "br")
	checkForm(t, "style.css br", r, "br", true, css)
	saved += len(css) - len(r.Body)
	brTag := r.Header.Get("ETag")
	r = rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "br")
	saved += len(css) - len(r.Body)
	headNoBody(t, s.Addr, "/style.css", "Accept-Encoding", "gzip") // HEAD sends no body: nothing saved
	rawDo(t, s.Addr, "GET", "/style.css")                          // identity: nothing saved

	st := compressionStats(t, s.Addr)
	if st.BytesSaved != float64(saved) || saved <= 0 {
		t.Errorf("compression.bytes_saved = %v, want %d", st.BytesSaved, saved)
	}
	if st.SidecarResponses != 1 || st.Responses < 2 || st.Hits < 1 || st.Bytes <= 0 {
		t.Errorf("compression after 1 sidecar and 2 GETs made on the fly: %+v", st)
	}

	fams := scrapeMetrics(t, s.URL("/metrics"))
	for name, want := range map[string]float64{
		"http_server_compressed_responses_total":    st.Responses,
		"http_server_precompressed_responses_total": st.SidecarResponses,
		"http_server_compress_bytes_saved_total":    float64(saved),
		"http_server_compress_cache_hits_total":     st.Hits,
		"http_server_compress_cache_misses_total":   st.Misses,
		"http_server_compress_cache_bytes":          st.Bytes,
	} {
		if got := metricSeries(t, fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metricSeries(t, fams, "http_server_compressed_responses_total"); got <= 0 {
		t.Errorf("http_server_compressed_responses_total = %v after compressed responses", got)
	}
	if got := metricSeries(t, fams, "http_server_compress_bytes_saved_total"); got <= 0 {
		t.Errorf("http_server_compress_bytes_saved_total = %v after compressed responses", got)
	}

	// A 304 sends no body, like a HEAD: no bytes are saved by compression.
	if r := rawDo(t, s.Addr, "GET", "/style.css", "Accept-Encoding", "br", "If-None-Match", brTag); r.Status != 304 {
		t.Fatalf("conditional GET: %d, want 304", r.Status)
	}
	if after := compressionStats(t, s.Addr); after.BytesSaved != st.BytesSaved {
		t.Errorf("a 304 in br added %v to compression.bytes_saved (no body was sent)", after.BytesSaved-st.BytesSaved)
	}
}
