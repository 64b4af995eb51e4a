package system_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// Lag says where a follower is, how far its leader's head is, how old the
// oldest notification left is, and how fast it processes.
func TestLag(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		var stop atomic.Bool
		stop.Store(true)
		policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			if pe.Tracking.NotificationID == 11 && stop.Load() {
				return errors.New("stopped here")
			}
			return counters.Policy(ctx, p, e, pe)
		}
		leader, process := pagingPair(t, env, 10, policy, system.Paging{Size: 4})
		lag, err := process.Lag(ctx, counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, system.Lag{Upstream: counters.WorldsName, Head: 20, Behind: 20, Oldest: lag.Oldest, Age: lag.Age}, lag)
		first, err := leader.Log().ReadNotifications(ctx, 1, 1)
		require.NoError(t, err)
		event, err := leader.Mapper().ToDomainEvent(first[0].StoredEvent)
		require.NoError(t, err)
		require.True(t, event.Timestamp.Equal(lag.Oldest), "the oldest is the first notification's event")
		require.Positive(t, lag.Age)

		n, err := process.PullAndProcess(ctx, counters.WorldsName)
		require.Error(t, err)
		require.Equal(t, 10, n)
		lag, err = process.Lag(ctx, counters.WorldsName)
		require.NoError(t, err)
		require.EqualValues(t, 10, lag.Tracked)
		require.EqualValues(t, 20, lag.Head)
		require.EqualValues(t, 10, lag.Behind)
		require.EqualValues(t, 10, lag.Processed)
		require.Positive(t, lag.Rate)
		eleventh, err := leader.Log().ReadNotifications(ctx, 11, 1)
		require.NoError(t, err)
		event, err = leader.Mapper().ToDomainEvent(eleventh[0].StoredEvent)
		require.NoError(t, err)
		require.True(t, event.Timestamp.Equal(lag.Oldest), "the oldest left is notification 11")

		stop.Store(false)
		_, err = process.PullAndProcess(ctx, counters.WorldsName)
		require.NoError(t, err)
		lag, err = process.Lag(ctx, counters.WorldsName)
		require.NoError(t, err)
		require.Zero(t, lag.Behind)
		require.True(t, lag.Oldest.IsZero())
		require.Zero(t, lag.Age)
		require.EqualValues(t, 20, lag.Processed)

		_, err = process.Lag(ctx, "Nobody")
		require.Error(t, err)
	}, "WORLDS", "COUNTERS")
}

// The runners log a follower's progress through the logger they are given.
func TestRunnerLogsProgress(t *testing.T) {
	t.Parallel()
	var logs proctest.Output
	runner := system.NewConcurrentRunner(counters.System(), system.RunnerOptions{Lookup: noEnv,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), ProgressInterval: time.Nanosecond})
	require.NoError(t, runner.Start(t.Context()))
	defer func() { require.NoError(t, runner.Stop()) }()
	_, err := counters.MakeWorlds(t.Context(), runner.App(counters.WorldsName), 3)
	require.NoError(t, err)
	require.NoError(t, runner.WaitCaughtUp(t.Context()))
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "msg=progress") }, 10*time.Second, 5*time.Millisecond)
	line := logs.String()
	for _, field := range []string{"application=Counters", "upstream=Worlds", "processed=", "rate=", "tracked=", "head=", "behind=", "age="} {
		require.Contains(t, line, field)
	}
}
