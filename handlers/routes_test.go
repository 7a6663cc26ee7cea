package handlers

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"http_server/protocol"
	"http_server/stats"
)

// tableRouter is a router over the fixture root with its counters; with
// metricsHere it serves /metrics, as on the main listener.
func tableRouter(t *testing.T, compat protocol.Compat, metricsHere bool) (*Router, *stats.Counters, string) {
	t.Helper()
	root, _ := fixture(t)
	files, err := OpenRoot(root)
	must(t, err)
	t.Cleanup(files.Close)
	counters := stats.New(RouteNames()...)
	cfg := Config{Files: files, Compat: compat, WriteLimit: 1024,
		Encoder: &protocol.Encoder{Compat: compat, Server: "t"}, Stats: counters}
	if metricsHere {
		cfg.Metrics = counters.Metrics()
	}
	rt, err := NewRouter(cfg)
	must(t, err)
	return rt, counters, root
}

// everyRoute is the table and the file fallback, each with a path that
// reaches it (a.txt is in the fixture root).
func everyRoute() map[string]*route {
	m := map[string]*route{"/a.txt": fileRoute}
	for _, r := range routes {
		m[r.path] = r
	}
	return m
}

// admit parses raw and returns what the router admits for it.
func admit(t *testing.T, rt *Router, raw string) (int64, int) {
	t.Helper()
	p := protocol.Parser{Limits: protocol.DefaultLimits, Compat: rt.cfg.Compat}
	var req protocol.Request
	if n, status := p.Parse([]byte(raw), &req); n == 0 || status != 0 {
		t.Fatalf("%q: parsed %d bytes, status %d", raw, n, status)
	}
	return rt.Admit(&req)
}

var someMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}

// In modern mode every route answers the methods it declares, OPTIONS with
// 204 and Allow, 405 with those methods and OPTIONS in Allow for the
// others, and tags the response with its route either way.
func TestRouteTableModernMethods(t *testing.T) {
	rt, _, _ := tableRouter(t, protocol.Modern, true)
	for path, r := range everyRoute() {
		for _, m := range someMethods {
			if path == "*" && m != "OPTIONS" {
				continue // the parser takes "*" with OPTIONS only
			}
			raw := m + " " + path + " HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
			it, out := serve(t, rt, raw)
			head, _, _ := strings.Cut(out, "\r\n\r\n")
			allow := "\r\nAllow: " + strings.Join(r.methods, ", ") + ", OPTIONS\r\n"
			if path == "*" {
				allow = "\r\nAllow: " + strings.Join(r.methods, ", ") + "\r\n"
			}
			switch {
			case slices.Contains(r.methods, m):
				if it.Status != 200 {
					t.Errorf("%s %s: %d, want 200\n%s", m, path, it.Status, head)
				}
			case m == "OPTIONS":
				if it.Status != 204 || !strings.Contains(head+"\r\n", allow) || strings.Contains(head, "Content-Length") {
					t.Errorf("%s %s: want 204 with %q and no Content-Length, got\n%s", m, path, allow, head)
				}
			default:
				if it.Status != 405 || !strings.Contains(head+"\r\n", allow) {
					t.Errorf("%s %s: want 405 with %q, got\n%s", m, path, allow, head)
				}
			}
			if stats.Route(it.Route) != r.id {
				t.Errorf("%s %s: tagged route %d, want %d", m, path, it.Route, r.id)
			}
		}
	}
}

