package loadtest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Item is one kind of request in a scenario, with its weight in the mix.
// When it holds several requests (many-files), each pick takes one of them
// uniformly at random.
type Item struct {
	Name     string
	Weight   int
	Requests [][]byte // complete request bytes, ready to write
	// Range, if set, replaces Requests: each pick is a GET of a random
	// block of one file (cold-files), built when it is sent.
	Range *RangeItem
}

// RangeItem asks for Block bytes of the file at Path (Size bytes) with a
// Range header, at a random offset that is a multiple of Block; the server
// answers 206. Each pick's request index is the block's number.
type RangeItem struct {
	Path        string
	Size, Block int64
	head        []byte // the request up to "bytes="
}

// blocks is the number of whole blocks in the file.
func (r *RangeItem) blocks() int64 { return r.Size / r.Block }

// appendRequest appends the request for block k to b.
func (r *RangeItem) appendRequest(b []byte, k int64) []byte {
	b = append(b, r.head...)
	b = strconv.AppendInt(b, k*r.Block, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, (k+1)*r.Block-1, 10)
	return append(b, "\r\n\r\n"...)
}

// Scenario is a weighted mix of requests plus what it needs from the
// fixtures directory.
type Scenario struct {
	Name        string
	Description string
	Items       []Item
	Fixtures    Fixture // files it requests, made by MakeFixtures
	// LargeBodies: responses of a MiB or more, read with a bigger buffer.
	LargeBodies bool
	// Downloads: each connection is one concurrent download; the sweep
	// uses its own connection count for it (--large-conns).
	Downloads bool
	// Cold lists the files, relative to the fixtures directory, that
	// Items[0] reads (with Requests, in the same order; with Range, the
	// one file); they are ColdSize bytes each. The generator evicts them
	// from the page cache before each run (see ColdSet): a run needs
	// Options.Root, the fixtures directory on this machine.
	Cold     []string
	ColdSize int64
	// EvictEach: the generator evicts the file of each response again as
	// soon as it has arrived (cold-large, whose every download reads a
	// whole file).
	EvictEach bool
	// PerConnection: connection i always sends Items[0].Requests[i], its
	// own file (cold-large); a run may have no more connections than that,
	// and runs it without pipelining: a second download of the file queued
	// behind the first would be read from the first one's pages before
	// the generator can evict them.
	PerConnection bool
	// Compress, if set, is what every 2xx response must be (compressed):
	// a response that fails it counts in Errors.Check.
	Compress *CompressCheck
}

// Params size the scenarios that take a size, and give the compressed
// scenario its header. Zero fields take the defaults.
type Params struct {
	// Downloads is the number of cold-large files: one per connection, so
	// it is the run's connection count (the sweep's --large-conns).
	Downloads int
	// ColdFileSize is the size of each cold-large file.
	ColdFileSize int64
	// ColdSetSize is the size of the one file of cold-files.
	ColdSetSize int64
	// AcceptEncoding is the header of the compressed scenario's requests
	// (gzip, zstd or both, with q-values if wanted).
	AcceptEncoding string
}

// Defaults of Params.
const (
	DefaultDownloads    = 4
	DefaultColdFileSize = 64 << 20
	DefaultColdSetSize  = 2 << 30
)

// scenarioInfo describes each scenario for --help and the README;
// downloads marks the scenarios measured as downloads (Scenario.Downloads),
// cold those that read files out of the page cache.
var scenarioInfo = []struct {
	name, desc      string
	downloads, cold bool
}{
	{"ping", "GET /ping (4-byte body): the cost of the request path itself", false, false},
	{"echo", "GET /echo with 5 header lines, echoed back", false, false},
	{"write-read", "1 POST /write of 64 bytes for every 4 GET /read", false, false},
	{"small-file", "GET of one 4 KiB static file", false, false},
	{"many-files", "GET of 10,000 distinct 4 KiB files, at random (open/stat in the workers)", false, false},
	{"file-1m", "GET of one 1 MiB static file", false, false},
	{"large-file", "concurrent downloads of a 1 GiB sparse file (throughput; --large-conns of them)", true, false},
	{"mixed", "weighted mix: ping 20, echo 10, write 5, read 15, small-file 25, many-files 20, file-1m 5", false, false},
	{"compressed", fmt.Sprintf("GET of %d text files of %d KiB (CSS, some JS, JSON, HTML, SVG; about 5x smaller "+
		"with gzip), at random, with Accept-Encoding: %s (--accept-encoding): every response must be compressed "+
		"in a coding asked for, with Vary: Accept-Encoding, and one in %d is decoded and compared with the file; "+
		"an uncompressed answer is an error. MB/s is bytes on the wire",
		CompressedFilesCount, CompressedFileSize>>10, DefaultAcceptEncoding, DefaultDecodeEvery), false, false},
	{"cold-files", "GET of random 8 KiB ranges (Range: bytes=, 8 KiB-aligned, answered 206) of one large " +
		"file of random bytes (--cold-set-size, 2 GiB), kept out of the page cache: the file is evicted " +
		"(fsync, fadvise DONTNEED) before each run, and a run reads only a small part of it, so nearly " +
		"every range is read from the disk (the fixtures must be on a disk, not tmpfs)", false, true},
	{"cold-large", "concurrent full downloads of distinct random files (--cold-file-size, 64 MiB), one per " +
		"connection (--large-conns): each evicted before the run and again by the generator after each " +
		"download, so every byte is read from the disk", true, true},
}

