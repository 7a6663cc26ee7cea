package e2e

// The /write value in Redis (--store redis://...): instances share it, a
// Redis that is down costs /write and /read a 503 within the deadline and
// nothing else, and writes work again once Redis is back.

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// redisServer is a redis-server on a loopback port, stopped by PID.
type redisServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on port (0: a free one); needTool says
// what happens where it is not installed.
func startRedis(t testing.TB, port int) *redisServer {
	t.Helper()
	bin := needTool(t, "redis-server", "redis-server")
	if port == 0 {
		port = freePort(t)
	}
	r := &redisServer{t: t, port: port}
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err := net.Dial("tcp", r.addr()); err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s", r.addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }
func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }

func (r *redisServer) stop() {
	if r.cmd.ProcessState == nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

func TestStoreRedisShared(t *testing.T) {
	rs := startRedis(t, 0)
	args := []string{"--store", rs.url(), "--store-timeout", "500ms"}
	a := startServer(t, serverOptions{Args: args})
	b := startServer(t, serverOptions{Args: args})
	if r := sendOne(t, a.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 9\r\n\r\nfrom a:1\n"); r.Status != 200 {
		t.Fatalf("POST /write on a: %d %q", r.Status, r.Body)
	}
	if r := sendOne(t, b.Addr, "GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "from a:1\n" {
		t.Fatalf("GET /read on b: %d %q, want what a stored", r.Status, r.Body)
	}

	// Redis down: /write and /read get 503 with Retry-After within the
	// deadline; /ping does not notice; the failures are counted.
	rs.stop()
	start := time.Now()
	r := sendOne(t, a.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 3\r\n\r\nxyz")
	took := time.Since(start)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("POST /write with Redis down: %d, Retry-After %q; want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	if took > 3*time.Second {
		t.Errorf("POST /write with Redis down took %v, want about the 500ms deadline", took)
	}
	if r := sendOne(t, b.Addr, "GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 503 {
		t.Errorf("GET /read with Redis down: %d, want 503", r.Status)
	}
	if r := sendOne(t, a.Addr, getRequest("/ping")); r.Status != 200 || string(r.Body) != "pong" {
		t.Errorf("/ping with Redis down: %d %q", r.Status, r.Body)
	}
	if n := statsNumber(t, a.Addr, "store_errors"); n < 1 {
		t.Errorf("store_errors = %v after a failed /write", n)
	}

	// Redis back on the same port (empty: it kept nothing): writes work
	// again without restarting the servers.
	startRedis(t, rs.port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := sendOne(t, a.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 6\r\n\r\nback!\n")
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST /write still %d 10 s after Redis came back", r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := sendOne(t, b.Addr, "GET /read HTTP/1.1\r\nHost: e2e\r\n\r\n"); r.Status != 200 || string(r.Body) != "back!\n" {
		t.Errorf("GET /read on b after Redis came back: %d %q", r.Status, r.Body)
	}
}

// --check-config says whether the store answers.
func TestStoreCheckConfig(t *testing.T) {
	rs := startRedis(t, 0)
	if code, out, errOut := runBinary(t, "--store", rs.url(), "--check-config"); code != 0 {
		t.Errorf("--check-config with Redis up: exit %d\n%s%s", code, out, errOut)
	}
	dead := freePort(t)
	code, _, errOut := runBinary(t, "--store", fmt.Sprintf("redis://127.0.0.1:%d", dead), "--store-timeout", "300ms", "--check-config")
	if code != 1 {
		t.Errorf("--check-config with no Redis: exit %d, want 1\n%s", code, errOut)
	}
	if code, _, errOut := runBinary(t, "--store", "mongodb://x", "--check-config"); code == 0 {
		t.Errorf("--store mongodb://x accepted:\n%s", errOut)
	}
}

// A server started while Redis is down serves everything but /write and
// /read (503), and connects once Redis comes up.
func TestStoreRedisDownAtStart(t *testing.T) {
	needTool(t, "redis-server", "redis-server")
	port := freePort(t)
	s := startServer(t, serverOptions{Args: []string{"--store", fmt.Sprintf("redis://127.0.0.1:%d/0", port), "--store-timeout", "300ms"}})
	start := time.Now()
	if r := sendOne(t, s.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 2\r\n\r\nhi"); r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("POST /write before Redis is up: %d, Retry-After %q; want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the 503 took %v with a 300ms store timeout", took)
	}
	if r := sendOne(t, s.Addr, getRequest("/ping")); r.Status != 200 {
		t.Errorf("/ping before Redis is up: %d", r.Status)
	}
	startRedis(t, port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := sendOne(t, s.Addr, "POST /write HTTP/1.1\r\nHost: e2e\r\nContent-Length: 2\r\n\r\nhi")
		if r.Status == 200 && string(r.Body) == "hi" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST /write still %d 10 s after Redis came up", r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
