-- name: PartitionCount :one
-- Returns the partition count that the first claim recorded, or 0.
SELECT CAST(coalesce(max(partitions), 0) AS INTEGER) AS partition_count FROM partition_leases;

-- name: PartitionLeasesInsert :exec
-- Records a free partition of a follower divided in partitions.
INSERT INTO partition_leases (partition, partitions, owner, expires_at)
VALUES (sqlc.arg(partition), sqlc.arg(partitions), '', 0);

-- name: PartitionPositionsStart :exec
-- Records, as the position of partition, the largest tracked id of each
-- upstream application (the first claim: a follower that did not divide
-- its logs tracked without gaps).
INSERT INTO partition_positions (application_name, partition, position)
SELECT application_name, sqlc.arg(partition), max(notification_id)
FROM tracking WHERE true GROUP BY application_name
ON CONFLICT (application_name, partition) DO UPDATE SET position = max(position, excluded.position);

-- name: FollowerInstancesUpsert :exec
-- Registers an instance as live until expires_at.
INSERT INTO follower_instances (instance, expires_at) VALUES (sqlc.arg(instance), sqlc.arg(expires_at))
ON CONFLICT (instance) DO UPDATE SET expires_at = excluded.expires_at;

-- name: FollowerInstancesDeleteExpired :exec
-- Forgets the instances that expired before now.
DELETE FROM follower_instances WHERE expires_at < sqlc.arg(now);

-- name: FollowerInstancesCount :one
-- Counts the live instances.
SELECT count(*) AS live FROM follower_instances;

-- name: FollowerInstancesDelete :exec
-- Forgets an instance.
DELETE FROM follower_instances WHERE instance = sqlc.arg(instance);

-- name: PartitionLeasesOwned :many
-- Returns the partitions an instance holds, ascending.
SELECT partition FROM partition_leases WHERE owner = sqlc.arg(owner) ORDER BY partition;

-- name: PartitionLeasesFree :many
-- Returns, ascending, up to lim partitions that are free or whose lease
-- expired before now.
SELECT partition FROM partition_leases
WHERE owner = '' OR expires_at < sqlc.arg(now)
ORDER BY partition
LIMIT sqlc.arg(lim);

-- name: PartitionLeasesSet :exec
-- Gives a partition's lease to owner until expires_at ('' frees it).
UPDATE partition_leases SET owner = sqlc.arg(owner), expires_at = sqlc.arg(expires_at)
WHERE partition = sqlc.arg(partition);

-- name: PartitionLeasesRelease :exec
-- Frees the partitions an instance holds.
UPDATE partition_leases SET owner = '' WHERE owner = sqlc.arg(owner);

-- name: PartitionPositionsAdvance :exec
-- Records that every notification of an upstream application up to
-- position is processed in partition; a lower position changes nothing.
INSERT INTO partition_positions (application_name, partition, position)
VALUES (sqlc.arg(application_name), sqlc.arg(partition), sqlc.arg(position))
ON CONFLICT (application_name, partition) DO UPDATE SET position = max(position, excluded.position);

-- name: PartitionPositionsOf :many
-- Returns the recorded positions of an upstream application's partitions.
SELECT partition, position FROM partition_positions WHERE application_name = sqlc.arg(application_name);