// The Allow values clients see, pinned: OPTIONS * lists every method some
// route answers, in the table's order; every resource also takes OPTIONS.
func TestRouteTableAllowValues(t *testing.T) {
	rt, _, _ := tableRouter(t, protocol.Modern, true)
	cases := map[string]string{
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n":        "Allow: GET, HEAD, POST, OPTIONS",
		"PUT /ping HTTP/1.1\r\nHost: h\r\n\r\n":        "Allow: GET, HEAD, OPTIONS",
		"GET /write HTTP/1.1\r\nHost: h\r\n\r\n":       "Allow: POST, OPTIONS",
		"DELETE /metrics HTTP/1.1\r\nHost: h\r\n\r\n":  "Allow: GET, HEAD, OPTIONS",
		"POST /nowhere HTTP/1.1\r\nHost: h\r\n\r\n":    "Allow: GET, HEAD, OPTIONS",
		"OPTIONS /stats HTTP/1.1\r\nHost: h\r\n\r\n":   "Allow: GET, HEAD, OPTIONS",
		"PATCH /echo HTTP/1.1\r\nHost: h\r\n\r\n":      "Allow: GET, HEAD, OPTIONS",
		"POST /read HTTP/1.1\r\nHost: h\r\n\r\nxxxxxx": "Allow: GET, HEAD, OPTIONS",
	}
	for raw, allow := range cases {
		_, out := serve(t, rt, raw)
		if !strings.Contains(out, "\r\n"+allow+"\r\n") {
			t.Errorf("%q: no %q in\n%s", raw, allow, out)
		}
	}
}

// A route that takes a body admits up to the write limit; every other
// route (and any file) a body it discards, whatever the method.
func TestRouteTableModernAdmission(t *testing.T) {
	rt, _, _ := tableRouter(t, protocol.Modern, true)
	for path, r := range everyRoute() {
		for _, m := range someMethods {
			if path == "*" && m != "OPTIONS" {
				continue
			}
			limit, status := admit(t, rt, m+" "+path+" HTTP/1.1\r\nHost: h\r\n\r\n")
			want := int64(DiscardLimit)
			if r.takesBody {
				want = rt.cfg.WriteLimit
			}
			if limit != want || status != 0 {
				t.Errorf("%s %s: admitted %d, %d; want %d, 0", m, path, limit, status, want)
			}
		}
	}
}

// Classic mode keeps the C server's rules for every route: GET, or POST
// where the route takes a body (refused with 400 at admission elsewhere);
// HTTP/1.1 only; a route the C server lacked, or a GET of a POST route,
// looks for a file (none of these names is one in the fixture root).
func TestRouteTableClassic(t *testing.T) {
	rt, _, _ := tableRouter(t, protocol.Classic, true)
	const bad, missing = "HTTP/1.1 400 Bad Request\r\n\r\n", "HTTP/1.1 404 Not Found\r\n\r\n"
	if _, out := serve(t, rt, "OPTIONS * HTTP/1.1\r\n\r\n"); out != bad {
		t.Errorf("OPTIONS *: %q", out)
	}
	for path, r := range everyRoute() {
		if path == "*" {
			continue
		}
		for _, raw := range []string{"HEAD " + path + " HTTP/1.1\r\n\r\n", "GET " + path + " HTTP/1.0\r\n\r\n",
			"PUT " + path + " HTTP/1.1\r\nContent-Length: 0\r\n\r\n"} {
			if _, out := serve(t, rt, raw); out != bad {
				t.Errorf("%q: %q, want %q", raw, out, bad)
			}
		}

		post := "POST " + path + " HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
		limit, status := admit(t, rt, post)
		it, out := serve(t, rt, post)
		switch {
		case r.takesBody && (limit != rt.cfg.WriteLimit || status != 0 || out != "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"):
			t.Errorf("POST %s: admitted %d, %d; answered %q", path, limit, status, out)
		case !r.takesBody && (status != 400 || out != bad):
			t.Errorf("POST %s: admitted %d, %d; answered %q; want 400 at admission", path, limit, status, out)
		}
		if stats.Route(it.Route) != stats.RouteOther && status != 0 {
			t.Errorf("POST %s: refused at admission but tagged route %d", path, it.Route)
		}

		get := "GET " + path + " HTTP/1.1\r\n\r\n"
		if limit, status := admit(t, rt, get); limit != 0 && !r.takesBody || status != 0 {
			t.Errorf("GET %s: admitted %d, %d", path, limit, status)
		}
		it, out = serve(t, rt, get)
		asFile := r.classic == nil || r.takesBody
		switch {
		case asFile && out != missing:
			t.Errorf("GET %s: %q, want the C server's file lookup: %q", path, out, missing)
		case !asFile && it.Status != 200:
			t.Errorf("GET %s: %q, want 200", path, out)
		}
		if stats.Route(it.Route) != r.id {
			t.Errorf("GET %s: tagged route %d, want %d", path, it.Route, r.id)
		}
	}
}

