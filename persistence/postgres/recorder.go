package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Recorder is the PostgreSQL process recorder, which is also an application
// and an aggregate recorder. It records into the stored_events and tracking
// tables of the pool's schema (its search_path; see Open). It is safe for
// concurrent use.
type Recorder struct {
	pool    *pgxpool.Pool
	queries *db.Queries
	group   *groupCommit
	// searchPath is the pool's search_path: the schema, quoted.
	searchPath string
}

var (
	_ persistence.ProcessRecorder   = (*Recorder)(nil)
	_ persistence.PartitionRecorder = (*Recorder)(nil)
)

// NewRecorder returns a Recorder using pool, whose search_path must name a
// migrated schema (Open arranges both), configured by opts.
func NewRecorder(pool *pgxpool.Pool, opts ...RecorderOption) *Recorder {
	queries := db.New()
	r := &Recorder{pool: pool, queries: queries, group: newGroupCommit(pool, queries),
		searchPath: pool.Config().ConnConfig.RuntimeParams["search_path"]}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// A RecorderOption configures a Recorder; see NewRecorder.
type RecorderOption func(*Recorder)

// BatchObserver is told of each group commit (see
// Recorder.InsertNotifications) as it is sent: how many saves it records
// together, and how many events they hold. ctx is the context the batch
// is recorded with (that of its first save). It runs on the recording
// goroutine, before the insert, and must be quick and safe for concurrent
// use.
type BatchObserver func(ctx context.Context, saves, events int)

// ObserveBatches calls observe for each group commit of the recorder, a
// save alone included (then saves is 1): for a histogram of batch sizes,
// say. Saves within a caller's transaction (InsertTx) and tracked saves
// are not group commits.
func ObserveBatches(observe BatchObserver) RecorderOption {
	return func(r *Recorder) { r.group.observe = observe }
}

// InsertEvents records events atomically; see
// persistence.AggregateRecorder.
func (r *Recorder) InsertEvents(ctx context.Context, events []persistence.StoredEvent) error {
	_, err := r.InsertNotifications(ctx, events)
	return err
}

// InsertNotifications records events atomically and returns their
// notification IDs; see persistence.ApplicationRecorder.
//
// Concurrent calls are recorded together (group commit): one lock, one
// round trip and one commit for all of them, each call keeping its own
// outcome, so that a conflicting call fails alone.
func (r *Recorder) InsertNotifications(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
	ids, err := r.group.insert(ctx, events)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", recordOp("event", len(events), false, r.searchPath), err)
	}
	return ids, nil
}

// InsertTx records events, and the tracking records, if any, within the
// caller's transaction tx, which it never commits or rolls back: they are recorded
// when tx commits, all or none, like InsertTracked. It returns the events'
// notification IDs. The EXCLUSIVE lock on the events table is held until
// then, so keep such transactions short.
//
// tx may come from any connection: the events go to the recorder's schema
// whatever tx's search_path, which is set for the insert only (with
// set_config, local to the transaction) and then set back as it was. A
// schema without the event store is an error wrapping
// persistence.ErrProgramming.
func (r *Recorder) InsertTx(ctx context.Context, tx pgx.Tx, events []persistence.StoredEvent, trackings ...persistence.Tracking) ([]int64, error) {
	if len(events) == 0 && len(trackings) == 0 {
		return nil, nil
	}
	var ids []int64
	err := inSchema(ctx, r.queries, tx, r.searchPath, recordOp("event", len(events), len(trackings) > 0, r.searchPath), func() (err error) {
		ids, err = insertOne(ctx, r.queries, tx, events, trackings)
		return err
	})
	return ids, err
}

// inSchema runs fn with tx's search_path set to searchPath, and then sets
// it back as it was. Errors are named by op.
func inSchema(ctx context.Context, queries *db.Queries, tx pgx.Tx, searchPath, op string, fn func() error) error {
	if searchPath == "" {
		return fmt.Errorf("%s: %w: the recorder's pool has no search_path (use postgres.Open or ConfigurePool)", op, persistence.ErrProgramming)
	}
	path, err := queries.SearchPathSetLocal(ctx, tx, searchPath)
	if err != nil {
		return mapError(op+": set search_path", err, nil)
	}
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := queries.SearchPathRestoreLocal(ctx, tx, path.Previous); err != nil {
		return mapError(op+": restore search_path", err, nil)
	}
	return nil
}

