package compress

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func key(i int) Key {
	return Key{Dev: 1, Ino: uint64(i), Size: 100, MtimeNs: 1e18, CtimeNs: 1e18, Coding: Gzip}
}

// builder makes data for a key and counts its calls.
type builder struct {
	calls atomic.Int64
	data  []byte
	keep  bool
	err   error
}

func (b *builder) build() ([]byte, bool, error) {
	b.calls.Add(1)
	return b.data, b.keep, b.err
}

// cached reports whether k is in c without adding it: a miss builds
// something that is not kept. It counts as a hit or miss in the stats.
func cached(c *Cache, k Key) bool {
	_, hit, _ := c.Get(k, func() ([]byte, bool, error) { return nil, false, nil })
	return hit
}

func mustGet(t *testing.T, c *Cache, k Key, b *builder) ([]byte, bool) {
	t.Helper()
	data, hit, err := c.Get(k, b.build)
	if err != nil {
		t.Fatalf("Get(%v): %v", k, err)
	}
	return data, hit
}

func TestCacheHitAfterKeptMiss(t *testing.T) {
	c := NewCache(1 << 20)
	b := &builder{data: []byte("compressed"), keep: true}
	data, hit := mustGet(t, c, key(1), b)
	if hit || !bytes.Equal(data, b.data) {
		t.Fatalf("first Get = %q, hit=%v; want %q, miss", data, hit, b.data)
	}
	for i := range 3 {
		data, hit = mustGet(t, c, key(1), b)
		if !hit || !bytes.Equal(data, b.data) {
			t.Fatalf("Get %d = %q, hit=%v; want %q, hit", i+2, data, hit, b.data)
		}
	}
	if n := b.calls.Load(); n != 1 {
		t.Fatalf("build ran %d times; want 1", n)
	}
	want := CacheStats{Hits: 3, Misses: 1, Entries: 1, Bytes: int64(len(b.data)) + entryCost, MaxBytes: 1 << 20}
	if s := c.Stats(); s != want {
		t.Fatalf("Stats() = %+v; want %+v", s, want)
	}
}

func TestCacheNotKept(t *testing.T) {
	c := NewCache(1 << 20)
	b := &builder{data: []byte("served once"), keep: false}
	for i := range 3 {
		data, hit := mustGet(t, c, key(1), b)
		if hit || !bytes.Equal(data, b.data) {
			t.Fatalf("Get %d = %q, hit=%v; want %q, miss", i+1, data, hit, b.data)
		}
		if n := b.calls.Load(); n != int64(i+1) {
			t.Fatalf("after Get %d build ran %d times; want %d", i+1, n, i+1)
		}
	}
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 || s.Misses != 3 || s.Hits != 0 {
		t.Fatalf("Stats() = %+v; want 3 misses, nothing kept", s)
	}
	// Once build says keep, it is kept.
	b.keep = true
	mustGet(t, c, key(1), b)
	if _, hit := mustGet(t, c, key(1), b); !hit {
		t.Fatal("kept entry not hit")
	}
	if n := b.calls.Load(); n != 4 {
		t.Fatalf("build ran %d times; want 4", n)
	}
}

func TestCacheNilData(t *testing.T) {
	c := NewCache(1 << 20)
	b := &builder{data: nil, keep: true}
	data, hit := mustGet(t, c, key(1), b)
	if hit || data != nil {
		t.Fatalf("first Get = %v, hit=%v; want nil, miss", data, hit)
	}
	data, hit = mustGet(t, c, key(1), b)
	if !hit || data != nil {
		t.Fatalf("second Get = %v, hit=%v; want nil, hit", data, hit)
	}
	if n := b.calls.Load(); n != 1 {
		t.Fatalf("build ran %d times; want 1 (nil must be cached)", n)
	}
	if s := c.Stats(); s.Entries != 1 || s.Bytes != entryCost {
		t.Fatalf("Stats() = %+v; want 1 entry of %d bytes", s, entryCost)
	}
}

func TestCacheKeyFieldsDistinct(t *testing.T) {
	base := Key{Dev: 1, Ino: 2, Size: 3, MtimeNs: 4, CtimeNs: 5, Coding: Gzip}
	variants := map[string]Key{"base": base}
	for name, f := range map[string]func(*Key){
		"Dev":     func(k *Key) { k.Dev++ },
		"Ino":     func(k *Key) { k.Ino++ },
		"Size":    func(k *Key) { k.Size++ },
		"MtimeNs": func(k *Key) { k.MtimeNs++ },
		"CtimeNs": func(k *Key) { k.CtimeNs++ },
		"Coding":  func(k *Key) { k.Coding = Brotli },
	} {
		k := base
		f(&k)
		variants[name] = k
	}
	c := NewCache(1 << 20)
	builders := map[string]*builder{}
	for name, k := range variants {
		b := &builder{data: []byte("data for " + name), keep: true}
		builders[name] = b
		if _, hit := mustGet(t, c, k, b); hit {
			t.Errorf("key differing in %s hit another key's entry", name)
		}
	}
	for name, k := range variants {
		b := builders[name]
		data, hit := mustGet(t, c, k, b)
		if !hit || !bytes.Equal(data, b.data) {
			t.Errorf("%s: Get = %q, hit=%v; want %q, hit", name, data, hit, b.data)
		}
		if n := b.calls.Load(); n != 1 {
			t.Errorf("%s: build ran %d times; want 1", name, n)
		}
	}
	if s := c.Stats(); s.Entries != len(variants) {
		t.Fatalf("Entries = %d; want %d", s.Entries, len(variants))
	}
}

