// Package logging writes the server's log and access log off the reactor
// goroutine: callers hand over a copy of each line and never wait for the
// disk or the journal. Lines that do not fit the buffer are dropped and
// counted, never blocking a request.
package logging

import (
	"bufio"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Writer is an io.Writer whose Write queues a copy of p for a background
// goroutine and returns at once.
type Writer struct {
	lines   chan []byte
	dropped atomic.Uint64

	mu   sync.Mutex // guards out and file, which Reopen swaps
	out  *bufio.Writer
	file *os.File // nil when writing to a stream we do not own (stderr)
	path string

	done chan struct{}
}

// NewWriter writes to w (a stream the caller owns) through a queue of
// depth lines.
func NewWriter(w io.Writer, depth int) *Writer {
	lw := &Writer{lines: make(chan []byte, depth), out: bufio.NewWriterSize(w, 64<<10), done: make(chan struct{})}
	go lw.run()
	return lw
}

// OpenFile appends to the file at path, which Reopen reopens (logrotate).
func OpenFile(path string, depth int) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	lw := NewWriter(f, depth)
	lw.file, lw.path = f, path
	return lw, nil
}

// Write queues a copy of p. It never blocks: a full queue drops the line.
func (w *Writer) Write(p []byte) (int, error) {
	line := append([]byte(nil), p...)
	select {
	case w.lines <- line:
	default:
		w.dropped.Add(1)
	}
	return len(p), nil
}

// Dropped is the number of lines lost to a full queue.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

func (w *Writer) run() {
	defer close(w.done)
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	for {
		select {
		case line, ok := <-w.lines:
			w.mu.Lock()
			if !ok {
				w.out.Flush()
				w.mu.Unlock()
				return
			}
			w.out.Write(line)
			if len(w.lines) == 0 {
				w.out.Flush() // idle: make the line visible now
			}
			w.mu.Unlock()
		case <-flush.C:
			w.mu.Lock()
			w.out.Flush()
			w.mu.Unlock()
		}
	}
}

// Reopen closes and reopens the file (after logrotate moved it away).
// Writers to a stream just flush.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Flush()
	if w.file == nil {
		return nil
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	w.file.Close()
	w.file = f
	w.out.Reset(f)
	return nil
}

// Close writes what is queued and closes the file. No Write may follow.
func (w *Writer) Close() error {
	close(w.lines)
	<-w.done
	if w.file != nil {
		return w.file.Close()
	}
	return nil
}
