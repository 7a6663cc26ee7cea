package reactor

import (
	"time"

	"http_server/logging"
	"http_server/protocol"
	"http_server/stats"
)

// Accounting: each response is counted in the stats and logged as it
// leaves, by the bytes that actually left.

// record counts and logs the response to j.reqs[j.cur].
func (r *Reactor) record(c *conn, j *job, it *protocol.Item, head, body int64) {
	r.stats.Record(stats.Route(it.Route), it.Status, head, body, time.Duration(r.now()-j.arrived))
	r.logAccess(c, j, it.Status, body)
}

// logAccess writes the access-log line for the response to j.reqs[j.cur].
// The request's bytes are still intact: the buffer is not compacted while
// its job is being written.
func (r *Reactor) logAccess(c *conn, j *job, status int, bytes int64) {
	if r.access == nil || j.cur >= j.n {
		return
	}
	req := &j.reqs[j.cur]
	e := &r.entry
	*e = logging.Entry{Time: time.Now(), Peer: c.peer, Method: req.Method, Target: req.Target,
		Minor: req.Minor, Status: status, Bytes: bytes, Duration: time.Duration(r.now() - j.arrived)}
	if len(req.Method) == 0 {
		e.Minor = -1
	}
	e.Referer, _ = req.HeaderValue("referer")
	e.UserAgent, _ = req.HeaderValue("user-agent")
	r.access.Log(e)
}

// recordPartial counts the response cut short on c by what actually left.
func (r *Reactor) recordPartial(c *conn, j *job) {
	if j.cur >= len(j.out.Items) {
		return
	}
	it := &j.out.Items[j.cur]
	head := int64(min(max(j.pos-it.Head.Start, 0), it.Head.Len()))
	body := int64(max(j.pos-it.Head.End, 0)) + j.fileSent
	if head > 0 || body > 0 {
		r.record(c, j, it, head, body)
	}
}
