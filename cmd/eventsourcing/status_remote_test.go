package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// For a follower of a leader whose log it reads over HTTP
// (<UPSTREAM>_NOTIFICATION_LOG_URL, as RunProcess does), status reads the
// head and the age of the oldest notification left from the log server,
// with the token <UPSTREAM>_NOTIFICATION_LOG_TOKEN; on PostgreSQL and on
// SQLite.
func TestStatusOfAFollowerOfARemoteLeader(t *testing.T) {
	ctx := t.Context()
	// The leader is in memory: status can reach it only through its log server.
	leader, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(),
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"}, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(leader.Close)
	_, err = counters.MakeWorlds(ctx, leader, 3) // 9 notifications
	require.NoError(t, err)
	const token = "a token of the test"
	handler, err := httplog.NewHandler(leader.Log(), httplog.HandlerOptions{Tokens: []string{token}})
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	sixth, err := leader.Log().ReadNotifications(ctx, 6, 1)
	require.NoError(t, err)
	at, err := leader.Mapper().Timestamp(sixth[0].StoredEvent)
	require.NoError(t, err)
	now := func() time.Time { return at.Add(1500 * time.Millisecond) }

	countersSchema := pgtest.NewSchemaName(t)
	countersFile := filepath.Join(t.TempDir(), "counters.db")
	for _, store := range []struct {
		name, key string // the follower's store, and the first field of its line
		env       map[string]string
		args      []string
	}{
		{"postgres", countersSchema, map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "COUNTERS_POSTGRES_SCHEMA": countersSchema}, nil},
		{"sqlite", countersFile, map[string]string{"COUNTERS_SQLITE_DBNAME": countersFile}, []string{countersFile}},
	} {
		t.Run(store.name, func(t *testing.T) {
			follower := followUpTo(t, leader, store.env, 6)
			line := func(vars map[string]string) (string, int, string) {
				t.Helper()
				var out, errOut bytes.Buffer
				code := run(ctx, append([]string{"status"}, store.args...), config.Environment{Values: vars, Lookup: noEnv}, now, &out, &errOut)
				for l := range strings.SplitSeq(out.String(), "\n") {
					if fields := strings.Fields(l); len(fields) > 1 && fields[0] == store.key && fields[1] == counters.WorldsName {
						return strings.Join(fields, " "), code, errOut.String()
					}
				}
				return "", code, errOut.String()
			}
			remote := map[string]string{"WORLDS_NOTIFICATION_LOG_URL": srv.URL, "WORLDS_NOTIFICATION_LOG_TOKEN": token}
			for k, v := range store.env {
				remote[k] = v
			}

			got, code, stderr := line(remote)
			require.Equal(t, 0, code, stderr)
			require.Equal(t, store.key+" Worlds "+srv.URL+" 5 9 4 1.5s", got, "tracked 5 of 9, the 6th 1.5 s old")

			got, code, stderr = line(store.env)
			require.Equal(t, 0, code, stderr)
			require.Equal(t, store.key+" Worlds - 5 - - -", got, "without the URL, the head is unknown")

			remote["WORLDS_NOTIFICATION_LOG_TOKEN"] = "wrong"
			_, code, stderr = line(remote)
			require.Equal(t, 1, code)
			require.Contains(t, stderr, "401")
			remote["WORLDS_NOTIFICATION_LOG_TOKEN"] = token

			follower = system.NewProcessApplication(follower.Application, counters.Policy)
			follower.Follow(leader)
			_, err = follower.PullAndProcess(ctx, counters.WorldsName)
			require.NoError(t, err)
			got, code, stderr = line(remote)
			require.Equal(t, 0, code, stderr)
			require.Equal(t, store.key+" Worlds "+srv.URL+" 9 9 0 0s", got, "caught up")
		})
	}
}

// followUpTo makes a Counters follower of leader, in the store env
// configures, and processes leader's notifications up to stopAt,
// excluded.
func followUpTo(t *testing.T, leader *app.Application, env map[string]string, stopAt int64) *system.ProcessApplication {
	t.Helper()
	a, err := app.New(t.Context(), app.Options{Name: counters.CountersName, Registry: counters.NewRegistry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		if pe.Tracking.NotificationID == stopAt {
			return errors.New("stopped")
		}
		return counters.Policy(ctx, p, e, pe)
	}
	follower := system.NewProcessApplication(a, policy)
	follower.Follow(leader)
	n, err := follower.PullAndProcess(t.Context(), counters.WorldsName)
	require.Error(t, err)
	require.EqualValues(t, stopAt-1, n)
	return follower
}
