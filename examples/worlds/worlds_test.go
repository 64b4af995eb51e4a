package worlds_test

import (
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// noEnv keeps the process environment out of the tests.
func noEnv(string) (string, bool) { return "", false }

// eachStore runs test as parallel subtests on the in-memory default and on
// PostgreSQL (in a fresh schema; skipped when no server can be had).
func eachStore(t *testing.T, test func(t *testing.T, opts app.Options)) {
	t.Helper()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		test(t, app.Options{Lookup: noEnv, Env: env})
	})
}

func newWorlds(t *testing.T, opts app.Options) *worlds.Worlds {
	t.Helper()
	w, err := worlds.NewWorlds(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(w.Close)
	return w
}

// worldWithHistory creates a world and makes three things happen to it,
// as in the Python library's example: versions 1 to 4.
func worldWithHistory(t *testing.T, w *worlds.Worlds) uuid.UUID {
	t.Helper()
	ctx := t.Context()
	id, err := w.CreateWorld(ctx, "Earth")
	require.NoError(t, err)
	for _, what := range []string{"dinosaurs", "trucks", "internet"} {
		require.NoError(t, w.MakeItSo(ctx, id, what))
	}
	return id
}

// The World aggregate on its own (the Python library's example E1).
func TestWorldAggregate(t *testing.T) {
	t.Parallel()
	world, err := worlds.NewWorld("Earth")
	require.NoError(t, err)
	require.Equal(t, int64(1), world.Version())
	require.Equal(t, "Earth", world.Name)
	require.Empty(t, world.History)
	for _, what := range []string{"dinosaurs", "trucks", "internet"} {
		require.NoError(t, world.MakeItSo(what))
	}
	require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, world.History)
	require.Equal(t, int64(4), world.Version())
	require.False(t, world.ModifiedOn().Before(world.CreatedOn()))

	events := world.CollectEvents()
	require.Len(t, events, 4)
	require.Empty(t, world.PendingEvents())
	require.Equal(t, worlds.WorldCreated{Name: "Earth"}, events[0].Data)
	for i, what := range []string{"dinosaurs", "trucks", "internet"} {
		require.Equal(t, worlds.SomethingHappened{What: what}, events[i+1].Data)
	}
	require.Equal(t, world.CreatedOn(), events[0].Timestamp)
	require.Equal(t, world.ModifiedOn(), events[3].Timestamp)

	replayed, err := domain.Replay[worlds.World](events)
	require.NoError(t, err)
	require.Equal(t, world.ID(), replayed.ID())
	require.Equal(t, world.Version(), replayed.Version())
	require.Equal(t, world.Name, replayed.Name)
	require.Equal(t, world.History, replayed.History)
}

// A2: the history after three commands.
func TestWorldsHistory(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWorlds(t, opts)
		id := worldWithHistory(t, w)
		history, err := w.GetHistory(ctx, id)
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, history)

		// The history returned is a copy.
		history[0] = "changed"
		again, err := w.GetHistory(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "dinosaurs", again[0])

		// A second world has its own history.
		other, err := w.CreateWorld(ctx, "Mars")
		require.NoError(t, err)
		require.NotEqual(t, id, other)
		history, err = w.GetHistory(ctx, other)
		require.NoError(t, err)
		require.Empty(t, history)
	})
}

// A4: the repository gets a world at each version; above the latest
// version it gives the latest.
func TestWorldsRepositoryVersions(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWorlds(t, opts)
		id := worldWithHistory(t, w)
		repo := w.Repository()

		latest, err := repo.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, int64(4), latest.Version())
		require.Len(t, latest.History, 3)
		require.Equal(t, "Earth", latest.Name)

		cases := []struct {
			version, wantVersion int64
			wantLen              int
			wantLast             string
		}{
			{1, 1, 0, ""},
			{2, 2, 1, "dinosaurs"},
			{3, 3, 2, "trucks"},
			{4, 4, 3, "internet"},
			{5, 4, 3, "internet"}, // there is no version 5
		}
		for _, c := range cases {
			world, err := repo.GetAt(ctx, id, c.version)
			require.NoError(t, err, "version %d", c.version)
			require.Equal(t, c.wantVersion, world.Version(), "version %d", c.version)
			require.Len(t, world.History, c.wantLen, "version %d", c.version)
			if c.wantLen > 0 {
				require.Equal(t, c.wantLast, world.History[len(world.History)-1], "version %d", c.version)
			}
		}
	})
}

func TestWorldsUnknownIDIsAggregateNotFound(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWorlds(t, opts)
		unknown := uuid.New()

		_, err := w.GetHistory(ctx, unknown)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		var notFound *app.AggregateNotFoundError
		require.ErrorAs(t, err, &notFound)
		require.Equal(t, unknown, notFound.ID)

		require.ErrorIs(t, w.MakeItSo(ctx, unknown, "anything"), app.ErrAggregateNotFound)
		_, err = w.Repository().Get(ctx, unknown)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		_, err = w.Repository().GetAt(ctx, unknown, 1)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)

		// Nothing was recorded by the failed command.
		section, err := w.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		require.Empty(t, section.Items)
	})
}

