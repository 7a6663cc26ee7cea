package protocol

import (
	"bytes"
	"encoding/binary"
)

// Parser turns bytes into request heads. It is stateless between calls: the
// reactor hands it the unconsumed part of its buffer each time more bytes
// arrive, and it answers "need more", "head of n bytes" or a final status.
type Parser struct {
	Limits Limits
	Compat Compat
}

// Parse parses one request head at the start of buf into req.
//
//   - (0, 0): the head is not complete yet; call again with more bytes.
//   - (n, 0): the head is complete and n bytes long; the body, if any, follows.
//   - (_, status): the request is invalid; answer status and close, because
//     the framing of the rest of the stream is unknown.
func (p *Parser) Parse(buf []byte, req *Request) (n int, status int) {
	req.Reset()
	lim := &p.Limits

	// RFC 9112 section 2.2: ignore empty lines (CRLF) before the request line.
	pos := 0
	for pos+1 < len(buf) && buf[pos] == '\r' && buf[pos+1] == '\n' {
		pos += 2
	}
	if pos > lim.MaxRequestLine {
		return 0, 400
	}

	lineEnd := bytes.IndexByte(buf[pos:], '\n')
	if lineEnd < 0 {
		// A trailing CR may be the first half of the CRLF, not part of the line.
		if got := len(buf) - pos; got > lim.MaxRequestLine &&
			(got > lim.MaxRequestLine+1 || buf[len(buf)-1] != '\r') {
			return 0, p.longLine(buf[pos:])
		}
		return 0, 0
	}
	lineLen := lineEnd
	if lineEnd > 0 && buf[pos+lineEnd-1] == '\r' {
		lineLen--
	}
	// The length is judged before the syntax, as it was while the line was
	// incomplete, so that the answer does not depend on how the bytes arrived.
	if lineLen > lim.MaxRequestLine {
		return 0, p.longLine(buf[pos : pos+lineLen])
	}
	if lineLen == lineEnd {
		return 0, 400 // bare LF: rejected, the safer choice RFC 9112 allows
	}
	if st := p.parseRequestLine(buf[pos:pos+lineLen], req); st != 0 {
		return 0, st
	}
	pos += lineEnd + 1
	blockStart := pos

	for {
		if pos > lim.MaxHeaderBytes {
			return 0, 431
		}
		end := bytes.IndexByte(buf[pos:], '\n')
		if end < 0 {
			if len(buf) > lim.MaxHeaderBytes {
				return 0, 431
			}
			return 0, 0
		}
		// Size before syntax, for the same reason as the request line.
		if pos+end+1 > lim.MaxHeaderBytes {
			return 0, 431
		}
		if end == 0 || buf[pos+end-1] != '\r' {
			return 0, 400
		}
		line := buf[pos : pos+end-1]
		if len(line) == 0 { // the blank line ends the head
			req.HeaderBlock = buf[blockStart:max(blockStart, pos-2)]
			pos += end + 1
			break
		}
		if len(req.Headers) == lim.MaxHeaders {
			return 0, 431
		}
		if st := p.parseField(line, req); st != 0 {
			return 0, st
		}
		pos += end + 1
	}
	if pos > lim.MaxHeaderBytes {
		return 0, 431
	}
	req.HeadLen = pos
	if st := p.check(req); st != 0 {
		return 0, st
	}
	return pos, 0
}

// longLine answers a request line over the limit: 414 is for a long
// target, so a line still in its method by then (no space) is 400 in
// modern mode (RFC 9112 3). Classic mode kept the C server's 414.
func (p *Parser) longLine(line []byte) int {
	if p.Compat == Modern && bytes.IndexByte(line[:min(len(line), p.Limits.MaxRequestLine+1)], ' ') < 0 {
		return 400
	}
	return 414
}

