package protocol

import "bytes"

// Framing decides where the body of each request on a connection ends
// (RFC 9112 section 6): after Content-Length bytes, or after the last chunk
// and the trailer section of a chunked body. The reactor hands it the bytes
// it has received so far and acts on the answer; Framing reads no socket
// and keeps no clock, so its rules are tested on bytes alone.
//
// One Framing follows one connection. A chunked body that arrives in pieces
// is scanned once: the scan resumes where it stopped, for as long as the
// same request (named by its offset in the stream) is asked about.
type Framing struct {
	Expect     bool // honour Expect: 100-continue, answer 417 to other expectations
	MaxTrailer int  // head plus trailer section bytes of one request (431 past it)

	chunk     ChunkScanner
	at        int  // offset of the request the chunk scan belongs to (-1: none)
	continued bool // 100 Continue was asked for this request
}

// NewFraming returns the framing state of a new connection.
func NewFraming(expect bool, maxHead int) Framing {
	return Framing{Expect: expect, MaxTrailer: maxHead, at: -1}
}

// Admit checks a parsed head against its route's body limit before any of
// its body is read: 413 for a declared length past limit, 417 for an
// expectation other than 100-continue. 0 admits it.
func (f *Framing) Admit(req *Request, limit int64) int {
	if req.ContentLength > limit {
		return 413
	}
	if f.Expect && len(req.Expect) > 0 && !bytes.EqualFold(req.Expect, continueToken) {
		return 417
	}
	return 0
}

var continueToken = []byte("100-continue")

// Body looks at the bytes received after the head of req (headLen bytes,
// starting at offset at of the stream) and reports the raw length of its
// body once all of it is in (done), or a final status when the framing is
// broken (400) or the body passes limit (413) or the trailers pass
// MaxTrailer (431).
func (f *Framing) Body(req *Request, after []byte, at, headLen int, limit int64) (raw int, done bool, status int) {
	if !req.Chunked {
		raw = int(max(req.ContentLength, 0))
		return raw, len(after) >= raw, 0
	}
	if f.at != at {
		f.chunk.Reset()
		f.at = at
	}
	return f.chunk.Scan(after, limit, f.MaxTrailer-headLen)
}

// Take returns the body of raw bytes that Body reported complete: chunked
// data is decoded in place, so body's bytes must belong to this request.
// The next request starts afresh.
func (f *Framing) Take(req *Request, body []byte) []byte {
	f.at, f.continued = -1, false
	if req.Chunked {
		return DecodeChunked(body)
	}
	return body
}

// Continue reports whether 100 Continue is to be sent now for req, whose
// body is awaited: the client asked for it, over HTTP/1.1, and it has not
// been sent for this request yet.
func (f *Framing) Continue(req *Request) bool {
	if !f.Expect || f.continued || req.Minor != 1 || len(req.Expect) == 0 {
		return false
	}
	f.continued = true
	return true
}

// Continue100 is the interim response that asks the client for its body.
var Continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")