// The metrics' route labels come from the table, keep the values users
// scrape, and every route's responses land in its own series.
func TestRouteNamesReachMetrics(t *testing.T) {
	want := []string{"ping", "echo", "write", "read", "stats", "metrics", "file"}
	if got := RouteNames(); !slices.Equal(got, want) {
		t.Fatalf("route names %q, want %q (users scrape these labels)", got, want)
	}
	rt, counters, _ := tableRouter(t, protocol.Modern, true)
	record := func(it protocol.Item) {
		counters.Record(stats.Route(it.Route), it.Status, 1, 1, 0)
	}
	for path, r := range everyRoute() {
		raw := r.methods[0] + " " + path + " HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
		it, _ := serve(t, rt, raw)
		record(it)
	}
	var errOut protocol.Batch
	rt.enc.Error(&errOut, &protocol.Request{Minor: 1, Err: 503}, 503, nil) // as the reactor does when it refuses a connection
	record(errOut.Items[0])

	_, out := serve(t, rt, "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n")
	for _, series := range []string{
		`{route="ping",code="2xx"} 1`, `{route="echo",code="2xx"} 1`, `{route="write",code="2xx"} 1`,
		`{route="read",code="2xx"} 1`, `{route="stats",code="2xx"} 1`, `{route="metrics",code="2xx"} 1`,
		`{route="file",code="2xx"} 1`, `{route="other",code="2xx"} 1`, `{route="other",code="5xx"} 1`,
	} {
		if !strings.Contains(out, "\nhttp_server_responses_total"+series+"\n") {
			t.Errorf("no http_server_responses_total%s in\n%s", series, out)
		}
	}
}

// When the metrics are served elsewhere (or not at all), /metrics is a file
// path like any other: served from the root, 405 for other methods, counted
// as a file.
func TestMetricsPathIsAFileElsewhere(t *testing.T) {
	rt, _, root := tableRouter(t, protocol.Modern, false)
	must(t, os.WriteFile(filepath.Join(root, strings.TrimPrefix(MetricsPath, "/")), []byte("not metrics"), 0o644))
	for raw, want := range map[string]string{
		"GET " + MetricsPath + " HTTP/1.1\r\nHost: h\r\n\r\n":  "HTTP/1.1 200 OK\r\n",
		"POST " + MetricsPath + " HTTP/1.1\r\nHost: h\r\n\r\n": "HTTP/1.1 405 Method Not Allowed\r\n",
	} {
		it, out := serve(t, rt, raw)
		if !strings.HasPrefix(out, want) {
			t.Errorf("%q: %q, want %q", raw, out, want)
		}
		if stats.Route(it.Route) != fileRoute.id {
			t.Errorf("%q: tagged route %d, want the file route %d", raw, it.Route, fileRoute.id)
		}
		if it.HasFile && it.File.Len != int64(len("not metrics")) {
			t.Errorf("%q: file of %d bytes", raw, it.File.Len)
		}
	}
}

// Every path in the table is distinct, and every route can answer.
func TestRouteTableWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range append(slices.Clip(routes), fileRoute) {
		name := fmt.Sprintf("route %q", r.path)
		if r.path != "" && seen[r.path] {
			t.Errorf("%s declared twice", name)
		}
		seen[r.path] = true
		if r.modern == nil || len(r.methods) == 0 {
			t.Errorf("%s has no modern behaviour or no methods", name)
		}
		if r.takesBody && r.classic == nil {
			t.Errorf("%s takes a body but has no classic behaviour for its POST", name)
		}
	}
	if fileRoute.path != "" || fileRoute.classic == nil {
		t.Error("the file route answers every other path, in both modes")
	}
}
