-- Reads of the notifications of one correlation id (a story: the command
-- that started it and every event recorded because of it, in the
-- application's sequence; NotificationLog.ReadCorrelated) find its rows by
-- this index, in notification id order, rather than scanning the log from
-- where they start. Partial: rows without a correlation id (recorded
-- before 00006, or by saves that give none) are not indexed.
--
-- The index is built in the migration's transaction, which blocks writes
-- to stored_events while it builds (a second or so per million events).

-- +goose Up
CREATE INDEX stored_events_correlation_idx ON stored_events (correlation_id, notification_id)
    WHERE correlation_id IS NOT NULL;

-- +goose Down
DROP INDEX stored_events_correlation_idx;
