// Command gnet is the gnet v2 peer of the benchmark: a minimal HTTP/1.1
// parser on gnet's event loop that answers "pong" to every request. It is
// pipelining-aware: every complete request head in the inbound buffer gets
// its response, all of them in one write, in order. It serves no files, so
// the harness runs it only in the /ping and idle-connection scenarios.
// Request bodies are not supported (the benchmark sends none).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// response holds the current pre-encoded response; the Date header is
// refreshed once a second, as nginx and the other peers do.
var response atomic.Pointer[[]byte]

func refresh() {
	b := []byte("HTTP/1.1 200 OK\r\nServer: gnet\r\nDate: " + time.Now().UTC().Format(http.TimeFormat) +
		"\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\npong")
	response.Store(&b)
}

type server struct {
	gnet.BuiltinEventEngine
	addr string
}

func (s *server) OnBoot(gnet.Engine) gnet.Action {
	fmt.Fprintf(os.Stderr, "listening on %s\n", s.addr)
	return gnet.None
}

var headEnd = []byte("\r\n\r\n")

// out is the per-loop output buffer; with one event loop OnTraffic never runs
// concurrently, and gnet copies what Write cannot send at once.
var out []byte

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	resp := *response.Load()
	out = out[:0]
	used := 0
	for {
		i := bytes.Index(buf[used:], headEnd)
		if i < 0 {
			break
		}
		used += i + len(headEnd)
		out = append(out, resp...)
	}
	if used > 0 {
		c.Discard(used)
		if _, err := c.Write(out); err != nil {
			return gnet.Close
		}
	}
	if c.InboundBuffered() > 64<<10 {
		return gnet.Close // a head larger than any sane request
	}
	return gnet.None
}

func main() {
	port := flag.Int("port", 8080, "TCP port on 127.0.0.1")
	flag.String("root", "", "ignored (gnet serves no files)")
	multicore := flag.Bool("multicore", false, "one event loop per CPU (gnet.WithMulticore), as bench/multicore.sh runs it")
	flag.Parse()
	refresh()
	go func() {
		for range time.Tick(time.Second) {
			refresh()
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	s := &server{addr: addr}
	// One event loop unless -multicore: compare.sh pins every server to one CPU.
	opts := []gnet.Option{gnet.WithNumEventLoop(1), gnet.WithReuseAddr(true)}
	if *multicore {
		opts = []gnet.Option{gnet.WithMulticore(true), gnet.WithReuseAddr(true)}
	}
	err := gnet.Run(s, "tcp://"+addr, opts...)
	if err != nil {
		log.Fatal(err)
	}
}
