package system_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// readerOnly is a NotificationReader that is not an application: a
// follower given it can read the leader only through it, as it would read
// a log across the network.
type readerOnly struct {
	log   app.NotificationReader
	reads atomic.Int64
}

func (r *readerOnly) ReadNotifications(ctx context.Context, start int64, limit int, topics ...string) ([]persistence.Notification, error) {
	r.reads.Add(1)
	return r.log.ReadNotifications(ctx, start, limit, topics...)
}

func (r *readerOnly) MaxNotificationID(ctx context.Context) (int64, error) {
	return r.log.MaxNotificationID(ctx)
}

// A follower reads its leader through the NotificationReader it was given,
// and processes what it reads exactly once.
func TestFollowLogReadsThroughTheReader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	newApp := func(name string, opts app.Options) *app.Application {
		opts.Name, opts.Lookup = name, func(string) (string, bool) { return "", false }
		a, err := app.New(ctx, opts)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		return a
	}
	leader := newApp(counters.WorldsName, app.Options{Registry: worlds.NewRegistry()})
	process := system.NewProcessApplication(newApp(counters.CountersName, app.Options{Registry: counters.NewRegistry()}), counters.Policy)
	reader := &readerOnly{log: leader.Log()}
	process.FollowLog(leader.Name(), reader, leader.Mapper())

	_, err := counters.MakeWorlds(ctx, leader, 3)
	require.NoError(t, err)
	n, err := process.PullAndProcess(ctx, leader.Name())
	require.NoError(t, err)
	require.Equal(t, 9, n, "3 created events and 6 things happened")
	require.Positive(t, reader.reads.Load(), "read through the reader")
	for thing, want := range map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1} {
		got, err := counters.GetCount(ctx, process.Application, thing)
		require.NoError(t, err)
		require.Equal(t, want, got, thing)
	}
	n, err = process.PullAndProcess(ctx, leader.Name())
	require.NoError(t, err)
	require.Zero(t, n, "nothing twice")
}
