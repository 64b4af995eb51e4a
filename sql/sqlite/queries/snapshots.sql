-- name: SnapshotsInsert :exec
-- Records one snapshot; a recorded (originator_id, originator_version)
-- violates the primary key.
INSERT INTO snapshots (originator_id, originator_version, topic, state, head_hash, event_hash)
VALUES (sqlc.arg(originator_id), sqlc.arg(originator_version), sqlc.arg(topic), sqlc.arg(state),
        sqlc.narg(head_hash), sqlc.narg(event_hash));

-- name: SnapshotsSelect :many
-- Selects snapshots of one aggregate in ascending version order (see
-- StoredEventsSelect).
SELECT originator_id, originator_version, topic, state,
       head_hash, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(head_hash) IN ('blob', 'null') AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM snapshots
WHERE originator_id = sqlc.arg(originator_id)
  AND (CAST(sqlc.narg(gt) AS INTEGER) IS NULL OR originator_version > CAST(sqlc.narg(gt) AS INTEGER))
  AND (CAST(sqlc.narg(lte) AS INTEGER) IS NULL OR originator_version <= CAST(sqlc.narg(lte) AS INTEGER))
ORDER BY originator_version ASC
LIMIT sqlc.arg(lim);

-- name: SnapshotsSelectDesc :many
-- Like SnapshotsSelect, in descending version order.
SELECT originator_id, originator_version, topic, state,
       head_hash, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(head_hash) IN ('blob', 'null') AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM snapshots
WHERE originator_id = sqlc.arg(originator_id)
  AND (CAST(sqlc.narg(gt) AS INTEGER) IS NULL OR originator_version > CAST(sqlc.narg(gt) AS INTEGER))
  AND (CAST(sqlc.narg(lte) AS INTEGER) IS NULL OR originator_version <= CAST(sqlc.narg(lte) AS INTEGER))
ORDER BY originator_version DESC
LIMIT sqlc.arg(lim);
