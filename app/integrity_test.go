package app_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

var testSalt = []byte("a salt of the tests")

// storedEvents returns every recorded event of id.
func storedEvents(t *testing.T, a *app.Application, id uuid.UUID) []persistence.StoredEvent {
	t.Helper()
	events, err := a.Recorder().SelectEvents(t.Context(), id, persistence.EventQuery{})
	require.NoError(t, err)
	return events
}

// An application that hash-chains its events records a hash with each,
// chained to the one before; its repository verifies them and gives the
// aggregate the last one as its head, and refuses events that do not
// verify with an error naming the aggregate and the version.
func TestHashChainSaveAndGet(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{HashChain: true, HashSalt: testSalt, SnapshottingEnabled: true})
		require.True(t, a.HashChain())
		h := a.Hasher()
		w := createWorld(t, a, "dinosaurs", "trucks")
		stored := storedEvents(t, a, w.ID())
		require.Len(t, stored, 3)
		for _, e := range stored {
			require.Len(t, e.Hash, integrity.Size)
			require.EqualValues(t, integrity.Scheme2, e.Hash[0])
		}
		require.NoError(t, h.Verify(stored))
		require.Equal(t, stored[2].Hash, w.Head(), "the saved aggregate's head")

		repo := app.NewRepository[World](a)
		got, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, stored[2].Hash, got.Head(), "the head of the aggregate read")
		at, err := repo.GetAt(ctx, w.ID(), 2)
		require.NoError(t, err)
		require.Equal(t, stored[1].Hash, at.Head())

		// Saves chain from the head, and snapshots record it.
		require.NoError(t, domain.Trigger(got, SomethingHappened{What: "internet"}))
		_, err = a.Save(ctx, got)
		require.NoError(t, err)
		require.NoError(t, repo.TakeSnapshot(ctx, w.ID(), 0))
		snaps, err := a.Snapshots().SelectEvents(ctx, w.ID(), persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, snaps, 1)
		stored = storedEvents(t, a, w.ID())
		require.Equal(t, stored[3].Hash, snaps[0].HeadHash)
		require.NoError(t, h.VerifySnapshot(snaps[0]))
		fromSnap, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, stored[3].Hash, fromSnap.Head(), "the head of the aggregate read from its snapshot")
		require.NoError(t, domain.Trigger(fromSnap, SomethingHappened{What: "robots"}))
		_, err = a.Save(ctx, fromSnap)
		require.NoError(t, err)
		stored = storedEvents(t, a, w.ID())
		require.NoError(t, h.Verify(stored))
		got, err = repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet", "robots"}, got.History)

		// An event recorded behind the application's back, a copy of the
		// last with the next version, does not verify; nor does one with
		// no hash after it.
		forged := stored[4].Clone()
		forged.OriginatorVersion = 6
		forged.Hash = h.EventHash(forged, stored[3].Hash) // chained to the wrong event
		_, err = a.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{forged})
		require.NoError(t, err)
		_, err = repo.Get(ctx, w.ID())
		var hashErr *integrity.EventHashError
		require.ErrorAs(t, err, &hashErr)
		require.ErrorIs(t, err, domain.ErrDataIntegrity)
		require.Equal(t, w.ID(), hashErr.OriginatorID)
		require.EqualValues(t, 6, hashErr.Version)
		require.Contains(t, err.Error(), w.ID().String())
	})
}

// An application that does not hash-chain its events records no hashes
// and verifies nothing; one that does accepts the events recorded before
// (without hashes) and chains its own from them.
func TestHashChainOptIn(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		plain := newApp(app.Options{})
		require.False(t, plain.HashChain())
		require.Nil(t, plain.Hasher())
		w := createWorld(t, plain, "dinosaurs")
		require.Nil(t, w.Head())
		for _, e := range storedEvents(t, plain, w.ID()) {
			require.Nil(t, e.Hash, "no hash recorded")
		}
		// A forged hash is not even looked at.
		bogus := storedEvents(t, plain, w.ID())[1].Clone()
		bogus.OriginatorVersion, bogus.Hash = 3, []byte{9, 9, 9}
		_, err := plain.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{bogus})
		require.NoError(t, err)
		got, err := app.NewRepository[World](plain).Get(ctx, w.ID())
		require.NoError(t, err)
		require.Nil(t, got.Head())
		require.Equal(t, []string{"dinosaurs", "dinosaurs"}, got.History)
	})
}

