package integration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// eventStoreTables are the tables of a schema with every migration applied.
var eventStoreTables = []string{"eventsourcing_migrations", "snapshots", "stored_events", "tracking",
	"partition_leases", "follower_instances", "partition_positions"}

// The goose migrations apply to a fresh schema of the container, report
// their status and version, are idempotent, take turns when several
// applications open one schema at once, and roll back.
func TestMigrationsOnContainer(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := t.Context()
	schema := s.newSchema(t)
	cfg := postgres.Config{ConnString: s.URL(), Schema: schema}

	// Before Up the schema does not exist: status says so, or reports every
	// migration pending. (A Migrator whose first use failed cannot be used
	// again: goose creates its version table once per Provider; so a new
	// one applies the migrations.)
	before, err := postgres.NewMigrator(cfg)
	require.NoError(t, err)
	if status, err := before.Status(ctx); err != nil {
		require.ErrorIs(t, err, persistence.ErrProgramming)
		require.Contains(t, err.Error(), schema)
	} else {
		for _, st := range status {
			require.Equal(t, "pending", string(st.State))
		}
	}
	require.NoError(t, before.Close())

	m, err := postgres.NewMigrator(cfg)
	require.NoError(t, err)
	defer m.Close()
	applied, err := m.Up(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, applied)
	status, err := m.Status(ctx)
	require.NoError(t, err)
	require.Len(t, status, len(applied))
	for _, st := range status {
		require.Equal(t, "applied", string(st.State), "migration %d", st.Source.Version)
	}
	version, err := m.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, status[len(status)-1].Source.Version, version)
	require.ElementsMatch(t, eventStoreTables, tables(t, s, schema))

	again, err := m.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "a second Up applies nothing")

	_, err = m.DownTo(ctx, 0)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"eventsourcing_migrations"}, tables(t, s, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err)

	// Several applications opening one fresh schema at once: the advisory
	// lock makes them take turns, and all of them succeed.
	concurrent := s.newSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pool, err := postgres.Open(ctx, postgres.Config{ConnString: s.URL(), Schema: concurrent, CreateTable: true, PoolSize: 2})
			if err == nil {
				pool.Close()
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.ElementsMatch(t, eventStoreTables, tables(t, s, concurrent))
}

func tables(t *testing.T, s *server, schema string) []string {
	t.Helper()
	rows, err := s.connect(t).Query(t.Context(),
		"SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

// The recorder conformance suite (the twelve requirements, see README.md)
// passes against the server in the container.
func TestRecorderConformanceOnContainer(t *testing.T) {
	t.Parallel()
	s := shared(t)
	open := func(t *testing.T) *postgres.Config {
		return &postgres.Config{ConnString: s.URL(), Schema: s.newSchema(t), PoolSize: 20, CreateTable: true}
	}
	t.Run("process recorder", func(t *testing.T) {
		recordertest.Run(t, func(t *testing.T) persistence.ProcessRecorder {
			pool, err := postgres.Open(t.Context(), *open(t))
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			return postgres.NewRecorder(pool)
		})
	})
	t.Run("snapshot recorder", func(t *testing.T) {
		recordertest.RunSnapshots(t, func(t *testing.T) persistence.AggregateRecorder {
			pool, err := postgres.Open(t.Context(), *open(t))
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			return postgres.NewSnapshotRecorder(pool)
		})
	})
}

// The bank accounts example, end to end on the container: commands,
// refusals that change nothing, and the state read back by a second
// instance of the application over new connections.
func TestBankAccountsOnContainer(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := t.Context()
	opts := app.Options{Lookup: noEnv, Env: pgEnv(s, s.newSchema(t))}
	bank, err := bankaccounts.NewBankAccounts(ctx, opts)
	require.NoError(t, err)
	defer bank.Close()

	alice, err := bank.OpenAccount(ctx, "Alice", "alice@example.com")
	require.NoError(t, err)
	bob, err := bank.OpenAccount(ctx, "Bob", "bob@example.com")
	require.NoError(t, err)
	require.NoError(t, bank.DepositFunds(ctx, alice, 200_00))
	require.NoError(t, bank.TransferFunds(ctx, alice, bob, 50_00))
	before, err := bank.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	err = bank.TransferFunds(ctx, bob, alice, 1_000_00)
	require.ErrorIs(t, err, bankaccounts.ErrInsufficientFunds)
	after, err := bank.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused transfer records nothing")
	require.NoError(t, bank.SetOverdraftLimit(ctx, bob, 100_00))
	require.NoError(t, bank.WithdrawFunds(ctx, bob, 120_00))

	again, err := bankaccounts.NewBankAccounts(ctx, opts)
	require.NoError(t, err)
	defer again.Close()
	balance, err := again.GetBalance(ctx, alice)
	require.NoError(t, err)
	require.Equal(t, int64(150_00), balance)
	balance, err = again.GetBalance(ctx, bob)
	require.NoError(t, err)
	require.Equal(t, int64(-70_00), balance)
	section, err := again.Log().Section(ctx, "1,10")
	require.NoError(t, err)
	require.Len(t, section.Items, 7, "2 opened, 1 deposit, 2 transfer legs, 1 limit, 1 withdrawal")
	require.Equal(t, "1,7", section.ID)
}

// Snapshots, compression and encryption on the container: the stored state
// is not readable in the database, and the repository rebuilds aggregates
// from the latest snapshot and the events after it.
func TestSnapshotsCompressionEncryptionOnContainer(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := t.Context()
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	schema := s.newSchema(t)
	a, err := app.New(ctx, app.Options{
		Name: "Ledger", Registry: ledgerTypes(), Lookup: noEnv,
		Env:                   pgEnv(s, schema, "CIPHER_KEY", key, "COMPRESSOR_TOPIC", "zlib"),
		SnapshottingIntervals: map[string]int64{topicAccount: 5},
	})
	require.NoError(t, err)
	defer a.Close()
	acc := openAccount(t, "Secret Owner", 6)
	_, err = a.Save(ctx, acc)
	require.NoError(t, err)
	credit(t, acc, 3)
	_, err = a.Save(ctx, acc)
	require.NoError(t, err)

	conn := s.connect(t)
	var plain int
	require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf(
		"SELECT count(*) FROM %s.stored_events WHERE position('Secret Owner'::bytea in state) > 0", schema)).Scan(&plain))
	require.Zero(t, plain, "stored state is encrypted")
	var snapshots int
	require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s.snapshots", schema)).Scan(&snapshots))
	require.Equal(t, 2, snapshots, "automatic snapshots after the saves that passed versions 5 and 10")

	got, err := app.NewRepository[Account](a).Get(ctx, acc.ID())
	require.NoError(t, err)
	require.Equal(t, int64(10), got.Version())
	require.Equal(t, acc.Entries, got.Entries)
	require.Equal(t, "Secret Owner", got.Owner)
}

