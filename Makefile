# Coverbridge: run "make" for the list of targets.

GO      ?= go
BIN     := bin/coverbridge
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PKGS    := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/coverbridge
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/coverbridge

.PHONY: run
run: build ## run the whole gateway on embedded PostgreSQL and Kafka (coverbridge dev)
	./$(BIN) dev

.PHONY: test
test: ## run every test, integration included, with the race detector (the crash test last, on its own)
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v /testing/crash$$)
	$(GO) test -race -count=1 -timeout 20m ./testing/crash

.PHONY: lint
lint: ## go vet and staticcheck
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

.PHONY: bench
bench: ## run the benchmarks and print their figures
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m $(PKGS)

.PHONY: bench-engine
bench-engine: ## engine benchmark over 1,000,000 events in Kafka (set COVERBRIDGE_BENCH_EVENTS for another count)
	COVERBRIDGE_BENCH_EVENTS=$${COVERBRIDGE_BENCH_EVENTS:-1000000} $(GO) test -run '^$$' -bench Engine -benchtime 1x -count=1 -timeout 120m -v ./testing/bench

.PHONY: bench-pipeline
bench-pipeline: ## whole pipeline, HTTP to ledger: 20,000 events/s offered for 5 minutes (COVERBRIDGE_PIPELINE_DURATION, _RATE, _SINGLES)
	COVERBRIDGE_PIPELINE_DURATION=$${COVERBRIDGE_PIPELINE_DURATION:-5m} $(GO) test -run '^$$' -bench Pipeline -benchtime 1x -count=1 -timeout 60m -v ./testing/pipeline

.PHONY: crash-test
crash-test: ## crash test in full: 216,000 messages, engines killed 12 times with SIGKILL, PostgreSQL crashed once
	$(GO) test -count=1 -timeout 30m -v -run TestCrash ./testing/crash -args -crash.full

.PHONY: clean
clean: ## remove build output and the dev data folder
	rm -rf bin .coverbridge
