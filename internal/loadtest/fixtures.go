package loadtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Fixture is a set of files under the fixtures directory, as bits.
type Fixture uint8

const (
	FixtureSmall      Fixture = 1 << iota // SmallFileName, 4 KiB
	FixtureMany                           // ManyFilesCount files of 4 KiB under many/
	FixtureMedium                         // MediumFileName, 1 MiB
	FixtureLarge                          // LargeFileName, 1 GiB, sparse
	FixtureCompressed                     // CompressedFilesCount text files under compressed/
)

// The fixture files, relative to the fixtures directory (the server's root).
const (
	SmallFileName  = "small-4k.bin"
	MediumFileName = "file-1m.bin"
	LargeFileName  = "large-1g.bin"
	ManyFilesCount = 10000
	SmallFileSize  = 4 << 10
	MediumFileSize = 1 << 20
	LargeFileSize  = 1 << 30
	manyPerDir     = 100
	// cold-files: ranges of ColdBlockSize of one large file.
	ColdBlockSize = 8 << 10
)

// ColdSetPath is the URL path of the one file of cold-files, of the given
// size; the size is in the name, so sets of several sizes can share a
// fixtures directory.
func ColdSetPath(size int64) string {
	return "/cold-set/" + sizeLabel(size) + ".bin"
}

// ColdLargePath is the URL path of the i-th cold-large file of the given
// size; the size is in the name, so files of several sizes can share a
// fixtures directory.
func ColdLargePath(size int64, i int) string {
	return fmt.Sprintf("/cold-large/%s/f%03d.bin", sizeLabel(size), i)
}

// sizeLabel names a size: 64m, 1g, 300k, or bytes.
func sizeLabel(n int64) string {
	switch {
	case n > 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dg", n>>30)
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dm", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dk", n>>10)
	}
	return strconv.FormatInt(n, 10)
}

// ParseSize reads a size in bytes with an optional binary unit: 65536,
// 512k, 64M, 64MiB, 1G.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	shift := 0
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			shift = 10
		case 'm':
			shift = 20
		case 'g':
			shift = 30
		}
		if shift > 0 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("bad size %q (want bytes, or a number with k, M or G)", s)
	}
	return n << shift, nil
}

// MakeColdFixtures creates the files of a cold scenario (Scenario.Cold)
// under dir: random bytes, distinct in every file (no file system can share
// or compress them), written once; a file already there with the right size
// is kept. It returns how many bytes it wrote. The data is really written
// (no hole), in chunks of 4 MiB from a ChaCha8 stream (GB/s: a 2 GiB file
// takes about as long as the disk needs). The pages it writes are dirty:
// ColdSet writes them back before it evicts them.
func MakeColdFixtures(dir string, s *Scenario) (int64, error) {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(s.ColdSize))
	copy(seed[8:], "http_server loadtest cold")
	rng := rand.NewChaCha8(seed)
	buf := make([]byte, min(s.ColdSize, 4<<20))
	var written int64
	madeDirs := map[string]bool{}
	for _, rel := range s.Cold {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if fi, err := os.Stat(path); err == nil && fi.Size() == s.ColdSize {
			continue
		}
		if d := filepath.Dir(path); !madeDirs[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return written, err
			}
			madeDirs[d] = true
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return written, err
		}
		for left := s.ColdSize; left > 0 && err == nil; {
			b := buf[:min(left, int64(len(buf)))]
			_, _ = rng.Read(b) // never fails
			_, err = f.Write(b)
			left -= int64(len(b))
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, fmt.Errorf("%s: %w", path, err)
		}
		written += s.ColdSize
	}
	return written, nil
}

// ManyFilePath is the URL path of the i-th of the many small files: 100
// directories of 100 files, so no directory is unusually large.
func ManyFilePath(i int) string {
	return fmt.Sprintf("/many/%02d/f%05d.bin", i/manyPerDir, i)
}

// MakeFixtures creates the files of set under dir (which must exist). A file
// already there with the right size is kept, so one directory can serve
// several runs. Contents are random bytes, except the 1 GiB file, which is
// sparse (a hole the kernel reads as zeros): it costs no disk and no time to
// make, and once read it is served from the page cache; and the compressed
// scenario's files, text (CompressedContent), rewritten unless their bytes
// are the expected ones.
func MakeFixtures(dir string, set Fixture) error {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := 0; i+8 <= n; i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		return b
	}
	write := func(path string, size int) error {
		if fi, err := os.Stat(path); err == nil && fi.Size() == int64(size) {
			return nil
		}
		return os.WriteFile(path, random(size), 0o644)
	}
	if set&FixtureSmall != 0 {
		if err := write(filepath.Join(dir, SmallFileName), SmallFileSize); err != nil {
			return err
		}
	}
	if set&FixtureMedium != 0 {
		if err := write(filepath.Join(dir, MediumFileName), MediumFileSize); err != nil {
			return err
		}
	}
	if set&FixtureMany != 0 {
		content := random(SmallFileSize)
		for d := 0; d < ManyFilesCount/manyPerDir; d++ {
			if err := os.MkdirAll(filepath.Join(dir, "many", fmt.Sprintf("%02d", d)), 0o755); err != nil {
				return err
			}
		}
		for i := 0; i < ManyFilesCount; i++ {
			path := filepath.Join(dir, filepath.FromSlash(ManyFilePath(i)[1:]))
			if fi, err := os.Stat(path); err == nil && fi.Size() == SmallFileSize {
				continue
			}
			// The same bytes in every file: what is exercised is open and
			// stat of distinct names, not the contents.
			if err := os.WriteFile(path, content, 0o644); err != nil {
				return err
			}
		}
	}
	if set&FixtureCompressed != 0 {
		if err := os.MkdirAll(filepath.Join(dir, "compressed"), 0o755); err != nil {
			return err
		}
		for i, want := range compressedFiles() {
			path := filepath.Join(dir, filepath.FromSlash(CompressedPath(i)[1:]))
			// The contents too, not only the size: the check compares
			// what the server sends with these bytes.
			if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(want)) {
				if got, err := os.ReadFile(path); err == nil && bytes.Equal(got, want) {
					continue
				}
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				return err
			}
		}
	}
	if set&FixtureLarge != 0 {
		path := filepath.Join(dir, LargeFileName)
		if fi, err := os.Stat(path); err != nil || fi.Size() != LargeFileSize {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			err = f.Truncate(LargeFileSize)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
