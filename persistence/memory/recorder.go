package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// AggregateRecorder keeps aggregate sequences in memory; use it for
// snapshots. It is safe for concurrent use.
type AggregateRecorder struct {
	mu sync.RWMutex
	// byOriginator holds each aggregate's events in ascending version order.
	byOriginator map[uuid.UUID][]persistence.StoredEvent
}

var _ persistence.AggregateRecorder = (*AggregateRecorder)(nil)

// NewAggregateRecorder returns an empty AggregateRecorder.
func NewAggregateRecorder() *AggregateRecorder {
	return &AggregateRecorder{byOriginator: map[uuid.UUID][]persistence.StoredEvent{}}
}

// InsertEvents records events atomically; see persistence.AggregateRecorder.
func (r *AggregateRecorder) InsertEvents(ctx context.Context, events []persistence.StoredEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkVersions(events); err != nil {
		return fmt.Errorf("%s: %w", recordOp(len(events), false), err)
	}
	r.add(events)
	return nil
}

// checkVersions returns a *persistence.ConcurrencyError if any event's
// version is recorded or repeated in events. The caller holds the lock.
func (r *AggregateRecorder) checkVersions(events []persistence.StoredEvent) error {
	type key struct {
		id      uuid.UUID
		version int64
	}
	seen := make(map[key]bool, len(events))
	for _, e := range events {
		k := key{e.OriginatorID, e.OriginatorVersion}
		if seen[k] || r.has(e.OriginatorID, e.OriginatorVersion) {
			return &persistence.ConcurrencyError{OriginatorID: e.OriginatorID, Version: e.OriginatorVersion}
		}
		seen[k] = true
	}
	return nil
}

func (r *AggregateRecorder) has(id uuid.UUID, version int64) bool {
	_, found := slices.BinarySearchFunc(r.byOriginator[id], version, compareVersion)
	return found
}

func compareVersion(e persistence.StoredEvent, version int64) int {
	switch {
	case e.OriginatorVersion < version:
		return -1
	case e.OriginatorVersion > version:
		return 1
	}
	return 0
}

// add records events whose versions were checked. The caller holds the lock.
func (r *AggregateRecorder) add(events []persistence.StoredEvent) {
	for _, e := range events {
		e = e.Clone()
		seq := r.byOriginator[e.OriginatorID]
		i, _ := slices.BinarySearchFunc(seq, e.OriginatorVersion, compareVersion)
		r.byOriginator[e.OriginatorID] = slices.Insert(seq, i, e)
	}
}

