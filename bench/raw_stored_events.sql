-- The table of the raw insert baselines, in the schema of the search_path:
-- the columns, primary key and indexes of the library's
-- stored_events (sql/migrations), without its procedures and grants.
-- Used by BenchmarkAppend (rawPool) and scripts/pgbench-save.sh.
CREATE TABLE stored_events (
    originator_id      uuid      NOT NULL,
    originator_version bigint    NOT NULL,
    topic              text      NOT NULL,
    state              bytea     NOT NULL,
    notification_id    bigserial NOT NULL,
    event_id           uuid      NULL,
    correlation_id     uuid      NULL,
    causation_id       uuid      NULL,
    trace_context      bytea     NULL,
    event_hash         bytea     NULL,
    CONSTRAINT stored_events_pkey PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX stored_events_notification_id_idx ON stored_events (notification_id);
CREATE INDEX stored_events_correlation_idx ON stored_events (correlation_id, notification_id)
    WHERE correlation_id IS NOT NULL;
