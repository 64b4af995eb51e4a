package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func noEnv(string) (string, bool) { return "", false }

// status lists a follower that is behind, with its lag and the age of the
// oldest notification left, and one that follows an application of
// another database.
func TestStatus(t *testing.T) {
	ctx := t.Context()
	worldsSchema, countersSchema := pgtest.NewSchemaName(t), pgtest.NewSchemaName(t)
	env := map[string]string{"DATABASE_URL": pgtest.ServerURL(t),
		"WORLDS_POSTGRES_SCHEMA": worldsSchema, "COUNTERS_POSTGRES_SCHEMA": countersSchema}
	newApp := func(name string, opts app.Options) *app.Application {
		opts.Name, opts.Env, opts.Lookup = name, env, noEnv
		a, err := app.New(ctx, opts)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		return a
	}
	leader := newApp(counters.WorldsName, app.Options{Registry: worlds.NewRegistry()})
	_, err := counters.MakeWorlds(ctx, leader, 3) // 9 notifications
	require.NoError(t, err)
	stopAt := int64(6)
	policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		if pe.Tracking.NotificationID == stopAt {
			return errors.New("stopped")
		}
		return counters.Policy(ctx, p, e, pe)
	}
	follower := system.NewProcessApplication(newApp(counters.CountersName, app.Options{Registry: counters.NewRegistry()}), policy)
	follower.Follow(leader)
	_, err = follower.PullAndProcess(ctx, counters.WorldsName)
	require.Error(t, err)
	_, err = follower.SaveTracked(ctx, persistence.Tracking{ApplicationName: "Elsewhere", NotificationID: 42}, nil)
	require.NoError(t, err)

	sixth, err := leader.Log().ReadNotifications(ctx, stopAt, 1)
	require.NoError(t, err)
	at, err := leader.Mapper().Timestamp(sixth[0].StoredEvent)
	require.NoError(t, err)
	now := func() time.Time { return at.Add(1500 * time.Millisecond) }

	var out, errOut bytes.Buffer
	code := run(ctx, []string{"status"}, config.Environment{Values: env, Lookup: noEnv}, now, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var mine []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "SCHEMA") || strings.HasPrefix(line, countersSchema+" ") {
			mine = append(mine, strings.Join(strings.Fields(line), " "))
		}
	}
	require.Equal(t, []string{
		"SCHEMA UPSTREAM UPSTREAM SCHEMA TRACKED HEAD BEHIND AGE",
		countersSchema + " Elsewhere - 42 - - -",
		countersSchema + " Worlds " + worldsSchema + " 5 9 4 1.5s",
	}, mine)
}

// status reports, for a follower whose instances divide the upstream log
// in partitions, the lowest of the partitions' positions: everything up to
// it is processed, though later notifications are tracked.
func TestStatusOfDividedFollower(t *testing.T) {
	ctx := t.Context()
	env, worldsSchema := nineWorldsNotifications(t)
	followerSchema := pgtest.NewSchemaName(t)

	pool, err := postgres.Open(ctx, postgres.Config{ConnString: pgtest.ServerURL(t), Schema: followerSchema, PoolSize: 2, CreateTable: true})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	rec := postgres.NewRecorder(pool)
	track := func(trackings ...persistence.Tracking) {
		t.Helper()
		_, err := rec.InsertTrackedPage(ctx, nil, trackings)
		require.NoError(t, err)
	}
	tracked := func(id int64, partition int) persistence.Tracking {
		return persistence.Tracking{ApplicationName: counters.WorldsName, NotificationID: id, Partition: partition}
	}

	track(tracked(1, 0), tracked(2, 0))
	require.Equal(t, followerSchema+" Worlds "+worldsSchema+" 2 9 7", statusLine(t, env, followerSchema), "not divided: the largest tracked")
	_, err = rec.ClaimPartitions(ctx, uuid.New(), 3, time.Minute) // every partition starts at 2
	require.NoError(t, err)
	track(tracked(3, 0), tracked(4, 1), tracked(6, 1), tracked(5, 2))
	require.NoError(t, rec.AdvancePartitions(ctx, counters.WorldsName, []int{0}, 7))
	// Partition 0 is at 7, 1 at 6, 2 at 5.
	require.Equal(t, followerSchema+" Worlds "+worldsSchema+" 5 9 4", statusLine(t, env, followerSchema))
}

// status reports a follower whose schema is still at migration 00004,
// without the partition tables, as a follower that does not divide its
// log: at the largest notification it tracked.
func TestStatusOfSchemaBeforePartitions(t *testing.T) {
	ctx := t.Context()
	env, worldsSchema := nineWorldsNotifications(t)
	followerSchema := pgtest.NewSchemaName(t)

	m, err := postgres.NewMigrator(postgres.Config{ConnString: pgtest.ServerURL(t), Schema: followerSchema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	for range 4 {
		_, err := m.UpByOne(ctx)
		require.NoError(t, err)
	}
	conn, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{followerSchema, "tracking"}.Sanitize()+
		" (application_name, notification_id) VALUES ('Worlds', 1), ('Worlds', 2)")
	require.NoError(t, err)

	require.Equal(t, followerSchema+" Worlds "+worldsSchema+" 2 9 7", statusLine(t, env, followerSchema))
}

// nineWorldsNotifications records 3 worlds, 9 notifications, in a Worlds
// application of a schema of its own, and returns the environment that
// configures it, and the schema.
func nineWorldsNotifications(t *testing.T) (env map[string]string, schema string) {
	t.Helper()
	schema = pgtest.NewSchemaName(t)
	env = map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "WORLDS_POSTGRES_SCHEMA": schema}
	leader, err := app.New(t.Context(), app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(leader.Close)
	_, err = counters.MakeWorlds(t.Context(), leader, 3)
	require.NoError(t, err)
	return env, schema
}

// statusLine runs status with env and returns the line of the follower
// in schema, without the age.
func statusLine(t *testing.T, env map[string]string, schema string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"status"}, config.Environment{Values: env, Lookup: noEnv}, time.Now, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	for _, line := range strings.Split(out.String(), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == schema && fields[1] == counters.WorldsName {
			return strings.Join(fields[:6], " ")
		}
	}
	t.Fatalf("no line for %s in\n%s", schema, out.String())
	return ""
}

