// Package app brings a domain model and persistence together as an
// event-sourced application: Save records the new events of aggregates
// atomically, a Repository rebuilds aggregates (from the latest snapshot
// when snapshotting is on), and the NotificationLog presents the
// application's events in order, in linked sections, for others to follow.
//
// Persistence, encryption, compression and snapshotting are configured from
// the environment (PERSISTENCE_MODULE or INFRASTRUCTURE_FACTORY,
// DATABASE_URL, POSTGRES_*, CIPHER_KEY, CIPHER_TOPIC, COMPRESSOR_TOPIC,
// COMPRESSOR_MAX_DECOMPRESSED_SIZE, IS_SNAPSHOTTING_ENABLED, TZINFO_TOPIC;
// the README's configuration table says what each does), with values given
// in code taking precedence over the process environment.
package app
