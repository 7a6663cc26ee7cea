// Package protocol holds HTTP/1.1 on bytes: the request parser, the response
// encoder, status texts and the cached Date. It makes no syscalls, starts no
// goroutines and allocates nothing per request on the hot path.
package protocol

// Header is one header field; both slices point into the connection's buffer.
type Header struct {
	Name, Value []byte
}

// Request is a parsed request head (and, once the reactor has it, its body).
// Every slice points into the reactor's read buffer, which the reactor leaves
// untouched until the job that carries the request comes back (DESIGN
// invariant 3). A Request is reused: Reset keeps the Headers capacity.
type Request struct {
	Method  []byte
	Target  []byte // request-target as sent
	Path    []byte // path part of the target, still percent-encoded
	Query   []byte // after '?', without it
	Minor   int    // HTTP/1.Minor
	Headers []Header

	// HeaderBlock is the header lines exactly as received: the bytes after the
	// request line's CRLF up to, not including, the final CRLFCRLF.
	HeaderBlock []byte

	Host          []byte
	HostCount     int
	ContentLength int64 // -1 when absent
	Chunked       bool  // Transfer-Encoding: chunked, accepted
	te            uint8 // Transfer-Encoding flags while parsing
	Close         bool  // the client asked to close, or HTTP/1.0 without keep-alive
	KeepAlive     bool  // Connection: keep-alive was sent
	Accept        []byte
	Expect        []byte

	HeadLen int    // bytes of the head, including leading empty lines and CRLFCRLF
	Body    []byte // Content-Length bytes after the head, set by the reactor
	TLS     bool   // it came over HTTPS, set by the reactor

	// Err is a final status the reactor decided for this request (parse
	// error, body too large, timeout). The handler answers it and the
	// connection closes after it.
	Err int
}

// Reset clears r for reuse, keeping the Headers backing array.
func (r *Request) Reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h, ContentLength: -1}
}

// IsMethod reports whether the method equals m exactly.
func (r *Request) IsMethod(m string) bool { return string(r.Method) == m }

// PathIs reports whether the path equals p exactly.
func (r *Request) PathIs(p string) bool { return string(r.Path) == p }

// HeaderValue returns the first value of the named header (case-insensitive).
// ListValue returns the value of a list-valued field (RFC 9110 5.3): the
// lines of a field sent several times, joined with ", " into scratch; a
// field sent once comes back as it is, without a copy.
func (r *Request) ListValue(name string, scratch []byte) ([]byte, bool) {
	var first []byte
	n := 0
	for i := range r.Headers {
		if !equalFold(r.Headers[i].Name, name) {
			continue
		}
		switch n++; n {
		case 1:
			first = r.Headers[i].Value
			continue
		case 2:
			scratch = append(scratch[:0], first...)
		}
		scratch = append(append(scratch, ", "...), r.Headers[i].Value...)
	}
	if n > 1 {
		return scratch, true
	}
	return first, n == 1
}

func (r *Request) HeaderValue(name string) ([]byte, bool) {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// equalFold compares an ASCII header name with a lower-case constant.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
