package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"http_server/protocol"
)

func TestConfigDefaultsAndPortFile(t *testing.T) {
	dir := t.TempDir()
	portFile := filepath.Join(dir, "port.txt")

	c, err := parseConfig(nil, &bytes.Buffer{}, portFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.port != 8080 || c.addr != "127.0.0.1" || c.root != "." || c.compat != protocol.Modern ||
		c.queue != 1024 || c.writeLimit != 1024 || c.workers != defaultWorkers() {
		t.Fatalf("defaults: %+v", c)
	}

	os.WriteFile(portFile, []byte(" 9123\n"), 0o644)
	if c, err = parseConfig(nil, &bytes.Buffer{}, portFile); err != nil || c.port != 9123 {
		t.Fatalf("port.txt: port %d, err %v", c.port, err)
	}
	if c, err = parseConfig([]string{"--port", "0"}, &bytes.Buffer{}, portFile); err != nil || c.port != 0 {
		t.Fatalf("--port beats port.txt: port %d, err %v", c.port, err)
	}
	os.WriteFile(portFile, []byte("eighty"), 0o644)
	if _, err = parseConfig(nil, &bytes.Buffer{}, portFile); err == nil || !strings.Contains(err.Error(), "port.txt") {
		t.Fatalf("a bad port.txt must be an error naming it, got %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--nope"}, {"--port", "70000"}, {"--workers", "-1"}, {"--queue", "0"},
		{"--compat", "retro"}, {"--dotfiles", "maybe"}, {"--header-timeout", "0s"}, {"--max-conns", "-1"}, {"--port", "x"}, {"stray"},
	} {
		if _, err := parseConfig(args, &bytes.Buffer{}, filepath.Join(t.TempDir(), "none")); err == nil || errors.Is(err, errHelp) {
			t.Errorf("%v: want an error, got %v", args, err)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseConfig([]string{"--help"}, &out, "none"); !errors.Is(err, errHelp) {
		t.Fatal(err)
	}
	for _, flag := range []string{"--addr", "--port", "--root", "--workers", "--queue", "--compat", "--write-limit"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
	out.Reset()
	if _, err := parseConfig([]string{"--version"}, &out, "none"); !errors.Is(err, errHelp) || !strings.HasPrefix(out.String(), "http_server ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
}
