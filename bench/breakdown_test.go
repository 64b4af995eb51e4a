package bench

import (
	"testing"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
)

// BenchmarkSaveBreakdown splits the time of a 1-event save by one writer
// on PostgreSQL into steps, each a benchmark of its own in the same run,
// each adding one thing to the one before (issue 17, item 1):
//
//   - locked-insert: the raw ceiling, BEGIN; LOCK TABLE … IN EXCLUSIVE
//     MODE; INSERT … RETURNING; COMMIT in one batch (BenchmarkAppend's);
//   - locked-insert-notify: the same with SELECT pg_notify(…) before the
//     COMMIT: the cost of waking followers at commit;
//   - procedure: the one-event insert procedure, stored_events_insert_one
//     (lock, insert, notify), called by a plain pgx query with the
//     event's values, no library code around it: the cost of the
//     procedure's body and its call;
//   - save-1: Application.Save of a new aggregate with one event: the
//     aggregate, the mapper, the IDs, the group commit's path for a lone
//     save, spans and metrics (no-op providers), on top of the procedure.
//
// ns/op of each step less the step before is what that step costs. Those
// are separate benchmarks, seconds apart; the paired/ rows time two steps
// in the same iterations instead (as BenchmarkPaired does), so that
// drifting load slows both alike: paired/notify is locked-insert (as
// "raw") against locked-insert-notify (as "lib"), paired/procedure
// locked-insert against procedure, and paired/save-1 procedure against
// save-1; each row's µs-lib less µs-raw is what the step adds.
func BenchmarkSaveBreakdown(b *testing.B) {
	b.Run("postgres/locked-insert", func(b *testing.B) {
		if err := rawInserts(b, rawPool(b, 1), 1, true, false); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("postgres/locked-insert-notify", func(b *testing.B) {
		if err := rawInserts(b, rawPool(b, 1), 1, true, true); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("postgres/procedure", func(b *testing.B) {
		call := procedureCall(b)
		b.ResetTimer()
		for range b.N {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("postgres/save-1", func(b *testing.B) {
		save := saveOne(b)
		b.ResetTimer()
		for range b.N {
			if err := save(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("postgres/paired/notify", func(b *testing.B) {
		paired(b, lockedInsert(b, false), lockedInsert(b, true))
	})
	b.Run("postgres/paired/procedure", func(b *testing.B) {
		paired(b, lockedInsert(b, false), procedureCall(b))
	})
	b.Run("postgres/paired/save-1", func(b *testing.B) {
		paired(b, procedureCall(b), saveOne(b))
	})
}

// lockedInsert returns one raw insert of BenchmarkAppend's locked-insert
// (with a notify when notify is set) into a table of its own.
func lockedInsert(b *testing.B, notify bool) func() error {
	ctx := b.Context()
	pool := rawPool(b, 1)
	topic, state := sampleState(b)
	return func() error { return pool.SendBatch(ctx, rawInsertBatch(topic, state, true, notify)).Close() }
}

// saveOne returns one Save of a new 1-event aggregate (the aggregate's
// creation included) by an application of its own.
func saveOne(b *testing.B) func() error {
	ctx := b.Context()
	a := newApp(b, storePostgres, app.Options{})
	return func() error {
		it, err := newItem(1)
		if err != nil {
			return err
		}
		_, err = a.Save(ctx, it)
		return err
	}
}

// procedureCall returns one call of the one-event insert procedure of an
// application's schema with a plain pgx query (bench may not import the
// generated db package; the call is the recorder's for a 1-event save, its
// unused arguments NULL): new originator and event IDs, a correlation ID,
// and NULL for the tracking record, causation ID, trace context and hash,
// as the recorder sends them when the event has none.
func procedureCall(b *testing.B) func() error {
	ctx := b.Context()
	pool := rawReadPool(b, newApp(b, storePostgres, app.Options{}))
	topic, state := sampleState(b)
	const call = `SELECT stored_events_insert_one($1::uuid, $2::bigint, $3::text, $4::bytea, NULL, NULL,
		$5::uuid, $6::uuid, NULL, NULL, NULL)`
	return func() error {
		var id int64
		return pool.QueryRow(ctx, call, uuid.New(), int64(1), topic, state, uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())).Scan(&id)
	}
}
