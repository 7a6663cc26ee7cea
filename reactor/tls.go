package reactor

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"http_server/stats"
	"http_server/workers"

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

// tlsConn is a connection's TLS state. During the handshake (stateHandshake)
// its goroutine owns tc; once the reactor has seen the handshake end, only
// the reactor touches it.
type tlsConn struct {
	mc        *memConn
	tc        *tls.Conn
	err       error // the handshake's result, written before its done event
	plainHTTP bool  // the client spoke plain HTTP to the HTTPS port
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
	t := &tlsConn{}
	t.mc = newMemConn(l.addr, remote, func() { done.pushTLS(tlsEvent{id: id}) })
	t.tc = tls.Server(t.mc, r.tls.config)
	c.tls, c.state = t, stateHandshake
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
	workers.Touch(pad[:])
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
	if c == nil || c.state != stateHandshake {
		return // closed meanwhile
	}
	if !ev.done {
		r.after(c, r.sendPending(c))
		return
	}
	t := c.tls
	if t.err != nil {
		if t.plainHTTP {
			// Like net/http: one plain line, so that a user who typed
			// http:// sees what went wrong instead of an empty reply.
			_, _ = unix.Write(c.fd, plainToTLS)
		}
		r.sendPending(c) // the alert, if crypto/tls wrote one
		r.after(c, stepClose)
		return
	}
	c.state = stateReading
	t.mc.dataPhase()
	c.idleSince = r.now()
	if s := r.sendPending(c); s == stepAbort { // the end of the handshake, session tickets
		r.after(c, s)
		return
	}
	t.mc.release()
	r.after(c, r.resume(c)) // the first request may already be here: no event will say so
}

// readCipher reads ciphertext from c's socket into its memConn. During the
// handshake the handshake goroutine takes it; after, it is lent to
// crypto/tls for resume to decrypt (ready), and settle keeps what is left.
func (r *Reactor) readCipher(c *conn) (ready bool, s step) {
	t := c.tls
	handshaking := c.state == stateHandshake
	if handshaking && t.mc.inputLen() > maxHandshakeInput {
		return false, stepAbort // far more than any handshake needs
	}
	n, res := readSocket(c.fd, r.scratch)
	switch {
	case res == recvFailed:
		return false, stepAbort
	case res == recvEOF:
		t.mc.peerClosed()
		if handshaking {
			c.peerEOF = true // the handshake goroutine sees EOF and ends
			return false, stepOn
		}
		return true, stepOn
	case n == 0:
		return false, stepOn
	}
	c.lastRead = r.now()
	if handshaking {
		t.mc.feed(r.scratch[:n]) // the handshake goroutine reads it
		r.kicked = true
		return false, stepOn
	}
	t.mc.lend(r.scratch[:n])
	return true, stepOn
}
