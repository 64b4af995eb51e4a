// Package recordertest is the one conformance suite that every recorder
// implementation must pass. It checks each of the Python library's twelve persistence
// requirements that a recorder can show. Implementations call Run (process
// recorders) and RunAggregate (aggregate recorders such as snapshot stores)
// from their tests.
package recordertest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Run runs the conformance suite for process recorders (which are also
// application and aggregate recorders). newRecorder must return a new,
// empty recorder each time it is called.
func Run(t *testing.T, newRecorder func(t *testing.T) persistence.ProcessRecorder) {
	RunAggregate(t, func(t *testing.T) persistence.AggregateRecorder { return newRecorder(t) })
	tests := []struct {
		name string
		fn   func(t *testing.T, r persistence.ProcessRecorder)
	}{
		{"EveryEventGetsANotification", testEveryEventGetsANotification},
		{"InsertReturnsNotificationIDs", testInsertReturnsNotificationIDs},
		{"NotificationIDsIncreaseInInsertOrder", testNotificationIDsIncreaseInInsertOrder},
		{"FailedBatchLeavesNoTraceInEitherSequence", testFailedBatchLeavesNoTrace},
		{"MaxNotificationIDZeroWhenEmpty", testMaxNotificationIDZeroWhenEmpty},
		{"SelectNotificationsStartLimit", testSelectNotificationsStartLimit},
		{"SelectNotificationsStopInclusive", testSelectNotificationsStop},
		{"SelectNotificationsTopicsFilterBeforeLimit", testSelectNotificationsTopics},
		{"SelectNotificationsRejectsNonPositiveLimit", testSelectNotificationsLimitRequired},
		{"SelectNotificationsByCorrelation", testSelectNotificationsCorrelation},
		{"MetadataRoundTrips", testMetadataRoundTrips},
		{"GapAfterRollbackIsTolerated", testGapAfterRollbackIsTolerated},
		{"TrackingRecordedWithEvents", testTrackingRecordedWithEvents},
		{"TrackingWithoutEventsIsRecorded", testTrackingWithoutEvents},
		{"DuplicateTrackingIsIntegrityError", testDuplicateTracking},
		{"TrackedPageRecordsEveryTrackingWithTheEvents", testTrackedPage},
		{"TrackedPageConflictNamesTheTrackingAndRecordsNothing", testTrackedPageConflict},
		{"EventConflictRollsBackTracking", testEventConflictRollsBackTracking},
		{"MaxTrackingIDPerApplication", testMaxTrackingIDPerApplication},
		{"TrackingOutOfOrderAllowedMaxIsMax", testTrackingOutOfOrder},
		{"HasTrackingID", testHasTrackingID},
		{"ConcurrentWritersTailingReaderMissesNothing", testConcurrentWritersTailingReader},
		{"ConcurrentConflictingWritersOneWins", testConcurrentConflictingWriters},
		{"ConcurrentTrackingOneWins", testConcurrentTracking},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newRecorder(t))
		})
	}
	t.Run("Partitions", func(t *testing.T) { runPartitions(t, newRecorder) })
}

// RunAggregate runs the part of the suite that holds for every aggregate
// recorder. newRecorder must return a new, empty recorder each time.
func RunAggregate(t *testing.T, newRecorder func(t *testing.T) persistence.AggregateRecorder) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r persistence.AggregateRecorder)
	}{
		{"StoredEventHoldsAnyEventType", testStoredEventHoldsAnyType},
		{"SelectEventsByOriginator", testSelectEventsByOriginator},
		{"SelectEventsAscendingByVersion", testSelectEventsAscending},
		{"SelectEventsFilters", testSelectEventsFilters},
		{"InsertDuplicateVersionIsIntegrityError", testDuplicateVersion},
		{"DuplicateWithinBatchIsIntegrityError", testDuplicateWithinBatch},
		{"EmptyInsertIsNoop", testEmptyInsert},
		{"CanceledContextIsAnError", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newRecorder(t))
		})
	}
}

// event returns a stored event of originator id at version.
func event(id uuid.UUID, version int64) persistence.StoredEvent {
	return persistence.StoredEvent{
		OriginatorID:      id,
		OriginatorVersion: version,
		Topic:             "recordertest:Event",
		State:             []byte(fmt.Sprintf(`{"v":%d}`, version)),
	}
}

func ptr(n int64) *int64 { return &n }

