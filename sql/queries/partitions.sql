-- name: PartitionLeasesClaim :one
-- Registers the instance and renews, gives up and claims its leases
-- through the claim procedure; returns the partitions it holds, ascending.
-- The lease is given in microseconds, so that no interval type crosses
-- into Go.
SELECT partition_leases_claim(@instance::uuid, @partitions::integer, interval '1 microsecond' * @lease_microseconds::bigint)::integer[] AS held;

-- name: PartitionLeasesRelease :exec
-- Gives up the instance's leases and registration.
SELECT partition_leases_release(@instance::uuid);

-- name: PartitionCount :one
-- Returns the partition count that the first claim recorded, or 0.
SELECT coalesce(max(partitions), 0)::integer AS partition_count FROM partition_leases;

-- name: PartitionPositions :many
-- Returns the position of each partition 0 to partitions-1 of an upstream
-- application, in partition order: the greater of its largest tracked id
-- and its recorded position, or 0.
SELECT greatest(
    (SELECT max(t.notification_id) FROM tracking AS t
      WHERE t.application_name = @application_name::text AND t.partition = p.n),
    (SELECT pp.position FROM partition_positions AS pp
      WHERE pp.application_name = @application_name::text AND pp.partition = p.n),
    0)::bigint AS partition_position
FROM generate_series(0, (@partitions::integer) - 1) AS p(n)
ORDER BY p.n;

-- name: PartitionPositionsAdvance :exec
-- Records that every notification of an upstream application up to
-- position is processed in each of partitions.
SELECT partition_positions_advance(@application_name::text, @partitions::integer[], @position::bigint);

-- name: PartitionLeasesExists :one
-- Reports whether partition_leases is on the search path: false in a
-- schema migrated before 00005, whose logs are not divided.
SELECT (to_regclass('partition_leases') IS NOT NULL)::boolean AS exists;
