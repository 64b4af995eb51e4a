package httplog_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func requireCounts(t *testing.T, c *app.Application, want map[string]int) {
	t.Helper()
	for thing, n := range want {
		got, err := counters.GetCount(t.Context(), c, thing)
		require.NoError(t, err, thing)
		require.Equal(t, n, got, thing)
	}
}

// A process application follows a leader over HTTP, through a Client, and
// processes every notification exactly once; the leader and the follower
// have their own stores (on Postgres, their own schemas), and the follower
// never writes to the leader's.
func TestFollowerFollowsLeaderOverHTTP(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		leader := newApp(t, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env})
		follower := newApp(t, app.Options{Name: counters.CountersName, Registry: counters.NewRegistry(), Env: env})
		require.NotEqual(t, leader.Store(), follower.Store())
		var requests atomic.Int64
		srv := serve(t, leader.Log(), httplog.HandlerOptions{}, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				h.ServeHTTP(w, r)
			})
		})
		p := system.NewProcessApplication(follower, counters.Policy)
		p.SetPaging(system.Paging{Size: 4})
		p.FollowLog(leader.Name(), newClient(t, srv.URL, httplog.ClientOptions{}), leader.Mapper())

		_, err := counters.MakeWorlds(ctx, leader, 3)
		require.NoError(t, err)
		n, err := p.PullAndProcess(ctx, leader.Name())
		require.NoError(t, err)
		require.Equal(t, 9, n, "3 created events and 6 things happened")
		require.Positive(t, requests.Load(), "read over HTTP")
		requireCounts(t, follower, map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1})
		n, err = p.PullAndProcess(ctx, leader.Name())
		require.NoError(t, err)
		require.Zero(t, n, "nothing twice")

		_, err = counters.MakeWorlds(ctx, leader, 3)
		require.NoError(t, err)
		n, err = p.PullAndProcess(ctx, leader.Name())
		require.NoError(t, err)
		require.Equal(t, 9, n)
		requireCounts(t, follower, map[string]int{"dinosaurs": 6, "trucks": 4, "internet": 2})

		head, err := leader.Recorder().MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(18), head, "the follower recorded nothing in the leader's store")
		tracked, err := follower.Recorder().MaxTrackingID(ctx, leader.Name())
		require.NoError(t, err)
		require.Equal(t, head, tracked, "every notification of the leader tracked")
		recorded, err := follower.Recorder().SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 1000})
		require.NoError(t, err)
		require.Len(t, recorded, 3+6+4+2, "three counters created, twelve increments, none twice")
	}, "WORLDS", "COUNTERS")
}

// The handler serves the state as stored: an encrypted leader's states
// stay encrypted on the wire, a follower decodes them with the leader's
// mapper (its key), and a mapper with another key gets
// codec.ErrCipherText.
func TestEncryptedLeaderServesCipherText(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		key, err := codec.CreateAESKey(32)
		require.NoError(t, err)
		wrongKey, err := codec.CreateAESKey(32)
		require.NoError(t, err)
		plain := newApp(t, app.Options{Name: "Plain", Registry: worlds.NewRegistry(), Env: env})
		leader := newApp(t, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, CipherKey: key})
		for _, a := range []*app.Application{plain, leader} {
			_, err := counters.MakeWorlds(ctx, a, 3)
			require.NoError(t, err)
		}

		// The states served, decoded from base64: plaintext JSON from the
		// plain application (so the check below can see a plaintext), the
		// stored cipher text from the encrypted one.
		served := func(a *app.Application) [][]byte {
			srv := serve(t, a.Log(), httplog.HandlerOptions{}, nil)
			resp, body := get(t, srv.URL+"/notifications?start=1&limit=100", "Bearer "+token)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var page struct {
				Items []struct {
					State []byte `json:"state"`
				} `json:"items"`
			}
			require.NoError(t, json.Unmarshal(body, &page))
			require.Len(t, page.Items, 9)
			states := make([][]byte, len(page.Items))
			for i, it := range page.Items {
				states[i] = it.State
			}
			return states
		}
		require.Contains(t, string(bytes.Join(served(plain), nil)), `"what":"dinosaurs"`)
		states := served(leader)
		stored, err := leader.Recorder().SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100})
		require.NoError(t, err)
		for i, s := range states {
			require.Equal(t, stored[i].State, s, "the bytes as stored")
			require.NotContains(t, string(s), "dinosaurs")
			require.NotContains(t, string(s), "world")
		}

		client := newClient(t, serve(t, leader.Log(), httplog.HandlerOptions{}, nil).URL, httplog.ClientOptions{})
		ns, err := client.ReadNotifications(ctx, 1, 100, worlds.TopicSomethingHappened)
		require.NoError(t, err)
		e, err := leader.Mapper().ToDomainEvent(ns[0].StoredEvent)
		require.NoError(t, err, "the right key decodes")
		require.Equal(t, worlds.SomethingHappened{What: "dinosaurs"}, e.Data)
		wrong, err := app.NewMapper(app.Options{Registry: worlds.NewRegistry(), CipherKey: wrongKey, Lookup: noEnv})
		require.NoError(t, err)
		_, err = wrong.ToDomainEvent(ns[0].StoredEvent)
		require.ErrorIs(t, err, codec.ErrCipherText)

		// Followers: with the wrong key nothing is processed; with the
		// leader's mapper everything is.
		wrongFollower := system.NewProcessApplication(newApp(t, app.Options{Name: "Wrong", Registry: counters.NewRegistry(), Env: env}), counters.Policy)
		wrongFollower.FollowLog(leader.Name(), client, wrong)
		_, err = wrongFollower.PullAndProcess(ctx, leader.Name())
		require.ErrorIs(t, err, codec.ErrCipherText)
		follower := system.NewProcessApplication(newApp(t, app.Options{Name: counters.CountersName, Registry: counters.NewRegistry(), Env: env}), counters.Policy)
		follower.FollowLog(leader.Name(), client, leader.Mapper())
		n, err := follower.PullAndProcess(ctx, leader.Name())
		require.NoError(t, err)
		require.Equal(t, 9, n)
		requireCounts(t, follower.Application, map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1})
	}, "PLAIN", "WORLDS", "WRONG", "COUNTERS")
}