func selectAll(t *testing.T, r persistence.ApplicationRecorder) []persistence.Notification {
	t.Helper()
	ns, err := r.SelectNotifications(t.Context(), persistence.NotificationQuery{Start: 1, Limit: 1 << 20})
	require.NoError(t, err)
	return ns
}

func requireEvents(t *testing.T, want, got []persistence.StoredEvent) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Truef(t, want[i].Equal(got[i]), "event %d: want %+v, got %+v", i, want[i], got[i])
	}
}

// One universal type records every kind of event.
func testStoredEventHoldsAnyType(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	id := uuid.New()
	events := []persistence.StoredEvent{
		{OriginatorID: id, OriginatorVersion: 1, Topic: "bank:AccountOpened", State: []byte(`{"name":"Alice"}`)},
		{OriginatorID: id, OriginatorVersion: 2, Topic: "bank:Deposited", State: []byte{0, 1, 2, 255}},
		{OriginatorID: id, OriginatorVersion: 3, Topic: "bank:Closed", State: []byte{}},
		{OriginatorID: id, OriginatorVersion: 4, Topic: "bank:Reopened", State: nil},
	}
	require.NoError(t, r.InsertEvents(ctx, events))
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	requireEvents(t, events, got)
}

// An aggregate's events are selected by its id.
func testSelectEventsByOriginator(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	a, b := uuid.New(), uuid.New()
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{event(a, 1), event(b, 1), event(a, 2)}))
	got, err := r.SelectEvents(ctx, a, persistence.EventQuery{})
	require.NoError(t, err)
	requireEvents(t, []persistence.StoredEvent{event(a, 1), event(a, 2)}, got)
	got, err = r.SelectEvents(ctx, uuid.New(), persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got)
}

// Events come back in version order, whatever the insert order.
func testSelectEventsAscending(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	id := uuid.New()
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{event(id, 3), event(id, 1)}))
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{event(id, 2)}))
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	requireEvents(t, []persistence.StoredEvent{event(id, 1), event(id, 2), event(id, 3)}, got)
}

func testSelectEventsFilters(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	id := uuid.New()
	var all []persistence.StoredEvent
	for v := int64(1); v <= 5; v++ {
		all = append(all, event(id, v))
	}
	require.NoError(t, r.InsertEvents(ctx, all))
	versions := func(vs ...int64) []persistence.StoredEvent {
		var out []persistence.StoredEvent
		for _, v := range vs {
			out = append(out, event(id, v))
		}
		return out
	}
	cases := []struct {
		name string
		q    persistence.EventQuery
		want []persistence.StoredEvent
	}{
		{"all", persistence.EventQuery{}, versions(1, 2, 3, 4, 5)},
		{"gt", persistence.EventQuery{Gt: ptr(2)}, versions(3, 4, 5)},
		{"lte", persistence.EventQuery{Lte: ptr(2)}, versions(1, 2)},
		{"gt and lte", persistence.EventQuery{Gt: ptr(1), Lte: ptr(3)}, versions(2, 3)},
		{"desc", persistence.EventQuery{Desc: true}, versions(5, 4, 3, 2, 1)},
		{"limit", persistence.EventQuery{Limit: 2}, versions(1, 2)},
		{"desc limit is latest", persistence.EventQuery{Desc: true, Limit: 1}, versions(5)},
		{"latest at or below a version", persistence.EventQuery{Lte: ptr(3), Desc: true, Limit: 1}, versions(3)},
		{"gt lte desc limit", persistence.EventQuery{Gt: ptr(1), Lte: ptr(4), Desc: true, Limit: 2}, versions(4, 3)},
		{"gt beyond last", persistence.EventQuery{Gt: ptr(5)}, nil},
	}
	for _, c := range cases {
		got, err := r.SelectEvents(ctx, id, c.q)
		require.NoError(t, err, c.name)
		require.Lenf(t, got, len(c.want), "%s", c.name)
		for i := range c.want {
			require.Truef(t, c.want[i].Equal(got[i]), "%s: event %d: want v%d, got v%d", c.name, i, c.want[i].OriginatorVersion, got[i].OriginatorVersion)
		}
	}
}

