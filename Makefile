# Stratus — see README.md. Every target works on a fresh machine with Go 1.26.

GO        ?= go
BIN       := bin/stratus
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
PKGS      := ./...
# Fuzz time per target for `make fuzz`.
FUZZTIME  ?= 10s
# Benchmarks that load large data sets and run once in `make bench`.
HEAVY_BENCH := VsPrometheus|WALIngest|WALAlways8Writers|Restart|StackVsPromQL|AlertingRound

.PHONY: all build run test bench fuzz lint clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/stratus

## run: build and start the demo: Stratus with its embedded defaults, a
## simulated migration pushing to it, alert rules and a webhook sink.
## Plain server: ./bin/stratus serve
run: build
	./$(BIN) demo

## test: the whole suite, with the race detector; what CI runs.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

## bench: micro-benchmarks at Go's default benchtime, then the comparisons
## with peers and the load-sized benchmarks once each (they size their own
## work: 100k series x 2 h, 1M-series restarts). Figures: BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -skip '$(HEAVY_BENCH)' -benchmem -timeout 60m $(PKGS)
	$(GO) test -run '^$$' -bench '$(HEAVY_BENCH)' -benchtime 1x -benchmem -timeout 90m $(PKGS)

## fuzz: each fuzz target for FUZZTIME.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## lint: go vet and staticcheck (pinned in go.mod's tool directive).
lint:
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

clean:
	rm -rf bin
