package protocol

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// head is a comparable snapshot of a parsed Request. ContentLength is a
// string so that the table can leave it empty for "absent" (-1).
type head struct {
	Method, Target, Path, Query string
	Minor                       int
	Headers                     []string // "Name:Value", exactly as parsed (OWS trimmed)
	HeaderBlock                 string
	Host                        string
	HostCount                   int
	ContentLength               string
	Chunked, Close, KeepAlive   bool
	Accept, Expect              string
	HeadLen                     int
}

func snapshot(r *Request) head {
	h := head{
		Method:      string(r.Method),
		Target:      string(r.Target),
		Path:        string(r.Path),
		Query:       string(r.Query),
		Minor:       r.Minor,
		HeaderBlock: string(r.HeaderBlock),
		Host:        string(r.Host),
		HostCount:   r.HostCount,
		Chunked:     r.Chunked,
		Close:       r.Close,
		KeepAlive:   r.KeepAlive,
		Accept:      string(r.Accept),
		Expect:      string(r.Expect),
		HeadLen:     r.HeadLen,
	}
	if r.ContentLength >= 0 {
		h.ContentLength = strconv.FormatInt(r.ContentLength, 10)
	}
	for _, f := range r.Headers {
		h.Headers = append(h.Headers, string(f.Name)+":"+string(f.Value))
	}
	return h
}

// browserGET is a typical request of a desktop browser: 9 header fields.
const browserGET = "GET /static/app.js?v=3 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Referer: https://www.example.com/index.html\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"\r\n"

var smallLimits = Limits{MaxRequestLine: 32, MaxHeaderBytes: 64, MaxHeaders: 3}

type parseCase struct {
	name   string
	in     string
	compat Compat
	lim    *Limits // nil: DefaultLimits
	status int
	want   head // for status 0; Headers compared only when non-nil; HeadLen defaults to len(in)
}

func (c *parseCase) parser() *Parser {
	p := &Parser{Limits: DefaultLimits, Compat: c.compat}
	if c.lim != nil {
		p.Limits = *c.lim
	}
	return p
}

