package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ServerConfig is how the sweep starts one server.
type ServerConfig struct {
	Binary  string // path of the http_server binary
	Root    string // --root: the fixtures directory
	Loops   int    // --loops, event loops; 0 leaves the server's default (one per CPU)
	Workers int    // --workers (0 = handlers inline on the reactor)
	Queue   int    // --queue
	CPUs    string // if set, the server runs under taskset -c CPUs
	Args    []string
	// Throttle, if set, is the cgroup the server joins right after it
	// starts, before it listens: its disk reads are limited.
	Throttle *Throttle
}

// Server is a running http_server started by the sweep.
type Server struct {
	Addr string // host:port it listens on
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, valid once done is closed

	mu   sync.Mutex
	tail []string // last lines of its stderr, for error messages
}

var listeningRE = regexp.MustCompile(`listening on ([0-9.]+):([0-9]+)`)

// StartServer starts the server on a free loopback port and waits for its
// "listening on" log line, which gives the port.
func StartServer(cfg ServerConfig) (*Server, error) {
	args := []string{
		"--addr", "127.0.0.1", "--port", "0", "--root", cfg.Root,
		"--workers", strconv.Itoa(cfg.Workers), "--queue", strconv.Itoa(cfg.Queue),
	}
	if cfg.Loops > 0 {
		args = append(args, "--loops", strconv.Itoa(cfg.Loops))
	}
	args = append(args, cfg.Args...)
	name := cfg.Binary
	if cfg.CPUs != "" {
		// taskset execs the server, so the process we signal is the server.
		args = append([]string{"-c", cfg.CPUs, cfg.Binary}, args...)
		name = "taskset"
	}
	cmd := exec.Command(name, args...)
	// If the sweep dies (killed, its terminal closed) the server must not
	// outlive it. The signal survives taskset's exec.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if cfg.Throttle != nil {
		// taskset execs the server in the same process, so the pid is
		// the server's either way.
		if err := cfg.Throttle.Add(cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, err
		}
	}
	s := &Server{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.tail = append(s.tail, line)
			if len(s.tail) > 20 {
				s.tail = s.tail[1:]
			}
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1] + ":" + m[2]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		s.err = cmd.Wait()
		close(s.done)
	}()
	select {
	case addr := <-found:
		s.Addr = addr
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("server exited before listening (%v): %s", s.err, s.Tail())
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-s.done
		return nil, fmt.Errorf("server did not report its port within 15 s: %s", s.Tail())
	}
}

// Tail is the last lines the server wrote on stderr.
func (s *Server) Tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// Stop sends SIGTERM and waits for the server to drain and exit; after
// timeout it kills it. An exit status other than 0 is an error.
func (s *Server) Stop(timeout time.Duration) error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("server did not exit within %v of SIGTERM; killed", timeout)
	}
	if s.err != nil {
		return fmt.Errorf("server exit: %w: %s", s.err, s.Tail())
	}
	return nil
}

// ServerVersion runs binary --version and returns its first line.
func ServerVersion(ctx context.Context, binary string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "--version").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s --version: %w: %s", binary, err, ee.Stderr)
		}
		return "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}
