package compress

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// cssText returns n bytes of CSS-like text, the same for the same n: rules
// made of a vocabulary of selectors, properties and values, with numbers
// and colours drawn from a fixed-seed generator, so it compresses like a
// real stylesheet rather than like one repeated byte.
func cssText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	selectors := []string{".nav", ".header", ".footer", "#main", ".btn", ".btn-primary", ".card", ".card-body",
		"a:hover", "ul li", ".grid > .col", "input[type=text]", ".modal-dialog", "h1", "h2", "p", ".sidebar .item"}
	props := []string{"margin", "padding", "color", "background-color", "border", "font-size", "line-height",
		"display", "width", "height", "max-width", "border-radius", "box-shadow", "transition", "z-index"}
	values := []string{"0", "auto", "block", "flex", "none", "inherit", "1px solid", "ease-in-out", "center",
		"100%", "inline-block", "bold", "relative", "absolute"}
	units := []string{"px", "em", "rem", "%", "vh"}
	var b strings.Builder
	b.Grow(n + 256)
	for b.Len() < n {
		fmt.Fprintf(&b, "%s%s {\n", selectors[r.IntN(len(selectors))],
			[]string{"", ", " + selectors[r.IntN(len(selectors))]}[r.IntN(2)])
		for range 2 + r.IntN(5) {
			p := props[r.IntN(len(props))]
			switch r.IntN(3) {
			case 0:
				fmt.Fprintf(&b, "  %s: %s;\n", p, values[r.IntN(len(values))])
			case 1:
				fmt.Fprintf(&b, "  %s: %d%s;\n", p, r.IntN(400), units[r.IntN(len(units))])
			default:
				fmt.Fprintf(&b, "  %s: #%06x;\n", p, r.IntN(1<<24))
			}
		}
		b.WriteString("}\n\n")
	}
	return []byte(b.String()[:n])
}

// decode decodes data in coding with the reference readers.
func decode(t testing.TB, coding string, data []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("gzip.NewReader: %v", err)
		}
		defer zr.Close()
		r = zr
	case Zstd:
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatalf("zstd.NewReader: %v", err)
		}
		defer zr.Close()
		r = zr
	case Brotli:
		r = brotli.NewReader(bytes.NewReader(data))
	default:
		t.Fatalf("no decoder for %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", coding, err)
	}
	return out
}

func newEncoder(t testing.TB, l Levels) *Encoder {
	t.Helper()
	e, err := NewEncoder(l)
	if err != nil {
		t.Fatalf("NewEncoder(%+v): %v", l, err)
	}
	return e
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEncoder(t, DefaultLevels)
	inputs := map[string][]byte{
		"empty": {},
		"small": []byte("<!doctype html><title>hi</title><p>hello, world</p>\n"),
		"1MiB":  cssText(1 << 20),
	}
	for _, coding := range Codings {
		for name, src := range inputs {
			t.Run(coding+"/"+name, func(t *testing.T) {
				// Small inputs twice: the second call takes a pooled writer.
				calls := 2
				if len(src) > 1<<16 {
					calls = 1 // slow under -race; pooled writers are covered elsewhere
				}
				for i := range calls {
					out, err := e.Encode(coding, src)
					if err != nil {
						t.Fatalf("Encode: %v", err)
					}
					got := decode(t, coding, out)
					if !bytes.Equal(got, src) {
						t.Fatalf("call %d: round trip gave %d bytes, want %d", i, len(got), len(src))
					}
					if len(src) == 1<<20 && len(out) > len(src)/3 {
						t.Errorf("call %d: 1 MiB of CSS compressed to %d bytes; expected well under a third", i, len(out))
					}
				}
			})
		}
	}
}

func TestEncodeNilInput(t *testing.T) {
	e := newEncoder(t, DefaultLevels)
	for _, coding := range Codings {
		out, err := e.Encode(coding, nil)
		if err != nil {
			t.Fatalf("%s: Encode(nil): %v", coding, err)
		}
		if got := decode(t, coding, out); len(got) != 0 {
			t.Fatalf("%s: Encode(nil) decodes to %d bytes", coding, len(got))
		}
	}
}

func TestEncodeUnknownCoding(t *testing.T) {
	e := newEncoder(t, DefaultLevels)
	for _, coding := range []string{"deflate", "", "identity", "GZIP", "compress"} {
		if out, err := e.Encode(coding, []byte("abc")); err == nil {
			t.Errorf("Encode(%q) = %d bytes, nil error; want an error", coding, len(out))
		}
	}
}

