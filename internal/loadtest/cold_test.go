package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inMemoryFS reports whether dir is on a file system whose pages cannot be
// evicted (tmpfs, ramfs): there the tests check only that eviction is
// harmless.
func inMemoryFS(t *testing.T, dir string) bool {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// EvictFile succeeds on a freshly written (dirty) file, which stays
// readable and unchanged; on a disk its pages are gone afterwards, and
// reading it brings them back.
func TestEvictFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	data := make([]byte, 1<<20)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, total, err := ResidentPages(path); err != nil || total != (1<<20)/os.Getpagesize() || res == 0 {
		t.Fatalf("before: %d of %d pages resident, %v", res, total, err)
	}
	if err := EvictFile(path); err != nil {
		t.Fatal(err)
	}
	res, total, err := ResidentPages(path)
	if err != nil {
		t.Fatal(err)
	}
	if !inMemoryFS(t, dir) && res != 0 {
		t.Errorf("after eviction %d of %d pages resident", res, total)
	}
	back, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("file changed or unreadable after eviction: %v", err)
	}
	if res, _, _ := ResidentPages(path); res != total {
		t.Errorf("after reading it again %d of %d pages resident", res, total)
	}
	if err := EvictFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("evicting a missing file succeeded")
	}
}

// The cold fixtures are written once, random and distinct; ColdSet evicts
// them all (or says why it cannot), and names a missing one.
func TestColdFixturesAndColdSet(t *testing.T) {
	dir := t.TempDir()
	s, err := NewScenarioWith("cold-large", "h", Params{Downloads: 2, ColdFileSize: 1<<20 + 100})
	if err != nil {
		t.Fatal(err)
	}
	n, err := MakeColdFixtures(dir, s)
	if err != nil || n != 2*s.ColdSize {
		t.Fatalf("wrote %d bytes, %v", n, err)
	}
	var contents [][]byte
	for _, rel := range s.Cold {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || int64(len(b)) != s.ColdSize {
			t.Fatalf("%s: %d bytes, %v", rel, len(b), err)
		}
		if bytes.Count(b, []byte{0}) > len(b)/100 {
			t.Errorf("%s: not random (%d zero bytes)", rel, bytes.Count(b, []byte{0}))
		}
		contents = append(contents, b)
	}
	if bytes.Equal(contents[0][:4096], contents[1][:4096]) {
		t.Error("the two files start alike")
	}
	if n, err := MakeColdFixtures(dir, s); err != nil || n != 0 {
		t.Errorf("second call wrote %d bytes, %v", n, err)
	}

	c := NewColdSet(s, dir)
	err = c.EvictAll()
	if inMemoryFS(t, dir) {
		if err == nil || !strings.Contains(err.Error(), "not tmpfs") {
			t.Errorf("on tmpfs: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range s.Cold {
		if res, total, err := ResidentPages(filepath.Join(dir, rel)); err != nil || res != 0 {
			t.Errorf("%s: %d of %d pages resident after EvictAll, %v", rel, res, total, err)
		}
	}
	// evict drops the file of the request it is given, only that one.
	if _, err := os.ReadFile(filepath.Join(dir, s.Cold[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(filepath.Join(dir, s.Cold[1])); err != nil {
		t.Fatal(err)
	}
	c.evict(0, 1)
	r0, _, _ := ResidentPages(filepath.Join(dir, s.Cold[0]))
	r1, _, _ := ResidentPages(filepath.Join(dir, s.Cold[1]))
	if r0 == 0 || r1 != 0 || c.Failed() != 0 {
		t.Errorf("after evict(0, 1): %d and %d pages resident, %d failed", r0, r1, c.Failed())
	}

	if NewColdSet(&Scenario{Name: "ping"}, dir) != nil {
		t.Error("a cold set for a scenario with no cold files")
	}
	os.Remove(filepath.Join(dir, s.Cold[1]))
	if err := c.EvictAll(); err == nil || !strings.Contains(err.Error(), "cold fixture missing") {
		t.Errorf("missing file: %v", err)
	}
	c.evict(0, 1)
	if c.Failed() != 1 {
		t.Errorf("failed evictions %d, want 1", c.Failed())
	}
}

// Run refuses a cold scenario without the fixtures directory, and more
// connections than cold-large has files.
func TestRunChecksColdOptions(t *testing.T) {
	s, _ := NewScenarioWith("cold-large", "127.0.0.1:1", Params{Downloads: 2, ColdFileSize: 1 << 20})
	_, err := Run(context.Background(), Options{Addr: "127.0.0.1:1", Scenario: s, Connections: 3, Duration: time.Second, Root: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "one per connection") {
		t.Errorf("3 connections for 2 files: %v", err)
	}
	// One download at a time per connection: pipelining is turned off.
	res, err := Run(context.Background(), Options{Addr: "127.0.0.1:1", Scenario: &Scenario{Name: "one", PerConnection: true,
		Items: []Item{{Name: "one", Weight: 1, Requests: [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n")}}}},
		Connections: 1, Pipeline: 4, Duration: 50 * time.Millisecond, Timeout: 50 * time.Millisecond})
	if err != nil || res.Pipeline != 1 {
		t.Errorf("pipeline %d, %v", res.Pipeline, err)
	}
	s, _ = NewScenario("cold-files", "127.0.0.1:1")
	_, err = Run(context.Background(), Options{Addr: "127.0.0.1:1", Scenario: s, Connections: 1, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "--fixtures") {
		t.Errorf("no root: %v", err)
	}
}

// Against the real server, eviction after each response (EvictEach, as
// cold-large does): a small cold set of 50 files, 300 requests at random
// over 4 connections. Without eviction nearly every file would be cached at
// the end; with it, only those whose response was cut by the end of the run
// can be.
func TestRunKeepsFilesCold(t *testing.T) {
	dir, srv := startColdServer(t)
	const files, conns = 50, 4
	s := &Scenario{Name: "cold-test", ColdSize: ColdBlockSize, EvictEach: true}
	var reqs [][]byte
	for i := 0; i < files; i++ {
		rel := fmt.Sprintf("cold-test/f%02d.bin", i)
		s.Cold = append(s.Cold, rel)
		reqs = append(reqs, []byte("GET /"+rel+" HTTP/1.1\r\nHost: "+srv.Addr+"\r\n\r\n"))
	}
	s.Items = []Item{{Name: "cold-test", Weight: 1, Requests: reqs}}
	if _, err := MakeColdFixtures(dir, s); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Addr: srv.Addr, Scenario: s, Connections: conns, Requests: 300, Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 300 || res.Non2xx != 0 || res.Errors.Total() != 0 || res.EvictFailed != 0 {
		t.Fatalf("%d requests, %d non-2xx, errors %+v, %d evictions failed", res.Requests, res.Non2xx, res.Errors, res.EvictFailed)
	}
	if min := 300 * int64(ColdBlockSize); res.Bytes < min {
		t.Errorf("%d bytes received for 300 files of 8 KiB", res.Bytes)
	}
	cached := 0
	for _, rel := range s.Cold {
		if r, _, err := ResidentPages(filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		} else if r > 0 {
			cached++
		}
	}
	if cached > conns {
		t.Errorf("%d of %d files cached after the run; at most %d (cut by its end) should be", cached, files, conns)
	}
}

// Against the real server, cold-files on a set of 16 MiB: the file is
// evicted before the run, every range comes back as a 206 of 8 KiB, and
// nothing is evicted during the run, so the blocks read stay cached, and
// only about those: the rest of the set stays cold.
func TestRunColdRanges(t *testing.T) {
	dir, srv := startColdServer(t)
	const size = 16 << 20
	s, err := NewScenarioWith("cold-files", srv.Addr, Params{ColdSetSize: size})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := MakeColdFixtures(dir, s); err != nil || n != size {
		t.Fatalf("wrote %d bytes, %v", n, err)
	}
	path := filepath.Join(dir, s.Cold[0])
	if b, err := os.ReadFile(path); err != nil || bytes.Count(b, []byte{0}) > len(b)/100 {
		t.Fatalf("the set is not random data: %v", err) // and it is all in the cache now
	}
	const n = 200
	res, err := Run(context.Background(), Options{Addr: srv.Addr, Scenario: s, Connections: 4, Requests: n, Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != n || res.Non2xx != 0 || res.Errors.Total() != 0 || res.EvictFailed != 0 {
		t.Fatalf("%d requests, %d non-2xx, errors %+v, %d evictions failed", res.Requests, res.Non2xx, res.Errors, res.EvictFailed)
	}
	if res.Bytes < n*ColdBlockSize || res.Bytes > n*(ColdBlockSize+1024) {
		t.Errorf("%d bytes received for %d ranges of 8 KiB", res.Bytes, n)
	}
	resident, total, err := ResidentPages(path)
	if err != nil {
		t.Fatal(err)
	}
	// Evicted before the run, then at most the blocks read (and a little
	// read-ahead around them): well under half the set.
	if resident == 0 || resident > total/2 {
		t.Errorf("%d of %d pages resident after %d ranges", resident, total, n)
	}
}

// startColdServer starts the built server on a temporary root on a disk;
// the test is skipped where the root would be in memory (nothing to evict).
func startColdServer(t *testing.T) (string, *Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the server")
	}
	dir := t.TempDir()
	if inMemoryFS(t, dir) {
		t.Skip("the temporary directory is in memory: nothing to evict")
	}
	srv, err := StartServer(ServerConfig{Binary: serverBinary(t), Root: dir, Workers: 2, Queue: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(5 * time.Second) })
	return dir, srv
}
