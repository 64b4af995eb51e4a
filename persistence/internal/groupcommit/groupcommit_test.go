package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// call is one call of a stalling recorder: the context and the saves it
// was given.
type call struct {
	ctx   context.Context
	batch []*Request
}

// errRefused is the error a stalling recorder gives a save that holds an
// event of the topic "refused".
var errRefused = errors.New("refused")

// stalling is a Recorder that, like a database whose insert lock is held,
// stalls each batch until it is released or its context ends.
type stalling struct {
	calls    chan call
	releases chan struct{}
	next     int64
}

func newStalling() *stalling {
	return &stalling{calls: make(chan call, 16), releases: make(chan struct{}, 16)}
}

// release lets one stalled batch through.
func (s *stalling) release() { s.releases <- struct{}{} }

// record reports the call, then stalls until released, or until ctx ends
// (then each save is given ctx's error). Once released, each save is given
// one ID per event, numbered across calls, or errRefused.
func (s *stalling) record(ctx context.Context, batch []*Request) {
	s.calls <- call{ctx, batch}
	select {
	case <-s.releases:
	case <-ctx.Done():
		for _, req := range batch {
			req.Err = ctx.Err()
		}
		return
	}
	for _, req := range batch {
		if req.Events[0].Topic == "refused" {
			req.Err = errRefused
			continue
		}
		for range req.Events {
			s.next++
			req.IDs = append(req.IDs, s.next)
		}
	}
}

// events returns n events of a new aggregate, of topic.
func events(n int, topic string) []persistence.StoredEvent {
	id := uuid.New()
	evs := make([]persistence.StoredEvent, n)
	for v := range evs {
		evs[v] = persistence.StoredEvent{OriginatorID: id, OriginatorVersion: int64(v + 1), Topic: topic}
	}
	return evs
}

// save is the result of one Group.Save.
type save struct {
	req     *Request
	how     Outcome
	elapsed time.Duration // from before its context was made
}

// startSave calls g.Save in a goroutine, with a context that ends after
// deadline (0: never), and returns where its result will be sent.
func startSave(g *Group, deadline time.Duration, events []persistence.StoredEvent) <-chan save {
	result := make(chan save, 1)
	go func() {
		start := time.Now()
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if deadline > 0 {
			ctx, cancel = context.WithTimeout(ctx, deadline)
		}
		defer cancel()
		req, how := g.Save(ctx, events)
		result <- save{req, how, time.Since(start)}
	}()
	return result
}

// inFlight waits for the next batch that s is given, and returns it.
func inFlight(t *testing.T, s *stalling) call {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no batch was recorded")
		return call{}
	}
}

// queued waits until n saves wait in g's queue.
func queued(t *testing.T, g *Group, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return g.Queued() == n }, 10*time.Second, time.Millisecond)
}

// returned waits for a save's result, failing the test if it takes longer
// than within.
func returned(t *testing.T, result <-chan save, within time.Duration, what string) save {
	t.Helper()
	select {
	case s := <-result:
		return s
	case <-time.After(within):
		t.Fatalf("%s has not returned after %v", what, within)
		return save{}
	}
}

// notReturned fails the test if a save has returned.
func notReturned(t *testing.T, result <-chan save, what string) {
	t.Helper()
	select {
	case s := <-result:
		t.Fatalf("%s returned (outcome %d, error %v)", what, s.how, s.req.Err)
	default:
	}
}

// deadlineMargin is how late after its own deadline a stalled save may
// return: room for a loaded machine, and far less than the gaps between
// the deadlines of the tests, so that a save kept to another one's
// deadline is caught.
const deadlineMargin = 500 * time.Millisecond

// requireReturnedAtItsDeadline asserts that a save returned because its
// context ended, within deadlineMargin of deadline, with outcome how.
func requireReturnedAtItsDeadline(t *testing.T, s save, deadline time.Duration, how Outcome) {
	t.Helper()
	require.Equal(t, how, s.how, "the save with a %v deadline", deadline)
	require.GreaterOrEqual(t, s.elapsed, deadline)
	require.Less(t, s.elapsed, deadline+deadlineMargin, "the save with a %v deadline returned %v after it", deadline, s.elapsed-deadline)
}

// A save alone is recorded at once, on its caller's goroutine, with its
// caller's context, as a batch of one.
func TestLoneSaveIsRecordedWithItsCallersContext(t *testing.T) {
	t.Parallel()
	s := newStalling()
	g := New(s.record)
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "caller")
	s.release()
	req, how := g.Save(ctx, events(2, "t"))
	require.Equal(t, Recorded, how)
	require.NoError(t, req.Err)
	require.Equal(t, []int64{1, 2}, req.IDs)
	c := inFlight(t, s)
	require.True(t, c.ctx == ctx, "recorded with the caller's own context")
	require.Equal(t, []*Request{req}, c.batch)
}

