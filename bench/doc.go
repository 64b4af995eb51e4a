// Package bench holds the library's end-to-end benchmarks: appends through
// Application.Save, the raw insert ceilings of the same database (on
// PostgreSQL with 1, 2, 4, … 64 writers: the scaling curve), getting
// an aggregate of 100 events with and without a snapshot (on PostgreSQL
// also of 10, 1,000 and 10,000 events: the latency curve), reading 10,000
// notifications in sections, the raw read baselines of both (the same
// SELECT of the same rows through pgx alone), and a leader → follower
// system on the concurrent runner, each on PostgreSQL and in memory (the
// appends, gets and log reads also on SQLite, each on a fresh database
// file, beside two raw single-row inserts through database/sql alone on
// a file like it, a connection per writer and writers sharing one, and
// beside the module's SELECTs through database/sql alone); and
// BenchmarkMemory, the peak heap of reading 1,000,000 notifications and of
// getting an aggregate of 100,000 events, against stated bounds; and
// BenchmarkHashChain, saves and gets by an application that hash-chains
// its events beside one that does not, taking turns in the same run. Its one
// test, TestGetRoundTrips, counts the statements and round trips of a get.
// The package has no code of its own; all is in its _test.go files.
//
// Run them with
//
//	make bench
//
// or
//
//	go test -run '^$' -bench . -benchtime=1s -count=1 ./bench
//
// Each benchmark reports events/s (and, where it means something,
// aggregates/s and latencies; appends and reads also allocations per
// event), and after the run the test binary prints one Markdown table of
// every result, each PostgreSQL figure with its ratio to the raw
// single-row INSERT with no lock (the unsafe baseline) and to the same
// INSERT under LOCK TABLE … IN EXCLUSIVE MODE, both measured in the same
// run on the same database with the same number of writers, and each read
// with its ratio to its raw SELECT; then the targets of the issues and
// whether this run reached them. Each SQLite append has its ratio to the
// raw SQLite insert with the same number of writers, same run.
//
// PostgreSQL comes from internal/pgtest: the server named by
// TEST_DATABASE_URL, or else a throwaway cluster that this package starts
// with PGTEST_DURABLE=1 (fsync and full_page_writes on, synchronous_commit
// on), so that every commit pays for its WAL flush. Set PGTEST_DURABLE=0 to
// measure the tests' non-durable cluster instead. Without PostgreSQL the
// PostgreSQL benchmarks skip and the table holds the in-memory and SQLite
// rows only.
//
// make bench-plot runs the two curves' benchmarks three times and draws
// docs/scaling.svg with scripts/benchplot.
//
// docs/benchmarks.md holds a recent run and what the profiles show.
package bench
