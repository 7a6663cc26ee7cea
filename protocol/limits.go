package protocol

// Limits bound what one request head may cost. Past them the parser answers
// 414 (request line) or 431 (header bytes or count).
type Limits struct {
	MaxRequestLine int // bytes of the request line, without CRLF
	MaxHeaderBytes int // bytes of the whole head, request line and CRLFCRLF included
	MaxHeaders     int // header fields
}

// DefaultLimits follows nginx's order of magnitude: an 8 KiB request line,
// a 16 KiB head and 100 fields.
var DefaultLimits = Limits{MaxRequestLine: 8192, MaxHeaderBytes: 16384, MaxHeaders: 100}

// Compat selects the wire format.
type Compat int

const (
	// Modern is HTTP/1.1 with the usual headers and keep-alive.
	Modern Compat = iota
	// Classic reproduces the C teaching server's bytes exactly.
	Classic
)

func (c Compat) String() string {
	if c == Classic {
		return "classic"
	}
	return "modern"
}

// ParseCompat reads "modern" or "classic".
func ParseCompat(s string) (Compat, bool) {
	switch s {
	case "modern":
		return Modern, true
	case "classic":
		return Classic, true
	}
	return Modern, false
}
