package e2e

// Three instances sharing Redis behind a real HAProxy, under a closed loop
// of writes and reads; one instance is killed with SIGKILL mid-run. No
// acknowledged write is lost (the read that follows each one through the
// balancer returns it), and once the balancer's check has seen the death
// every request succeeds.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// needTool finds a program the several-instance tests need: CI installs
// it (.ci/run) and sets HTTP_SERVER_REQUIRE_SERVICES, which makes its
// absence a failure; elsewhere the test says it is skipped.
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if os.Getenv("HTTP_SERVER_REQUIRE_SERVICES") != "" {
		t.Fatalf("%s is not installed (apt-get install %s)", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install %s); CI runs this test", name, pkg)
	return ""
}

func startHAProxy(t testing.TB, backends []string) string {
	t.Helper()
	bin := needTool(t, "haproxy", "haproxy")
	port := freePort(t)
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "    server s%d %s check\n", i+1, b)
	}
	cfg := fmt.Sprintf(`global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 3
    option redispatch
    option http-keep-alive
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /ping
    http-check expect string pong
    default-server inter 100ms fall 1 rise 1
%s`, port, servers.String())
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", file)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := c.Get("http://" + addr + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy on %s did not serve /ping:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHAProxyThreeInstancesOneKilled(t *testing.T) {
	rs := startRedis(t, 0)
	args := []string{"--store", rs.url(), "--store-timeout", "1s"}
	var insts []*server
	var backends []string
	for i := 0; i < 3; i++ {
		s := startServer(t, serverOptions{Args: args})
		insts = append(insts, s)
		backends = append(backends, s.Addr)
	}
	lb := startHAProxy(t, backends)

	const run, killAt, grace = 3 * time.Second, time.Second, time.Second
	start := time.Now()
	var mu sync.Mutex
	var lost, lateFailures []string
	acked, reads := 0, 0
	note := func(list *[]string, format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(*list) < 10 {
			*list = append(*list, fmt.Sprintf("%v: ", time.Since(start).Round(time.Millisecond))+fmt.Sprintf(format, a...))
		}
	}
	afterGrace := func(t0 time.Time) bool { return t0.Sub(start) > killAt+grace }
	do := func(c *http.Client, req *http.Request) (int, string, error) {
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	var wg sync.WaitGroup
	// One writer: each acknowledged write must be what the next read
	// through the balancer returns (no other writer can replace it).
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &http.Client{Timeout: 5 * time.Second}
		for k := 1; time.Since(start) < run; k++ {
			v := fmt.Sprintf("w-%d", k)
			t0 := time.Now()
			req, _ := http.NewRequest("POST", "http://"+lb+"/write", strings.NewReader(v))
			st, body, err := do(c, req)
			if err != nil || st != 200 || body != v {
				if afterGrace(t0) {
					note(&lateFailures, "POST /write %s: %d %q %v", v, st, body, err)
				}
				continue
			}
			mu.Lock()
			acked++
			mu.Unlock()
			req, _ = http.NewRequest("GET", "http://"+lb+"/read", nil)
			st, body, err = do(c, req)
			switch {
			case err == nil && st == 200 && body != v:
				note(&lost, "acknowledged %s, then read %q", v, body)
			case (err != nil || st != 200) && afterGrace(t0):
				note(&lateFailures, "GET /read after %s: %d %v", v, st, err)
			}
		}
	}()
	// Readers.
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second}
			for time.Since(start) < run {
				t0 := time.Now()
				req, _ := http.NewRequest("GET", "http://"+lb+"/read", nil)
				st, _, err := do(c, req)
				if err == nil && st == 200 {
					mu.Lock()
					reads++
					mu.Unlock()
				} else if afterGrace(t0) {
					note(&lateFailures, "GET /read: %d %v", st, err)
				}
			}
		}()
	}
	time.Sleep(killAt)
	if err := syscall.Kill(insts[1].Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	t.Logf("%d writes acknowledged, %d reads answered; instance 2 killed at %v", acked, reads, killAt)
	if acked < 10 || reads < 10 {
		t.Errorf("too little traffic to judge: %d writes, %d reads", acked, reads)
	}
	for _, l := range lost {
		t.Errorf("lost write: %s", l)
	}
	for _, f := range lateFailures {
		t.Errorf("failed more than %v after the kill: %s", grace, f)
	}
}
