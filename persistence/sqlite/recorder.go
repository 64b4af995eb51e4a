package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/db/sqlitedb"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Recorder is the SQLite process recorder, which is also an application
// and an aggregate recorder. It records into the stored_events and
// tracking tables of its Database. It is safe for concurrent use.
type Recorder struct {
	d *Database
}

var (
	_ persistence.ProcessRecorder   = (*Recorder)(nil)
	_ persistence.PartitionRecorder = (*Recorder)(nil)
)

// NewRecorder returns a Recorder on d, whose tables must exist (see
// Config.CreateTable).
func NewRecorder(d *Database) *Recorder {
	return &Recorder{d: d}
}

// InsertEvents records events atomically; see
// persistence.AggregateRecorder.
func (r *Recorder) InsertEvents(ctx context.Context, events []persistence.StoredEvent) error {
	_, err := r.insert(ctx, events, nil)
	return err
}

// InsertNotifications records events atomically and returns their
// notification IDs; see persistence.ApplicationRecorder.
func (r *Recorder) InsertNotifications(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
	return r.insert(ctx, events, nil)
}

// InsertTracked records events and tracking in one transaction; see
// persistence.ProcessRecorder.
func (r *Recorder) InsertTracked(ctx context.Context, events []persistence.StoredEvent, tracking persistence.Tracking) ([]int64, error) {
	return r.insert(ctx, events, []persistence.Tracking{tracking})
}

// InsertTrackedPage records events and all of trackings, each in its
// partition, in one transaction; see persistence.ProcessRecorder.
func (r *Recorder) InsertTrackedPage(ctx context.Context, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	return r.insert(ctx, events, trackings)
}

