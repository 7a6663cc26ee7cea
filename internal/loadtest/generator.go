package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options describe one load-generator run against a running server.
type Options struct {
	Addr        string    // host:port of the server
	Scenario    *Scenario // from NewScenario, built for Addr
	Connections int       // concurrent keep-alive connections (closed loop)
	// Pipeline is the number of requests each connection keeps in flight:
	// 1 sends the next request when the previous response has arrived;
	// more pipelines them (responses come back in order).
	Pipeline int
	Duration time.Duration // measured time, after the warm-up
	// Requests, when above zero, ends the run after this many measured
	// responses instead of after Duration.
	Requests int64
	Warmup   time.Duration // load before measuring, excluded from every figure
	// Timeout bounds a connect; a request still unanswered this long when
	// the run ends counts as a timeout error. Default 5 s.
	Timeout time.Duration
	// Progress, if set, is called about every 200 ms with live figures.
	Progress func(Progress)
	// Root is the server's root (the fixtures directory) as this process
	// sees it. A cold scenario (Scenario.Cold) needs it: Run evicts the
	// scenario's files before it starts (and, for Scenario.EvictEach,
	// after each response; see ColdSet).
	Root string
}

// Progress is a live view of a run, for a progress bar.
type Progress struct {
	Elapsed   time.Duration // since the start, warm-up included
	Measuring bool          // past the warm-up
	Requests  int64         // responses so far, warm-up included
	Errors    int64
}

// Errors counts failed requests by cause. A response with a status of 300
// or more is not an error: it is counted in Result.Non2xx.
type Errors struct {
	Connect int64 `json:"connect"` // dial failed
	Read    int64 `json:"read"`    // the connection failed or closed with requests in flight
	Write   int64 `json:"write"`   // sending requests failed
	Parse   int64 `json:"parse"`   // a response the reader could not frame
	Timeout int64 `json:"timeout"` // unanswered for Timeout when the run ended
	// Check: a 2xx response that failed the scenario's check (compressed:
	// not compressed, no Vary, a body that does not decode to the file).
	Check int64 `json:"check"`
}

// Total is the sum of every kind of error.
func (e Errors) Total() int64 { return e.Connect + e.Read + e.Write + e.Parse + e.Timeout + e.Check }

func (e *Errors) add(o Errors) {
	e.Connect += o.Connect
	e.Read += o.Read
	e.Write += o.Write
	e.Parse += o.Parse
	e.Timeout += o.Timeout
	e.Check += o.Check
}

// Result is what a run measured, warm-up excluded.
type Result struct {
	Scenario    string
	Connections int
	Pipeline    int
	Elapsed     time.Duration // length of the measured window
	Requests    int64         // responses completed in the window, any status
	Non2xx      int64         // of those, with a status outside 200-299
	Errors      Errors
	Bytes       int64 // bytes received in the window, heads and bodies
	Reconnects  int64 // connections reopened after the server's Connection: close
	Latency     *Histogram
	PerItem     map[string]int64 // responses by the scenario's item name
	// EvictFailed counts the evictions of a cold scenario that failed.
	EvictFailed int64
	// FileBytes, of a scenario with a compressed check, is the size of the
	// files the measured 2xx responses carried, decoded: over Bytes, how
	// much smaller they were on the wire.
	FileBytes int64
	// CheckError is the first failed check (Errors.Check), or "".
	CheckError string
}

// RPS is responses per second in the measured window.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// BytesPerSec is bytes received per second in the measured window.
func (r *Result) BytesPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Elapsed.Seconds()
}

// shard is a histogram shared by a few connections. With no more
// connections than shards each has its own and the lock is never contended;
// past that, memory stays bounded.
type shard struct {
	mu   sync.Mutex
	hist *Histogram
	_    [40]byte // keep neighbouring locks off one cache line
}

const maxShards = 64

// gen is the state shared by the connections of one run.
type gen struct {
	opts       Options
	cold       *ColdSet  // of a cold scenario, else nil
	dec        *decoders // of a scenario with a compressed check, else nil
	evictEach  bool      // evict each response's file (Scenario.EvictEach)
	base       time.Time
	startNs    int64 // measured window, in ns since base
	endNs      int64 // math.MaxInt64 in request-count mode
	stop       atomic.Bool
	remaining  atomic.Int64 // request-count mode: measured responses still wanted
	countDone  chan struct{}
	countOnce  sync.Once
	countEndNs atomic.Int64
	shards     []shard
}

func (g *gen) now() int64 { return int64(time.Since(g.base)) }

