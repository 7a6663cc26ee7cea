package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
)

func TestEveryScenarioBuildsValidRequests(t *testing.T) {
	for _, name := range ScenarioNames() {
		s, err := NewScenario(name, "127.0.0.1:8080")
		if err != nil {
			t.Fatal(err)
		}
		if s.Description == "" || len(s.Items) == 0 {
			t.Errorf("%s: no description or items", name)
		}
		for _, it := range s.Items {
			if it.Weight <= 0 || (len(it.Requests) == 0) == (it.Range == nil) {
				t.Errorf("%s/%s: weight %d, %d requests, range %v", name, it.Name, it.Weight, len(it.Requests), it.Range)
				continue
			}
			samples := [][]byte{}
			if it.Range != nil {
				last := it.Range.blocks() - 1
				samples = append(samples, it.Range.appendRequest(nil, 0), it.Range.appendRequest(nil, last))
			} else {
				samples = append(samples, it.Requests[0], it.Requests[len(it.Requests)-1])
			}
			// Each request is exactly one well-formed HTTP/1.1 request.
			for _, raw := range samples {
				r := bufio.NewReader(bytes.NewReader(raw))
				req, err := http.ReadRequest(r)
				if err != nil {
					t.Fatalf("%s/%s: %v in %q", name, it.Name, err, raw)
				}
				if req.Host != "127.0.0.1:8080" {
					t.Errorf("%s/%s: Host %q", name, it.Name, req.Host)
				}
				if _, err := io.Copy(io.Discard, req.Body); err != nil {
					t.Fatal(err)
				}
				if r.Buffered() != 0 {
					t.Errorf("%s/%s: %d bytes after the request", name, it.Name, r.Buffered())
				}
			}
		}
	}
	if _, err := NewScenario("nope", "x"); err == nil || !strings.Contains(err.Error(), "mixed") {
		t.Errorf("unknown scenario: %v", err)
	}
}

func TestManyFilesAreDistinct(t *testing.T) {
	s, _ := NewScenario("many-files", "h")
	seen := map[string]bool{}
	for _, r := range s.Items[0].Requests {
		seen[string(r)] = true
	}
	if len(seen) != ManyFilesCount {
		t.Errorf("%d distinct requests, want %d", len(seen), ManyFilesCount)
	}
}

// The mix honours the weights: with 200,000 picks each item's share is
// within 0.5 percentage points of its weight's share (about 7 standard
// deviations for the smallest item), and the many files are all reached.
func TestMixedRespectsWeights(t *testing.T) {
	s, err := NewScenario("mixed", "h")
	if err != nil {
		t.Fatal(err)
	}
	p := newPicker(s, 42, 0)
	const n = 200000
	counts := make([]int, len(s.Items))
	files := map[string]bool{}
	owner := map[*byte]int{} // first byte of each request -> its item
	for i, it := range s.Items {
		for _, r := range it.Requests {
			owner[&r[0]] = i
		}
	}
	for i := 0; i < n; i++ {
		item, k, req := p.next()
		if &s.Items[item].Requests[k][0] != &req[0] {
			t.Fatalf("request index %d of %s is not the request", k, s.Items[item].Name)
		}
		counts[item]++
		if s.Items[item].Name == "many-files" {
			files[string(req)] = true
		}
		if o, ok := owner[&req[0]]; !ok || o != item {
			t.Fatalf("request of item %s not among its requests", s.Items[item].Name)
		}
	}
	total := 0
	for _, it := range s.Items {
		total += it.Weight
	}
	for i, it := range s.Items {
		want := float64(it.Weight) / float64(total)
		got := float64(counts[i]) / n
		if math.Abs(got-want) > 0.005 {
			t.Errorf("%s: share %.4f, want %.4f", it.Name, got, want)
		}
	}
	// 40,000 picks over 10,000 files reach about 98% of them.
	if len(files) < ManyFilesCount*95/100 {
		t.Errorf("only %d of %d files requested", len(files), ManyFilesCount)
	}
}

func TestPickerSingleItemAndZeroSkew(t *testing.T) {
	s := &Scenario{Items: []Item{{Name: "a", Weight: 1, Requests: [][]byte{[]byte("A")}}}}
	p := newPicker(s, 1, 0)
	for i := 0; i < 10; i++ {
		if item, k, req := p.next(); item != 0 || k != 0 || string(req) != "A" {
			t.Fatalf("got %d %d %q", item, k, req)
		}
	}
	// Weights 1:3: the first item gets a quarter.
	s = &Scenario{Items: []Item{
		{Name: "a", Weight: 1, Requests: [][]byte{[]byte("A")}},
		{Name: "b", Weight: 3, Requests: [][]byte{[]byte("B")}},
	}}
	p = newPicker(s, 7, 0)
	a := 0
	for i := 0; i < 100000; i++ {
		if item, _, _ := p.next(); item == 0 {
			a++
		}
	}
	if a < 24000 || a > 26000 {
		t.Errorf("item a picked %d times in 100000, want about 25000", a)
	}
}

