package handlers

import (
	"bytes"
	"errors"
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
	StateFile  string         // where /write values persist; "" for memory only (when Store is nil)
	Store      Store          // the /write value's store (nil: memory, or StateFile)
	Metrics    *stats.Metrics // served at /metrics on the main listener; nil: not here
	// Compression: how static files are compressed in modern mode (nil: never).
	Compression *Compression
	Encoder     *protocol.Encoder
	Stats       *stats.Counters
	Pool        *workers.Pool // nil in inline mode; only read for /stats

	// HTTPSPort, when set, sends every plain-HTTP request to the same
	// target on this HTTPS port (308); HTTPSHost names the server for
	// requests without a Host.
	HTTPSPort int
	HTTPSHost string
	TLS       bool // an HTTPS listener is open: /stats shows its figures

	// Loops are the event loops, for /stats (nil: not shown). Set with
	// SetLoops once they exist.
	Loops Loops
}

// DiscardLimit is the body a request to any route but /write may carry;
// it is read and ignored, as RFC 9110 allows.
const DiscardLimit = 64 << 10

// Router answers every request; it implements workers.Handler.
type Router struct {
	cfg    Config
	settle bool // /stats waits for the loops to count what they wrote (SetLoops)
	enc    *protocol.Encoder
	store  Store
	routes []*route // the table's routes this router answers
}

// NewRouter builds the routes, loading the /write value from the state
// file when there is one.
func NewRouter(cfg Config) (*Router, error) {
	st := cfg.Store
	if st == nil {
		var err error
		if st, err = openStore(cfg.StateFile); err != nil {
			return nil, err
		}
	}
	rt := &Router{cfg: cfg, enc: cfg.Encoder, store: st}
	for _, r := range routes {
		if r.path == MetricsPath && cfg.Metrics == nil {
			continue // metrics are served elsewhere or not at all: the path is a file
		}
		rt.routes = append(rt.routes, r)
	}
	return rt, nil
}

// routeFor finds the route for path; a path no route claims is a file.
func (rt *Router) routeFor(path []byte) *route {
	for _, r := range rt.routes {
		if string(path) == r.path {
			return r
		}
	}
	return fileRoute
}

// Admit tells the reactor how large a body the request's route accepts.
func (rt *Router) Admit(req *protocol.Request) (int64, int) {
	switch {
	case rt.routeFor(req.Path).takesBody:
		return rt.cfg.WriteLimit, 0
	case rt.cfg.Compat == protocol.Modern:
		return DiscardLimit, 0
	case req.IsMethod("POST"):
		return 0, 400 // the C server took POST only where it kept the body (/write)
	}
	return 0, 0
}

// Serve answers one request into out, and tags the response with its
// route for the metrics. Requests the reactor rejected (req.Err) never get
// here: workers.Serve encodes them.
func (rt *Router) Serve(req *protocol.Request, out *protocol.Batch) {
	r := rt.routeFor(req.Path)
	n := len(out.Items)
	switch {
	case rt.cfg.HTTPSPort != 0 && !req.TLS:
		rt.toHTTPS(req, out)
	case rt.cfg.Compat == protocol.Classic:
		rt.serveClassic(r, req, out)
	default:
		rt.serveModern(r, req, out)
	}
	if len(out.Items) > n {
		out.Items[n].Route = uint8(r.id)
	}
}

const textPlain = "text/plain; charset=utf-8"

// MetricsContentType is the Prometheus text exposition format.
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// serveModern answers the route's methods and 405 for the others.
func (rt *Router) serveModern(r *route, req *protocol.Request, out *protocol.Batch) {
	switch {
	case r.answers(req):
		r.modern(rt, req, out)
	case req.IsMethod("OPTIONS"):
		// What the resource takes: 204 with Allow, no content (RFC 9110 9.3.7).
		rt.enc.Encode(out, req, &protocol.Reply{Status: 204, Bodiless: true, Fields: r.allow})
	default:
		rt.enc.Error(out, req, 405, r.allow)
	}
}

// serveClassic keeps the C server's rules: GET or POST, HTTP/1.1 only,
// POST only on a route that takes a body (/write), a file in the current
// directory where the C server had no route.
func (rt *Router) serveClassic(r *route, req *protocol.Request, out *protocol.Batch) {
	get, post := req.IsMethod("GET"), req.IsMethod("POST")
	switch {
	case (!get && !post) || req.Minor != 1:
		rt.fail(req, out, 400)
	case post && !r.takesBody:
		rt.fail(req, out, 400) // Admit has refused it already; kept for callers that skip Admit
	case r.classic == nil:
		rt.serveClassicFile(req, out)
	default:
		r.classic(rt, req, out)
	}
}

// write stores the body and answers like /read; a value that could not be
// persisted is not stored, and the client gets 500, or 503 with
// Retry-After when the store did not answer in time.
func (rt *Router) write(req *protocol.Request, out *protocol.Batch) {
	v, err := rt.store.Save(req.Body)
	if err != nil {
		rt.storeFailed(req, out, "/write", err)
		return
	}
	rt.text(req, out, v)
}

// storeFailed answers a request whose store call failed, and counts it.
func (rt *Router) storeFailed(req *protocol.Request, out *protocol.Batch, what string, err error) {
	rt.cfg.Stats.StoreErrors.Add(1)
	if errors.Is(err, ErrStoreUnavailable) {
		slog.Warn(what+": store unavailable", "err", err)
		rt.enc.Error(out, req, 503, nil) // with Retry-After
		return
	}
	slog.Error(what+": store", "err", err)
	rt.fail(req, out, 500)
}

func (rt *Router) text(req *protocol.Request, out *protocol.Batch, body []byte) {
	rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: textPlain, Body: body})
}

// fail answers an error status.
func (rt *Router) fail(req *protocol.Request, out *protocol.Batch, status int) {
	rt.enc.Error(out, req, status, nil)
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
