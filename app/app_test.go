package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type World struct {
	domain.Base
	Name    string
	History []string
}

type WorldCreated struct{ Name string }
type SomethingHappened struct{ What string }

func (w *World) Apply(event any) error {
	switch e := event.(type) {
	case WorldCreated:
		w.Name = e.Name
	case SomethingHappened:
		w.History = append(w.History, e.What)
	case domain.Discarded:
	default:
		return fmt.Errorf("unexpected event %T", event)
	}
	return nil
}

func registry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register("test:World", &World{})
	r.Register("test:World.Created", WorldCreated{})
	r.Register("test:World.SomethingHappened", SomethingHappened{})
	r.Register("test:World.Discarded", domain.Discarded{})
	return r
}

// noEnv is a process environment with nothing set.
func noEnv(string) (string, bool) { return "", false }

// modules runs fn as a subtest on the in-memory module and on Postgres,
// with env added to each application's configuration.
func modules(t *testing.T, fn func(t *testing.T, newApp func(opts app.Options) *app.Application)) {
	pgtest.EachStore(t, func(t *testing.T, base map[string]string) {
		fn(t, func(opts app.Options) *app.Application {
			t.Helper()
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range opts.Env {
				env[k] = v
			}
			opts.Env, opts.Lookup = env, noEnv
			if opts.Registry == nil {
				opts.Registry = registry()
			}
			if opts.Name == "" {
				opts.Name = "Worlds"
			}
			a, err := app.New(t.Context(), opts)
			require.NoError(t, err)
			t.Cleanup(a.Close)
			return a
		})
	})
}

// createWorld saves a world with the given history.
func createWorld(t *testing.T, a *app.Application, history ...string) *World {
	t.Helper()
	w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "earth"})
	require.NoError(t, err)
	for _, what := range history {
		require.NoError(t, domain.Trigger(w, SomethingHappened{What: what}))
	}
	_, err = a.Save(t.Context(), w)
	require.NoError(t, err)
	return w
}

func TestRepositoryGetAtVersion(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		w := createWorld(t, a, "dinosaurs", "trucks", "internet")
		repo := app.NewRepository[World](a)

		got, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, int64(4), got.Version())
		require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, got.History)
		require.Equal(t, w.CreatedOn(), got.CreatedOn())
		require.Equal(t, w.ModifiedOn(), got.ModifiedOn())

		for version, want := range map[int64][]string{1: nil, 2: {"dinosaurs"}, 3: {"dinosaurs", "trucks"}, 4: {"dinosaurs", "trucks", "internet"}, 5: {"dinosaurs", "trucks", "internet"}} {
			got, err := repo.GetAt(ctx, w.ID(), version)
			require.NoError(t, err)
			require.Equal(t, min(version, 4), got.Version(), "version %d", version)
			require.Equal(t, want, got.History, "version %d", version)
		}

		_, err = repo.Get(ctx, uuid.New())
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		var notFound *app.AggregateNotFoundError
		require.ErrorAs(t, err, &notFound)
		_, err = repo.GetAt(ctx, w.ID(), 0)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
	})
}

// Counter is an aggregate whose first event is version 0.
type Counter struct {
	domain.Base
	N int
}

// InitialVersion makes a Counter's created event version 0.
func (Counter) InitialVersion() int64 { return 0 }

func (c *Counter) Apply(event any) error {
	switch event.(type) {
	case WorldCreated:
	case SomethingHappened:
		c.N++
	default:
		return fmt.Errorf("unexpected event %T", event)
	}
	return nil
}

