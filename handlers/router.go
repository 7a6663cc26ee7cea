package handlers

import (
	"bytes"
	"log/slog"

	"http_server/protocol"
	"http_server/stats"
	"http_server/workers"
)

// Config is what the routes need.
type Config struct {
	Files      *Files
	Compat     protocol.Compat
	WriteLimit int64          // largest /write body
	Dotfiles   bool           // serve files whose path has a segment starting with "."
	StateFile  string         // where /write values persist; "" for memory only
	Metrics    *stats.Metrics // served at /metrics on the main listener; nil: not here
	Encoder    *protocol.Encoder
	Stats      *stats.Counters
	Pool       *workers.Pool // nil in inline mode; only read for /stats

	// HTTPSPort, when set, sends every plain-HTTP request to the same
	// target on this HTTPS port (308); HTTPSHost names the server for
	// requests without a Host.
	HTTPSPort int
	HTTPSHost string
	TLS       bool // an HTTPS listener is open: /stats shows its figures
}

// discardLimit is the body a request to any route but /write may carry;
// it is read and ignored, as RFC 9110 allows.
const discardLimit = 64 << 10

// Router answers every request; it implements reactor.Handler.
type Router struct {
	cfg   Config
	enc   *protocol.Encoder
	store *store
}

// NewRouter builds the routes, loading the /write value from the state
// file when there is one.
func NewRouter(cfg Config) (*Router, error) {
	st, err := openStore(cfg.StateFile)
	if err != nil {
		return nil, err
	}
	return &Router{cfg: cfg, enc: cfg.Encoder, store: st}, nil
}

// Admit tells the reactor how large a body the request's route accepts.
func (rt *Router) Admit(req *protocol.Request) (int64, int) {
	if req.PathIs("/write") {
		return rt.cfg.WriteLimit, 0
	}
	if rt.cfg.Compat == protocol.Classic {
		if req.IsMethod("POST") {
			return 0, 400 // the C server took POST on /write only
		}
		return 0, 0
	}
	return discardLimit, 0
}

// Serve answers one request into out, and tags the response with its
// route for the metrics.
func (rt *Router) Serve(req *protocol.Request, out *protocol.Batch) {
	n := len(out.Items)
	defer func() {
		if len(out.Items) > n {
			out.Items[n].Route = uint8(routeOf(req))
		}
	}()
	switch {
	case req.Err != 0:
		rt.fail(req, out, req.Err)
	case rt.cfg.HTTPSPort != 0 && !req.TLS:
		rt.toHTTPS(req, out)
	case rt.cfg.Compat == protocol.Classic:
		rt.serveClassic(req, out)
	default:
		rt.serveModern(req, out)
	}
}

var (
	allowRead   = []protocol.Field{{Name: "Allow", Value: "GET, HEAD"}}
	allowWrite  = []protocol.Field{{Name: "Allow", Value: "POST"}}
	allowServer = []protocol.Field{{Name: "Allow", Value: "GET, HEAD, POST, OPTIONS"}}
	pong        = []byte("pong")
)

const textPlain = "text/plain; charset=utf-8"

// MetricsContentType is the Prometheus text exposition format.
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

