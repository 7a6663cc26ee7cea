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

// The validator cases of the static-file tests, against a file whose
// Last-Modified is lm: If-None-Match (tag, list, *, weak) and
// If-Modified-Since give 304, non-matching ones proceed (0, a 200); IMS is
// ignored when If-None-Match is present; If-Match and If-Unmodified-Since
// give 412, with If-Match taking precedence.
func TestPreconditionsValidators(t *testing.T) {
	lmTime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	etag := `"3e8-17a6d2a0c9f1b315-2a"`
	v := &Validators{ETag: []byte(etag), LastModified: lmTime}
	lm := lmTime.Format(http.TimeFormat)
	date := func(d time.Duration) string { return lmTime.Add(d).Format(http.TimeFormat) }
	future := time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)
	other := `"e2e-other"`

	for _, tc := range []struct {
		name   string
		method string
		hdr    []string
		want   int // 0: proceed with the 200
	}{
		{"INM current", "GET", []string{"If-None-Match", etag}, 304},
		{"INM list with it", "GET", []string{"If-None-Match", `"e2e-a", ` + etag + `, "e2e-b"`}, 304},
		{"INM list without spaces", "GET", []string{"If-None-Match", `"e2e-a",` + etag}, 304},
		{"INM star", "GET", []string{"If-None-Match", "*"}, 304},
		{"INM weak current", "GET", []string{"If-None-Match", "W/" + etag}, 304},
		{"INM other", "GET", []string{"If-None-Match", other}, 0},
		{"INM other weak", "GET", []string{"If-None-Match", "W/" + other}, 0},
		{"INM list without it", "GET", []string{"If-None-Match", `"e2e-a", "e2e-b"`}, 0},
		{"IMS equal", "GET", []string{"If-Modified-Since", lm}, 304},
		{"IMS an hour after", "GET", []string{"If-Modified-Since", date(time.Hour)}, 304},
		{"IMS equal, RFC 850 form", "GET", []string{"If-Modified-Since", lmTime.Format("Monday, 02-Jan-06 15:04:05 GMT")}, 304},
		{"IMS equal, asctime form", "GET", []string{"If-Modified-Since", lmTime.Format(time.ANSIC)}, 304},
		{"IMS a second before", "GET", []string{"If-Modified-Since", date(-time.Second)}, 0},
		{"IMS an hour before", "GET", []string{"If-Modified-Since", date(-time.Hour)}, 0},
		{"IMS not a date", "GET", []string{"If-Modified-Since", "yesterday"}, 0},
		{"INM other beats IMS after", "GET", []string{"If-None-Match", other, "If-Modified-Since", date(time.Hour)}, 0},
		{"INM other beats IMS in the future", "GET", []string{"If-None-Match", other, "If-Modified-Since", future}, 0},
		{"INM current beats IMS before", "GET", []string{"If-None-Match", etag, "If-Modified-Since", date(-time.Hour)}, 304},
		{"HEAD INM current", "HEAD", []string{"If-None-Match", etag}, 304},
		{"HEAD IMS equal", "HEAD", []string{"If-Modified-Since", lm}, 304},
		{"INM current with a Range", "GET", []string{"If-None-Match", etag, "Range", "bytes=0-9"}, 304},
		{"IM other", "GET", []string{"If-Match", other}, 412},
		{"IM weak current", "GET", []string{"If-Match", "W/" + etag}, 412},
		{"IM current", "GET", []string{"If-Match", etag}, 0},
		{"IM star", "GET", []string{"If-Match", "*"}, 0},
		{"IM list with it", "GET", []string{"If-Match", `"e2e-a", ` + etag}, 0},
		{"IUS an hour before", "GET", []string{"If-Unmodified-Since", date(-time.Hour)}, 412},
		{"IUS a second before", "GET", []string{"If-Unmodified-Since", date(-time.Second)}, 412},
		{"IUS equal", "GET", []string{"If-Unmodified-Since", lm}, 0},
		{"IUS an hour after", "GET", []string{"If-Unmodified-Since", date(time.Hour)}, 0},
		{"IM current beats IUS before", "GET", []string{"If-Match", etag, "If-Unmodified-Since", date(-time.Hour)}, 0},
		{"IM other before INM current", "GET", []string{"If-Match", other, "If-None-Match", etag}, 412},
		{"IM current then INM current", "GET", []string{"If-Match", etag, "If-None-Match", etag}, 304},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Preconditions(condRequest(tc.method, tc.hdr...), v); got != tc.want {
				t.Errorf("%s %q: %d, want %d", tc.method, tc.hdr, got, tc.want)
			}
		})
	}
}

// The If-Range cases of the static-file tests: the current ETag or the
// exact Last-Modified date keeps the range (206); another tag, a weak tag
// or another date gives the whole file (200).
func TestRangeAppliesIfRange(t *testing.T) {
	lmTime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	etag := `"3e8-17a6d2a0c9f1b315-2a"`
	v := &Validators{ETag: []byte(etag), LastModified: lmTime}
	date := func(d time.Duration) string { return lmTime.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name, ifRange string
		want          bool
	}{
		{"current ETag", etag, true},
		{"other ETag", `"e2e-not-the-tag"`, false},
		{"weak current ETag", "W/" + etag, false},
		{"exact Last-Modified", lmTime.Format(http.TimeFormat), true},
		{"a second earlier", date(-time.Second), false},
		{"an hour earlier", date(-time.Hour), false},
		{"an hour later", date(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := condRequest("GET", "Range", "bytes=10-19", "If-Range", tc.ifRange)
			if got := RangeApplies(req, v); got != tc.want {
				t.Errorf("If-Range %q: %v, want %v", tc.ifRange, got, tc.want)
			}
		})
	}
}
