package bench

import (
	_ "embed"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

// BenchmarkAppend measures appends through Application.Save of new
// aggregates with 1 and 10 events per save, with 1 and 16 concurrent
// writers (on PostgreSQL, 1 event per save also with the other writer
// counts of curveWriters, the scaling curve of issue 17), and on
// PostgreSQL, next to them in the same run, the raw
// ceilings: a single-row INSERT per transaction with no lock (unsafe: ids
// may commit out of order) and the same under LOCK TABLE … IN EXCLUSIVE
// MODE (what the insert procedure does); on SQLite, the raw ceilings
// on a file like the application's, with the module's connection
// settings (benchRawSQLiteInsert): writers on connections of their own,
// waiting in SQLite's busy handler, and writers sharing one connection. Each operation is one save,
// or one raw transaction; events/s counts the events saved.
func BenchmarkAppend(b *testing.B) {
	for _, store := range stores {
		writerCounts := []int{1, 16}
		if store == storePostgres {
			writerCounts = curveWriters
		}
		for _, writers := range writerCounts {
			prefix := fmt.Sprintf("%s/writers=%d/", store, writers)
			if store == storePostgres {
				b.Run(prefix+"unsafe-insert", func(b *testing.B) { benchRawInsert(b, writers, false) })
				b.Run(prefix+"locked-insert", func(b *testing.B) { benchRawInsert(b, writers, true) })
			}
			if store == storeSQLite {
				b.Run(prefix+"raw-insert", func(b *testing.B) { benchRawSQLiteInsert(b, writers, false) })
				b.Run(prefix+"raw-shared-insert", func(b *testing.B) { benchRawSQLiteInsert(b, writers, true) })
			}
			b.Run(prefix+"save-1", func(b *testing.B) { benchSave(b, store, writers, 1) })
			if writers == 1 || writers == 16 {
				b.Run(prefix+"save-10", func(b *testing.B) { benchSave(b, store, writers, 10) })
			}
		}
	}
}

// curveWriters are the writer counts of the scaling curve on PostgreSQL:
// saves of 1 event and the raw inserts beside them.
var curveWriters = []int{1, 2, 4, 8, 16, 32, 64}

// poolFor returns the connection pool size for writers concurrent
// writers: poolSize, or one connection per writer beyond it, so that the
// raw inserts' writers never queue for a connection (nor the
// application's, which, with group commit, needs far fewer).
func poolFor(writers int) int { return max(poolSize, writers) }

func benchSave(b *testing.B, store string, writers, events int) {
	ctx := b.Context()
	env := storeEnv(b, store, "")
	if store == storePostgres {
		env["POSTGRES_POOL_SIZE"] = fmt.Sprint(poolFor(writers))
	}
	a := openApp(b, app.Options{Name: "Bench", Registry: registry(), Env: env})
	xids := startXIDs(b, a.Pool())
	allocs := startAllocs(b)
	err := parallel(b.N, writers, func(n int) error {
		for range n {
			it, err := newItem(events)
			if err != nil {
				return err
			}
			if _, err := a.Save(ctx, it); err != nil {
				return err
			}
		}
		return nil
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	op := opSave1
	if events == 10 {
		op = opSave10
	}
	perCommit := xids.perCommit(b)
	key := rowKey{op, store, writers}
	record(b, key, float64(events), func(r result) string {
		return perSecond("saves")(r) + perCommit
	})
	recordAllocs(b, key, allocs, float64(events))
}

// benchRawInsert inserts single rows into a table like stored_events, in
// a schema of its own, each row in its own transaction sent as one batch
// (one round trip, as Save's one statement): BEGIN; INSERT; COMMIT, or
// with the lock BEGIN; LOCK TABLE … IN EXCLUSIVE MODE; INSERT; COMMIT.
func benchRawInsert(b *testing.B, writers int, lock bool) {
	pool := rawPool(b, poolFor(writers))
	xids := startXIDs(b, pool)
	if err := rawInserts(b, pool, writers, lock, false); err != nil {
		b.Fatal(err)
	}
	op := opRawInsert
	if lock {
		op = opRawLocked
	}
	b.StopTimer()
	perCommit := xids.perCommit(b)
	record(b, rowKey{op, storePostgres, writers}, 1, func(r result) string {
		return perSecond("transactions")(r) + perCommit
	})
}

// rawInserts resets b's timer and records b.N single rows into pool's
// stored_events with writers concurrent writers, each row the row of a
// 1-event save in its own transaction sent as one batch: BEGIN; INSERT;
// COMMIT, with LOCK TABLE … IN EXCLUSIVE MODE before the INSERT when lock
// is set, and SELECT pg_notify(…) with the row's id before the COMMIT
// when notify is set (what the insert procedure adds).
func rawInserts(b *testing.B, pool *pgxpool.Pool, writers int, lock, notify bool) error {
	b.Helper()
	ctx := b.Context()
	topic, state := sampleState(b)
	b.ResetTimer()
	return parallel(b.N, writers, func(n int) error {
		for range n {
			batch := rawInsertBatch(topic, state, lock, notify)
			if err := pool.SendBatch(ctx, batch).Close(); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawInsertBatch returns the batch of one raw insert of rawInserts: the
// row of a 1-event save with the topic and state given, in its own
// transaction, under the lock and with a notify as asked.
func rawInsertBatch(topic string, state []byte, lock, notify bool) *pgx.Batch {
	const insert = `INSERT INTO stored_events (originator_id, originator_version, topic, state, event_id, correlation_id)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING notification_id`
	const notifyLast = `SELECT pg_notify(current_schema(), currval(pg_get_serial_sequence('stored_events', 'notification_id'))::text)`
	batch := &pgx.Batch{}
	batch.Queue("BEGIN")
	if lock {
		batch.Queue("LOCK TABLE stored_events IN EXCLUSIVE MODE")
	}
	batch.Queue(insert, uuid.New(), int64(1), topic, state, uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()))
	if notify {
		batch.Queue(notifyLast)
	}
	batch.Queue("COMMIT")
	return batch
}

// rawStoredEvents creates the raw baselines' table (see the file).
//
//go:embed raw_stored_events.sql
var rawStoredEvents string

// rawPool returns a pool of size connections whose search_path is a
// fresh schema holding a table like the library's stored_events.
func rawPool(b *testing.B, size int) *pgxpool.Pool {
	b.Helper()
	ctx := b.Context()
	url := serverURL(b)
	schema := pgtest.NewSchemaName(b)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = int32(size)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	for _, ddl := range []string{"CREATE SCHEMA " + pgx.Identifier{schema}.Sanitize(), rawStoredEvents} {
		if _, err := pool.Exec(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	warm(b, pool)
	return pool
}

// sampleState returns the topic and stored state of an ItemCreated event
// as the library's mapper stores it, so that raw rows are as wide as the
// library's.
func sampleState(b *testing.B) (string, []byte) {
	b.Helper()
	m := &codec.Mapper{Registry: registry()}
	s, err := m.ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Timestamp: time.Now(),
		Data: ItemCreated{Name: "a benchmark item"}})
	if err != nil {
		b.Fatal(err)
	}
	return s.Topic, s.State
}

// xidCounter counts the transaction IDs PostgreSQL assigns, one per
// committed (or aborted) transaction that wrote: the number of commits,
// without waiting for the statistics collector.
type xidCounter struct {
	pool  *pgxpool.Pool // nil in memory
	start int64
}

func startXIDs(b *testing.B, pool *pgxpool.Pool) xidCounter {
	b.Helper()
	x := xidCounter{pool: pool}
	if pool != nil {
		x.start = nextXID(b, pool)
	}
	return x
}

// perCommit returns "; n saves per commit" for the b.N operations since
// startXIDs, or "" in memory.
func (x xidCounter) perCommit(b *testing.B) string {
	b.Helper()
	if x.pool == nil {
		return ""
	}
	commits := nextXID(b, x.pool) - x.start
	if commits <= 0 {
		return ""
	}
	return fmt.Sprintf("; %.1f per commit", float64(b.N)/float64(commits))
}

func nextXID(b *testing.B, pool *pgxpool.Pool) int64 {
	b.Helper()
	var xid int64
	if err := pool.QueryRow(b.Context(), "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&xid); err != nil {
		b.Fatal(err)
	}
	return xid
}
