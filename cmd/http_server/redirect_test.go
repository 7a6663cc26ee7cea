package main

import "testing"

// A request without Host is redirected to the listen address, or to
// localhost when the server listens on every address.
func TestRedirectHost(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "0.0.0.0": "localhost", "::": "localhost", "": "localhost",
		"::1": "[::1]", "example.com": "example.com",
	} {
		if got := redirectHost(addr); got != want {
			t.Errorf("redirectHost(%q) = %q, want %q", addr, got, want)
		}
	}
}
