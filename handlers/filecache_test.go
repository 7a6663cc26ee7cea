package handlers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cachedRoot is a document root with the small-file cache on and no
// settling delay, so files written by the test are kept at once.
func cachedRoot(t *testing.T, budget int64) (string, *Files) {
	t.Helper()
	old := settleTime
	settleTime = 0
	t.Cleanup(func() { settleTime = old })
	root := t.TempDir()
	f, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	f.CacheSmallFiles(budget)
	return root, f
}

// openBytes asks for path and returns its bytes, from the cache or the file.
func openBytes(t *testing.T, f *Files, path string) ([]byte, bool) {
	t.Helper()
	o, status, _ := f.Open([]byte(path), Rules{})
	if status != 0 {
		t.Fatalf("Open(%s): status %d", path, status)
	}
	defer o.Release()
	if o.Data == nil {
		t.Fatalf("Open(%s): a small file came without its bytes", path)
	}
	return o.Data, o.Fd < 0
}

// A small file is served from memory after its first read, and every kind
// of change is seen at once: rewritten in place (ctime moves even when size
// and mtime are put back), replaced by rename, removed.
func TestFileCacheSeesChanges(t *testing.T) {
	root, f := cachedRoot(t, 1<<20)
	name := filepath.Join(root, "a.txt")
	if err := os.WriteFile(name, []byte("first version"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := openBytes(t, f, "/a.txt"); string(b) != "first version" {
		t.Fatalf("first read: %q", b)
	}
	if b, _ := openBytes(t, f, "/a.txt"); string(b) != "first version" {
		t.Fatalf("second read: %q", b)
	}
	if s := f.CacheStats(); s.Hits != 1 || s.Entries != 1 || s.Bytes != 13 {
		t.Fatalf("after two reads: %+v, want 1 hit, 1 entry of 13 bytes", s)
	}

	// Same size, mtime put back: only the change time tells.
	st, _ := os.Stat(name)
	if err := os.WriteFile(name, []byte("other version"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(name, st.ModTime(), st.ModTime())
	if b, _ := openBytes(t, f, "/a.txt"); string(b) != "other version" {
		t.Fatalf("after an in-place rewrite: %q, want the new bytes", b)
	}

	// Replaced by rename: another inode.
	tmp := filepath.Join(root, "a.tmp")
	os.WriteFile(tmp, []byte("third version"), 0o644)
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
	if b, _ := openBytes(t, f, "/a.txt"); string(b) != "third version" {
		t.Fatalf("after a rename over it: %q", b)
	}

	os.Remove(name)
	if _, status, _ := f.Open([]byte("/a.txt"), Rules{}); status != 404 {
		t.Fatalf("removed file: status %d, want 404", status)
	}
}

// A file changed within the settling time is served but not kept: its
// next change could leave its timestamps where they are.
func TestFileCacheSkipsFreshFiles(t *testing.T) {
	root, f := cachedRoot(t, 1<<20)
	settleTime = time.Hour // cachedRoot puts it back
	os.WriteFile(filepath.Join(root, "new.txt"), []byte("fresh"), 0o644)
	openBytes(t, f, "/new.txt")
	if s := f.CacheStats(); s.Entries != 0 {
		t.Fatalf("a file changed just now was kept: %+v", s)
	}
}

// A cached path turned into a symlink out of the root is not served from
// memory, and the kernel's containment then refuses it (404).
func TestFileCacheSymlinkSwap(t *testing.T) {
	root, f := cachedRoot(t, 1<<20)
	name := filepath.Join(root, "s.txt")
	os.WriteFile(name, []byte("inside"), 0o644)
	openBytes(t, f, "/s.txt")
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("outside"), 0o644)
	os.Remove(name)
	if err := os.Symlink(outside, name); err != nil {
		t.Fatal(err)
	}
	if o, status, _ := f.Open([]byte("/s.txt"), Rules{}); status != 404 {
		o.Release()
		t.Fatalf("a symlink out of the root: status %d with %q, want 404", status, o.Data)
	}
}

// Many distinct files never hold more than the budget; larger files are
// not kept at all, and are sent from their descriptor as before.
func TestFileCacheBudget(t *testing.T) {
	const budget = 40 << 10
	root, f := cachedRoot(t, budget)
	body := bytes.Repeat([]byte("x"), 4<<10)
	for i := 0; i < 50; i++ {
		os.WriteFile(filepath.Join(root, fmt.Sprintf("f%d", i)), body, 0o644)
		openBytes(t, f, fmt.Sprintf("/f%d", i))
		if s := f.CacheStats(); s.Bytes > budget {
			t.Fatalf("after %d files: %d bytes cached, over the %d budget", i+1, s.Bytes, budget)
		}
	}
	os.WriteFile(filepath.Join(root, "big"), bytes.Repeat([]byte("y"), 64<<10), 0o644)
	o, status, _ := f.Open([]byte("/big"), Rules{})
	if status != 0 || o.Fd < 0 || o.Data != nil {
		t.Fatalf("64 KiB file: status %d, fd %d, %d bytes in memory; want a descriptor", status, o.Fd, len(o.Data))
	}
	o.Release()
}
