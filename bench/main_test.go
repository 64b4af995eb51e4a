package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) {
	// Measure real commits: a throwaway cluster with fsync on, unless the
	// caller chose a server or said otherwise.
	if os.Getenv("TEST_DATABASE_URL") == "" && os.Getenv("PGTEST_DURABLE") == "" {
		os.Setenv("PGTEST_DURABLE", "1")
	}
	code := pgtest.Main(m)
	printReport(os.Stdout)
	os.Exit(code)
}

// The stores the operations are measured on.
const (
	storePostgres = "postgres"
	storeMemory   = "memory"
	storeSQLite   = "sqlite"
)

// stores are the stores of appends, gets and log reads, in the order of
// the table.
var stores = []string{storePostgres, storeMemory, storeSQLite}

// followerStores are the stores of the follower and system benchmarks,
// which run several applications (one per SQLite file would be needed).
var followerStores = []string{storePostgres, storeMemory}

// operation is a row kind of the table, in the order printed.
type operation int

const (
	opRawInsert operation = iota
	opRawLocked
	opRawSQLite
	opRawSQLiteShared
	opSave1
	opSave10
	opGetRaw
	opGet
	opGetSnapshot
	opGetLength
	opGetLengthSnapshot
	opLogRaw1000
	opLog1000
	opLogRaw100
	opLog100
	opLogRaw10
	opLog10
	opSystem
	opFollower
	opFollowerLatency
	opFollowerInstances
	opFollowerDivided
	opLocalLog
	opRemoteLog
	opFollowerLocal
	opFollowerRemote
	opMemoryLog
	opMemoryReplay
	opHashSaveOff
	opHashSaveOn
	opHashGetOff
	opHashGetOn
	opPairedSave
	opPairedGet
)

// rawOf names the raw read baseline of each read row.
var rawOf = map[operation]operation{opGet: opGetRaw, opLog1000: opLogRaw1000, opLog100: opLogRaw100, opLog10: opLogRaw10}

var opNames = map[operation]string{
	opRawInsert:         "raw INSERT, 1 row per commit, no lock (unsafe baseline)",
	opRawLocked:         "raw INSERT, 1 row per commit, LOCK TABLE … IN EXCLUSIVE MODE",
	opRawSQLite:         "raw INSERT, 1 row per commit, BEGIN IMMEDIATE, database/sql, a connection per writer (SQLite ceiling)",
	opRawSQLiteShared:   "raw INSERT, 1 row per commit, BEGIN IMMEDIATE, database/sql, writers sharing 1 connection (SQLite ceiling)",
	opSave1:             "append: Save, 1 event per save",
	opSave10:            "append: Save, 10 events per save",
	opGetRaw:            "raw SELECT of the 100 events of a get, pgx or database/sql only (read baseline)",
	opGet:               "get: aggregate of 100 events",
	opGetSnapshot:       "get: aggregate of 100 events, from a snapshot at 100",
	opGetLength:         "get: aggregate of N events, latency curve (writers = N)",
	opGetLengthSnapshot: "get: aggregate of N events, from a snapshot at N, latency curve (writers = N)",
	opLogRaw1000:        "raw SELECT of 10,000 notifications, pages of 1,000, pgx or database/sql only (read baseline)",
	opLog1000:           "log: read 10,000 notifications, sections of 1,000",
	opLogRaw100:         "raw SELECT of 10,000 notifications, pages of 100, pgx or database/sql only (read baseline)",
	opLog100:            "log: read 10,000 notifications, sections of 100",
	opLogRaw10:          "raw SELECT of 10,000 notifications, pages of 10, pgx or database/sql only (read baseline)",
	opLog10:             "log: read 10,000 notifications, sections of 10 (default)",
	opSystem:            "system: leader → follower, concurrent runner",
	opFollower:          "follower: catch up, 1 new event per notification (writers = page size)",
	opFollowerLatency:   "follower: steady load, concurrent runner, latency",
	opFollowerInstances: "follower: catch up, instances standing by (writers = instances)",
	opFollowerDivided:   "follower: catch up, instances dividing 8 partitions (writers = instances)",
	opLocalLog:          "log: read 10,000 along linked sections, local (writers = section size)",
	opRemoteLog:         "log: read 10,000 along linked sections, over HTTP on loopback (writers = section size)",
	opFollowerLocal:     "follower: catch up, 1 new event per notification, reading the local log (writers = page size)",
	opFollowerRemote:    "follower: catch up, 1 new event per notification, reading the log over HTTP on loopback (writers = page size)",
	opMemoryLog:         "memory: read 1,000,000 notifications, pages of 1,000 (httplog.Reader.Select)",
	opMemoryReplay:      "memory: get of an aggregate of 100,000 events",
	opHashSaveOff:       "hash chain: Save, 10 events per save, not hash-chained",
	opHashSaveOn:        "hash chain: Save, 10 events per save, hash-chained",
	opHashGetOff:        "hash chain: get of an aggregate of 100 events, not hash-chained",
	opHashGetOn:         "hash chain: get of an aggregate of 100 events, hash-chained (verified)",
	opPairedSave:        "append: Save, 1 event, 1 writer, paired in the same iterations with the locked single-row insert",
	opPairedGet:         "get: aggregate of 100 events, paired in the same iterations with its raw SELECT",
}