// Events recorded before an application opted in are accepted, and its
// own chain from empty after them.
func TestHashChainAfterUnhashedEvents(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		if env["PERSISTENCE_MODULE"] == "memory" {
			t.Skip("two applications cannot share an in-memory store")
		}
		ctx := t.Context()
		open := func(opts app.Options) *app.Application {
			opts.Name, opts.Registry, opts.Env, opts.Lookup = "Worlds", registry(), env, noEnv
			a, err := app.New(ctx, opts)
			require.NoError(t, err)
			t.Cleanup(a.Close)
			return a
		}
		plain := open(app.Options{})
		w := createWorld(t, plain, "dinosaurs")
		hashing := open(app.Options{HashSalt: testSalt})
		require.True(t, hashing.HashChain(), "a salt alone turns hash-chaining on")
		repo := app.NewRepository[World](hashing)
		got, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.NoError(t, domain.Trigger(got, SomethingHappened{What: "trucks"}))
		_, err = hashing.Save(ctx, got)
		require.NoError(t, err)
		stored := storedEvents(t, hashing, w.ID())
		require.Len(t, stored, 3)
		require.Nil(t, stored[1].Hash)
		require.Equal(t, hashing.Hasher().EventHash(stored[2], nil), stored[2].Hash, "chained from empty")
		got, err = repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, stored[2].Hash, got.Head())

		// Removing the hash of a hashed event is then detected.
		bare := stored[2].Clone()
		bare.OriginatorVersion, bare.Hash = 4, nil
		_, err = plain.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{bare})
		require.NoError(t, err)
		_, err = repo.Get(ctx, w.ID())
		var headErr *integrity.HeadHashError
		require.ErrorAs(t, err, &headErr)
		require.EqualValues(t, 4, headErr.Version)
	})
}

// Events saved by SaveTrackedPage chain from their aggregate's head when
// the aggregate is given, else from the last event recorded, and the
// events of one aggregate from several notifications of a page chain in
// order.
func TestHashChainTrackedPage(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{HashChain: true})
		given := createWorld(t, a, "dinosaurs")
		alone := createWorld(t, a, "dinosaurs")
		repo := app.NewRepository[World](a)
		g, err := repo.Get(ctx, given.ID())
		require.NoError(t, err)
		l, err := repo.Get(ctx, alone.ID())
		require.NoError(t, err)
		var events []domain.Event
		for _, what := range []string{"trucks", "internet"} { // two notifications
			require.NoError(t, domain.Trigger(g, SomethingHappened{What: what}))
			require.NoError(t, domain.Trigger(l, SomethingHappened{What: what}))
			events = append(events, g.CollectEvents()...)
			events = append(events, l.CollectEvents()...)
		}
		trackings := []persistence.Tracking{{ApplicationName: "up", NotificationID: 1}, {ApplicationName: "up", NotificationID: 2}}
		_, err = a.SaveTrackedPage(ctx, trackings, events, g) // l not given
		require.NoError(t, err)
		for _, id := range []uuid.UUID{given.ID(), alone.ID()} {
			stored := storedEvents(t, a, id)
			require.Len(t, stored, 4)
			require.NoError(t, a.Hasher().Verify(stored), "chain of %s", id)
			got, err := repo.Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, stored[3].Hash, got.Head())
		}
		require.Equal(t, storedEvents(t, a, given.ID())[3].Hash, g.Head(), "the given aggregate's head")
	})
}

