package handlers

import (
	"bytes"
	"strconv"

	"http_server/protocol"
)

// RedirectToHTTPS turns on the redirect of plain HTTP to HTTPS on port;
// host names the server for requests without a Host. Call it before serving.
func (rt *Router) RedirectToHTTPS(port int, host string) {
	rt.cfg.HTTPSPort, rt.cfg.HTTPSHost = port, host
}

// toHTTPS answers a plain-HTTP request with 308 to the same path and query
// on the HTTPS port. 308 keeps the method and body, unlike 301. The
// connection closes: its client is expected to move.
func (rt *Router) toHTTPS(req *protocol.Request, out *protocol.Batch) {
	host := hostOnly(req.Host)
	if len(host) == 0 {
		host = []byte(rt.cfg.HTTPSHost)
	}
	extra := append(out.Scratch[:0], "Location: https://"...)
	extra = append(extra, host...)
	if rt.cfg.HTTPSPort != 443 {
		extra = append(extra, ':')
		extra = strconv.AppendInt(extra, int64(rt.cfg.HTTPSPort), 10)
	}
	path := req.Path
	if len(path) == 0 || path[0] != '/' {
		path = []byte("/") // "*" or an empty path: the server's root
	}
	extra = append(extra, path...)
	rt.finishRedirect(req, out, extra, &protocol.Reply{Status: 308, Body: permanentRedirect, Close: true})
}

var permanentRedirect = []byte("Permanent Redirect\n")

// hostOnly strips the port from a Host value ("h:80", "[::1]:80").
func hostOnly(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		if i := bytes.IndexByte(h, ']'); i > 0 {
			return h[:i+1]
		}
		return h
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}
