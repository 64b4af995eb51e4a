-- The event store of one application in one SQLite database: its events
-- and their notifications, snapshots, tracking records, and the partition
-- leases of followers that divide their upstream logs. The tables are
-- STRICT and their columns NOT NULL, so that no client can record a row of
-- the wrong type. Writers serialise on SQLite's database lock (each write
-- is a BEGIN IMMEDIATE transaction), so insert order is commit order.

-- +goose Up

-- notification_id is the rowid (INTEGER PRIMARY KEY, no AUTOINCREMENT): an
-- insert takes the largest id plus one. The ids of a rolled-back insert are
-- given again to the next one, which no reader can notice, as no reader
-- saw them; ids are never reused once committed, as events are never
-- deleted.
CREATE TABLE stored_events (
    notification_id    INTEGER NOT NULL PRIMARY KEY,
    originator_id      TEXT    NOT NULL,
    originator_version INTEGER NOT NULL,
    topic              TEXT    NOT NULL,
    state              BLOB    NOT NULL,
    CONSTRAINT stored_events_key UNIQUE (originator_id, originator_version)
) STRICT;

-- Snapshots, apart from the events: they are no notifications.
CREATE TABLE snapshots (
    originator_id      TEXT    NOT NULL,
    originator_version INTEGER NOT NULL,
    topic              TEXT    NOT NULL,
    state              BLOB    NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
) STRICT, WITHOUT ROWID;

-- A notification of an upstream application is tracked once, in whatever
-- partition of the upstream log it is in (0 when the log is not divided).
CREATE TABLE tracking (
    application_name TEXT    NOT NULL,
    notification_id  INTEGER NOT NULL,
    partition        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (application_name, notification_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracking_partition_idx ON tracking (application_name, partition, notification_id);

-- One row per partition from the first claim on; every row holds the
-- partition count. owner is the instance holding the lease ('' when
-- free), until expires_at (Unix microseconds).
CREATE TABLE partition_leases (
    partition  INTEGER NOT NULL PRIMARY KEY,
    partitions INTEGER NOT NULL,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

-- The live instances, each until it expires (Unix microseconds).
CREATE TABLE follower_instances (
    instance   TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The notification id up to which a partition of an upstream application
-- is processed, beyond its largest tracked id.
CREATE TABLE partition_positions (
    application_name TEXT    NOT NULL,
    partition        INTEGER NOT NULL,
    position         INTEGER NOT NULL,
    PRIMARY KEY (application_name, partition)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE partition_positions;
DROP TABLE follower_instances;
DROP TABLE partition_leases;
DROP INDEX tracking_partition_idx;
DROP TABLE tracking;
DROP TABLE snapshots;
DROP TABLE stored_events;
