# Run `make` (or `make help`) to list the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SQLC := cd tools && go tool sqlc -f ../sqlc.yaml
TEST_FLAGS ?= -race -count=1

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## Regenerate the sqlc accessors in db/ and db/sqlitedb/ from sql/
	find db -name '*.go' ! -name doc.go -delete
	$(SQLC) generate

.PHONY: verify
verify: generate lint ## Check generated code is current, gofmt, go vet, staticcheck, go mod tidy
	@test -z "$$(git status --porcelain -- db/)" || { git status --porcelain -- db/; echo "db/ is not current: run make generate and commit"; exit 1; }
	go mod tidy -diff
	cd tools && go mod tidy -diff
	cd integration && go mod tidy -diff && go vet ./...
	cd examples/tracing && go mod tidy -diff && go vet ./...
	@echo "verify: ok"

# staticcheck is pinned in tools/go.mod and built into bin/, as gotestsum is.
.PHONY: lint
lint: ## Run gofmt, go vet and staticcheck (staticcheck also over integration/ and examples/tracing/)
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt: files above need formatting"; exit 1; }
	go vet ./...
	@cd tools && go build -o ../bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	bin/staticcheck ./...
	cd integration && ../bin/staticcheck ./...
	cd examples/tracing && ../../bin/staticcheck ./...

# Tests run through gotestsum (pinned in tools/go.mod): one line per package
# as it finishes, the failures again in full at the end, and every event in
# bin/<suite>.json, from which internal/testtotals prints the closing
# "tests: N passed, N failed, N skipped" line. make test runs the library's
# module and then each module of TEST_MODULES (modules of their own, so
# that their dependencies stay out of the library's go.mod: the
# OpenTelemetry SDK of examples/tracing), on the same PostgreSQL.
TEST_FORMAT ?= pkgname
TEST_MODULES := examples/tracing

.PHONY: test-tools
test-tools: ## Build the test runners into bin/: gotestsum, pgrun, testtotals
	@go build -o bin/pgrun ./internal/pgtest/pgrun
	@go build -o bin/testtotals ./internal/testtotals
	@cd tools && go build -o ../bin/gotestsum gotest.tools/gotestsum

.PHONY: test
test: test-tools ## Run all tests with -race (and those of TEST_MODULES), sharing one throwaway PostgreSQL (or TEST_DATABASE_URL)
	@rm -f bin/test.json $(foreach m,$(TEST_MODULES),bin/test-$(subst /,-,$(m)).json)
	@status=0; \
	bin/pgrun -- bash -c 'status=0; \
	  bin/gotestsum --format $(TEST_FORMAT) --format-hide-empty-pkg --jsonfile bin/test.json -- $(TEST_FLAGS) ./... || status=$$?; \
	  for m in $(TEST_MODULES); do \
	    (cd "$$m" && "$$OLDPWD/bin/gotestsum" --format $(TEST_FORMAT) --format-hide-empty-pkg --jsonfile "$$OLDPWD/bin/test-$${m//\//-}.json" -- $(TEST_FLAGS) ./...) || status=$$?; \
	  done; \
	  exit $$status' || status=$$?; \
	bin/testtotals bin/test.json $(foreach m,$(TEST_MODULES),bin/test-$(subst /,-,$(m)).json) || status=1; \
	exit $$status

# The integration suite runs PostgreSQL in Docker (testcontainers-go), from
# EVENTSOURCING_POSTGRES_IMAGE if set, else from INTEGRATION_IMAGE, which
# scripts/build-postgres-image.sh builds from Debian's packages if missing.
INTEGRATION_IMAGE ?= eventsourcing-postgres:15-bookworm
INTEGRATION_FLAGS ?= -race -count=1 -timeout 30m
# One package: a line per test shows the progress.
INTEGRATION_FORMAT ?= testname

.PHONY: integration
integration: test-tools ## Integration suite in integration/ (Postgres in Docker; builds the image if missing)
	@rm -f bin/integration.json
	@image="$${EVENTSOURCING_POSTGRES_IMAGE:-$(INTEGRATION_IMAGE)}"; \
	if ! docker info >/dev/null 2>&1; then \
	  echo "integration: no Docker engine answers; the suite skips (or fails when CI is set)"; \
	elif [ "$$image" = "$(INTEGRATION_IMAGE)" ]; then \
	  bash scripts/build-postgres-image.sh "$$image"; \
	fi
	@status=0; \
	cd integration && \
	  EVENTSOURCING_POSTGRES_IMAGE="$${EVENTSOURCING_POSTGRES_IMAGE:-$(INTEGRATION_IMAGE)}" \
	  TESTCONTAINERS_RYUK_DISABLED="$${TESTCONTAINERS_RYUK_DISABLED:-true}" \
	  ../bin/gotestsum --format $(INTEGRATION_FORMAT) --jsonfile ../bin/integration.json -- $(INTEGRATION_FLAGS) ./... || status=$$?; \
	../bin/testtotals ../bin/integration.json || status=1; \
	exit $$status

BENCHTIME ?= 2s

.PHONY: bench
bench: ## Run the benchmarks against a throwaway durable Postgres and print the table
	go test -run '^$$' -bench 'Mapper|Recorder|PlainDecoder' -benchmem -count=1 ./codec ./persistence/memory
	go test -run '^$$' -bench . -benchtime=$(BENCHTIME) -benchmem -count=1 -timeout 30m ./bench
	$(MAKE) --no-print-directory bench-tracing

.PHONY: bench-tracing
bench-tracing: ## Run the tracing benchmarks (saves, gets, a follower; tracing off and on) of examples/tracing
	cd examples/tracing && go test -run '^$$' -bench 'Tracing' -benchtime=$(BENCHTIME) -benchmem -count=1 -timeout 30m .

# The scaling curves of issue 17: 1-event saves as the writers go 1 to 64
# (beside the raw inserts) and gets as the aggregate goes 10 to 10,000
# events, with and without a snapshot, each run SCALING_COUNT times; the
# plot, scripts/benchplot, takes the median of the runs.
SCALING_COUNT ?= 3
SCALING_BENCH := ^Benchmark(Append|Get)$$/^postgres$$/^(writers=|length=|replay$$|snapshot$$)

.PHONY: bench-plot
bench-plot: ## Run the scaling benchmarks (PostgreSQL) and draw docs/scaling.svg
	@mkdir -p bin
	go test -run '^$$' -bench '$(SCALING_BENCH)' -benchtime=$(BENCHTIME) -benchmem -count=$(SCALING_COUNT) -timeout 30m -json ./bench > bin/scaling.json
	go run ./scripts/benchplot -o docs/scaling.svg -table \
	  -caption "$$(date -u +%Y-%m-%d), $$(nproc) CPUs, load average $$(cut -d' ' -f1-3 /proc/loadavg) at the end; -benchtime=$(BENCHTIME), median of $(SCALING_COUNT) runs; see docs/benchmarks.md" \
	  bin/scaling.json

.PHONY: demo
demo: ## Run the bank accounts demo (in memory; on Postgres when DATABASE_URL is set)
	go run ./examples/bankaccounts/cmd/bankaccounts

.PHONY: migrate
migrate: ## Apply the migrations to DATABASE_URL (or POSTGRES_*), schema POSTGRES_SCHEMA
	go run ./cmd/migrate up
