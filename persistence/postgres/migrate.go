package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/sql/migrations"
)

// VersionTable is the table, in each application's schema, where the
// migrations record which versions are applied.
const VersionTable = "eventsourcing_migrations"

// Migrator applies the migrations of sql/migrations to one schema. It is
// built on goose's Provider with the global registry disabled, its own
// version table in the schema, and a session advisory lock per schema, so
// concurrent migrators of one schema take turns. After a failed call it
// starts afresh (goose prepares its version table only once per provider),
// so a Status on a schema not yet created can be followed by Up. It is not
// safe for concurrent use.
type Migrator struct {
	schema   string
	connCfg  *pgx.ConnConfig
	db       *sql.DB
	provider *goose.Provider
}

// MigrationResult reports one migration applied or rolled back.
type MigrationResult = goose.MigrationResult

// MigrationStatus reports whether one migration is applied.
type MigrationStatus = goose.MigrationStatus

// NewMigrator returns a Migrator for cfg.Schema on the database of
// cfg.ConnString, connecting within cfg.ConnectTimeout (other fields are
// not used). It does not connect until used. The caller must Close it.
func NewMigrator(cfg Config) (*Migrator, error) {
	if err := (Config{Schema: cfg.Schema, ConnectTimeout: cfg.ConnectTimeout}).validate(); err != nil {
		return nil, err
	}
	connCfg, err := pgx.ParseConfig(cfg.ConnString)
	if err != nil {
		return nil, &config.Error{Var: EnvDatabaseURL, Value: Redact(cfg.ConnString), Reason: badConnString}
	}
	if cfg.ConnectTimeout > 0 {
		connCfg.ConnectTimeout = cfg.ConnectTimeout
	}
	return newMigrator(connCfg, cfg.Schema)
}

func newMigrator(connCfg *pgx.ConnConfig, schema string) (*Migrator, error) {
	if err := ValidateSchema(schema); err != nil {
		return nil, err
	}
	connCfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	m := &Migrator{schema: schema, connCfg: connCfg}
	if err := m.open(); err != nil {
		return nil, err
	}
	return m, nil
}

// open makes the Migrator's database handle and goose provider.
func (m *Migrator) open() error {
	db := stdlib.OpenDB(*m.connCfg)
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(m.schema)))
	if err != nil {
		db.Close()
		return fmt.Errorf("migrations lock: %w", err)
	}
	store, err := newVersionStore(m.schema)
	if err != nil {
		db.Close()
		return fmt.Errorf("migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectCustom, db, migrations.FS,
		goose.WithDisableGlobalRegistry(true),
		goose.WithStore(store),
		goose.WithSessionLocker(locker),
	)
	if err != nil {
		db.Close()
		return fmt.Errorf("migrations: %w", err)
	}
	m.db, m.provider = db, provider
	return nil
}

// versionStore is goose's PostgreSQL store of the version table of one
// schema, which it names with quoted identifiers (a schema may be called
// "order"). goose's own TableExists would look the quoted name up in
// pg_tables, so versionStore asks with the plain names.
type versionStore struct {
	database.Store
	schema string
}

func newVersionStore(schema string) (versionStore, error) {
	store, err := database.NewStore(database.DialectPostgres, pgx.Identifier{schema, VersionTable}.Sanitize())
	return versionStore{Store: store, schema: schema}, err
}

// TableExists reports whether the version table exists; goose calls it.
func (s versionStore) TableExists(ctx context.Context, db database.DBTxConn) (bool, error) {
	var exists bool
	err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2)",
		s.schema, VersionTable).Scan(&exists)
	return exists, err
}

// failed starts the Migrator afresh after err, and returns err.
func (m *Migrator) failed(err error) error {
	m.provider.Close()
	if reopenErr := m.open(); reopenErr != nil {
		return errors.Join(err, reopenErr)
	}
	return err
}

// lockID derives the advisory lock of a schema's migrations.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("eventsourcing migrations " + schema))
	return int64(h.Sum64() >> 1)
}

// Up creates the schema if it does not exist (which needs the CREATE
// privilege on the database) and applies every pending migration. With
// none pending, it changes nothing: it takes an advisory lock and reads
// the version table.
func (m *Migrator) Up(ctx context.Context) ([]*MigrationResult, error) {
	if err := m.ensureSchema(ctx); err != nil {
		return nil, err
	}
	res, err := m.provider.Up(ctx)
	if err != nil {
		return res, m.failed(mapError("migrate up "+m.schema, err, nil))
	}
	return res, nil
}

// UpByOne applies the next pending migration; with none pending it returns
// an error that is errors.Is(err, goose.ErrNoNextVersion).
func (m *Migrator) UpByOne(ctx context.Context) (*MigrationResult, error) {
	if err := m.ensureSchema(ctx); err != nil {
		return nil, err
	}
	res, err := m.provider.UpByOne(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return res, fmt.Errorf("migrate up by one %s: %w", m.schema, err)
	}
	if err != nil {
		return res, m.failed(mapError("migrate up by one "+m.schema, err, nil))
	}
	return res, nil
}

// ErrWouldDropEvents is returned, wrapped, by Migrator.DownTo when a
// migration it would roll back drops a table (stored_events, snapshots,
// tracking, or the partition tables of 00005) that holds rows, or a column
// that may be NULL (the event metadata of 00006) and holds values. The
// error counts the rows; DownToForce drops them.
var ErrWouldDropEvents = errors.New("refusing to drop tables that hold rows")