func TestCacheBudget(t *testing.T) {
	const size, fit = 100, 10
	max := int64(fit * (size + entryCost))
	c := NewCache(max)
	const n = 100
	for i := range n {
		mustGet(t, c, key(i), &builder{data: make([]byte, size), keep: true})
		if s := c.Stats(); s.Bytes > s.MaxBytes {
			t.Fatalf("after %d adds Bytes = %d > MaxBytes %d", i+1, s.Bytes, s.MaxBytes)
		}
	}
	s := c.Stats()
	if s.Entries != fit || s.Bytes != max || s.Evictions != n-fit || s.MaxBytes != max {
		t.Fatalf("Stats() = %+v; want %d entries, %d bytes, %d evictions", s, fit, max, n-fit)
	}
	// The most recent ones are what is left.
	for i := range n {
		if got, want := cached(c, key(i)), i >= n-fit; got != want {
			t.Errorf("key %d cached = %v; want %v", i, got, want)
		}
	}
}

func TestCacheBudgetMixedSizes(t *testing.T) {
	c := NewCache(10_000)
	for i := range 500 {
		mustGet(t, c, key(i), &builder{data: make([]byte, (i*7919)%3000), keep: true})
		s := c.Stats()
		if s.Bytes > s.MaxBytes || s.Bytes < 0 {
			t.Fatalf("after %d adds Bytes = %d, MaxBytes %d", i+1, s.Bytes, s.MaxBytes)
		}
	}
	s := c.Stats()
	if s.Evictions == 0 {
		t.Fatalf("no evictions: %+v", s)
	}
	// Bytes is the sum of what the entries cost.
	var sum int64
	for e := c.lru.Front(); e != nil; e = e.Next() {
		sum += cost(e.Value.(*entry).data)
	}
	if sum != s.Bytes || c.lru.Len() != s.Entries || len(c.entries) != s.Entries {
		t.Fatalf("Bytes = %d, Entries = %d; list holds %d entries costing %d, map %d",
			s.Bytes, s.Entries, c.lru.Len(), sum, len(c.entries))
	}
}

func TestCacheLRU(t *testing.T) {
	const size = 50
	c := NewCache(3 * (size + entryCost))
	add := func(i int) { mustGet(t, c, key(i), &builder{data: make([]byte, size), keep: true}) }
	add(1)
	add(2)
	add(3)
	// Touch the oldest; 2 is now the least recently used.
	if _, hit := mustGet(t, c, key(1), &builder{}); !hit {
		t.Fatal("key 1 not cached")
	}
	add(4)
	if s := c.Stats(); s.Evictions != 1 || s.Entries != 3 {
		t.Fatalf("Stats() = %+v; want 1 eviction, 3 entries", s)
	}
	for i, want := range map[int]bool{1: true, 2: false, 3: true, 4: true} {
		if got := cached(c, key(i)); got != want {
			t.Errorf("key %d cached = %v; want %v", i, got, want)
		}
	}
	// The probes above touched 1, 3 and 4 in map order; touch them in a
	// known order (3 least recent) and add again.
	cached(c, key(3))
	cached(c, key(1))
	cached(c, key(4))
	add(5) // evicts 3
	for i, want := range map[int]bool{1: true, 3: false, 4: true, 5: true} {
		if got := cached(c, key(i)); got != want {
			t.Errorf("after adding 5: key %d cached = %v; want %v", i, got, want)
		}
	}
}

func TestCacheLargeEntryEvictsSeveral(t *testing.T) {
	const size = 50
	c := NewCache(4 * (size + entryCost))
	for i := range 4 {
		mustGet(t, c, key(i), &builder{data: make([]byte, size), keep: true})
	}
	// One entry costing as much as two and a bit of the others drives out
	// the three oldest.
	mustGet(t, c, key(9), &builder{data: make([]byte, 2*size+entryCost+1), keep: true})
	for i, want := range map[int]bool{0: false, 1: false, 2: false, 3: true, 9: true} {
		if got := cached(c, key(i)); got != want {
			t.Errorf("key %d cached = %v; want %v", i, got, want)
		}
	}
	if s := c.Stats(); s.Evictions != 3 || s.Bytes > s.MaxBytes {
		t.Fatalf("Stats() = %+v; want 3 evictions within budget", s)
	}
}