// InsertTracked records events and tracking in one transaction; see
// persistence.ProcessRecorder.
func (r *Recorder) InsertTracked(ctx context.Context, events []persistence.StoredEvent, tracking persistence.Tracking) ([]int64, error) {
	ids, err := insertOne(ctx, r.queries, r.pool, events, []persistence.Tracking{tracking})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", recordOp("event", len(events), true, r.searchPath), err)
	}
	return ids, nil
}

// InsertTrackedPage records events and all of trackings, each in its
// partition, in one transaction, through one call of
// stored_events_insert_tracked; see persistence.ProcessRecorder.
func (r *Recorder) InsertTrackedPage(ctx context.Context, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	ids, err := insertOne(ctx, r.queries, r.pool, events, trackings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", recordOp("event", len(events), len(trackings) > 0, r.searchPath), err)
	}
	return ids, nil
}

// insertOne records one save's events, and its tracking records if any,
// with stored_events_insert_one (one event, and no tracking record or one
// in partition 0), stored_events_insert (more events, or none) or
// stored_events_insert_tracked (more tracking records, or one in another
// partition, which the other two cannot record). On the pool the one
// statement is its own transaction, so the procedure's lock, inserts and
// tracking commit or roll back together. Its errors are classified but
// name no operation: the caller names it.
func insertOne(ctx context.Context, queries *db.Queries, conn db.DBTX, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	if len(events) == 0 && len(trackings) == 0 {
		return nil, nil
	}
	untracked := len(trackings) == 0 || (len(trackings) == 1 && trackings[0].Partition == 0)
	if len(events) == 1 && untracked {
		return insertSingle(ctx, queries, conn, events[0], trackings)
	}
	c := toColumns(events)
	var ids []int64
	var err error
	var one *persistence.Tracking
	if untracked {
		arg := db.StoredEventsInsertParams{OriginatorIds: c.ids, OriginatorVersions: c.versions, Topics: c.topics, States: c.states,
			EventIds: c.eventIDs, CorrelationIds: c.correlationIDs, CausationIds: c.causationIDs, TraceContexts: c.traceContexts, EventHashes: c.hashes}
		if len(trackings) == 1 {
			one = &trackings[0]
			arg.TrackingApplicationName = &one.ApplicationName
			arg.TrackingNotificationID = &one.NotificationID
		}
		ids, err = queries.StoredEventsInsert(ctx, conn, arg)
	} else {
		arg := db.StoredEventsInsertTrackedParams{OriginatorIds: c.ids, OriginatorVersions: c.versions, Topics: c.topics, States: c.states,
			EventIds: c.eventIDs, CorrelationIds: c.correlationIDs, CausationIds: c.causationIDs, TraceContexts: c.traceContexts, EventHashes: c.hashes,
			TrackingApplicationNames: make([]string, len(trackings)), TrackingNotificationIds: make([]int64, len(trackings)),
			TrackingPartitions: make([]int32, len(trackings))}
		for i, t := range trackings {
			p, perr := partitionNumber(t.Partition)
			if perr != nil {
				return nil, perr
			}
			arg.TrackingApplicationNames[i], arg.TrackingNotificationIds[i], arg.TrackingPartitions[i] = t.ApplicationName, t.NotificationID, p
		}
		if len(trackings) == 1 {
			one = &trackings[0]
		}
		ids, err = queries.StoredEventsInsertTracked(ctx, conn, arg)
	}
	if err != nil {
		return nil, classify(err, one)
	}
	if len(events) == 0 {
		return nil, nil
	}
	return ids, nil
}

// insertSingle records one event, and the tracking record if any (in
// partition 0), with stored_events_insert_one, as insertOne describes.
func insertSingle(ctx context.Context, queries *db.Queries, conn db.DBTX, e persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	arg := db.StoredEventsInsertOneParams{OriginatorID: e.OriginatorID, OriginatorVersion: e.OriginatorVersion, Topic: e.Topic,
		State: e.State, TraceContext: e.TraceContext, EventHash: e.Hash,
		EventID: nullUUID(e.EventID), CorrelationID: nullUUID(e.CorrelationID), CausationID: nullUUID(e.CausationID)}
	if arg.State == nil {
		arg.State = []byte{} // the state column is NOT NULL: a nil slice would be sent as NULL
	}
	var one *persistence.Tracking
	if len(trackings) == 1 {
		one = &trackings[0]
		arg.TrackingApplicationName = &one.ApplicationName
		arg.TrackingNotificationID = &one.NotificationID
	}
	id, err := queries.StoredEventsInsertOne(ctx, conn, arg)
	if err != nil {
		return nil, classify(err, one)
	}
	return []int64{id}, nil
}

