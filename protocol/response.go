package protocol

import (
	"strconv"
	"sync/atomic"
)

// Span is a range of Batch.Buf.
type Span struct{ Start, End int }

// Len is the number of bytes in the span.
func (s Span) Len() int { return s.End - s.Start }

// FileSegment is a region of an open file that the reactor sends with
// sendfile. The response that holds it owns the descriptor (DESIGN
// invariant 5): the reactor closes it once, whatever happens.
type FileSegment struct {
	Fd  int
	Off int64
	Len int64

	// Ready is how many bytes from Off a worker has made sure are in the
	// page cache; the reactor sends no further before it knows more are.
	Ready int64
}

// Item is one encoded response of a batch. When HasFile is set the item owns
// File.Fd, even if File.Len is zero.
type Item struct {
	Status  int
	Head    Span
	Body    Span
	File    FileSegment
	HasFile bool
	Close   bool  // close the connection once this response is out
	Route   uint8 // which handler answered, for the metrics (opaque here)
}

// BodyLen is the number of body bytes the item sends.
func (it *Item) BodyLen() int64 {
	if it.HasFile {
		return it.File.Len
	}
	return int64(it.Body.Len())
}

// Batch holds the encoded responses to the requests of one job, in request
// order. Buf holds every header and in-memory body; files stay in the kernel.
type Batch struct {
	Buf   []byte
	Items []Item

	// Scratch is reusable memory for a handler building Reply.Extra, so
	// that dynamic headers cost no allocation. Encode copies out of it.
	Scratch []byte
}

// Reset empties b, keeping its memory. It does not close files.
func (b *Batch) Reset() {
	b.Buf = b.Buf[:0]
	b.Items = b.Items[:0]
}

// Field is an extra response header.
type Field struct{ Name, Value string }

// Reply is what a handler wants to send; the Encoder turns it into bytes.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
	File        FileSegment // used when HasFile
	HasFile     bool
	Fields      []Field
	Extra       []byte // header lines, each ending in CRLF, copied verbatim
	Bodiless    bool   // a status without content (304): no body, no Content-Length
	Close       bool   // close the connection after this response
	Route       uint8  // which handler answered, for the metrics
}

// Encoder writes responses in the configured wire format.
type Encoder struct {
	Compat Compat
	Server string // value of the Server header in modern mode

	draining atomic.Bool
	heads    atomic.Pointer[headTable]
}

// headTable holds, for each status this server sends, the bytes every
// modern response with it starts with: "HTTP/1.1 200 OK\r\nServer: ...\r\nDate: ".
// One copy instead of seven appends and a number conversion.
type headTable [600]string

func (e *Encoder) head(status int) string {
	t := e.heads.Load()
	if t == nil {
		t = new(headTable) // racing encoders build equal tables; either one serves
		for code := 100; code < len(t); code++ {
			if text := StatusText(code); text != "Unknown" {
				t[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\nServer: " + e.Server + "\r\nDate: "
			}
		}
		e.heads.Store(t)
	}
	if status >= 100 && status < len(t) && t[status] != "" {
		return t[status]
	}
	return "HTTP/1.1 " + strconv.Itoa(status) + " Unknown\r\nServer: " + e.Server + "\r\nDate: "
}

// Drain makes every response encoded from now on close its connection, so
// that clients learn of a shutdown from the response itself.
func (e *Encoder) Drain() { e.draining.Store(true) }

// Encode appends the response r to req onto b.
func (e *Encoder) Encode(b *Batch, req *Request, r *Reply) {
	it := Item{Status: r.Status, Route: r.Route, Close: r.Close || req.Close || req.Err != 0 || e.draining.Load()}
	headStart := len(b.Buf)
	bodyLen := int64(len(r.Body))
	if r.HasFile {
		bodyLen = r.File.Len
	}

	if e.Compat == Classic {
		status, line := classicStatus(r.Status)
		it.Status = status
		it.Close = true // the C server closed after every response
		b.Buf = append(b.Buf, line...)
		if status != 200 {
			// errors carried no header and no body
			b.Buf = append(b.Buf, "\r\n"...)
			it.Head = Span{headStart, len(b.Buf)}
			it.Body = Span{len(b.Buf), len(b.Buf)}
			it.adoptFile(r, false)
			b.Items = append(b.Items, it)
			return
		}
		b.Buf = append(b.Buf, "Content-Length: "...)
		b.Buf = strconv.AppendInt(b.Buf, bodyLen, 10)
		b.Buf = append(b.Buf, "\r\n\r\n"...)
	} else {
		b.Buf = append(b.Buf, e.head(r.Status)...)
		b.Buf = appendDate(b.Buf)
		b.Buf = append(b.Buf, "\r\n"...)
		if r.ContentType != "" {
			b.Buf = append(b.Buf, "Content-Type: "...)
			b.Buf = append(b.Buf, r.ContentType...)
			b.Buf = append(b.Buf, "\r\n"...)
		}
		if !r.Bodiless {
			b.Buf = append(b.Buf, "Content-Length: "...)
			b.Buf = strconv.AppendInt(b.Buf, bodyLen, 10)
			b.Buf = append(b.Buf, "\r\n"...)
		}
		b.Buf = append(b.Buf, r.Extra...)
		for _, f := range r.Fields {
			b.Buf = append(b.Buf, f.Name...)
			b.Buf = append(b.Buf, ": "...)
			b.Buf = append(b.Buf, f.Value...)
			b.Buf = append(b.Buf, "\r\n"...)
		}
		switch {
		case it.Close:
			b.Buf = append(b.Buf, "Connection: close\r\n"...)
		case req.Minor == 0:
			b.Buf = append(b.Buf, "Connection: keep-alive\r\n"...)
		}
		b.Buf = append(b.Buf, "\r\n"...)
	}
	it.Head = Span{headStart, len(b.Buf)}

	sendBody := !req.IsMethod("HEAD") && !r.Bodiless
	if r.HasFile {
		it.adoptFile(r, sendBody)
	} else if sendBody {
		b.Buf = append(b.Buf, r.Body...)
	}
	it.Body = Span{it.Head.End, len(b.Buf)}
	b.Items = append(b.Items, it)
}

// adoptFile moves the reply's descriptor into the item, which now owns it.
// A file whose bytes will not be sent (HEAD, classic errors) still travels to
// the reactor with a zero length, so that it is closed in one place only.
func (it *Item) adoptFile(r *Reply, send bool) {
	if !r.HasFile {
		return
	}
	it.File, it.HasFile = r.File, true
	if !send {
		it.File.Len = 0
	}
}

var retryAfter = []Field{{Name: "Retry-After", Value: "1"}}

// Error appends an error response: the status's plain-text body from the
// status table, the given fields, and for 503 a Retry-After. When the
// reactor decided the error (req.Err), the response closes the connection:
// the framing of the rest of the stream is unknown.
func (e *Encoder) Error(b *Batch, req *Request, status int, fields []Field) {
	if status == 503 && fields == nil {
		fields = retryAfter
	}
	e.Encode(b, req, &Reply{Status: status, ContentType: "text/plain; charset=utf-8",
		Body: ErrorBody(status), Fields: fields})
}
