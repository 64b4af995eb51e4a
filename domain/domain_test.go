package domain_test

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

type World struct {
	domain.Base
	Name    string
	History []string
}

type WorldCreated struct{ Name string }
type SomethingHappened struct{ What string }
type Exploded struct{}

var errNoEmptyHappenings = errors.New("nothing cannot happen")

func NewWorld(name string) (*World, error) {
	return domain.Create[World](uuid.New(), WorldCreated{Name: name})
}

func (w *World) MakeItSo(what string) error {
	return domain.Trigger(w, SomethingHappened{What: what})
}

func (w *World) Apply(event any) error {
	switch e := event.(type) {
	case WorldCreated:
		w.Name = e.Name
	case SomethingHappened:
		w.History = append(w.History, e.What)
		w.Name = "changed by " + e.What // changed before failing, to test restore
		if e.What == "" {
			return errNoEmptyHappenings
		}
		w.Name = "world"
	case domain.Discarded:
	default:
		return errors.New("unknown event")
	}
	return nil
}

func TestNewAggregateHasIDVersionOneAndEqualTimestamps(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	w, err := domain.Create[World](id, WorldCreated{Name: "earth"})
	require.NoError(t, err)
	require.Equal(t, id, w.ID())
	require.Equal(t, int64(1), w.Version())
	require.False(t, w.CreatedOn().IsZero())
	require.Equal(t, w.CreatedOn(), w.ModifiedOn())
	require.Equal(t, time.UTC, w.CreatedOn().Location())
	require.Equal(t, "earth", w.Name)
	pending := w.PendingEvents()
	require.Len(t, pending, 1)
	require.Equal(t, domain.Event{OriginatorID: id, OriginatorVersion: 1, Timestamp: w.CreatedOn(), Data: WorldCreated{Name: "earth"},
		OriginatorType: reflect.TypeFor[World]()}, pending[0], "the created event names the aggregate's type")
}

func TestTriggerIncrementsVersionAndCollectClears(t *testing.T) {
	t.Parallel()
	w, err := NewWorld("earth")
	require.NoError(t, err)
	for _, what := range []string{"dinosaurs", "trucks", "internet"} {
		require.NoError(t, w.MakeItSo(what))
	}
	require.Equal(t, int64(4), w.Version())
	require.True(t, w.ModifiedOn().After(w.CreatedOn()) || w.ModifiedOn().Equal(w.CreatedOn()))
	require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, w.History)

	events := w.CollectEvents()
	require.Len(t, events, 4)
	require.Empty(t, w.PendingEvents())
	for i, e := range events {
		require.Equal(t, int64(i+1), e.OriginatorVersion)
		require.Equal(t, w.ID(), e.OriginatorID)
	}
	require.Equal(t, w.CreatedOn(), events[0].Timestamp)
	require.Equal(t, w.ModifiedOn(), events[3].Timestamp)
	require.Equal(t, SomethingHappened{What: "internet"}, events[3].Data)

	// Replaying the collected events reproduces the aggregate.
	copy, err := domain.Replay[World](events)
	require.NoError(t, err)
	require.Equal(t, w.ID(), copy.ID())
	require.Equal(t, w.Version(), copy.Version())
	require.Equal(t, w.CreatedOn(), copy.CreatedOn())
	require.Equal(t, w.ModifiedOn(), copy.ModifiedOn())
	require.Equal(t, w.History, copy.History)
	require.Empty(t, copy.PendingEvents())
}

func TestApplyErrorLeavesAggregateUnchanged(t *testing.T) {
	t.Parallel()
	w, err := NewWorld("earth")
	require.NoError(t, err)
	require.NoError(t, w.MakeItSo("dinosaurs"))
	before := *w
	beforeModified := w.ModifiedOn()

	err = w.MakeItSo("")
	require.ErrorIs(t, err, errNoEmptyHappenings)
	var applyErr *domain.ApplyError
	require.ErrorAs(t, err, &applyErr)
	require.Equal(t, int64(3), applyErr.Event.OriginatorVersion)

	require.Equal(t, int64(2), w.Version())
	require.Equal(t, beforeModified, w.ModifiedOn())
	require.Equal(t, before.Name, w.Name, "state changed by the failed Apply is restored")
	require.Equal(t, []string{"dinosaurs"}, w.History)
	require.Len(t, w.PendingEvents(), 2, "the failed event is not pending")
	require.NoError(t, w.MakeItSo("trucks"))
	require.Equal(t, int64(3), w.Version())
}

