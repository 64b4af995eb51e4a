// Package app brings a domain model and persistence together as an
// event-sourced application: Save records the new events of aggregates
// atomically, a Repository rebuilds aggregates (from the latest snapshot
// when snapshotting is on), and the NotificationLog presents the
// application's events in order, in linked sections, for others to follow
// (it is a NotificationReader, the seam followers read through).
//
// The application is the composition root: New puts together the
// persistence module (in memory, or PostgreSQL through a pool of its own or
// of the caller's), the codec (registry, cipher, compressor) and
// snapshotting. Typed Options win; the environment fills in what they leave
// zero (PERSISTENCE_MODULE or INFRASTRUCTURE_FACTORY, DATABASE_URL,
// POSTGRES_*, CIPHER_KEY, CIPHER_TOPIC, COMPRESSOR_TOPIC,
// COMPRESSOR_MAX_DECOMPRESSED_SIZE, IS_SNAPSHOTTING_ENABLED, TZINFO_TOPIC,
// HASH_CHAIN, SALT_FOR_DATA_INTEGRITY, HASH_SCHEME, HASH_CHAIN_STRICT; the README's
// configuration table says what each does), values given in code
// (Options.Env) taking precedence over the process environment.
//
// An application may hash-chain its events (Options.HashChain; see
// package integrity and docs/integrity.md): each event recorded carries a
// hash of its contents chained to its aggregate's previous event, and
// Repository.Get refuses a chain that does not verify with an error that
// is errors.Is(err, domain.ErrDataIntegrity); strict
// (Options.HashChainStrict), it also refuses events without a hash and
// snapshots without a seal.
//
// Every save (Save, SaveTracked, SaveTx, SaveTrackedTx) takes one write
// path: the events are mapped once and recorded by one call of the
// recorder, then the snapshots due are taken and the OnRecorded functions
// called.
//
// Saves and gets have OpenTelemetry spans, and saves metrics, reported to
// Options.TracerProvider and MeterProvider (the global providers when nil:
// no-ops until an SDK is installed); each event records the trace context
// of its save (EncodeTraceContext), to which the followers that process it
// link. See docs/observability.md.
package app
