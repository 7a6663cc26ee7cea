package e2e

// Certificates for the TLS end-to-end tests, made at test time: one
// certificate authority per test and leaf certificates it signs (ECDSA
// P-256, valid for 127.0.0.1 and localhost), written as PEM files that the
// server loads and that curl and openssl trust through --cacert / -CAfile.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte         // the CA certificate
	Pool *x509.CertPool // trusts the CA, for Go clients
	Path string         // the CA certificate as a PEM file, for curl and openssl
}

// leafCert is one server certificate and its key, as PEM files.
type leafCert struct {
	CertPath string
	KeyPath  string
	Cert     *x509.Certificate
	Serial   *big.Int
	CN       string
}

// newCA makes a CA valid for the next day.
func newCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(t),
		Subject:               pkix.Name{CommonName: "http_server e2e test CA", Organization: []string{"http_server tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{
		Cert: cert,
		Key:  key,
		PEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Pool: x509.NewCertPool(),
		Path: filepath.Join(t.TempDir(), "ca.pem"),
	}
	ca.Pool.AddCert(cert)
	if err := os.WriteFile(ca.Path, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return ca
}

func randomSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1)) // never 0
}

// Leaf makes a server certificate named cn and writes it and its key to
// cert.pem and key.pem in a fresh temporary directory.
func (ca *testCA) Leaf(t testing.TB, cn string) *leafCert {
	t.Helper()
	dir := t.TempDir()
	return ca.LeafAt(t, cn, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
}

// LeafAt makes a server certificate named cn and writes it to certPath and
// its key to keyPath, each replaced atomically (written aside, then
// renamed), so that a server reading them never sees half a file.
func (ca *testCA) LeafAt(t testing.TB, cn, certPath, keyPath string) *leafCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial := randomSerial(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"http_server tests"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeAtomic(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return &leafCert{CertPath: certPath, KeyPath: keyPath, Cert: cert, Serial: serial, CN: cn}
}

// writeAtomic replaces path with data in one rename.
func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
