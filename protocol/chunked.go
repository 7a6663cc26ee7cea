package protocol

import "bytes"

// Chunked request bodies (RFC 9112 section 7.1). The reactor scans a body as
// its bytes arrive, without changing them, until the last chunk and the
// trailer section are in; then DecodeChunked compacts the data in place.

// Limits of the chunked framing itself.
const (
	maxChunkLine = 4096 // chunk-size line with its extensions, CRLF excluded
	maxChunkHex  = 15   // hex digits of a chunk size: below 2^60

	// The bound on chunk metadata, as net/http has it since CVE-2023-39326
	// (net/http/internal/chunked.go): each chunk may spend 16 bytes plus
	// twice its data on its size line and the CRLF after its data; what it
	// spends beyond that accumulates (never below zero), and past
	// maxChunkExcess the body is refused.
	chunkOverhead  = 16
	maxChunkExcess = 16 * 1024
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
	excess  int64 // chunk metadata beyond what the data pays for
}

// Reset prepares s for a new body.
func (s *ChunkScanner) Reset() { *s = ChunkScanner{} }

// Size is the number of decoded body bytes seen so far.
func (s *ChunkScanner) Size() int64 { return s.size }

// Scan continues over body, the raw bytes after the head received so far
// (a longer slice with the same start each time). It returns the raw length
// of the whole chunked body once it is complete (done), or a final status:
// 400 for broken framing or for chunk metadata (size lines, extensions)
// out of proportion to the data (see maxChunkExcess), 413 when the decoded
// size passes maxSize, 431 when the trailer section passes maxTrailer bytes.
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
			// The size line, and the CRLF after the data, against the
			// allowance of this chunk (net/http's rule, to the byte).
			s.excess += int64(len(line)) + 2
			s.excess = max(s.excess-(chunkOverhead+2*n), 0)
			if s.excess > maxChunkExcess {
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

// parseChunkSize reads a chunk line without its CRLF (RFC 9112 section
// 7.1): 1*HEXDIG, then the chunk extensions, checked against their grammar
// and otherwise ignored.
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
	return n, validChunkExt(line[i:])
}

// validChunkExt checks what follows the chunk size (RFC 9112 section 7.1.1):
//
//	chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//	chunk-ext-name = token
//	chunk-ext-val  = token / quoted-string
//
// BWS stands only around ";" and "=": whitespace at the end of the line, or
// after the size with no ";" following, is refused.
func validChunkExt(ext []byte) bool {
	i := 0
	for i < len(ext) {
		i = skipBWS(ext, i)
		if i == len(ext) || ext[i] != ';' {
			return false
		}
		i = skipBWS(ext, i+1)
		j := skipToken(ext, i)
		if j == i {
			return false
		}
		i = j
		k := skipBWS(ext, j)
		if k == len(ext) || ext[k] != '=' {
			continue
		}
		k = skipBWS(ext, k+1)
		if k < len(ext) && ext[k] == '"' {
			i = skipQuoted(ext, k)
		} else {
			i = skipToken(ext, k)
			if i == k {
				return false
			}
		}
		if i < 0 {
			return false
		}
	}
	return true
}

// skipBWS returns the offset of the first byte at or after i in b that is
// not SP or HTAB.
func skipBWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// skipToken returns the offset after the tchars starting at i in b.
func skipToken(b []byte, i int) int {
	for i < len(b) && tchar[b[i]] {
		i++
	}
	return i
}

// skipQuoted returns the offset after the quoted-string (RFC 9110 section
// 5.6.4) whose opening DQUOTE is at b[i], or -1 when it is malformed or
// not closed.
func skipQuoted(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i++; i == len(b) || !quotedPairByte(b[i]) {
				return -1
			}
		case !qdtextByte(c):
			return -1
		}
	}
	return -1
}

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
func qdtextByte(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5b) ||
		(0x5d <= c && c != 0x7f)
}

// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
func quotedPairByte(c byte) bool {
	return c == '\t' || (c >= ' ' && c != 0x7f)
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