func TestEncodeDeterministic(t *testing.T) {
	t.Parallel()
	src := cssText(24 << 10)
	for _, l := range []Levels{DefaultLevels, {Gzip: 1, Zstd: 1, Brotli: 0}, {Gzip: 9, Zstd: 19, Brotli: 11}} {
		e1 := newEncoder(t, l)
		e2 := newEncoder(t, l)
		for _, coding := range Codings {
			a, err := e1.Encode(coding, src)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := e1.Encode(coding, src) // pooled writer, same encoder
			c, _ := e2.Encode(coding, src) // another encoder, same levels
			if !bytes.Equal(a, b) {
				t.Errorf("%s %+v: two calls on one encoder differ (%d vs %d bytes)", coding, l, len(a), len(b))
			}
			if !bytes.Equal(a, c) {
				t.Errorf("%s %+v: two encoders with the same levels differ (%d vs %d bytes)", coding, l, len(a), len(c))
			}
		}
	}
}

// reference compresses src with the libraries directly at the given level.
func reference(t testing.TB, coding string, level int, src []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch coding {
	case Gzip:
		w, err := gzip.NewWriterLevel(&b, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(src)
		w.Close()
	case Brotli:
		w := brotli.NewWriterLevel(&b, level)
		w.Write(src)
		w.Close()
	case Zstd:
		z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		return z.EncodeAll(src, nil)
	}
	return b.Bytes()
}

func TestEncodeLevelsHonoured(t *testing.T) {
	t.Parallel()
	src := cssText(32 << 10)

	fast := newEncoder(t, Levels{Gzip: 1, Zstd: 1, Brotli: 0})
	small := newEncoder(t, Levels{Gzip: 9, Zstd: 22, Brotli: 11})
	for _, coding := range Codings {
		f, err := fast.Encode(coding, src)
		if err != nil {
			t.Fatal(err)
		}
		s, err := small.Encode(coding, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) >= len(f) {
			t.Errorf("%s: highest level gave %d bytes, lowest %d; want the highest smaller", coding, len(s), len(f))
		}
		t.Logf("%s: lowest level %d bytes, highest %d bytes (of %d)", coding, len(f), len(s), len(src))
	}

	// Each level gives exactly what the library makes at that level, on the
	// first call and on later calls that reuse pooled writers.
	for _, tc := range []struct {
		coding string
		levels []int
	}{
		{Gzip, []int{1, 5, 9}},
		{Zstd, []int{1, 3, 7, 22}},
		{Brotli, []int{0, 5, 11}},
	} {
		for _, lv := range tc.levels {
			l := DefaultLevels
			switch tc.coding {
			case Gzip:
				l.Gzip = lv
			case Zstd:
				l.Zstd = lv
			case Brotli:
				l.Brotli = lv
			}
			e := newEncoder(t, l)
			want := reference(t, tc.coding, lv, src)
			for i := range 2 {
				got, err := e.Encode(tc.coding, src)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s level %d, call %d: %d bytes, differs from the library's output at that level (%d bytes)",
						tc.coding, lv, i, len(got), len(want))
				}
			}
		}
	}
}

func TestEncodeGzipLevel1Vs9(t *testing.T) {
	t.Parallel()
	src := cssText(256 << 10)
	one, _ := newEncoder(t, Levels{Gzip: 1, Zstd: 3, Brotli: 5}).Encode(Gzip, src)
	nine, _ := newEncoder(t, Levels{Gzip: 9, Zstd: 3, Brotli: 5}).Encode(Gzip, src)
	if len(nine) >= len(one) {
		t.Fatalf("gzip level 9 gave %d bytes, level 1 %d bytes; want level 9 smaller", len(nine), len(one))
	}
	if !bytes.Equal(decode(t, Gzip, one), src) || !bytes.Equal(decode(t, Gzip, nine), src) {
		t.Fatal("round trip failed")
	}
}