// A queued save whose context ends is withdrawn from the queue: it returns
// at once, and is in no batch; the saves queued with it are recorded.
func TestCanceledQueuedSaveIsWithdrawn(t *testing.T) {
	t.Parallel()
	s := newStalling()
	g := New(s.record)
	first := startSave(g, 0, events(1, "t"))
	inFlight(t, s)

	ctx, cancel := context.WithCancel(t.Context())
	withdrawn := make(chan save, 1)
	go func() {
		req, how := g.Save(ctx, events(1, "t"))
		withdrawn <- save{req: req, how: how}
	}()
	queued(t, g, 1)
	kept := startSave(g, 0, events(1, "t"))
	queued(t, g, 2)
	cancel()
	w := returned(t, withdrawn, 10*time.Second, "the canceled save")
	require.Equal(t, Withdrawn, w.how)
	require.Equal(t, 1, g.Queued(), "the canceled save left the queue")

	s.release()
	require.Equal(t, Recorded, returned(t, first, 10*time.Second, "the first save").how)
	batch := inFlight(t, s).batch
	require.Len(t, batch, 1)
	require.NotSame(t, w.req, batch[0], "the withdrawn save is not recorded")
	s.release()
	k := returned(t, kept, 10*time.Second, "the save queued with it")
	require.Equal(t, Recorded, k.how)
	require.Same(t, batch[0], k.req)
	require.Nil(t, w.req.IDs)
}

