package handlers

import (
	"bytes"
	"slices"
	"strings"

	"http_server/protocol"
	"http_server/stats"
)

// route is one built-in route. Router.Serve, Router.Admit and the metrics'
// route labels all read the table below; a path no route claims is a
// static file (fileRoute).
type route struct {
	path string // the request path it answers, matched exactly
	name string // its metrics label, route="..."; "" counts it as "other"

	// methods are what it answers in modern mode, in the order the Allow
	// header of its 405 lists them.
	methods []string

	// takesBody: the body is the route's input, up to Config.WriteLimit.
	// Other routes read at most DiscardLimit of a body and ignore it, and
	// in classic mode refuse POST with 400 before reading it.
	takesBody bool

	modern handler
	// classic keeps the C server's bytes. It sees only a GET, or a POST
	// where takesBody; serveClassic has answered the rest. nil: the C
	// server had no such route, so the path is a file there.
	classic handler

	// Derived from the fields above when the package starts.
	id    stats.Route      // its number in the metrics: its place in routeNames, from 1
	allow []protocol.Field // the Allow header of its 405
}

// handler answers a request on a route: one response appended to out.
type handler func(rt *Router, req *protocol.Request, out *protocol.Batch)

// MetricsPath is where the Prometheus series are served, on the main
// listener or on --metrics-addr.
const MetricsPath = "/metrics"

var readMethods = []string{"GET", "HEAD"}

// routes are the built-in routes, each declared once.
var routes = []*route{
	{path: "/ping", name: "ping", methods: readMethods,
		modern: (*Router).ping, classic: (*Router).ping},
	{path: "/echo", name: "echo", methods: readMethods,
		modern: (*Router).echo, classic: (*Router).echoClassic},
	{path: "/write", name: "write", methods: []string{"POST"}, takesBody: true,
		modern: (*Router).writeModern, classic: (*Router).writeClassic},
	{path: "/read", name: "read", methods: readMethods,
		modern: (*Router).read, classic: (*Router).read},
	{path: "/stats", name: "stats", methods: readMethods,
		modern: (*Router).stats, classic: (*Router).stats},
	// Only on a router that serves the metrics (Config.Metrics); on any
	// other the path is a file like any other.
	{path: MetricsPath, name: "metrics", methods: readMethods,
		modern: (*Router).metrics},
	// OPTIONS * asks what the server supports; the parser allows "*" with
	// OPTIONS only. Last, so that the methods it lists (allowServer) come
	// in the order the other routes declare them, then OPTIONS.
	{path: "*", methods: []string{"OPTIONS"},
		modern: (*Router).options},
}

// fileRoute answers every path no route claims: a static file under the root.
var fileRoute = &route{name: "file", methods: readMethods,
	modern: (*Router).serveFile, classic: (*Router).serveClassicFile}

var (
	// routeNames are the metrics' route labels: Route n is routeNames[n-1].
	routeNames []string
	// allowServer answers OPTIONS *: every method some route answers.
	allowServer []protocol.Field
)

func init() {
	var methods []string
	for _, r := range append(slices.Clip(routes), fileRoute) {
		// Every resource answers OPTIONS too (RFC 9110 9.3.7), so its 405s
		// and its OPTIONS answer list it.
		allow := r.methods
		if !slices.Contains(allow, "OPTIONS") {
			allow = append(slices.Clip(allow), "OPTIONS")
		}
		r.allow = []protocol.Field{{Name: "Allow", Value: strings.Join(allow, ", ")}}
		if r.name != "" {
			routeNames = append(routeNames, r.name)
			r.id = stats.Route(len(routeNames))
		}
		for _, m := range r.methods {
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
	}
	allowServer = []protocol.Field{{Name: "Allow", Value: strings.Join(methods, ", ")}}
}

// RouteNames are the metrics' route labels in the order of their
// stats.Route numbers, for stats.New.
func RouteNames() []string { return slices.Clone(routeNames) }

// answers reports whether the route takes req's method in modern mode.
func (r *route) answers(req *protocol.Request) bool {
	for _, m := range r.methods {
		if req.IsMethod(m) {
			return true
		}
	}
	return false
}

var pong = []byte("pong")

func (rt *Router) ping(req *protocol.Request, out *protocol.Batch) { rt.text(req, out, pong) }

// echo answers with the request's header lines as received.
func (rt *Router) echo(req *protocol.Request, out *protocol.Batch) {
	rt.text(req, out, req.HeaderBlock)
}

// echoClassic: the C server echoed at most 1024 bytes of header lines.
func (rt *Router) echoClassic(req *protocol.Request, out *protocol.Batch) {
	if len(req.HeaderBlock) > 1024 {
		rt.fail(req, out, 413)
		return
	}
	rt.echo(req, out)
}

// read answers with the value /write stored last.
func (rt *Router) read(req *protocol.Request, out *protocol.Batch) {
	v, err := rt.store.Load()
	if err != nil {
		rt.storeFailed(req, out, "/read", err)
		return
	}
	rt.text(req, out, v)
}

// writeModern stores the body. A POST with neither Content-Length nor
// Transfer-Encoding has a body of length zero (RFC 9112 6.3): it stores
// the empty value.
func (rt *Router) writeModern(req *protocol.Request, out *protocol.Batch) {
	rt.write(req, out)
}

// writeClassic: the C server matched /write for POST only, with a
// Content-Length; a GET looked for a file of that name.
func (rt *Router) writeClassic(req *protocol.Request, out *protocol.Batch) {
	switch {
	case !req.IsMethod("POST"):
		rt.serveClassicFile(req, out)
	case req.ContentLength < 0:
		rt.fail(req, out, 400)
	default:
		rt.write(req, out)
	}
}

// metrics answers with every Prometheus series.
func (rt *Router) metrics(req *protocol.Request, out *protocol.Batch) {
	var b bytes.Buffer
	rt.cfg.Metrics.Write(&b)
	rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: MetricsContentType, Body: b.Bytes()})
}

// options answers OPTIONS * with the methods the server takes.
func (rt *Router) options(req *protocol.Request, out *protocol.Batch) {
	rt.enc.Encode(out, req, &protocol.Reply{Status: 200, Fields: allowServer})
}