// One event per position; a conflict records nothing of the batch.
func testDuplicateVersion(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	id, other := uuid.New(), uuid.New()
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{event(id, 1)}))
	dup := event(id, 1)
	dup.State = []byte(`{"overwrite":true}`)
	err := r.InsertEvents(ctx, []persistence.StoredEvent{event(other, 1), dup, event(id, 2)})
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	require.ErrorIs(t, err, persistence.ErrDatabase)
	var conflict *persistence.ConcurrencyError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, id, conflict.OriginatorID)
	require.Equal(t, int64(1), conflict.Version)

	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	requireEvents(t, []persistence.StoredEvent{event(id, 1)}, got)
	got, err = r.SelectEvents(ctx, other, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got, "no event of a failed batch may be recorded")
}

func testDuplicateWithinBatch(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	id := uuid.New()
	err := r.InsertEvents(ctx, []persistence.StoredEvent{event(id, 1), event(id, 2), event(id, 1)})
	var conflict *persistence.ConcurrencyError
	require.ErrorAs(t, err, &conflict)
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func testEmptyInsert(t *testing.T, r persistence.AggregateRecorder) {
	ctx := t.Context()
	require.NoError(t, r.InsertEvents(ctx, nil))
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{}))
	if ar, ok := r.(persistence.ApplicationRecorder); ok {
		ids, err := ar.InsertNotifications(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, ids)
		max, err := ar.MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Zero(t, max)
	}
}

func testCanceledContext(t *testing.T, r persistence.AggregateRecorder) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	id := uuid.New()
	require.ErrorIs(t, r.InsertEvents(ctx, []persistence.StoredEvent{event(id, 1)}), context.Canceled)
	_, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.ErrorIs(t, err, context.Canceled)
	got, err := r.SelectEvents(t.Context(), id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got)
}

// Every event recorded by an application recorder is a notification.
func testEveryEventGetsANotification(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	a, b := uuid.New(), uuid.New()
	events := []persistence.StoredEvent{event(a, 1), event(b, 1), event(a, 2)}
	require.NoError(t, r.InsertEvents(ctx, events))
	ns := selectAll(t, r)
	require.Len(t, ns, 3)
	for i, n := range ns {
		require.Truef(t, events[i].Equal(n.StoredEvent), "notification %d", i)
	}
}

// Writers learn the positions of what they recorded.
func testInsertReturnsNotificationIDs(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	id := uuid.New()
	ids1, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 1), event(id, 2)})
	require.NoError(t, err)
	require.Len(t, ids1, 2)
	ids2, err := r.InsertTracked(ctx, []persistence.StoredEvent{event(id, 3)}, persistence.Tracking{ApplicationName: "up", NotificationID: 1})
	require.NoError(t, err)
	require.Len(t, ids2, 1)
	ns := selectAll(t, r)
	require.Len(t, ns, 3)
	for i, want := range append(ids1, ids2...) {
		require.Equal(t, want, ns[i].ID)
		require.Equal(t, int64(i+1), ns[i].OriginatorVersion, "id %d names the event inserted at that position", want)
	}
	max, err := r.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, ids2[0], max)
}

// Ids increase in insert order and are unique.
func testNotificationIDsIncreaseInInsertOrder(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	var want []int64
	for i := 0; i < 10; i++ {
		id := uuid.New()
		ids, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 1), event(id, 2)})
		require.NoError(t, err)
		want = append(want, ids...)
	}
	require.True(t, sort.SliceIsSorted(want, func(i, j int) bool { return want[i] < want[j] }))
	seen := map[int64]bool{}
	for i, n := range selectAll(t, r) {
		require.False(t, seen[n.ID], "notification id %d repeated", n.ID)
		seen[n.ID] = true
		require.Equal(t, want[i], n.ID)
		if i > 0 {
			require.Greater(t, n.ID, want[i-1])
		}
	}
	require.Len(t, seen, 20)
}

// A failed batch appears in neither sequence.
func testFailedBatchLeavesNoTrace(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	id, fresh := uuid.New(), uuid.New()
	_, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 1)})
	require.NoError(t, err)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(fresh, 1), event(id, 1)})
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	got, err := r.SelectEvents(ctx, fresh, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got)
	ns := selectAll(t, r)
	require.Len(t, ns, 1)
	require.Equal(t, id, ns[0].OriginatorID)
}

func testMaxNotificationIDZeroWhenEmpty(t *testing.T, r persistence.ProcessRecorder) {
	max, err := r.MaxNotificationID(t.Context())
	require.NoError(t, err)
	require.Zero(t, max)
	require.Empty(t, selectAll(t, r))
}

