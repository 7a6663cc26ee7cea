package e2e

// The command line and the process life cycle: --help and --version,
// start-up errors, the port file and shutdown on SIGTERM and SIGINT.

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2ECLIHelpVersion: --help exits 0 and lists every flag; --version
// exits 0 and prints a version line.
func TestE2ECLIHelpVersion(t *testing.T) {
	code, out, errOut := runBinary(t, "--help")
	if code != 0 {
		t.Errorf("--help: exit status %d, want 0 (stdout %q, stderr %q)", code, out, errOut)
	}
	all := out + errOut
	for _, f := range []string{"--addr", "--port", "--root", "--workers", "--queue", "--compat",
		"--write-limit", "--classic-timeout", "--help", "--version"} {
		if !strings.Contains(all, f) {
			t.Errorf("--help does not mention %s:\n%s", f, all)
		}
	}

	code, out, errOut = runBinary(t, "--version")
	if code != 0 {
		t.Errorf("--version: exit status %d, want 0 (stdout %q, stderr %q)", code, out, errOut)
	}
	v := strings.TrimSpace(out + errOut)
	if v == "" {
		t.Errorf("--version printed nothing")
	}
	if strings.Contains(v, "listening on") {
		t.Errorf("--version started the server: %q", v)
	}
}

// TestE2ECLIStartupErrors: a bad flag, a bad --compat value, a missing root
// and a port in use each give a non-zero exit and a one-line message on
// stderr, with no Go stack trace.
func TestE2ECLIStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	root := t.TempDir()

	cases := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"--nope", "--port", "0", "--root", root}},
		{"bad compat", []string{"--compat", "nope", "--port", "0", "--root", root}},
		{"missing root", []string{"--port", "0", "--root", filepath.Join(root, "does", "not", "exist")}},
		{"port in use", []string{"--addr", "127.0.0.1", "--port", busyPort, "--root", root}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runBinary(t, tc.args...)
			if code == 0 {
				t.Errorf("exit status 0, want non-zero (stdout %q, stderr %q)", out, errOut)
			}
			msg := strings.TrimSpace(errOut)
			if msg == "" {
				t.Errorf("no message on stderr (stdout %q)", out)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("stderr is not one line:\n%s", errOut)
			}
			for _, bad := range []string{"goroutine ", "panic:"} {
				if strings.Contains(out+errOut, bad) {
					t.Errorf("output contains %q:\n%s%s", bad, out, errOut)
				}
			}
		})
	}
}

// TestE2ECLIPortFile: without --port, the number in ./port.txt is the port.
func TestE2ECLIPortFile(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	s := startServer(t, serverOptions{NoPort: true, PortFile: fmt.Sprintf("%d\n", port)})
	if s.Port != port {
		t.Fatalf("listening on port %d, port.txt says %d (line %q)", s.Port, port, s.Line)
	}
	r := sendOne(t, fmt.Sprintf("127.0.0.1:%d", port), "GET /ping HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n")
	if r.Status != 200 || string(r.Body) != "pong" {
		t.Fatalf("GET /ping on the port.txt port: %d %q", r.Status, r.Body)
	}
}

// TestE2ESignals: SIGTERM and SIGINT close every connection (one idle
// keep-alive connection after a request, one that never sent anything) and
// exit with status 0.
func TestE2ESignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s := startServer(t, serverOptions{})
			ka := dial(t, s.Addr)
			ka.Send(getRequest("/ping"))
			if r := ka.ReadResponse(false); r.Status != 200 || string(r.Body) != "pong" {
				t.Fatalf("GET /ping: %d %q", r.Status, r.Body)
			}
			silent := dial(t, s.Addr)
			time.Sleep(50 * time.Millisecond) // let the reactor accept it

			if code := s.Stop(sig); code != 0 {
				t.Fatalf("exit status after %v: %d, want 0\n%s", sig, code, s.Output())
			}
			ka.ExpectClosed()
			silent.ExpectClosed()
			for _, bad := range []string{"goroutine ", "panic:"} {
				if strings.Contains(s.Output(), bad) {
					t.Errorf("output contains %q:\n%s", bad, s.Output())
				}
			}
			if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
				c.Close()
				t.Errorf("the port still accepts connections after exit")
			}
		})
	}
}
