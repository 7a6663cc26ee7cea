package protocol

// StatusText returns the reason phrase for the statuses this server sends.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 200:
		return "OK"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 304:
		return "Not Modified"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 411:
		return "Length Required"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
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
