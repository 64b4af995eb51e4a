package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// batchWatcher polls, from connections of its own, how many events of
// each watched batch are visible, and records any moment at which a batch
// was visible in part: a batch must be visible whole or not at all.
type batchWatcher struct {
	mu       sync.Mutex
	batches  map[string][]uuid.UUID // name → the aggregates of the batch
	sizes    map[string]int         // name → its number of events
	partial  []string
	polls    int
	stop     chan struct{}
	finished chan struct{}
}

func watchBatches(t *testing.T, s *server, schema string) *batchWatcher {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(s.URL("connect_timeout=1", "search_path="+schema))
	require.NoError(t, err)
	cfg.MaxConns = 2
	// Not t.Context(): the watcher runs until t.Cleanup, after it is canceled.
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	w := &batchWatcher{batches: map[string][]uuid.UUID{}, sizes: map[string]int{}, stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(w.finished)
		defer pool.Close()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			w.mu.Lock()
			batches := make(map[string][]uuid.UUID, len(w.batches))
			for k, v := range w.batches {
				batches[k] = v
			}
			w.mu.Unlock()
			for name, ids := range batches {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				var n int
				err := pool.QueryRow(ctx, "SELECT count(*) FROM stored_events WHERE originator_id = ANY($1)", ids).Scan(&n)
				cancel()
				if err != nil {
					continue // the database is unavailable; look again later
				}
				w.mu.Lock()
				w.polls++
				if n != 0 && n != w.sizes[name] {
					w.partial = append(w.partial, fmt.Sprintf("%s: %d of %d events visible", name, n, w.sizes[name]))
				}
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { w.close() })
	return w
}

// watch adds a batch of aggregates (with their pending events) to watch.
func (w *batchWatcher) watch(name string, aggs ...*Account) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range aggs {
		w.batches[name] = append(w.batches[name], a.ID())
		w.sizes[name] += len(a.PendingEvents())
	}
}

func (w *batchWatcher) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.finished
}

// requireNeverPartial stops the watcher and checks that no batch was ever
// visible in part.
func (w *batchWatcher) requireNeverPartial(t *testing.T) {
	t.Helper()
	w.close()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Empty(t, w.partial, "a batch was visible in part")
	require.Positive(t, w.polls, "the watcher looked")
	t.Logf("watcher: %d polls, no batch ever visible in part", w.polls)
}

func countEvents(t *testing.T, a *app.Application, aggs ...*Account) int {
	t.Helper()
	ids := make([]uuid.UUID, len(aggs))
	for i, agg := range aggs {
		ids[i] = agg.ID()
	}
	var n int
	require.NoError(t, a.Pool().QueryRow(t.Context(),
		"SELECT count(*) FROM stored_events WHERE originator_id = ANY($1)", ids).Scan(&n))
	return n
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// A transaction that takes the events table's EXCLUSIVE lock (SaveTx) and
// then goes silent, neither committing nor rolling back: a writer with a
// lock timeout gets ErrOperational (SQLSTATE 55P03) and records nothing; a
// patient writer waits until the server ends the idle session
// (POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT), which releases the lock,
// and then succeeds. The silent transaction's batch is never visible.
func TestIdleInTransactionTimeoutReleasesLocks(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := t.Context()
	schema := s.newSchema(t)
	const idleSeconds = 3
	idle := fmt.Sprint(idleSeconds)
	holder := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, schema, "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", idle))
	impatient := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, schema, "POSTGRES_LOCK_TIMEOUT", "1"))
	patient := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, schema))
	watcher := watchBatches(t, s, schema)

	baseline := openAccount(t, "baseline", 2)
	_, err := patient.Save(ctx, baseline)
	require.NoError(t, err)

	held := openAccount(t, "held", 4)
	watcher.watch("held", held)
	tx, err := holder.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(t.Context()) }()
	_, err = holder.SaveTx(ctx, tx, held)
	require.NoError(t, err)
	silentSince := time.Now()

	blocked := openAccount(t, "impatient", 2)
	_, err = impatient.Save(ctx, blocked)
	require.ErrorIs(t, err, persistence.ErrOperational)
	require.Equal(t, "55P03", pgCode(err), "lock_not_available: %v", err)
	require.Len(t, blocked.PendingEvents(), 3, "the events stay pending")
	require.Zero(t, countEvents(t, patient, blocked), "nothing recorded")
	t.Logf("impatient writer: %v", err)

	waiting := openAccount(t, "patient", 2)
	watcher.watch("patient", waiting)
	_, err = patient.Save(ctx, waiting)
	require.NoError(t, err)
	waited := time.Since(silentSince)
	t.Logf("the patient writer got the lock %v after the holder went silent", waited.Round(time.Millisecond))
	require.GreaterOrEqual(t, waited, time.Duration(idleSeconds)*time.Second-500*time.Millisecond, "the lock was held until the timeout")
	require.Less(t, waited, time.Duration(idleSeconds)*time.Second+10*time.Second, "and released by it")

	err = tx.Commit(ctx)
	require.Error(t, err, "the server ended the silent transaction")
	t.Logf("the silent transaction's commit: %v", err)
	require.Zero(t, countEvents(t, patient, held), "the silent transaction's batch is not recorded")
	require.Equal(t, 3, countEvents(t, patient, baseline), "the baseline is intact")
	require.Equal(t, 3, countEvents(t, patient, waiting))

	// The impatient writer's events stayed pending: saving again works.
	_, err = impatient.Save(ctx, blocked)
	require.NoError(t, err)
	watcher.requireNeverPartial(t)
}

