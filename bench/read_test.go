package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
)

// aggregateEvents is the number of events of the aggregate BenchmarkGet
// gets.
const aggregateEvents = 100

// BenchmarkGet measures Repository.Get of one aggregate of 100 events:
// replayed from its events, and from a snapshot taken at version 100 (so
// the get reads the snapshot and finds no events after it). One operation
// is one get; events/s counts the aggregate's 100 events per get.
//
// On PostgreSQL and SQLite, next to them, the raw baseline: the statement
// with which the recorder loads an aggregate without a snapshot, sent
// through pgx (database/sql and modernc.org/sqlite) alone, its rows
// scanned into plain Go values.
func BenchmarkGet(b *testing.B) {
	for _, store := range stores {
		switch store {
		case storePostgres:
			b.Run(store+"/raw-select", benchRawGet)
		case storeSQLite:
			b.Run(store+"/raw-select", benchRawGetSQLite)
		}
		for _, snapshot := range []bool{false, true} {
			name := store + "/replay"
			if snapshot {
				name = store + "/snapshot"
			}
			b.Run(name, func(b *testing.B) { benchGet(b, store, snapshot, aggregateEvents) })
		}
	}
	// The latency curve of issue 17 on PostgreSQL: the same gets of
	// shorter and longer aggregates (the 100-event point is the replay and
	// snapshot rows above).
	for _, length := range curveLengths {
		for _, snapshot := range []bool{false, true} {
			name := fmt.Sprintf("%s/length=%d/replay", storePostgres, length)
			if snapshot {
				name = fmt.Sprintf("%s/length=%d/snapshot", storePostgres, length)
			}
			b.Run(name, func(b *testing.B) { benchGet(b, storePostgres, snapshot, length) })
		}
	}
}

// curveLengths are the aggregate lengths of the get latency curve besides
// aggregateEvents, which BenchmarkGet measures anyway.
var curveLengths = []int{10, 1000, 10_000}