// Version 0 is a version like any other for an aggregate that starts at
// 0: GetAt reads it, from the events, not from a later snapshot.
func TestRepositoryGetAtVersionZero(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		r := registry()
		r.Register("test:Counter", &Counter{})
		a := newApp(app.Options{Registry: r, Env: map[string]string{"IS_SNAPSHOTTING_ENABLED": "y"}})
		c, err := domain.Create[Counter](uuid.New(), WorldCreated{})
		require.NoError(t, err)
		require.NoError(t, domain.Trigger(c, SomethingHappened{}))
		require.NoError(t, domain.Trigger(c, SomethingHappened{}))
		_, err = a.Save(ctx, c)
		require.NoError(t, err)
		repo := app.NewRepository[Counter](a)
		require.NoError(t, repo.TakeSnapshot(ctx, c.ID(), 0)) // at the latest version, 2

		for version, n := range map[int64]int{0: 0, 1: 1, 2: 2, 3: 2} {
			got, err := repo.GetAt(ctx, c.ID(), version)
			require.NoError(t, err, "version %d", version)
			require.Equal(t, min(version, 2), got.Version(), "version %d", version)
			require.Equal(t, n, got.N, "version %d", version)
			require.Equal(t, c.CreatedOn(), got.CreatedOn(), "version %d", version)
		}
		got, err := repo.Get(ctx, c.ID())
		require.NoError(t, err)
		require.Equal(t, int64(2), got.Version())

		_, err = repo.GetAt(ctx, c.ID(), -1)
		require.ErrorIs(t, err, app.ErrAggregateNotFound, "no version before the first")
	})
}

func TestSaveManyAggregatesIsAtomic(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		repo := app.NewRepository[World](a)
		w1 := createWorld(t, a)

		// A second copy of w1 advances it; w1 is now stale.
		copy1, err := repo.Get(ctx, w1.ID())
		require.NoError(t, err)
		require.NoError(t, domain.Trigger(copy1, SomethingHappened{What: "first"}))
		_, err = a.Save(ctx, copy1)
		require.NoError(t, err)

		w2, err := domain.Create[World](uuid.New(), WorldCreated{Name: "mars"})
		require.NoError(t, err)
		require.NoError(t, domain.Trigger(w1, SomethingHappened{What: "stale"}))
		_, err = a.Save(ctx, w2, w1)
		var conflict *persistence.ConcurrencyError
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, w1.ID(), conflict.OriginatorID)
		require.Len(t, w2.PendingEvents(), 1, "a failed save leaves events pending")
		require.Len(t, w1.PendingEvents(), 1)

		_, err = repo.Get(ctx, w2.ID())
		require.ErrorIs(t, err, app.ErrAggregateNotFound, "nothing of a failed save is recorded")
		got, err := repo.Get(ctx, w1.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"first"}, got.History)

		// Saved together, both aggregates' events are in the log, in argument order.
		w3, err := domain.Create[World](uuid.New(), WorldCreated{Name: "venus"})
		require.NoError(t, err)
		ids, err := a.Save(ctx, w3, w2)
		require.NoError(t, err)
		require.Len(t, ids, 2)
		require.Empty(t, w3.PendingEvents())
		section, err := a.Log().Section(ctx, fmt.Sprintf("%d,%d", ids[0], ids[1]))
		require.NoError(t, err)
		require.Len(t, section.Items, 2)
		require.Equal(t, w3.ID(), section.Items[0].OriginatorID)
		require.Equal(t, w2.ID(), section.Items[1].OriginatorID)
	})
}

func TestDiscardedAggregateIsNotFound(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		w := createWorld(t, a, "dinosaurs")
		require.NoError(t, domain.Trigger(w, domain.Discarded{}))
		_, err := a.Save(ctx, w)
		require.NoError(t, err)
		repo := app.NewRepository[World](a)
		_, err = repo.Get(ctx, w.ID())
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		old, err := repo.GetAt(ctx, w.ID(), 2)
		require.NoError(t, err, "the aggregate before it was discarded is still there")
		require.Equal(t, []string{"dinosaurs"}, old.History)
	})
}

