package e2e

// The small-file cache (--file-cache): a settled small file is served from
// memory with the same bytes, headers, ranges and validators as from the
// disk, and a change to it is seen on the next request.

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func fileCacheNumber(t testing.TB, addr, key string) float64 {
	t.Helper()
	return statsObjectNumber(t, jsonStats(t, addr), "file_cache", key)
}

func TestFileCacheServesAndSeesChanges(t *testing.T) {
	root := t.TempDir()
	data := make([]byte, 6000)
	rand.Read(data)
	name := filepath.Join(root, "small.bin")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a file changed within the last second is not kept
	s := startServer(t, serverOptions{Root: root})

	first := rawDo(t, s.Addr, "GET", "/small.bin")
	second := rawDo(t, s.Addr, "GET", "/small.bin")
	if first.Status != 200 || !bytes.Equal(first.Body, data) || second.Status != 200 || !bytes.Equal(second.Body, data) {
		t.Fatalf("GET twice: %d and %d, bodies equal to the file: %v, %v", first.Status, second.Status,
			bytes.Equal(first.Body, data), bytes.Equal(second.Body, data))
	}
	if hits := fileCacheNumber(t, s.Addr, "hits"); hits < 1 {
		t.Fatalf("file_cache hits = %v after two GETs of a settled 6000-byte file", hits)
	}
	for _, h := range []string{"Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"} {
		if first.Header.Get(h) != second.Header.Get(h) {
			t.Errorf("%s from the disk %q, from memory %q", h, first.Header.Get(h), second.Header.Get(h))
		}
	}

	// HEAD, a range and a conditional GET from memory.
	head := rawDo(t, s.Addr, "HEAD", "/small.bin")
	if head.Status != 200 || len(head.Body) != 0 || head.Header.Get("Content-Length") != "6000" {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %q", head.Status, len(head.Body), head.Header.Get("Content-Length"))
	}
	checkRange(t, "cached range", rawDo(t, s.Addr, "GET", "/small.bin", "Range", "bytes=100-4099"), data, 206, 100, 4099)
	if r := rawDo(t, s.Addr, "GET", "/small.bin", "If-None-Match", second.Header.Get("ETag")); r.Status != 304 {
		t.Errorf("If-None-Match with the cached ETag: %d, want 304", r.Status)
	}

	// Rewritten in place, same size: the next GET has the new bytes and a new ETag.
	changed := make([]byte, len(data))
	rand.Read(changed)
	if err := os.WriteFile(name, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	r := rawDo(t, s.Addr, "GET", "/small.bin")
	if !bytes.Equal(r.Body, changed) {
		t.Fatalf("after the file changed, GET returned the old bytes")
	}
	if r.Header.Get("ETag") == second.Header.Get("ETag") {
		t.Errorf("after the file changed, the ETag stayed %q", r.Header.Get("ETag"))
	}
	os.Remove(name)
	if r := rawDo(t, s.Addr, "GET", "/small.bin"); r.Status != 404 {
		t.Errorf("after the file was removed: %d, want 404", r.Status)
	}

	// --file-cache 0 turns it off.
	off := startServer(t, serverOptions{Root: root, Args: []string{"--file-cache", "0"}})
	os.WriteFile(filepath.Join(root, "b.txt"), []byte("b"), 0o644)
	rawDo(t, off.Addr, "GET", "/b.txt")
	rawDo(t, off.Addr, "GET", "/b.txt")
	if hits := fileCacheNumber(t, off.Addr, "hits"); hits != 0 {
		t.Errorf("--file-cache 0: %v hits", hits)
	}
}
