// Command fasthttp is the fasthttp peer of the benchmark: /ping answers
// "pong" and every other path is a file under --root, served by fasthttp.FS
// (no compression, no directory listings, byte ranges on).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	port := flag.Int("port", 8080, "TCP port on 127.0.0.1")
	root := flag.String("root", ".", "document root")
	flag.Parse()

	fs := &fasthttp.FS{
		Root:            *root,
		IndexNames:      []string{"index.html"},
		AcceptByteRange: true,
	}
	files := fs.NewRequestHandler()
	pong := []byte("pong")
	handler := func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/ping" {
			ctx.SetContentType("text/plain")
			ctx.SetBody(pong)
			return
		}
		files(ctx)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", addr)
	srv := &fasthttp.Server{Handler: handler, Name: "fasthttp"}
	log.Fatal(srv.Serve(ln))
}