// insert records the tracking records and then the events in one write
// transaction, and returns the events' notification IDs. Events without
// tracking records go through the group commit, which may share the
// transaction with other callers' saves.
func (r *Recorder) insert(ctx context.Context, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	if len(events) == 0 && len(trackings) == 0 {
		return nil, nil
	}
	if len(trackings) == 0 {
		return r.d.group.insert(ctx, events)
	}
	var ids []int64
	err := r.d.write(ctx, recordOp("event", len(events), len(trackings) > 0), func(tx *sql.Tx) error {
		for _, t := range trackings {
			err := r.d.queries.TrackingInsert(ctx, tx, sqlitedb.TrackingInsertParams{
				ApplicationName: t.ApplicationName, NotificationID: t.NotificationID, Partition: int64(t.Partition),
			})
			if isKeyViolation(err) {
				return &persistence.TrackingConflictError{Tracking: t, Err: err}
			}
			if err != nil {
				return err
			}
		}
		var err error
		ids, err = insertEvents(ctx, r.d.queries, tx, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// insertEvents inserts events into stored_events within tx, one statement
// each, and returns their notification IDs.
func insertEvents(ctx context.Context, queries *sqlitedb.Queries, tx *sql.Tx, events []persistence.StoredEvent) ([]int64, error) {
	var ids []int64
	for _, e := range events {
		c := columns(e)
		id, err := queries.StoredEventsInsert(ctx, tx, sqlitedb.StoredEventsInsertParams{
			OriginatorID: c.OriginatorID, OriginatorVersion: c.OriginatorVersion, Topic: c.Topic, State: c.State,
			EventID: optionalID(e.EventID), CorrelationID: optionalID(e.CorrelationID), CausationID: optionalID(e.CausationID),
			TraceContext: e.TraceContext, EventHash: e.Hash,
		})
		if isKeyViolation(err) {
			return nil, &persistence.ConcurrencyError{OriginatorID: e.OriginatorID, Version: e.OriginatorVersion, Err: err}
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// row is a stored event as the tables hold it.
type row struct {
	OriginatorID      string
	OriginatorVersion int64
	Topic             string
	State             []byte
}

// columns returns e as a row. A nil state is recorded as an empty one, as
// the state column is NOT NULL.
func columns(e persistence.StoredEvent) row {
	state := e.State
	if state == nil {
		state = []byte{}
	}
	return row{OriginatorID: e.OriginatorID.String(), OriginatorVersion: e.OriginatorVersion, Topic: e.Topic, State: state}
}

// optionalID is id as recorded in a column of ids that may be NULL: NULL
// for the nil UUID.
func optionalID(id uuid.UUID) *string {
	if id == uuid.Nil {
		return nil
	}
	return ptr(id.String())
}

// errCorruptRow is the cause of an ErrData for a row that the recorders
// cannot have recorded.
var errCorruptRow = errors.New("corrupt row")

// storedEvent converts a selected row. A row with a wrong type (which only
// a table other than the migrations' STRICT ones can hold) or an ID that
// is not a UUID is an error wrapping persistence.ErrData; where names the
// row.
func storedEvent(x row, wellTyped int64, where string) (persistence.StoredEvent, error) {
	id, err := uuid.Parse(x.OriginatorID)
	if wellTyped == 0 || err != nil {
		return persistence.StoredEvent{}, &persistence.DatabaseError{Kind: persistence.ErrData,
			Err: fmt.Errorf("%w: %s: the originator ID, version, topic and state must be a UUID as text, an integer, text and a blob", errCorruptRow, where)}
	}
	return persistence.StoredEvent{OriginatorID: id, OriginatorVersion: x.OriginatorVersion, Topic: x.Topic, State: x.State}, nil
}

// withMetadata sets the metadata of e from the columns of its row: IDs
// that are not UUIDs are an error wrapping persistence.ErrData.
func withMetadata(e persistence.StoredEvent, eventID, correlationID, causationID *string, traceContext, hash []byte, where string) (persistence.StoredEvent, error) {
	for _, c := range []struct {
		name string
		text *string
		id   *uuid.UUID
	}{{"event", eventID, &e.EventID}, {"correlation", correlationID, &e.CorrelationID}, {"causation", causationID, &e.CausationID}} {
		if c.text == nil {
			continue
		}
		id, err := uuid.Parse(*c.text)
		if err != nil {
			return persistence.StoredEvent{}, &persistence.DatabaseError{Kind: persistence.ErrData,
				Err: fmt.Errorf("%w: %s: the %s ID %q is not a UUID", errCorruptRow, where, c.name, *c.text)}
		}
		*c.id = id
	}
	e.TraceContext, e.Hash = traceContext, hash
	return e, nil
}

// limit is the LIMIT parameter of a select: -1 (no limit) when n <= 0.
func limit(n int) int64 {
	if n <= 0 {
		return -1
	}
	return int64(n)
}

// SelectEvents returns events of one aggregate; see
// persistence.AggregateRecorder.
func (r *Recorder) SelectEvents(ctx context.Context, originatorID uuid.UUID, q persistence.EventQuery) ([]persistence.StoredEvent, error) {
	op := "select events of " + originatorID.String()
	arg := sqlitedb.StoredEventsSelectParams{OriginatorID: originatorID.String(), Gt: q.Gt, Lte: q.Lte, Lim: limit(q.Limit)}
	if q.Desc {
		rows, err := r.d.queries.StoredEventsSelectDesc(ctx, r.d.db, sqlitedb.StoredEventsSelectDescParams(arg))
		return aggregateEvents(r.d, op, rows, err)
	}
	rows, err := r.d.queries.StoredEventsSelect(ctx, r.d.db, arg)
	return aggregateEvents(r.d, op, rows, err)
}

// aggregateEvents returns the stored events of rows, the result of the
// select op (whose error is err).
func aggregateEvents[R sqlitedb.StoredEventsSelectRow | sqlitedb.StoredEventsSelectDescRow](d *Database, op string, rows []R, err error) ([]persistence.StoredEvent, error) {
	if err != nil {
		return nil, d.failRead(op, err)
	}
	out := make([]persistence.StoredEvent, len(rows))
	for i, r := range rows {
		x := sqlitedb.StoredEventsSelectRow(r)
		where := fmt.Sprintf("version %d", x.OriginatorVersion)
		e, err := storedEvent(row{x.OriginatorID, x.OriginatorVersion, x.Topic, x.State}, x.WellTyped, where)
		if err == nil {
			e, err = withMetadata(e, x.EventID, x.CorrelationID, x.CausationID, x.TraceContext, x.EventHash, where)
		}
		if err != nil {
			return nil, d.fail(op, err)
		}
		out[i] = e
	}
	return out, nil
}

// SelectNotifications returns notifications chosen by q; see
// persistence.ApplicationRecorder.
func (r *Recorder) SelectNotifications(ctx context.Context, q persistence.NotificationQuery) ([]persistence.Notification, error) {
	op := fmt.Sprintf("select notifications from %d", q.Start)
	if q.Limit <= 0 {
		return nil, fmt.Errorf("select notifications: limit %d: %w", q.Limit, persistence.ErrProgramming)
	}
	arg := sqlitedb.NotificationsSelectParams{Start: q.Start, Stop: q.Stop, Lim: int64(q.Limit)}
	if len(q.Topics) > 0 {
		topics, _ := json.Marshal(q.Topics) // a []string always marshals
		arg.Topics = ptr(string(topics))
	}
	var rows []sqlitedb.NotificationsSelectRow
	var err error
	if q.CorrelationID != uuid.Nil {
		var correlated []sqlitedb.NotificationsSelectCorrelatedRow
		correlated, err = r.d.queries.NotificationsSelectCorrelated(ctx, r.d.db, sqlitedb.NotificationsSelectCorrelatedParams{
			CorrelationID: optionalID(q.CorrelationID), Start: arg.Start, Stop: arg.Stop, Topics: arg.Topics, Lim: arg.Lim})
		rows = make([]sqlitedb.NotificationsSelectRow, len(correlated))
		for i, x := range correlated {
			rows[i] = sqlitedb.NotificationsSelectRow(x)
		}
	} else {
		rows, err = r.d.queries.NotificationsSelect(ctx, r.d.db, arg)
	}
	if err != nil {
		return nil, r.d.failRead(op, err)
	}
	out := make([]persistence.Notification, len(rows))
	for i, x := range rows {
		where := fmt.Sprintf("notification %d", x.NotificationID)
		e, err := storedEvent(row{x.OriginatorID, x.OriginatorVersion, x.Topic, x.State}, x.WellTyped, where)
		if err == nil {
			e, err = withMetadata(e, x.EventID, x.CorrelationID, x.CausationID, x.TraceContext, x.EventHash, where)
		}
		if err != nil {
			return nil, r.d.fail(op, err)
		}
		out[i] = persistence.Notification{ID: x.NotificationID, StoredEvent: e}
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// MaxNotificationID returns the largest notification ID, or 0; see
// persistence.ApplicationRecorder.
func (r *Recorder) MaxNotificationID(ctx context.Context) (int64, error) {
	id, err := r.d.queries.NotificationsMaxID(ctx, r.d.db)
	return id, r.d.fail("max notification id", err)
}

// MaxTrackingID returns the largest tracked notification ID of an upstream
// application, or 0; see persistence.ProcessRecorder.
func (r *Recorder) MaxTrackingID(ctx context.Context, applicationName string) (int64, error) {
	id, err := r.d.queries.TrackingMaxID(ctx, r.d.db, applicationName)
	return id, r.d.fail("max tracking id of "+applicationName, err)
}

// HasTrackingID reports whether a notification of an upstream application
// is tracked; see persistence.ProcessRecorder.
func (r *Recorder) HasTrackingID(ctx context.Context, applicationName string, notificationID int64) (bool, error) {
	n, err := r.d.queries.TrackingHas(ctx, r.d.db, sqlitedb.TrackingHasParams{ApplicationName: applicationName, NotificationID: notificationID})
	return n != 0, r.d.fail(fmt.Sprintf("has tracking id %d of %s", notificationID, applicationName), err)
}
