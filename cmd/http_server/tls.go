package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
)

// certificate is the HTTPS key pair. SIGHUP loads it again from the same
// files; handshakes that start afterwards use the new one, and connections
// already open keep their sessions.
type certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func loadCertificate(cfg *config) (*certificate, error) {
	c := &certificate{certFile: cfg.tlsCert, keyFile: cfg.tlsKey}
	if err := c.load(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// load reads both files and swaps the pair in only if they make one.
// Errors name the option (and where it was set) and the file.
func (c *certificate) load(cfg *config) error {
	certPEM, err := os.ReadFile(c.certFile)
	if err != nil {
		return cfg.optionError("tls-cert", err.Error())
	}
	keyPEM, err := os.ReadFile(c.keyFile)
	if err != nil {
		return cfg.optionError("tls-key", err.Error())
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cfg.optionError("tls-cert", fmt.Sprintf("%s with %s: %v", c.certFile, c.keyFile, err))
	}
	c.cur.Store(&pair)
	return nil
}

// reload answers SIGHUP; a pair that does not load leaves the old one in use.
func (c *certificate) reload(cfg *config) {
	if err := c.load(cfg); err != nil {
		slog.Error("SIGHUP: TLS certificate not reloaded; the previous one stays in use", "err", err)
		return
	}
	slog.Info("SIGHUP: TLS certificate reloaded", "cert", c.certFile)
}

// tlsConfig is TLS 1.2 and up with crypto/tls's default cipher suites, and
// ALPN http/1.1 so that clients that offer h2 settle on what we speak.
func (c *certificate) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
