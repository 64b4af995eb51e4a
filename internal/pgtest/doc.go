// Package pgtest gives tests a real PostgreSQL server without any manual
// set-up.
//
// A test binary wires it in from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and tests then ask for a server and a private schema:
//
//	url := pgtest.ServerURL(t)       // skips (or fails when CI is set) if no server can be had
//	schema := pgtest.NewSchemaName(t) // dropped again by t.Cleanup
//
// ServerURL uses the server named by the TEST_DATABASE_URL environment
// variable when it is set. Otherwise it lazily starts, once per test binary, a
// throwaway cluster from the local PostgreSQL binaries (initdb, pg_ctl and
// postgres found on PATH or under /usr/lib/postgresql/*/bin), listening on a
// free port on 127.0.0.1 with trust authentication and durability turned off
// for speed. When the tests run as root, the cluster is initialised and run as
// the "postgres" OS user (or "nobody" if there is none), because PostgreSQL
// refuses to run as root.
//
// Setting PGTEST_DURABLE=1 (or true) before the cluster starts keeps fsync
// and full_page_writes on, PostgreSQL's defaults, so that every commit waits
// for its WAL flush as it would in production (synchronous_commit is on
// either way); the benchmarks in bench/ set it. It has no effect on a server
// given by TEST_DATABASE_URL.
//
// Main stops the cluster and removes its files after the tests have run; a
// binary that is killed may leave them behind.
//
// `make test` starts one cluster for the whole run instead, with the pgrun
// command (internal/pgtest/pgrun), which sets TEST_DATABASE_URL for every
// test binary and stops the cluster when the run ends, fails or is
// interrupted. StartCluster and Describe are what pgrun is built from.
package pgtest
