package loadtest

import (
	"strings"
	"testing"
)

// feedAll runs the reader over chunks as a connection would deliver them
// and returns the status, close flag and body length of each response.
func feedAll(t *testing.T, chunks ...string) (statuses []int, closes []bool, err error) {
	t.Helper()
	var rr respReader
	var buf []byte
	for _, c := range chunks {
		buf = append(buf, c...)
		for len(buf) > 0 {
			n, done, err := rr.feed(buf)
			if err != nil {
				return statuses, closes, err
			}
			buf = buf[n:]
			if done {
				statuses = append(statuses, rr.status)
				closes = append(closes, rr.close)
				continue
			}
			break
		}
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left unread", len(buf))
	}
	return statuses, closes, nil
}

const pong = "HTTP/1.1 200 OK\r\nServer: http_server\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\npong"

func TestReaderPipelinedResponsesInOneBuffer(t *testing.T) {
	in := pong + "HTTP/1.1 404 Not Found\r\ncontent-LENGTH: 9\r\n\r\nnot found" +
		"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: Close\r\n\r\nabc"
	st, cl, err := feedAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{200, 404, 304, 200}; !equalInts(st, want) {
		t.Errorf("statuses %v, want %v", st, want)
	}
	if cl[0] || cl[1] || cl[2] || !cl[3] {
		t.Errorf("close flags %v", cl)
	}
}

func TestReaderByteByByte(t *testing.T) {
	in := pong + pong
	chunks := make([]string, len(in))
	for i := range in {
		chunks[i] = in[i : i+1]
	}
	st, _, err := feedAll(t, chunks...)
	if err != nil || !equalInts(st, []int{200, 200}) {
		t.Fatalf("statuses %v, err %v", st, err)
	}
}

func TestReaderLargeBodyInPieces(t *testing.T) {
	body := strings.Repeat("x", 1<<20)
	in := "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + body + pong
	var chunks []string
	for len(in) > 0 {
		n := min(len(in), 65536+7)
		chunks = append(chunks, in[:n])
		in = in[n:]
	}
	st, _, err := feedAll(t, chunks...)
	if err != nil || !equalInts(st, []int{200, 200}) {
		t.Fatalf("statuses %v, err %v", st, err)
	}
}

func TestReaderErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n"},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n"},
		{"empty length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"huge head", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxHead)},
	} {
		if _, _, err := feedAll(t, tc.in); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestAsciiEqualFold(t *testing.T) {
	if !asciiEqualFold([]byte("Content-Length"), "content-length") || asciiEqualFold([]byte("Content-Lengt"), "content-length") ||
		asciiEqualFold([]byte("Content_Length"), "content-length") {
		t.Error("asciiEqualFold")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
