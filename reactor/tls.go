package reactor

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"http_server/stats"

	"golang.org/x/sys/unix"
)

// TLSOptions configure the HTTPS listener.
type TLSOptions struct {
	Addr   string
	Port   int
	Config *tls.Config // certificates (GetCertificate for reloads), versions, ALPN

	HandshakeTimeout time.Duration // whole handshake, from accept (0: 10 s)
	MaxHandshakes    int           // concurrent handshakes; past it accepting pauses (0: 256)
}

const (
	tlsSlice          = 64 << 10 // plaintext encrypted at a time, only once the previous output left
	maxHandshakeInput = 64 << 10 // ciphertext a client may send ahead during its handshake
)

// tlsServer is the reactor's HTTPS state.
type tlsServer struct {
	config      *tls.Config
	timeout     time.Duration
	max         int
	handshaking int    // handshake goroutines running (reactor only)
	buf         []byte // file slices are read here before encryption
}

func newTLSServer(o *TLSOptions) *tlsServer {
	t := &tlsServer{config: o.Config, timeout: o.HandshakeTimeout, max: o.MaxHandshakes}
	if t.timeout <= 0 {
		t.timeout = 10 * time.Second
	}
	if t.max <= 0 {
		t.max = 256
	}
	t.buf = make([]byte, tlsSlice)
	return t
}

// room reports whether another handshake may start.
func (t *tlsServer) room() bool { return t.handshaking < t.max }

// tlsConn is a connection's TLS state. During the handshake its goroutine
// owns tc; once the reactor has seen the handshake end, only the reactor
// touches it.
type tlsConn struct {
	mc          *memConn
	tc          *tls.Conn
	handshaking bool  // the reactor has not yet taken the handshake's result
	err         error // the handshake's result, written before its done event
	plainHTTP   bool  // the client spoke plain HTTP to the HTTPS port
}

// startHandshake runs crypto/tls's handshake for c on a goroutine of its
// own: it blocks on the in-memory conn, never on the socket. Its output and
// its end come back to the reactor through the completion queue.
func (r *Reactor) startHandshake(c *conn, l *listener) {
	id, done := c.id(), r.done
	var remote net.Addr
	if c.peer.IsValid() { // read for the access log; otherwise spare the syscall
		remote = net.TCPAddrFromAddrPort(c.peer)
	}
	t := &tlsConn{handshaking: true}
	t.mc = newMemConn(l.addr, remote, func() { done.pushTLS(tlsEvent{id: id}) })
	t.tc = tls.Server(t.mc, r.tls.config)
	c.tls = t
	r.tls.handshaking++
	if !r.tls.room() {
		r.pauseAccepting()
	}
	counters, timeout := &r.stats.TLS, r.tls.timeout
	r.kicked = true
	go func() {
		growHandshakeStack()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := t.tc.HandshakeContext(ctx)
		if err != nil {
			reason := handshakeFailure(err, ctx)
			counters.Fail(reason)
			t.plainHTTP = reason == stats.FailNotTLS && looksLikeHTTP(err)
		} else {
			counters.Handshake(t.tc.ConnectionState().Version)
		}
		cancel()
		t.err = err
		done.pushTLS(tlsEvent{id: id, done: true})
	}()
}

// growHandshakeStack grows a handshake goroutine's stack to what the
// handshake needs in one step, while it is one frame deep: grown on demand
// inside crypto/tls, it was copied several times with every frame walked
// (runtime.copystack was 3.5% of a handshake-bound profile).
//
//go:noinline
func growHandshakeStack() {
	var pad [24 << 10]byte
	touch(pad[:])
}

// handshakeFailure sorts a failed handshake into one of a few reasons.
func handshakeFailure(err error, ctx context.Context) int {
	var rh tls.RecordHeaderError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return stats.FailTimeout
	case errors.As(err, &rh):
		return stats.FailNotTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return stats.FailClientClosed
	}
	return stats.FailProtocol
}

var plainToTLS = []byte("HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")

// looksLikeHTTP tells a plain-HTTP request from other garbage on the HTTPS port.
func looksLikeHTTP(err error) bool {
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) {
		return false
	}
	switch string(rh.RecordHeader[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		return true
	}
	return false
}

// handshakeEvent acts on a handshake goroutine's news: output to send, or
// the handshake's end.
func (r *Reactor) handshakeEvent(ev tlsEvent) {
	if ev.done {
		r.tls.handshaking--
	}
	c := r.table.byID(ev.id)
	if c == nil || c.tls == nil || !c.tls.handshaking {
		return // closed meanwhile, or output already sent with the end
	}
	if !ev.done {
		r.sendCipher(c)
		return
	}
	t := c.tls
	if t.err != nil {
		if t.plainHTTP {
			// Like net/http: one plain line, so that a user who typed
			// http:// sees what went wrong instead of an empty reply.
			_, _ = unix.Write(c.fd, plainToTLS)
		}
		r.sendCipher(c) // the alert, if crypto/tls wrote one
		if c.fd >= 0 {
			r.closeConn(c)
		}
		return
	}
	t.handshaking = false
	t.mc.dataPhase()
	c.idleSince = r.now()
	if !r.sendCipher(c) && c.fd < 0 { // the end of the handshake, session tickets
		return
	}
	t.mc.release()
	r.pullTLS(c) // the first request may already be here: no event will say so
	if c.fd >= 0 {
		r.schedule(c, r.deadline(c))
	}
}

