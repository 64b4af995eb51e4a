package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/db/sqlitedb"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// SnapshotRecorder is the SQLite aggregate recorder for snapshots, kept in
// the snapshots table of its Database, apart from the events. It is safe
// for concurrent use.
type SnapshotRecorder struct {
	d *Database
}

var _ persistence.AggregateRecorder = (*SnapshotRecorder)(nil)

// NewSnapshotRecorder returns a SnapshotRecorder on d, whose tables must
// exist (see Config.CreateTable).
func NewSnapshotRecorder(d *Database) *SnapshotRecorder {
	return &SnapshotRecorder{d: d}
}

// InsertEvents records snapshots atomically, in one write transaction;
// see persistence.AggregateRecorder.
func (r *SnapshotRecorder) InsertEvents(ctx context.Context, events []persistence.StoredEvent) error {
	if len(events) == 0 {
		return nil
	}
	return r.d.write(ctx, recordOp("snapshot", len(events), false), func(tx *sql.Tx) error {
		for _, e := range events {
			c := columns(e)
			err := r.d.queries.SnapshotsInsert(ctx, tx, sqlitedb.SnapshotsInsertParams{
				OriginatorID: c.OriginatorID, OriginatorVersion: c.OriginatorVersion, Topic: c.Topic, State: c.State,
				HeadHash: e.HeadHash, EventHash: e.Hash,
			})
			if isKeyViolation(err) {
				return &persistence.ConcurrencyError{OriginatorID: e.OriginatorID, Version: e.OriginatorVersion, Err: err}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SelectEvents returns snapshots of one aggregate; see
// persistence.AggregateRecorder.
func (r *SnapshotRecorder) SelectEvents(ctx context.Context, originatorID uuid.UUID, q persistence.EventQuery) ([]persistence.StoredEvent, error) {
	op := "select snapshots of " + originatorID.String()
	arg := sqlitedb.SnapshotsSelectParams{OriginatorID: originatorID.String(), Gt: q.Gt, Lte: q.Lte, Lim: limit(q.Limit)}
	if q.Desc {
		rows, err := r.d.queries.SnapshotsSelectDesc(ctx, r.d.db, sqlitedb.SnapshotsSelectDescParams(arg))
		return snapshots(r.d, op, rows, err)
	}
	rows, err := r.d.queries.SnapshotsSelect(ctx, r.d.db, arg)
	return snapshots(r.d, op, rows, err)
}

// snapshots returns the stored snapshots of rows, the result of the select
// op (whose error is err).
func snapshots[R sqlitedb.SnapshotsSelectRow | sqlitedb.SnapshotsSelectDescRow](d *Database, op string, rows []R, err error) ([]persistence.StoredEvent, error) {
	if err != nil {
		return nil, d.failRead(op, err)
	}
	out := make([]persistence.StoredEvent, len(rows))
	for i, r := range rows {
		x := sqlitedb.SnapshotsSelectRow(r)
		e, err := storedEvent(row{x.OriginatorID, x.OriginatorVersion, x.Topic, x.State}, x.WellTyped,
			fmt.Sprintf("version %d", x.OriginatorVersion))
		if err != nil {
			return nil, d.fail(op, err)
		}
		e.HeadHash, e.Hash = x.HeadHash, x.EventHash
		out[i] = e
	}
	return out, nil
}
