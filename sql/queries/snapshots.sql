-- name: SnapshotsInsert :exec
-- Records snapshots; a repeated (originator_id, originator_version)
-- violates snapshots_pkey and records none of them.
INSERT INTO snapshots (originator_id, originator_version, topic, state, head_hash, event_hash)
SELECT
    unnest(@originator_ids::uuid[]),
    unnest(@originator_versions::bigint[]),
    unnest(@topics::text[]),
    unnest(@states::bytea[]),
    unnest(@head_hashes::bytea[]),
    unnest(@event_hashes::bytea[]);

-- name: SnapshotsInsertNew :exec
-- Records the snapshots not recorded already: one at an (originator_id,
-- originator_version) that exists is left as it is.
INSERT INTO snapshots (originator_id, originator_version, topic, state, head_hash, event_hash)
SELECT
    unnest(@originator_ids::uuid[]),
    unnest(@originator_versions::bigint[]),
    unnest(@topics::text[]),
    unnest(@states::bytea[]),
    unnest(@head_hashes::bytea[]),
    unnest(@event_hashes::bytea[])
ON CONFLICT (originator_id, originator_version) DO NOTHING;

-- name: SnapshotsSelect :many
-- Selects snapshots of one aggregate in ascending version order.
SELECT originator_id, originator_version, topic, state, head_hash, event_hash
FROM snapshots
WHERE originator_id = @originator_id
  AND originator_version > coalesce(sqlc.narg(gt)::bigint, '-9223372036854775808'::bigint)
  AND originator_version <= coalesce(sqlc.narg(lte)::bigint, '9223372036854775807'::bigint)
ORDER BY originator_version ASC
LIMIT sqlc.narg(lim)::bigint;

-- name: SnapshotsSelectDesc :many
-- Like SnapshotsSelect, in descending version order.
SELECT originator_id, originator_version, topic, state, head_hash, event_hash
FROM snapshots
WHERE originator_id = @originator_id
  AND originator_version > coalesce(sqlc.narg(gt)::bigint, '-9223372036854775808'::bigint)
  AND originator_version <= coalesce(sqlc.narg(lte)::bigint, '9223372036854775807'::bigint)
ORDER BY originator_version DESC
LIMIT sqlc.narg(lim)::bigint;