// Run drives the server with opts and returns what it measured. It returns
// an error only for bad options or a cancelled context; failures of
// requests are counted in the result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Scenario == nil || len(opts.Scenario.Items) == 0 {
		return nil, errors.New("loadtest: no scenario")
	}
	if opts.Connections < 1 {
		return nil, fmt.Errorf("loadtest: connections must be 1 or more, not %d", opts.Connections)
	}
	if opts.Pipeline < 1 {
		opts.Pipeline = 1
	}
	if opts.Requests <= 0 && opts.Duration <= 0 {
		return nil, errors.New("loadtest: a duration or a request count is needed")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	sc := opts.Scenario
	if sc.PerConnection {
		if opts.Connections > len(sc.Items[0].Requests) {
			return nil, fmt.Errorf("loadtest: scenario %s has %d files, one per connection: %d connections are too many",
				sc.Name, len(sc.Items[0].Requests), opts.Connections)
		}
		opts.Pipeline = 1 // see Scenario.PerConnection
	}
	g := &gen{opts: opts, countDone: make(chan struct{})}
	if len(sc.Cold) > 0 {
		if opts.Root == "" {
			return nil, fmt.Errorf("loadtest: scenario %s keeps its files out of the page cache: it needs the server's root on this machine (--fixtures)", sc.Name)
		}
		g.cold = NewColdSet(sc, opts.Root)
		g.evictEach = sc.EvictEach
		if err := g.cold.EvictAll(); err != nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
	}
	if sc.Compress != nil {
		g.dec = newDecoders()
		defer g.dec.close()
	}
	g.startNs = int64(opts.Warmup)
	if opts.Requests > 0 {
		g.endNs = math.MaxInt64
		g.remaining.Store(opts.Requests)
	} else {
		g.endNs = int64(opts.Warmup + opts.Duration)
	}
	g.shards = make([]shard, min(opts.Connections, maxShards))
	for i := range g.shards {
		g.shards[i].hist = NewHistogram()
	}

	workers := make([]*worker, opts.Connections)
	bufSize := 32 << 10
	if opts.Scenario.LargeBodies {
		bufSize = 256 << 10
	}
	g.base = time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{
			g:      g,
			shard:  &g.shards[i%len(g.shards)],
			picker: newPicker(opts.Scenario, uint64(i)+uint64(g.base.UnixNano()), i),
			rbuf:   make([]byte, bufSize),
			flight: make([]inflight, opts.Pipeline),
			items:  make([]int64, len(opts.Scenario.Items)),
			chk:    opts.Scenario.Compress,
		}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}

	// Wait for the end of the window, reporting progress meanwhile.
	var end <-chan time.Time
	if opts.Requests <= 0 {
		t := time.NewTimer(time.Until(g.base.Add(time.Duration(g.endNs))))
		defer t.Stop()
		end = t.C
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var ctxErr error
wait:
	for {
		select {
		case <-end:
			break wait
		case <-g.countDone:
			break wait
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break wait
		case <-tick.C:
			if opts.Progress != nil {
				p := Progress{Elapsed: time.Since(g.base)}
				p.Measuring = int64(p.Elapsed) >= g.startNs
				for _, w := range workers {
					p.Requests += w.live.Load()
					p.Errors += w.liveErrs.Load()
				}
				opts.Progress(p)
			}
		}
	}
	endNs := g.now()
	if opts.Requests > 0 && ctxErr == nil {
		endNs = g.countEndNs.Load()
	} else if opts.Requests <= 0 && ctxErr == nil {
		endNs = g.endNs
	}
	g.stop.Store(true)
	// Wake every connection blocked in a read or write. A connection being
	// opened right now sees the stop flag once it has published itself
	// (see worker.dial), so none is missed.
	for _, w := range workers {
		if c := w.conn.Load(); c != nil {
			_ = c.SetDeadline(time.Unix(1, 0))
		}
	}
	wg.Wait()

	res := &Result{
		Scenario:    opts.Scenario.Name,
		Connections: opts.Connections,
		Pipeline:    opts.Pipeline,
		Elapsed:     time.Duration(endNs - g.startNs),
		Latency:     NewHistogram(),
		PerItem:     make(map[string]int64),
	}
	if res.Elapsed < 0 {
		res.Elapsed = 0
	}
	if g.cold != nil {
		res.EvictFailed = g.cold.Failed()
	}
	for i := range g.shards {
		res.Latency.Merge(g.shards[i].hist)
	}
	for _, w := range workers {
		res.Requests += w.requests
		res.Non2xx += w.non2xx
		res.Bytes += w.bytes
		res.Reconnects += w.reconnects
		res.Errors.add(w.errs)
		res.FileBytes += w.fileBytes
		if w.checkErr != nil && res.CheckError == "" {
			res.CheckError = w.checkErr.Error()
		}
		for i, n := range w.items {
			res.PerItem[opts.Scenario.Items[i].Name] += n
		}
	}
	return res, ctxErr
}

