package logging

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry() *Entry {
	return &Entry{
		Time: time.Date(2026, 11, 26, 10, 49, 43, 0, time.UTC), Peer: netip.MustParseAddrPort("127.0.0.1:5000"),
		Method: []byte("GET"), Target: []byte(`/a"b\c`), Minor: 1, Status: 200, Bytes: 4,
		UserAgent: []byte("curl/7.88.1"), Duration: 1500 * time.Microsecond,
	}
}

func TestCombined(t *testing.T) {
	got := string(appendCombined(nil, entry()))
	want := `127.0.0.1 - - [26/Nov/2026:10:49:43 +0000] "GET /a\x22b\x5Cc HTTP/1.1" 200 4 "-" "curl/7.88.1"` + "\n"
	if got != want {
		t.Fatalf("\n got %q\nwant %q", got, want)
	}
	e := entry()
	e.Minor, e.Method = -1, nil
	if got := string(appendCombined(nil, e)); !strings.Contains(got, `] "-" 200`) {
		t.Fatalf("no request line: %q", got)
	}
}

func TestJSON(t *testing.T) {
	e := entry()
	e.UserAgent = []byte("bad\xff\x01")
	var m map[string]any
	line := appendJSON(nil, e)
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if m["target"] != `/a"b\c` || m["status"] != 200.0 || m["remote"] != "127.0.0.1" || m["proto"] != "HTTP/1.1" ||
		m["user_agent"] != "bad\uFFFD\x01" || m["duration_ms"] != 1.5 {
		t.Fatalf("%v", m)
	}
}

// Lines reach the file; Reopen follows a rename (logrotate); a full queue
// drops lines instead of blocking.
func TestWriterReopenAndDrop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	w, err := OpenFile(path, 16)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAccess(w, false)
	a.Log(entry())
	waitFile(t, path, 1)
	os.Rename(path, path+".1")
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	a.Log(entry())
	a.Log(entry())
	waitFile(t, path, 2)
	for i := 0; i < 100000; i++ {
		w.Write([]byte("x\n"))
	}
	if w.Dropped() == 0 {
		t.Fatal("100000 lines into a queue of 16 dropped none; Write must not block")
	}
	w.Close()
}

func waitFile(t *testing.T, path string, lines int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) == lines {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("%s has %q, want %d lines", path, b, lines)
}
