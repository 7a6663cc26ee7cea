package loadtest

import (
	"bufio"
	"bytes"
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
			if it.Weight <= 0 || len(it.Requests) == 0 {
				t.Errorf("%s/%s: weight %d, %d requests", name, it.Name, it.Weight, len(it.Requests))
			}
			// Each request is exactly one well-formed HTTP/1.1 request.
			for _, raw := range []([]byte){it.Requests[0], it.Requests[len(it.Requests)-1]} {
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
	p := newPicker(s, 42)
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
		item, req := p.next()
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
	p := newPicker(s, 1)
	for i := 0; i < 10; i++ {
		if item, req := p.next(); item != 0 || string(req) != "A" {
			t.Fatalf("got %d %q", item, req)
		}
	}
	// Weights 1:3: the first item gets a quarter.
	s = &Scenario{Items: []Item{
		{Name: "a", Weight: 1, Requests: [][]byte{[]byte("A")}},
		{Name: "b", Weight: 3, Requests: [][]byte{[]byte("B")}},
	}}
	p = newPicker(s, 7)
	a := 0
	for i := 0; i < 100000; i++ {
		if item, _ := p.next(); item == 0 {
			a++
		}
	}
	if a < 24000 || a > 26000 {
		t.Errorf("item a picked %d times in 100000, want about 25000", a)
	}
}