// The network between a client and the database is cut (docker network
// disconnect) while the client's transaction holds two batches and the
// events table's lock. The client gets an operational error; the server,
// which does not see the client go, ends the session by the
// idle-in-transaction timeout (or on noticing the dead connection), which
// releases the lock: another writer then succeeds. Neither batch of the
// cut transaction is ever visible, in whole or in part, and the client's
// pool works again once the network is back.
//
// Then the container is paused (docker pause) while a Save is in flight:
// the Save fails by its deadline, and once the server runs again the batch
// is recorded whole or not at all; saving again tells which.
func TestNetworkCutAndPause(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	schema := s.newSchema(t)
	const idleSeconds = 3
	env := pgEnv(s, schema,
		"POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", fmt.Sprint(idleSeconds),
		"POSTGRES_CONNECT_TIMEOUT", "2")
	client := newApp(t, "Ledger", ledgerTypes(), env)
	other := newApp(t, "Ledger", ledgerTypes(), env)
	watcher := watchBatches(t, s, schema)

	baseline := openAccount(t, "baseline", 2)
	_, err := other.Save(ctx, baseline)
	require.NoError(t, err)

	t.Run("network cut during a transaction", func(t *testing.T) {
		first, second, third := openAccount(t, "cut-1", 3), openAccount(t, "cut-2", 3), openAccount(t, "cut-3", 3)
		watcher.watch("cut transaction", first, second, third)
		tx, err := client.Pool().Begin(ctx)
		require.NoError(t, err)
		_, err = client.SaveTx(ctx, tx, first)
		require.NoError(t, err)
		_, err = client.SaveTx(ctx, tx, second)
		require.NoError(t, err)

		s.disconnect(t)
		cutAt := time.Now()
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = client.SaveTx(attempt, tx, third)
		cancel()
		require.Error(t, err)
		require.True(t, isOperational(err) || errors.Is(err, context.DeadlineExceeded), "an operational error, not %s: %v", errKind(err), err)
		t.Logf("the cut client's next statement: %s error: %v", errKind(err), err)
		commitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		require.Error(t, tx.Commit(commitCtx), "the cut transaction cannot commit")
		cancel()

		s.reconnect(t)
		after := openAccount(t, "after-cut", 2)
		watcher.watch("after the cut", after)
		// The other writer's pooled connections went through the cut too:
		// the first Save on one of them fails with a connection failure, and
		// Save does not retry; the writer does.
		saveCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		otherWrites := newLedgerOfWrites()
		require.NoError(t, saveRetrying(saveCtx, other, after, otherWrites), "another writer gets the lock once the orphaned session is ended")
		require.Empty(t, otherWrites.unexpected)
		t.Logf("the other writer saved after errors %v", otherWrites.errorKinds)
		released := time.Since(cutAt)
		t.Logf("the lock was released %v after the cut", released.Round(time.Millisecond))
		require.Less(t, released, time.Duration(idleSeconds)*time.Second+30*time.Second)
		logs := s.logs()
		switch {
		case strings.Contains(logs, "idle-in-transaction timeout"):
			t.Logf("the server ended the orphaned session by the idle-in-transaction timeout")
		default:
			t.Logf("the server ended the orphaned session on noticing the dead connection")
		}

		require.Zero(t, countEvents(t, other, first, second, third), "nothing of the cut transaction is recorded")
		require.Equal(t, 3, countEvents(t, other, baseline), "the baseline is intact")
		require.Equal(t, 3, countEvents(t, other, after))
		var orphans int
		require.NoError(t, other.Pool().QueryRow(ctx,
			"SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'").Scan(&orphans))
		require.Zero(t, orphans, "no session is left idle in a transaction")

		// The cut client's application works again (its pool reconnects).
		again := openAccount(t, "client-again", 1)
		writes := newLedgerOfWrites()
		retryCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, saveRetrying(retryCtx, client, again, writes))
		t.Logf("the cut client saved again after %v errors", writes.errorKinds)
	})

	// A partition rather than a disconnection: the client's traffic goes
	// through a proxy that stops forwarding and closes nothing, so no FIN
	// or RST ever reaches the server. The server ends the orphaned session
	// only by the idle-in-transaction timeout, which releases the lock.
	t.Run("network partition during a transaction", func(t *testing.T) {
		proxy := newPartitionProxy(t, fmt.Sprintf("%s:%d", s.host, s.port))
		partitioned := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, schema,
			"DATABASE_URL", connURL("127.0.0.1", proxy.port(), pgDatabase),
			"POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", fmt.Sprint(idleSeconds),
			"POSTGRES_CONNECT_TIMEOUT", "2"))
		first, second := openAccount(t, "partition-1", 3), openAccount(t, "partition-2", 3)
		watcher.watch("partitioned transaction", first, second)
		tx, err := partitioned.Pool().Begin(ctx)
		require.NoError(t, err)
		_, err = partitioned.SaveTx(ctx, tx, first)
		require.NoError(t, err)

		proxy.partition()
		partitionedAt := time.Now()
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = partitioned.SaveTx(attempt, tx, second)
		cancel()
		require.Error(t, err)
		require.True(t, isOperational(err) || errors.Is(err, context.DeadlineExceeded), "an operational error or the deadline, not %s: %v", errKind(err), err)
		t.Logf("the partitioned client's next statement: %s error: %v", errKind(err), err)
		rollback, cancel := context.WithTimeout(ctx, 2*time.Second)
		_ = tx.Rollback(rollback) // fails, and gives the broken connection back to the pool
		cancel()

		after := openAccount(t, "after-partition", 2)
		watcher.watch("after the partition", after)
		saveCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		writes := newLedgerOfWrites()
		require.NoError(t, saveRetrying(saveCtx, other, after, writes), "another writer gets the lock once the server ends the orphaned session")
		released := time.Since(partitionedAt)
		t.Logf("the lock was released %v after the partition", released.Round(time.Millisecond))
		require.GreaterOrEqual(t, released, time.Duration(idleSeconds)*time.Second-500*time.Millisecond, "the orphaned session held the lock until the timeout")
		require.Less(t, released, time.Duration(idleSeconds)*time.Second+15*time.Second, "and the timeout released it")
		// The container's log reaches the test through the Docker daemon,
		// possibly after the lock is seen released: read it until the line
		// is there.
		require.Eventually(t, func() bool {
			return strings.Contains(s.logs(), "terminating connection due to idle-in-transaction timeout")
		}, 15*time.Second, 250*time.Millisecond, "the server logs the idle-in-transaction timeout; its log:\n%s", s.logs())
		require.Zero(t, countEvents(t, other, first, second), "nothing of the partitioned transaction is recorded")
		require.Equal(t, 3, countEvents(t, other, baseline), "the baseline is intact")
		require.Equal(t, 3, countEvents(t, other, after))
		proxy.heal()
	})

	t.Run("database paused during a save", func(t *testing.T) {
		paused := openAccount(t, "paused", 5)
		watcher.watch("paused save", paused)
		// A fresh pooled connection, so that the save sends its statement
		// to the paused server rather than connecting.
		require.NoError(t, client.Pool().Ping(ctx))
		s.pause(t)
		const deadline = 3 * time.Second
		attempt, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		result := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := client.Save(attempt, paused)
			result <- err
		}()
		var err error
		select {
		case err = <-result:
			s.unpause(t)
		case <-time.After(deadline + 5*time.Second):
			t.Errorf("Save did not return by its context's deadline while the server was paused")
			s.unpause(t)
			select {
			case err = <-result:
			case <-time.After(2 * time.Minute):
				t.Fatal("Save did not return after the server ran again")
			}
		}
		t.Logf("save while paused returned after %v: %s error: %v", time.Since(start).Round(time.Millisecond), errKind(err), err)

		writes := newLedgerOfWrites()
		if err != nil {
			require.True(t, isOperational(err) || errors.Is(err, context.DeadlineExceeded), "an operational error or the deadline, not %s: %v", errKind(err), err)
			require.Len(t, paused.PendingEvents(), 6, "the events stay pending")
			// The batch is recorded whole or not at all: saving again tells which.
			retryCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			require.NoError(t, saveAfterFailure(retryCtx, client, paused, writes))
			if writes.ambiguous > 0 {
				t.Logf("the server had recorded the batch although the save failed: the retry met a conflict and found the writer's events")
			} else {
				t.Logf("the server had not recorded the batch: the retry recorded it")
			}
		}
		require.Empty(t, paused.PendingEvents())
		require.Equal(t, 6, countEvents(t, other, paused), "the batch is recorded once, whole")
		require.Equal(t, 3, countEvents(t, other, baseline), "the baseline is intact")
	})
	watcher.requireNeverPartial(t)
}

// partitionProxy forwards TCP connections to a target until partition is
// called; from then on it forwards nothing in either direction and closes
// nothing, as a network partition does: neither end hears from the other,
// and neither is told the connection is gone.
type partitionProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newPartitionProxy(t *testing.T, target string) *partitionProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &partitionProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.heal)
	return p
}

func (p *partitionProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *partitionProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// pipe copies from src to dst until the partition, then stops reading.
func (p *partitionProxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			return // drop the data; leave both connections open and silent
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *partitionProxy) partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
}

// restore ends the partition as a long one ends: the connections that went
// silent are reset (as TCP does once it gives up on them), and new ones
// are forwarded again.
func (p *partitionProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// heal ends the proxy: it closes the listener and every connection.
func (p *partitionProxy) heal() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