// DownTo rolls back migrations until version is the latest applied; 0
// rolls back all of them (the schema and version table remain). When one
// of those migrations would drop a table that holds rows, it rolls back
// nothing and returns an error that is errors.Is(err, ErrWouldDropEvents).
// The rows are counted before the rollback starts: stop the applications
// writing to the schema first.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*MigrationResult, error) {
	if err := m.refuseDrops(ctx, version); err != nil {
		return nil, err
	}
	return m.DownToForce(ctx, version)
}

// DownToForce is DownTo without the check: it drops the tables of the
// migrations it rolls back, and the events, snapshots and tracking records
// in them.
func (m *Migrator) DownToForce(ctx context.Context, version int64) ([]*MigrationResult, error) {
	res, err := m.provider.DownTo(ctx, version)
	if err != nil {
		return res, m.failed(mapError(fmt.Sprintf("migrate %s down to %d", m.schema, version), err, nil))
	}
	return res, nil
}

// Status reports each migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, m.failed(mapError("migration status of "+m.schema, err, nil))
	}
	return st, nil
}

// Version returns the latest applied migration version (0 if none).
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, m.failed(mapError("migration version of "+m.schema, err, nil))
	}
	return v, nil
}

// Close releases the Migrator's connections.
func (m *Migrator) Close() error {
	return m.provider.Close()
}

// ensureSchema creates the schema if it does not exist. It asks first, as
// CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database
// even when the schema exists: a role that owns the schema, or may only
// use it, needs no more (docs/security.md).
func (m *Migrator) ensureSchema(ctx context.Context) error {
	var exists bool
	err := m.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", m.schema).Scan(&exists)
	if err != nil {
		return m.failed(mapError("look up schema "+m.schema, err, nil))
	}
	if exists {
		return nil
	}
	// Quoted, as the name may be a reserved word such as "order".
	_, err = m.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{m.schema}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") {
		// Another migrator created the schema at the same moment: IF NOT
		// EXISTS does not guard against that race, but the schema exists.
		return nil
	}
	if err != nil {
		return m.failed(mapError("create schema "+m.schema, err, nil))
	}
	return nil
}

// dropped is a table, or a column of one, that a migration's Down section
// drops.
type dropped struct{ table, column string }

func (d dropped) String() string {
	if d.column == "" {
		return d.table
	}
	return d.table + "." + d.column
}

// downDrops gives, for each migration version, the tables and columns its
// Down section drops, read from the migration files.
var downDrops = func() map[int64][]dropped {
	drops := map[int64][]dropped{}
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		panic(err) // the pattern is valid
	}
	dropTable := regexp.MustCompile(`(?im)^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(\w+)`)
	alterTable := regexp.MustCompile(`(?is)\bALTER\s+TABLE\s+(\w+)([^;]*);`)
	dropColumn := regexp.MustCompile(`(?i)\bDROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?(\w+)`)
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
			drops[version] = append(drops[version], dropped{table: match[1]})
		}
		for _, alter := range alterTable.FindAllStringSubmatch(down, -1) {
			for _, match := range dropColumn.FindAllStringSubmatch(alter[2], -1) {
				drops[version] = append(drops[version], dropped{table: alter[1], column: match[1]})
			}
		}
	}
	return drops
}()

// refuseDrops returns an error wrapping ErrWouldDropEvents when rolling
// back to version would drop a table that holds rows or a column that may
// be NULL and holds values.
func (m *Migrator) refuseDrops(ctx context.Context, version int64) error {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return m.failed(mapError(fmt.Sprintf("migrate %s down to %d", m.schema, version), err, nil))
	}
	var lost []string
	for _, s := range st {
		if s.State != goose.StateApplied || s.Source.Version <= version {
			continue
		}
		for _, d := range downDrops[s.Source.Version] {
			n, err := m.countRows(ctx, d)
			if err != nil {
				return m.failed(mapError(fmt.Sprintf("migrate %s down to %d: count the rows of %s", m.schema, version, d), err, nil))
			}
			switch {
			case n == 1:
				lost = append(lost, d.String()+": 1 row")
			case n > 1:
				lost = append(lost, fmt.Sprintf("%s: %d rows", d, n))
			}
		}
	}
	if len(lost) == 0 {
		return nil
	}
	return fmt.Errorf("migrate %s down to %d: %w (%s); Migrator.DownToForce, or migrate --force down-to %d, drops them",
		m.schema, version, ErrWouldDropEvents, strings.Join(lost, ", "), version)
}

// countRows counts the rows of a table of the schema, or, for a column
// that may be NULL, the rows where it is not; 0 if there is no such table
// or column, or the column is NOT NULL.
func (m *Migrator) countRows(ctx context.Context, d dropped) (int64, error) {
	name := pgx.Identifier{m.schema, d.table}.Sanitize()
	var exists bool
	err := m.db.QueryRowContext(ctx, `SELECT CASE WHEN $2 = '' THEN to_regclass($1) IS NOT NULL
		ELSE EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2
		             AND NOT attnotnull AND NOT attisdropped) END`, name, d.column).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	query := "SELECT count(*) FROM " + name
	if d.column != "" {
		query += " WHERE " + pgx.Identifier{d.column}.Sanitize() + " IS NOT NULL"
	}
	var n int64
	err = m.db.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}