// readTLS reads ciphertext from c's socket into its memConn; after the
// handshake it decrypts what it can into c.in and parses it.
func (r *Reactor) readTLS(c *conn) {
	t := c.tls
	if t.handshaking && t.mc.inputLen() > maxHandshakeInput {
		r.abort(c) // far more than any handshake needs
		return
	}
	n, err := unix.Read(c.fd, r.scratch)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		r.abort(c)
		return
	case n == 0:
		t.mc.peerClosed()
		if t.handshaking {
			c.peerEOF = true // the handshake goroutine sees EOF and ends
			r.updateInterest(c)
			return
		}
	default:
		c.lastRead = r.now()
		if t.handshaking {
			t.mc.feed(r.scratch[:n]) // the handshake goroutine reads it
			r.kicked = true
			return
		}
		t.mc.lend(r.scratch[:n])
	}
	r.pullTLS(c)
	if c.fd >= 0 {
		t.mc.settle()
	}
}

// pullTLS decrypts into c.in until crypto/tls has nothing more, sends what
// reading produced (a KeyUpdate's reply, an alert) and parses the requests.
func (r *Reactor) pullTLS(c *conn) {
	for !c.peerEOF && !c.finishing {
		if !r.makeRoom(c) {
			if c.job == nil {
				r.reject(c, 413)
				return
			}
			c.paused = true // resumes when the job's output has left (next)
			r.updateInterest(c)
			break
		}
		n, err := c.tls.tc.Read(c.in[len(c.in):cap(c.in)])
		if n > 0 {
			if !c.buffered() && c.partialSince == 0 {
				c.partialSince = r.now()
			}
			c.in = c.in[:len(c.in)+n]
			c.lastRead = r.now()
		}
		if err == nil {
			continue
		}
		if errors.Is(err, errWouldBlock) { // a comparison first: no reflection per read
			break // would block: data used above, the rest comes with the next read
		}
		if errors.Is(err, io.EOF) {
			c.peerEOF = true // close_notify, or EOF at a record boundary
			r.updateInterest(c)
			break
		}
		// A bad record, or a message the connection refuses (renegotiation):
		// crypto/tls has queued an alert, and the session is unusable.
		r.sendCipher(c)
		if c.fd >= 0 {
			r.abort(c)
		}
		return
	}
	if !r.sendCipher(c) && c.fd < 0 {
		return
	}
	r.process(c)
}

// sendCipher writes c's pending ciphertext and reports whether all of it
// left. On a full socket it waits for EPOLLOUT; on an error c is closed.
func (r *Reactor) sendCipher(c *conn) bool {
	for {
		p := c.tls.mc.pending()
		if len(p) == 0 {
			return true
		}
		n, err := unix.Write(c.fd, p)
		if n > 0 {
			c.tls.mc.consumed(n)
			c.lastWrite = r.now()
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN || (err == nil && n < len(p)):
			r.waitWritable(c)
			return false
		case err != nil:
			r.abort(c)
			return false
		}
	}
}

// writableTLS sends output that no job owns (handshake records, KeyUpdate
// replies) once the socket has room again.
func (r *Reactor) writableTLS(c *conn) {
	if r.sendCipher(c) && c.fd >= 0 {
		c.wantOut = false
		r.updateInterest(c)
	}
}

// flushTLS is flush for a TLS connection. Plaintext is encrypted in slices
// of at most tlsSlice, and only once the previous ciphertext has left, so a
// client that reads slowly holds no more than a slice beyond its socket
// buffer. Files are read slice by slice (no sendfile through TLS), pulled
// by EPOLLOUT like sendfile is.
func (r *Reactor) flushTLS(c *conn) {
	j, t := c.job, c.tls
	if !r.sendCipher(c) {
		return
	}
	items := j.out.Items
	budget := int64(sendBudget)
	for j.cur < len(items) {
		it := &items[j.cur]
		var p []byte
		switch {
		case j.pos < it.Body.End:
			end, _ := regionEnd(items, j.cur, len(j.out.Buf))
			end = min(end, j.pos+tlsSlice)
			p = j.out.Buf[j.pos:end]
			j.pos = end
		case it.HasFile && j.fileSent < it.File.Len:
			if budget <= 0 {
				r.waitWritable(c) // level-triggered: we come back next turn
				return
			}
			want := int(min(it.File.Len-j.fileSent, tlsSlice))
			n, err := unix.Pread(it.File.Fd, r.tls.buf[:want], it.File.Off+j.fileSent)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				r.abort(c) // the file shrank or failed; its length is already promised
				return
			}
			p = r.tls.buf[:n]
			j.fileSent += int64(n)
			budget -= int64(n)
		default:
			if !r.itemSent(c, j, it) {
				return
			}
			continue
		}
		if _, err := t.tc.Write(p); err != nil {
			r.abort(c)
			return
		}
		if !r.sendCipher(c) {
			return
		}
	}
	r.jobSent(c, j)
}

// sendInterimTLS sends a short interim response (100 Continue) through TLS.
func (r *Reactor) sendInterimTLS(c *conn, p []byte) {
	if _, err := c.tls.tc.Write(p); err != nil {
		r.abort(c)
		return
	}
	r.sendCipher(c)
}

// closeNotify sends close_notify before the write side is shut, so the
// client can tell the end of the responses from a cut. It reports false
// when the connection was closed instead.
func (r *Reactor) closeNotify(c *conn) bool {
	if c.tls.handshaking {
		return true
	}
	_ = c.tls.tc.CloseWrite()
	r.sendCipher(c) // everything before has left, so these few bytes fit
	return c.fd >= 0
}

//go:noinline
func touch(b []byte) { b[0] = 1 }
