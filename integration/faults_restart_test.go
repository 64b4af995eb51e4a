package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// ledgerOfWrites records what the writers of a fault test were told and
// saw, for the checks at the end.
type ledgerOfWrites struct {
	mu         sync.Mutex
	events     map[uuid.UUID][]persistence.StoredEvent // every event of every acknowledged save, by aggregate
	ackedIDs   []int64                                 // notification IDs returned by successful saves
	acked      int                                     // saves that returned no error
	ambiguous  int                                     // saves that failed, then turned out to be recorded
	errorKinds map[string]int                          // the kinds of the errors the writers got
	unexpected []error                                 // errors that are not operational
}

func newLedgerOfWrites() *ledgerOfWrites {
	return &ledgerOfWrites{events: map[uuid.UUID][]persistence.StoredEvent{}, errorKinds: map[string]int{}}
}

func (l *ledgerOfWrites) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked + l.ambiguous
}

// isOperational reports whether err is one of the errors a writer must
// expect while the database is unavailable: it cannot be reached
// (ErrConnection) or ended the session or is starting up or shutting down
// (ErrOperational).
func isOperational(err error) bool {
	return errors.Is(err, persistence.ErrConnection) || errors.Is(err, persistence.ErrOperational)
}

// saveRetrying saves agg as an application's caller must while the
// database may be unavailable: Save does not retry, and on error the
// events stay pending, so it calls Save again. An operational error may
// come after the server committed (the reply was lost); the retry then
// meets a *persistence.ConcurrencyError, and the events recorded are
// compared with the writer's own before the save counts as done.
func saveRetrying(ctx context.Context, a *app.Application, agg domain.Aggregate, l *ledgerOfWrites) error {
	return saveRetryingFrom(ctx, a, agg, l, false)
}

// saveAfterFailure is saveRetrying after a Save of agg failed already: a
// conflict on the first attempt may mean that the failed Save recorded the
// events.
func saveAfterFailure(ctx context.Context, a *app.Application, agg domain.Aggregate, l *ledgerOfWrites) error {
	return saveRetryingFrom(ctx, a, agg, l, true)
}

func saveRetryingFrom(ctx context.Context, a *app.Application, agg domain.Aggregate, l *ledgerOfWrites, failedBefore bool) error {
	pending := agg.PendingEvents()
	want := make([]persistence.StoredEvent, len(pending))
	for i, e := range pending {
		var err error
		if want[i], err = a.Mapper().ToStoredEvent(e); err != nil {
			return err
		}
	}
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("save of %s not done in time; last attempt failed: %w", agg.ID(), ctx.Err())
		}
		attemptCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		ids, err := a.Save(attemptCtx, agg)
		cancel()
		var conflict *persistence.ConcurrencyError
		switch {
		case err == nil:
			l.mu.Lock()
			l.acked++
			l.ackedIDs = append(l.ackedIDs, ids...)
			l.events[agg.ID()] = append(l.events[agg.ID()], want...)
			l.mu.Unlock()
			return nil
		case errors.As(err, &conflict) && failedBefore:
			// Recorded by an attempt whose reply was lost?
			stored, err := selectRetrying(ctx, a, agg.ID(), want[0].OriginatorVersion-1)
			if err != nil {
				return err
			}
			if !slices.EqualFunc(stored, want, sameEvent) {
				return fmt.Errorf("save of %s: conflict after a failed attempt, and the events recorded are not the writer's: %w", agg.ID(), conflict)
			}
			agg.CollectEvents()
			l.mu.Lock()
			l.ambiguous++
			l.events[agg.ID()] = append(l.events[agg.ID()], want...)
			l.mu.Unlock()
			return nil
		case isOperational(err) || (errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil):
			failedBefore = true
			l.mu.Lock()
			l.errorKinds[errKind(err)]++
			l.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		default:
			l.mu.Lock()
			l.unexpected = append(l.unexpected, err)
			l.mu.Unlock()
			return err
		}
	}
}

func sameEvent(a, b persistence.StoredEvent) bool {
	return a.OriginatorID == b.OriginatorID && a.OriginatorVersion == b.OriginatorVersion &&
		a.Topic == b.Topic && bytes.Equal(a.State, b.State)
}

