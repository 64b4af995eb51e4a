// Package integrity hash-chains the events of an aggregate, so that events
// changed, removed, reordered or inserted outside the application are
// detected when they are read, by the application (package app, with
// Options.HashChain) or in the database (the SQL functions of migration
// 00007; see docs/integrity.md).
//
// Each recorded event carries a hash: one byte naming the scheme, then the
// HMAC-SHA256, keyed by the salt, of the event's originator ID, version,
// topic and stored state (after compression and encryption), the full
// hash of the aggregate's previous event and, from scheme 2 on, its event,
// correlation and causation IDs. A snapshot carries the hash of the
// aggregate's event at its version (its head hash) and a hash that seals
// it, computed in the same way over the snapshot with the head hash as
// previous hash. docs/integrity.md describes the schemes byte by byte.
//
// A Hasher computes hashes; a Chain verifies one aggregate's events in
// order (a strict Hasher's chains also refuse events without a hash);
// their errors match errors.Is(err, domain.ErrDataIntegrity) and
// name the aggregate and the version.
package integrity