var validCases = []parseCase{
	{name: "chunked", in: "POST /w HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked \r\n\r\n",
		want: head{Method: "POST", Target: "/w", Path: "/w", Minor: 1, Host: "h", HostCount: 1, Chunked: true,
			HeaderBlock: "Host: h\r\nTransfer-Encoding: Chunked ", Headers: []string{"Host:h", "Transfer-Encoding:Chunked"}}},
	{name: "minimal", in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "a", HostCount: 1,
			HeaderBlock: "Host: a", Headers: []string{"Host:a"}}},
	{name: "two fields", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "a", HostCount: 1,
			HeaderBlock: "Host: a\r\nX: 1", Headers: []string{"Host:a", "X:1"}}},
	{name: "query", in: "GET /search?q=go&x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "GET", Target: "/search?q=go&x=1", Path: "/search", Query: "q=go&x=1",
			Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "empty query", in: "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "GET", Target: "/a?", Path: "/a", Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "second question mark stays in query", in: "GET /a?b?c HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "GET", Target: "/a?b?c", Path: "/a", Query: "b?c", Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "percent-encoded path kept", in: "GET /a%20b/%2e%2e HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "GET", Target: "/a%20b/%2e%2e", Path: "/a%20b/%2e%2e", Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "OWS trimmed", in: "GET / HTTP/1.1\r\nHost: \t a.b \t\r\nX-Empty:\r\nX-Inner:a  \tb \r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "a.b", HostCount: 1,
			HeaderBlock: "Host: \t a.b \t\r\nX-Empty:\r\nX-Inner:a  \tb ",
			Headers:     []string{"Host:a.b", "X-Empty:", "X-Inner:a  \tb"}}},
	{name: "obs-text in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\xff\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1,
			HeaderBlock: "Host: h\r\nX: caf\xc3\xa9\xff", Headers: []string{"Host:h", "X:caf\xc3\xa9\xff"}}},
	{name: "case-insensitive names", in: "GET / HTTP/1.1\r\nhOST: h\r\nCONNECTION: Close\r\nACCEPT: */*\r\nexpect: 100-continue\r\ncontent-LENGTH: 3\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1, Close: true,
			Accept: "*/*", Expect: "100-continue", ContentLength: "3",
			HeaderBlock: "hOST: h\r\nCONNECTION: Close\r\nACCEPT: */*\r\nexpect: 100-continue\r\ncontent-LENGTH: 3"}},
	{name: "connection list", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade ,  keep-alive\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1, KeepAlive: true,
			HeaderBlock: "Host: h\r\nConnection: Upgrade ,  keep-alive"}},
	{name: "connection close in list", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1, KeepAlive: true, Close: true,
			HeaderBlock: "Host: h\r\nConnection: keep-alive, close"}},
	{name: "http/1.1 close", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1, Close: true,
			HeaderBlock: "Host: h\r\nConnection: close"}},
	{name: "http/1.0 closes by default", in: "GET /x HTTP/1.0\r\n\r\n",
		want: head{Method: "GET", Target: "/x", Path: "/x", Minor: 0, Close: true}},
	{name: "http/1.0 keep-alive", in: "GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		want: head{Method: "GET", Target: "/x", Path: "/x", Minor: 0, KeepAlive: true,
			HeaderBlock: "Connection: Keep-Alive"}},
	{name: "http/1.0 explicit close", in: "GET /x HTTP/1.0\r\nConnection: close\r\n\r\n",
		want: head{Method: "GET", Target: "/x", Path: "/x", Minor: 0, Close: true, HeaderBlock: "Connection: close"}},
	{name: "http/1.0 two hosts", in: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 0, Close: true, Host: "b", HostCount: 2,
			HeaderBlock: "Host: a\r\nHost: b"}},
	{name: "content-length", in: "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 12345\r\n\r\n",
		want: head{Method: "POST", Target: "/f", Path: "/f", Minor: 1, Host: "h", HostCount: 1, ContentLength: "12345",
			HeaderBlock: "Host: h\r\nContent-Length: 12345"}},
	{name: "content-length zero with leading zeros", in: "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 000\r\n\r\n",
		want: head{Method: "POST", Target: "/f", Path: "/f", Minor: 1, Host: "h", HostCount: 1, ContentLength: "0",
			HeaderBlock: "Host: h\r\nContent-Length: 000"}},
	{name: "content-length 18 digits", in: "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999999999\r\n\r\n",
		want: head{Method: "POST", Target: "/f", Path: "/f", Minor: 1, Host: "h", HostCount: 1, ContentLength: "999999999999999999",
			HeaderBlock: "Host: h\r\nContent-Length: 999999999999999999"}},
	{name: "repeated equal content-length", in: "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\ncontent-length: 07\r\n\r\n",
		want: head{Method: "POST", Target: "/f", Path: "/f", Minor: 1, Host: "h", HostCount: 1, ContentLength: "7",
			HeaderBlock: "Host: h\r\nContent-Length: 7\r\ncontent-length: 07"}},
	{name: "expect and accept", in: "PUT /u HTTP/1.1\r\nHost: h\r\nAccept: text/plain\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
		want: head{Method: "PUT", Target: "/u", Path: "/u", Minor: 1, Host: "h", HostCount: 1, ContentLength: "1",
			Accept: "text/plain", Expect: "100-continue",
			HeaderBlock: "Host: h\r\nAccept: text/plain\r\nExpect: 100-continue\r\nContent-Length: 1"}},
	{name: "leading empty lines skipped", in: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "a", HostCount: 1, HeaderBlock: "Host: a"}},
	{name: "absolute-form", in: "GET http://example.com/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n",
		want: head{Method: "GET", Target: "http://example.com/a/b?c=d", Path: "/a/b", Query: "c=d", Minor: 1,
			Host: "example.com", HostCount: 1, HeaderBlock: "Host: example.com"}},
	{name: "absolute-form with port", in: "GET https://example.com:8443/x HTTP/1.1\r\nHost: example.com:8443\r\n\r\n",
		want: head{Method: "GET", Target: "https://example.com:8443/x", Path: "/x", Minor: 1,
			Host: "example.com:8443", HostCount: 1, HeaderBlock: "Host: example.com:8443"}},
	{name: "absolute-form without path", in: "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
		want: head{Method: "GET", Target: "http://example.com", Path: "/", Minor: 1,
			Host: "example.com", HostCount: 1, HeaderBlock: "Host: example.com"}},
	{name: "absolute-form query without path", in: "GET http://example.com?x=/y HTTP/1.1\r\nHost: example.com\r\n\r\n",
		want: head{Method: "GET", Target: "http://example.com?x=/y", Path: "/", Query: "x=/y", Minor: 1,
			Host: "example.com", HostCount: 1, HeaderBlock: "Host: example.com"}},
	{name: "absolute-form other scheme", in: "GET svn+ssh.x-1://h?q HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "GET", Target: "svn+ssh.x-1://h?q", Path: "/", Query: "q", Minor: 1,
			Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "asterisk-form", in: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "OPTIONS", Target: "*", Path: "*", Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "extension method", in: "M-SEARCH /x HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "M-SEARCH", Target: "/x", Path: "/x", Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "head method", in: "HEAD /big.bin HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "HEAD", Target: "/big.bin", Path: "/big.bin", Minor: 1, Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "host with port", in: "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "127.0.0.1:8080", HostCount: 1, HeaderBlock: "Host: 127.0.0.1:8080"}},
	{name: "host IPv6 literal", in: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "[::1]:8080", HostCount: 1, HeaderBlock: "Host: [::1]:8080"}},
	{name: "classic: empty host value", compat: Classic, in: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, HostCount: 1, HeaderBlock: "Host:", Close: true}},
	{name: "classic: any visible name", compat: Classic, in: "GET /echo HTTP/1.1\r\nX/y[z]: v\r\n\r\n",
		want: head{Method: "GET", Target: "/echo", Path: "/echo", Minor: 1, HeaderBlock: "X/y[z]: v", Close: true}},
	{name: "classic: raw UTF-8 target", compat: Classic, in: "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
		want: head{Method: "GET", Target: "/\xc3\xa9", Path: "/\xc3\xa9", Minor: 1, Close: true}},
	{name: "tchar header name", in: "GET / HTTP/1.1\r\nHost: h\r\nX-a.b_c~!#$%&'*+^`|: v\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1,
			HeaderBlock: "Host: h\r\nX-a.b_c~!#$%&'*+^`|: v", Headers: []string{"Host:h", "X-a.b_c~!#$%&'*+^`|:v"}}},
	{name: "browser request", in: browserGET,
		want: head{Method: "GET", Target: "/static/app.js?v=3", Path: "/static/app.js", Query: "v=3", Minor: 1,
			Host: "www.example.com", HostCount: 1, KeepAlive: true,
			Accept:      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
			HeaderBlock: strings.TrimSuffix(strings.SplitN(browserGET, "\r\n", 2)[1], "\r\n\r\n")}},
	{name: "classic without host", compat: Classic, in: "GET /index.html HTTP/1.1\r\n\r\n",
		want: head{Method: "GET", Target: "/index.html", Path: "/index.html", Minor: 1, Close: true}},
	{name: "classic keep-alive still closes", compat: Classic, in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: keep-alive\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "b", HostCount: 2, KeepAlive: true, Close: true,
			HeaderBlock: "Host: a\r\nHost: b\r\nConnection: keep-alive"}},
	{name: "classic http/1.0", compat: Classic, in: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 0, KeepAlive: true, Close: true,
			HeaderBlock: "Connection: keep-alive"}},
	// Exactly at the limits (smallLimits: line 32, head 64, 3 fields).
	{name: "request line at limit", lim: &smallLimits, in: "GET /" + strings.Repeat("a", 18) + " HTTP/1.1\r\nHost: h\r\n\r\n",
		want: head{Method: "GET", Target: "/" + strings.Repeat("a", 18), Path: "/" + strings.Repeat("a", 18), Minor: 1,
			Host: "h", HostCount: 1, HeaderBlock: "Host: h"}},
	{name: "fields at limit", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1,
			HeaderBlock: "Host: h\r\nA: 1\r\nB: 2"}},
	{name: "head at limit", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 32) + "\r\n\r\n",
		want: head{Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "h", HostCount: 1,
			HeaderBlock: "Host: h\r\nX: " + strings.Repeat("v", 32)}},
}

