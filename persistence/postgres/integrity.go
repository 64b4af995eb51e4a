package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
)

// IntegrityProblem is a problem that the database found in the hash chain
// of an aggregate's events, or in a snapshot's seal (see package
// integrity and docs/integrity.md): at the event (or, when Snapshot, the
// snapshot) Version of the aggregate OriginatorID, what is wrong.
type IntegrityProblem struct {
	OriginatorID uuid.UUID
	Version      int64
	Snapshot     bool
	Problem      string
}

func (p IntegrityProblem) String() string {
	what := "event"
	if p.Snapshot {
		what = "snapshot"
	}
	return fmt.Sprintf("%s %d of %s %s", what, p.Version, p.OriginatorID, p.Problem)
}

// AggregateCheck is what the database checked of one aggregate: its
// events (of which UnhashedEvents have no hash: recorded before the
// application hash-chained its events, they are not covered unless the
// check is strict), its
// snapshots (of which UnsealedSnapshots have no seal) and how many
// problems it found.
type AggregateCheck struct {
	OriginatorID      uuid.UUID
	Events            int64
	UnhashedEvents    int64
	Snapshots         int64
	UnsealedSnapshots int64
	Problems          int64
}

// VerifyAggregate verifies, in the database (the SQL function
// stored_events_verify), the hash chain of the events of the aggregate id
// and the seals of its snapshots, with hashes keyed by salt, and returns
// the problems found, in version order, events first; none when all
// verify. When strict, every event without a hash and every snapshot
// without a seal is a problem too (see integrity.Hasher.Strict). pool's
// search_path is the application's schema (see ConfigurePool). It only
// reads. It is safe for concurrent use.
func VerifyAggregate(ctx context.Context, pool *pgxpool.Pool, salt []byte, id uuid.UUID, strict bool) ([]IntegrityProblem, error) {
	rows, err := db.New().StoredEventsVerify(ctx, pool, db.StoredEventsVerifyParams{Salt: nonNil(salt), OriginatorID: id, Strict: strict})
	if err != nil {
		return nil, mapError("verify "+id.String(), err, nil)
	}
	return convertRows(rows, func(r db.StoredEventsVerifyRow) IntegrityProblem {
		return IntegrityProblem{OriginatorID: id, Version: r.Version, Snapshot: r.IsSnapshot, Problem: r.Problem}
	}), nil
}

// VerifyPage verifies, in the database (the SQL function
// stored_events_verify_page), the aggregates whose IDs come after after
// (from the first when after is the nil UUID), up to limit of them, in ID
// order, and returns what it checked of each; an empty result means there
// are no more. Call it again with the last ID returned to go on, and
// VerifyAggregate for the problems of an aggregate that has some. pool
// and strict are as for VerifyAggregate.
func VerifyPage(ctx context.Context, pool *pgxpool.Pool, salt []byte, after uuid.UUID, limit int, strict bool) ([]AggregateCheck, error) {
	arg := db.StoredEventsVerifyPageParams{Salt: nonNil(salt), MaxAggregates: int32(min(max(limit, 1), 1<<30)), Strict: strict}
	if after != uuid.Nil {
		arg.After = &after
	}
	rows, err := db.New().StoredEventsVerifyPage(ctx, pool, arg)
	if err != nil {
		return nil, mapError("verify aggregates after "+after.String(), err, nil)
	}
	return convertRows(rows, func(r db.StoredEventsVerifyPageRow) AggregateCheck { return AggregateCheck(r) }), nil
}

// nonNil returns b, or an empty slice for nil: the empty salt, not NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