func TestCacheZeroBudget(t *testing.T) {
	c := NewCache(0)
	for _, data := range [][]byte{nil, {}, []byte("x")} {
		b := &builder{data: data, keep: true}
		for range 3 {
			if _, hit := mustGet(t, c, key(1), b); hit {
				t.Fatal("hit with a zero budget")
			}
		}
		if n := b.calls.Load(); n != 3 {
			t.Fatalf("build ran %d times; want 3", n)
		}
	}
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 || s.Evictions != 0 || s.Misses != 9 {
		t.Fatalf("Stats() = %+v; want nothing kept, 9 misses", s)
	}
}

func TestCacheEntryLargerThanBudget(t *testing.T) {
	const max = 1000
	c := NewCache(max)
	small := &builder{data: []byte("small"), keep: true}
	mustGet(t, c, key(1), small)

	big := &builder{data: make([]byte, max), keep: true} // costs max+entryCost
	for range 2 {
		data, hit := mustGet(t, c, key(2), big)
		if hit || len(data) != max {
			t.Fatalf("Get(big) = %d bytes, hit=%v; want %d, miss", len(data), hit, max)
		}
	}
	if n := big.calls.Load(); n != 2 {
		t.Fatalf("build for the big entry ran %d times; want 2 (not kept)", n)
	}
	// Trying to keep it evicted nothing.
	if s := c.Stats(); s.Entries != 1 || s.Evictions != 0 || s.Bytes != int64(len(small.data))+entryCost {
		t.Fatalf("Stats() = %+v; want the small entry alone, no evictions", s)
	}
	if !cached(c, key(1)) {
		t.Fatal("small entry gone")
	}

	// An entry costing exactly the budget fits, alone.
	exact := &builder{data: make([]byte, max-entryCost), keep: true}
	mustGet(t, c, key(3), exact)
	if s := c.Stats(); s.Entries != 1 || s.Bytes != max || s.Evictions != 1 {
		t.Fatalf("Stats() = %+v; want one entry of exactly %d bytes, 1 eviction", s, max)
	}
	if !cached(c, key(3)) {
		t.Fatal("entry costing exactly the budget not kept")
	}
}

// waitForWaiters waits until n goroutines are blocked inside
// (*Cache).Get itself, that is waiting for another's build.
func waitForWaiters(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		for {
			m := runtime.Stack(buf, true)
			if m < len(buf) {
				buf = buf[:m]
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		got := 0
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			lines := strings.SplitN(g, "\n", 3)
			if len(lines) >= 2 && strings.Contains(lines[0], "[chan receive") &&
				strings.HasPrefix(lines[1], "http_server/compress.(*Cache).Get(") {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines waiting in Get; want %d", got, n)
		}
		time.Sleep(time.Millisecond)
		buf = buf[:cap(buf)]
	}
}

func TestCacheSingleFlight(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			const n = 50
			c := NewCache(1 << 20)
			release := make(chan struct{})
			started := make(chan struct{})
			var calls atomic.Int64
			want := []byte("made once")
			build := func() ([]byte, bool, error) {
				if calls.Add(1) == 1 {
					close(started)
				}
				<-release
				return want, keep, nil
			}
			type result struct {
				data []byte
				hit  bool
				err  error
			}
			results := make([]result, n)
			var wg sync.WaitGroup
			wg.Go(func() {
				d, h, e := c.Get(key(1), build)
				results[0] = result{d, h, e}
			})
			<-started
			for i := 1; i < n; i++ {
				wg.Go(func() {
					d, h, e := c.Get(key(1), build)
					results[i] = result{d, h, e}
				})
			}
			waitForWaiters(t, n-1)
			close(release)
			wg.Wait()

			if got := calls.Load(); got != 1 {
				t.Fatalf("build ran %d times; want 1", got)
			}
			misses := 0
			for i, r := range results {
				if r.err != nil || !bytes.Equal(r.data, want) || &r.data[0] != &want[0] {
					t.Errorf("goroutine %d: Get = %q, %v; want the built data", i, r.data, r.err)
				}
				if !r.hit {
					misses++
				}
			}
			if misses != 1 || results[0].hit {
				t.Errorf("%d results report a miss (first: hit=%v); want exactly the builder's", misses, results[0].hit)
			}
			s := c.Stats()
			if s.Misses != 1 || s.Hits != n-1 {
				t.Errorf("Stats() = %+v; want 1 miss, %d hits", s, n-1)
			}
			wantEntries := 0
			if keep {
				wantEntries = 1
			}
			if s.Entries != wantEntries {
				t.Errorf("Entries = %d; want %d", s.Entries, wantEntries)
			}
			if len(c.inflight) != 0 {
				t.Errorf("%d builds still in flight", len(c.inflight))
			}
		})
	}
}