func TestNotificationLogSections(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		w := createWorld(t, a, "dinosaurs", "trucks", "internet")
		log := a.Log()

		section, err := log.Section(ctx, "1,10")
		require.NoError(t, err)
		require.Equal(t, "1,4", section.ID)
		require.Empty(t, section.NextID)
		require.Len(t, section.Items, 4)
		for i, n := range section.Items {
			require.Equal(t, int64(i+1), n.ID)
			require.Equal(t, w.ID(), n.OriginatorID)
			require.Equal(t, int64(i+1), n.OriginatorVersion)
		}
		require.Equal(t, "test:World.Created", section.Items[0].Topic)
		require.Equal(t, "test:World.SomethingHappened", section.Items[1].Topic)
		require.Contains(t, string(section.Items[1].State), "dinosaurs")
		require.Contains(t, string(section.Items[3].State), "internet")
		e, err := a.Mapper().ToDomainEvent(section.Items[3].StoredEvent)
		require.NoError(t, err)
		require.Equal(t, SomethingHappened{What: "internet"}, e.Data)
		require.Equal(t, w.ID(), e.OriginatorID)

		for i := 0; i < 12; i++ {
			createWorld(t, a)
		}
		cases := []struct{ id, wantID, wantNext string }{
			{"1,5", "1,5", "6,10"},
			{"0,5", "1,5", "6,10"},
			{"5,4", "", ""},
			{"1,100", "1,10", "11,20"},
			{"11,20", "11,16", ""},
			{"17,20", "", ""},
		}
		for _, c := range cases {
			s, err := log.Section(ctx, c.id)
			require.NoError(t, err, c.id)
			require.Equal(t, c.wantID, s.ID, c.id)
			require.Equal(t, c.wantNext, s.NextID, c.id)
		}
		for _, bad := range []string{"x", "1", "1,", ",2", "a,b", ""} {
			_, err := log.Section(ctx, bad)
			require.ErrorIs(t, err, app.ErrSectionID, bad)
		}
		_, err = log.Select(ctx, 1, 11)
		require.Error(t, err, "a limit above the section size is refused")
	})
}

// On Postgres a failed save leaves a gap in the notification ids; sections
// report the ids they hold and run past the requested end.
func TestNotificationLogSectionWithGaps(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		w1 := createWorld(t, a)
		createWorld(t, a)
		// A conflicting save of a new world with an old one's first version.
		w3, err := domain.Create[World](w1.ID(), WorldCreated{Name: "dup"})
		require.NoError(t, err)
		other, err := domain.Create[World](uuid.New(), WorldCreated{Name: "lost"})
		require.NoError(t, err)
		_, err = a.Save(ctx, other, w3)
		require.ErrorIs(t, err, persistence.ErrIntegrity)
		createWorld(t, a)
		createWorld(t, a)

		s, err := a.Log().Section(ctx, "1,3")
		require.NoError(t, err)
		require.Len(t, s.Items, 3)
		require.Equal(t, int64(1), s.Items[0].ID)
		last := s.Items[2].ID
		require.Equal(t, fmt.Sprintf("1,%d", last), s.ID)
		require.Equal(t, fmt.Sprintf("%d,%d", last+1, last+3), s.NextID)
		next, err := a.Log().Section(ctx, s.NextID)
		require.NoError(t, err)
		require.Len(t, next.Items, 1)
	})
}

func TestSnapshotting(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()

		off := newApp(app.Options{})
		require.False(t, off.SnapshottingEnabled(), "off by default")
		w := createWorld(t, off, "a")
		err := app.NewRepository[World](off).TakeSnapshot(ctx, w.ID(), 0)
		require.ErrorIs(t, err, app.ErrSnapshottingDisabled)

		on := newApp(app.Options{Name: "Snapshots", Env: map[string]string{"IS_SNAPSHOTTING_ENABLED": "y"}})
		require.True(t, on.SnapshottingEnabled())
		repo := app.NewRepository[World](on)
		w = createWorld(t, on, "dinosaurs", "trucks", "internet")
		require.NoError(t, repo.TakeSnapshot(ctx, w.ID(), 0))
		require.NoError(t, repo.TakeSnapshot(ctx, w.ID(), 0), "taking the same snapshot again is not an error")
		require.NoError(t, repo.TakeSnapshot(ctx, w.ID(), 2))
		got, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, int64(4), got.Version())
		require.Equal(t, w.History, got.History)
		require.Equal(t, w.CreatedOn(), got.CreatedOn())
		require.Equal(t, w.ModifiedOn(), got.ModifiedOn())

		// Later events are applied on top of the snapshot.
		require.NoError(t, domain.Trigger(got, SomethingHappened{What: "moon"}))
		_, err = on.Save(ctx, got)
		require.NoError(t, err)
		again, err := repo.Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet", "moon"}, again.History)
		at3, err := repo.GetAt(ctx, w.ID(), 3)
		require.NoError(t, err, "an earlier version uses an earlier snapshot")
		require.Equal(t, []string{"dinosaurs", "trucks"}, at3.History)
	})
}

