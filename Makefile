# The two commands a new user needs: `make run` and `make test`.
GO      ?= go
BIN     := http_server
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version_=$(VERSION)
SOURCES := $(shell find . -name '*.go' -not -name '*_test.go') go.mod go.sum
ARGS    ?=

.PHONY: all run test vet unit e2e bench fuzz clean

all: $(BIN)

$(BIN): $(SOURCES)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $@ ./cmd/http_server

# Builds and starts the server with its defaults (port from ./port.txt, else 8080).
run: all
	./$(BIN) $(ARGS)

# vet, every package's tests with the race detector, and the end-to-end
# tests against the freshly built binary.
test: vet all
	HTTP_SERVER_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 15m ./...

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

unit:
	$(GO) test -race -count=1 ./protocol/ ./reactor/ ./workers/ ./stats/

e2e: all
	HTTP_SERVER_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -run E2E ./cmd/http_server/

# Benchmarks in a form benchstat reads: make bench > new.txt; benchstat old.txt new.txt
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./protocol/ ./reactor/

# Every fuzz target, one after another, FUZZTIME each.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzValidValue$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzChunked$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzFilesOpen$$' -fuzztime $(FUZZTIME) ./workers/

clean:
	rm -f $(BIN)
