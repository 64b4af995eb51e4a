package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// SnapshotRecorder is the PostgreSQL aggregate recorder for snapshots, kept
// in the snapshots table of the pool's schema, apart from the events
// . It takes no lock. It is safe for concurrent use.
type SnapshotRecorder struct {
	pool       *pgxpool.Pool
	queries    *db.Queries
	searchPath string
}

var _ persistence.AggregateRecorder = (*SnapshotRecorder)(nil)

// NewSnapshotRecorder returns a SnapshotRecorder using pool (see Open).
func NewSnapshotRecorder(pool *pgxpool.Pool) *SnapshotRecorder {
	return &SnapshotRecorder{pool: pool, queries: db.New(), searchPath: pool.Config().ConnConfig.RuntimeParams["search_path"]}
}

// InsertEvents records snapshots atomically; see
// persistence.AggregateRecorder.
func (r *SnapshotRecorder) InsertEvents(ctx context.Context, events []persistence.StoredEvent) error {
	if len(events) == 0 {
		return nil
	}
	c := toColumns(events)
	arg := db.SnapshotsInsertParams{OriginatorIds: c.ids, OriginatorVersions: c.versions, Topics: c.topics, States: c.states,
		HeadHashes: c.headHashes, EventHashes: c.hashes}
	if err := r.queries.SnapshotsInsert(ctx, r.pool, arg); err != nil {
		schema := r.pool.Config().ConnConfig.RuntimeParams["search_path"]
		return mapError(recordOp("snapshot", len(events), false, schema), err, nil)
	}
	return nil
}

// InsertTx records snapshots within the caller's transaction tx, in the
// recorder's schema whatever tx's search_path (see Recorder.InsertTx). A
// snapshot recorded already is left as it is, and not an error, so that
// tx carries on.
func (r *SnapshotRecorder) InsertTx(ctx context.Context, tx pgx.Tx, snapshots []persistence.StoredEvent) error {
	if len(snapshots) == 0 {
		return nil
	}
	c := toColumns(snapshots)
	arg := db.SnapshotsInsertNewParams{OriginatorIds: c.ids, OriginatorVersions: c.versions, Topics: c.topics, States: c.states,
		HeadHashes: c.headHashes, EventHashes: c.hashes}
	return inSchema(ctx, r.queries, tx, r.searchPath, recordOp("snapshot", len(snapshots), false, r.searchPath), func() error {
		return classify(r.queries.SnapshotsInsertNew(ctx, tx, arg), nil)
	})
}

// SelectEvents returns snapshots of one aggregate; see
// persistence.AggregateRecorder.
func (r *SnapshotRecorder) SelectEvents(ctx context.Context, originatorID uuid.UUID, q persistence.EventQuery) ([]persistence.StoredEvent, error) {
	arg := db.SnapshotsSelectParams{OriginatorID: originatorID, Gt: q.Gt, Lte: q.Lte, Lim: limit(q.Limit)}
	var rows []db.SnapshotRow
	var err error
	if q.Desc {
		rows, err = r.queries.SnapshotsSelectDesc(ctx, r.pool, db.SnapshotsSelectDescParams(arg))
	} else {
		rows, err = r.queries.SnapshotsSelect(ctx, r.pool, arg)
	}
	if err != nil {
		return nil, mapError("select snapshots of "+originatorID.String(), err, nil)
	}
	return convertRows(rows, func(x db.SnapshotRow) persistence.StoredEvent {
		return persistence.StoredEvent{OriginatorID: x.OriginatorID, OriginatorVersion: x.OriginatorVersion, Topic: x.Topic, State: x.State,
			HeadHash: x.HeadHash, Hash: x.EventHash}
	}), nil
}
