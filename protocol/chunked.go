package protocol

import "bytes"

// Chunked request bodies (RFC 9112 section 7.1). The reactor scans a body as
// its bytes arrive, without changing them, until the last chunk and the
// trailer section are in; then DecodeChunked compacts the data in place.

// Limits of the chunked framing itself.
const (
	maxChunkLine = 4096 // chunk-size line with its extensions, CRLF excluded
	maxChunkHex  = 15   // hex digits of a chunk size: below 2^60
)

const (
	phaseSize = iota
	phaseData
	phaseDataEnd
	phaseTrailer
	phaseDone
)

// ChunkScanner validates a chunked body incrementally. Its zero value is
// ready; Reset it before each new body.
type ChunkScanner struct {
	pos     int   // raw bytes of the body scanned so far
	remain  int64 // data bytes left in the current chunk
	phase   uint8
	size    int64 // decoded bytes so far
	trailer int   // trailer section bytes so far
}

// Reset prepares s for a new body.
func (s *ChunkScanner) Reset() { *s = ChunkScanner{} }

// Size is the number of decoded body bytes seen so far.
func (s *ChunkScanner) Size() int64 { return s.size }

// Scan continues over body, the raw bytes after the head received so far
// (a longer slice with the same start each time). It returns the raw length
// of the whole chunked body once it is complete (done), or a final status:
// 400 for broken framing, 413 when the decoded size passes maxSize, 431
// when the trailer section passes maxTrailer bytes.
func (s *ChunkScanner) Scan(body []byte, maxSize int64, maxTrailer int) (raw int, done bool, status int) {
	for s.phase != phaseDone {
		switch s.phase {
		case phaseSize:
			line, next, st := chunkLine(body, s.pos, maxChunkLine)
			if st != 0 || next < 0 {
				return 0, false, st
			}
			n, ok := parseChunkSize(line)
			if !ok {
				return 0, false, 400
			}
			if s.size += n; s.size > maxSize {
				return 0, false, 413
			}
			s.pos, s.remain = next, n
			s.phase = phaseData
			if n == 0 {
				s.phase = phaseTrailer
			}
		case phaseData:
			avail := int64(len(body) - s.pos)
			if avail == 0 {
				return 0, false, 0
			}
			take := min(avail, s.remain)
			s.pos += int(take)
			if s.remain -= take; s.remain == 0 {
				s.phase = phaseDataEnd
			}
		case phaseDataEnd:
			if len(body)-s.pos < 2 {
				if len(body) > s.pos && body[s.pos] != '\r' {
					return 0, false, 400
				}
				return 0, false, 0
			}
			if body[s.pos] != '\r' || body[s.pos+1] != '\n' {
				return 0, false, 400
			}
			s.pos += 2
			s.phase = phaseSize
		case phaseTrailer:
			line, next, st := chunkLine(body, s.pos, maxTrailer-s.trailer)
			if st == 400 && len(body)-s.pos > maxTrailer-s.trailer {
				st = 431
			}
			if st != 0 || next < 0 {
				return 0, false, st
			}
			if s.trailer += next - s.pos; s.trailer > maxTrailer {
				return 0, false, 431
			}
			s.pos = next
			if len(line) == 0 {
				s.phase = phaseDone
				break
			}
			if !validTrailerField(line) {
				return 0, false, 400
			}
		}
	}
	return s.pos, true, 0
}

// chunkLine finds the CRLF-terminated line at body[from:]. next is the
// offset after its CRLF, or -1 when more bytes are needed. A line longer
// than max, or ended by a bare LF, is a 400.
func chunkLine(body []byte, from, max int) (line []byte, next int, status int) {
	i := bytes.IndexByte(body[from:], '\n')
	if i < 0 {
		if len(body)-from > max+1 {
			return nil, -1, 400
		}
		return nil, -1, 0
	}
	if i == 0 || body[from+i-1] != '\r' || i-1 > max {
		return nil, -1, 400
	}
	return body[from : from+i-1], from + i + 1, 0
}

// parseChunkSize reads 1*HEXDIG [ BWS ";" extensions ]; the extensions are
// checked for control characters and otherwise ignored.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			break
		}
		if i == maxChunkHex {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, false
	}
	rest := line[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return n, true
	}
	if rest[0] != ';' {
		return 0, false
	}
	return n, validValue(rest)
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// validTrailerField checks name ":" value like a header field.
func validTrailerField(line []byte) bool {
	colon := 0
	for colon < len(line) && tchar[line[colon]] {
		colon++
	}
	return colon > 0 && colon < len(line) && line[colon] == ':' && validValue(line[colon+1:])
}

// DecodeChunked compacts a body that ChunkScanner accepted into its data
// bytes, in place, and returns them (a prefix of body).
func DecodeChunked(body []byte) []byte {
	out, pos := 0, 0
	for {
		i := bytes.IndexByte(body[pos:], '\n')
		n, _ := parseChunkSize(body[pos : pos+i-1])
		pos += i + 1
		if n == 0 {
			return body[:out]
		}
		out += copy(body[out:], body[pos:pos+int(n)])
		pos += int(n) + 2
	}
}
