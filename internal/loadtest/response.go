package loadtest

import (
	"bytes"
	"errors"
)

// maxHead is the largest response head the reader accepts. The server's
// heads are a few hundred bytes; anything near this is a broken stream.
const maxHead = 16 << 10

var (
	errBadStatus = errors.New("malformed status line")
	errBadLength = errors.New("malformed Content-Length")
	errHeadLarge = errors.New("response head too large")
	errChunked   = errors.New("chunked response (not supported: the server always sends Content-Length)")
)

// respReader is an incremental reader of HTTP/1.1 responses framed by
// Content-Length, which is all this project's server sends. It keeps no
// bytes: the caller hands it what has arrived, and it says how much it used
// and whether a response ended. A response without Content-Length is taken
// to have no body (the server omits it only on 204 and 304).
type respReader struct {
	inBody    bool
	remaining int64 // body bytes still to come
	status    int
	close     bool // the response carried Connection: close
	// What the compressed check needs: Content-Encoding ("" if none),
	// whether Vary names Accept-Encoding and, when keep is set before the
	// head arrives, the body.
	coding string
	vary   bool
	keep   bool
	body   []byte
}

// feed consumes bytes from buf. It returns how many it used and whether a
// complete response ended at that point; the caller calls it again with the
// rest. With done false it has used everything it can and needs more bytes.
func (r *respReader) feed(buf []byte) (n int, done bool, err error) {
	if !r.inBody {
		end := bytes.Index(buf, crlfcrlf)
		if end < 0 {
			if len(buf) >= maxHead {
				return 0, false, errHeadLarge
			}
			return 0, false, nil
		}
		if err := r.parseHead(buf[:end+2]); err != nil {
			return 0, false, err
		}
		n = end + 4
		r.inBody = true
	}
	take := int64(len(buf) - n)
	if take > r.remaining {
		take = r.remaining
	}
	if r.keep {
		r.body = append(r.body, buf[n:n+int(take)]...)
	}
	r.remaining -= take
	n += int(take)
	if r.remaining > 0 {
		return n, false, nil
	}
	r.inBody = false
	return n, true, nil
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	crlf     = []byte("\r\n")
)

// parseHead reads the status code, the two fields that matter for framing
// and those the compressed check reads from a head ending in CRLF (the
// blank line excluded).
func (r *respReader) parseHead(head []byte) error {
	// "HTTP/1.1 200 OK"
	if len(head) < 12 || !bytes.HasPrefix(head, []byte("HTTP/1.")) || head[8] != ' ' {
		return errBadStatus
	}
	code := 0
	for _, c := range head[9:12] {
		if c < '0' || c > '9' {
			return errBadStatus
		}
		code = code*10 + int(c-'0')
	}
	r.status = code
	r.remaining = 0
	r.close = false
	r.coding, r.vary, r.body = "", false, r.body[:0]
	line := bytes.IndexByte(head, '\n') + 1
	for line < len(head) {
		end := bytes.Index(head[line:], crlf)
		if end < 0 {
			break
		}
		field := head[line : line+end]
		line += end + 2
		colon := bytes.IndexByte(field, ':')
		if colon < 0 {
			continue
		}
		name, value := field[:colon], bytes.TrimSpace(field[colon+1:])
		switch {
		case len(name) == 14 && asciiEqualFold(name, "content-length"):
			if len(value) == 0 || len(value) > 18 {
				return errBadLength
			}
			var v int64
			for _, c := range value {
				if c < '0' || c > '9' {
					return errBadLength
				}
				v = v*10 + int64(c-'0')
			}
			r.remaining = v
		case len(name) == 10 && asciiEqualFold(name, "connection"):
			r.close = asciiEqualFold(value, "close")
		case len(name) == 17 && asciiEqualFold(name, "transfer-encoding"):
			return errChunked
		case len(name) == 16 && asciiEqualFold(name, "content-encoding"):
			r.coding = codingName(value)
		case len(name) == 4 && asciiEqualFold(name, "vary"):
			r.vary = r.vary || varyEncoding(value)
		}
	}
	return nil
}

// asciiEqualFold compares b with lower, which is all lower case.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// codingName is a Content-Encoding value as a string, without allocating
// for the codings the check knows.
func codingName(v []byte) string {
	for _, c := range []string{"zstd", "gzip", "identity", "br"} {
		if asciiEqualFold(v, c) {
			return c
		}
	}
	return string(v)
}

// varyEncoding reports whether a Vary value covers Accept-Encoding.
func varyEncoding(v []byte) bool {
	for len(v) > 0 {
		tok := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		tok = bytes.TrimSpace(tok)
		if asciiEqualFold(tok, "accept-encoding") || (len(tok) == 1 && tok[0] == '*') {
			return true
		}
	}
	return false
}