func TestAutomaticSnapshotsEveryTwoVersions(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{SnapshottingIntervals: map[string]int64{"test:World": 2}})
		require.True(t, a.SnapshottingEnabled(), "intervals imply snapshotting")
		repo := app.NewRepository[World](a)
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "earth"})
		require.NoError(t, err)
		_, err = a.Save(ctx, w)
		require.NoError(t, err)
		for _, what := range []string{"dinosaurs", "trucks", "internet"} {
			got, err := repo.Get(ctx, w.ID())
			require.NoError(t, err)
			require.NoError(t, domain.Trigger(got, SomethingHappened{What: what}))
			_, err = a.Save(ctx, got)
			require.NoError(t, err)
		}
		snapshots := snapshotVersions(t, a, w.ID())
		require.Equal(t, []int64{2, 4}, snapshots)

		disabled := newApp(app.Options{Name: "Disabled", SnapshottingIntervals: map[string]int64{"test:World": 2},
			Env: map[string]string{"IS_SNAPSHOTTING_ENABLED": "n"}})
		require.False(t, disabled.SnapshottingEnabled(), "the environment overrides the intervals")
		createWorld(t, disabled, "a", "b", "c")
	})
}

// snapshotVersions returns the versions of the recorded snapshots of id.
func snapshotVersions(t *testing.T, a *app.Application, id uuid.UUID) []int64 {
	t.Helper()
	stored, err := a.Snapshots().SelectEvents(t.Context(), id, persistence.EventQuery{})
	require.NoError(t, err)
	var versions []int64
	for _, s := range stored {
		versions = append(versions, s.OriginatorVersion)
	}
	return versions
}

func TestSnapshottingEnvPrecedence(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		code    map[string]string
		process map[string]string
		class   bool
		want    bool
	}{
		{"code env on", map[string]string{"IS_SNAPSHOTTING_ENABLED": "y"}, nil, false, true},
		{"process env on", nil, map[string]string{"IS_SNAPSHOTTING_ENABLED": "y"}, false, true},
		{"code overrides process", map[string]string{"IS_SNAPSHOTTING_ENABLED": "n"}, map[string]string{"IS_SNAPSHOTTING_ENABLED": "y"}, false, false},
		{"option on", nil, nil, true, true},
		{"code overrides option", map[string]string{"IS_SNAPSHOTTING_ENABLED": "n"}, nil, true, false},
		{"process overrides option", nil, map[string]string{"IS_SNAPSHOTTING_ENABLED": "n"}, true, false},
		{"prefixed overrides plain", map[string]string{"IS_SNAPSHOTTING_ENABLED": "n", "WORLDS_IS_SNAPSHOTTING_ENABLED": "yes"}, nil, false, true},
	}
	for _, c := range cases {
		a, err := app.New(t.Context(), app.Options{
			Name: "Worlds", Registry: registry(), Env: c.code, SnapshottingEnabled: c.class,
			Lookup: func(k string) (string, bool) { v, ok := c.process[k]; return v, ok },
		})
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, a.SnapshottingEnabled(), c.name)
		a.Close()
	}
	_, err := app.New(t.Context(), app.Options{Registry: registry(), Env: map[string]string{"IS_SNAPSHOTTING_ENABLED": "maybe"}, Lookup: noEnv})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "IS_SNAPSHOTTING_ENABLED", cfgErr.Var)
}

func TestEncryptedAndCompressedState(t *testing.T) {
	t.Parallel()
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{Env: map[string]string{"CIPHER_KEY": key, "COMPRESSOR_TOPIC": "zlib"}})
		w := createWorld(t, a, "dinosaurs")
		s, err := a.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		require.Len(t, s.Items, 2)
		require.NotContains(t, string(s.Items[1].State), "dinosaurs", "stored state is encrypted")
		e, err := a.Mapper().ToDomainEvent(s.Items[1].StoredEvent)
		require.NoError(t, err)
		require.Equal(t, SomethingHappened{What: "dinosaurs"}, e.Data)
		got, err := app.NewRepository[World](a).Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs"}, got.History)
	})
}

