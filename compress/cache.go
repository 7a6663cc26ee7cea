package compress

import (
	"container/list"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Key names one compressed copy: the path it was made for, the file's
// identity and version as a stat of it shows them, and the coding. A file
// that changes gets a new version (size, modification or change time), so
// an entry made from its old bytes is never found for it again; it ages
// out. The path keeps a copy to the name it was made through, so a stat
// of another name (a symlink leading out of the root) never finds it.
type Key struct {
	Path                   string
	Dev, Ino               uint64
	Size, MtimeNs, CtimeNs int64
	Coding                 string
}

// Cache keeps compressed copies in memory within a byte budget, least
// recently used out first. Concurrent misses on one key make the copy
// once: the first worker compresses and the others wait for its result.
type Cache struct {
	mu       sync.Mutex
	max      int64
	bytes    int64
	lru      list.List // of *entry, most recently used at the front
	entries  map[Key]*list.Element
	inflight map[Key]*call

	hits, misses, evictions atomic.Uint64
}

type entry struct {
	key  Key
	data []byte // nil: the coding does not make this file smaller

	// noSidecarAt is when the file was last seen to have no precompressed
	// copy in this coding (unix ns; 0: not looked at since kept).
	noSidecarAt int64
}

// call is one compression in progress that later requests wait for.
type call struct {
	done chan struct{}
	data []byte
	err  error
}

// NewCache makes a cache of at most max bytes of compressed data (0:
// nothing is kept, and every request compresses again).
func NewCache(max int64) *Cache {
	return &Cache{max: max, entries: map[Key]*list.Element{}, inflight: map[Key]*call{}}
}

// Get returns the compressed copy for k, made by build on a miss. build
// returns the copy (nil when compressing does not make it smaller) and
// whether it may be kept: a file that changed while it was read, or so
// recently that its next change might not show in its timestamps, is
// served once and not kept. hit reports whether the copy was in memory
// or made by another request in flight.
func (c *Cache) Get(k Key, build func() (data []byte, keep bool, err error)) (data []byte, hit bool, err error) {
	c.mu.Lock()
	if el := c.entries[k]; el != nil {
		c.lru.MoveToFront(el)
		data = el.Value.(*entry).data
		c.mu.Unlock()
		c.hits.Add(1)
		return data, true, nil
	}
	if cl := c.inflight[k]; cl != nil {
		c.mu.Unlock()
		<-cl.done
		if cl.err == nil {
			c.hits.Add(1)
		}
		return cl.data, true, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[k] = cl
	c.mu.Unlock()
	c.misses.Add(1)

	keep := false
	// Deferred, so that a build that panics (the workers recover) still
	// releases the requests waiting for it, with an error.
	cl.err = errBuildPanicked
	defer func() {
		c.mu.Lock()
		delete(c.inflight, k)
		if cl.err == nil && keep {
			c.add(k, cl.data)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	cl.data, keep, cl.err = build()
	return cl.data, false, cl.err
}

var errBuildPanicked = errors.New("compress: making the copy panicked")

// add stores data under k and evicts from the back until the budget
// holds. Called with mu held.
func (c *Cache) add(k Key, data []byte) {
	size := cost(data)
	if size > c.max {
		return
	}
	c.entries[k] = c.lru.PushFront(&entry{key: k, data: data})
	c.bytes += size
	for c.bytes > c.max {
		el := c.lru.Back()
		e := el.Value.(*entry)
		c.lru.Remove(el)
		delete(c.entries, e.key)
		c.bytes -= cost(e.data)
		c.evictions.Add(1)
	}
}

// entryCost is what an entry costs beside its data (key, list element,
// map slot), so that many files that do not compress still fill the budget.
const entryCost = 192

func cost(data []byte) int64 { return int64(len(data)) + entryCost }

// Peek returns k's kept copy without making one. With sidecars, it must
// also have been seen less than SidecarRecheck before now to have no
// sidecar in k's coding. ok is false when there is no such copy; a miss
// here is not counted, as the caller goes on to Get.
func (c *Cache) Peek(k Key, sidecars bool, now time.Time) (data []byte, ok bool) {
	c.mu.Lock()
	el := c.entries[k]
	if el == nil || sidecars && now.UnixNano()-el.Value.(*entry).noSidecarAt >= int64(SidecarRecheck) {
		c.mu.Unlock()
		return nil, false
	}
	c.lru.MoveToFront(el)
	data = el.Value.(*entry).data
	c.mu.Unlock()
	c.hits.Add(1)
	return data, true
}

// SidecarRecheck is how long a look that found no precompressed copy
// beside a file stands for a copy kept here: a sidecar added later is
// sent within this time, and a busy file costs one look per this time
// instead of one per request.
const SidecarRecheck = time.Second

// NoSidecar reports whether k's file was seen, less than SidecarRecheck
// before now, to have no sidecar in k's coding, and k's copy is kept.
func (c *Cache) NoSidecar(k Key, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[k]
	return el != nil && now.UnixNano()-el.Value.(*entry).noSidecarAt < int64(SidecarRecheck)
}

// NoteNoSidecar records that k's file had no sidecar in k's coding at now,
// if k's copy is kept.
func (c *Cache) NoteNoSidecar(k Key, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[k]; el != nil {
		el.Value.(*entry).noSidecarAt = now.UnixNano()
	}
}

// CacheStats are the cache's figures for /stats and /metrics.
type CacheStats struct {
	Hits      uint64 `json:"hits"`
	Misses    uint64 `json:"misses"`
	Evictions uint64 `json:"evictions"`
	Entries   int    `json:"entries"`
	Bytes     int64  `json:"bytes"`
	MaxBytes  int64  `json:"max_bytes"`
}

// Stats reports the cache's figures.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Entries: len(c.entries), Bytes: c.bytes, MaxBytes: c.max}
}