// insertN records n events (one aggregate each) and returns their ids.
func insertN(t *testing.T, r persistence.ApplicationRecorder, n int, topic string) []int64 {
	t.Helper()
	var ids []int64
	for i := 0; i < n; i++ {
		e := event(uuid.New(), 1)
		e.Topic = topic
		got, err := r.InsertNotifications(t.Context(), []persistence.StoredEvent{e})
		require.NoError(t, err)
		ids = append(ids, got...)
	}
	return ids
}

func notificationIDs(ns []persistence.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func testSelectNotificationsStartLimit(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	ids := insertN(t, r, 5, "t:A")
	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: ids[1], Limit: 2})
	require.NoError(t, err)
	require.Equal(t, ids[1:3], notificationIDs(ns))
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: ids[4] + 1, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, ns)
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 0, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, ids, notificationIDs(ns))
}

func testSelectNotificationsStop(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	ids := insertN(t, r, 5, "t:A")
	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: ids[0], Limit: 10, Stop: ptr(ids[2])})
	require.NoError(t, err)
	require.Equal(t, ids[:3], notificationIDs(ns), "stop is inclusive")
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: ids[0], Limit: 2, Stop: ptr(ids[3])})
	require.NoError(t, err)
	require.Equal(t, ids[:2], notificationIDs(ns), "limit applies within stop")
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: ids[3], Limit: 10, Stop: ptr(ids[2])})
	require.NoError(t, err)
	require.Empty(t, ns)
}

func testSelectNotificationsTopics(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	var a, b []int64
	for i := 0; i < 4; i++ {
		a = append(a, insertN(t, r, 1, "t:A")...)
		b = append(b, insertN(t, r, 1, "t:B")...)
	}
	insertN(t, r, 2, "t:C")
	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 3, Topics: []string{"t:B"}})
	require.NoError(t, err)
	require.Equal(t, b[:3], notificationIDs(ns), "the limit counts matching notifications")
	for _, n := range ns {
		require.Equal(t, "t:B", n.Topic)
	}
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100, Topics: []string{"t:A", "t:B"}})
	require.NoError(t, err)
	want := append(append([]int64{}, a...), b...)
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	require.Equal(t, want, notificationIDs(ns))
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100, Topics: []string{"t:A"}, Stop: ptr(a[1])})
	require.NoError(t, err)
	require.Equal(t, a[:2], notificationIDs(ns))
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100, Topics: []string{"t:none"}})
	require.NoError(t, err)
	require.Empty(t, ns)
}

func testSelectNotificationsLimitRequired(t *testing.T, r persistence.ProcessRecorder) {
	_, err := r.SelectNotifications(t.Context(), persistence.NotificationQuery{Start: 1, Limit: 0})
	require.ErrorIs(t, err, persistence.ErrProgramming)
}

// A rolled-back insert may leave a gap in the ids; readers step over it.
func testGapAfterRollbackIsTolerated(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	id := uuid.New()
	first, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 1)})
	require.NoError(t, err)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1), event(uuid.New(), 1), event(id, 1)})
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	second, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 2)})
	require.NoError(t, err)
	require.Greater(t, second[0], first[0])

	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: first[0], Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []int64{first[0], second[0]}, notificationIDs(ns))
	// A reader that read a section ending at the first id starts at the
	// next id and finds the second event, whatever gap lies between.
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: first[0] + 1, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []int64{second[0]}, notificationIDs(ns))
}

// Tracking recorded with the events, atomically.
func testTrackingRecordedWithEvents(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	id := uuid.New()
	ids, err := r.InsertTracked(ctx, []persistence.StoredEvent{event(id, 1)}, persistence.Tracking{ApplicationName: "upstream", NotificationID: 21})
	require.NoError(t, err)
	require.Len(t, ids, 1)
	max, err := r.MaxTrackingID(ctx, "upstream")
	require.NoError(t, err)
	require.Equal(t, int64(21), max)
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	requireEvents(t, []persistence.StoredEvent{event(id, 1)}, got)
}

func testTrackingWithoutEvents(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	ids, err := r.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "upstream", NotificationID: 7})
	require.NoError(t, err)
	require.Empty(t, ids)
	has, err := r.HasTrackingID(ctx, "upstream", 7)
	require.NoError(t, err)
	require.True(t, has)
	max, err := r.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Zero(t, max)
}

