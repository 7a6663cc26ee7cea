package workers

import (
	"fmt"
	"log/slog"

	"http_server/protocol"

	"golang.org/x/sys/unix"
)

// Handler answers requests. The handlers package implements it.
type Handler interface {
	// Admit runs on the reactor once a head is parsed, before its body is
	// read. It returns the largest body the route accepts, or a final
	// status to answer without reading the body. It must not block.
	Admit(req *protocol.Request) (maxBody int64, status int)
	// Serve appends exactly one response for req to out. It runs on a
	// worker and may block. It never sees a request the reactor rejected.
	Serve(req *protocol.Request, out *protocol.Batch)
}

// Serve answers reqs in order into out, and stops after a response that
// closes the connection. It runs on a worker, or inline on the reactor when
// there is no pool. It never touches a socket.
func Serve(h Handler, enc *protocol.Encoder, reqs []protocol.Request, out *protocol.Batch) {
	for i := range reqs {
		if !serveOne(h, enc, &reqs[i], out) {
			break
		}
	}
}

// serveOne answers one request and reports whether the connection stays open.
// A panicking handler costs its client a 500 and a closed connection, never
// the server or the connection's place in the reactor.
func serveOne(h Handler, enc *protocol.Encoder, req *protocol.Request, out *protocol.Batch) (more bool) {
	if req.Err != 0 {
		// An error the reactor found (bad framing, a body too large): the
		// protocol encodes it, no route is involved, and the connection closes.
		enc.Error(out, req, req.Err, nil)
		return false
	}
	before := len(out.Items)
	defer func() {
		if p := recover(); p != nil {
			slog.Error("handler panic", "panic", fmt.Sprint(p), "path", string(req.Path))
			truncate(out, before)
			enc.Encode(out, req, &protocol.Reply{Status: 500, ContentType: "text/plain; charset=utf-8",
				Body: protocol.ErrorBody(500), Close: true})
			more = false
		}
	}()
	h.Serve(req, out)
	if len(out.Items) != before+1 {
		panic(fmt.Sprintf("handler produced %d responses for one request", len(out.Items)-before))
	}
	return !out.Items[before].Close
}

// truncate drops the items from i on, closing the files they own.
func truncate(out *protocol.Batch, i int) {
	for k := i; k < len(out.Items); k++ {
		CloseFile(&out.Items[k])
	}
	if i < len(out.Items) {
		out.Buf = out.Buf[:out.Items[i].Head.Start]
		out.Items = out.Items[:i]
	}
}

// CloseFile closes the descriptor an item owns, exactly once.
func CloseFile(it *protocol.Item) {
	if it.HasFile {
		unix.Close(it.File.Fd)
		it.HasFile = false
	}
}

// GrowStack enlarges a worker goroutine's stack in one step while it is
// still shallow. pond starts a goroutine for each burst of tasks, and the
// runtime starts it with a small stack; grown deep inside a handler, the
// copy walks every frame (runtime.copystack was 7% of the CPU profile of
// 4 KiB files). Growing here copies a few frames once.
//
//go:noinline
func GrowStack() {
	var pad [6 << 10]byte
	touch(pad[:])
}

//go:noinline
func touch(b []byte) { b[0] = 1 }
