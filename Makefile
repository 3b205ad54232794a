# Stratus — see README.md. Every target works on a fresh machine with Go 1.26.

GO        ?= go
BIN       := bin/stratus
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
PKGS      := ./...
# Fuzz time per target for `make fuzz`.
FUZZTIME  ?= 10s
# Benchmark time for `make bench`; the peer comparisons load large data sets.
BENCHTIME ?= 1x

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

## bench: every benchmark, including the comparisons with Prometheus.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m $(PKGS)

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