func TestReplayRejectsOutOfSequenceVersion(t *testing.T) {
	t.Parallel()
	w, err := NewWorld("earth")
	require.NoError(t, err)
	require.NoError(t, w.MakeItSo("a"))
	require.NoError(t, w.MakeItSo("b"))
	events := w.CollectEvents()

	_, err = domain.Replay[World]([]domain.Event{events[0], events[2]})
	var versionErr *domain.VersionError
	require.ErrorAs(t, err, &versionErr)
	require.Equal(t, int64(3), versionErr.EventVersion)
	require.Equal(t, int64(2), versionErr.ExpectedVersion)

	_, err = domain.Replay[World](events[1:])
	require.ErrorAs(t, err, &versionErr, "replay must start at the created event")
	_, err = domain.Replay[World](nil)
	require.Error(t, err)
}

type Counter struct {
	domain.Base
	N int
}

func (Counter) InitialVersion() int64 { return 0 }
func (c *Counter) Apply(event any) error {
	if _, ok := event.(SomethingHappened); ok {
		c.N++
	}
	return nil
}

func TestInitialVersionConfigurable(t *testing.T) {
	t.Parallel()
	c, err := domain.Create[Counter](uuid.New(), WorldCreated{})
	require.NoError(t, err)
	require.Equal(t, int64(0), c.Version())
	require.NoError(t, domain.Trigger(c, SomethingHappened{}))
	require.Equal(t, int64(1), c.Version())
	events := c.CollectEvents()
	require.Equal(t, int64(0), events[0].OriginatorVersion)
	again, err := domain.Replay[Counter](events)
	require.NoError(t, err)
	require.Equal(t, 1, again.N)
	require.Equal(t, c.CreatedOn(), again.CreatedOn())
}

func TestDiscardedAggregateRefusesCommands(t *testing.T) {
	t.Parallel()
	w, err := NewWorld("earth")
	require.NoError(t, err)
	require.NoError(t, domain.Trigger(w, domain.Discarded{}))
	require.True(t, w.IsDiscarded())
	require.ErrorIs(t, w.MakeItSo("more"), domain.ErrDiscarded)
	require.Equal(t, int64(2), w.Version())

	again, err := domain.Replay[World](w.CollectEvents())
	require.NoError(t, err)
	require.True(t, again.IsDiscarded())
}

func TestSnapshotRebuildsAggregate(t *testing.T) {
	t.Parallel()
	w, err := NewWorld("earth")
	require.NoError(t, err)
	require.NoError(t, w.MakeItSo("dinosaurs"))
	events := w.CollectEvents()
	s := domain.TakeSnapshot(w)
	require.Equal(t, w.ID(), s.OriginatorID)
	require.Equal(t, int64(2), s.OriginatorVersion)
	require.Equal(t, w.CreatedOn(), s.CreatedOn)
	require.Equal(t, w.ModifiedOn(), s.ModifiedOn)

	// A snapshot as decoded from storage: a fresh aggregate holding the state.
	decoded := s
	decoded.Aggregate = &World{Name: w.Name, History: append([]string(nil), w.History...)}
	restored, err := domain.FromSnapshot[World](decoded)
	require.NoError(t, err)
	require.Equal(t, w.ID(), restored.ID())
	require.Equal(t, w.Version(), restored.Version())
	require.Equal(t, w.CreatedOn(), restored.CreatedOn())
	require.Equal(t, w.ModifiedOn(), restored.ModifiedOn())
	require.Equal(t, w.History, restored.History)

	// Later events apply on top of the snapshot.
	require.NoError(t, w.MakeItSo("trucks"))
	require.NoError(t, domain.ReplayOnto(restored, w.CollectEvents()))
	require.Equal(t, []string{"dinosaurs", "trucks"}, restored.History)
	require.Equal(t, int64(3), restored.Version())
	_ = events

	_, err = domain.FromSnapshot[Counter](decoded)
	require.Error(t, err, "a snapshot of a World is not a Counter")
}