func TestEncodeConcurrent(t *testing.T) {
	t.Parallel()
	e := newEncoder(t, DefaultLevels)
	// Inputs of different sizes and content, so a writer that leaks state
	// from one call into another shows as wrong output.
	var inputs [][]byte
	for i, n := range []int{0, 1, 17, 1000, 4 << 10, 20 << 10, 70 << 10} {
		src := cssText(n + i)
		if i%2 == 1 {
			src = bytes.ToUpper(src)
		}
		inputs = append(inputs, src)
	}
	want := map[string][][]byte{}
	for _, coding := range Codings {
		for _, src := range inputs {
			out, err := e.Encode(coding, src)
			if err != nil {
				t.Fatal(err)
			}
			want[coding] = append(want[coding], out)
		}
	}

	const goroutines, rounds = 32, 2
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds*len(inputs)*len(Codings))
	for g := range goroutines {
		wg.Go(func() {
			for r := range rounds {
				for j := range inputs {
					i := (g + r + j) % len(inputs)
					coding := Codings[(g+j)%len(Codings)]
					out, err := e.Encode(coding, inputs[i])
					switch {
					case err != nil:
						errs <- fmt.Errorf("%s input %d: %v", coding, i, err)
					case !bytes.Equal(out, want[coding][i]):
						errs <- fmt.Errorf("%s input %d: %d bytes, differs from the serial output (%d bytes)",
							coding, i, len(out), len(want[coding][i]))
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The serial outputs are themselves correct.
	for _, coding := range Codings {
		for i, out := range want[coding] {
			if !bytes.Equal(decode(t, coding, out), inputs[i]) {
				t.Errorf("%s input %d: round trip failed", coding, i)
			}
		}
	}
}

func TestNewEncoderLevels(t *testing.T) {
	bad := []Levels{
		{Gzip: 0, Zstd: 3, Brotli: 5},
		{Gzip: 10, Zstd: 3, Brotli: 5},
		{Gzip: -1, Zstd: 3, Brotli: 5},
		{Gzip: 6, Zstd: 0, Brotli: 5},
		{Gzip: 6, Zstd: 23, Brotli: 5},
		{Gzip: 6, Zstd: 3, Brotli: -1},
		{Gzip: 6, Zstd: 3, Brotli: 12},
		{},
	}
	for _, l := range bad {
		if e, err := NewEncoder(l); err == nil || e != nil {
			t.Errorf("NewEncoder(%+v) = %v, %v; want nil and an error", l, e, err)
		}
		if err := l.Check(); err == nil {
			t.Errorf("%+v.Check() = nil; want an error", l)
		}
	}
	good := []Levels{
		DefaultLevels,
		{Gzip: 1, Zstd: 1, Brotli: 0},
		{Gzip: 9, Zstd: 22, Brotli: 11},
	}
	for _, l := range good {
		e, err := NewEncoder(l)
		if err != nil || e == nil {
			t.Errorf("NewEncoder(%+v) = %v, %v; want an encoder", l, e, err)
		}
	}
}

func TestParseList(t *testing.T) {
	ok := []struct {
		in   string
		want []string
	}{
		{"br,zstd,gzip", []string{"br", "zstd", "gzip"}},
		{"gzip,br", []string{"gzip", "br"}},
		{" GZIP ", []string{"gzip"}},
		{"Br , ZSTD", []string{"br", "zstd"}},
		{"off", nil},
		{" off ", nil},
		{"", nil},
		{"   ", nil},
	}
	for _, tc := range ok {
		got, err := ParseList(tc.in)
		if err != nil {
			t.Errorf("ParseList(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseList(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{
		"gzip,gzip", "br,zstd,br", "gzip, GZIP", // duplicates
		"deflate", "gzip,deflate", "identity", "x-gzip", // unknown
		"gzip,", ",br", "br,,gzip", // empty items
		"br,off", // off is not a coding inside a list
	} {
		if got, err := ParseList(in); err == nil {
			t.Errorf("ParseList(%q) = %q, nil; want an error", in, got)
		}
	}
}

func TestSidecarSuffix(t *testing.T) {
	for coding, want := range map[string]string{
		Brotli: ".br", Zstd: ".zst", Gzip: ".gz",
		"deflate": "", "": "", "GZIP": "", "identity": "",
	} {
		if got := SidecarSuffix(coding); got != want {
			t.Errorf("SidecarSuffix(%q) = %q; want %q", coding, got, want)
		}
	}
	// Every coding the server knows has a suffix, and they are distinct.
	seen := map[string]bool{}
	for _, c := range Codings {
		s := SidecarSuffix(c)
		if s == "" || seen[s] {
			t.Errorf("SidecarSuffix(%q) = %q: empty or repeated", c, s)
		}
		seen[s] = true
	}
}

func TestCodingsOrder(t *testing.T) {
	if want := []string{"br", "zstd", "gzip"}; !slices.Equal(Codings, want) {
		t.Fatalf("Codings = %q; want %q", Codings, want)
	}
}