func TestBadConfigurationNamesVariable(t *testing.T) {
	t.Parallel()
	for variable, value := range map[string]string{
		"PERSISTENCE_MODULE":     "mongodb",
		"CIPHER_KEY":             "not base64!",
		"COMPRESSOR_TOPIC":       "lz4",
		"TZINFO_TOPIC":           "Europe/London",
		"INFRASTRUCTURE_FACTORY": "eventsourcing.axonserver:Factory",
	} {
		_, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Env: map[string]string{variable: value}, Lookup: noEnv})
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, variable)
		require.Equal(t, variable, cfgErr.Var)
		require.Contains(t, err.Error(), variable)
	}
	_, err := app.New(t.Context(), app.Options{Name: "Worlds"})
	require.Error(t, err, "a registry is required")

	for _, utc := range []string{"datetime:timezone.utc", "UTC", ""} {
		a, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Env: map[string]string{"TZINFO_TOPIC": utc}, Lookup: noEnv})
		require.NoError(t, err, "TZINFO_TOPIC=%q is UTC", utc)
		a.Close()
	}
}

// An aggregate read as another type is an error, from events and from a
// snapshot; events recorded before the type was recorded (no
// originator_topic) are read as before.
func TestWrongAggregateType(t *testing.T) {
	t.Parallel()
	type Cat struct{ World } // same events, another aggregate type
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		reg := registry()
		reg.Register("test:Cat", &Cat{})
		a := newApp(app.Options{Name: "Worlds", Registry: reg, SnapshottingEnabled: true})
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "dog"})
		require.NoError(t, err)
		_, err = a.Save(ctx, w)
		require.NoError(t, err)

		_, err = app.NewRepository[Cat](a).Get(ctx, w.ID())
		require.ErrorIs(t, err, domain.ErrWrongAggregateType)
		var wrong *domain.WrongAggregateTypeError
		require.ErrorAs(t, err, &wrong)
		require.Equal(t, w.ID(), wrong.ID)
		require.Contains(t, err.Error(), "World")
		_, err = app.NewRepository[World](a).Get(ctx, w.ID())
		require.NoError(t, err, "read as its own type")

		require.NoError(t, app.NewRepository[World](a).TakeSnapshot(ctx, w.ID(), 0))
		_, err = app.NewRepository[Cat](a).Get(ctx, w.ID())
		require.ErrorIs(t, err, domain.ErrWrongAggregateType, "from the snapshot too")

		// A created event stored without the aggregate's topic, as before.
		old := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "test:World.Created",
			State: []byte(`{"timestamp":"2026-01-02T03:04:05Z","data":{"Name":"old"}}`)}
		_, err = a.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{old})
		require.NoError(t, err)
		got, err := app.NewRepository[World](a).Get(ctx, old.OriginatorID)
		require.NoError(t, err, "old data stays readable")
		require.Equal(t, "old", got.Name)
	})
}

func TestUnregisteredEventTypeSavesNothing(t *testing.T) {
	t.Parallel()
	type Unregistered struct{ X int }
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "x"})
		require.NoError(t, err)
		w2, err := domain.Create[World](uuid.New(), Unregistered{X: 1})
		require.Error(t, err, "World.Apply refuses unknown events")
		require.Nil(t, w2)
		require.NoError(t, domain.Trigger(w, domain.Discarded{}))
		reg := codec.NewRegistry()
		reg.Register("test:World", &World{})
		reg.Register("test:World.Created", WorldCreated{})
		b := newApp(app.Options{Name: "Partial", Registry: reg})
		_, err = b.Save(ctx, w)
		require.ErrorIs(t, err, codec.ErrUnregisteredType)
		require.Contains(t, err.Error(), "Discarded")
		max, err := b.Recorder().MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Zero(t, max, "nothing of the save was recorded")
		require.Len(t, w.PendingEvents(), 2)
	})
}

func TestStateSurvivesNewApplicationOnSameDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	first, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	w := createWorld(t, first, "dinosaurs", "trucks", "internet")
	first.Close()

	second, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	defer second.Close()
	got, err := app.NewRepository[World](second).Get(ctx, w.ID())
	require.NoError(t, err)
	require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, got.History)
}

