package logging

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// Entry is what the reactor knows once a response has left. The byte
// slices are only valid during Log.
type Entry struct {
	Time      time.Time
	Peer      netip.AddrPort
	Method    []byte
	Target    []byte
	Minor     int // HTTP/1.Minor; -1 when no request line was read
	Status    int
	Bytes     int64 // body bytes sent
	Referer   []byte
	UserAgent []byte
	Duration  time.Duration
}

// Access formats access-log lines and hands them to a Writer. Log is called
// on one loop's goroutine only (ForLoop gives each loop its own): it
// formats into a reused buffer, queues a copy, and never waits for the disk.
type Access struct {
	w    *Writer
	json bool
	buf  []byte
}

// NewAccess logs to w in the Combined Log Format, or as JSON lines.
func NewAccess(w *Writer, json bool) *Access { return &Access{w: w, json: json} }

// ForLoop is another formatter for the same log, for another loop: each
// loop formats into its own buffer, and the Writer takes lines from all.
func (a *Access) ForLoop() *Access { return &Access{w: a.w, json: a.json} }

// Writer is where the lines go (for Reopen and Close).
func (a *Access) Writer() *Writer { return a.w }

// Log writes one line for e.
func (a *Access) Log(e *Entry) {
	if a.json {
		a.buf = appendJSON(a.buf[:0], e)
	} else {
		a.buf = appendCombined(a.buf[:0], e)
	}
	a.w.Write(a.buf)
}

// appendCombined writes the Combined Log Format that nginx and Apache use:
// host - - [time] "request" status bytes "referer" "user-agent".
func appendCombined(b []byte, e *Entry) []byte {
	b = appendPeer(b, e.Peer)
	b = append(b, " - - ["...)
	b = e.Time.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	if e.Minor >= 0 && len(e.Method) > 0 {
		b = appendEscaped(b, e.Method)
		b = append(b, ' ')
		b = appendEscaped(b, e.Target)
		b = append(b, " HTTP/1."...)
		b = strconv.AppendInt(b, int64(e.Minor), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, " \""...)
	b = appendOrDash(b, e.Referer)
	b = append(b, "\" \""...)
	b = appendOrDash(b, e.UserAgent)
	return append(b, "\"\n"...)
}

func appendOrDash(b, v []byte) []byte {
	if len(v) == 0 {
		return append(b, '-')
	}
	return appendEscaped(b, v)
}

// appendEscaped writes v with quotes, backslashes and bytes outside
// printable ASCII as \xHH, as nginx does, so a line can not be forged.
func appendEscaped(b, v []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range v {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

func appendPeer(b []byte, p netip.AddrPort) []byte {
	if !p.IsValid() {
		return append(b, '-')
	}
	return p.Addr().Unmap().AppendTo(b)
}

// appendJSON writes one JSON object per line.
func appendJSON(b []byte, e *Entry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","remote":"`...)
	b = appendPeer(b, e.Peer)
	b = append(b, `","method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, e.Target)
	b = append(b, `,"proto":`...)
	if e.Minor >= 0 {
		b = append(b, `"HTTP/1.`...)
		b = strconv.AppendInt(b, int64(e.Minor), 10)
		b = append(b, '"')
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"referer":`...)
	b = appendJSONString(b, e.Referer)
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, e.UserAgent)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(e.Duration)/1e6, 'f', 3, 64)
	return append(b, "}\n"...)
}

// appendJSONString quotes v for JSON; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b, v []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for len(v) > 0 {
		c := v[0]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			v = v[1:]
			continue
		}
		r, size := utf8.DecodeRune(v)
		b = utf8.AppendRune(b, r) // RuneError for invalid bytes
		v = v[size:]
	}
	return append(b, '"')
}