// selectRetrying reads the events of id after version gt, retrying
// operational errors.
func selectRetrying(ctx context.Context, a *app.Application, id uuid.UUID, gt int64) ([]persistence.StoredEvent, error) {
	for {
		stored, err := a.Recorder().SelectEvents(ctx, id, persistence.EventQuery{Gt: &gt})
		if err == nil || !isOperational(err) || ctx.Err() != nil {
			return stored, err
		}
		time.Sleep(100 * time.Millisecond) // a pause before retrying, while the server is down
	}
}

// tailingReader follows an application's notifications as a downstream
// reader would: from the last ID seen plus one, retrying errors.
type tailingReader struct {
	seen       []int64
	errorKinds map[string]int
	unexpected []error
	disorder   []string
}

func (r *tailingReader) run(ctx context.Context, rec persistence.ApplicationRecorder, until func() (int64, bool)) {
	r.errorKinds = map[string]int{}
	var last int64
	for ctx.Err() == nil {
		ns, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: last + 1, Limit: 50})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if isOperational(err) {
				r.errorKinds[errKind(err)]++
			} else {
				r.unexpected = append(r.unexpected, err)
			}
			time.Sleep(50 * time.Millisecond) // a pause before retrying, as a reader would
			continue
		}
		for _, n := range ns {
			if n.ID <= last {
				r.disorder = append(r.disorder, fmt.Sprintf("notification %d after %d", n.ID, last))
			}
			r.seen = append(r.seen, n.ID)
			last = n.ID
		}
		if len(ns) == 0 {
			if final, done := until(); done && last >= final {
				return
			}
			time.Sleep(20 * time.Millisecond) // caught up: poll again, as a tailing reader does
		}
	}
}

// worldWriters create worlds in Worlds and save each in three batches,
// retrying as saveRetrying does, until they are stopped.
type worldWriters struct {
	writes   *ledgerOfWrites
	stopping chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	errs     []error // per writer
}

func startWorldWriters(ctx context.Context, worldsApp *app.Application, writers int) *worldWriters {
	w := &worldWriters{writes: newLedgerOfWrites(), stopping: make(chan struct{}), errs: make([]error, writers)}
	for i := range writers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.errs[i] = w.write(ctx, worldsApp, i)
		}()
	}
	return w
}

// write is writer i's loop.
func (w *worldWriters) write(ctx context.Context, worldsApp *app.Application, i int) error {
	for n := 0; ; n++ {
		select {
		case <-w.stopping:
			return nil
		default:
		}
		world, err := worlds.NewWorld(fmt.Sprintf("world %d.%d", i, n))
		if err != nil {
			return err
		}
		for batch := 0; batch < 3; batch++ {
			for j := 0; j < 3; j++ {
				_ = world.MakeItSo(fmt.Sprintf("thing-%d", (i+n+j)%7))
			}
			if err := saveRetrying(ctx, worldsApp, world, w.writes); err != nil {
				return err
			}
		}
	}
}

// progress waits until the writers have made more saves; it fails t, with
// the server's log, if they make none for 90 seconds.
func (w *worldWriters) progress(t *testing.T, s *server, more int, what string) {
	t.Helper()
	target := w.writes.count() + more
	if !eventually(90*time.Second, 20*time.Millisecond, func() bool { return w.writes.count() >= target }) {
		w.stop()
		t.Fatalf("%s: the writers made no progress (%d saves); server log:\n%s", what, w.writes.count(), s.logs())
	}
}

func (w *worldWriters) stop() { w.stopOnce.Do(func() { close(w.stopping) }) }

// finish stops the writers, waits for them and requires that none failed.
func (w *worldWriters) finish(t *testing.T) {
	t.Helper()
	w.stop()
	w.wg.Wait()
	for i, err := range w.errs {
		require.NoError(t, err, "writer %d", i)
	}
}

// restartUnderLoad restarts the server twice while the writers save: once
// stopped cleanly (fast shutdown), once killed (crash recovery), each time
// for a moment; the writers must make progress after each start.
func restartUnderLoad(t *testing.T, s *server, w *worldWriters) {
	t.Helper()
	t.Logf("before the outages: %d saves", w.writes.count())
	s.stop(t)
	time.Sleep(1500 * time.Millisecond) // the outage: clients meet a stopped server
	s.start(t)
	w.progress(t, s, 60, "after a clean restart")
	t.Logf("after a clean restart: %d saves", w.writes.count())
	s.kill(t)
	time.Sleep(time.Second) // the outage after the crash
	s.start(t)
	w.progress(t, s, 60, "after a crash")
	t.Logf("after a crash and recovery: %d saves", w.writes.count())
}

