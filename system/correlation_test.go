package system_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// allNotifications reads every notification of a.
func allNotifications(t *testing.T, a *app.Application) []persistence.Notification {
	t.Helper()
	ns, err := a.Recorder().SelectNotifications(t.Context(), persistence.NotificationQuery{Start: 1, Limit: 1 << 20})
	require.NoError(t, err)
	return ns
}

// What a process application records carries the upstream event's ID as
// causation ID and its correlation ID, in pages of many notifications; a
// command's correlation ID reaches every event it caused, and the policy's
// context carries it.
func TestPolicyEventsAreCausedByTheUpstreamEvent(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		story := uuid.New()
		var mu sync.Mutex
		seen := map[uuid.UUID]uuid.UUID{} // upstream event ID: the policy's ctx correlation
		policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			mu.Lock()
			seen[e.ID] = app.CorrelationID(ctx)
			mu.Unlock()
			return counters.Policy(ctx, p, e, pe)
		}
		leader, process := pagingPair(t, env, 4, policy, system.Paging{Size: 100})
		id, err := counters.CreateWorld(app.WithCorrelationID(ctx, story), leader, "told")
		require.NoError(t, err)
		require.NoError(t, counters.MakeItSo(app.WithCorrelationID(ctx, story), leader, id, "dinosaurs"))
		_, err = process.PullAndProcess(ctx, counters.WorldsName)
		require.NoError(t, err)

		upstream := map[uuid.UUID]persistence.Notification{}
		for _, n := range allNotifications(t, leader) {
			require.NotEqual(t, uuid.Nil, n.EventID, "every event has an ID")
			require.NotEqual(t, uuid.Nil, n.CorrelationID, "every command starts a correlation")
			require.Equal(t, uuid.Nil, n.CausationID, "commands have no cause")
			upstream[n.EventID] = n
			require.Equal(t, n.CorrelationID, seen[n.EventID], "the policy's context carries the correlation")
		}
		require.Len(t, upstream, 10)
		caused := 0
		for _, n := range allNotifications(t, process.Application) {
			cause, ok := upstream[n.CausationID]
			require.Truef(t, ok, "notification %d is caused by an upstream event", n.ID)
			require.Equal(t, cause.CorrelationID, n.CorrelationID)
			if cause.CorrelationID == story {
				caused++
			}
		}
		require.Positive(t, caused)

		told, err := process.Log().ReadCorrelated(ctx, story, 1, 100)
		require.NoError(t, err)
		require.Len(t, told, caused, "the story, read from the follower's log")
		for _, n := range told {
			require.Equal(t, story, n.CorrelationID)
		}
	}, "WORLDS", "COUNTERS")
}