// rowKey names one row of the table.
type rowKey struct {
	op      operation
	store   string
	writers int
}

// result is the last measurement of a row: b.N operations of eventsPerOp
// events each in elapsed.
type result struct {
	ops         int
	eventsPerOp float64
	elapsed     time.Duration
	other       string // further figures, e.g. aggregates/s and latencies
	allocs      string // allocations and bytes per event, when measured
}

func (r result) eventsPerSecond() float64 {
	return float64(r.ops) * r.eventsPerOp / r.elapsed.Seconds()
}

var (
	resultsMu sync.Mutex
	results   = map[rowKey]result{}
	// server describes the PostgreSQL server, once a benchmark used it.
	server string
	// sqliteDesc describes SQLite and its settings, once the raw SQLite
	// insert ran.
	sqliteDesc string
)

// record stops the timer, reports events/s for b and keeps the result
// for the table, with the further figures other gives (other may be nil).
// The last call for a row wins: the largest b.N.
func record(b *testing.B, key rowKey, eventsPerOp float64, other func(r result) string) {
	b.Helper()
	b.StopTimer()
	r := result{ops: b.N, eventsPerOp: eventsPerOp, elapsed: b.Elapsed()}
	b.ReportMetric(r.eventsPerSecond(), "events/s")
	if other != nil {
		r.other = other(r)
	}
	resultsMu.Lock()
	results[key] = r
	resultsMu.Unlock()
}

// allocStart holds the process's heap allocations, in objects and bytes,
// when a timed run started.
type allocStart struct{ objects, bytes uint64 }

// startAllocs notes the allocations so far and resets b's timer: call it
// where the timed run starts, and recordAllocs after record.
func startAllocs(b *testing.B) allocStart {
	b.Helper()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ResetTimer()
	return allocStart{m.Mallocs, m.TotalAlloc}
}

// recordAllocs reports the heap allocations per event since s, of the
// whole process (pgx and the runtime included), and keeps them for the
// row key, which record has recorded.
func recordAllocs(b *testing.B, key rowKey, s allocStart, eventsPerOp float64) {
	b.Helper()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	events := float64(b.N) * eventsPerOp
	objects, bytes := float64(m.Mallocs-s.objects)/events, float64(m.TotalAlloc-s.bytes)/events
	b.ReportMetric(objects, "allocs/event")
	b.ReportMetric(bytes, "B/event")
	resultsMu.Lock()
	r := results[key]
	r.allocs = fmt.Sprintf("%.1f, %s", objects, thousands(bytes))
	results[key] = r
	resultsMu.Unlock()
}

// perSecond formats the rate of r's operations, as "1,234 unit/s".
func perSecond(unit string) func(r result) string {
	return func(r result) string { return thousands(float64(r.ops)/r.elapsed.Seconds()) + " " + unit + "/s" }
}