// A5 and A6: the notification log presents the four events, which the
// mapper decodes back to domain events.
func TestWorldsNotificationLog(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWorlds(t, opts)
		id := worldWithHistory(t, w)

		section, err := w.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		require.Len(t, section.Items, 4)
		require.Equal(t, "1,4", section.ID)
		require.Empty(t, section.NextID)

		topics := []string{worlds.TopicWorldCreated, worlds.TopicSomethingHappened, worlds.TopicSomethingHappened, worlds.TopicSomethingHappened}
		for i, item := range section.Items {
			require.Equal(t, int64(i+1), item.ID)
			require.Equal(t, id, item.OriginatorID)
			require.Equal(t, int64(i+1), item.OriginatorVersion)
			require.Equal(t, topics[i], item.Topic)
		}
		require.Contains(t, string(section.Items[0].State), "Earth")
		require.Contains(t, string(section.Items[1].State), "dinosaurs")
		require.Contains(t, string(section.Items[2].State), "trucks")
		require.Contains(t, string(section.Items[3].State), "internet")

		first, err := w.Mapper().ToDomainEvent(section.Items[0].StoredEvent)
		require.NoError(t, err)
		require.Equal(t, worlds.WorldCreated{Name: "Earth"}, first.Data)
		require.Equal(t, id, first.OriginatorID)
		require.Equal(t, int64(1), first.OriginatorVersion)

		last, err := w.Mapper().ToDomainEvent(section.Items[3].StoredEvent)
		require.NoError(t, err)
		require.Equal(t, worlds.SomethingHappened{What: "internet"}, last.Data)
		require.Equal(t, id, last.OriginatorID)
		require.Equal(t, int64(4), last.OriginatorVersion)

		// Sections link: a full section names the next one.
		part, err := w.Log().Section(ctx, "1,2")
		require.NoError(t, err)
		require.Equal(t, "1,2", part.ID)
		require.Equal(t, "3,4", part.NextID)
		rest, err := w.Log().Section(ctx, part.NextID)
		require.NoError(t, err)
		require.Equal(t, "3,4", rest.ID)
		require.Equal(t, "5,6", rest.NextID)
		empty, err := w.Log().Section(ctx, rest.NextID)
		require.NoError(t, err)
		require.Empty(t, empty.Items)
		require.Empty(t, empty.ID)
	})
}

// A8 and A9: with snapshotting on, worlds are rebuilt from snapshots and
// the events after them, with the same results.
func TestWorldsSnapshots(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		opts.SnapshottingEnabled = true
		w := newWorlds(t, opts)
		require.True(t, w.SnapshottingEnabled())
		id := worldWithHistory(t, w)
		require.NoError(t, w.Repository().TakeSnapshot(ctx, id, 0))
		require.NoError(t, w.Repository().TakeSnapshot(ctx, id, 0), "a snapshot that exists is not an error")
		require.NoError(t, w.Repository().TakeSnapshot(ctx, id, 2))

		require.NoError(t, w.MakeItSo(ctx, id, "moon landing"))
		history, err := w.GetHistory(ctx, id)
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet", "moon landing"}, history)
		for version, want := range map[int64][]string{
			1: {},
			2: {"dinosaurs"},
			3: {"dinosaurs", "trucks"},
			4: {"dinosaurs", "trucks", "internet"},
			5: {"dinosaurs", "trucks", "internet", "moon landing"},
		} {
			world, err := w.Repository().GetAt(ctx, id, version)
			require.NoError(t, err)
			require.Equal(t, version, world.Version())
			require.Equal(t, want, append([]string{}, world.History...), "version %d", version)
			require.Equal(t, "Earth", world.Name)
		}

		// Snapshots are not notifications: the log still has five items.
		section, err := w.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		require.Equal(t, "1,5", section.ID)
	})
}

func TestWorldsAutomaticSnapshots(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		opts.SnapshottingIntervals = map[string]int64{worlds.TopicWorld: 2}
		w := newWorlds(t, opts)
		require.True(t, w.SnapshottingEnabled())
		id := worldWithHistory(t, w)
		history, err := w.GetHistory(ctx, id)
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, history)
		snapshots, err := w.Snapshots().SelectEvents(ctx, id, persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, snapshots, 2, "the Python library's example: snapshots at versions 2 and 4")
		require.Equal(t, int64(2), snapshots[0].OriginatorVersion)
		require.Equal(t, int64(4), snapshots[1].OriginatorVersion)
		world, err := w.Repository().GetAt(ctx, id, 3)
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs", "trucks"}, world.History)
	})
}

func TestWorldsSnapshottingOffByDefault(t *testing.T) {
	t.Parallel()
	w := newWorlds(t, app.Options{Lookup: noEnv})
	require.False(t, w.SnapshottingEnabled())
	id, err := w.CreateWorld(t.Context(), "Earth")
	require.NoError(t, err)
	require.ErrorIs(t, w.Repository().TakeSnapshot(t.Context(), id, 0), app.ErrSnapshottingDisabled)
}
