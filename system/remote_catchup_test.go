package system_test

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// slowCountersSystem is counters.System with a Counters policy that
// takes delay more per notification, so that catching up takes a while.
func slowCountersSystem(t *testing.T, delay time.Duration) *system.System {
	t.Helper()
	slow := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		time.Sleep(delay)
		return counters.Policy(ctx, p, e, pe)
	}
	sys, err := system.New([]system.App{
		{Name: counters.WorldsName, Registry: worlds.NewRegistry()},
		{Name: counters.CountersName, Registry: counters.NewRegistry(), Policy: slow},
	}, []string{counters.WorldsName, counters.CountersName})
	require.NoError(t, err)
	return sys
}

// A log server outage while the remote follower catches up with its leader
// (pages read, and read ahead, when the server goes) is recovered from with
// every notification processed exactly once: a short outage, which the
// client's retries bridge, and one longer than the client's retries, after
// which the follower's runner retries.
func TestRemoteFollowerCatchingUpThroughLogServerOutages(t *testing.T) {
	t.Parallel()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	const total = 3000
	want := writeWorlds(t, worldsApp, total/30, 30)
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{Tokens: []string{"t"}})
	require.NoError(t, err)
	server := &logServer{addr: "127.0.0.1:0", handler: handler}
	server.start(t)
	defer func() { _ = server.srv.Close() }()

	countersApp, trackedAtLeast := remoteFollowerOf(t, slowCountersSystem(t, time.Millisecond), "http://"+server.addr, "t", 20*time.Millisecond)
	for _, outage := range []struct {
		at     int64
		length time.Duration
	}{
		{at: 500, length: 300 * time.Millisecond}, // bridged by the client's retries
		{at: 1500, length: 3 * time.Second},       // longer than the client's 5 attempts (at most 1.5 s)
	} {
		require.Eventually(t, trackedAtLeast(outage.at), time.Minute, 2*time.Millisecond)
		server.stop(t)
		require.Less(t, trackedCount(t, countersApp), int64(total), "stopped mid catch-up")
		time.Sleep(outage.length)
		require.Less(t, trackedCount(t, countersApp), int64(total), "no catching up without the log server")
		server.start(t)
	}
	require.Eventually(t, trackedAtLeast(total), 2*time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// The log server, a real `eventsourcing serve` process, is killed with
// SIGKILL twice while the remote follower catches up, and started again on
// the same address: every notification is processed exactly once.
func TestRemoteFollowerCatchingUpThroughLogServerKills(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "eventsourcing")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/eventsourcing-go/eventsourcing/cmd/eventsourcing").CombinedOutput()
	require.NoError(t, err, "build cmd/eventsourcing: %s", out)

	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	const total = 3000
	want := writeWorlds(t, worldsApp, total/30, 30)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	serveEnv := map[string]string{"DATABASE_URL": leaderEnv["DATABASE_URL"], "WORLDS_POSTGRES_SCHEMA": leaderEnv["WORLDS_POSTGRES_SCHEMA"],
		"NOTIFICATION_LOG_ADDR": addr, "WORLDS_NOTIFICATION_LOG_TOKEN": "t"}
	serve := func() *exec.Cmd {
		var out proctest.Output
		cmd := proctest.Start(t, exec.Command(bin, "serve", "Worlds"), serveEnv, &out)
		require.Eventually(t, func() bool { return strings.Contains(out.String(), " on http://"+addr) },
			30*time.Second, 5*time.Millisecond, "serve listens: %s", &out)
		return cmd
	}
	server := serve()

	countersApp, trackedAtLeast := remoteFollowerOf(t, slowCountersSystem(t, time.Millisecond), "http://"+addr, "t", 20*time.Millisecond)
	for _, at := range []int64{500, 1500} {
		require.Eventually(t, trackedAtLeast(at), time.Minute, 2*time.Millisecond)
		require.NoError(t, server.Process.Kill())
		_ = server.Wait() // killed
		require.Less(t, trackedCount(t, countersApp), int64(total), "killed mid catch-up")
		server = serve()
	}
	require.Eventually(t, trackedAtLeast(total), 2*time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)
}
