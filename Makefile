# Run `make` (or `make help`) to list the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SQLC := cd tools && go tool sqlc -f ../sqlc.yaml
TEST_FLAGS ?= -race -count=1

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## Regenerate the sqlc accessors in db/ from sql/
	find db -name '*.go' ! -name doc.go -delete
	$(SQLC) generate

.PHONY: verify
verify: generate lint ## Check generated code is current, gofmt, go vet, go mod tidy
	@test -z "$$(git status --porcelain -- db/)" || { git status --porcelain -- db/; echo "db/ is not current: run make generate and commit"; exit 1; }
	go mod tidy -diff
	cd tools && go mod tidy -diff
	cd integration && go mod tidy -diff && go vet ./...
	@echo "verify: ok"

.PHONY: lint
lint: ## Run gofmt and go vet
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt: files above need formatting"; exit 1; }
	go vet ./...

.PHONY: test
test: ## Run all tests with -race; Postgres tests use TEST_DATABASE_URL or start a throwaway cluster
	go build -o bin/testsummary ./internal/testsummary
	go test $(TEST_FLAGS) -json ./... 2>&1 | bin/testsummary

# The integration suite runs PostgreSQL in Docker (testcontainers-go), from
# EVENTSOURCING_POSTGRES_IMAGE if set, else from INTEGRATION_IMAGE, which
# scripts/build-postgres-image.sh builds from Debian's packages if missing.
INTEGRATION_IMAGE ?= eventsourcing-postgres:15-bookworm
INTEGRATION_FLAGS ?= -race -count=1 -timeout 30m

.PHONY: integration
integration: ## Integration suite in integration/ (Postgres in Docker; builds the image if missing)
	go build -o bin/testsummary ./internal/testsummary
	@image="$${EVENTSOURCING_POSTGRES_IMAGE:-$(INTEGRATION_IMAGE)}"; \
	if ! docker info >/dev/null 2>&1; then \
	  echo "integration: no Docker engine answers; the suite skips (or fails when CI is set)"; \
	elif [ "$$image" = "$(INTEGRATION_IMAGE)" ]; then \
	  bash scripts/build-postgres-image.sh "$$image"; \
	fi
	cd integration && \
	  EVENTSOURCING_POSTGRES_IMAGE="$${EVENTSOURCING_POSTGRES_IMAGE:-$(INTEGRATION_IMAGE)}" \
	  TESTCONTAINERS_RYUK_DISABLED="$${TESTCONTAINERS_RYUK_DISABLED:-true}" \
	  go test $(INTEGRATION_FLAGS) -json ./... 2>&1 | ../bin/testsummary

BENCHTIME ?= 2s

.PHONY: bench
bench: ## Run the benchmarks against a throwaway durable Postgres and print the table
	go test -run '^$$' -bench 'Mapper|Recorder' -benchmem -count=1 ./persistence ./persistence/memory
	go test -run '^$$' -bench . -benchtime=$(BENCHTIME) -count=1 -timeout 30m ./bench

.PHONY: demo
demo: ## Run the bank accounts demo (in memory; on Postgres when DATABASE_URL is set)
	go run ./examples/bankaccounts/cmd/bankaccounts

.PHONY: migrate
migrate: ## Apply the migrations to DATABASE_URL (or POSTGRES_*), schema POSTGRES_SCHEMA
	go run ./cmd/migrate up