func (rt *Router) serveModern(req *protocol.Request, out *protocol.Batch) {
	read := req.IsMethod("GET") || req.IsMethod("HEAD")
	switch string(req.Path) {
	case "*": // OPTIONS * asks what the server supports
		rt.enc.Encode(out, req, &protocol.Reply{Status: 200, Fields: allowServer})
	case "/ping":
		if !read {
			rt.notAllowed(req, out, allowRead)
			return
		}
		rt.text(req, out, pong)
	case "/echo":
		if !read {
			rt.notAllowed(req, out, allowRead)
			return
		}
		rt.text(req, out, req.HeaderBlock)
	case "/read":
		if !read {
			rt.notAllowed(req, out, allowRead)
			return
		}
		rt.text(req, out, rt.store.load())
	case "/write":
		if !req.IsMethod("POST") {
			rt.notAllowed(req, out, allowWrite)
			return
		}
		if req.ContentLength < 0 && !req.Chunked {
			rt.fail(req, out, 411)
			return
		}
		rt.write(req, out)
	case "/stats":
		if !read {
			rt.notAllowed(req, out, allowRead)
			return
		}
		rt.stats(req, out)
	case "/metrics":
		if rt.cfg.Metrics == nil {
			rt.serveFile(req, out) // metrics are off here: the path is a file like any other
			return
		}
		if !read {
			rt.notAllowed(req, out, allowRead)
			return
		}
		var b bytes.Buffer
		rt.cfg.Metrics.Write(&b)
		rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: MetricsContentType, Body: b.Bytes()})
	default:
		if !read {
			rt.notAllowed(req, out, allowRead)
			return
		}
		rt.serveFile(req, out)
	}
}

// serveClassic keeps the C server's rules: GET or POST, HTTP/1.1 only,
// POST on /write only, everything else a file in the current directory.
func (rt *Router) serveClassic(req *protocol.Request, out *protocol.Batch) {
	get, post := req.IsMethod("GET"), req.IsMethod("POST")
	if (!get && !post) || req.Minor != 1 {
		rt.fail(req, out, 400)
		return
	}
	if post {
		if !req.PathIs("/write") {
			rt.fail(req, out, 400)
			return
		}
		if req.ContentLength < 0 {
			rt.fail(req, out, 400)
			return
		}
		rt.write(req, out)
		return
	}
	switch string(req.Path) {
	case "/ping":
		rt.text(req, out, pong)
	case "/echo":
		if len(req.HeaderBlock) > 1024 {
			rt.fail(req, out, 413)
			return
		}
		rt.text(req, out, req.HeaderBlock)
	case "/read":
		rt.text(req, out, rt.store.load())
	case "/stats":
		rt.stats(req, out)
	default:
		rt.serveClassicFile(req, out)
	}
}

// write stores the body and answers like /read; a value that could not be
// persisted is not stored, and the client gets 500.
func (rt *Router) write(req *protocol.Request, out *protocol.Batch) {
	v, err := rt.store.save(req.Body)
	if err != nil {
		slog.Error("/write: state file", "err", err)
		rt.fail(req, out, 500)
		return
	}
	rt.text(req, out, v)
}

func (rt *Router) text(req *protocol.Request, out *protocol.Batch, body []byte) {
	rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: textPlain, Body: body})
}

func (rt *Router) notAllowed(req *protocol.Request, out *protocol.Batch, allow []protocol.Field) {
	rt.enc.Error(out, req, 405, allow)
}

// fail answers an error status.
func (rt *Router) fail(req *protocol.Request, out *protocol.Batch, status int) {
	rt.enc.Error(out, req, status, nil)
}

// routeOf names the route a request went to.
func routeOf(req *protocol.Request) stats.Route {
	if req.Err != 0 {
		return stats.RouteOther
	}
	switch string(req.Path) {
	case "/ping":
		return stats.RoutePing
	case "/echo":
		return stats.RouteEcho
	case "/write":
		return stats.RouteWrite
	case "/read":
		return stats.RouteRead
	case "/stats":
		return stats.RouteStats
	case "/metrics":
		return stats.RouteMetrics
	case "*":
		return stats.RouteOther
	}
	return stats.RouteFile
}

// wantsJSON: Accept names application/json, or the query says format=json.
func wantsJSON(req *protocol.Request) bool {
	if bytes.Contains(req.Accept, []byte("application/json")) {
		return true
	}
	for q := req.Query; len(q) > 0; {
		var kv []byte
		kv, q, _ = bytes.Cut(q, []byte("&"))
		if string(kv) == "format=json" {
			return true
		}
	}
	return false
}