// SaveTx and SaveTrackedTx record events, snapshots and tracking records
// into the application's schema whatever the search_path of the caller's
// transaction, and leave that search_path as it was.
func TestSaveTxOnTheCallersOwnPool(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.ServerURL(t)
	newApp := func(schema string) *app.Application {
		env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": url, "POSTGRES_SCHEMA": schema}
		a, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env, Lookup: noEnv,
			SnapshottingIntervals: map[string]int64{"test:World": 2}})
		require.NoError(t, err)
		t.Cleanup(a.Close)
		return a
	}
	a := newApp(pgtest.NewSchemaName(t))
	decoySchema := pgtest.NewSchemaName(t)
	decoy := newApp(decoySchema) // another migrated event store

	for name, searchPath := range map[string]string{
		"no search_path":                   "",
		"search_path naming another store": pgx.Identifier{decoySchema}.Sanitize(),
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := pgxpool.ParseConfig(url)
			require.NoError(t, err)
			if searchPath != "" {
				cfg.ConnConfig.RuntimeParams["search_path"] = searchPath
			}
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			defer pool.Close()

			w, err := domain.Create[World](uuid.New(), WorldCreated{Name: name})
			require.NoError(t, err)
			require.NoError(t, domain.Trigger(w, SomethingHappened{What: "dinosaurs"})) // version 2: a snapshot is due
			tracked, err := domain.Create[World](uuid.New(), WorldCreated{Name: name + ", tracked"})
			require.NoError(t, err)
			tracking := persistence.Tracking{ApplicationName: "upstream of " + name, NotificationID: 7}
			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx)
			var before, after string
			require.NoError(t, tx.QueryRow(ctx, "SHOW search_path").Scan(&before))
			_, err = a.SaveTx(ctx, tx, w)
			require.NoError(t, err)
			_, err = a.SaveTrackedTx(ctx, tx, tracking, tracked.PendingEvents(), tracked)
			require.NoError(t, err)
			require.NoError(t, tx.QueryRow(ctx, "SHOW search_path").Scan(&after))
			require.Equal(t, before, after, "the caller's search_path is left as it was")
			require.NoError(t, tx.Commit(ctx))

			got, err := app.NewRepository[World](a).Get(ctx, w.ID())
			require.NoError(t, err, "recorded in the application's schema")
			require.Equal(t, name, got.Name)
			require.Equal(t, []int64{2}, snapshotVersions(t, a, w.ID()), "the snapshot is in the application's schema")
			_, err = app.NewRepository[World](a).Get(ctx, tracked.ID())
			require.NoError(t, err, "the tracked save is in the application's schema")
			ok, err := a.Recorder().HasTrackingID(ctx, tracking.ApplicationName, tracking.NotificationID)
			require.NoError(t, err)
			require.True(t, ok, "the tracking record is in the application's schema")
			recorded, err := decoy.Log().Select(ctx, 1, 10)
			require.NoError(t, err)
			require.Empty(t, recorded, "nothing recorded in the other store")
			require.Empty(t, snapshotVersions(t, decoy, w.ID()), "no snapshot in the other store")
			none, err := decoy.Recorder().MaxTrackingID(ctx, tracking.ApplicationName)
			require.NoError(t, err)
			require.Zero(t, none, "no tracking record in the other store")
		})
	}

	t.Run("schema without the event store", func(t *testing.T) {
		gone := pgtest.NewSchemaName(t)
		b := newApp(gone)
		_, err := a.Pool().Exec(ctx, "DROP SCHEMA "+pgx.Identifier{gone}.Sanitize()+" CASCADE")
		require.NoError(t, err)
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "nowhere"})
		require.NoError(t, err)
		tx, err := a.Pool().Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx)
		_, err = b.SaveTx(ctx, tx, w)
		require.ErrorIs(t, err, persistence.ErrProgramming)
		require.Contains(t, err.Error(), gone)
	})
}