// SelectEvents returns events of one aggregate; see
// persistence.AggregateRecorder.
func (r *AggregateRecorder) SelectEvents(ctx context.Context, originatorID uuid.UUID, q persistence.EventQuery) ([]persistence.StoredEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []persistence.StoredEvent
	seq := r.byOriginator[originatorID]
	for i := range seq {
		e := seq[i]
		if q.Desc {
			e = seq[len(seq)-1-i]
		}
		if (q.Gt != nil && e.OriginatorVersion <= *q.Gt) || (q.Lte != nil && e.OriginatorVersion > *q.Lte) {
			continue
		}
		e = e.Clone()
		out = append(out, e)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// Recorder keeps aggregate sequences, the application sequence and
// tracking records in memory. It is the in-memory process recorder, and
// also an application and aggregate recorder. It is safe for concurrent use.
type Recorder struct {
	AggregateRecorder
	// notifications is the application sequence: notification i has ID i+1.
	notifications []persistence.StoredEvent
	tracking      map[string]map[int64]bool
	maxTracking   map[string]int64
	// The partitions of the upstream logs (see partitions.go).
	partitionMax map[partitionKey]int64 // largest tracked notification
	leases       *leases
}

var (
	_ persistence.ProcessRecorder   = (*Recorder)(nil)
	_ persistence.PartitionRecorder = (*Recorder)(nil)
)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{
		AggregateRecorder: *NewAggregateRecorder(),
		tracking:          map[string]map[int64]bool{},
		maxTracking:       map[string]int64{},
		partitionMax:      map[partitionKey]int64{},
		leases:            newLeases(),
	}
}

// InsertEvents records events atomically; see persistence.AggregateRecorder.
func (r *Recorder) InsertEvents(ctx context.Context, events []persistence.StoredEvent) error {
	_, err := r.insert(ctx, events, nil)
	return err
}

// InsertNotifications records events atomically and returns their
// notification IDs; see persistence.ApplicationRecorder.
func (r *Recorder) InsertNotifications(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
	return r.insert(ctx, events, nil)
}

// InsertTracked records events and tracking atomically; see
// persistence.ProcessRecorder.
func (r *Recorder) InsertTracked(ctx context.Context, events []persistence.StoredEvent, tracking persistence.Tracking) ([]int64, error) {
	return r.insert(ctx, events, []persistence.Tracking{tracking})
}

// InsertTrackedPage records events and all of trackings atomically; see
// persistence.ProcessRecorder.
func (r *Recorder) InsertTrackedPage(ctx context.Context, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	return r.insert(ctx, events, trackings)
}

func (r *Recorder) insert(ctx context.Context, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	type tracked struct {
		name string
		id   int64
	}
	seen := make(map[tracked]bool, len(trackings))
	for _, t := range trackings {
		key := tracked{t.ApplicationName, t.NotificationID}
		if seen[key] || r.tracking[t.ApplicationName][t.NotificationID] {
			return nil, fmt.Errorf("%s: %w", recordOp(len(events), len(trackings) > 0), &persistence.TrackingConflictError{Tracking: t})
		}
		seen[key] = true
	}
	if err := r.checkVersions(events); err != nil {
		return nil, fmt.Errorf("%s: %w", recordOp(len(events), len(trackings) > 0), err)
	}
	r.add(events)
	var ids []int64
	for _, e := range events {
		e = e.Clone()
		r.notifications = append(r.notifications, e)
		ids = append(ids, int64(len(r.notifications)))
	}
	for _, t := range trackings {
		name := t.ApplicationName
		if r.tracking[name] == nil {
			r.tracking[name] = map[int64]bool{}
		}
		r.tracking[name][t.NotificationID] = true
		r.maxTracking[name] = max(r.maxTracking[name], t.NotificationID)
		key := partitionKey{name, t.Partition}
		r.partitionMax[key] = max(r.partitionMax[key], t.NotificationID)
	}
	return ids, nil
}

// SelectNotifications returns notifications chosen by q; see
// persistence.ApplicationRecorder.
func (r *Recorder) SelectNotifications(ctx context.Context, q persistence.NotificationQuery) ([]persistence.Notification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return nil, fmt.Errorf("select notifications: limit %d: %w", q.Limit, persistence.ErrProgramming)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []persistence.Notification
	for id := max(q.Start, 1); id <= int64(len(r.notifications)); id++ {
		if q.Stop != nil && id > *q.Stop {
			break
		}
		e := r.notifications[id-1]
		if len(q.Topics) > 0 && !slices.Contains(q.Topics, e.Topic) ||
			q.CorrelationID != uuid.Nil && e.CorrelationID != q.CorrelationID {
			continue
		}
		e = e.Clone()
		out = append(out, persistence.Notification{ID: id, StoredEvent: e})
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// MaxNotificationID returns the largest notification ID, or 0; see
// persistence.ApplicationRecorder.
func (r *Recorder) MaxNotificationID(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return int64(len(r.notifications)), nil
}

// MaxTrackingID returns the largest tracked notification ID of an upstream
// application, or 0; see persistence.ProcessRecorder.
func (r *Recorder) MaxTrackingID(ctx context.Context, applicationName string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.maxTracking[applicationName], nil
}

// HasTrackingID reports whether a notification of an upstream application
// is tracked; see persistence.ProcessRecorder.
func (r *Recorder) HasTrackingID(ctx context.Context, applicationName string, notificationID int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tracking[applicationName][notificationID], nil
}

// recordOp names a write for its errors, as the Postgres recorder does:
// `record 2 events`, or `record 1 event with tracking`.
func recordOp(n int, tracking bool) string {
	op := fmt.Sprintf("record %d events", n)
	if n == 1 {
		op = "record 1 event"
	}
	if tracking {
		op += " with tracking"
	}
	return op
}
