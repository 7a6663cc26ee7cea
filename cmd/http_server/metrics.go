package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"http_server/stats"
	"http_server/workers"
)

// serveMetrics serves /metrics on a separate address with the standard
// library's server: scrapes are rare, and keeping them off the main listener
// keeps them private. It returns the URL once the listener is bound.
func serveMetrics(addr string, m *stats.Metrics) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", workers.MetricsContentType)
		m.Write(w)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + "/metrics", nil
}