func (p *Parser) parseRequestLine(line []byte, req *Request) int {
	// One pass over the method and one over the target, each validating as
	// it looks for the space that ends it; the target's pass also notes its
	// first '?' and any '#'. (bytes.IndexByte per delimiter cost more than
	// the scan on lines this short.)
	sp1 := 0
	for sp1 < len(line) && line[sp1] != ' ' {
		if !isTchar(line[sp1]) {
			return 400
		}
		sp1++
	}
	if sp1 == 0 || sp1 == len(line) {
		return 400
	}
	method := line[:sp1]
	rest := line[sp1+1:]
	sp2, q, hash := 0, -1, false
	for sp2 < len(rest) && rest[sp2] != ' ' {
		switch c := rest[sp2]; {
		case c < ' ' || c == 0x7f:
			return 400
		case c > 0x7f && p.Compat == Modern:
			return 400 // the target is ASCII (RFC 9112 3.2); raw UTF-8 must be percent-encoded
		case c == '?':
			if q < 0 {
				q = sp2
			}
		case c == '#':
			hash = true
		}
		sp2++
	}
	if sp2 == 0 || sp2 == len(rest) {
		return 400
	}
	target, version := rest[:sp2], rest[sp2+1:]
	req.Method, req.Target = method, target

	switch {
	case string(version) == "HTTP/1.1":
		req.Minor = 1
	case string(version) == "HTTP/1.0":
		req.Minor = 0
	case len(version) == 8 && string(version[:5]) == "HTTP/" && isDigit(version[5]) &&
		version[6] == '.' && isDigit(version[7]):
		return 505
	default:
		return 400
	}

	if hash {
		return 400 // a fragment never travels in a request-target
	}
	path := target
	switch {
	case path[0] == '/':
	case string(path) == "*":
		if string(method) != "OPTIONS" {
			return 400
		}
	default:
		// absolute-form: scheme "://" authority [path] ["?" query]; only the
		// path and query are used.
		i := bytes.Index(path, []byte("://"))
		if i <= 0 || !isScheme(path[:i]) {
			return 400
		}
		auth := path[i+3:]
		j := bytes.IndexAny(auth, "/?")
		switch {
		case j >= 0 && auth[j] == '/':
			path = auth[j:]
			q = bytes.IndexByte(path, '?')
		default:
			// No path means "/": the last slash of "://" is one, and keeps
			// Path inside the buffer without allocating.
			if j >= 0 {
				req.Query = auth[j+1:]
			}
			req.Path = path[i+2 : i+3]
			return 0
		}
	}
	if q >= 0 {
		req.Query = path[q+1:]
		path = path[:q]
	}
	req.Path = path
	return 0
}

// trimOWS drops the optional whitespace (SP, HTAB) around a list element
// or a parameter (RFC 9110 5.6.3).
func trimOWS(b []byte) []byte { return bytes.Trim(b, " \t") }

// isScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s []byte) bool {
	for i, c := range s {
		alpha := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !alpha && (i == 0 || !isDigit(c) && c != '+' && c != '-' && c != '.') {
			return false
		}
	}
	return len(s) > 0
}

func (p *Parser) parseField(line []byte, req *Request) int {
	if line[0] == ' ' || line[0] == '\t' {
		return 400 // obs-fold
	}
	colon := 0
	if p.Compat == Classic {
		// The C server took any visible characters up to the colon as a
		// name, and /echo gives them back as they came.
		for colon < len(line) && line[colon] > ' ' && line[colon] < 0x7f && line[colon] != ':' {
			colon++
		}
	} else {
		for colon < len(line) && tchar[line[colon]] {
			colon++
		}
	}
	// The name must end at the colon: whitespace before it is an error.
	if colon == 0 || colon == len(line) || line[colon] != ':' {
		return 400
	}
	name := line[:colon]
	v := line[colon+1:]
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if !validValue(v) {
		return 400 // CR, LF, NUL and other controls never belong in a value
	}
	req.Headers = append(req.Headers, Header{Name: name, Value: v})

	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			req.Host = v
			req.HostCount++
		}
	case 6:
		if equalFold(name, "accept") {
			req.Accept = v
		} else if equalFold(name, "expect") {
			req.Expect = v
		}
	case 10:
		if equalFold(name, "connection") {
			parseConnection(v, req)
		}
	case 14:
		if equalFold(name, "content-length") {
			n, ok := parseContentLength(v)
			if !ok {
				return 400
			}
			if req.ContentLength >= 0 && req.ContentLength != n {
				return 400
			}
			req.ContentLength = n
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			parseTransferEncoding(v, req)
		}
	}
	return 0
}

