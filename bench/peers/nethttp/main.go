// Command nethttp is the net/http peer of the benchmark: /ping answers
// "pong" and every other path is a file under --root, served by
// http.FileServer.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	port := flag.Int("port", 8080, "TCP port on 127.0.0.1")
	root := flag.String("root", ".", "document root")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("pong"))
	})
	mux.Handle("/", http.FileServer(http.Dir(*root)))
	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", addr)
	log.Fatal(http.Serve(ln, mux))
}
