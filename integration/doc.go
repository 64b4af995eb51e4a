// Package integration holds the integration suite of the eventsourcing
// library: end-to-end tests, fault tests and bad-input tests run against
// PostgreSQL in a Docker container started by testcontainers-go.
//
// It is a Go module of its own, so that testcontainers and the Docker client
// stay out of the library's dependencies; `go test ./...` at the repository
// root does not see it. Run it with `make integration` at the root, which
// builds a local PostgreSQL image from Debian's packages if it is missing
// (scripts/build-postgres-image.sh) and points the suite at it, or here with
//
//	EVENTSOURCING_POSTGRES_IMAGE=postgres:15-bookworm go test ./...
//
// The image comes from EVENTSOURCING_POSTGRES_IMAGE (default
// postgres:15-bookworm, the official image, pulled if missing). The reaper
// container (Ryuk) is disabled unless TESTCONTAINERS_RYUK_DISABLED says
// otherwise; every container is terminated by the test that started it, and
// a run removes the containers that a killed run left behind. When
// no Docker engine answers the tests skip, unless CI is set, when they fail,
// as they do whenever CI is set and a container cannot be started.
//
// docs/reliability.md lists the guarantees these tests prove.
package integration