// check applies the rules that need the whole head.
func (p *Parser) check(req *Request) int {
	if req.te != 0 {
		switch {
		case req.ContentLength >= 0 || req.Minor == 0 || p.Compat == Classic:
			return 400 // never guess which framing a smuggler meant
		case req.te&teBroken != 0 || req.te&teChunked == 0:
			return 400 // chunked must be the final coding, applied once
		case req.te&teOther != 0:
			return 501 // a coding we can not decode (gzip, ...)
		}
		req.Chunked = true
	}
	if p.Compat == Classic {
		req.Close = true // the C server answered one request per connection
	} else if req.Minor == 0 {
		if !req.KeepAlive {
			req.Close = true
		}
	} else if req.HostCount != 1 {
		return 400 // HTTP/1.1 requires exactly one Host
	}
	if p.Compat == Modern && req.HostCount == 1 && !ValidHost(req.Host) {
		return 400 // RFC 9112 3.2: an invalid Host value is a bad request
	}
	return 0
}

// ValidHost reports whether v is a Host value for an http URI: uri-host
// [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2), with uri-host an IP-literal
// in brackets or a reg-name (IPv4 addresses are reg-names by their
// characters) that is not empty (RFC 9110 4.2.1), and port digits only.
func ValidHost(v []byte) bool {
	host, port := v, []byte(nil)
	if len(v) > 0 && v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 2 {
			return false
		}
		for _, c := range v[1:end] {
			if !isHex(c) && c != ':' && c != '.' && c != 'v' && c != 'V' {
				return false
			}
		}
		host, port = v[:end+1], v[end+1:]
		if len(port) > 0 {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
		}
	} else {
		if i := bytes.IndexByte(v, ':'); i >= 0 {
			host, port = v[:i], v[i+1:]
		}
		for i := 0; i < len(host); i++ {
			c := host[i]
			switch {
			case c == '%':
				if i+2 >= len(host) || !isHex(host[i+1]) || !isHex(host[i+2]) {
					return false
				}
				i += 2
			case !regNameChar[c]:
				return false
			}
		}
	}
	for _, c := range port {
		if !isDigit(c) {
			return false
		}
	}
	return len(host) > 0
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

// regNameChar: unreserved and sub-delims of RFC 3986 (pct-encoded apart).
var regNameChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=" {
		t[c] = true
	}
	return t
}()

// Transfer-Encoding flags, gathered over every field line of the header.
const (
	tePresent = 1 << iota // the field was sent, even empty
	teChunked             // chunked seen
	teOther               // another coding seen before chunked
	teBroken              // chunked twice, or a coding after chunked
)

func parseTransferEncoding(v []byte, req *Request) {
	req.te |= tePresent
	for len(v) > 0 {
		var tok []byte
		tok, v, _ = bytes.Cut(v, []byte(","))
		tok = trimOWS(tok)
		switch {
		case len(tok) == 0:
		case req.te&teChunked != 0:
			req.te |= teBroken
		case equalFold(tok, "chunked"):
			req.te |= teChunked
		default:
			req.te |= teOther
		}
	}
}

func parseConnection(v []byte, req *Request) {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		tok := v
		if i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		tok = bytes.TrimSpace(tok)
		if equalFold(tok, "close") {
			req.Close = true
		} else if equalFold(tok, "keep-alive") {
			req.KeepAlive = true
		}
	}
}

// parseContentLength accepts 1*DIGIT and nothing else, up to 18 digits.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// tchar from RFC 9110 section 5.6.2.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return
}()

func isTchar(c byte) bool { return tchar[c] }

// validValue checks a field value eight bytes at a time: a word with no
// byte below SP and none equal to DEL is clean; any other word (HTAB, or a
// false alarm from the borrow) gets the exact per-byte check.
func validValue(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(v) >= 8 {
		x := binary.LittleEndian.Uint64(v)
		below := (x - ones*' ') &^ x & highs
		d := x ^ (ones * 0x7f)
		del := (d - ones) &^ d & highs
		if below|del != 0 {
			for _, c := range v[:8] {
				if badValueByte[c] {
					return false
				}
			}
		}
		v = v[8:]
	}
	for _, c := range v {
		if badValueByte[c] {
			return false
		}
	}
	return true
}

// badValueByte marks the controls that may not appear in a field value
// (everything below SP except HTAB, and DEL).
var badValueByte = func() (t [256]bool) {
	for c := 0; c < ' '; c++ {
		t[c] = c != '\t'
	}
	t[0x7f] = true
	return
}()
