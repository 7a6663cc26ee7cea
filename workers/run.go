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
// there is no pool. It never touches a socket. A small file is read into
// its response here, and a larger one's first window probed (loadFile).
func Serve(h Handler, enc *protocol.Encoder, pages Pages, reqs []protocol.Request, out *protocol.Batch) {
	for i := range reqs {
		if !serveOne(h, enc, pages, &reqs[i], out) {
			break
		}
	}
}

// serveOne answers one request and reports whether the connection stays open.
// A panicking handler costs its client a 500 and a closed connection, never
// the server or the connection's place in the reactor.
func serveOne(h Handler, enc *protocol.Encoder, pages Pages, req *protocol.Request, out *protocol.Batch) (more bool) {
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
			more = internalError(enc, req, out, before)
		}
	}()
	h.Serve(req, out)
	if len(out.Items) != before+1 {
		panic(fmt.Sprintf("handler produced %d responses for one request", len(out.Items)-before))
	}
	if err := loadFile(out, &out.Items[before], pages); err != nil {
		// Nothing of the response has left: the client gets a 500 rather
		// than a body cut short.
		slog.Error("reading a file to send", "err", err, "path", string(req.Path))
		return internalError(enc, req, out, before)
	}
	return !out.Items[before].Close
}

// internalError replaces whatever the request's handler appended from item
// before on with a 500 that closes the connection, and reports false: the
// connection takes no more requests.
func internalError(enc *protocol.Encoder, req *protocol.Request, out *protocol.Batch, before int) bool {
	truncate(out, before)
	enc.Encode(out, req, &protocol.Reply{Status: 500, ContentType: "text/plain; charset=utf-8",
		Body: protocol.ErrorBody(500), Close: true})
	return false
}

// loadFile readies a response's file. A small file is read into the
// response itself, so it leaves with its head in one write; of a larger
// one the first window is probed, so that a cached file costs the reactor
// no probe of its own. it is the last item of out.
func loadFile(out *protocol.Batch, it *protocol.Item, pages Pages) error {
	f := &it.File
	if pages == nil || !it.HasFile || f.Len == 0 {
		return nil // nil pages: the caller sends files as they are (tests of the routes)
	}
	if f.Len <= SmallFile {
		start := len(out.Buf)
		out.Buf = append(out.Buf, make([]byte, f.Len)...)
		if err := ReadAt(f.Fd, out.Buf[start:], f.Off); err != nil {
			return err // io.ErrUnexpectedEOF: the file shrank since its size was read
		}
		it.Body = protocol.Span{Start: start, End: len(out.Buf)}
		CloseFile(it)
		return nil
	}
	NoReadahead(f.Fd)
	if window := min(f.Len, Window); pages.Resident(f.Fd, f.Off, window) {
		f.Ready = window
	}
	// Otherwise the reactor sends a worker of the read lane for it, so a
	// cold download does not hold a request worker for its disk reads.
	return nil
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
	Touch(pad[:])
}

// Touch writes to b so that the compiler keeps a stack array that is there
// only to grow the stack (GrowStack, and the reactor's handshake goroutines).
//
//go:noinline
func Touch(b []byte) { b[0] = 1 }
