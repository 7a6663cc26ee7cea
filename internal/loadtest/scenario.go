package loadtest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Item is one kind of request in a scenario, with its weight in the mix.
// When it holds several requests (many-files), each pick takes one of them
// uniformly at random.
type Item struct {
	Name     string
	Weight   int
	Requests [][]byte // complete request bytes, ready to write
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
}

// scenarioInfo describes each scenario for --help and the README.
var scenarioInfo = []struct{ name, desc string }{
	{"ping", "GET /ping (4-byte body): the cost of the request path itself"},
	{"echo", "GET /echo with 5 header lines, echoed back"},
	{"write-read", "1 POST /write of 64 bytes for every 4 GET /read"},
	{"small-file", "GET of one 4 KiB static file"},
	{"many-files", "GET of 10,000 distinct 4 KiB files, at random (open/stat in the workers)"},
	{"file-1m", "GET of one 1 MiB static file"},
	{"large-file", "concurrent downloads of a 1 GiB sparse file (throughput; --large-conns of them)"},
	{"mixed", "weighted mix: ping 20, echo 10, write 5, read 15, small-file 25, many-files 20, file-1m 5"},
}

// ScenarioNames lists every scenario in a stable order.
func ScenarioNames() []string {
	names := make([]string, len(scenarioInfo))
	for i, s := range scenarioInfo {
		names[i] = s.name
	}
	return names
}

// ScenarioHelp is one line per scenario: name and description.
func ScenarioHelp() string {
	var b strings.Builder
	for _, s := range scenarioInfo {
		fmt.Fprintf(&b, "  %-11s %s\n", s.name, s.desc)
	}
	return b.String()
}

// NewScenario builds the named scenario's requests for a server reached as
// host (the Host header's value, such as 127.0.0.1:8080).
func NewScenario(name, host string) (*Scenario, error) {
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
	many := make([][]byte, ManyFilesCount)
	for i := range many {
		many[i] = get(ManyFilePath(i))
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
		s.Items = []Item{{Name: "many-files", Weight: 1, Requests: many}}
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
			{Name: "many-files", Weight: 20, Requests: many},
			one("file-1m", 5, get("/"+MediumFileName)),
		}
		s.Fixtures = FixtureSmall | FixtureMany | FixtureMedium
		s.LargeBodies = true
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
}

func newPicker(s *Scenario, seed uint64) *picker {
	p := &picker{items: s.Items, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for _, it := range s.Items {
		p.total += it.Weight
		p.cum = append(p.cum, p.total)
	}
	return p
}

// next returns the index of the chosen item and the request to send.
func (p *picker) next() (int, []byte) {
	i := 0
	if len(p.items) > 1 {
		r := p.rng.IntN(p.total)
		i = sort.SearchInts(p.cum, r+1)
	}
	reqs := p.items[i].Requests
	if len(reqs) == 1 {
		return i, reqs[0]
	}
	return i, reqs[p.rng.IntN(len(reqs))]
}
