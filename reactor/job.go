package reactor

import (
	"fmt"
	"log/slog"

	"http_server/protocol"

	"golang.org/x/sys/unix"
)

// job carries the complete requests of one connection to a worker and their
// responses back. While it is in the pool the worker owns it; once it is
// back, the reactor writes its responses and recycles it. Only the
// connection id links it to its connection, so a job that outlives its
// connection can never touch another client's (DESIGN invariant 2).
type job struct {
	r        *Reactor
	id       uint64
	reqs     []protocol.Request
	n        int
	consumed int   // bytes of the connection's buffer these requests span
	arrived  int64 // reactor clock when the first request's first byte came
	out      protocol.Batch

	// write cursor, reactor only
	pos      int   // bytes of out.Buf written
	cur      int   // first item not yet completely written
	fileSent int64 // bytes of items[cur]'s file sent

	run func() // the pool task, bound once so submitting allocates nothing
}

// next returns a reset request slot at the end of the batch.
func (j *job) next() *protocol.Request {
	if j.n == len(j.reqs) {
		j.reqs = append(j.reqs, protocol.Request{})
	}
	return &j.reqs[j.n]
}

// serve answers every request of the job in order; it runs on a worker, or
// inline on the reactor when there is no pool. It never touches a socket.
func (j *job) serve() {
	h := j.r.handler
	for i := 0; i < j.n; i++ {
		if !j.serveOne(h, &j.reqs[i]) {
			break
		}
	}
}

// serveOne answers one request and reports whether the connection stays open.
// A panicking handler costs its client a 500 and a closed connection, never
// the server or the connection's place in the reactor.
func (j *job) serveOne(h Handler, req *protocol.Request) (more bool) {
	before := len(j.out.Items)
	defer func() {
		if p := recover(); p != nil {
			slog.Error("handler panic", "panic", fmt.Sprint(p), "path", string(req.Path))
			j.truncate(before)
			j.r.enc.Encode(&j.out, req, &protocol.Reply{Status: 500, ContentType: "text/plain; charset=utf-8",
				Body: []byte("Internal Server Error\n"), Close: true})
			more = false
		}
	}()
	h.Serve(req, &j.out)
	if len(j.out.Items) != before+1 {
		panic(fmt.Sprintf("handler produced %d responses for one request", len(j.out.Items)-before))
	}
	return !j.out.Items[before].Close
}

// truncate drops the items from i on, closing the files they own.
func (j *job) truncate(i int) {
	for k := i; k < len(j.out.Items); k++ {
		closeItemFile(&j.out.Items[k])
	}
	if i < len(j.out.Items) {
		j.out.Buf = j.out.Buf[:j.out.Items[i].Head.Start]
		j.out.Items = j.out.Items[:i]
	}
}

// closeItemFile closes the descriptor an item owns, exactly once.
func closeItemFile(it *protocol.Item) {
	if it.HasFile {
		unix.Close(it.File.Fd)
		it.HasFile = false
	}
}

// reset closes every file the job still owns and clears it for reuse.
func (j *job) reset() {
	for k := range j.out.Items {
		closeItemFile(&j.out.Items[k])
	}
	j.out.Reset()
	for i := 0; i < j.n; i++ {
		j.reqs[i].Body = nil
	}
	j.id, j.n, j.consumed = 0, 0, 0
	j.pos, j.cur, j.fileSent = 0, 0, 0
}