// inflight is a request sent and not yet answered.
type inflight struct {
	sentNs int64
	item   int
	req    int // which of the item's requests
}

// worker drives one connection (and its successors, when the server closes
// it) in a closed loop.
type worker struct {
	g      *gen
	shard  *shard
	picker *picker
	conn   atomic.Pointer[net.TCPConn]
	c      *net.TCPConn // the current connection
	step   func(fd uintptr) bool
	rbuf   []byte // unread bytes are rbuf[r:end]
	r, end int
	wbuf   []byte
	rr     respReader

	// Requests in flight, oldest first, in a ring.
	flight     []inflight
	head, size int

	// Live counters for progress, read by the controller.
	live, liveErrs atomic.Int64

	// Totals for the measured window, read after the run.
	requests, non2xx, bytes, reconnects int64
	errs                                Errors
	items                               []int64

	lat []int64 // latencies of one read's responses, recorded under one lock

	// The compressed check, if the scenario has one.
	chk       *CompressCheck
	seen      int64  // responses read, for the decoding sample
	scratch   []byte // decoded body
	fileBytes int64
	checkErr  error // the first counted failure
}

func (w *worker) run() {
	first := true
	for !w.g.stop.Load() {
		c, err := w.dial()
		if err != nil {
			if w.g.stop.Load() {
				break
			}
			w.errs.Connect++
			w.liveErrs.Add(1)
			time.Sleep(10 * time.Millisecond) // do not spin on a server that is down
			continue
		}
		if !first && w.g.now() >= w.g.startNs {
			w.reconnects++
		}
		first = false
		w.session(c)
		_ = c.Close()
	}
	// Requests left unanswered for longer than the timeout are timeouts;
	// younger ones were simply cut by the end of the run.
	now := w.g.now()
	for i := 0; i < w.size; i++ {
		f := w.flight[(w.head+i)%len(w.flight)]
		if now-f.sentNs >= int64(w.g.opts.Timeout) {
			w.errs.Timeout++
		}
	}
}

func (w *worker) dial() (*net.TCPConn, error) {
	d := net.Dialer{Timeout: w.g.opts.Timeout}
	c, err := d.Dial("tcp", w.g.opts.Addr)
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	// Publish the connection, then look at the stop flag: the controller
	// sets the flag, then looks at the connection. One of the two sees the
	// other, so a connection opened at the very end is still interrupted.
	w.conn.Store(tc)
	if w.g.stop.Load() {
		_ = tc.Close()
		return nil, net.ErrClosed
	}
	return tc, nil
}

// session runs requests on one connection until the server closes it, an
// error occurs or the run ends.
//
// Reading goes through the connection's RawConn so that the loop decides
// when to wait. net.Conn.Read always tries read(2) before it parks, and in
// a closed loop that first try nearly always fails with EAGAIN: the answer
// to the request just written has not come back yet. That is one wasted
// system call per request (wrk makes none: it reads only when epoll says
// so). Here, after a read that drained the socket (it returned less than
// the room it had) and the next requests are written, step returns false
// and the poller parks the goroutine until the socket becomes readable.
// That is safe because the runtime registers sockets edge-triggered: bytes
// that arrive after the read raise a new edge, which wakes the goroutine.
func (w *worker) session(c *net.TCPConn) {
	w.head, w.size = 0, 0
	w.rr = respReader{body: w.rr.body[:0]}
	w.rr.keep = w.decodeNext()
	w.r, w.end = 0, 0
	w.c = c
	if !w.send(len(w.flight), w.g.now()) {
		return
	}
	rc, err := c.SyscallConn()
	if err != nil {
		w.fail(&w.errs.Read)
		return
	}
	if w.step == nil {
		w.step = w.readStep // one closure per worker, not per read
	}
	// RawConn.Read calls step at once (the poller's readiness was just
	// reset, so the first call must read), then after each wake-up, until
	// step returns true. An error is the run's end (the controller's
	// deadline) or a broken connection.
	if err := rc.Read(w.step); err != nil {
		w.fail(&w.errs.Read)
	}
}

// readStep reads what has arrived and answers it; true ends the session.
func (w *worker) readStep(fd uintptr) bool {
	for {
		room := len(w.rbuf) - w.end
		n, err := syscall.Read(int(fd), w.rbuf[w.end:])
		if err == syscall.EAGAIN {
			return false
		}
		if err == syscall.EINTR {
			continue
		}
		if err == nil && n == 0 {
			err = io.EOF
		}
		if err != nil {
			w.fail(&w.errs.Read)
			return true
		}
		if !w.handle(n) {
			return true
		}
		if n < room {
			return false // drained: wait for the next edge, see session
		}
	}
}

