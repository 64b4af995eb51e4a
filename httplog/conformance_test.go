package httplog_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// collect gathers what an iterator of Reader yields, failing on an error.
func collect(t *testing.T, seq func(func(persistence.Notification, error) bool)) []persistence.Notification {
	t.Helper()
	var ns []persistence.Notification
	for n, err := range seq {
		require.NoError(t, err)
		ns = append(ns, n)
	}
	return ns
}

func ofTopic(ns []persistence.Notification, topic string) []persistence.Notification {
	return slices.DeleteFunc(slices.Clone(ns), func(n persistence.Notification) bool { return n.Topic != topic })
}

// The same cases hold for the local log and for the remote one read
// through a Client: an empty log, then a log with a gap in its ids on
// Postgres (a failed save), its sections and their next ids, the end of
// the log, its head, topic filters, and Reader's Read and Select.
func TestConformance(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		a := newApp(t, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, SectionSize: 5})
		srv := serve(t, a.Log(), httplog.HandlerOptions{}, nil)
		logs := []struct {
			name string
			log  httplog.Log
		}{{"local", a.Log()}, {"remote", newClient(t, srv.URL, httplog.ClientOptions{})}}

		for _, l := range logs {
			head, err := l.log.MaxNotificationID(ctx)
			require.NoError(t, err, l.name)
			require.Zero(t, head, l.name)
			s, err := l.log.Section(ctx, "1,5")
			require.NoError(t, err, l.name)
			require.Equal(t, app.Section{}, s, l.name)
			ns, err := l.log.ReadNotifications(ctx, 1, 10)
			require.NoError(t, err, l.name)
			require.Empty(t, ns, l.name)
			require.Empty(t, collect(t, httplog.NewReader(l.log, httplog.ReaderOptions{}).Read(ctx, 1)), l.name)
			require.Empty(t, collect(t, httplog.NewReader(l.log, httplog.ReaderOptions{}).Select(ctx, 1)), l.name)
		}

		ids, err := counters.MakeWorlds(ctx, a, 3) // 9 notifications
		require.NoError(t, err)
		dup, err := domain.Create[worlds.World](ids[0], worlds.WorldCreated{Name: "dup"})
		require.NoError(t, err)
		lost, err := worlds.NewWorld("lost")
		require.NoError(t, err)
		_, err = a.Save(ctx, lost, dup)
		require.ErrorIs(t, err, persistence.ErrIntegrity)
		_, err = counters.MakeWorlds(ctx, a, 2) // 7 more
		require.NoError(t, err)

		all, err := a.Recorder().SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100})
		require.NoError(t, err)
		require.Len(t, all, 16)
		last := all[len(all)-1].ID
		if env["PERSISTENCE_MODULE"] == "postgres" {
			require.Greater(t, last, int64(len(all)), "the failed save left a gap in the ids")
		}
		happened := ofTopic(all, worlds.TopicSomethingHappened)
		require.Len(t, happened, 11)

		for _, l := range logs {
			t.Run(l.name, func(t *testing.T) {
				head, err := l.log.MaxNotificationID(ctx)
				require.NoError(t, err)
				require.Equal(t, last, head)

				// Sections, linked by their next ids, gaps included.
				id, n := "1,5", 0
				for id != "" {
					s, err := l.log.Section(ctx, id)
					require.NoError(t, err, id)
					local, err := a.Log().Section(ctx, id)
					require.NoError(t, err, id)
					require.Equal(t, local, s, id)
					want := all[n:min(n+5, len(all))]
					require.Equal(t, want, s.Items, id)
					require.Equal(t, fmt.Sprintf("%d,%d", want[0].ID, want[len(want)-1].ID), s.ID)
					if len(want) == 5 {
						require.Equal(t, fmt.Sprintf("%d,%d", want[4].ID+1, want[4].ID+5), s.NextID, id)
					} else {
						require.Empty(t, s.NextID, "the open end of the log")
					}
					n += len(s.Items)
					id = s.NextID
				}
				require.Equal(t, len(all), n)
				s, err := l.log.Section(ctx, "0,3")
				require.NoError(t, err)
				require.Equal(t, all[:3], s.Items, "0 reads from the first")
				s, err = l.log.Section(ctx, fmt.Sprintf("%d,%d", last+1, last+5))
				require.NoError(t, err)
				require.Equal(t, app.Section{}, s, "past the end")
				s, err = l.log.Section(ctx, "5,4")
				require.NoError(t, err)
				require.Equal(t, app.Section{}, s, "last before first")
				for _, bad := range []string{"x", "1", "1,", ",2", "a,b", ""} {
					_, err := l.log.Section(ctx, bad)
					require.ErrorIs(t, err, app.ErrSectionID, bad)
				}

				// ReadNotifications: limits, the end, topics.
				ns, err := l.log.ReadNotifications(ctx, 1, app.MaxReadLimit)
				require.NoError(t, err)
				require.Equal(t, all, ns)
				ns, err = l.log.ReadNotifications(ctx, all[3].ID, 4)
				require.NoError(t, err)
				require.Equal(t, all[3:7], ns)
				ns, err = l.log.ReadNotifications(ctx, last+1, 10)
				require.NoError(t, err)
				require.Empty(t, ns, "the end of the log")
				ns, err = l.log.ReadNotifications(ctx, 1, 5, worlds.TopicSomethingHappened)
				require.NoError(t, err)
				require.Equal(t, happened[:5], ns, "the limit counts the topic's notifications")
				ns, err = l.log.ReadNotifications(ctx, 1, 100, worlds.TopicWorldCreated, "no:such")
				require.NoError(t, err)
				require.Equal(t, ofTopic(all, worlds.TopicWorldCreated), ns)
				for _, limit := range []int{0, -1, app.MaxReadLimit + 1} {
					_, err = l.log.ReadNotifications(ctx, 1, limit)
					require.Error(t, err, limit)
				}

				// Reader: along the sections and by pages, from any start.
				for _, size := range []int{1, 3, 5, 10} {
					r := httplog.NewReader(l.log, httplog.ReaderOptions{PageSize: size})
					require.Equal(t, all, collect(t, r.Read(ctx, 1)), size)
					require.Equal(t, all, collect(t, r.Select(ctx, 0)), size)
					require.Equal(t, all[10:], collect(t, r.Read(ctx, all[10].ID)), size)
					require.Equal(t, all[10:], collect(t, r.Select(ctx, all[10].ID)), size)
					require.Empty(t, collect(t, r.Read(ctx, last+1)), size)
					topics := httplog.NewReader(l.log, httplog.ReaderOptions{PageSize: size, Topics: []string{worlds.TopicSomethingHappened}})
					require.Equal(t, happened, collect(t, topics.Read(ctx, 1)), size)
					require.Equal(t, happened, collect(t, topics.Select(ctx, 1)), size)
				}
				// Stopping early stops reading.
				r := httplog.NewReader(l.log, httplog.ReaderOptions{PageSize: 2})
				var got []persistence.Notification
				for n, err := range r.Read(ctx, 1) {
					require.NoError(t, err)
					if got = append(got, n); len(got) == 3 {
						break
					}
				}
				require.Equal(t, all[:3], got)
			})
		}
	})
}
