package protocol

import (
	"net/http"
	"testing"
	"time"
)

func condRequest(method string, headers ...string) *Request {
	r := &Request{Method: []byte(method), ContentLength: -1}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, Header{Name: []byte(headers[i]), Value: []byte(headers[i+1])})
	}
	return r
}

func TestPreconditions(t *testing.T) {
	mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := &Validators{ETag: []byte(`"abc"`), LastModified: mod}
	before := mod.Add(-time.Hour).Format(http.TimeFormat)
	at := mod.Format(http.TimeFormat)
	after := mod.Add(time.Hour).Format(http.TimeFormat)
	cases := []struct {
		method  string
		headers []string
		want    int
	}{
		{"GET", nil, 0},
		{"GET", []string{"If-None-Match", `"abc"`}, 304},
		{"HEAD", []string{"If-None-Match", `"x", "abc"`}, 304},
		{"GET", []string{"If-None-Match", `W/"abc"`}, 304},
		{"GET", []string{"If-None-Match", `*`}, 304},
		{"GET", []string{"If-None-Match", `"other"`}, 0},
		{"POST", []string{"If-None-Match", `"abc"`}, 412},
		{"GET", []string{"If-Modified-Since", at}, 304},
		{"GET", []string{"If-Modified-Since", after}, 304},
		{"GET", []string{"If-Modified-Since", before}, 0},
		{"GET", []string{"If-Modified-Since", "garbage"}, 0},
		{"GET", []string{"If-None-Match", `"other"`, "If-Modified-Since", after}, 0}, // INM wins
		{"GET", []string{"If-Match", `"abc"`}, 0},
		{"GET", []string{"If-Match", `*`}, 0},
		{"GET", []string{"If-Match", `"x"`}, 412},
		{"GET", []string{"If-Match", `W/"abc"`}, 412}, // strong comparison
		{"GET", []string{"If-Unmodified-Since", before}, 412},
		{"GET", []string{"If-Unmodified-Since", at}, 0},
		{"GET", []string{"If-Match", `"abc"`, "If-Unmodified-Since", before}, 0}, // If-Match wins
		{"GET", []string{"If-Match", `"x"`, "If-None-Match", `"abc"`}, 412},
	}
	for _, c := range cases {
		if got := Preconditions(condRequest(c.method, c.headers...), v); got != c.want {
			t.Errorf("%s %v: %d, want %d", c.method, c.headers, got, c.want)
		}
	}
}

func TestRangeApplies(t *testing.T) {
	mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := &Validators{ETag: []byte(`"abc"`), LastModified: mod}
	cases := []struct {
		ifRange string
		want    bool
	}{
		{`"abc"`, true},
		{`"abd"`, false},
		{`W/"abc"`, false},
		{mod.Format(http.TimeFormat), true},
		{mod.Add(time.Second).Format(http.TimeFormat), false},
		{"nonsense", false},
	}
	for _, c := range cases {
		if got := RangeApplies(condRequest("GET", "If-Range", c.ifRange), v); got != c.want {
			t.Errorf("If-Range %q: %v, want %v", c.ifRange, got, c.want)
		}
	}
	if !RangeApplies(condRequest("GET"), v) {
		t.Error("without If-Range a range applies")
	}
}

func TestAppendETag(t *testing.T) {
	if got := string(AppendETag(nil, 255, 4096, 16)); got != `"ff-1000-10"` {
		t.Fatalf("got %s", got)
	}
}