// A page: the events of several upstream notifications and a tracking
// record for each, atomically, in order.
func testTrackedPage(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	a, b := uuid.New(), uuid.New()
	page := []persistence.Tracking{{ApplicationName: "upstream", NotificationID: 3}, {ApplicationName: "upstream", NotificationID: 4},
		{ApplicationName: "upstream", NotificationID: 6}, {ApplicationName: "other", NotificationID: 1}}
	events := []persistence.StoredEvent{event(a, 1), event(b, 1), event(a, 2)}
	ids, err := r.InsertTrackedPage(ctx, events, page)
	require.NoError(t, err)
	require.Len(t, ids, 3)
	require.Less(t, ids[0], ids[1])
	require.Less(t, ids[1], ids[2])
	requireEvents(t, events, storedEvents(selectAll(t, r)))
	for _, tr := range page {
		has, err := r.HasTrackingID(ctx, tr.ApplicationName, tr.NotificationID)
		require.NoError(t, err)
		require.True(t, has, "%+v", tr)
	}
	has, err := r.HasTrackingID(ctx, "upstream", 5)
	require.NoError(t, err)
	require.False(t, has, "a notification not in the page")
	max, err := r.MaxTrackingID(ctx, "upstream")
	require.NoError(t, err)
	require.Equal(t, int64(6), max)

	// A page whose notifications produced nothing is tracked all the same.
	ids, err = r.InsertTrackedPage(ctx, nil, []persistence.Tracking{{ApplicationName: "upstream", NotificationID: 7}, {ApplicationName: "upstream", NotificationID: 8}})
	require.NoError(t, err)
	require.Empty(t, ids)
	max, err = r.MaxTrackingID(ctx, "upstream")
	require.NoError(t, err)
	require.Equal(t, int64(8), max)
}

// A page with one tracking record recorded already, or repeated, records
// nothing, and the error names that record.
func testTrackedPageConflict(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	done := persistence.Tracking{ApplicationName: "up, stream", NotificationID: 2}
	_, err := r.InsertTracked(ctx, nil, done)
	require.NoError(t, err)
	a := uuid.New()
	for name, page := range map[string][]persistence.Tracking{
		"recorded already": {{ApplicationName: "up, stream", NotificationID: 1}, done, {ApplicationName: "up, stream", NotificationID: 3}},
		"repeated":         {{ApplicationName: "up, stream", NotificationID: 4}, {ApplicationName: "up, stream", NotificationID: 4}},
	} {
		_, err := r.InsertTrackedPage(ctx, []persistence.StoredEvent{event(a, 1)}, page)
		require.ErrorIs(t, err, persistence.ErrIntegrity, name)
		var conflict *persistence.TrackingConflictError
		require.ErrorAs(t, err, &conflict, name)
		want := done
		if name == "repeated" {
			want = page[0]
		}
		require.Equal(t, want, conflict.Tracking, name)
		require.True(t, persistence.IsConflict(err), name)
	}
	require.Empty(t, selectAll(t, r), "no event of a conflicting page is recorded")
	for _, n := range []int64{1, 3, 4} {
		has, err := r.HasTrackingID(ctx, "up, stream", n)
		require.NoError(t, err)
		require.False(t, has, "no tracking record of a conflicting page is recorded: %d", n)
	}
}

func testDuplicateTracking(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	tracking := persistence.Tracking{ApplicationName: "upstream", NotificationID: 5}
	a, b := uuid.New(), uuid.New()
	_, err := r.InsertTracked(ctx, []persistence.StoredEvent{event(a, 1)}, tracking)
	require.NoError(t, err)
	_, err = r.InsertTracked(ctx, []persistence.StoredEvent{event(b, 1), event(a, 2)}, tracking)
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	var conflict *persistence.TrackingConflictError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, tracking, conflict.Tracking)
	var concurrency *persistence.ConcurrencyError
	require.False(t, errors.As(err, &concurrency), "a tracking conflict is not a version conflict")

	got, err := r.SelectEvents(ctx, b, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got, "events of a batch whose tracking conflicts must not be recorded")
	got, err = r.SelectEvents(ctx, a, persistence.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Len(t, selectAll(t, r), 1)
	// The same notification of another upstream application is distinct.
	_, err = r.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "other", NotificationID: 5})
	require.NoError(t, err)
}

