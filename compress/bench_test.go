package compress

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

func BenchmarkEncode(b *testing.B) {
	src := cssText(64 << 10)
	e, err := NewEncoder(DefaultLevels)
	if err != nil {
		b.Fatal(err)
	}
	for _, coding := range Codings {
		b.Run(coding, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				if out, err = e.Encode(coding, src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(src))/float64(len(out)), "ratio")
			b.ReportMetric(float64(len(out)), "out-bytes")
		})
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(1 << 20)
	k := Key{Dev: 1, Ino: 2, Size: 64 << 10, MtimeNs: 3, CtimeNs: 4, Coding: Gzip}
	data := make([]byte, 16<<10)
	build := func() ([]byte, bool, error) { return data, true, nil }
	if _, _, err := c.Get(k, build); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if d, hit, _ := c.Get(k, build); !hit || len(d) != len(data) {
				b.Fatal("not a hit")
			}
		}
	})
	b.StopTimer()
	if s := c.Stats(); s.Misses != 1 {
		b.Fatalf("Stats() = %+v; want 1 miss", s)
	}
}

// BenchmarkGzipLibraries compares the gzip this package uses with the
// standard library's at the same level on the same text: the reason for
// the dependency (README, Dependencies).
func BenchmarkGzipLibraries(b *testing.B) {
	src := cssText(64 << 10)
	for _, lib := range []struct {
		name string
		new  func(io.Writer) (io.WriteCloser, error)
	}{
		{"klauspost", func(w io.Writer) (io.WriteCloser, error) { return kgzip.NewWriterLevel(w, 6) }},
		{"stdlib", func(w io.Writer) (io.WriteCloser, error) { return stdgzip.NewWriterLevel(w, 6) }},
	} {
		b.Run(lib.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				w, err := lib.new(&out)
				if err != nil {
					b.Fatal(err)
				}
				w.Write(src)
				w.Close()
			}
			b.ReportMetric(float64(len(src))/float64(out.Len()), "ratio")
		})
	}
}
