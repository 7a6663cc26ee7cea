package reactor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"
)

// testCert makes a self-signed ECDSA certificate for 127.0.0.1.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// memPair is a TLS server and client joined by two memConns, handshaken.
// Afterwards both are in the data phase and the test moves bytes by hand.
func memPair(t *testing.T, version uint16) (srv, cli *tls.Conn, sm, cm *memConn) {
	t.Helper()
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	sm, cm = newMemConn(nil, nil, poke), newMemConn(nil, nil, poke)
	cert := testCert(t)
	srv = tls.Server(sm, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
	cli = tls.Client(cm, &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version})

	errs := make(chan error, 2)
	go func() { errs <- srv.Handshake() }()
	go func() { errs <- cli.Handshake() }()
	var done int
	for done < 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			done++
		case <-wake:
		case <-time.After(10 * time.Millisecond):
		}
		move(cm, sm)
		move(sm, cm)
	}
	sm.dataPhase()
	cm.dataPhase()
	move(sm, cm) // TLS 1.3 session tickets
	return srv, cli, sm, cm
}

// move delivers what from wrote to to.
func move(from, to *memConn) {
	if p := from.pending(); len(p) > 0 {
		to.feed(p)
		from.consumed(len(p))
	}
}

// TestTLSRecordsOneByteAtATime pins the contract the reactor's data phase
// relies on: after a Read that reports a Temporary error, a crypto/tls
// connection stays usable, and the partial record it had read is kept. Every
// record arrives one byte at a time; a Go upgrade that breaks this fails here.
func TestTLSRecordsOneByteAtATime(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			srv, cli, sm, cm := memPair(t, v)
			want := append([]byte("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef"), 2000)...)
			for _, chunk := range [][]byte{want[:31], want[31:20031], want[20031:]} {
				if _, err := cli.Write(chunk); err != nil {
					t.Fatal(err)
				}
			}
			wire := append([]byte(nil), cm.pending()...)
			cm.consumed(len(wire))

			var got []byte
			buf := make([]byte, 4096)
			blocked := 0
			for i := range wire {
				sm.feed(wire[i : i+1])
				for {
					n, err := srv.Read(buf)
					got = append(got, buf[:n]...)
					if err == nil {
						continue
					}
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						t.Fatalf("byte %d of %d: Read error %v, want only would-block", i, len(wire), err)
					}
					blocked++
					break
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("plaintext: got %d bytes, want %d (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
			}
			if blocked < len(wire)-10 {
				t.Fatalf("only %d would-block reads for %d bytes fed singly", blocked, len(wire))
			}

			// The other direction still works after all those errors.
			if _, err := srv.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			move(sm, cm)
			n, err := cli.Read(buf)
			if err != nil || string(buf[:n]) != "pong" {
				t.Fatalf("client read %q, %v", buf[:n], err)
			}
		})
	}
}

// A close_notify from the client reads as io.EOF, after the data before it.
func TestTLSCloseNotifyIsEOF(t *testing.T) {
	srv, cli, sm, cm := memPair(t, tls.VersionTLS13)
	cli.Write([]byte("last"))
	cli.CloseWrite()
	move(cm, sm)
	buf := make([]byte, 64)
	var got []byte
	var err error
	for err == nil {
		var n int
		n, err = srv.Read(buf)
		got = append(got, buf[:n]...)
	}
	if string(got) != "last" || err.Error() != "EOF" {
		t.Fatalf("got %q, %v; want \"last\", EOF", got, err)
	}
}

// In the handshake phase Read waits for bytes, and drop wakes it.
func TestMemConnDropWakesRead(t *testing.T) {
	m := newMemConn(nil, nil, nil)
	got := make(chan error, 1)
	go func() {
		_, err := m.Read(make([]byte, 8))
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Read returned %v before anything happened", err)
	case <-time.After(20 * time.Millisecond):
	}
	m.drop()
	select {
	case err := <-got:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after drop: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("drop did not wake the blocked Read")
	}
}

func commonPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}
