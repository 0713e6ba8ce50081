# The PROSE mesh. `make run` and `make test` each install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.package-lock.json
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps sysdeps build run test test-fuzz-long bench bench-core bench-channel lint clean

help:
	@echo "make run    - start a local mesh and a demo partition, printing what it does"
	@echo "make test   - run every test (unit, conformance, interop with diod and nats-server)"
	@echo "make bench  - run the benchmark suites, write bench-results/<suite>.json"
	@echo "make lint   - type-check libraries, services and tests"

# Debian packages the tests and the demo start as real peers: diod and nats-server; and QEMU, a
# Debian kernel and a static busybox, which boot a guest whose kernel v9fs client mounts the
# storage gateway (test/v9fs).
sysdeps:
	@need=; \
	for b in diod nats-server; do command -v $$b >/dev/null 2>&1 || [ -x /usr/sbin/$$b ] || need="$$need $$b"; done; \
	command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$$need qemu-system-x86"; \
	ls /boot/vmlinuz-* >/dev/null 2>&1 || need="$$need linux-image-amd64"; \
	[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need="$$need busybox-static"; \
	if [ -n "$$need" ]; then \
	  echo "installing$$need (apt-get)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	fi

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

deps: sysdeps $(NPM_STAMP)

build: $(NPM_STAMP)
	npx tsc -b

run: deps build
	node scripts/run.js

test: deps build
	node scripts/test.js

test-fuzz-long: deps build
	PROSE_FUZZ_FRAMES=1000000 npx jest test/fuzz

bench: deps build
	node dist/test/bench/main.js all $(BENCH_ARGS)

bench-core: deps build
	node dist/test/bench/main.js core $(BENCH_ARGS)

bench-channel: deps build
	node dist/test/bench/main.js channel $(BENCH_ARGS)

lint: $(NPM_STAMP)
	npx tsc -b && npx tsc -p tsconfig.test.json

clean:
	npx tsc -b --clean
	rm -rf bench-results .jest-results.json