func TestHashChainConfiguration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	newApp := func(opts app.Options, env map[string]string) (*app.Application, error) {
		opts.Registry, opts.Name, opts.Env, opts.Lookup = registry(), "Worlds", env, noEnv
		a, err := app.New(ctx, opts)
		if err == nil {
			t.Cleanup(a.Close)
		}
		return a, err
	}
	for _, tc := range []struct {
		name  string
		opts  app.Options
		env   map[string]string
		on    bool
		bad   string // the variable named by the *config.Error
		says  string // and what its message says
		check func(t *testing.T, a *app.Application)
	}{
		{name: "off by default"},
		{name: "typed", opts: app.Options{HashChain: true}, on: true},
		{name: "variable", env: map[string]string{"HASH_CHAIN": "yes"}, on: true},
		{name: "prefixed variable", env: map[string]string{"WORLDS_HASH_CHAIN": "y", "HASH_CHAIN": "n"}, on: true},
		{name: "salt alone", env: map[string]string{"SALT_FOR_DATA_INTEGRITY": "c2FsdA=="}, on: true},
		{name: "typed salt", opts: app.Options{HashSalt: []byte{}}, on: true},
		{name: "scheme 1", env: map[string]string{"HASH_CHAIN": "1", "HASH_SCHEME": "1"}, on: true,
			check: func(t *testing.T, a *app.Application) { require.Equal(t, 1, a.Hasher().Scheme()) }},
		{name: "bad salt", env: map[string]string{"SALT_FOR_DATA_INTEGRITY": "not base64!"}, bad: "SALT_FOR_DATA_INTEGRITY"},
		{name: "salt but off", env: map[string]string{"SALT_FOR_DATA_INTEGRITY": "c2FsdA==", "HASH_CHAIN": "false"}, bad: "SALT_FOR_DATA_INTEGRITY"},
		{name: "bad switch", env: map[string]string{"HASH_CHAIN": "maybe"}, bad: "HASH_CHAIN"},
		{name: "bad scheme", opts: app.Options{HashChain: true, HashScheme: 3}, bad: "app.Options.HashScheme"},
		{name: "scheme but off", env: map[string]string{"HASH_SCHEME": "2"}, bad: "HASH_SCHEME"},
		{name: "not strict by default", opts: app.Options{HashChain: true}, on: true,
			check: func(t *testing.T, a *app.Application) { require.False(t, a.Hasher().IsStrict()) }},
		{name: "typed strict", opts: app.Options{HashChain: true, HashChainStrict: true}, on: true,
			check: func(t *testing.T, a *app.Application) { require.True(t, a.Hasher().IsStrict()) }},
		{name: "strict variable", env: map[string]string{"SALT_FOR_DATA_INTEGRITY": "c2FsdA==", "WORLDS_HASH_CHAIN_STRICT": "yes", "HASH_CHAIN_STRICT": "no"}, on: true,
			check: func(t *testing.T, a *app.Application) { require.True(t, a.Hasher().IsStrict()) }},
		{name: "strict off", env: map[string]string{"HASH_CHAIN": "y", "HASH_CHAIN_STRICT": "off"}, on: true,
			check: func(t *testing.T, a *app.Application) { require.False(t, a.Hasher().IsStrict()) }},
		{name: "bad strict", env: map[string]string{"HASH_CHAIN": "y", "HASH_CHAIN_STRICT": "always"}, bad: "HASH_CHAIN_STRICT", says: "truth value"},
		{name: "strict but off", env: map[string]string{"HASH_CHAIN_STRICT": "true"}, bad: "HASH_CHAIN_STRICT", says: "strict mode requires hash-chaining"},
		{name: "strict but switched off", env: map[string]string{"HASH_CHAIN": "n", "WORLDS_HASH_CHAIN_STRICT": "1"}, bad: "WORLDS_HASH_CHAIN_STRICT",
			says: "strict mode requires hash-chaining"},
		{name: "typed strict but off", opts: app.Options{HashChainStrict: true}, bad: "app.Options.HashChainStrict", says: "strict mode requires hash-chaining"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := newApp(tc.opts, tc.env)
			if tc.bad != "" {
				var cfgErr *config.Error
				require.ErrorAs(t, err, &cfgErr)
				require.Equal(t, tc.bad, cfgErr.Var)
				require.Contains(t, err.Error(), tc.says)
				require.NotContains(t, err.Error(), "c2FsdA", "the salt is not shown")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.on, a.HashChain())
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

// pgHashApp opens an application that hash-chains its events in schema
// on the test server, with opts.
func pgHashApp(t *testing.T, schema string, opts app.Options) *app.Application {
	t.Helper()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": schema}
	for k, v := range opts.Env {
		env[k] = v
	}
	opts.Name, opts.Registry, opts.Env, opts.Lookup = "Worlds", registry(), env, noEnv
	if !opts.HashChain && opts.HashSalt == nil {
		opts.HashChain, opts.HashSalt = true, testSalt
	}
	a, err := app.New(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// sqlProblems returns the versions at which the SQL function
// stored_events_verify finds problems in the chain of id, negated for
// snapshots.
func sqlProblems(t *testing.T, pool *pgxpool.Pool, salt []byte, id uuid.UUID) []int64 {
	t.Helper()
	return sqlProblemsOf(t, pool, salt, id, false)
}

// sqlProblemsOf is sqlProblems, strictly or not.
func sqlProblemsOf(t *testing.T, pool *pgxpool.Pool, salt []byte, id uuid.UUID, strict bool) []int64 {
	t.Helper()
	problems, err := postgres.VerifyAggregate(t.Context(), pool, salt, id, strict)
	require.NoError(t, err)
	var versions []int64
	for _, p := range problems {
		v := p.Version
		if p.Snapshot {
			v = -v
		}
		versions = append(versions, v)
	}
	return versions
}

// integrityError returns the kind of the integrity error err ("event",
// "head", "snapshot", "scheme"), its aggregate and version.
func integrityError(err error) (string, uuid.UUID, int64) {
	var event *integrity.EventHashError
	var head *integrity.HeadHashError
	var snapshot *integrity.SnapshotHashError
	var scheme *integrity.SchemeError
	switch {
	case errors.As(err, &event):
		return "event", event.OriginatorID, event.Version
	case errors.As(err, &head):
		return "head", head.OriginatorID, head.Version
	case errors.As(err, &snapshot):
		return "snapshot", snapshot.OriginatorID, snapshot.Version
	case errors.As(err, &scheme):
		return "scheme", scheme.OriginatorID, scheme.Version
	}
	return "", uuid.Nil, 0
}

// Tampering done in SQL is detected by the database's verify function
// and by the repository, whose typed error names the aggregate and the
// version; with plain state and with encrypted and compressed state.
func TestHashChainTamperingInSQL(t *testing.T) {
	t.Parallel()
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	for _, codecs := range []struct {
		name string
		env  map[string]string
	}{{"plain", nil}, {"encrypted and compressed", map[string]string{"CIPHER_KEY": key, "COMPRESSOR_TOPIC": "zlib"}}} {
		t.Run(codecs.name, func(t *testing.T) {
			t.Parallel()
			a := pgHashApp(t, pgtest.NewSchemaName(t), app.Options{Env: codecs.env})
			for _, tc := range []struct {
				name    string
				sql     string
				version int64   // of the repository's error
				as      string  // its type: see integrityError
				sqlAt   []int64 // the versions the SQL function reports
			}{
				{"edited state", `UPDATE stored_events SET state = state || '\x00'::bytea WHERE originator_id = $1 AND originator_version = 3`,
					3, "event", []int64{3}},
				{"edited topic", `UPDATE stored_events SET topic = 'test:World.Discarded' WHERE originator_id = $1 AND originator_version = 2`,
					2, "event", []int64{2}},
				{"deleted middle event", `DELETE FROM stored_events WHERE originator_id = $1 AND originator_version = 3`,
					4, "head", []int64{4, 4}},
				{"deleted first event", `DELETE FROM stored_events WHERE originator_id = $1 AND originator_version = 1`,
					2, "event", []int64{2}},
				{"swapped events", `UPDATE stored_events a SET topic = b.topic, state = b.state, event_id = b.event_id,
					correlation_id = b.correlation_id, causation_id = b.causation_id, event_hash = b.event_hash
					FROM stored_events b WHERE a.originator_id = $1 AND b.originator_id = $1
					AND a.originator_version IN (2, 3) AND b.originator_version = 5 - a.originator_version`,
					2, "event", []int64{2, 3, 4}},
				{"edited hash", `UPDATE stored_events SET event_hash = set_byte(event_hash, 10, get_byte(event_hash, 10) # 1) WHERE originator_id = $1 AND originator_version = 4`,
					4, "event", []int64{4, 5}},
				{"hash removed after hashed events", `UPDATE stored_events SET event_hash = NULL WHERE originator_id = $1 AND originator_version = 5`,
					5, "head", []int64{5}},
				{"unknown scheme", `UPDATE stored_events SET event_hash = set_byte(event_hash, 0, 7) WHERE originator_id = $1 AND originator_version = 5`,
					5, "scheme", []int64{5}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := t.Context()
					w := createWorld(t, a, "dinosaurs", "trucks", "internet", "robots")
					require.Empty(t, sqlProblems(t, a.Pool(), testSalt, w.ID()), "intact")
					_, err := app.NewRepository[World](a).Get(ctx, w.ID())
					require.NoError(t, err)

					_, err = a.Pool().Exec(ctx, tc.sql, w.ID())
					require.NoError(t, err)
					_, err = app.NewRepository[World](a).Get(ctx, w.ID())
					require.ErrorIs(t, err, domain.ErrDataIntegrity)
					kind, id, version := integrityError(err)
					require.Equal(t, tc.as, kind, "%v", err)
					require.Equal(t, w.ID(), id)
					require.Equal(t, tc.version, version, "%v", err)
					require.Equal(t, tc.sqlAt, sqlProblems(t, a.Pool(), testSalt, w.ID()))
				})
			}
		})
	}
}

// A changed salt, and a changed snapshot, are detected; events of scheme
// 1 followed by events of scheme 2 verify; the whole application verifies
// page by page.
func TestHashChainSaltSchemesAndSnapshotsInSQL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	old := pgHashApp(t, schema, app.Options{HashChain: true, HashSalt: testSalt, HashScheme: integrity.Scheme1, SnapshottingEnabled: true})
	w := createWorld(t, old, "dinosaurs", "trucks")
	a := pgHashApp(t, schema, app.Options{HashChain: true, HashSalt: testSalt, SnapshottingEnabled: true})
	repo := app.NewRepository[World](a)
	got, err := repo.Get(ctx, w.ID())
	require.NoError(t, err)
	require.NoError(t, domain.Trigger(got, SomethingHappened{What: "internet"}))
	_, err = a.Save(ctx, got)
	require.NoError(t, err)
	var schemes []byte
	for _, e := range storedEvents(t, a, w.ID()) {
		schemes = append(schemes, e.Hash[0])
	}
	require.Equal(t, []byte{1, 1, 1, 2}, schemes)
	_, err = repo.Get(ctx, w.ID())
	require.NoError(t, err, "scheme 1 then scheme 2 verify")
	require.Empty(t, sqlProblems(t, a.Pool(), testSalt, w.ID()))

	// A changed salt.
	other := pgHashApp(t, schema, app.Options{HashSalt: []byte("another salt")})
	_, err = app.NewRepository[World](other).Get(ctx, w.ID())
	var hashErr *integrity.EventHashError
	require.ErrorAs(t, err, &hashErr)
	require.EqualValues(t, 1, hashErr.Version)
	require.Equal(t, []int64{1, 2, 3, 4}, sqlProblems(t, a.Pool(), []byte("another salt"), w.ID()))

	// A changed snapshot.
	require.NoError(t, repo.TakeSnapshot(ctx, w.ID(), 3))
	_, err = repo.Get(ctx, w.ID())
	require.NoError(t, err)
	require.Empty(t, sqlProblems(t, a.Pool(), testSalt, w.ID()))
	_, err = a.Pool().Exec(ctx, `UPDATE snapshots SET state = state || ' '::bytea WHERE originator_id = $1`, w.ID())
	require.NoError(t, err)
	_, err = repo.Get(ctx, w.ID())
	var snapErr *integrity.SnapshotHashError
	require.ErrorAs(t, err, &snapErr)
	require.ErrorIs(t, err, domain.ErrDataIntegrity)
	require.EqualValues(t, 3, snapErr.Version)
	require.Equal(t, []int64{-3}, sqlProblems(t, a.Pool(), testSalt, w.ID()))

	// The whole application, page by page.
	createWorld(t, a, "robots")
	var checks []postgres.AggregateCheck
	for after := uuid.Nil; ; {
		page, err := postgres.VerifyPage(ctx, a.Pool(), testSalt, after, 1, false)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Len(t, page, 1)
		checks = append(checks, page...)
		after = page[0].OriginatorID
	}
	require.Len(t, checks, 2)
	var events, snapshots, problems int64
	for _, c := range checks {
		events, snapshots, problems = events+c.Events, snapshots+c.Snapshots, problems+c.Problems
	}
	require.EqualValues(t, 6, events)
	require.EqualValues(t, 1, snapshots)
	require.EqualValues(t, 1, problems)
}

// Automatic snapshots of an application that hash-chains its events are
// sealed with their aggregate's head, and gets from them verify the
// events after them; a changed seal is refused.
func TestHashChainAutomaticSnapshots(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{HashChain: true, SnapshottingIntervals: map[string]int64{"test:World": 2}})
		w := createWorld(t, a, "dinosaurs", "trucks", "internet") // versions 1-4: a snapshot at 4
		snaps, err := a.Snapshots().SelectEvents(ctx, w.ID(), persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, snaps, 1)
		require.EqualValues(t, 4, snaps[0].OriginatorVersion)
		stored := storedEvents(t, a, w.ID())
		require.Equal(t, stored[3].Hash, snaps[0].HeadHash)
		require.NoError(t, a.Hasher().VerifySnapshot(snaps[0]))

		repo := app.NewRepository[World](a)
		got, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.NoError(t, domain.Trigger(got, SomethingHappened{What: "robots"}))
		_, err = a.Save(ctx, got)
		require.NoError(t, err)
		got, err = repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet", "robots"}, got.History)
		require.NoError(t, a.Hasher().Verify(storedEvents(t, a, w.ID())))

		// A snapshot recorded behind the application's back, at version
		// 5 with a seal that is not its own, is refused.
		forged := snaps[0].Clone()
		forged.OriginatorVersion = 5
		require.NoError(t, a.Snapshots().InsertEvents(ctx, []persistence.StoredEvent{forged}))
		_, err = repo.Get(ctx, w.ID())
		kind, id, version := integrityError(err)
		require.Equal(t, "snapshot", kind, "%v", err)
		require.Equal(t, w.ID(), id)
		require.EqualValues(t, 5, version)
	})
}

