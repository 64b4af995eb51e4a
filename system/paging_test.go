package system_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// pagingPair returns, on the store of env, the Worlds application with n
// worlds of the Python library's pattern (2n events: each world's created
// event and one thing), and a Counters process application with policy,
// following it with paging.
func pagingPair(t *testing.T, env map[string]string, n int, policy system.Policy, paging system.Paging) (*app.Application, *system.ProcessApplication) {
	t.Helper()
	ctx := t.Context()
	newApp := func(name string, opts app.Options) *app.Application {
		opts.Name, opts.Env, opts.Lookup = name, env, noEnv
		a, err := app.New(ctx, opts)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		return a
	}
	leader := newApp(counters.WorldsName, app.Options{Registry: worlds.NewRegistry()})
	for i := range n {
		id, err := counters.CreateWorld(ctx, leader, "world")
		require.NoError(t, err)
		require.NoError(t, counters.MakeItSo(ctx, leader, id, counters.Things[i%len(counters.Things)]))
	}
	process := system.NewProcessApplication(newApp(counters.CountersName, app.Options{Registry: counters.NewRegistry()}), policy)
	process.SetPaging(paging)
	process.Follow(leader)
	return leader, process
}

// transactions returns how many transactions recorded the tracking
// records of the Postgres application a.
func transactions(t *testing.T, a *app.Application) int {
	t.Helper()
	var n int
	require.NoError(t, a.Pool().QueryRow(t.Context(), "SELECT count(DISTINCT xmin::text) FROM tracking").Scan(&n))
	return n
}

// counting wraps policy and counts its runs.
func counting(policy system.Policy, runs *atomic.Int64) system.Policy {
	return func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		runs.Add(1)
		return policy(ctx, p, e, pe)
	}
}

// requireThingCounts checks the counts of n worlds of pagingPair.
func requireThingCounts(t *testing.T, process *system.ProcessApplication, n int) {
	t.Helper()
	for i, thing := range counters.Things {
		want := n / len(counters.Things)
		if i < n%len(counters.Things) {
			want++
		}
		got, err := counters.GetCount(t.Context(), process.Application, thing)
		require.NoError(t, err)
		require.Equal(t, want, got, thing)
	}
}

// A page of notifications is recorded in one transaction, and a policy
// that reads a counter changed earlier in the page sees the change: the
// policy runs once per notification, and the counts are exact.
func TestPagesRecordManyNotificationsInOneTransaction(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		var runs atomic.Int64
		_, process := pagingPair(t, env, 150, counting(counters.Policy, &runs), system.Paging{Size: 100})
		n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, 300, n)
		require.EqualValues(t, 300, runs.Load(), "each policy ran once")
		requireThingCounts(t, process, 150)
		tracked, err := process.Recorder().MaxTrackingID(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.EqualValues(t, 300, tracked)
		if process.Module() == app.Postgres {
			require.Equal(t, 3, transactions(t, process.Application), "pages of 100")
		}
		n, err = process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.Zero(t, n, "nothing twice")
	}, "WORLDS", "COUNTERS")
}

// With a page size of 1, or a page time already over after one
// notification, every notification has its own transaction, as before
// pages.
func TestPageSizeOneAndPageTime(t *testing.T) {
	t.Parallel()
	for name, paging := range map[string]system.Paging{
		"size 1":        {Size: 1},
		"time over":     {Size: 1000, Time: 1},
		"size 1, time ": {Size: 1, Time: 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, process := pagingPair(t, pgtest.PostgresEnv(t, "WORLDS", "COUNTERS"), 10, counters.Policy, paging)
			n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
			require.NoError(t, err)
			require.Equal(t, 20, n)
			require.Equal(t, 20, transactions(t, process.Application))
			requireThingCounts(t, process, 10)
		})
	}
}

