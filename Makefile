# The two commands a new user needs: `make run` and `make test`.
GO      ?= go
BIN     := http_server
LOADTEST_BIN := loadtest
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version_=$(VERSION)
SOURCES := $(shell find . -name '*.go' -not -name '*_test.go') go.mod go.sum
ARGS    ?=

# Where `make install` puts things; a packager runs
# `make install PREFIX=/usr DESTDIR=/tmp/pkgroot`.
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
INSTALL    ?= install

.PHONY: all run test vet unit e2e bench bench-compare fuzz clean install uninstall check-units loadtest loadtest-bin

all: $(BIN) loadtest-bin

$(BIN): $(SOURCES)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $@ ./cmd/http_server

# ./loadtest, the load-test tool. Phony because "loadtest" is also the
# target that runs it; go build relinks only when a source changed.
loadtest-bin:
	$(GO) build -trimpath -o $(LOADTEST_BIN) ./cmd/loadtest

# A quick sweep (under 3 minutes): pool sizes 0-64, four scenarios, 3
# repeats, 1 s each; table on stdout, CSV, JSON and SVG under
# loadtest-results/. More flags: make loadtest LOADTEST_ARGS="--server-cpus 0 --client-cpus 1"
LOADTEST_ARGS ?=
loadtest: all
	./$(LOADTEST_BIN) sweep --quick --server ./$(BIN) $(LOADTEST_ARGS)

# Builds and starts the server with its defaults (port from ./port.txt, else 8080).
run: all
	./$(BIN) $(ARGS)

# vet, every package's tests with the race detector, and the end-to-end
# tests against the freshly built binary.
test: vet all check-units
	HTTP_SERVER_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 15m ./...

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

unit:
	$(GO) test -race -count=1 ./protocol/ ./reactor/ ./workers/ ./handlers/ ./stats/

# The end-to-end tests alone (package e2e), against the freshly built binary.
e2e: all
	HTTP_SERVER_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 ./e2e/

# Benchmarks in a form benchstat reads: make bench > new.txt; benchstat old.txt new.txt
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./protocol/ ./reactor/

# Throughput, memory and syscalls against nginx (and, with
# BENCH_ARGS=--peers, fasthttp, gnet and net/http), CPUs pinned, rounds
# alternated; prints Markdown tables. See bench/README.md. Runs as root.
BENCH_ARGS ?=
bench-compare:
	bench/compare.sh $(BENCH_ARGS)

# HTTPS against net/http's ListenAndServeTLS: handshakes per server
# CPU-second, keep-alive req/s, bulk MiB/s, RSS per idle TLS connection;
# CPUs pinned, rounds alternated. About 4 minutes; BENCH_TLS_ARGS=--quick
# for a smoke test. See bench/README.md.
BENCH_TLS_ARGS ?=
bench-tls:
	bench/tls/run.sh $(BENCH_TLS_ARGS)

# Every fuzz target, one after another, FUZZTIME each.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzValidValue$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzChunked$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzFraming$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzFilesOpen$$' -fuzztime $(FUZZTIME) ./handlers/

clean:
	rm -f $(BIN) $(LOADTEST_BIN)

# The binary, the systemd units (ExecStart= and the configuration path
# rewritten to BINDIR and SYSCONFDIR) and the example configuration, which
# never replaces one already there.
install: all
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(UNITDIR)"
	$(INSTALL) -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/http_server"
	sed -e 's|/usr/local/bin/http_server|$(BINDIR)/http_server|g' \
	    -e 's|/etc/http_server/|$(SYSCONFDIR)/http_server/|g' \
	    configs/http_server.service >"$(DESTDIR)$(UNITDIR)/http_server.service"
	chmod 0644 "$(DESTDIR)$(UNITDIR)/http_server.service"
	sed -e 's|/usr/local/bin/http_server|$(BINDIR)/http_server|g' \
	    -e 's|/etc/http_server/|$(SYSCONFDIR)/http_server/|g' \
	    configs/http_server@.service >"$(DESTDIR)$(UNITDIR)/http_server@.service"
	chmod 0644 "$(DESTDIR)$(UNITDIR)/http_server@.service"
	$(INSTALL) -m 0644 configs/http_server.socket "$(DESTDIR)$(UNITDIR)/http_server.socket"
	@conf="$(DESTDIR)$(SYSCONFDIR)/http_server/http_server.toml"; \
	if [ ! -f configs/http_server.toml ]; then :; \
	elif [ -e "$$conf" ]; then echo "kept $$conf (the new example is configs/http_server.toml)"; \
	else echo "$(INSTALL) -D -m 0644 configs/http_server.toml $$conf"; \
	     $(INSTALL) -D -m 0644 configs/http_server.toml "$$conf"; fi

# Removes the binary and the units. The configuration stays, like a
# package's conffile: it may hold the operator's changes.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/http_server" \
	      "$(DESTDIR)$(UNITDIR)/http_server.service" "$(DESTDIR)$(UNITDIR)/http_server@.service" \
	      "$(DESTDIR)$(UNITDIR)/http_server.socket"
	@conf="$(DESTDIR)$(SYSCONFDIR)/http_server/http_server.toml"; \
	if [ -e "$$conf" ]; then echo "kept $$conf; remove it by hand if it is no longer wanted"; fi

# systemd-analyze verify and security on configs/http_server.{service,socket};
# skipped (exit 0) where systemd-analyze is missing.
check-units:
	sh configs/check-units.sh
