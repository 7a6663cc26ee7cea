package protocol

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
	"time"
)

func benchmarkParse(b *testing.B, in string) {
	p := Parser{Limits: DefaultLimits}
	buf := []byte(in)
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if n, st := p.Parse(buf, &req); n != len(buf) || st != 0 {
			b.Fatalf("Parse = (%d, %d)", n, st)
		}
	}
}

// BenchmarkParseTypical parses the head of a desktop browser's GET
// (about 400 bytes, 9 fields).
func BenchmarkParseTypical(b *testing.B) { benchmarkParse(b, browserGET) }

// BenchmarkParseSmall parses the smallest valid HTTP/1.1 head a load tester sends.
func BenchmarkParseSmall(b *testing.B) { benchmarkParse(b, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n") }

// BenchmarkEncodeSmall encodes a modern 200 text reply into a reused batch,
// with the Date kept current by a loop's tick, as in the server.
func BenchmarkEncodeSmall(b *testing.B) {
	TickDate(time.Now())
	e := &Encoder{Compat: Modern, Server: "http_server"}
	req := &Request{Method: []byte("GET"), Path: []byte("/ping"), Minor: 1, ContentLength: -1}
	reply := &Reply{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("pong\n")}
	var batch Batch
	e.Encode(&batch, req, reply)
	b.ReportAllocs()
	b.SetBytes(int64(len(batch.Buf)))
	for b.Loop() {
		batch.Reset()
		e.Encode(&batch, req, reply)
	}
}

// BenchmarkParseTypicalNetHTTP is the baseline for BenchmarkParseTypical:
// the standard library's parser on the same bytes, in the same run.
func BenchmarkParseTypicalNetHTTP(b *testing.B) {
	buf := []byte(browserGET)
	rd := bytes.NewReader(buf)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		rd.Reset(buf)
		br.Reset(rd)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}
