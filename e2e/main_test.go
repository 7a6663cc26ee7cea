// Package e2e holds the end-to-end tests of http_server: they start the real
// server binary on loopback and talk to it the way clients do, with Go's
// net/http client, raw sockets (for exact bytes), curl and openssl. They
// cover what only a running process shows: the wire format, keep-alive and
// pipelining, timeouts and limits, signals, systemd integration, TLS and
// large downloads. Rules that can be checked by calling a function (range
// parsing, conditional requests, path containment, content types) are unit
// tests in the package that holds them.
//
// The binary under test is $HTTP_SERVER_BIN when set; otherwise TestMain
// builds http_server/cmd/http_server into a temporary directory. From the
// module root:
//
//	make e2e                 # builds ./http_server and runs this package with -race
//	go test ./e2e/           # builds the server itself
//	HTTP_SERVER_BIN=$PWD/http_server go test -run TLS ./e2e/
//
// The tests that need curl or openssl skip when it is missing, and fail
// instead when CI is set; the aria2c test always skips without aria2c.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// serverBin is the absolute path of the binary under test.
var serverBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin := os.Getenv("HTTP_SERVER_BIN")
	if bin == "" {
		dir, err := os.MkdirTemp("", "http_server-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "http_server")
		build := exec.Command("go", "build", "-o", bin, "http_server/cmd/http_server")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the server failed:", err)
			return 1
		}
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if _, err := os.Stat(abs); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: server binary:", err)
		return 1
	}
	serverBin = abs
	return m.Run()
}