// followers are instances of the Counters process application, each run
// by system.RunProcess in this process until stop; they log to one
// buffer.
type followers struct {
	cancels []context.CancelFunc
	done    chan error
	log     proctest.Output
}

func newFollowers() *followers { return &followers{done: make(chan error, 16)} }

// start starts an instance of Counters of sys with opts, until ctx ends
// or stop.
func (f *followers) start(ctx context.Context, sys *system.System, opts system.RunnerOptions) {
	ctx, cancel := context.WithCancel(ctx)
	f.cancels = append(f.cancels, cancel)
	logger := slog.New(slog.NewTextHandler(&f.log, nil))
	go func() {
		f.done <- system.RunProcess(ctx, sys, "Counters", system.ProcessOptions{RunnerOptions: opts, Logger: logger})
	}()
}

// waitTracked waits until Counters has tracked n notifications of Worlds;
// it fails t, with the followers' log, if an instance ends first or if
// they do not within timeout.
func (f *followers) waitTracked(t *testing.T, countersApp *app.Application, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for trackedBy(t, countersApp) < n {
		select {
		case err := <-f.done:
			t.Fatalf("RunProcess ended before Counters tracked %d notifications: %v\n%s", n, err, f.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the followers did not catch up: tracked %d of %d\n%s", trackedBy(t, countersApp), n, f.log.String())
		}
	}
}

// stop stops the instances, requires that each ended cleanly and returns
// how many retries they logged.
func (f *followers) stop(t *testing.T) int {
	t.Helper()
	for _, cancel := range f.cancels {
		cancel()
	}
	for range f.cancels {
		require.NoError(t, <-f.done, "RunProcess ends cleanly when its context ends")
	}
	return strings.Count(f.log.String(), "retrying")
}

// The database restarts twice while writers save and a reader tails the
// notification log and a process application (RunProcess, two instances,
// one standing by) follows it: once
// stopped cleanly (fast shutdown), once killed (crash recovery). Writers
// get operational errors (persistence.ErrConnection or ErrOperational) and
// nothing else; retrying their saves, every acknowledged save is recorded
// exactly once; the reader misses no notification and sees none twice or
// out of order; the process application's instances retry by themselves
// and every notification is processed exactly once.
func TestDatabaseRestartsUnderLoad(t *testing.T) {
	s := newServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	env, worldsApp, countersApp := faultApps(t, s)
	readerApp := newApp(t, "Worlds", worlds.NewRegistry(), env)

	// Two instances of the process application, in this process, retrying
	// on their own: one processes, the other stands by and takes over
	// whenever the first loses its session.
	f := newFollowers()
	for range 2 {
		f.start(ctx, counters.System(), system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: 200 * time.Millisecond})
	}

	// The tailing reader.
	var final atomic.Int64
	var writersDone atomic.Bool
	reader := &tailingReader{}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		reader.run(ctx, readerApp.Recorder(), func() (int64, bool) { return final.Load(), writersDone.Load() })
	}()

	w := startWorldWriters(ctx, worldsApp, 4)
	w.progress(t, s, 60, "before the outages")
	// The process application is running before the first outage (it
	// retries database errors once running; see RunProcess).
	f.waitTracked(t, countersApp, 1, 90*time.Second)
	restartUnderLoad(t, s, w)
	w.finish(t)

	max, err := worldsApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	final.Store(max)
	writersDone.Store(true)
	<-readerDone

	writes := w.writes
	writes.mu.Lock()
	defer writes.mu.Unlock()
	t.Logf("saves: %d acknowledged, %d recorded though the reply was lost; writers' errors by kind: %v", writes.acked, writes.ambiguous, writes.errorKinds)
	t.Logf("reader: %d notifications; errors by kind: %v", len(reader.seen), reader.errorKinds)
	require.Empty(t, writes.unexpected, "writers got only operational errors")
	require.NotEmpty(t, writes.errorKinds, "the writers noticed the outages")
	require.Empty(t, reader.unexpected, "the reader got only operational errors")
	require.Empty(t, reader.disorder, "the reader saw notifications in order")

	// Every acknowledged save is recorded exactly once, and nothing else.
	total := 0
	for id, want := range writes.events {
		got, err := worldsApp.Recorder().SelectEvents(ctx, id, persistence.EventQuery{})
		require.NoError(t, err)
		require.True(t, slices.EqualFunc(got, want, sameEvent), "the events of %s are exactly those saved", id)
		total += len(want)
	}
	stored := notificationIDs(t, worldsApp)
	require.Len(t, stored, total, "no event recorded that no writer saved, none twice")
	acked := slices.Clone(writes.ackedIDs)
	sort.Slice(acked, func(i, j int) bool { return acked[i] < acked[j] })
	require.Len(t, slices.Compact(slices.Clone(acked)), len(acked), "no notification ID returned twice")
	for _, id := range acked {
		_, found := slices.BinarySearch(stored, id)
		require.True(t, found, "acknowledged notification %d is recorded", id)
	}

	// The reader saw every recorded notification, once each, in order.
	require.Equal(t, stored, reader.seen, "the tailing reader missed nothing and saw nothing twice")

	// The process application caught up by itself, exactly once.
	f.waitTracked(t, countersApp, int64(len(stored)), 2*time.Minute)
	t.Logf("the process application logged %d retries", f.stop(t))
	requireExactlyOnce(t, worldsApp, countersApp, wantCounts(t, worldsApp, byThing))
}

