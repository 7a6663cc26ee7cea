// Package loadtest is the engine of the load-test tool (cmd/loadtest): a
// closed-loop HTTP/1.1 load generator built on raw TCP connections, the
// scenarios and the fixtures they need, a sweep that starts the server once
// per configuration (pool size, queue size) and repeats every point, and the
// outputs: a table, CSV and JSON files, an SVG chart and a one-line
// recommendation.
//
// The generator talks only to this project's server, so it reads responses
// with a small hand-written parser that knows Content-Length framing and
// nothing else (no chunked responses, no net/http): one goroutine per
// connection, one write for a batch of requests and one read for as many
// responses as have arrived, the latency of each request recorded in an HDR
// histogram. A scenario can check more than the status: compressed checks
// each response's Content-Encoding and Vary, and decodes a sample of the
// bodies (gzip, zstd) to compare them with its files; a failure counts as
// an error.
package loadtest