// Saves with mixed deadlines, one with none, stalled together: each
// returns when its own context ends, within a margin of its own deadline,
// not at the latest deadline of its batch nor when the batch is let
// through; the save without a deadline waits for its outcome. First with a
// save with a deadline in flight alone and the others recorded together
// behind it (their outcome then unknown), then with the save without a
// deadline in flight and the others waiting in the queue (then withdrawn).
func TestEachSaveReturnsAtItsOwnDeadline(t *testing.T) {
	t.Parallel()
	t.Run("a save with a deadline in flight", func(t *testing.T) {
		t.Parallel()
		s := newStalling()
		g := New(s.record)
		first := startSave(g, 300*time.Millisecond, events(1, "t"))
		inFlight(t, s)
		deadlines := []time.Duration{1500 * time.Millisecond, 3 * time.Second, 0}
		var results []<-chan save
		for i, d := range deadlines {
			results = append(results, startSave(g, d, events(1, "t")))
			queued(t, g, i+1)
		}
		f := returned(t, first, time.Minute, "the first save")
		requireReturnedAtItsDeadline(t, f, 300*time.Millisecond, Recorded)
		require.ErrorIs(t, f.req.Err, context.DeadlineExceeded, "its recording was given its own context")

		batch := inFlight(t, s)
		require.Len(t, batch.batch, 3, "the queued saves are one batch")
		_, ok := batch.ctx.Deadline()
		require.False(t, ok, "a batch with a save without a deadline has none")
		for i, d := range deadlines[:2] {
			requireReturnedAtItsDeadline(t, returned(t, results[i], time.Minute, "a queued save"), d, Unknown)
		}
		require.NoError(t, batch.ctx.Err(), "the batch goes on for the save without a deadline")
		notReturned(t, results[2], "the save without a deadline")
		s.release()
		last := returned(t, results[2], 10*time.Second, "the save without a deadline")
		require.Equal(t, Recorded, last.how)
		require.NoError(t, last.req.Err)
		require.Equal(t, []int64{3}, last.req.IDs, "the batch was recorded, after the first save")
	})
	t.Run("the save without a deadline in flight", func(t *testing.T) {
		t.Parallel()
		s := newStalling()
		g := New(s.record)
		first := startSave(g, 0, events(1, "t"))
		inFlight(t, s)
		deadlines := []time.Duration{300 * time.Millisecond, 3 * time.Second}
		var results []<-chan save
		for i, d := range deadlines {
			results = append(results, startSave(g, d, events(1, "t")))
			queued(t, g, i+1)
		}
		for i, d := range deadlines {
			requireReturnedAtItsDeadline(t, returned(t, results[i], time.Minute, "a queued save"), d, Withdrawn)
		}
		require.Zero(t, g.Queued())
		notReturned(t, first, "the save without a deadline")
		s.release()
		f := returned(t, first, 10*time.Second, "the save without a deadline")
		require.Equal(t, Recorded, f.how)
		require.Equal(t, []int64{1}, f.req.IDs)
		select {
		case c := <-s.calls:
			t.Fatalf("a batch of %d withdrawn saves was recorded", len(c.batch))
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// Each caller of a batch gets its own save's outcome: its IDs, or its
// error, and none of another's.
func TestEachCallerGetsItsOwnOutcome(t *testing.T) {
	t.Parallel()
	s := newStalling()
	g := New(s.record)
	first := startSave(g, 0, events(1, "t"))
	inFlight(t, s)
	sizes := []int{2, 1, 3, 1}
	topics := []string{"t", "refused", "t", "refused"}
	var results []<-chan save
	for i := range sizes {
		results = append(results, startSave(g, 0, events(sizes[i], topics[i])))
		queued(t, g, i+1)
	}
	s.release()
	require.Equal(t, []int64{1}, returned(t, first, 10*time.Second, "the first save").req.IDs)
	require.Len(t, inFlight(t, s).batch, 4, "the queued saves are one batch")
	time.Sleep(50 * time.Millisecond) // time for a caller woken too early to return
	for i, result := range results {
		notReturned(t, result, fmt.Sprintf("queued save %d, before its batch was recorded,", i))
	}
	s.release()
	var got [][]int64
	for i, result := range results {
		r := returned(t, result, 10*time.Second, "a queued save")
		require.Equal(t, Recorded, r.how)
		require.Len(t, r.req.Events, sizes[i], "save %d got its own request", i)
		if topics[i] == "refused" {
			require.ErrorIs(t, r.req.Err, errRefused, "save %d", i)
			require.Nil(t, r.req.IDs)
			continue
		}
		require.NoError(t, r.req.Err, "save %d", i)
		got = append(got, r.req.IDs)
	}
	require.Equal(t, [][]int64{{2, 3}, {4, 5, 6}}, got, "the saves were recorded in the order they queued")
}

// A batch holds at most MaxBatchEvents events, unless it is one larger
// save; the queue is recorded batch after batch, in order.
func TestBatchesAreBoundedInEvents(t *testing.T) {
	t.Parallel()
	s := newStalling()
	g := New(s.record)
	first := startSave(g, 0, events(1, "t"))
	inFlight(t, s)
	sizes := []int{MaxBatchEvents / 2, MaxBatchEvents / 2, 1, MaxBatchEvents + 1, 1}
	var results []<-chan save
	for i, n := range sizes {
		results = append(results, startSave(g, 0, events(n, "t")))
		queued(t, g, i+1)
	}
	s.release()
	returned(t, first, 10*time.Second, "the first save")
	var batches [][]int
	for range 4 {
		c := inFlight(t, s)
		var batch []int
		for _, req := range c.batch {
			batch = append(batch, len(req.Events))
		}
		batches = append(batches, batch)
		s.release()
	}
	require.Equal(t, [][]int{{MaxBatchEvents / 2, MaxBatchEvents / 2}, {1}, {MaxBatchEvents + 1}, {1}}, batches)
	for i, result := range results {
		r := returned(t, result, 10*time.Second, "a queued save")
		require.NoError(t, r.req.Err, "save %d", i)
		require.Len(t, r.req.IDs, sizes[i])
	}
}

// A batch of one is recorded with its save's context; a batch of several
// with one that none of their callers can cancel, ending at the latest of
// their deadlines, or never if one of them has none.
func TestBatchContext(t *testing.T) {
	t.Parallel()
	noDeadline := t.Context()
	soon, cancelSoon := context.WithTimeout(noDeadline, time.Hour)
	defer cancelSoon()
	later, cancelLater := context.WithTimeout(noDeadline, 2*time.Hour)
	defer cancelLater()
	latest, _ := later.Deadline()

	ctx, cancel := batchContext([]*Request{{Ctx: soon}})
	require.True(t, ctx == soon)
	cancel()
	require.NoError(t, soon.Err(), "canceling a batch of one leaves its caller's context alone")

	ctx, cancel = batchContext([]*Request{{Ctx: soon}, {Ctx: later}})
	defer cancel()
	deadline, ok := ctx.Deadline()
	require.True(t, ok)
	require.Equal(t, latest, deadline, "the latest deadline of the batch")
	cancelSoon()
	require.NoError(t, ctx.Err(), "a caller's cancellation does not cancel its batch")

	ctx, cancel = batchContext([]*Request{{Ctx: later}, {Ctx: noDeadline}})
	defer cancel()
	_, ok = ctx.Deadline()
	require.False(t, ok, "a save without a deadline: none")
}