// cold-files: one large file (ColdSetSize, in Cold), each request an
// 8 KiB range of it at a random 8 KiB-aligned offset, spread over the
// whole file.
func TestColdFilesScenario(t *testing.T) {
	s, err := NewScenario("cold-files", "h")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Items) != 1 || s.Items[0].Range == nil || len(s.Cold) != 1 || s.Cold[0] != "cold-set/2g.bin" {
		t.Fatalf("%d items, range %v, cold files %q", len(s.Items), s.Items[0].Range, s.Cold)
	}
	if s.ColdSize != DefaultColdSetSize || s.EvictEach || s.Downloads || s.PerConnection || s.Fixtures != 0 || s.LargeBodies {
		t.Errorf("%+v", s)
	}
	if !IsCold("cold-files") || IsCold("many-files") || isDownloads("cold-files") {
		t.Error("IsCold / isDownloads")
	}
	for _, want := range []string{"out of the page cache", "evicted", "before each run", "8 KiB ranges", "one large file", "small part"} {
		if !strings.Contains(s.Description, want) {
			t.Errorf("description %q does not say how coldness is kept (%q)", s.Description, want)
		}
	}

	// A set of 64 blocks: every pick is a well-formed range of one block,
	// and the picks cover the set.
	s, err = NewScenarioWith("cold-files", "h:1", Params{ColdSetSize: 64*ColdBlockSize + 100})
	if err != nil {
		t.Fatal(err)
	}
	if s.Cold[0] != "cold-set/"+sizeLabel(64*ColdBlockSize+100)+".bin" || s.ColdSize != 64*ColdBlockSize+100 {
		t.Fatalf("%q of %d", s.Cold, s.ColdSize)
	}
	p := newPicker(s, 7, 0)
	seen := map[int]bool{}
	for i := 0; i < 2000; i++ {
		item, k, req := p.next()
		if item != 0 || k < 0 || k >= 64 {
			t.Fatalf("pick %d: item %d, block %d", i, item, k)
		}
		want := fmt.Sprintf("GET /%s HTTP/1.1\r\nHost: h:1\r\nRange: bytes=%d-%d\r\n\r\n", s.Cold[0], k*ColdBlockSize, (k+1)*ColdBlockSize-1)
		if string(req) != want {
			t.Fatalf("pick %d: %q, want %q", i, req, want)
		}
		seen[k] = true
	}
	if len(seen) != 64 {
		t.Errorf("2000 picks hit %d of 64 blocks", len(seen))
	}
	if _, err := NewScenarioWith("cold-files", "h", Params{ColdSetSize: ColdBlockSize - 1}); err == nil {
		t.Error("a set smaller than one range accepted")
	}
}

// cold-large: one distinct file per connection, as many as Downloads, of
// ColdFileSize; each connection always asks for its own.
func TestColdLargeScenario(t *testing.T) {
	s, err := NewScenario("cold-large", "h")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cold) != DefaultDownloads || s.ColdSize != DefaultColdFileSize || !s.Downloads || !s.PerConnection || !s.LargeBodies || !s.EvictEach {
		t.Errorf("defaults: %d files of %d, %+v", len(s.Cold), s.ColdSize, s)
	}
	s, err = NewScenarioWith("cold-large", "h", Params{Downloads: 3, ColdFileSize: 3 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cold) != 3 || s.ColdSize != 3<<20 || s.Cold[2] != "cold-large/3m/f002.bin" {
		t.Fatalf("%q of %d", s.Cold, s.ColdSize)
	}
	if !IsCold("cold-large") || !isDownloads("cold-large") || !isDownloads("large-file") {
		t.Error("IsCold / isDownloads")
	}
	for conn := 0; conn < 5; conn++ {
		p := newPicker(s, uint64(conn), conn)
		for i := 0; i < 20; i++ {
			item, k, req := p.next()
			if item != 0 || k != conn%3 || !strings.HasPrefix(string(req), "GET /"+s.Cold[conn%3]+" ") {
				t.Fatalf("connection %d got request %d: %q", conn, k, req)
			}
		}
	}
}

func TestScenarioHelpWraps(t *testing.T) {
	h := ScenarioHelp()
	for _, line := range strings.Split(strings.TrimSuffix(h, "\n"), "\n") {
		if len(line) > 100 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
	for _, name := range ScenarioNames() {
		if !strings.Contains(h, "\n  "+name+" ") && !strings.HasPrefix(h, "  "+name+" ") {
			t.Errorf("%s missing from the help:\n%s", name, h)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"65536": 65536, "512k": 512 << 10, "64M": 64 << 20, "64MiB": 64 << 20, "64mb": 64 << 20, "1G": 1 << 30, " 2g ": 2 << 30,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "-1M", "1.5M", "64T", "x", "99999999999999G"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("%q accepted as %d", bad, n)
		}
	}
	if sizeLabel(64<<20) != "64m" || sizeLabel(1<<30) != "1g" || sizeLabel(12<<10) != "12k" || sizeLabel(1000) != "1000" {
		t.Error("sizeLabel")
	}
}