// benchGet measures gets of an aggregate of events events, replayed or
// from a snapshot at its last version.
func benchGet(b *testing.B, store string, snapshot bool, events int) {
	ctx := b.Context()
	a := newApp(b, store, app.Options{SnapshottingEnabled: snapshot})
	it := savedItem(b, a, events)
	repo := app.NewRepository[Item](a)
	if snapshot {
		if err := repo.TakeSnapshot(ctx, it.ID(), int64(events)); err != nil {
			b.Fatal(err)
		}
	}
	// One get before the timer: the pool's statements are then prepared.
	if _, err := repo.Get(ctx, it.ID()); err != nil {
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	allocs := startAllocs(b)
	for range b.N {
		start := time.Now()
		got, err := repo.Get(ctx, it.ID())
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if got.Version() != int64(events) {
			b.Fatalf("got version %d, want %d", got.Version(), events)
		}
	}
	b.StopTimer()
	median, p99 := latencies(durations)
	b.ReportMetric(float64(median)/1e3, "µs-median")
	b.ReportMetric(float64(p99)/1e3, "µs-p99")
	key := rowKey{opGet, store, 1}
	if snapshot {
		key.op = opGetSnapshot
	}
	if events != aggregateEvents {
		key = rowKey{opGetLength, store, events}
		if snapshot {
			key.op = opGetLengthSnapshot
		}
	}
	resultsMu.Lock()
	medians[key] = median
	resultsMu.Unlock()
	record(b, key, float64(events), func(r result) string {
		return fmt.Sprintf("%s aggregates/s; median %s, p99 %s", thousands(float64(r.ops)/r.elapsed.Seconds()), ms(median), ms(p99))
	})
	recordAllocs(b, key, allocs, float64(events))
}

// storedEventsSelect is the recorder's statement that selects an
// aggregate's events (db.StoredEventsSelect, from
// sql/queries/stored_events.sql).
const storedEventsSelect = `SELECT originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash
FROM stored_events
WHERE originator_id = $1
  AND originator_version > coalesce($2::bigint, '-9223372036854775808'::bigint)
  AND originator_version <= coalesce($3::bigint, '9223372036854775807'::bigint)
ORDER BY originator_version ASC
LIMIT $4::bigint`

// rawEvent is a row of stored_events in plain Go values.
type rawEvent struct {
	notificationID    int64
	originatorID      [16]byte
	originatorVersion int64
	topic             string
	state             []byte
	// The metadata columns: NULL or 16 bytes, NULL or bytes.
	eventID, correlationID, causationID *[16]byte
	traceContext, eventHash             []byte
}

// benchRawGet measures the raw baseline of a get: storedEventsSelect of
// the 100 events of an aggregate saved by the library, with no bounds (as
// a get without a snapshot sends it), through a plain pgx pool on the
// application's schema.
func benchRawGet(b *testing.B) {
	a := newApp(b, storePostgres, app.Options{})
	it := savedItem(b, a, aggregateEvents)
	get := rawGetter(rawReadPool(b, a), it.ID())
	timeRawGets(b, storePostgres, func() (int, error) {
		events, err := get()
		return len(events), err
	})
}

// rawGetter returns the raw baseline of a get of the aggregate id:
// storedEventsSelect with no bounds through pool, its rows scanned into
// rawEvents.
func rawGetter(pool *pgxpool.Pool, id uuid.UUID) func() ([]rawEvent, error) {
	ctx := context.Background()
	return func() ([]rawEvent, error) {
		rows, err := pool.Query(ctx, storedEventsSelect, [16]byte(id), nil, nil, nil)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var events []rawEvent
		for rows.Next() {
			var e rawEvent
			if err := rows.Scan(&e.originatorID, &e.originatorVersion, &e.topic, &e.state,
				&e.eventID, &e.correlationID, &e.causationID, &e.traceContext, &e.eventHash); err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		return events, rows.Err()
	}
}

// timeRawGets runs get, a raw baseline of a get that returns how many
// events it read, once before the timer (to prepare its statement or open
// its connection) and then b.N times, and records its row for store.
func timeRawGets(b *testing.B, store string, get func() (int, error)) {
	b.Helper()
	if _, err := get(); err != nil {
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	allocs := startAllocs(b)
	for range b.N {
		start := time.Now()
		n, err := get()
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if n != aggregateEvents {
			b.Fatalf("got %d events, want %d", n, aggregateEvents)
		}
	}
	b.StopTimer()
	median, p99 := latencies(durations)
	b.ReportMetric(float64(median)/1e3, "µs-median")
	key := rowKey{opGetRaw, store, 1}
	record(b, key, aggregateEvents, func(r result) string {
		return fmt.Sprintf("%s selects/s; median %s, p99 %s", thousands(float64(r.ops)/r.elapsed.Seconds()), ms(median), ms(p99))
	})
	recordAllocs(b, key, allocs, aggregateEvents)
}

// rawReadPool returns a pgx pool of poolSize connections, configured by
// pgx alone (none of the library's hooks or codecs), whose search_path is
// a's schema.
func rawReadPool(b *testing.B, a *app.Application) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(serverURL(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = poolSize
	cfg.ConnConfig.RuntimeParams["search_path"] = a.Pool().Config().ConnConfig.RuntimeParams["search_path"]
	pool, err := pgxpool.NewWithConfig(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	warm(b, pool)
	return pool
}

// logNotifications is the number of notifications BenchmarkLog reads.
const logNotifications = 10_000

// logOps are the rows of BenchmarkLog by section size: the library's and
// the raw baseline's.
var logOps = map[int][2]operation{1000: {opLog1000, opLogRaw1000}, 100: {opLog100, opLogRaw100}, 10: {opLog10, opLogRaw10}}

// BenchmarkLog measures reading the notification log from the start to
// its end, 10,000 notifications, with NotificationLog.Select in sections
// of 1,000, 100 and 10 (the default section size), as a follower does,
// and on PostgreSQL and SQLite, next to them, the raw baseline: the
// recorder's notification statement in pages of the same sizes through
// pgx (database/sql and modernc.org/sqlite) alone.
// One operation reads all 10,000; events/s counts notifications.
func BenchmarkLog(b *testing.B) {
	for _, store := range stores {
		for _, size := range []int{1000, 100, app.DefaultSectionSize} {
			if store == storePostgres || store == storeSQLite {
				b.Run(fmt.Sprintf("%s/raw-section=%d", store, size), func(b *testing.B) { benchLog(b, store, size, true) })
			}
			b.Run(fmt.Sprintf("%s/section=%d", store, size), func(b *testing.B) { benchLog(b, store, size, false) })
		}
	}
}

// notificationsSelect is the recorder's statement that selects
// notifications (db.NotificationsSelect, from
// sql/queries/stored_events.sql).
const notificationsSelect = `SELECT notification_id, originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash
FROM stored_events
WHERE notification_id >= $1
  AND notification_id <= coalesce($2::bigint, '9223372036854775807'::bigint)
  AND (cardinality($3::text[]) = 0 OR topic = ANY($3::text[]))
  AND ($4::uuid IS NULL OR correlation_id = $4::uuid)
ORDER BY notification_id ASC
LIMIT $5`

// benchLog reads the log through the application, or with raw, through a
// plain pgx pool on its schema with notificationsSelect (on SQLite, a
// plain database/sql pool on its file with sqliteNotificationsSelect; no
// stop, no topics, as NotificationLog.Select sends it).
func benchLog(b *testing.B, store string, sectionSize int, raw bool) {
	ctx := b.Context()
	a, env := newAppEnv(b, store, app.Options{SectionSize: sectionSize})
	writeLog(b, a)
	// page returns the ID of the last notification of the section from
	// start, and how many the section holds.
	var page func(start int64) (last int64, n int, err error)
	switch {
	case raw && store == storeSQLite:
		page = rawSQLiteLogPage(b, env["SQLITE_DBNAME"], sectionSize)
	case raw:
		pool := rawReadPool(b, a)
		topics := []string{}
		page = func(start int64) (int64, int, error) {
			rows, err := pool.Query(ctx, notificationsSelect, start, nil, topics, nil, int32(sectionSize))
			if err != nil {
				return 0, 0, err
			}
			defer rows.Close()
			var items []rawEvent
			for rows.Next() {
				var n rawEvent
				if err := rows.Scan(&n.notificationID, &n.originatorID, &n.originatorVersion, &n.topic, &n.state,
					&n.eventID, &n.correlationID, &n.causationID, &n.traceContext, &n.eventHash); err != nil {
					return 0, 0, err
				}
				items = append(items, n)
			}
			if err := rows.Err(); err != nil || len(items) == 0 {
				return 0, 0, err
			}
			return items[len(items)-1].notificationID, len(items), nil
		}
	default:
		log := a.Log()
		page = func(start int64) (int64, int, error) {
			items, err := log.Select(ctx, start, sectionSize)
			if err != nil || len(items) == 0 {
				return 0, 0, err
			}
			return items[len(items)-1].ID, len(items), nil
		}
	}
	read := func() (sections int, err error) {
		n, start := 0, int64(1)
		for {
			last, count, err := page(start)
			if err != nil {
				return sections, err
			}
			sections++
			n += count
			if count < sectionSize {
				break
			}
			start = last + 1
		}
		if n != logNotifications {
			return sections, fmt.Errorf("read %d notifications, want %d", n, logNotifications)
		}
		return sections, nil
	}
	sections, err := read() // before the timer: prepares the statement
	if err != nil {
		b.Fatal(err)
	}
	allocs := startAllocs(b)
	for range b.N {
		if _, err := read(); err != nil {
			b.Fatal(err)
		}
	}
	key := rowKey{logOps[sectionSize][0], store, 1}
	if raw {
		key.op = logOps[sectionSize][1]
	}
	record(b, key, logNotifications, func(r result) string {
		return fmt.Sprintf("%s sections/s", thousands(float64(r.ops*sections)/r.elapsed.Seconds()))
	})
	recordAllocs(b, key, allocs, logNotifications)
}

// writeLog records logNotifications notifications in a: aggregates of 100
// events, saved 10 aggregates (1,000 events) at a time.
func writeLog(b *testing.B, a *app.Application) {
	b.Helper()
	for range logNotifications / 1000 {
		aggs := make([]domain.Aggregate, 10)
		for i := range aggs {
			it, err := newItem(100)
			if err != nil {
				b.Fatal(err)
			}
			aggs[i] = it
		}
		if _, err := a.Save(b.Context(), aggs...); err != nil {
			b.Fatal(err)
		}
	}
}
