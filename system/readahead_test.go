package system_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// overlapReader is a NotificationReader that records whether a read of
// the notifications after the first page began before the policy of the
// first notification was done (see blockUntilOverlap), and can fail the
// first such read.
type overlapReader struct {
	log       app.NotificationReader
	firstDone atomic.Bool   // the policy of notification 1 is done waiting
	overlap   chan struct{} // closed when a read from past 1 begins before firstDone
	once      sync.Once
	failOnce  bool // fail the first read that closes overlap

	mu     sync.Mutex
	starts []int64 // the start of every read, in order
	failed int64   // the start of the read that failed, if any
}

func newOverlapReader(log app.NotificationReader, failOnce bool) *overlapReader {
	return &overlapReader{log: log, overlap: make(chan struct{}), failOnce: failOnce}
}

var errInjectedRead = errors.New("injected read error")

func (r *overlapReader) ReadNotifications(ctx context.Context, start int64, limit int, topics ...string) ([]persistence.Notification, error) {
	r.mu.Lock()
	r.starts = append(r.starts, start)
	r.mu.Unlock()
	if start > 1 && !r.firstDone.Load() {
		fail := false
		r.once.Do(func() {
			fail = r.failOnce
			if fail {
				r.mu.Lock()
				r.failed = start
				r.mu.Unlock()
			}
			close(r.overlap)
		})
		if fail {
			return nil, errInjectedRead
		}
	}
	return r.log.ReadNotifications(ctx, start, limit, topics...)
}

func (r *overlapReader) MaxNotificationID(ctx context.Context) (int64, error) {
	return r.log.MaxNotificationID(ctx)
}

// blockUntilOverlap wraps policy: at the first notification, it runs
// policy only once a read of the notifications after the first page has
// begun (before or while it waits), or after a timeout. Without a read
// ahead, that read begins only after the first page is processed, so the
// policy waits out the timeout and no overlap is recorded.
func (r *overlapReader) blockUntilOverlap(policy system.Policy) system.Policy {
	return func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		if pe.Tracking.NotificationID == 1 {
			select {
			case <-r.overlap:
			case <-time.After(10 * time.Second): // no read ahead
			}
			r.firstDone.Store(true)
		}
		return policy(ctx, p, e, pe)
	}
}

// overlapped reports whether a read of the notifications after the first
// page began before the first notification's policy was done.
func (r *overlapReader) overlapped() bool {
	select {
	case <-r.overlap:
		return true
	default:
		return false
	}
}

// eachOnce wraps policy and counts its runs per notification.
func eachOnce(policy system.Policy, mu *sync.Mutex, runs map[int64]int) system.Policy {
	return func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		mu.Lock()
		runs[pe.Tracking.NotificationID]++
		mu.Unlock()
		return policy(ctx, p, e, pe)
	}
}

// readAheadPair returns a Counters follower of 150 worlds (300
// notifications, in reads of 100) that reads through an overlapReader,
// and the runs of its policy per notification.
func readAheadPair(t *testing.T, failOnce bool) (*system.ProcessApplication, *overlapReader, map[int64]int) {
	t.Helper()
	runs, mu := map[int64]int{}, &sync.Mutex{}
	var reader *overlapReader
	policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		return reader.blockUntilOverlap(eachOnce(counters.Policy, mu, runs))(ctx, p, e, pe)
	}
	leader, process := pagingPair(t, map[string]string{"PERSISTENCE_MODULE": "memory"}, 150, policy, system.Paging{Size: 100})
	reader = newOverlapReader(leader.Log(), failOnce)
	process.FollowLog(leader.Name(), reader, leader.Mapper())
	return process, reader, runs
}

// requireProcessedOnce checks that each of the 300 notifications of
// readAheadPair was processed once.
func requireProcessedOnce(t *testing.T, process *system.ProcessApplication, runs map[int64]int) {
	t.Helper()
	require.Len(t, runs, 300)
	for id := int64(1); id <= 300; id++ {
		require.Equal(t, 1, runs[id], "policy runs of notification %d", id)
	}
	tracked, err := process.Recorder().MaxTrackingID(t.Context(), counters.WorldsName)
	require.NoError(t, err)
	require.EqualValues(t, 300, tracked)
	requireThingCounts(t, process, 150)
}

// The next notifications are read while the policies of a page run
// (issue 13's pipelining): the policy of the first notification waits for
// a read to begin, and one does, of the notifications after the page.
func TestNextNotificationsAreReadWhileAPageIsProcessed(t *testing.T) {
	t.Parallel()
	process, reader, runs := readAheadPair(t, false)
	n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
	require.NoError(t, err)
	require.Equal(t, 300, n)
	require.True(t, reader.overlapped(), "the next notifications were read before the first page was processed")
	require.Equal(t, []int64{1, 101, 201, 301}, reader.starts, "each notification read once")
	requireProcessedOnce(t, process, runs)
}

// A read ahead that fails is tried again when its notifications are
// needed: every notification is processed once, and nothing fails.
func TestFailedReadAheadIsTriedAgain(t *testing.T) {
	t.Parallel()
	process, reader, runs := readAheadPair(t, true)
	n, err := process.PullAndProcess(t.Context(), counters.WorldsName)
	require.NoError(t, err)
	require.Equal(t, 300, n)
	require.True(t, reader.overlapped(), "the next notifications were read before the first page was processed")
	require.EqualValues(t, 101, reader.failed, "the read ahead of the second page failed")
	require.Equal(t, []int64{1, 101, 101, 201, 301}, reader.starts, "the failed read was tried again")
	requireProcessedOnce(t, process, runs)
}
