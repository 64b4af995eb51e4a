package postgres_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
)

// The insert procedures, in the order of the migrations that create them;
// each takes the EXCLUSIVE lock on stored_events so that notification ids
// commit in the order they are assigned.
var insertProcedures = []string{"stored_events_insert", "stored_events_insert_batch", "stored_events_insert_tracked"}

// pageTracking numbers the tracking records of heldInsert's pages.
var pageTracking atomic.Int64

// heldInsert returns a recordertest.Insert that records each save in a
// transaction of its own with procedure, and keeps the transaction open
// for a random moment of up to 3 ms after the insert before it commits.
// Under the insert lock the saves queue behind it; without the lock, later
// saves get higher ids and commit first.
func heldInsert(pool *pgxpool.Pool, procedure string) recordertest.Insert {
	rec := postgres.NewRecorder(pool)
	queries := db.New()
	return func(ctx context.Context, events []persistence.StoredEvent) (ids []int64, err error) {
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			switch procedure {
			case "stored_events_insert":
				ids, err = rec.InsertTx(ctx, tx, events)
			case "stored_events_insert_tracked":
				n := pageTracking.Add(2)
				ids, err = rec.InsertTx(ctx, tx, events,
					persistence.Tracking{ApplicationName: "upstream", NotificationID: n - 1},
					persistence.Tracking{ApplicationName: "upstream", NotificationID: n})
			default:
				ids, err = insertBatchOfOne(ctx, queries, tx, events)
			}
			if err != nil {
				return err
			}
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			return nil
		})
		return ids, err
	}
}

// insertBatchOfOne records one save with stored_events_insert_batch; a
// conflicting save is a *persistence.ConcurrencyError.
func insertBatchOfOne(ctx context.Context, queries *db.Queries, tx pgx.Tx, events []persistence.StoredEvent) ([]int64, error) {
	arg := db.StoredEventsInsertBatchParams{}
	for _, e := range events {
		arg.OriginatorIds = append(arg.OriginatorIds, e.OriginatorID)
		arg.OriginatorVersions = append(arg.OriginatorVersions, e.OriginatorVersion)
		arg.Topics = append(arg.Topics, e.Topic)
		arg.States = append(arg.States, e.State)
		arg.SaveNumbers = append(arg.SaveNumbers, 1)
	}
	results, err := queries.StoredEventsInsertBatch(ctx, tx, arg)
	if err != nil {
		return nil, err
	}
	for _, n := range results {
		if n <= 0 {
			return nil, &persistence.ConcurrencyError{}
		}
	}
	return results, nil
}

// Insert order is commit order, even with commits that would land out of
// id order: saves hold their transactions open after the insert while
// others try to insert, and a reader tails the log as fast as it can. It
// misses nothing.
func TestTailingReaderMissesNothingWhileSavesHoldTheirTransactions(t *testing.T) {
	t.Parallel()
	for _, procedure := range insertProcedures {
		t.Run(procedure, func(t *testing.T) {
			t.Parallel()
			pool := openPool(t, testConfig(t))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			missed, acknowledged, err := recordertest.TailingReaderMisses(ctx, postgres.NewRecorder(pool), heldInsert(pool, procedure), 8, 40)
			require.NoError(t, err)
			require.Emptyf(t, missed, "the tailing reader missed %d of %d notifications", len(missed), acknowledged)
		})
	}
}

// The test above has teeth: with the lock taken out of an insert
// procedure, the same run catches the reader missing notifications.
func TestTailingReaderCatchesAMissingLock(t *testing.T) {
	t.Parallel()
	for _, procedure := range insertProcedures {
		t.Run(procedure, func(t *testing.T) {
			t.Parallel()
			// A miss needs an unlucky interleaving: allow a few runs.
			for attempt := 1; attempt <= 3; attempt++ {
				cfg := testConfig(t)
				pool := openPool(t, cfg)
				lockedIn := procedure
				if procedure == "stored_events_insert_tracked" {
					lockedIn = "stored_events_insert" // it records its events through that one
				}
				replaceFunction(t, pool, cfg.Schema, lockedIn, "LOCK TABLE stored_events IN EXCLUSIVE MODE;", "")
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				missed, acknowledged, err := recordertest.TailingReaderMisses(ctx, postgres.NewRecorder(pool), heldInsert(pool, procedure), 8, 40)
				cancel()
				require.NoError(t, err)
				if len(missed) > 0 {
					t.Logf("without the lock in %s the reader missed %d of %d notifications (run %d)", procedure, len(missed), acknowledged, attempt)
					return
				}
			}
			t.Fatalf("without the lock in %s, three runs missed nothing: the tailing test cannot fail", procedure)
		})
	}
}

// replaceFunction redefines the function name in schema with the text old
// of its definition replaced by new, failing t if old is not there.
func replaceFunction(t *testing.T, pool *pgxpool.Pool, schema, name, old, new string) {
	t.Helper()
	ctx := t.Context()
	var def string
	err := pool.QueryRow(ctx, "SELECT pg_get_functiondef(($1 || '.' || $2)::regproc)",
		pgx.Identifier{schema}.Sanitize(), name).Scan(&def)
	require.NoError(t, err)
	require.Containsf(t, def, old, "the definition of %s has changed: update this test", name)
	_, err = pool.Exec(ctx, strings.Replace(def, old, new, 1))
	require.NoError(t, err)
}

// The uniqueness checks have teeth: without the primary key of
// stored_events, UniqueVersions reports a version recorded twice, and
// without the primary key of tracking, UniqueTracking reports a tracking
// record recorded twice.
func TestUniquenessChecksCatchAMissingKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("stored_events_pkey", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		pool := openPool(t, cfg)
		rec := postgres.NewRecorder(pool)
		require.NoError(t, recordertest.UniqueVersions(ctx, rec, 8), "with the key")
		dropConstraint(t, pool, cfg.Schema, "stored_events", "stored_events_pkey")
		err := recordertest.UniqueVersions(ctx, rec, 8)
		require.ErrorIs(t, err, recordertest.ErrRecordedTwice, "without the key")
		t.Logf("without the key: %v", err)
	})
	t.Run("tracking_pkey", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		pool := openPool(t, cfg)
		rec := postgres.NewRecorder(pool)
		require.NoError(t, recordertest.UniqueTracking(ctx, rec, 8), "with the key")
		dropConstraint(t, pool, cfg.Schema, "tracking", "tracking_pkey")
		err := recordertest.UniqueTracking(ctx, rec, 8)
		require.ErrorIs(t, err, recordertest.ErrRecordedTwice, "without the key")
		t.Logf("without the key: %v", err)
	})
}

func dropConstraint(t *testing.T, pool *pgxpool.Pool, schema, table, constraint string) {
	t.Helper()
	_, err := pool.Exec(t.Context(), "ALTER TABLE "+pgx.Identifier{schema, table}.Sanitize()+
		" DROP CONSTRAINT "+pgx.Identifier{constraint}.Sanitize())
	require.NoError(t, err)
}
