package protocol

import (
	"slices"
	"testing"
)

func TestNegotiateEncoding(t *testing.T) {
	offered := []string{"br", "zstd", "gzip"} // the server's preference
	for _, c := range []struct {
		accept  string
		present bool
		want    string
		ok      bool
	}{
		{"", false, Identity, true}, // no field: the plain form
		{"", true, Identity, true},  // an empty field: identity only
		{"gzip", true, "gzip", true},
		{"GZIP", true, "gzip", true},
		{"gzip, zstd", true, "zstd", true},             // equal q: the server's order
		{"gzip;q=1.0, zstd;q=0.5", true, "gzip", true}, // higher q wins
		{"gzip ; q=0.8 , br;q=0.9", true, "br", true},
		{"*", true, "br", true},
		{"*;q=0.5, gzip", true, "gzip", true},
		{"gzip;q=0, *", true, "br", true},
		{"gzip;q=0", true, Identity, true},
		{"identity;q=0", true, "", false},
		{"identity;q=0, gzip;q=0.1", true, "gzip", true},
		{"*;q=0", true, "", false},
		{"*;q=0, identity", true, Identity, true},
		{"gzip;q=0.5, identity;q=0.9", true, Identity, true}, // identity preferred by the client
		{"gzip;q=0.9, identity;q=0.5", true, "gzip", true},
		{"deflate, compress", true, Identity, true}, // nothing offered that is asked for
		{"gzip;q=2", true, Identity, true},          // not a qvalue: ignored
		{"gzip;q=0.1234", true, Identity, true},
		{"gzip;level=9", true, Identity, true},
		{"gzip;q=1.001", true, Identity, true},
		{"gzip;q=0.001", true, "gzip", true},
		{",,gzip,,", true, "gzip", true},
	} {
		got, ok := NegotiateEncoding([]byte(c.accept), c.present, offered)
		if got != c.want || ok != c.ok {
			t.Errorf("Accept-Encoding %q (present %v): %q, %v; want %q, %v", c.accept, c.present, got, ok, c.want, c.ok)
		}
	}
}

// Whatever the field, the choice is one of the offered codings or
// identity, and ok says whether there is one.
func FuzzNegotiateEncoding(f *testing.F) {
	for _, s := range []string{"gzip", "*;q=0", "identity;q=0, br;q=0.5", "gzip;q=0.5,zstd;q=1.0", ";;;", "q=1"} {
		f.Add(s)
	}
	offered := []string{"br", "zstd", "gzip"}
	f.Fuzz(func(t *testing.T, accept string) {
		got, ok := NegotiateEncoding([]byte(accept), true, offered)
		switch {
		case ok && got != Identity && !slices.Contains(offered, got):
			t.Fatalf("%q: chose %q, not offered", accept, got)
		case !ok && got != "":
			t.Fatalf("%q: nothing acceptable, yet %q", accept, got)
		}
	})
}

// A list field sent on several lines means its lines joined with commas
// (RFC 9110 5.3); one line comes back as it is.
func TestListValue(t *testing.T) {
	req := &Request{Headers: []Header{
		{Name: []byte("Accept-Encoding"), Value: []byte("identity;q=0")},
		{Name: []byte("Host"), Value: []byte("h")},
		{Name: []byte("accept-encoding"), Value: []byte("gzip")},
		{Name: []byte("ACCEPT-ENCODING"), Value: []byte("br;q=0.5")},
	}}
	got, ok := req.ListValue("accept-encoding", nil)
	if !ok || string(got) != "identity;q=0, gzip, br;q=0.5" {
		t.Fatalf("three lines: %q, %v", got, ok)
	}
	if coding, ok := NegotiateEncoding(got, true, []string{"br", "gzip"}); coding != "gzip" || !ok {
		t.Fatalf("joined lines negotiate to %q, %v; want gzip", coding, ok)
	}
	got, ok = req.ListValue("host", nil)
	if !ok || string(got) != "h" || &got[0] != &req.Headers[1].Value[0] {
		t.Fatalf("one line: %q, %v, or copied", got, ok)
	}
	if got, ok = req.ListValue("te", nil); ok || got != nil {
		t.Fatalf("absent field: %q, %v", got, ok)
	}
}
