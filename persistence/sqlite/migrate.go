package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	migrations "github.com/eventsourcing-go/eventsourcing/sql/sqlite/migrations"
)

// VersionTable is the table where the migrations record which versions
// are applied, as in the PostgreSQL module.
const VersionTable = "eventsourcing_migrations"

// MigrationResult reports one migration applied or rolled back.
type MigrationResult = goose.MigrationResult

// Migrator applies the migrations of sql/sqlite/migrations to a Database.
// It is built on goose's Provider with the global registry disabled and
// its own version table. Each migration runs in a BEGIN IMMEDIATE
// transaction, which waits for other writers up to the lock timeout
// (goose tries three times, a second apart, to create its version table).
// It is not safe for concurrent use.
type Migrator struct {
	d        *Database
	provider *goose.Provider
}

// NewMigrator returns a Migrator for d. It uses d's connections: Close d,
// not the Migrator.
func NewMigrator(d *Database) (*Migrator, error) {
	store, err := database.NewStore(database.DialectSQLite3, VersionTable)
	if err == nil {
		var provider *goose.Provider
		provider, err = goose.NewProvider(goose.DialectCustom, d.db, migrations.FS,
			goose.WithDisableGlobalRegistry(true), goose.WithStore(store))
		if err == nil {
			return &Migrator{d: d, provider: provider}, nil
		}
	}
	return nil, fmt.Errorf("migrations of %s: %w", describe(d.name), err)
}

// Up applies every pending migration. With none pending it changes
// nothing. When another process migrates the same file at the same time,
// each migration is applied by one of them, and Up succeeds for all.
func (m *Migrator) Up(ctx context.Context) ([]*MigrationResult, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		// Both read the version before either took the write lock: the
		// other applied the migration that failed here.
		if pending, pendingErr := m.provider.HasPending(ctx); pendingErr == nil && !pending {
			return res, nil
		}
	}
	return res, m.d.fail("migrate up", err)
}

// UpByOne applies the next pending migration; with none pending it returns
// an error that is errors.Is(err, goose.ErrNoNextVersion).
func (m *Migrator) UpByOne(ctx context.Context) (*MigrationResult, error) {
	res, err := m.provider.UpByOne(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return res, fmt.Errorf("migrate up by one in %s: %w", describe(m.d.name), err)
	}
	return res, m.d.fail("migrate up by one", err)
}

// DownTo rolls back migrations until version is the latest applied; 0
// rolls back all of them, dropping the tables and every event, snapshot
// and tracking record in them.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*MigrationResult, error) {
	res, err := m.provider.DownTo(ctx, version)
	return res, m.d.fail(fmt.Sprintf("migrate down to %d", version), err)
}

// Version returns the latest applied migration version (0 if none).
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	return v, m.d.fail("migration version", err)
}