var invalidCases = []parseCase{
	// Host values (RFC 9112 3.2, RFC 9110 4.2.1 and 7.2)
	{name: "empty host value", in: "GET / HTTP/1.1\r\nHost:\r\n\r\n", status: 400},
	{name: "host with userinfo", in: "GET / HTTP/1.1\r\nHost: user@127.0.0.1:8080\r\n\r\n", status: 400},
	{name: "host with path", in: "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080/path\r\n\r\n", status: 400},
	{name: "host list", in: "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080, other.example\r\n\r\n", status: 400},
	{name: "host port not digits", in: "GET / HTTP/1.1\r\nHost: h:80a\r\n\r\n", status: 400},
	{name: "host bad IPv6 literal", in: "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", status: 400},
	{name: "host bad percent", in: "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", status: 400},
	// request-target bytes: ASCII only (RFC 9112 3.2)
	{name: "raw UTF-8 target", in: "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "overlong slash target", in: "GET /\xc0\xaf HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	// a line over the limit while still in its method: 400, not 414
	{name: "long method", lim: &smallLimits, in: strings.Repeat("A", 40), status: 400},
	{name: "long method complete", lim: &smallLimits, in: strings.Repeat("A", 40) + "\r\n\r\n", status: 400},
	// modern header names are tokens
	{name: "slash in name", in: "GET / HTTP/1.1\r\nHost: h\r\nX/y: v\r\n\r\n", status: 400},
	// request line syntax
	{name: "bad method char", in: "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method with paren", in: "GET(x) / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "empty method", in: " / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "tab separator", in: "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "two spaces after method", in: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "two spaces before version", in: "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "trailing space", in: "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", status: 400},
	{name: "space in target", in: "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "missing version", in: "GET /\r\nHost: h\r\n\r\n", status: 400},
	{name: "missing target", in: "GET HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "request line only CR", in: "\r\r\n\r\n", status: 400},
	{name: "control char in target", in: "GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "DEL in target", in: "GET /a\x7fb HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CR in request line", in: "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	// line endings
	{name: "bare LF everywhere", in: "GET / HTTP/1.1\nHost: h\n\n", status: 400},
	{name: "bare LF request line", in: "GET / HTTP/1.1\nHost: h\r\n\r\n", status: 400},
	{name: "bare LF header line", in: "GET / HTTP/1.1\r\nHost: h\n\r\n", status: 400},
	{name: "bare LF final line", in: "GET / HTTP/1.1\r\nHost: h\r\n\n", status: 400},
	{name: "bare LF leading line", in: "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "bare LF after leading CRLF", in: "\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	// versions
	{name: "lower-case version", in: "GET / http/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "version without minor", in: "GET / HTTP/1\r\nHost: h\r\n\r\n", status: 400},
	{name: "version two-digit minor", in: "GET / HTTP/1.10\r\nHost: h\r\n\r\n", status: 400},
	{name: "version no dot", in: "GET / HTTP/11\r\nHost: h\r\n\r\n", status: 400},
	{name: "other protocol", in: "GET / HTTX/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", status: 505},
	{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\nHost: h\r\n\r\n", status: 505},
	{name: "HTTP/0.9", in: "GET / HTTP/0.9\r\n\r\n", status: 505},
	{name: "HTTP/3.0", in: "GET / HTTP/3.0\r\n\r\n", status: 505},
	// targets
	{name: "fragment in path", in: "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "fragment in query", in: "GET /a?b#c HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "fragment in absolute-form", in: "GET http://h/a#b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "relative target", in: "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "asterisk with GET", in: "GET * HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "scheme without authority", in: "GET http:/x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "authority without scheme", in: "GET ://h/x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "scheme starts with digit", in: "GET 1http://h/x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "query in scheme", in: "GET a?b://h/x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "authority-form", in: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", status: 400},
	// header fields
	{name: "obs-fold SP", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", status: 400},
	{name: "obs-fold HTAB", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", status: 400},
	{name: "leading fold before first field", in: "GET / HTTP/1.1\r\n Host: h\r\n\r\n", status: 400},
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400},
	{name: "tab before colon", in: "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", status: 400},
	{name: "empty field name", in: "GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", status: 400},
	{name: "no colon", in: "GET / HTTP/1.1\r\nHost: h\r\nX-No-Colon\r\n\r\n", status: 400},
	{name: "bad name char", in: "GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", status: 400},
	{name: "CR in name", in: "GET / HTTP/1.1\r\nHost: h\r\nX\rY: 1\r\n\r\n", status: 400},
	{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", status: 400},
	{name: "CR in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", status: 400},
	{name: "CR at end of value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", status: 400},
	{name: "CTL in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", status: 400},
	{name: "DEL in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", status: 400},
	{name: "CTL in host value", in: "GET / HTTP/1.1\r\nHost: h\x1b\r\n\r\n", status: 400},
	// framing
	{name: "content-length letters", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", status: 400},
	{name: "content-length negative", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400},
	{name: "content-length plus", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", status: 400},
	{name: "content-length empty", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", status: 400},
	{name: "content-length list", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", status: 400},
	{name: "content-length inner space", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", status: 400},
	{name: "content-length hex", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", status: 400},
	{name: "content-length 19 digits", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000000000000\r\n\r\n", status: 400},
	{name: "content-length differs", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", status: 400},
	{name: "TE then CL", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", status: 400},
	{name: "CL then TE", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ntransfer-encoding: chunked\r\n\r\n", status: 400},
	{name: "TE on HTTP/1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "TE identity alone", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", status: 400},
	{name: "TE gzip then chunked", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501},
	{name: "TE gzip line then chunked line", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501},
	{name: "TE chunked not final", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400},
	{name: "TE chunked twice", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "TE empty", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", status: 400},
	// Host
	{name: "no host", in: "GET / HTTP/1.1\r\nX: 1\r\n\r\n", status: 400},
	{name: "no fields at all", in: "GET / HTTP/1.1\r\n\r\n", status: 400},
	{name: "two hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", status: 400},
	// limits (smallLimits: line 32, head 64, 3 fields)
	{name: "request line too long", lim: &smallLimits, in: "GET /" + strings.Repeat("a", 19) + " HTTP/1.1\r\nHost: h\r\n\r\n", status: 414},
	{name: "request line too long default", in: "GET /" + strings.Repeat("a", 8192) + " HTTP/1.1\r\nHost: h\r\n\r\n", status: 414},
	{name: "request line too long incomplete", lim: &smallLimits, in: "GET /" + strings.Repeat("a", 40), status: 414},
	{name: "request line too long with bare LF", lim: &smallLimits, in: "GET /" + strings.Repeat("a", 40) + " HTTP/1.1\n\n", status: 414},
	{name: "request line too long bad syntax", lim: &smallLimits, in: "G@T /" + strings.Repeat("a", 40) + " HTTP/1.1\r\n\r\n", status: 414},
	{name: "too many leading empty lines", lim: &smallLimits, in: strings.Repeat("\r\n", 17) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "too many fields", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", status: 431},
	{name: "too many fields default", in: "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X: y\r\n", 100) + "\r\n", status: 431},
	{name: "head one byte too long", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 33) + "\r\n\r\n", status: 431},
	{name: "head too long default", in: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 16384) + "\r\n\r\n", status: 431},
	{name: "head too long incomplete", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 60), status: 431},
	{name: "head too long then bad field", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nBad Name: " + strings.Repeat("v", 60) + "\r\n\r\n", status: 431},
	{name: "head too long then bare LF", lim: &smallLimits, in: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 60) + "\n\r\n", status: 431},
	{name: "classic still rejects bad syntax", compat: Classic, in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400},
	{name: "classic rejects TE", compat: Classic, in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
}

func TestParseValid(t *testing.T) {
	var req Request
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			n, st := c.parser().Parse([]byte(c.in), &req)
			if st != 0 || n != len(c.in) {
				t.Fatalf("Parse(%q) = (%d, %d), want (%d, 0)", c.in, n, st, len(c.in))
			}
			got, want := snapshot(&req), c.want
			if want.HeadLen == 0 {
				want.HeadLen = len(c.in)
			}
			if want.Headers == nil {
				got.Headers = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q):\n got %+v\nwant %+v", c.in, got, want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	var req Request
	for _, c := range invalidCases {
		t.Run(c.name, func(t *testing.T) {
			_, st := c.parser().Parse([]byte(c.in), &req)
			if st != c.status {
				t.Errorf("Parse(%q) status = %d, want %d", c.in, st, c.status)
			}
		})
	}
}

func TestParseIncomplete(t *testing.T) {
	for _, in := range []string{
		"",
		"\r",
		"\r\n",
		"\r\n\r\n\r",
		"G",
		"GET / HTTP/1.1",
		"GET / HTTP/1.1\r",
		"GET / HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\nHost: h",
		"GET / HTTP/1.1\r\nHost: h\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\r",
		"GET / HTTP/2.0", // the version is only judged once the line is complete
		"G@T / HTTP/1.1", // so is the method
	} {
		var req Request
		p := Parser{Limits: DefaultLimits}
		if n, st := p.Parse([]byte(in), &req); n != 0 || st != 0 {
			t.Errorf("Parse(%q) = (%d, %d), want (0, 0)", in, n, st)
		}
	}
}

// TestParseSplit feeds every case one prefix at a time, as a slow client
// would: a valid head is incomplete until its last byte, and an invalid one
// is either incomplete or already fails with its final status.
func TestParseSplit(t *testing.T) {
	var req Request
	for _, c := range append(append([]parseCase(nil), validCases...), invalidCases...) {
		t.Run(c.name, func(t *testing.T) {
			p := c.parser()
			buf := []byte(c.in)
			for k := 0; k < len(buf); k++ {
				// An exact-capacity copy: nothing past buf[:k] is reachable.
				part := append([]byte(nil), buf[:k]...)
				n, st := p.Parse(part, &req)
				if c.status == 0 {
					if n != 0 || st != 0 {
						t.Fatalf("prefix %d/%d %q: (%d, %d), want (0, 0)", k, len(buf), part, n, st)
					}
				} else if st != 0 && st != c.status {
					t.Fatalf("prefix %d/%d %q: status %d, want 0 or %d", k, len(buf), part, st, c.status)
				} else if st == 0 && n != 0 {
					t.Fatalf("prefix %d/%d %q: complete (%d) but the whole request fails with %d", k, len(buf), part, n, c.status)
				}
			}
			n, st := p.Parse(buf, &req)
			if st != c.status || (c.status == 0 && n != len(buf)) {
				t.Fatalf("whole %q: (%d, %d), want status %d", buf, n, st, c.status)
			}
		})
	}
}

func TestParsePipelined(t *testing.T) {
	first := "GET /a HTTP/1.1\r\nHost: one\r\nX: 1\r\n\r\n"
	second := "\r\nHEAD /b?c HTTP/1.1\r\nHost: two\r\nConnection: close\r\n\r\n"
	third := "GET /c HTTP/1.1\r\nHo" // still arriving
	buf := []byte(first + second + third)
	p := Parser{Limits: DefaultLimits}
	var req Request

	n, st := p.Parse(buf, &req)
	if n != len(first) || st != 0 {
		t.Fatalf("first: (%d, %d), want (%d, 0)", n, st, len(first))
	}
	if !req.PathIs("/a") || string(req.Host) != "one" || string(req.HeaderBlock) != "Host: one\r\nX: 1" || req.Close {
		t.Fatalf("first: %+v", snapshot(&req))
	}
	buf = buf[n:]

	n, st = p.Parse(buf, &req)
	if n != len(second) || st != 0 {
		t.Fatalf("second: (%d, %d), want (%d, 0)", n, st, len(second))
	}
	if !req.IsMethod("HEAD") || !req.PathIs("/b") || string(req.Query) != "c" ||
		string(req.Host) != "two" || string(req.HeaderBlock) != "Host: two\r\nConnection: close" ||
		!req.Close || len(req.Headers) != 2 {
		t.Fatalf("second: %+v", snapshot(&req))
	}
	buf = buf[n:]

	if n, st = p.Parse(buf, &req); n != 0 || st != 0 {
		t.Fatalf("third (partial): (%d, %d), want (0, 0)", n, st)
	}
}

func TestParsePipelinedWithBody(t *testing.T) {
	first := "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
	body := "hello"
	second := "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
	buf := []byte(first + body + second)
	p := Parser{Limits: DefaultLimits}
	var req Request

	n, st := p.Parse(buf, &req)
	if n != len(first) || st != 0 || req.ContentLength != 5 {
		t.Fatalf("first: (%d, %d) CL %d", n, st, req.ContentLength)
	}
	rest := buf[n+int(req.ContentLength):]
	if string(buf[n:n+int(req.ContentLength)]) != body {
		t.Fatalf("body bytes %q", buf[n:n+int(req.ContentLength)])
	}
	n, st = p.Parse(rest, &req)
	if n != len(second) || st != 0 || !req.PathIs("/after") || req.ContentLength != -1 {
		t.Fatalf("second: (%d, %d) %+v", n, st, snapshot(&req))
	}
}

// TestParseReusesRequest checks that nothing of an earlier request leaks
// into the next one parsed into the same Request.
func TestParseReusesRequest(t *testing.T) {
	p := Parser{Limits: DefaultLimits}
	var req Request
	if _, st := p.Parse([]byte(browserGET), &req); st != 0 {
		t.Fatal(st)
	}
	in := "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
	if _, st := p.Parse([]byte(in), &req); st != 0 {
		t.Fatal(st)
	}
	want := head{Method: "GET", Target: "/x", Path: "/x", Minor: 1, Host: "h", HostCount: 1,
		HeaderBlock: "Host: h", Headers: []string{"Host:h"}, HeadLen: len(in)}
	if got := snapshot(&req); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// A failed parse leaves no stale request behind either.
	if _, st := p.Parse([]byte("GET / HTTP/9.9\r\n\r\n"), &req); st != 505 {
		t.Fatal(st)
	}
	if len(req.Headers) != 0 || req.Host != nil || req.HostCount != 0 {
		t.Errorf("after error: %+v", snapshot(&req))
	}
}

func TestRequestHelpers(t *testing.T) {
	p := Parser{Limits: DefaultLimits}
	var req Request
	if _, st := p.Parse([]byte(browserGET), &req); st != 0 {
		t.Fatal(st)
	}
	if !req.IsMethod("GET") || req.IsMethod("get") || req.IsMethod("HEAD") {
		t.Error("IsMethod")
	}
	if !req.PathIs("/static/app.js") || req.PathIs("/static/app.js?v=3") {
		t.Error("PathIs")
	}
	if v, ok := req.HeaderValue("cookie"); !ok || string(v) != "session=0123456789abcdef; theme=dark" {
		t.Errorf("HeaderValue(cookie) = %q, %v", v, ok)
	}
	if v, ok := req.HeaderValue("accept-language"); !ok || string(v) != "en-US,en;q=0.5" {
		t.Errorf("HeaderValue(accept-language) = %q, %v", v, ok)
	}
	if _, ok := req.HeaderValue("x-missing"); ok {
		t.Error("HeaderValue(x-missing) found")
	}
}

func TestParseAllocs(t *testing.T) {
	p := Parser{Limits: DefaultLimits}
	var req Request
	buf := []byte(browserGET)
	allocs := testing.AllocsPerRun(1000, func() {
		if n, st := p.Parse(buf, &req); n != len(buf) || st != 0 {
			panic(fmt.Sprint(n, st))
		}
	})
	if allocs != 0 {
		t.Errorf("Parse of a browser request: %v allocs/op, want 0", allocs)
	}
	if len(req.Headers) < 8 {
		t.Fatalf("the typical request should have 8-10 fields, has %d", len(req.Headers))
	}

	// Every valid shape, including absolute-form without a path, is free too.
	for _, c := range validCases {
		pc, in := c.parser(), []byte(c.in)
		if a := testing.AllocsPerRun(100, func() { pc.Parse(in, &req) }); a != 0 {
			t.Errorf("%s: %v allocs/op, want 0", c.name, a)
		}
	}
}