// A policy that reads its counters from the store, not from the page,
// would record a version twice: the page ends before the notification
// that would, which runs again at the head of the next page. The counts
// stay exact.
func TestPageEndsBeforeAStaleRead(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		var runs atomic.Int64
		staleReads := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			return counters.Policy(t.Context(), p, e, pe) // a context without the page's unit of work
		}
		_, process := pagingPair(t, env, 30, counting(staleReads, &runs), system.Paging{Size: 100})
		n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, 60, n)
		requireThingCounts(t, process, 30)
		require.Greater(t, runs.Load(), int64(60), "notifications that met a stale read ran again")
	}, "WORLDS", "COUNTERS")
}

// A policy error records the page before the failing notification, and
// is reported with its id; processing resumes there.
func TestPolicyErrorRecordsThePageBeforeIt(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		var fail atomic.Bool
		fail.Store(true)
		failAt := int64(17)
		policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			if pe.Tracking.NotificationID == failAt && fail.Load() {
				return errors.New("injected")
			}
			return counters.Policy(ctx, p, e, pe)
		}
		_, process := pagingPair(t, env, 20, policy, system.Paging{Size: 100})
		n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
		var policyErr *system.PolicyError
		require.ErrorAs(t, err, &policyErr)
		require.Equal(t, failAt, policyErr.Notification)
		require.Equal(t, int(failAt-1), n)
		tracked, err := process.Recorder().MaxTrackingID(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, failAt-1, tracked, "the notifications before the failing one are recorded")

		fail.Store(false)
		n, err = process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, 40-int(failAt-1), n)
		requireThingCounts(t, process, 20)
	}, "WORLDS", "COUNTERS")
}

// An aggregate that a policy changes without saving is not what the page
// records: the next notification reads the recorded state, not the
// unsaved change.
func TestUnsavedChangeIsNotSeenByTheNextNotification(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			if err := counters.Policy(ctx, p, e, pe); err != nil {
				return err
			}
			// Then a change nobody saves, to every counter the page holds.
			for _, thing := range counters.Things {
				c, err := app.NewRepository[counters.Counter](p.Application).Get(ctx, counters.CounterID(thing))
				if errors.Is(err, app.ErrAggregateNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if err := domain.Trigger(c, counters.CounterIncremented{}); err != nil {
					return err
				}
			}
			return nil
		}
		_, process := pagingPair(t, env, 12, policy, system.Paging{Size: 100})
		_, err := process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		requireThingCounts(t, process, 12)
	}, "WORLDS", "COUNTERS")
}

// An aggregate changed again after it was saved, and not saved again, is
// not what the page records either: the change is lost, as it would be
// processing one notification at a time. Every notification changes the
// same counter, so the next one would see the change if it were kept.
func TestChangeAfterSaveIsNotRecorded(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			c, err := app.NewRepository[counters.Counter](p.Application).Get(ctx, counters.CounterID("all"))
			if errors.Is(err, app.ErrAggregateNotFound) {
				c, err = counters.NewCounter("all")
			}
			if err != nil {
				return err
			}
			if err := c.Increment(); err != nil {
				return err
			}
			pe.Save(c)
			return c.Increment() // never saved
		}
		_, process := pagingPair(t, env, 12, policy, system.Paging{Size: 100})
		_, err := process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		got, err := counters.GetCount(t.Context(), process.Application, "all")
		require.NoError(t, err)
		require.Equal(t, 24, got, "one increment per notification")
	}, "WORLDS", "COUNTERS")
}

// A process application that hash-chains its events records, in pages,
// counters changed by many notifications of one page: each counter's
// events chain in order from its head, and every get verifies them.
func TestPagesOfHashChainedEvents(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		env["COUNTERS_HASH_CHAIN"] = "y"
		_, process := pagingPair(t, env, 60, counters.Policy, system.Paging{Size: 25})
		require.True(t, process.HashChain())
		n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, 120, n)
		requireThingCounts(t, process, 60) // gets verify every counter's chain
		notifications, err := process.Recorder().SelectNotifications(t.Context(), persistence.NotificationQuery{Start: 1, Limit: 1000})
		require.NoError(t, err)
		require.NotEmpty(t, notifications)
		for _, n := range notifications {
			require.Len(t, n.Hash, integrity.Size, "notification %d", n.ID)
		}
	}, "WORLDS", "COUNTERS")
}