// faultApps configures Worlds and Counters on s, in fresh schemas, for
// the fault tests (a pool of 8 connections, connection attempts of 2
// seconds), and opens one of each, Counters migrating its schema before
// any follower starts.
func faultApps(t *testing.T, s *server) (env map[string]string, worldsApp, countersApp *app.Application) {
	t.Helper()
	env = map[string]string{
		"PERSISTENCE_MODULE":       "postgres",
		"DATABASE_URL":             s.URL(),
		"WORLDS_POSTGRES_SCHEMA":   s.newSchema(t),
		"COUNTERS_POSTGRES_SCHEMA": s.newSchema(t),
		"POSTGRES_POOL_SIZE":       "8",
		"POSTGRES_CONNECT_TIMEOUT": "2",
	}
	return env, newApp(t, "Worlds", worlds.NewRegistry(), env), newApp(t, "Counters", counters.NewRegistry(), env)
}

// trackedBy returns how many notifications of Worlds Counters tracked,
// retrying operational errors.
func trackedBy(t testing.TB, countersApp *app.Application) int64 {
	t.Helper()
	for {
		n, err := tracked(t.Context(), countersApp)
		if err == nil {
			return n
		}
		if !isOperational(err) {
			t.Fatalf("count tracking records: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // a pause before retrying
	}
}

// notificationIDs returns every notification ID of a's schema, in order.
func notificationIDs(t testing.TB, a *app.Application) []int64 {
	t.Helper()
	rows, err := a.Pool().Query(t.Context(), "SELECT notification_id FROM stored_events ORDER BY notification_id")
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// eachNotification calls fn with every notification of worldsApp, in
// order.
func eachNotification(t testing.TB, worldsApp *app.Application, fn func(persistence.Notification)) {
	t.Helper()
	var last int64
	for {
		ns, err := worldsApp.Log().Select(t.Context(), last+1, worldsApp.Log().SectionSize())
		require.NoError(t, err)
		if len(ns) == 0 {
			return
		}
		for _, n := range ns {
			fn(n)
			last = n.ID
		}
	}
}

// wantCounts counts the things that happened in every world recorded,
// under the name of their counter: key names it.
func wantCounts(t testing.TB, worldsApp *app.Application, key func(domain.Event, worlds.SomethingHappened) string) map[string]int {
	t.Helper()
	want := map[string]int{}
	eachNotification(t, worldsApp, func(n persistence.Notification) {
		e, err := worldsApp.Mapper().ToDomainEvent(n.StoredEvent)
		require.NoError(t, err)
		if h, ok := e.Data.(worlds.SomethingHappened); ok {
			want[key(e, h)]++
		}
	})
	return want
}

// byThing names the counter of counters.Policy: what happened.
func byThing(_ domain.Event, h worlds.SomethingHappened) string { return h.What }