// parallel runs n operations on writers goroutines, each running its
// share with fn(count), and returns the first error.
func parallel(n, writers int, fn func(count int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for w := range writers {
		count := n / writers
		if w < n%writers {
			count++
		}
		if count == 0 {
			continue
		}
		wg.Go(func() {
			if err := fn(count); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// noEnv is a process environment with nothing set: the benchmarks
// configure applications in code only.
func noEnv(string) (string, bool) { return "", false }

// poolSize is the connection pool size of every application and of the
// raw inserts: enough for 16 writers.
const poolSize = 20

// serverURL returns the URL of the PostgreSQL server (skipping b when
// there is none) and, the first time, notes what the server is.
func serverURL(b *testing.B) string {
	b.Helper()
	url := pgtest.ServerURL(b)
	resultsMu.Lock()
	known := server != ""
	resultsMu.Unlock()
	if !known {
		desc, err := describeServer(url)
		if err != nil {
			b.Fatal(err)
		}
		resultsMu.Lock()
		server = desc
		resultsMu.Unlock()
	}
	return url
}

func describeServer(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var version, fsync, syncCommit, fpw, syncMethod, buffers string
	err = conn.QueryRow(ctx, `SELECT version(), current_setting('fsync'), current_setting('synchronous_commit'),
		current_setting('full_page_writes'), current_setting('wal_sync_method'), current_setting('shared_buffers')`).
		Scan(&version, &fsync, &syncCommit, &fpw, &syncMethod, &buffers)
	if err != nil {
		return "", fmt.Errorf("describe server: %w", err)
	}
	if i := strings.Index(version, " on "); i > 0 {
		version = version[:i]
	}
	return fmt.Sprintf("%s at %s:%d; fsync=%s, synchronous_commit=%s, full_page_writes=%s, wal_sync_method=%s, shared_buffers=%s",
		version, conn.Config().Host, conn.Config().Port, fsync, syncCommit, fpw, syncMethod, buffers), nil
}

// newApp returns an application on store, configured in code: on
// PostgreSQL in a fresh schema of the test server, dropped after b.
func newApp(b *testing.B, store string, opts app.Options) *app.Application {
	b.Helper()
	a, _ := newAppEnv(b, store, opts)
	return a
}

// newAppEnv is newApp, and returns the application's configuration too
// (on SQLite, SQLITE_DBNAME names its file).
func newAppEnv(b *testing.B, store string, opts app.Options) (*app.Application, map[string]string) {
	b.Helper()
	opts.Env = storeEnv(b, store, "")
	if opts.Name == "" {
		opts.Name = "Bench"
	}
	if opts.Registry == nil {
		opts.Registry = registry()
	}
	return openApp(b, opts), opts.Env
}

// openApp returns the application of opts, configured in code only (no
// process environment), closed after b, with its pool's connections open.
func openApp(b *testing.B, opts app.Options) *app.Application {
	b.Helper()
	opts.Lookup = noEnv
	a, err := app.New(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	if pool := a.Pool(); pool != nil {
		warm(b, pool)
	}
	return a
}

// warm opens all of pool's connections, so that no timed operation waits
// for a new connection.
func warm(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	conns := make([]*pgxpool.Conn, 0, pool.Config().MaxConns)
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}

// storeEnv returns the configuration of applications on store; on
// PostgreSQL each application named in schemasFor (upper snake case,
// comma-separated; "" for a lone application) gets a fresh schema; on
// SQLite the (lone) application gets a fresh database file in b's
// temporary directory.
func storeEnv(b *testing.B, store, schemasFor string) map[string]string {
	b.Helper()
	env := map[string]string{"PERSISTENCE_MODULE": store}
	if store == storeSQLite {
		if schemasFor != "" {
			b.Fatalf("storeEnv: one application only on SQLite, not %s", schemasFor)
		}
		env["SQLITE_DBNAME"] = filepath.Join(b.TempDir(), "events.db")
		return env
	}
	if store != storePostgres {
		return env
	}
	env["DATABASE_URL"] = serverURL(b)
	env["POSTGRES_POOL_SIZE"] = fmt.Sprint(poolSize)
	if schemasFor == "" {
		env["POSTGRES_SCHEMA"] = pgtest.NewSchemaName(b)
		return env
	}
	for _, name := range strings.Split(schemasFor, ",") {
		env[name+"_POSTGRES_SCHEMA"] = pgtest.NewSchemaName(b)
	}
	return env
}

// printReport prints the table of results and the targets, if any
// benchmark ran.
func printReport(w io.Writer) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return
	}
	keys := make([]rowKey, 0, len(results))
	for k := range results {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		if a.store != b.store {
			return slices.Index(stores, a.store) - slices.Index(stores, b.store)
		}
		if a.op != b.op {
			return int(a.op) - int(b.op)
		}
		return a.writers - b.writers
	})

	fmt.Fprintln(w)
	fmt.Fprintf(w, "Benchmarks: %s %s/%s, %d CPUs, GOMAXPROCS %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if server != "" {
		fmt.Fprintf(w, "PostgreSQL: %s\n", server)
	}
	if sqliteDesc != "" {
		fmt.Fprintf(w, "SQLite: %s\n", sqliteDesc)
	}
	fmt.Fprintln(w, "× unsafe, × locked: events/s over the raw INSERT with no lock, and under the EXCLUSIVE lock, with the same number of writers (1 for reads and the system), same run, same database.")
	fmt.Fprintln(w, "× raw: a read's events/s over the same SELECT of the same rows through pgx alone (on SQLite, database/sql and modernc.org/sqlite alone), same run; on SQLite, an append's events/s over the raw BEGIN IMMEDIATE insert through database/sql alone with the same number of writers, each on a connection of its own (and, in other, over the same with the writers sharing one connection), same run, each on a fresh file. Allocations: heap objects and bytes per event of the whole process.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| operation | store | writers | events/s | other | × unsafe | × locked | × raw | allocs, B per event |")
	fmt.Fprintln(w, "|---|---|--:|--:|---|--:|--:|--:|--:|")
	for _, k := range keys {
		r := results[k]
		unsafe, locked, raw := "", "", ""
		if base, ok := rawOf[k.op]; ok && (k.store == storePostgres || k.store == storeSQLite) {
			raw = ratio(r, rowKey{base, k.store, 1})
		}
		other := r.other
		if (k.op == opSave1 || k.op == opSave10) && k.store == storeSQLite {
			raw = ratio(r, rowKey{opRawSQLite, storeSQLite, k.writers})
			other += "; " + ratio(r, rowKey{opRawSQLiteShared, storeSQLite, k.writers}) + "× shared raw"
		}
		if k.store == storePostgres {
			writers := k.writers
			if k.op == opFollower || k.op == opFollowerInstances || k.op == opFollowerDivided || k.op == opLocalLog || k.op == opRemoteLog ||
				k.op == opFollowerLocal || k.op == opFollowerRemote || k.op == opGetLength || k.op == opGetLengthSnapshot {
				writers = 1 // one follower processes, whatever its page size or instances; one reader gets
			}
			unsafe = ratio(r, rowKey{opRawInsert, storePostgres, writers})
			locked = ratio(r, rowKey{opRawLocked, storePostgres, writers})
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
			opNames[k.op], k.store, k.writers, thousands(r.eventsPerSecond()), other, unsafe, locked, raw, r.allocs)
	}
	printTargets(w)
}

// ratio returns the events/s of r over those of the row base, or "–".
func ratio(r result, base rowKey) string {
	b, ok := results[base]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f", r.eventsPerSecond()/b.eventsPerSecond())
}

// printTargets prints the targets of issues #6, #13, #14 and #17 and
// whether this run reached them. The caller holds resultsMu.
func printTargets(w io.Writer) {
	type target struct {
		text  string
		value func() (string, bool, bool) // figure, reached, measured
	}
	ratioAtLeast := func(row, base rowKey, want float64) func() (string, bool, bool) {
		return func() (string, bool, bool) {
			r, ok1 := results[row]
			b, ok2 := results[base]
			if !ok1 || !ok2 {
				return "", false, false
			}
			x := r.eventsPerSecond() / b.eventsPerSecond()
			return fmt.Sprintf("%.2f×", x), x >= want, true
		}
	}
	targets := []target{
		{"append, 16 writers, 1 event per save ≥ 1.0× the unsafe no-lock baseline (16 writers)",
			ratioAtLeast(rowKey{opSave1, storePostgres, 16}, rowKey{opRawInsert, storePostgres, 16}, 1.0)},
		{"append, 1 writer, 1 event per save ≥ 0.9× the locked single-row insert (1 writer)",
			ratioAtLeast(rowKey{opSave1, storePostgres, 1}, rowKey{opRawLocked, storePostgres, 1}, 0.9)},
		{"reading the notification log (sections of 1,000) ≥ 100,000 notifications/s", func() (string, bool, bool) {
			r, ok := results[rowKey{opLog1000, storePostgres, 1}]
			if !ok {
				return "", false, false
			}
			x := r.eventsPerSecond()
			return thousands(x) + "/s", x >= 100_000, true
		}},
		{"get of a 100-event aggregate from PostgreSQL: median under 1 ms", func() (string, bool, bool) {
			m, ok := medians[rowKey{opGet, storePostgres, 1}]
			if !ok {
				return "", false, false
			}
			return fmt.Sprintf("%.3f ms", float64(m)/1e6), m < time.Millisecond, true
		}},
	}
	targets = append(targets,
		target{"follower, page size 100, 1 new event per notification ≥ 10,000 notifications/s", func() (string, bool, bool) {
			r, ok := results[rowKey{opFollower, storePostgres, 100}]
			if !ok {
				return "", false, false
			}
			x := r.eventsPerSecond()
			return thousands(x) + "/s", x >= 10_000, true
		}},
		target{"follower, page size 100 ≥ 5× page size 1",
			ratioAtLeast(rowKey{opFollower, storePostgres, 100}, rowKey{opFollower, storePostgres, 1}, 5)},
		target{"2 and 4 instances dividing the log: policy runs per notification 1.00 (±0.01)", func() (string, bool, bool) {
			two, ok2 := runsPerNotification[rowKey{opFollowerDivided, storePostgres, 2}]
			four, ok4 := runsPerNotification[rowKey{opFollowerDivided, storePostgres, 4}]
			if !ok2 || !ok4 {
				return "", false, false
			}
			return fmt.Sprintf("%.2f and %.2f", two, four), math.Abs(two-1) <= 0.01 && math.Abs(four-1) <= 0.01, true
		}},
		target{"2 and 4 instances dividing the log: throughput at least that of 1 instance", func() (string, bool, bool) {
			one, ok1 := results[rowKey{opFollowerDivided, storePostgres, 1}]
			two, ok2 := results[rowKey{opFollowerDivided, storePostgres, 2}]
			four, ok4 := results[rowKey{opFollowerDivided, storePostgres, 4}]
			if !ok1 || !ok2 || !ok4 {
				return "", false, false
			}
			x2, x4 := two.eventsPerSecond()/one.eventsPerSecond(), four.eventsPerSecond()/one.eventsPerSecond()
			return fmt.Sprintf("%.2f× and %.2f×", x2, x4), x2 >= 1 && x4 >= 1, true
		}},
		target{"remote log read, sections of 1,000 ≥ 100,000 notifications/s", func() (string, bool, bool) {
			r, ok := results[rowKey{opRemoteLog, storePostgres, 1000}]
			if !ok {
				return "", false, false
			}
			x := r.eventsPerSecond()
			return thousands(x) + "/s", x >= 100_000, true
		}},
		target{"save → downstream commit at 1,000 notifications/s: median under 50 ms", func() (string, bool, bool) {
			m, ok := medians[rowKey{opFollowerLatency, storePostgres, 1}]
			if !ok {
				return "", false, false
			}
			return ms(m), m < 50*time.Millisecond, true
		}})
	for _, op := range []operation{opGet, opLog1000, opLog100, opLog10} {
		targets = append(targets, target{opNames[op] + " ≥ 0.8× its raw SELECT",
			ratioAtLeast(rowKey{op, storePostgres, 1}, rowKey{rawOf[op], storePostgres, 1}, 0.8)})
	}
	for _, p := range []struct {
		op   operation
		want float64
	}{{opPairedSave, 0.9}, {opPairedGet, 0.8}} {
		targets = append(targets, target{fmt.Sprintf("%s ≥ %.1f× its baseline", opNames[p.op], p.want), func() (string, bool, bool) {
			x, ok := pairedRatios[p.op]
			return fmt.Sprintf("%.2f×", x), x >= p.want, ok
		}})
	}
	for _, op := range []operation{opMemoryLog, opMemoryReplay} {
		targets = append(targets, target{opNames[op] + ": peak heap growth under its bound", func() (string, bool, bool) {
			h, ok := heapChecks[op]
			if !ok {
				return "", false, false
			}
			return fmt.Sprintf("%s of %s", mib(h.growth), mib(h.bound)), h.growth < h.bound, true
		}})
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets (issues #6, #13, #14 and #17):")
	for _, t := range targets {
		figure, reached, measured := t.value()
		switch {
		case !measured:
			fmt.Fprintf(w, "- %s: not measured in this run\n", t.text)
		case reached:
			fmt.Fprintf(w, "- %s: %s, reached\n", t.text, figure)
		default:
			fmt.Fprintf(w, "- %s: %s, NOT reached\n", t.text, figure)
		}
	}
}

// medians holds the median latency of the rows that measure one.
var medians = map[rowKey]time.Duration{}

// latencies sorts d and returns its median and 99th percentile.
func latencies(d []time.Duration) (median, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[min(len(d)-1, int(math.Ceil(float64(len(d))*0.99))-1)]
}

// thousands formats x rounded to an integer with thousands separators.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
