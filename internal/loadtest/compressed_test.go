package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// gzipped is b compressed with gzip at level, as the server does.
func gzipped(b []byte, level int) []byte {
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		panic(err)
	}
	_, _ = w.Write(b) // a bytes.Buffer does not fail
	_ = w.Close()
	return out.Bytes()
}

// encoded is every file of the scenario in gzip -6 and zstd -3, made once:
// under the race detector, compressing them takes seconds.
var encoded = sync.OnceValue(func() (e struct{ gz, zs [][]byte }) {
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(3)))
	if err != nil {
		panic(err)
	}
	defer z.Close()
	for _, f := range compressedFiles() {
		e.gz = append(e.gz, gzipped(f, 6))
		e.zs = append(e.zs, z.EncodeAll(f, nil))
	}
	return e
})

// The cost of checking one response of the compressed scenario: decoding
// its body, in each coding (see DefaultDecodeEvery).
func BenchmarkDecode(b *testing.B) {
	file := compressedFiles()[0]
	d := newDecoders()
	defer d.close()
	for _, c := range []struct {
		coding string
		body   []byte
	}{{"gzip", encoded().gz[0]}, {"zstd", encoded().zs[0]}} {
		b.Run(c.coding, func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			var dst []byte
			for b.Loop() {
				var err error
				if dst, err = d.decode(c.coding, c.body, dst); err != nil || !bytes.Equal(dst, file) {
					b.Fatal(err)
				}
			}
		})
	}
}

// The files are the same on every call, exactly CompressedFileSize, each
// its own, of the type its name says, and compress like text: between 3x
// and 8x with gzip level 6 (the server's default), neither random bytes
// nor one byte repeated.
func TestCompressedContent(t *testing.T) {
	starts := map[string]string{"css": "/* generated", "js": "\"use strict\"", "json": "[\n", "html": "<!DOCTYPE html>", "svg": "<svg "}
	seen := map[string]bool{}
	exts := map[string]int{}
	for i := range CompressedFilesCount {
		b := CompressedContent(i)
		if len(b) != CompressedFileSize {
			t.Fatalf("file %d: %d bytes, want %d", i, len(b), CompressedFileSize)
		}
		if !bytes.Equal(b, compressedFiles()[i]) {
			t.Fatalf("file %d differs between calls", i)
		}
		if seen[string(b)] {
			t.Errorf("file %d is the same as another", i)
		}
		seen[string(b)] = true
		path := CompressedPath(i)
		ext := path[strings.LastIndexByte(path, '.')+1:]
		exts[ext]++
		if !bytes.HasPrefix(b, []byte(starts[ext])) {
			t.Errorf("%s starts %q", path, b[:20])
		}
		gz, zs := len(encoded().gz[i]), len(encoded().zs[i])
		ratio := float64(len(b)) / float64(gz)
		if ratio < 3 || ratio > 8 {
			t.Errorf("%s: gzip -6 ratio %.2f, want 3-8", path, ratio)
		}
		if zr := float64(len(b)) / float64(zs); zr < 3 || zr > 8 {
			t.Errorf("%s: zstd -3 ratio %.2f, want 3-8", path, zr)
		}
	}
	if exts["css"] != 24 || exts["js"] != 2 || exts["json"] != 2 || exts["html"] != 2 || exts["svg"] != 2 {
		t.Errorf("types %v", exts)
	}
	if p := CompressedPath(3); p != "/compressed/03.css" {
		t.Errorf("path %q", p)
	}
}

// The fixtures are written once; a file of the right size but other bytes
// (an older generator) is rewritten, as is one of the wrong size.
func TestCompressedFixtures(t *testing.T) {
	dir := t.TempDir()
	if err := MakeFixtures(dir, FixtureCompressed); err != nil {
		t.Fatal(err)
	}
	path := func(i int) string { return filepath.Join(dir, filepath.FromSlash(CompressedPath(i)[1:])) }
	for i := range CompressedFilesCount {
		b, err := os.ReadFile(path(i))
		if err != nil || !bytes.Equal(b, CompressedContent(i)) {
			t.Fatalf("%s: %v, %d bytes, not the content", path(i), err, len(b))
		}
	}
	old := time.Now().Add(-time.Hour)
	for i := range 3 {
		if err := os.Chtimes(path(i), old, old); err != nil {
			t.Fatal(err)
		}
	}
	stale := bytes.Repeat([]byte("x"), CompressedFileSize)
	if err := os.WriteFile(path(1), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path(2), []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(path(1), old, old)
	if err := MakeFixtures(dir, FixtureCompressed); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b, _ := os.ReadFile(path(i))
		fi, _ := os.Stat(path(i))
		if !bytes.Equal(b, CompressedContent(i)) {
			t.Errorf("%s not restored", path(i))
		}
		if kept := fi.ModTime().Equal(old); kept != (i == 0) {
			t.Errorf("%s: kept %v, want %v", path(i), kept, i == 0)
		}
	}
}

func TestParseAcceptEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"gzip, zstd": "gzip,zstd", "zstd": "zstd", "GZIP;q=0.5 , zstd": "gzip,zstd", "gzip, zstd;q=0": "gzip", "gzip,,gzip": "gzip",
	} {
		got, err := parseAcceptEncoding(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "br", "gzip, br", "identity", "*", "zstd;q=0", "gzip\r\nX-Evil: 1"} {
		if _, err := parseAcceptEncoding(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The scenario's requests carry the Accept-Encoding of its Params.
func TestCompressedScenario(t *testing.T) {
	s, err := NewScenario("compressed", "h")
	if err != nil {
		t.Fatal(err)
	}
	if s.Fixtures != FixtureCompressed || s.Compress == nil || len(s.Items) != 1 || len(s.Items[0].Requests) != CompressedFilesCount {
		t.Fatalf("%+v", s)
	}
	for i, raw := range s.Items[0].Requests {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if req.URL.Path != CompressedPath(i) || req.Header.Get("Accept-Encoding") != DefaultAcceptEncoding || s.Compress.Paths[i] != req.URL.Path {
			t.Errorf("request %d: %s %q", i, req.URL.Path, req.Header.Get("Accept-Encoding"))
		}
	}
	s, err = NewScenarioWith("compressed", "h", Params{AcceptEncoding: "gzip;q=1"})
	if err != nil || !bytes.Contains(s.Items[0].Requests[0], []byte("\r\nAccept-Encoding: gzip;q=1\r\n")) || !slices.Equal(s.Compress.Codings, []string{"gzip"}) {
		t.Errorf("gzip only: %v %q", err, s.Items[0].Requests[0])
	}
	if _, err := NewScenarioWith("compressed", "h", Params{AcceptEncoding: "br"}); err == nil {
		t.Error("br accepted: the check cannot decode it")
	}
}

// response is an HTTP/1.1 response of http_server's shape.
func response(status int, extra string, body []byte) string {
	return fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/css; charset=utf-8\r\nContent-Length: %d\r\n%s\r\n",
		status, http.StatusText(status), len(body), extra) + string(body)
}

// checkResponse feeds raw to a reader that keeps the body, in pieces as a
// connection delivers them, and checks it as the response to request k.
func checkResponse(t *testing.T, c *CompressCheck, d *decoders, raw string, k int, decode bool) error {
	t.Helper()
	rr := respReader{keep: decode}
	buf := []byte(raw)
	for len(buf) > 0 {
		piece := buf[:min(len(buf), 1000)]
		n, done, err := rr.feed(piece)
		if err != nil {
			t.Fatal(err)
		}
		buf = buf[n:]
		if done {
			break
		}
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left", len(buf))
	}
	var scratch []byte
	return c.check(&rr, k, decode, d, &scratch)
}

func TestCompressCheck(t *testing.T) {
	s, err := NewScenario("compressed", "h")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Compress
	d := newDecoders()
	defer d.close()
	file := CompressedContent(5)
	gz, zs := encoded().gz[5], encoded().zs[5]
	corrupt := slices.Clone(gz)
	corrupt[len(corrupt)/2] ^= 0x55
	vary := "Vary: Accept-Encoding\r\n"
	for _, tc := range []struct {
		name, raw string
		decode    bool
		want      error // nil: passes
	}{
		{"gzip", response(200, "Content-Encoding: gzip\r\n"+vary, gz), true, nil},
		{"zstd", response(200, "content-encoding: ZSTD\r\nVary: Origin, accept-encoding\r\n", zs), true, nil},
		{"vary on two lines", response(200, "Vary: Origin\r\nContent-Encoding: zstd\r\n"+vary, zs), true, nil},
		{"identity", response(200, vary, file), true, errNotCompressed},
		{"identity named", response(200, "Content-Encoding: identity\r\n"+vary, file), true, errNotCompressed},
		{"br", response(200, "Content-Encoding: br\r\n"+vary, gz), true, errCoding},
		{"no vary", response(200, "Content-Encoding: gzip\r\nVary: Origin\r\n", gz), true, errNoVary},
		{"corrupt gzip", response(200, "Content-Encoding: gzip\r\n"+vary, corrupt), true, errDecode},
		{"truncated gzip", response(200, "Content-Encoding: gzip\r\n"+vary, gz[:len(gz)-20]), true, errDecode},
		{"zstd labelled gzip", response(200, "Content-Encoding: gzip\r\n"+vary, zs), true, errDecode},
		{"corrupt zstd", response(200, "Content-Encoding: zstd\r\n"+vary, zs[:len(zs)/2]), true, errDecode},
		{"another file", response(200, "Content-Encoding: gzip\r\n"+vary, encoded().gz[6]), true, errWrongBody},
		// Not in the decoding sample: only the headers are checked.
		{"corrupt, not decoded", response(200, "Content-Encoding: gzip\r\n"+vary, corrupt), false, nil},
		{"identity, not decoded", response(200, vary, file), false, errNotCompressed},
	} {
		err := checkResponse(t, c, d, tc.raw, 5, tc.decode)
		if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "/compressed/05.css: ") {
			t.Errorf("%s: %q does not name the file", tc.name, err)
		}
	}
	// Asked for gzip only, a zstd answer fails.
	gzOnly := *c
	gzOnly.Codings = []string{"gzip"}
	if err := checkResponse(t, &gzOnly, d, response(200, "Content-Encoding: zstd\r\n"+vary, zs), 5, true); !errors.Is(err, errCoding) {
		t.Errorf("zstd not asked for: %v", err)
	}
	if err := checkResponse(t, c, d, response(200, vary, file), 5, false); !strings.Contains(err.Error(), "did not compress") {
		t.Errorf("identity: %q does not say the server did not compress", err)
	}
}

// A run of the compressed scenario against a fake server: compressed
// answers pass, and count the files' bytes; identity ones and bodies that
// are not the file fail the check, every one of them, with the reason.
func TestRunCompressed(t *testing.T) {
	d := newDecoders()
	defer d.close()
	gz, zs := encoded().gz, encoded().zs
	index := map[string]int{}
	for i := range CompressedFilesCount {
		index[CompressedPath(i)] = i
	}
	var mode atomic.Value
	s := startFakeWith(t, 0, func(r *http.Request) (int, string, []byte) {
		i, ok := index[r.URL.Path]
		if !ok {
			return 404, "", []byte("not found")
		}
		switch mode.Load() {
		case "identity":
			return 200, "Vary: Accept-Encoding\r\n", CompressedContent(i)
		case "wrong":
			return 200, "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n", gz[(i+1)%len(gz)]
		}
		if r.Header.Get("Accept-Encoding") != DefaultAcceptEncoding {
			return 400, "", nil
		}
		if i%2 == 0 {
			return 200, "Content-Encoding: zstd\r\nVary: Accept-Encoding\r\n", zs[i]
		}
		return 200, "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n", gz[i]
	})
	addr := s.ln.Addr().String()
	run := func(m string, every int) *Result {
		t.Helper()
		mode.Store(m)
		sc, err := NewScenario("compressed", addr)
		if err != nil {
			t.Fatal(err)
		}
		sc.Compress.DecodeEvery = every
		res, err := Run(context.Background(), Options{Addr: addr, Scenario: sc, Connections: 2, Pipeline: 2, Requests: 200})
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests != 200 || res.Non2xx != 0 || res.FileBytes != 200*CompressedFileSize {
			t.Errorf("%s: requests %d, non-2xx %d, file bytes %d", m, res.Requests, res.Non2xx, res.FileBytes)
		}
		return res
	}
	res := run("compressed", 1)
	if res.Errors.Total() != 0 || res.CheckError != "" {
		t.Errorf("compressed: errors %+v: %s", res.Errors, res.CheckError)
	}
	// The bytes received are those on the wire: about 5x fewer than the files'.
	if ratio := float64(res.FileBytes) / float64(res.Bytes); ratio < 3 || ratio > 8 {
		t.Errorf("files/wire %.2f (bytes %d)", ratio, res.Bytes)
	}
	res = run("identity", DefaultDecodeEvery)
	if res.Errors.Check != 200 || res.Errors.Total() != 200 || !strings.Contains(res.CheckError, "did not compress") {
		t.Errorf("identity: errors %+v, %q", res.Errors, res.CheckError)
	}
	if ratio := float64(res.FileBytes) / float64(res.Bytes); ratio > 1 {
		t.Errorf("identity: files/wire %.2f", ratio)
	}
	// Every body decoded: every one is caught.
	res = run("wrong", 1)
	if res.Errors.Check != 200 || !strings.Contains(res.CheckError, "does not decode to the file") {
		t.Errorf("wrong files: errors %+v, %q", res.Errors, res.CheckError)
	}
	// Decoding one in 16 of about 100 per connection catches about 14.
	res = run("wrong", 16)
	if res.Errors.Check < 4 || res.Errors.Check > 30 {
		t.Errorf("wrong files, sampled: %d check errors, want about 200/16", res.Errors.Check)
	}
}