// isDownloads reports whether the named scenario is measured as downloads.
func isDownloads(name string) bool {
	for _, s := range scenarioInfo {
		if s.name == name {
			return s.downloads
		}
	}
	return false
}

// IsCold reports whether the named scenario reads files that the generator
// keeps out of the page cache.
func IsCold(name string) bool {
	for _, s := range scenarioInfo {
		if s.name == name {
			return s.cold
		}
	}
	return false
}

// ScenarioNames lists every scenario in a stable order.
func ScenarioNames() []string {
	names := make([]string, len(scenarioInfo))
	for i, s := range scenarioInfo {
		names[i] = s.name
	}
	return names
}

// ScenarioHelp is a paragraph per scenario: name and description, wrapped
// at 100 columns.
func ScenarioHelp() string {
	const indent, width = 14, 100
	var b strings.Builder
	for _, s := range scenarioInfo {
		fmt.Fprintf(&b, "  %-11s", s.name)
		col := indent
		for _, w := range strings.Fields(s.desc) {
			if col > indent && col+1+len(w) > width {
				b.WriteString("\n" + strings.Repeat(" ", indent-1))
				col = indent - 1
			}
			b.WriteString(" " + w)
			col += 1 + len(w)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// NewScenario builds the named scenario's requests for a server reached as
// host (the Host header's value, such as 127.0.0.1:8080), with the default
// Params.
func NewScenario(name, host string) (*Scenario, error) {
	return NewScenarioWith(name, host, Params{})
}

// NewScenarioWith is NewScenario with sizes.
func NewScenarioWith(name, host string, p Params) (*Scenario, error) {
	if p.Downloads <= 0 {
		p.Downloads = DefaultDownloads
	}
	if p.ColdFileSize <= 0 {
		p.ColdFileSize = DefaultColdFileSize
	}
	if p.ColdSetSize <= 0 {
		p.ColdSetSize = DefaultColdSetSize
	}
	if p.AcceptEncoding == "" {
		p.AcceptEncoding = DefaultAcceptEncoding
	}
	get := func(path string) []byte {
		return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
	}
	one := func(name string, weight int, req []byte) Item {
		return Item{Name: name, Weight: weight, Requests: [][]byte{req}}
	}
	echo := []byte("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: http_server-loadtest\r\n" +
		"Accept: */*\r\nAccept-Encoding: identity\r\nX-Load-Test: echo\r\n\r\n")
	body := strings.Repeat("0123456789abcdef", 4) // 64 bytes
	write := []byte("POST /write HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: text/plain\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body)
	many := func() [][]byte {
		reqs := make([][]byte, ManyFilesCount)
		for i := range reqs {
			reqs[i] = get(ManyFilePath(i))
		}
		return reqs
	}
	// cold sets a cold scenario's files and their requests.
	cold := func(s *Scenario, n int, size int64, path func(int) string) {
		reqs := make([][]byte, n)
		s.Cold = make([]string, n)
		for i := range reqs {
			reqs[i] = get(path(i))
			s.Cold[i] = path(i)[1:]
		}
		s.Items = []Item{{Name: name, Weight: 1, Requests: reqs}}
		s.ColdSize = size
	}

	s := &Scenario{Name: name}
	switch name {
	case "ping":
		s.Items = []Item{one("ping", 1, get("/ping"))}
	case "echo":
		s.Items = []Item{one("echo", 1, echo)}
	case "write-read":
		s.Items = []Item{one("write", 1, write), one("read", 4, get("/read"))}
	case "small-file":
		s.Items = []Item{one("small-file", 1, get("/"+SmallFileName))}
		s.Fixtures = FixtureSmall
	case "many-files":
		s.Items = []Item{{Name: "many-files", Weight: 1, Requests: many()}}
		s.Fixtures = FixtureMany
	case "file-1m":
		s.Items = []Item{one("file-1m", 1, get("/"+MediumFileName))}
		s.Fixtures = FixtureMedium
		s.LargeBodies = true
	case "large-file":
		s.Items = []Item{one("large-file", 1, get("/"+LargeFileName))}
		s.Fixtures = FixtureLarge
		s.LargeBodies = true
		s.Downloads = true
	case "mixed":
		s.Items = []Item{
			one("ping", 20, get("/ping")),
			one("echo", 10, echo),
			one("write", 5, write),
			one("read", 15, get("/read")),
			one("small-file", 25, get("/"+SmallFileName)),
			{Name: "many-files", Weight: 20, Requests: many()},
			one("file-1m", 5, get("/"+MediumFileName)),
		}
		s.Fixtures = FixtureSmall | FixtureMany | FixtureMedium
		s.LargeBodies = true
	case "compressed":
		codings, err := parseAcceptEncoding(p.AcceptEncoding)
		if err != nil {
			return nil, fmt.Errorf("compressed: %w", err)
		}
		c := &CompressCheck{Codings: codings, Files: compressedFiles(), DecodeEvery: DefaultDecodeEvery}
		reqs := make([][]byte, CompressedFilesCount)
		for i := range reqs {
			path := CompressedPath(i)
			reqs[i] = []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept-Encoding: " + p.AcceptEncoding + "\r\n\r\n")
			c.Paths = append(c.Paths, path)
		}
		s.Items = []Item{{Name: name, Weight: 1, Requests: reqs}}
		s.Fixtures = FixtureCompressed
		s.Compress = c
	case "cold-files":
		if p.ColdSetSize < ColdBlockSize {
			return nil, fmt.Errorf("cold-files: a set of %d bytes is smaller than one range (%d)", p.ColdSetSize, ColdBlockSize)
		}
		path := ColdSetPath(p.ColdSetSize)
		s.Items = []Item{{Name: name, Weight: 1, Range: &RangeItem{Path: path, Size: p.ColdSetSize, Block: ColdBlockSize,
			head: []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nRange: bytes=")}}}
		s.Cold = []string{path[1:]}
		s.ColdSize = p.ColdSetSize
	case "cold-large":
		cold(s, p.Downloads, p.ColdFileSize, func(i int) string { return ColdLargePath(p.ColdFileSize, i) })
		s.EvictEach = true
		s.LargeBodies = true
		s.Downloads = true
		s.PerConnection = true
	default:
		return nil, fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(ScenarioNames(), ", "))
	}
	for _, si := range scenarioInfo {
		if si.name == name {
			s.Description = si.desc
		}
	}
	return s, nil
}

// picker chooses the next request of a scenario by weight. Each connection
// has its own, with its own random source, so picking takes no lock.
type picker struct {
	items []Item
	cum   []int // cumulative weights
	total int
	rng   *rand.Rand
	fixed int    // PerConnection: the request of this connection, else -1
	buf   []byte // the last ranged request built
}

// newPicker is the picker of connection conn (counted from 0).
func newPicker(s *Scenario, seed uint64, conn int) *picker {
	p := &picker{items: s.Items, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), fixed: -1}
	for _, it := range s.Items {
		p.total += it.Weight
		p.cum = append(p.cum, p.total)
	}
	if s.PerConnection {
		p.fixed = conn % len(s.Items[0].Requests)
	}
	return p
}

// next returns the index of the chosen item, the index of the request
// among the item's (of a ranged item, the block), and the request to send,
// valid until the next call.
func (p *picker) next() (int, int, []byte) {
	if p.fixed >= 0 {
		return 0, p.fixed, p.items[0].Requests[p.fixed]
	}
	i := 0
	if len(p.items) > 1 {
		r := p.rng.IntN(p.total)
		i = sort.SearchInts(p.cum, r+1)
	}
	if r := p.items[i].Range; r != nil {
		k := p.rng.Int64N(r.blocks())
		p.buf = r.appendRequest(p.buf[:0], k)
		return i, int(k), p.buf
	}
	reqs := p.items[i].Requests
	if len(reqs) == 1 {
		return i, 0, reqs[0]
	}
	k := p.rng.IntN(len(reqs))
	return i, k, reqs[k]
}
