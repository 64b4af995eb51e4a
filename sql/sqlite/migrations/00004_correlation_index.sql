-- As the PostgreSQL migration 00010: reads of the notifications of one
-- correlation id find their rows by this index, in notification id order,
-- rather than scanning the log from where they start. Partial: rows
-- without a correlation id are not indexed.

-- +goose Up
CREATE INDEX stored_events_correlation_idx ON stored_events (correlation_id, notification_id)
    WHERE correlation_id IS NOT NULL;

-- +goose Down
DROP INDEX stored_events_correlation_idx;