func TestSaveTx(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	a, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	defer a.Close()
	pool := a.Pool()
	require.NotNil(t, pool)
	repo := app.NewRepository[World](a)

	w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "committed"})
	require.NoError(t, err)
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	ids, err := a.SaveTx(ctx, tx, w)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	_, err = repo.Get(ctx, w.ID())
	require.ErrorIs(t, err, app.ErrAggregateNotFound, "not visible before commit")
	require.NoError(t, tx.Commit(ctx))
	_, err = repo.Get(ctx, w.ID())
	require.NoError(t, err)

	r, err := domain.Create[World](uuid.New(), WorldCreated{Name: "rolled back"})
	require.NoError(t, err)
	tx, err = pool.Begin(ctx)
	require.NoError(t, err)
	_, err = a.SaveTx(ctx, tx, r)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))
	_, err = repo.Get(ctx, r.ID())
	require.ErrorIs(t, err, app.ErrAggregateNotFound)

	mem, err := app.New(ctx, app.Options{Registry: registry(), Lookup: noEnv})
	require.NoError(t, err)
	_, err = mem.SaveTx(ctx, nil, w)
	require.ErrorIs(t, err, persistence.ErrNotSupported)
	require.Contains(t, err.Error(), "memory")

	lite, err := app.New(ctx, app.Options{Registry: registry(), Lookup: noEnv, SQLiteDBName: filepath.Join(t.TempDir(), "worlds.db")})
	require.NoError(t, err)
	defer lite.Close()
	_, err = lite.SaveTrackedTx(ctx, nil, persistence.Tracking{ApplicationName: "Upstream", NotificationID: 1}, nil, w)
	require.ErrorIs(t, err, persistence.ErrNotSupported)
	require.Contains(t, err.Error(), "sqlite")
}

// The repository reads the latest snapshot and only the events after it:
// corrupting an event the snapshot covers does not matter, while reading a
// version below the snapshot meets the corrupt row and says so.
func TestRepositoryUsesSnapshotThenLaterEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t),
		"POSTGRES_SCHEMA": pgtest.NewSchemaName(t), "IS_SNAPSHOTTING_ENABLED": "y"}
	a, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	defer a.Close()
	repo := app.NewRepository[World](a)
	w := createWorld(t, a, "dinosaurs", "trucks")
	require.NoError(t, repo.TakeSnapshot(ctx, w.ID(), 0))
	require.NoError(t, domain.Trigger(w, SomethingHappened{What: "internet"}))
	_, err = a.Save(ctx, w)
	require.NoError(t, err)

	_, err = a.Pool().Exec(ctx, "UPDATE stored_events SET state = 'garbage' WHERE originator_id = $1 AND originator_version = 2", w.ID())
	require.NoError(t, err)

	got, err := repo.Get(ctx, w.ID())
	require.NoError(t, err)
	require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, got.History)

	_, err = repo.GetAt(ctx, w.ID(), 2)
	require.ErrorIs(t, err, codec.ErrDecode)
	var mapErr *codec.MappingError
	require.ErrorAs(t, err, &mapErr)
	require.Equal(t, w.ID(), mapErr.OriginatorID)
	require.Equal(t, int64(2), mapErr.Version)
	require.Equal(t, "test:World.SomethingHappened", mapErr.Topic)
}

// Reading with the wrong cipher key is a clear error, and changes nothing.
func TestWrongCipherKeyIsTypedErrorAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key1, err := codec.CreateAESKey(16)
	require.NoError(t, err)
	key2, err := codec.CreateAESKey(16)
	require.NoError(t, err)
	schema := pgtest.NewSchemaName(t)
	env := func(key string) map[string]string {
		return map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t),
			"POSTGRES_SCHEMA": schema, "CIPHER_KEY": key}
	}
	right, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env(key1), Lookup: noEnv})
	require.NoError(t, err)
	defer right.Close()
	w := createWorld(t, right, "dinosaurs")

	wrong, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Env: env(key2), Lookup: noEnv})
	require.NoError(t, err)
	defer wrong.Close()
	_, err = app.NewRepository[World](wrong).Get(ctx, w.ID())
	require.ErrorIs(t, err, codec.ErrCipherText)
	var mapErr *codec.MappingError
	require.ErrorAs(t, err, &mapErr)
	require.Equal(t, w.ID(), mapErr.OriginatorID)

	got, err := app.NewRepository[World](right).Get(ctx, w.ID())
	require.NoError(t, err)
	require.Equal(t, []string{"dinosaurs"}, got.History)
}