// nullUUID returns a pointer to id, or nil for uuid.Nil (recorded as NULL).
func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// SelectEvents returns events of one aggregate; see
// persistence.AggregateRecorder.
func (r *Recorder) SelectEvents(ctx context.Context, originatorID uuid.UUID, q persistence.EventQuery) ([]persistence.StoredEvent, error) {
	arg := db.StoredEventsSelectParams{OriginatorID: originatorID, Gt: q.Gt, Lte: q.Lte, Lim: limit(q.Limit)}
	var rows []db.StoredEventsSelectRow
	var err error
	if q.Desc {
		var desc []db.StoredEventsSelectDescRow
		desc, err = r.queries.StoredEventsSelectDesc(ctx, r.pool, db.StoredEventsSelectDescParams(arg))
		rows = convertRows(desc, func(x db.StoredEventsSelectDescRow) db.StoredEventsSelectRow { return db.StoredEventsSelectRow(x) })
	} else {
		rows, err = r.queries.StoredEventsSelect(ctx, r.pool, arg)
	}
	if err != nil {
		return nil, mapError("select events of "+originatorID.String(), err, nil)
	}
	return convertRows(rows, func(x db.StoredEventsSelectRow) persistence.StoredEvent {
		e := persistence.StoredEvent{OriginatorID: x.OriginatorID, OriginatorVersion: x.OriginatorVersion, Topic: x.Topic, State: x.State}
		metadata(&e, x.EventID, x.CorrelationID, x.CausationID, x.TraceContext, x.EventHash)
		return e
	}), nil
}

// SelectNotifications returns notifications chosen by q; see
// persistence.ApplicationRecorder.
func (r *Recorder) SelectNotifications(ctx context.Context, q persistence.NotificationQuery) ([]persistence.Notification, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("select notifications: limit %d: %w", q.Limit, persistence.ErrProgramming)
	}
	topics := q.Topics
	if topics == nil {
		topics = []string{}
	}
	arg := db.NotificationsSelectParams{Start: q.Start, Stop: q.Stop, Topics: topics, Lim: int32(min(q.Limit, 1<<31-1))}
	var rows []db.NotificationsSelectRow
	var err error
	if q.CorrelationID != uuid.Nil {
		var correlated []db.NotificationsSelectCorrelatedRow
		correlated, err = r.queries.NotificationsSelectCorrelated(ctx, r.pool, db.NotificationsSelectCorrelatedParams{
			CorrelationID: &q.CorrelationID, Start: arg.Start, Stop: arg.Stop, Topics: arg.Topics, Lim: arg.Lim})
		rows = convertRows(correlated, func(x db.NotificationsSelectCorrelatedRow) db.NotificationsSelectRow {
			return db.NotificationsSelectRow(x)
		})
	} else {
		rows, err = r.queries.NotificationsSelect(ctx, r.pool, arg)
	}
	if err != nil {
		return nil, mapError(fmt.Sprintf("select notifications from %d", q.Start), err, nil)
	}
	return convertRows(rows, func(x db.NotificationsSelectRow) persistence.Notification {
		n := persistence.Notification{ID: x.NotificationID, StoredEvent: persistence.StoredEvent{
			OriginatorID: x.OriginatorID, OriginatorVersion: x.OriginatorVersion, Topic: x.Topic, State: x.State,
		}}
		metadata(&n.StoredEvent, x.EventID, x.CorrelationID, x.CausationID, x.TraceContext, x.EventHash)
		return n
	}), nil
}

// MaxNotificationID returns the largest notification ID, or 0; see
// persistence.ApplicationRecorder.
func (r *Recorder) MaxNotificationID(ctx context.Context) (int64, error) {
	id, err := r.queries.NotificationsMaxID(ctx, r.pool)
	if err != nil {
		return 0, mapError("max notification id", err, nil)
	}
	return id, nil
}

