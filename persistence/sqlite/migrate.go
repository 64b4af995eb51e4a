package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"

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
// each migration is applied by one of them, and Up succeeds for all: when
// both read the version before either took the write lock, the one whose
// migration then fails (its tables exist) tries again, for up to the lock
// timeout, from the version the other reached. A database locked past the
// lock timeout fails at once, as any write does.
func (m *Migrator) Up(ctx context.Context) ([]*MigrationResult, error) {
	deadline := time.Now().Add(m.d.timeout)
	var all []*MigrationResult
	for {
		res, err := m.provider.Up(ctx)
		all = append(all, res...)
		if err == nil {
			return all, nil
		}
		if pending, pendingErr := m.provider.HasPending(ctx); pendingErr == nil && !pending {
			return all, nil // the other applied what failed here
		}
		if isBusy(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return all, m.d.fail("migrate up", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// ErrWouldDropEvents is returned, wrapped, by Migrator.DownTo when a
// migration it would roll back drops a table (stored_events, snapshots,
// tracking, the partition tables) that holds rows. The error counts the
// rows; DownToForce drops them.
var ErrWouldDropEvents = errors.New("refusing to drop tables that hold rows")

// DownTo rolls back migrations until version is the latest applied; 0
// rolls back all of them. When one of those migrations would drop a table
// that holds rows, it rolls back nothing and returns an error that is
// errors.Is(err, ErrWouldDropEvents). The rows are counted before the
// rollback starts: stop the applications writing to the database first.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*MigrationResult, error) {
	if err := m.refuseDrops(ctx, version); err != nil {
		return nil, err
	}
	return m.DownToForce(ctx, version)
}

// DownToForce is DownTo without the check: it drops the tables of the
// migrations it rolls back, and every event, snapshot and tracking record
// in them.
func (m *Migrator) DownToForce(ctx context.Context, version int64) ([]*MigrationResult, error) {
	res, err := m.provider.DownTo(ctx, version)
	return res, m.d.fail(fmt.Sprintf("migrate down to %d", version), err)
}

// MigrationStatus reports one migration and whether it is applied.
type MigrationStatus = goose.MigrationStatus

// Status reports each migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	return st, m.d.fail("migration status", err)
}

// downDrops gives, for each migration version, the tables its Down
// section drops, read from the migration files.
var downDrops = func() map[int64][]string {
	drops := map[int64][]string{}
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		panic(err) // the pattern is valid
	}
	dropTable := regexp.MustCompile(`(?im)^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(\w+)`)
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		version, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			continue // goose refuses such a file anyway
		}
		text, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			panic(err) // embedded files can be read
		}
		_, down, _ := strings.Cut(string(text), "-- +goose Down")
		for _, match := range dropTable.FindAllStringSubmatch(down, -1) {
			drops[version] = append(drops[version], match[1])
		}
	}
	return drops
}()

// refuseDrops returns an error wrapping ErrWouldDropEvents when rolling
// back to version would drop a table that holds rows.
func (m *Migrator) refuseDrops(ctx context.Context, version int64) error {
	op := fmt.Sprintf("migrate down to %d", version)
	st, err := m.provider.Status(ctx)
	if err != nil {
		return m.d.fail(op, err)
	}
	var lost []string
	for _, s := range st {
		if s.State != goose.StateApplied || s.Source.Version <= version {
			continue
		}
		for _, table := range downDrops[s.Source.Version] {
			n, err := m.countRows(ctx, table)
			if err != nil {
				return m.d.fail(op+": count the rows of "+table, err)
			}
			switch {
			case n == 1:
				lost = append(lost, table+": 1 row")
			case n > 1:
				lost = append(lost, fmt.Sprintf("%s: %d rows", table, n))
			}
		}
	}
	if len(lost) == 0 {
		return nil
	}
	return fmt.Errorf("%s in %s: %w (%s); Migrator.DownToForce, or migrate --force down-to %d, drops them",
		op, describe(m.d.name), ErrWouldDropEvents, strings.Join(lost, ", "), version)
}

// countRows counts the rows of a table of the database; 0 if there is no
// such table. table is a name from a migration's DROP TABLE (\w+).
func (m *Migrator) countRows(ctx context.Context, table string) (int64, error) {
	var exists int64
	err := m.d.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&exists)
	if err != nil || exists == 0 {
		return 0, err
	}
	var n int64
	err = m.d.db.QueryRowContext(ctx, `SELECT count(*) FROM "`+table+`"`).Scan(&n)
	return n, err
}

// Version returns the latest applied migration version (0 if none).
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	return v, m.d.fail("migration version", err)
}