// storeSQL returns a function that runs a statement, with the aggregate
// id as its one argument ($1), in the tables of the application of env
// (PostgreSQL or an SQLite file, opened apart from the application), and
// the pool of the schema on PostgreSQL. The tables must exist.
func storeSQL(t *testing.T, env map[string]string) (func(query string, id uuid.UUID), *pgxpool.Pool) {
	t.Helper()
	ctx := t.Context()
	if env["PERSISTENCE_MODULE"] == "postgres" {
		pool, err := postgres.Open(ctx, postgres.Config{ConnString: env["DATABASE_URL"], Schema: env["POSTGRES_SCHEMA"]})
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		return func(query string, id uuid.UUID) {
			_, err := pool.Exec(ctx, query, id)
			require.NoError(t, err, query)
		}, pool
	}
	db, err := sql.Open("sqlite", "file:"+env["SQLITE_DBNAME"]+"?_busy_timeout=5000")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return func(query string, id uuid.UUID) {
		query = strings.ReplaceAll(query, "$1", "?")
		_, err := db.ExecContext(ctx, query, id.String())
		require.NoError(t, err, query)
	}, nil
}

// Whoever removes every hash of an aggregate in the database can then
// edit its events without the salt: an application that is not strict
// takes them for events recorded before it hash-chained its events (the
// limit strict mode closes). A strict application refuses the first event
// without a hash, naming the aggregate and the version, and a snapshot
// without a seal; so does the SQL function, strictly.
func TestHashChainStrictRefusesStrippedHashes(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		if env["PERSISTENCE_MODULE"] == "memory" {
			t.Skip("an in-memory store cannot be edited behind the application's back")
		}
		ctx := t.Context()
		open := func(opts app.Options) *app.Application {
			opts.Name, opts.Registry, opts.Env, opts.Lookup = "Worlds", registry(), env, noEnv
			opts.HashSalt, opts.SnapshottingEnabled = testSalt, true
			a, err := app.New(ctx, opts)
			require.NoError(t, err)
			t.Cleanup(a.Close)
			return a
		}
		lenient := app.NewRepository[World](open(app.Options{}))
		strictApp := open(app.Options{HashChainStrict: true})
		strict := app.NewRepository[World](strictApp)
		exec, pool := storeSQL(t, env)
		edit := `UPDATE stored_events SET state = ` + map[string]string{
			"postgres": `convert_to(replace(convert_from(state, 'UTF8'), 'trucks', 'robots'), 'UTF8')`,
			"sqlite":   `CAST(replace(CAST(state AS TEXT), 'trucks', 'robots') AS BLOB)`,
		}[env["PERSISTENCE_MODULE"]] + ` WHERE originator_id = $1 AND originator_version = 3`

		w := createWorld(t, strictApp, "dinosaurs", "trucks", "internet")
		got, err := strict.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, got.History)
		if pool != nil {
			require.Empty(t, sqlProblemsOf(t, pool, testSalt, w.ID(), true), "intact")
		}

		exec(`UPDATE stored_events SET event_hash = NULL WHERE originator_id = $1`, w.ID())
		exec(edit, w.ID())
		got, err = lenient.Get(ctx, w.ID())
		require.NoError(t, err, "not strict, the stripped events pass for events recorded before hash-chaining")
		require.Equal(t, []string{"dinosaurs", "robots", "internet"}, got.History, "and the edit goes unnoticed")
		_, err = strict.Get(ctx, w.ID())
		require.ErrorIs(t, err, domain.ErrDataIntegrity)
		kind, id, version := integrityError(err)
		require.Equal(t, "head", kind, "%v", err)
		require.Equal(t, w.ID(), id)
		require.EqualValues(t, 1, version)
		require.Contains(t, err.Error(), "event 1 of "+w.ID().String()+" has no hash")
		if pool != nil {
			require.Empty(t, sqlProblemsOf(t, pool, testSalt, w.ID(), false), "not strict, SQL sees no problem either")
			require.Equal(t, []int64{1, 2, 3, 4}, sqlProblemsOf(t, pool, testSalt, w.ID(), true))
		}

		// A snapshot stripped of its seal: not strict, the events are
		// replayed instead; strict, it is refused.
		s := createWorld(t, strictApp, "dinosaurs", "trucks")
		require.NoError(t, strict.TakeSnapshot(ctx, s.ID(), 0))
		_, err = strict.Get(ctx, s.ID())
		require.NoError(t, err)
		exec(`UPDATE snapshots SET event_hash = NULL WHERE originator_id = $1`, s.ID())
		got, err = lenient.Get(ctx, s.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks"}, got.History)
		_, err = strict.Get(ctx, s.ID())
		require.ErrorIs(t, err, domain.ErrDataIntegrity)
		kind, id, version = integrityError(err)
		require.Equal(t, "snapshot", kind, "%v", err)
		require.Equal(t, s.ID(), id)
		require.EqualValues(t, 3, version)
		if pool != nil {
			require.Empty(t, sqlProblemsOf(t, pool, testSalt, s.ID(), false))
			require.Equal(t, []int64{-3}, sqlProblemsOf(t, pool, testSalt, s.ID(), true))
		}
	})
}
