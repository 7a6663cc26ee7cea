package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"http_server/handlers"
	"http_server/stats"
)

// serveMetrics serves /metrics on a separate address with the standard
// library's server: scrapes are rare, and keeping them off the main listener
// keeps them private. It returns the URL once the listener is bound.
// With pprof on, the same private listener serves the Go profiler under
// /debug/pprof/, for the CPU and allocation profiles the performance notes quote.
func serveMetrics(addr string, m *stats.Metrics, pprofOn bool) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+handlers.MetricsPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", handlers.MetricsContentType)
		m.Write(w)
	})
	if pprofOn {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + handlers.MetricsPath, nil
}
