package compress

import (
	"testing"
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
