// Command nethttps is the net/http peer of the HTTPS benchmark
// (bench/tls/run.sh): http.ListenAndServeTLS with the benchmark's
// certificate, /ping answers "pong" and every other path is a file under
// --root, served by http.FileServer. Everything else is net/http's default
// (HTTP/2 is offered through ALPN, but the benchmark's client asks for
// HTTP/1.1 only).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port := flag.Int("port", 8443, "TCP port on 127.0.0.1")
	root := flag.String("root", ".", "document root")
	cert := flag.String("cert", "cert.pem", "certificate (PEM)")
	key := flag.String("key", "key.pem", "private key (PEM)")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("pong"))
	})
	mux.Handle("/", http.FileServer(http.Dir(*root)))
	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	fmt.Fprintf(os.Stderr, "listening for https on %s\n", addr)
	log.Fatal(http.ListenAndServeTLS(addr, *cert, *key, mux))
}