// handle accounts for n new bytes at the end of rbuf: it completes the
// responses they hold, records them and sends as many new requests. It
// returns false when the session is over.
func (w *worker) handle(n int) bool {
	g := w.g
	now := g.now()
	// With a request budget (-n), bytes stop counting once the last
	// counted response is in: what other connections still receive then
	// belongs to responses that are not counted.
	if now >= g.startNs && now < g.endNs && (g.opts.Requests <= 0 || g.remaining.Load() > 0) {
		w.bytes += int64(n)
	}
	w.end += n
	completed := 0
	closing, evicted := false, false
	w.lat = w.lat[:0]
	for w.r < w.end {
		used, done, perr := w.rr.feed(w.rbuf[w.r:w.end])
		w.r += used
		if perr != nil {
			w.fail(&w.errs.Parse)
			return false
		}
		if !done {
			break
		}
		completed++
		f := w.flight[w.head]
		w.head = (w.head + 1) % len(w.flight)
		w.size--
		w.live.Add(1)
		ok2xx := w.rr.status >= 200 && w.rr.status <= 299
		var cerr error
		if w.chk != nil && ok2xx {
			// Checked in the warm-up too, so that it costs the same.
			cerr = w.chk.check(&w.rr, f.req, w.rr.keep, g.dec, &w.scratch)
		}
		w.seen++
		w.rr.keep = w.decodeNext()
		if now >= g.startNs && now < g.endNs && w.claim(now) {
			w.requests++
			w.items[f.item]++
			if !ok2xx {
				w.non2xx++
			} else if w.chk != nil {
				w.fileBytes += int64(len(w.chk.Files[f.req]))
			}
			if cerr != nil {
				w.errs.Check++
				w.liveErrs.Add(1)
				if w.checkErr == nil {
					w.checkErr = cerr
				}
			}
			w.lat = append(w.lat, now-f.sentNs)
		}
		if g.evictEach {
			// The file is all read: evict it before this connection
			// asks for another (see ColdSet).
			g.cold.evict(f.item, f.req)
			evicted = true
		}
		if w.rr.close {
			closing = true
			break
		}
	}
	if len(w.lat) > 0 {
		w.shard.mu.Lock()
		for _, l := range w.lat {
			w.shard.hist.Record(time.Duration(l))
		}
		w.shard.mu.Unlock()
	}
	if closing {
		// The server ends the connection after this response (its
		// --max-requests cap): what else is in flight will not be
		// answered and is no error. Reconnect and go on.
		w.drop()
		return false
	}
	if evicted {
		// The next requests leave after the evictions: their time is
		// not theirs.
		now = g.now()
	}
	if g.stop.Load() || now >= g.endNs {
		return false
	}
	// Keep the unread tail (a partial head) at the front of the buffer.
	if w.r == w.end {
		w.r, w.end = 0, 0
	} else if w.r > 0 && len(w.rbuf)-w.end < maxHead {
		w.end = copy(w.rbuf, w.rbuf[w.r:w.end])
		w.r = 0
	}
	return completed == 0 || w.send(completed, now)
}

// send writes k more requests in one write; now is their send time (the
// time the responses that make room for them were read: the write follows
// at once, and one clock read per batch is cheaper than two).
func (w *worker) send(k int, now int64) bool {
	w.wbuf = w.wbuf[:0]
	for i := 0; i < k; i++ {
		item, r, req := w.picker.next()
		w.wbuf = append(w.wbuf, req...)
		w.flight[(w.head+w.size)%len(w.flight)] = inflight{sentNs: now, item: item, req: r}
		w.size++
	}
	if _, err := w.c.Write(w.wbuf); err != nil {
		w.fail(&w.errs.Write)
		return false
	}
	return true
}

// decodeNext says whether the check decodes the next response's body: the
// first of the worker's, then one in DecodeEvery.
func (w *worker) decodeNext() bool {
	return w.chk != nil && w.seen%int64(max(w.chk.DecodeEvery, 1)) == 0
}

// drop forgets the requests in flight on a connection that is going away.
func (w *worker) drop() { w.head, w.size = 0, 0 }

// fail counts an error on the connection, unless the run is ending (the
// controller interrupts blocked reads and writes then; what is in flight
// is kept, for the timeout count).
func (w *worker) fail(counter *int64) {
	if w.g.stop.Load() {
		return
	}
	*counter++
	w.liveErrs.Add(1)
	w.drop()
}

// claim takes one of the responses wanted in request-count mode; in
// duration mode it always succeeds.
func (w *worker) claim(now int64) bool {
	g := w.g
	if g.opts.Requests <= 0 {
		return true
	}
	left := g.remaining.Add(-1)
	if left == 0 {
		g.countOnce.Do(func() {
			g.countEndNs.Store(now)
			close(g.countDone)
		})
	}
	return left >= 0
}