func TestCacheSingleFlightError(t *testing.T) {
	const n = 30
	c := NewCache(1 << 20)
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int64
	boom := errors.New("read failed")
	build := func() ([]byte, bool, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return []byte("partial"), true, boom
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { _, _, errs[0] = c.Get(key(1), build) })
	<-started
	for i := 1; i < n; i++ {
		wg.Go(func() { _, _, errs[i] = c.Get(key(1), build) })
	}
	waitForWaiters(t, n-1)
	close(release)
	wg.Wait()

	if got := calls.Load(); got != 1 {
		t.Fatalf("build ran %d times; want 1", got)
	}
	for i, err := range errs {
		if !errors.Is(err, boom) {
			t.Errorf("goroutine %d: err = %v; want %v", i, err, boom)
		}
	}
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 || s.Misses != 1 {
		t.Fatalf("Stats() = %+v; want nothing kept, 1 miss", s)
	}
	// Nothing was kept and nothing is in flight: the next Get builds again.
	b := &builder{data: []byte("ok"), keep: true}
	data, hit := mustGet(t, c, key(1), b)
	if hit || b.calls.Load() != 1 || !bytes.Equal(data, b.data) {
		t.Fatalf("Get after an error = %q, hit=%v, builds=%d; want a fresh build", data, hit, b.calls.Load())
	}
}

// A build that panics (the server's workers recover handler panics) must
// not leave its key in flight forever.
func TestCacheBuildPanicDoesNotWedgeKey(t *testing.T) {
	c := NewCache(1 << 20)
	func() {
		defer func() { recover() }()
		c.Get(key(1), func() ([]byte, bool, error) { panic("decoder blew up") })
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Get(key(1), (&builder{data: []byte("ok"), keep: true}).build)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Get after a panicking build blocks forever: the key stays in flight")
	}
}

// "No sidecar" is remembered only for a kept copy, and only for
// SidecarRecheck; a copy that is not kept remembers nothing.
func TestCacheNoSidecar(t *testing.T) {
	c := NewCache(1 << 20)
	now := time.Unix(1000, 0)
	if c.NoSidecar(key(1), now) {
		t.Fatal("no entry, yet no sidecar is known")
	}
	c.NoteNoSidecar(key(1), now) // no entry: nothing to note on
	if c.NoSidecar(key(1), now) {
		t.Fatal("a note without an entry was kept")
	}
	c.Get(key(1), (&builder{data: []byte("copy"), keep: true}).build)
	if c.NoSidecar(key(1), now) {
		t.Fatal("a fresh entry claims no sidecar before anyone looked")
	}
	c.NoteNoSidecar(key(1), now)
	if !c.NoSidecar(key(1), now.Add(SidecarRecheck-time.Millisecond)) {
		t.Fatal("the note did not stand within SidecarRecheck")
	}
	if c.NoSidecar(key(1), now.Add(SidecarRecheck)) {
		t.Fatal("the note stood past SidecarRecheck")
	}
	if c.NoSidecar(key(2), now) {
		t.Fatal("the note leaked to another key")
	}
}

// Peek answers only from a kept copy, and with sidecars only while "no
// sidecar" stands; it never builds.
func TestCachePeek(t *testing.T) {
	c := NewCache(1 << 20)
	now := time.Unix(1000, 0)
	if _, ok := c.Peek(key(1), false, now); ok {
		t.Fatal("Peek found a copy in an empty cache")
	}
	c.Get(key(1), (&builder{data: []byte("copy"), keep: true}).build)
	if data, ok := c.Peek(key(1), false, now); !ok || string(data) != "copy" {
		t.Fatalf("Peek without sidecars: %q, %v", data, ok)
	}
	if _, ok := c.Peek(key(1), true, now); ok {
		t.Fatal("Peek with sidecars answered before anyone looked for one")
	}
	c.NoteNoSidecar(key(1), now)
	if data, ok := c.Peek(key(1), true, now.Add(time.Millisecond)); !ok || string(data) != "copy" {
		t.Fatalf("Peek with sidecars, just looked: %q, %v", data, ok)
	}
	if _, ok := c.Peek(key(1), true, now.Add(SidecarRecheck)); ok {
		t.Fatal("Peek answered past SidecarRecheck")
	}
	if s := c.Stats(); s.Hits != 2 || s.Misses != 1 {
		t.Fatalf("hits %d, misses %d; want 2 and 1 (Peek counts only what it answers)", s.Hits, s.Misses)
	}
}