func TestNameIDIsStableV5UUID(t *testing.T) {
	t.Parallel()
	// Python: uuid5(NAMESPACE_URL, "/pages/Erth")
	require.Equal(t, "c51b7c66-7c30-50d0-81ce-f32424f1de02", domain.NameID("/pages/Erth").String())
	require.Equal(t, domain.NameID("/pages/Earth"), domain.NameID("/pages/Earth"))
	require.NotEqual(t, domain.NameID("/pages/Earth"), domain.NameID("/pages/Erth"))
	require.Equal(t, uuid.Version(5), domain.NameID("x").Version())
}

// Last is an aggregate whose first event is at the highest version.
type Last struct{ Counter }

func (Last) InitialVersion() int64 { return math.MaxInt64 }

// BeforeFirst is an aggregate whose first event is at the lowest version,
// which has no version before it.
type BeforeFirst struct{ Counter }

func (BeforeFirst) InitialVersion() int64 { return math.MinInt64 }

func TestVersionOverflowIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	atMax := func(t *testing.T) *World {
		w, err := NewWorld("earth")
		require.NoError(t, err)
		require.NoError(t, w.MakeItSo("dinosaurs"))
		s := domain.TakeSnapshot(w)
		s.OriginatorVersion = math.MaxInt64
		s.Aggregate = &World{Name: w.Name, History: append([]string(nil), w.History...)}
		restored, err := domain.FromSnapshot[World](s)
		require.NoError(t, err)
		return restored
	}

	t.Run("trigger at max version", func(t *testing.T) {
		t.Parallel()
		w := atMax(t)
		before := *w
		err := w.MakeItSo("trucks")
		require.ErrorIs(t, err, domain.ErrVersionOverflow)
		require.Equal(t, before, *w, "the aggregate is unchanged")
		require.Equal(t, int64(math.MaxInt64), w.Version())
		require.Empty(t, w.PendingEvents())
	})

	t.Run("create at max version, then trigger", func(t *testing.T) {
		t.Parallel()
		l, err := domain.Create[Last](uuid.New(), WorldCreated{})
		require.NoError(t, err, "the highest version is a valid initial version")
		require.Equal(t, int64(math.MaxInt64), l.Version())
		before := *l
		require.ErrorIs(t, domain.Trigger(l, SomethingHappened{}), domain.ErrVersionOverflow)
		require.Equal(t, before, *l, "the aggregate is unchanged")
		require.Len(t, l.PendingEvents(), 1)

		again, err := domain.Replay[Last](l.CollectEvents())
		require.NoError(t, err)
		require.Equal(t, int64(math.MaxInt64), again.Version())
	})

	t.Run("replay onto max version", func(t *testing.T) {
		t.Parallel()
		w := atMax(t)
		before := *w
		wrapped := domain.Event{OriginatorID: w.ID(), OriginatorVersion: math.MinInt64, Timestamp: domain.Now(), Data: SomethingHappened{What: "trucks"}}
		require.ErrorIs(t, domain.ReplayOnto(w, []domain.Event{wrapped}), domain.ErrVersionOverflow)
		require.Equal(t, before, *w, "the aggregate is unchanged")
	})

	t.Run("initial version without a version before it", func(t *testing.T) {
		t.Parallel()
		_, err := domain.Create[BeforeFirst](uuid.New(), WorldCreated{})
		require.ErrorIs(t, err, domain.ErrVersionOverflow)
		created := domain.Event{OriginatorID: uuid.New(), OriginatorVersion: math.MinInt64, Timestamp: domain.Now(), Data: WorldCreated{}}
		_, err = domain.Replay[BeforeFirst]([]domain.Event{created})
		require.ErrorIs(t, err, domain.ErrVersionOverflow)
	})
}
