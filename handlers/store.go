package handlers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Store keeps the /write value: in memory (with a state file or not), or
// in Redis (redisstore.go), shared by several instances. Its calls may
// block; they run on the workers.
type Store interface {
	// Load returns the value, or <empty> before any write.
	Load() ([]byte, error)
	// Save keeps a copy of b and returns it; on error nothing changed.
	Save(b []byte) ([]byte, error)
	// Check reports whether the store answers (--check-config).
	Check() error
	Close()
}

// ErrStoreUnavailable wraps the errors of a store that did not answer in
// time: the client gets 503 with Retry-After, and may try again.
var ErrStoreUnavailable = errors.New("store unavailable")

// store holds the /write value. Values are immutable once stored and swapped
// whole, so a reader never sees half of one write and half of another. With
// a state file, a value is on disk (fsynced and renamed into place) before
// it is stored and before the write is answered.
type store struct {
	v    atomic.Pointer[[]byte]
	mu   sync.Mutex // orders the writes, so the file always holds the value in memory
	path string     // state file; "" keeps the value in memory only
}

var emptyValue = []byte("<empty>")

// Load returns the stored bytes, or <empty> before any write.
func (s *store) Load() ([]byte, error) {
	if p := s.v.Load(); p != nil {
		return *p, nil
	}
	return emptyValue, nil
}

// Check: memory always answers; a state file was probed when opened.
func (s *store) Check() error { return nil }

func (s *store) Close() {}

// Save copies b (it points into the reactor's buffer), persists the copy
// when there is a state file, and stores it. On error the value in memory
// and on disk is unchanged.
func (s *store) Save(b []byte) ([]byte, error) {
	c := append([]byte(nil), b...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path != "" {
		if err := writeFileAtomic(s.path, c); err != nil {
			return nil, err
		}
	}
	s.v.Store(&c)
	return c, nil
}

// openStore loads the state file if there is one. A missing file means no
// write has been accepted yet.
func openStore(path string) (*store, error) {
	s := &store{path: path}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("state file: %w", err)
	default:
		s.v.Store(&b)
	}
	// Fail at start, not at the first write, when the directory is not writable.
	probe, err := os.CreateTemp(filepath.Dir(path), ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("state file directory: %w", err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return s, nil
}

// writeFileAtomic replaces path with data so that a crash at any moment
// leaves either the old or the new content: temp file, fsync, rename,
// fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