// MaxTrackingID returns the largest tracked notification ID of an upstream
// application, or 0; see persistence.ProcessRecorder.
func (r *Recorder) MaxTrackingID(ctx context.Context, applicationName string) (int64, error) {
	id, err := r.queries.TrackingMaxID(ctx, r.pool, applicationName)
	if err != nil {
		return 0, mapError("max tracking id of "+applicationName, err, nil)
	}
	return id, nil
}

// HasTrackingID reports whether a notification of an upstream application
// is tracked; see persistence.ProcessRecorder.
func (r *Recorder) HasTrackingID(ctx context.Context, applicationName string, notificationID int64) (bool, error) {
	ok, err := r.queries.TrackingHas(ctx, r.pool, db.TrackingHasParams{ApplicationName: applicationName, NotificationID: notificationID})
	if err != nil {
		return false, mapError(fmt.Sprintf("has tracking id %d of %s", notificationID, applicationName), err, nil)
	}
	return ok, nil
}

// columns holds a batch of events as the column arrays that the insert
// statements unnest. A metadata array that would hold only zero values is
// nil, sent as NULL, which records NULL in every row.
type columns struct {
	ids      []uuid.UUID
	versions []int64
	topics   []string
	states   [][]byte

	eventIDs       []uuid.UUID
	correlationIDs []uuid.UUID
	causationIDs   []uuid.UUID
	traceContexts  [][]byte
	hashes         [][]byte
	headHashes     [][]byte
}

func toColumns(events []persistence.StoredEvent) columns {
	n := len(events)
	c := columns{
		ids:      make([]uuid.UUID, n),
		versions: make([]int64, n),
		topics:   make([]string, n),
		states:   make([][]byte, n),
	}
	for i, e := range events {
		c.ids[i], c.versions[i], c.topics[i], c.states[i] = e.OriginatorID, e.OriginatorVersion, e.Topic, e.State
		if e.State == nil {
			// The state column is NOT NULL; a nil slice would be sent as NULL.
			c.states[i] = []byte{}
		}
		setColumn(&c.eventIDs, n, i, e.EventID, e.EventID == uuid.Nil)
		setColumn(&c.correlationIDs, n, i, e.CorrelationID, e.CorrelationID == uuid.Nil)
		setColumn(&c.causationIDs, n, i, e.CausationID, e.CausationID == uuid.Nil)
		setColumn(&c.traceContexts, n, i, e.TraceContext, e.TraceContext == nil)
		setColumn(&c.hashes, n, i, e.Hash, e.Hash == nil)
		setColumn(&c.headHashes, n, i, e.HeadHash, e.HeadHash == nil)
	}
	return c
}

// setColumn sets row i of the n rows of a metadata column to v, making the
// column on its first value that is not zero.
func setColumn[T any](column *[]T, n, i int, v T, zero bool) {
	if zero {
		return
	}
	if *column == nil {
		*column = make([]T, n)
	}
	(*column)[i] = v
}

// metadata returns the metadata columns of a selected row as a stored
// event's fields.
func metadata(e *persistence.StoredEvent, eventID, correlationID, causationID *uuid.UUID, traceContext, hash []byte) {
	if eventID != nil {
		e.EventID = *eventID
	}
	if correlationID != nil {
		e.CorrelationID = *correlationID
	}
	if causationID != nil {
		e.CausationID = *causationID
	}
	e.TraceContext, e.Hash = traceContext, hash
}

// limit is the LIMIT parameter of a select: NULL (no limit) when n <= 0.
func limit(n int) *int64 {
	if n <= 0 {
		return nil
	}
	l := int64(n)
	return &l
}

func convertRows[From, To any](rows []From, convert func(From) To) []To {
	out := make([]To, len(rows))
	for i, r := range rows {
		out[i] = convert(r)
	}
	return out
}

// partitionNumber converts a partition to the integer of the database; one
// beyond its range is an error wrapping persistence.ErrProgramming.
func partitionNumber(p int) (int32, error) {
	if p < math.MinInt32 || p > math.MaxInt32 {
		return 0, fmt.Errorf("partition %d: %w", p, persistence.ErrProgramming)
	}
	return int32(p), nil
}