// The Worlds → Counters system on the container with the concurrent
// runner: every notification processed exactly once.
func TestSystemOnContainer(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	env := map[string]string{
		"PERSISTENCE_MODULE":       "postgres",
		"DATABASE_URL":             s.URL(),
		"WORLDS_POSTGRES_SCHEMA":   s.newSchema(t),
		"COUNTERS_POSTGRES_SCHEMA": s.newSchema(t),
	}
	runner := system.NewConcurrentRunner(counters.System(), system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: 100 * time.Millisecond})
	require.NoError(t, runner.Start(ctx))
	defer func() { require.NoError(t, runner.Stop()) }()
	worldsApp, countersApp := runner.App("Worlds"), runner.App("Counters")
	want := writeWorlds(t, worldsApp, 20, 10)
	require.NoError(t, runner.WaitCaughtUp(ctx))
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// writeWorlds records numWorlds worlds of perWorld notifications each (one
// save per world, so each world is one batch) and returns the counts the
// Counters must reach.
func writeWorlds(t testing.TB, worldsApp *app.Application, numWorlds, perWorld int) map[string]int {
	t.Helper()
	want := map[string]int{}
	for i := 0; i < numWorlds; i++ {
		w, err := worlds.NewWorld(fmt.Sprintf("world %d", i+1))
		require.NoError(t, err)
		for j := 1; j < perWorld; j++ {
			what := fmt.Sprintf("thing-%d", (i*7+j)%25)
			require.NoError(t, w.MakeItSo(what))
			want[what]++
		}
		_, err = worldsApp.Save(t.Context(), w)
		require.NoError(t, err)
	}
	return want
}

// requireExactlyOnce checks the counters against want, that every
// notification of Worlds is tracked exactly once, and that no counter
// event was recorded twice.
func requireExactlyOnce(t testing.TB, worldsApp, countersApp *app.Application, want map[string]int) {
	t.Helper()
	ctx := t.Context()
	repo := app.NewRepository[counters.Counter](countersApp)
	total := 0
	for what, n := range want {
		c, err := repo.Get(ctx, counters.CounterID(what))
		require.NoError(t, err)
		require.Equal(t, n, c.Count, what)
		total += n
	}
	// The notification IDs of Worlds may have gaps (a failed insert uses
	// up IDs); the tracking records are exactly the IDs recorded.
	notified := notificationIDs(t, worldsApp)
	rows, err := countersApp.Pool().Query(ctx, "SELECT notification_id FROM tracking WHERE application_name = 'Worlds' ORDER BY notification_id")
	require.NoError(t, err)
	var tracked []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		tracked = append(tracked, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, notified, tracked, "one tracking record per notification: no holes, no repeats")
	var recorded int
	require.NoError(t, countersApp.Pool().QueryRow(ctx, "SELECT count(*) FROM stored_events").Scan(&recorded))
	require.Equal(t, total+len(want), recorded, "one CounterIncremented per thing, one CounterCreated per counter: nothing twice")
}

// errKind names the persistence kind of err, for logs and assertions.
func errKind(err error) string {
	var conflict *persistence.ConcurrencyError
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &conflict):
		return "concurrency"
	case errors.Is(err, persistence.ErrConnection):
		return "connection"
	case errors.Is(err, persistence.ErrOperational):
		return "operational"
	case errors.Is(err, persistence.ErrIntegrity):
		return "integrity"
	case errors.Is(err, persistence.ErrProgramming):
		return "programming"
	case errors.Is(err, persistence.ErrData):
		return "data"
	case errors.Is(err, persistence.ErrInternal):
		return "internal"
	case errors.Is(err, persistence.ErrDatabase):
		return "database (unclassified)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "context"
	}
	return "unclassified"
}
