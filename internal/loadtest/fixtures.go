package loadtest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Fixture is a set of files under the fixtures directory, as bits.
type Fixture uint8

const (
	FixtureSmall  Fixture = 1 << iota // SmallFileName, 4 KiB
	FixtureMany                       // ManyFilesCount files of 4 KiB under many/
	FixtureMedium                     // MediumFileName, 1 MiB
	FixtureLarge                      // LargeFileName, 1 GiB, sparse
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
)

// ManyFilePath is the URL path of the i-th of the many small files: 100
// directories of 100 files, so no directory is unusually large.
func ManyFilePath(i int) string {
	return fmt.Sprintf("/many/%02d/f%05d.bin", i/manyPerDir, i)
}

// MakeFixtures creates the files of set under dir (which must exist). A file
// already there with the right size is kept, so one directory can serve
// several runs. Contents are random bytes, except the 1 GiB file, which is
// sparse (a hole the kernel reads as zeros): it costs no disk and no time to
// make, and once read it is served from the page cache.
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