func testEventConflictRollsBackTracking(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	id := uuid.New()
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{event(id, 1)}))
	_, err := r.InsertTracked(ctx, []persistence.StoredEvent{event(id, 1)}, persistence.Tracking{ApplicationName: "upstream", NotificationID: 3})
	var conflict *persistence.ConcurrencyError
	require.ErrorAs(t, err, &conflict)
	has, err := r.HasTrackingID(ctx, "upstream", 3)
	require.NoError(t, err)
	require.False(t, has, "tracking of a failed batch must not be recorded")
	max, err := r.MaxTrackingID(ctx, "upstream")
	require.NoError(t, err)
	require.Zero(t, max)
}

func testMaxTrackingIDPerApplication(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	max, err := r.MaxTrackingID(ctx, "a")
	require.NoError(t, err)
	require.Zero(t, max)
	for _, tr := range []persistence.Tracking{{ApplicationName: "a", NotificationID: 1}, {ApplicationName: "a", NotificationID: 2}, {ApplicationName: "b", NotificationID: 10}, {ApplicationName: "a", NotificationID: 3}} {
		_, err := r.InsertTracked(ctx, nil, tr)
		require.NoError(t, err)
	}
	for app, want := range map[string]int64{"a": 3, "b": 10, "c": 0} {
		max, err := r.MaxTrackingID(ctx, app)
		require.NoError(t, err)
		require.Equal(t, want, max, app)
	}
}

func testTrackingOutOfOrder(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	for _, n := range []int64{5, 2, 9, 3} {
		_, err := r.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "up", NotificationID: n})
		require.NoError(t, err, "tracking %d", n)
	}
	max, err := r.MaxTrackingID(ctx, "up")
	require.NoError(t, err)
	require.Equal(t, int64(9), max)
}

func testHasTrackingID(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	_, err := r.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "up", NotificationID: 2})
	require.NoError(t, err)
	for _, c := range []struct {
		app  string
		id   int64
		want bool
	}{{"up", 2, true}, {"up", 1, false}, {"up", 3, false}, {"down", 2, false}} {
		has, err := r.HasTrackingID(ctx, c.app, c.id)
		require.NoError(t, err)
		require.Equal(t, c.want, has, "%s %d", c.app, c.id)
	}
}

// Eight writers, with conflicting saves leaving gaps, and
// a reader tailing the log as fast as it can: the reader sees every
// acknowledged notification exactly once, in ascending order. (The
// PostgreSQL tests also run TailingReaderMisses with transactions held
// open after their insert, and show that it catches a missing lock.)
func testConcurrentWritersTailingReader(t *testing.T, r persistence.ProcessRecorder) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	missed, acknowledged, err := TailingReaderMisses(ctx, r, r.InsertNotifications, 8, 40)
	require.NoError(t, err)
	require.Emptyf(t, missed, "the tailing reader missed %d of %d acknowledged notifications", len(missed), acknowledged)
}

// Under concurrency, of writers recording the same version
// at once, exactly one wins; see UniqueVersions.
func testConcurrentConflictingWriters(t *testing.T, r persistence.ProcessRecorder) {
	require.NoError(t, UniqueVersions(t.Context(), r, 8))
}

// Under concurrency, of saves recording the same tracking
// record at once, exactly one wins; see UniqueTracking.
func testConcurrentTracking(t *testing.T, r persistence.ProcessRecorder) {
	require.NoError(t, UniqueTracking(t.Context(), r, 8))
}

func storedEvents(ns []persistence.Notification) []persistence.StoredEvent {
	out := make([]persistence.StoredEvent, len(ns))
	for i, n := range ns {
		out[i] = n.StoredEvent
	}
	return out
}

// RunSnapshots runs RunAggregate and the cases of a snapshot store, whose
// snapshots also record their hash and head hash. newRecorder must return
// a new, empty recorder each time.
func RunSnapshots(t *testing.T, newRecorder func(t *testing.T) persistence.AggregateRecorder) {
	RunAggregate(t, newRecorder)
	t.Run("SnapshotHashesRoundTrip", func(t *testing.T) {
		t.Parallel()
		r := newRecorder(t)
		id := uuid.New()
		plain, hashed := event(id, 1), event(id, 2)
		hashed.Hash, hashed.HeadHash = []byte{1, 0xaa, 0xbb}, []byte{1, 0xcc}
		require.NoError(t, r.InsertEvents(t.Context(), []persistence.StoredEvent{plain, hashed}))
		got, err := r.SelectEvents(t.Context(), id, persistence.EventQuery{})
		require.NoError(t, err)
		requireEvents(t, []persistence.StoredEvent{plain, hashed}, got)
	})
}

