package e2e

// End-to-end conformance of chunk lines (RFC 9112 sections 7.1 and 7.1.1)
// and of the bound on chunk metadata against the data (net/http's rule
// since CVE-2023-39326): a broken chunk line or a body made mostly of
// extensions gets 400 and the connection closes; chunk extensions in
// their valid forms are accepted and discarded.

import (
	"fmt"
	"strings"
	"testing"
)

// chunkedWrite is the head of a chunked POST /write.
const chunkedWrite = "POST /write HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n"

// chunkedExtBody is n one-byte chunks, each with an extension of extLen
// bytes, then the last chunk.
func chunkedExtBody(n, extLen int) string {
	var b strings.Builder
	ext := ";x=" + strings.Repeat("e", extLen-3)
	for range n {
		fmt.Fprintf(&b, "1%s\r\nd\r\n", ext)
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// chunkedRead is the body GET /read returns on a fresh connection.
func chunkedRead(t *testing.T, addr string) string {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	c.Send("GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n")
	r := c.ReadResponse(false)
	if r.Status != 200 {
		t.Fatalf("GET /read: status %d, want 200 (head %q)", r.Status, r.Head)
	}
	return string(r.Body)
}

// TestE2EChunkLineConformance: chunk lines outside the RFC 9112 grammar,
// and chunk extensions that outweigh the data, get 400 and a closed
// connection, and store nothing; a request using the valid forms is
// stored decoded.
func TestE2EChunkLineConformance(t *testing.T) {
	s := startServer(t, serverOptions{})
	empty := chunkedRead(t, s.Addr)

	bad := []struct {
		name, body string
	}{
		{"extension without a name", "5;\r\nhello\r\n0\r\n\r\n"},
		{"extension name not a token", "5;bad[=x\r\nhello\r\n0\r\n\r\n"},
		{"whitespace after the size", "5 \r\nhello\r\n0\r\n\r\n"},
		{"unterminated quoted value", "5;x=\"open\r\nhello\r\n0\r\n\r\n"},
		// 100 one-byte chunks carrying 1000-byte extensions: the excess
		// passes 16 KiB by the 17th chunk.
		{"100 one-byte chunks with 1000-byte extensions", chunkedExtBody(100, 1000)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s.Addr)
			defer c.Close()
			c.Send(chunkedWrite + tc.body)
			r := c.ReadResponse(false)
			if r.Status != 400 {
				t.Fatalf("status %d, want 400 (head %q)", r.Status, r.Head)
			}
			if !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "close") {
				t.Errorf("the 400 response lacks Connection: close: %q", r.Head)
			}
			c.ExpectClosed()
			if got := chunkedRead(t, s.Addr); got != empty {
				t.Errorf("a rejected request changed the store: GET /read %q, want %q", clip([]byte(got)), empty)
			}
		})
	}

	t.Run("valid extensions", func(t *testing.T) {
		c := dial(t, s.Addr)
		defer c.Close()
		c.Send(chunkedWrite +
			"5;name\r\nhello\r\n" +
			"2;name=value\r\n, \r\n" +
			"5 ; name = \"quoted \\\" value\"\r\nworld\r\n" +
			"0001\t;\ta=1;b;c=\"x;y\"\r\n!\r\n" +
			"A\r\n0123456789\r\n" +
			"0;last\r\n\r\n")
		want := "hello, world!0123456789"
		r := c.ReadResponse(false)
		if r.Status != 200 || string(r.Body) != want {
			t.Fatalf("chunked /write: %d %q, want 200 %q", r.Status, r.Body, want)
		}
		if got := chunkedRead(t, s.Addr); got != want {
			t.Errorf("GET /read: %q, want %q", got, want)
		}
	})

	t.Run("many small chunks", func(t *testing.T) {
		// 1000 one-byte chunks with no extension stay within the bound.
		c := dial(t, s.Addr)
		defer c.Close()
		c.Send(chunkedWrite + strings.Repeat("1\r\nz\r\n", 1000) + "0\r\n\r\n")
		want := strings.Repeat("z", 1000)
		r := c.ReadResponse(false)
		if r.Status != 200 || string(r.Body) != want {
			t.Fatalf("chunked /write: %d %q, want 200 %q", r.Status, clip(r.Body), clip([]byte(want)))
		}
		if got := chunkedRead(t, s.Addr); got != want {
			t.Errorf("GET /read: %q, want %q", clip([]byte(got)), clip([]byte(want)))
		}
	})
}
