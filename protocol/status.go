package protocol

// Status is one status this server sends: its reason phrase (RFC 9110
// section 15) and, for errors, the plain-text body that explains it. The
// encoder's status lines, the error bodies and the metrics' error series
// all come from this one table.
type Status struct {
	Code   int
	Reason string
	Body   []byte // error statuses only: the reason and a newline
}

// Statuses lists every status the server can send, in code order.
var Statuses = func() []Status {
	table := []Status{
		{Code: 100, Reason: "Continue"},
		{Code: 200, Reason: "OK"},
		{Code: 204, Reason: "No Content"},
		{Code: 206, Reason: "Partial Content"},
		{Code: 301, Reason: "Moved Permanently"},
		{Code: 304, Reason: "Not Modified"},
		{Code: 308, Reason: "Permanent Redirect"},
		{Code: 400, Reason: "Bad Request"},
		{Code: 403, Reason: "Forbidden"},
		{Code: 404, Reason: "Not Found"},
		{Code: 405, Reason: "Method Not Allowed"},
		{Code: 406, Reason: "Not Acceptable"},
		{Code: 408, Reason: "Request Timeout"},
		{Code: 411, Reason: "Length Required"},
		{Code: 412, Reason: "Precondition Failed"},
		{Code: 413, Reason: "Content Too Large"},
		{Code: 414, Reason: "URI Too Long"},
		{Code: 416, Reason: "Range Not Satisfiable"},
		{Code: 417, Reason: "Expectation Failed"},
		{Code: 431, Reason: "Request Header Fields Too Large"},
		{Code: 500, Reason: "Internal Server Error"},
		{Code: 501, Reason: "Not Implemented"},
		{Code: 503, Reason: "Service Unavailable"},
		{Code: 505, Reason: "HTTP Version Not Supported"},
	}
	for i := range table {
		if table[i].Code >= 400 {
			table[i].Body = []byte(table[i].Reason + "\n")
		}
	}
	return table
}()

// byCode indexes Statuses by code.
var byCode = func() (m [600]*Status) {
	for i := range Statuses {
		m[Statuses[i].Code] = &Statuses[i]
	}
	return m
}()

func lookup(code int) *Status {
	if code < 0 || code >= len(byCode) {
		return nil
	}
	return byCode[code]
}

// StatusText returns the reason phrase of code, or "Unknown" for a status
// this server does not send.
func StatusText(code int) string {
	if s := lookup(code); s != nil {
		return s.Reason
	}
	return "Unknown"
}

// ErrorBody is the body of an error response with this status.
func ErrorBody(code int) []byte {
	if s := lookup(code); s != nil && s.Body != nil {
		return s.Body
	}
	return []byte(StatusText(code) + "\n")
}

// classicStatus maps any status onto the four the C server knew, with their
// exact status lines.
func classicStatus(code int) (int, string) {
	switch {
	case code < 400:
		return 200, "HTTP/1.1 200 OK\r\n"
	case code == 404:
		return 404, "HTTP/1.1 404 Not Found\r\n"
	case code == 413 || code == 414 || code == 431:
		return 413, "HTTP/1.1 413 Request Entity Too Large\r\n"
	}
	return 400, "HTTP/1.1 400 Bad Request\r\n"
}
