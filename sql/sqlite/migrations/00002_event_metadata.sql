-- Event metadata, as in the PostgreSQL migration 00006: each event's own
-- id, its correlation and causation ids, the trace context of the save
-- that recorded it and its hash (for applications that hash-chain their
-- events); the head hash and the sealing hash of snapshots. NULL for rows
-- recorded before this migration and where a save has nothing to record.
-- The ids are TEXT (a UUID's canonical form), as originator_id is.

-- +goose Up
ALTER TABLE stored_events ADD COLUMN event_id TEXT;
ALTER TABLE stored_events ADD COLUMN correlation_id TEXT;
ALTER TABLE stored_events ADD COLUMN causation_id TEXT;
ALTER TABLE stored_events ADD COLUMN trace_context BLOB;
ALTER TABLE stored_events ADD COLUMN event_hash BLOB;
ALTER TABLE snapshots ADD COLUMN head_hash BLOB;
ALTER TABLE snapshots ADD COLUMN event_hash BLOB;

-- +goose Down
ALTER TABLE snapshots DROP COLUMN event_hash;
ALTER TABLE snapshots DROP COLUMN head_hash;
ALTER TABLE stored_events DROP COLUMN event_hash;
ALTER TABLE stored_events DROP COLUMN trace_context;
ALTER TABLE stored_events DROP COLUMN causation_id;
ALTER TABLE stored_events DROP COLUMN correlation_id;
ALTER TABLE stored_events DROP COLUMN event_id;