// withMetadata returns e with every metadata field of an event set, from
// seed, or only some of them when partial.
func withMetadata(e persistence.StoredEvent, seed byte, partial bool) persistence.StoredEvent {
	e.EventID = uuid.New()
	e.CorrelationID = uuid.UUID{seed, 1}
	if partial {
		return e
	}
	e.CausationID = uuid.New()
	e.TraceContext = []byte{0, seed, 2}
	e.Hash = []byte{1, seed, 3}
	return e
}

// Every insert path records the events' metadata, and reads give it back;
// events without it read back the zero values.
func testMetadataRoundTrips(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	var want []persistence.StoredEvent
	id := uuid.New()
	plain := event(id, 1)
	full := withMetadata(event(id, 2), 7, false)
	partial := withMetadata(event(id, 3), 8, true)
	_, err := r.InsertNotifications(ctx, []persistence.StoredEvent{plain, full, partial})
	require.NoError(t, err)
	want = append(want, plain, full, partial)
	tracked := withMetadata(event(id, 4), 9, false)
	_, err = r.InsertTracked(ctx, []persistence.StoredEvent{tracked}, persistence.Tracking{ApplicationName: "up", NotificationID: 1})
	require.NoError(t, err)
	page := withMetadata(event(id, 5), 10, false)
	_, err = r.InsertTrackedPage(ctx, []persistence.StoredEvent{page}, []persistence.Tracking{
		{ApplicationName: "up", NotificationID: 2}, {ApplicationName: "up", NotificationID: 3, Partition: 1}})
	require.NoError(t, err)
	want = append(want, tracked, page)

	// Concurrent saves, which a recorder may record together.
	var wg sync.WaitGroup
	concurrent := make([]persistence.StoredEvent, 8)
	errs := make([]error, len(concurrent))
	for i := range concurrent {
		concurrent[i] = withMetadata(event(uuid.New(), 1), byte(20+i), i%2 == 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.InsertNotifications(ctx, concurrent[i:i+1])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	requireEvents(t, want, got)
	got, err = r.SelectEvents(ctx, id, persistence.EventQuery{Desc: true, Limit: 1})
	require.NoError(t, err)
	requireEvents(t, want[len(want)-1:], got)
	ns := selectAll(t, r)
	byKey := map[[2]any]persistence.StoredEvent{}
	for _, n := range ns {
		byKey[[2]any{n.OriginatorID, n.OriginatorVersion}] = n.StoredEvent
	}
	require.Len(t, byKey, len(want)+len(concurrent))
	for _, e := range append(want, concurrent...) {
		got := byKey[[2]any{e.OriginatorID, e.OriginatorVersion}]
		require.Truef(t, e.Equal(got), "notification of %s v%d: want %+v, got %+v", e.OriginatorID, e.OriginatorVersion, e, got)
	}
}

// The correlation ID filters notifications, before the limit, with the
// other conditions.
func testSelectNotificationsCorrelation(t *testing.T, r persistence.ProcessRecorder) {
	ctx := t.Context()
	story := uuid.New()
	var ids []int64
	for i := range 6 {
		e := event(uuid.New(), 1)
		if i%2 == 1 {
			e.CorrelationID = story
		} else if i == 2 {
			e.CorrelationID = uuid.New()
		}
		got, err := r.InsertNotifications(ctx, []persistence.StoredEvent{e})
		require.NoError(t, err)
		if i%2 == 1 {
			ids = append(ids, got...)
		}
	}
	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 2, CorrelationID: story})
	require.NoError(t, err)
	require.Equal(t, ids[:2], notificationIDs(ns), "the limit counts matching notifications")
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: ids[0] + 1, Limit: 10, CorrelationID: story, Topics: []string{"recordertest:Event"}})
	require.NoError(t, err)
	require.Equal(t, ids[1:], notificationIDs(ns))
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10, CorrelationID: uuid.New()})
	require.NoError(t, err)
	require.Empty(t, ns)
	ns, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ns, 6, "the nil UUID selects every correlation, and none")
}