func TestStatusUsageAndConfiguration(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 2, run(t.Context(), nil, config.Environment{Lookup: noEnv}, time.Now, &out, &errOut))
	require.Contains(t, errOut.String(), "usage: eventsourcing status")
	require.Equal(t, 2, run(t.Context(), []string{"stats"}, config.Environment{Lookup: noEnv}, time.Now, &out, &errOut))
	errOut.Reset()
	require.Equal(t, 1, run(t.Context(), []string{"status"}, config.Environment{Values: map[string]string{"POSTGRES_HOST": "127.0.0.1"}, Lookup: noEnv}, time.Now, &out, &errOut))
	require.Contains(t, errOut.String(), "POSTGRES_DBNAME")
}

// startServe runs serve Worlds with the variables env until the returned
// stop is called, and returns the URL it says it listens on, what it
// printed, and stop, which returns its exit status and its errors.
func startServe(t *testing.T, env map[string]string) (url, printed string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	var out, errOut proctest.Output
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "Worlds"}, config.Environment{Values: env, Lookup: noEnv}, time.Now, &out, &errOut)
	}()
	require.Eventually(t, func() bool {
		_, after, ok := strings.Cut(out.String(), " on ")
		url = strings.TrimSpace(after)
		return ok && strings.HasSuffix(out.String(), "\n")
	}, 10*time.Second, 5*time.Millisecond, "serve says where it listens; stderr: %s", errOut.String())
	return url, out.String(), func() (int, string) {
		cancel()
		return <-code, errOut.String()
	}
}

// watchWakes follows client's head until the test ends, and returns a
// function that waits for its next wake-up, failing the test after 10 s
// (a wait lasts 15 s).
func watchWakes(t *testing.T, client *httplog.Client) (awake func()) {
	t.Helper()
	woken := make(chan struct{}, 10)
	ctx, stop := context.WithCancel(t.Context())
	t.Cleanup(stop)
	go func() { _ = client.Watch(ctx, func() { woken <- struct{}{} }) }()
	return func() {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatal("not woken")
		}
	}
}

// serve serves an application's notification log to a client with the
// token, and stops cleanly when interrupted.
func TestServe(t *testing.T) {
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	env := map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "WORLDS_POSTGRES_SCHEMA": schema,
		"NOTIFICATION_LOG_ADDR": "127.0.0.1:0", "WORLDS_NOTIFICATION_LOG_TOKEN": "secret"}
	leader, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	defer leader.Close()
	_, err = counters.MakeWorlds(ctx, leader, 3)
	require.NoError(t, err)

	url, printed, stop := startServe(t, env)
	require.Contains(t, printed, schema)

	client, err := httplog.NewClient(url, httplog.ClientOptions{Token: "secret"})
	require.NoError(t, err)
	head, err := client.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 9, head)
	wrong, err := httplog.NewClient(url, httplog.ClientOptions{Token: "guess"})
	require.NoError(t, err)
	_, err = wrong.MaxNotificationID(ctx)
	var status *httplog.StatusError
	require.ErrorAs(t, err, &status)
	require.Equal(t, 401, status.StatusCode)

	// A follower's wait ends as soon as the leader records events.
	awake := watchWakes(t, client)
	awake() // once it has read the head
	_, err = counters.MakeWorlds(ctx, leader, 1)
	require.NoError(t, err)
	awake()

	// Interrupted while a follower waits, it stops without waiting for the
	// wait (a shutdown waits at most 10 s, and fails), and answers it.
	answered := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/head?after=1000&wait=1m", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer secret")
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		answered <- err
	}()
	time.Sleep(500 * time.Millisecond) // for the request to be under way
	code, stderr := stop()
	require.Equal(t, 0, code, stderr)
	if err := <-answered; err != nil {
		t.Logf("the wait had not begun when serve stopped: %v", err)
	}

	// Without a token, serve refuses to start.
	delete(env, "WORLDS_NOTIFICATION_LOG_TOKEN")
	var errOut2 bytes.Buffer
	require.Equal(t, 1, run(ctx, []string{"serve", "Worlds"}, config.Environment{Values: env, Lookup: noEnv}, time.Now, io.Discard, &errOut2))
	require.Contains(t, errOut2.String(), "NOTIFICATION_LOG_TOKEN")
}

// A schema whose event store lacks a table status reads (here
// partition_positions, beside partition_leases) is an error naming it:
// status leaves out only schemas dropped while it reads (which it checks
// by listing them again), not broken ones.
func TestStatusOfBrokenSchema(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabaseURL(t) // status reads every schema of the database: a database of its own
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, `CREATE SCHEMA broken;
		CREATE TABLE broken.stored_events (notification_id bigint);
		CREATE TABLE broken.tracking (application_name text, notification_id bigint, partition int);
		CREATE TABLE broken.partition_leases (partitions int);
		INSERT INTO broken.tracking VALUES ('Worlds', 1, 0)`)
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"status"}, config.Environment{Values: map[string]string{"DATABASE_URL": url}, Lookup: noEnv}, time.Now, &out, &errOut)
	require.Equal(t, 1, code, out.String())
	require.Contains(t, errOut.String(), "schema broken")
	require.Contains(t, errOut.String(), "partition_positions")
}
