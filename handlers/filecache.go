package handlers

import (
	"sync"
	"sync/atomic"

	"http_server/workers"

	"golang.org/x/sys/unix"
)

// The small-file cache keeps the bytes of files up to workers.SmallFile, so a hit
// costs one stat instead of open, fstat, read and close (a third of the
// CPU of serving a 4 KiB file). An entry is served only while the path
// still stats to the very file it was read from: same device, inode, size,
// modification and change times. A file changed less than a second before
// it was read is not kept: its timestamps may not move again on the next
// change within the same clock tick.

type cachedFile struct {
	data []byte
	fileVersion
	contentType string
}

// fileCache maps a cleaned relative path to its cached file, within a
// byte budget; when full, an arbitrary entry goes.
type fileCache struct {
	mu     sync.RWMutex // lookups only read the map
	m      map[string]*cachedFile
	bytes  int64
	max    int64
	hits   atomic.Uint64
	misses atomic.Uint64
}

func newFileCache(max int64) *fileCache {
	return &fileCache{m: map[string]*cachedFile{}, max: max}
}

// lookup returns the cached bytes of rel if the path still names the file
// they were read from.
func (c *fileCache) lookup(rootFd int, rel string) *cachedFile {
	c.mu.RLock()
	e := c.m[rel]
	c.mu.RUnlock()
	if e == nil {
		c.misses.Add(1)
		return nil
	}
	var st unix.Stat_t
	if unix.Fstatat(rootFd, rel, &st, 0) != nil || !e.same(&st) {
		c.drop(rel, e)
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e
}

func (e *cachedFile) same(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFREG && versionOf(st) == e.fileVersion
}

// keep stores data read from the open file st describes, if it is small
// and settled.
func (c *fileCache) keep(rel string, data []byte, st *unix.Stat_t, contentType string) {
	v := versionOf(st)
	if c.max <= 0 || int64(len(data)) != st.Size || st.Size > workers.SmallFile || int64(len(data)) > c.max || !v.settled() {
		return
	}
	e := &cachedFile{data: data, fileVersion: v, contentType: contentType}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[rel]; old != nil {
		c.bytes -= int64(len(old.data))
	}
	for k, v := range c.m {
		if c.bytes+int64(len(data)) <= c.max {
			break
		}
		delete(c.m, k)
		c.bytes -= int64(len(v.data))
	}
	c.m[rel] = e
	c.bytes += int64(len(data))
}

func (c *fileCache) drop(rel string, e *cachedFile) {
	c.mu.Lock()
	if c.m[rel] == e {
		delete(c.m, rel)
		c.bytes -= int64(len(e.data))
	}
	c.mu.Unlock()
}

// FileCacheStats are the cache's figures for /stats.
type FileCacheStats struct {
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

func (c *fileCache) stats() FileCacheStats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return FileCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: len(c.m), Bytes: c.bytes}
}
