package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// FollowerPosition is where the process application that records in
// Schema stands on an upstream application it follows.
type FollowerPosition struct {
	// Schema is the follower's schema, and Upstream the name of the
	// application it tracks notifications of.
	Schema   string
	Upstream string
	// Tracked is the last upstream notification it tracked or, when its
	// instances divide the upstream log in partitions, the lowest of the
	// partitions' positions: every notification up to it is processed.
	Tracked int64
	// UpstreamSchema is the upstream's schema in the same database, if it
	// holds an event store ("" otherwise: the upstream is elsewhere, and
	// Head and Next are unknown). Head is its largest notification ID and
	// Next the oldest notification not tracked yet (nil when caught up).
	UpstreamSchema string
	Head           int64
	Next           *persistence.Notification
}

// FollowerPositions returns the position of every follower whose event
// store is in the database of pool, for each upstream application it
// tracks, in schema and upstream order. upstreamSchema names the schema of
// an upstream application by its name (as the application's own
// POSTGRES_SCHEMA setting would). It reads each schema in a read-only
// transaction of its own; a schema dropped meanwhile is left out.
func FollowerPositions(ctx context.Context, pool *pgxpool.Pool, upstreamSchema func(upstream string) string) ([]FollowerPosition, error) {
	queries := db.New()
	schemas, err := queries.EventStoreSchemas(ctx, pool)
	if err != nil {
		return nil, mapError("list event stores", err, nil)
	}
	stores := map[string]bool{}
	for _, s := range schemas {
		stores[s] = true
	}
	var out []FollowerPosition
	for _, schema := range schemas {
		var rows []db.TrackingPositionsRow
		err := inReadOnlySchema(ctx, pool, schema, func(tx pgx.Tx) (err error) {
			rows, err = trackingPositions(ctx, queries, tx)
			return err
		})
		if vanished(err) {
			continue // dropped while this read the list: no event store now
		}
		if err != nil {
			return nil, mapError("read tracking of schema "+schema, err, nil)
		}
		for _, r := range rows {
			pos := FollowerPosition{Schema: schema, Upstream: r.ApplicationName, Tracked: r.MaxID}
			if up := upstreamSchema(r.ApplicationName); stores[up] {
				pos.UpstreamSchema = up
				if err := readHead(ctx, pool, queries, &pos); err != nil {
					return nil, mapError(fmt.Sprintf("read the head of schema %s", up), err, nil)
				}
			}
			out = append(out, pos)
		}
	}
	return out, nil
}

// vanished reports whether err says that a schema, or its tracking
// table, does not exist (any more).
func vanished(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") // undefined_table, invalid_schema_name
}

// trackingPositions returns the tracking positions of the schema of tx.
// In a schema migrated before the partition tables (00005) no log is
// divided: each position is the largest tracked ID.
func trackingPositions(ctx context.Context, queries *db.Queries, tx pgx.Tx) ([]db.TrackingPositionsRow, error) {
	divisible, err := queries.PartitionLeasesExists(ctx, tx)
	if err != nil {
		return nil, err
	}
	if divisible {
		return queries.TrackingPositions(ctx, tx)
	}
	maxIDs, err := queries.TrackingMaxIDs(ctx, tx)
	if err != nil {
		return nil, err
	}
	rows := make([]db.TrackingPositionsRow, len(maxIDs))
	for i, r := range maxIDs {
		rows[i] = db.TrackingPositionsRow(r)
	}
	return rows, nil
}

// readHead reads pos.Head and pos.Next from pos.UpstreamSchema.
func readHead(ctx context.Context, pool *pgxpool.Pool, queries *db.Queries, pos *FollowerPosition) error {
	return inReadOnlySchema(ctx, pool, pos.UpstreamSchema, func(tx pgx.Tx) error {
		head, err := queries.NotificationsMaxID(ctx, tx)
		if err != nil {
			return err
		}
		pos.Head = head
		if head <= pos.Tracked {
			return nil
		}
		next, err := queries.NotificationsSelect(ctx, tx, db.NotificationsSelectParams{Start: pos.Tracked + 1, Topics: []string{}, Lim: 1})
		if err != nil || len(next) == 0 {
			return err
		}
		n := next[0]
		pos.Next = &persistence.Notification{ID: n.NotificationID, StoredEvent: persistence.StoredEvent{
			OriginatorID: n.OriginatorID, OriginatorVersion: n.OriginatorVersion, Topic: n.Topic, State: n.State}}
		return nil
	})
}

// inReadOnlySchema runs fn in a read-only transaction whose search_path is
// schema.
func inReadOnlySchema(ctx context.Context, pool *pgxpool.Pool, schema string, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := db.New().SearchPathSetLocal(ctx, tx, pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
		return fn(tx)
	})
}
