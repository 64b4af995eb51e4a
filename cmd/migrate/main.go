// Command migrate applies the event store's migrations to the schema of
// one application in PostgreSQL (sql/migrations), or to one application's
// SQLite database (sql/sqlite/migrations).
//
// Usage:
//
//	migrate [--schema NAME] [--force] <command>
//
// The commands are:
//
//	up         apply every pending migration, creating the schema (or the
//	           SQLite file) if need be
//	down-to N  roll back migrations until version N is the latest applied;
//	           0 rolls back all of them. It refuses, rolling back nothing,
//	           when that would drop a table holding events, snapshots or
//	           tracking records, unless --force is given
//	status     list each migration with the time it was applied, or "pending"
//	version    print the latest applied migration version (0 if none)
//
// The database is chosen as applications choose it (app.ModuleFromEnv):
// SQLITE_DBNAME, or PERSISTENCE_MODULE=sqlite, selects SQLite, and
// DATABASE_URL or a POSTGRES_* variable selects PostgreSQL; both SQLite
// and PostgreSQL variables set with no PERSISTENCE_MODULE to say which is
// an error.
//
// PostgreSQL: the database is named by DATABASE_URL or, when it is not
// set, by POSTGRES_HOST, POSTGRES_PORT (default 5432), POSTGRES_DBNAME,
// POSTGRES_USER and POSTGRES_PASSWORD. POSTGRES_CONNECT_TIMEOUT (seconds,
// 0 to 3600, default 5) bounds each attempt to connect; a connect_timeout
// parameter in DATABASE_URL wins over it. The schema is --schema, else
// POSTGRES_SCHEMA, else "public"; reserved words such as "order" are fine,
// names beginning with "pg_" are refused.
//
// SQLite: the database is the file SQLITE_DBNAME names (a path or a
// "file:" URI; each application records in a file of its own, so migrate
// each file), and SQLITE_LOCK_TIMEOUT bounds each wait for the write
// lock. up creates a missing file; the other commands refuse one. An
// in-memory database is refused, as is --schema.
//
// Errors are written to standard error. The exit status is 0 on success, 1
// when the configuration is bad or the migration fails, and 2 when the
// command line is wrong.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

const usage = `usage: migrate [--schema NAME] [--force] <command>

commands:
  up          apply all pending migrations
  down-to N   roll back to version N (0 rolls back all); refuses to drop
              tables that hold rows unless --force is given
  status      show each migration and when it was applied
  version     print the current migration version

PostgreSQL: the database is DATABASE_URL, else POSTGRES_HOST,
POSTGRES_PORT, POSTGRES_DBNAME, POSTGRES_USER and POSTGRES_PASSWORD. The
schema is --schema, else POSTGRES_SCHEMA, else "public".

SQLite (SQLITE_DBNAME set, or PERSISTENCE_MODULE=sqlite): the database
is the file SQLITE_DBNAME; up creates it if missing. No --schema.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], config.Environment{}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args with the configuration of env and returns
// the exit status.
func run(ctx context.Context, args []string, env config.Environment, stdout, stderr io.Writer) int {
	usageError := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "migrate: "+format+"\n", a...)
		fmt.Fprint(stderr, usage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "migrate: %v\n", err)
		return 1
	}

	flags := flag.NewFlagSet("migrate", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // errors are reported below
	schema := flags.String("schema", "", "the schema to migrate")
	force := flags.Bool("force", false, "let down-to drop tables that hold rows")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return usageError("%v", err)
	}

	// Check the whole command line before connecting.
	if flags.NArg() == 0 {
		return usageError("no command given")
	}
	command, cmdArgs := flags.Arg(0), flags.Args()[1:]
	var target int64
	switch command {
	case "up", "status", "version":
		if len(cmdArgs) != 0 {
			return usageError("%s takes no arguments", command)
		}
	case "down-to":
		if len(cmdArgs) != 1 {
			return usageError("down-to takes one argument, the version to roll back to")
		}
		n, err := strconv.ParseInt(cmdArgs[0], 10, 64)
		if err != nil || n < 0 {
			return usageError("down-to: %q is not a version number (0 or more)", cmdArgs[0])
		}
		target = n
	default:
		return usageError("unknown command %q", command)
	}
	if *force && command != "down-to" {
		return usageError("--force applies to down-to only")
	}
	if *schema != "" {
		if err := postgres.ValidateSchema(*schema); err != nil {
			reason := err.Error()
			if cfgErr := (*config.Error)(nil); errors.As(err, &cfgErr) {
				reason = cfgErr.Reason // its Var would name POSTGRES_SCHEMA, not --schema
			}
			return usageError("invalid --schema %q: %s", *schema, reason)
		}
	}

	module, err := app.ModuleFromEnv(env)
	if err != nil {
		return fail(err)
	}
	var m migrator
	var explain func(error) error
	if module == app.SQLite {
		if *schema != "" {
			return usageError("--schema applies to PostgreSQL; an SQLite database file holds one application")
		}
		cfg, err := sqlite.ConfigFromEnv(env)
		if err != nil {
			return fail(err)
		}
		if cfg.InMemory() {
			return fail(fmt.Errorf("%s %q: an in-memory database lives only in the process that opens it: name a file", sqlite.EnvDBName, cfg.DBName))
		}
		cfg.CreateTable = false // up applies the migrations below, and reports them
		cfg.MustExist = command != "up"
		d, err := sqlite.Open(ctx, cfg)
		if err != nil {
			return fail(explainSQLite(err))
		}
		defer d.Close()
		sm, err := sqlite.NewMigrator(d)
		if err != nil {
			return fail(err)
		}
		m, explain = sm, explainSQLite
	} else {
		cfg, err := postgres.ConfigFromEnv(env)
		if err != nil {
			return fail(err)
		}
		if *schema != "" {
			cfg.Schema = *schema
		}
		pm, err := postgres.NewMigrator(cfg)
		if err != nil {
			return fail(err)
		}
		defer pm.Close()
		m, explain = pm, func(err error) error { return explainPostgres(err, cfg) }
	}

	switch command {
	case "up":
		res, err := m.Up(ctx)
		printResults(stdout, "applied", res)
		if err == nil && len(res) == 0 {
			fmt.Fprintln(stdout, "no pending migrations")
		}
		if err != nil {
			return fail(explain(err))
		}
	case "down-to":
		downTo := m.DownTo
		if *force {
			downTo = m.DownToForce
		}
		res, err := downTo(ctx, target)
		printResults(stdout, "rolled back", res)
		if err == nil && len(res) == 0 {
			fmt.Fprintln(stdout, "no migrations to roll back")
		}
		if err != nil {
			return fail(explain(err))
		}
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return fail(explain(err))
		}
		w := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tFILE\tAPPLIED AT")
		for _, s := range st {
			applied := "pending"
			if !s.AppliedAt.IsZero() {
				applied = s.AppliedAt.Format(time.DateTime)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\n", s.Source.Version, s.Source.Path, applied)
		}
		w.Flush()
	case "version":
		v, err := m.Version(ctx)
		if err != nil {
			return fail(explain(err))
		}
		fmt.Fprintln(stdout, v)
	}
	return 0
}

// migrator is what the commands need of postgres.Migrator and
// sqlite.Migrator.
type migrator interface {
	Up(ctx context.Context) ([]*postgres.MigrationResult, error)
	DownTo(ctx context.Context, version int64) ([]*postgres.MigrationResult, error)
	DownToForce(ctx context.Context, version int64) ([]*postgres.MigrationResult, error)
	Status(ctx context.Context) ([]*postgres.MigrationStatus, error)
	Version(ctx context.Context) (int64, error)
}

// printResults prints one line per migration applied or rolled back.
func printResults(w io.Writer, verb string, res []*postgres.MigrationResult) {
	for _, r := range res {
		fmt.Fprintf(w, "%s %d %s (%s)\n", verb, r.Source.Version, r.Source.Path, r.Duration.Round(time.Millisecond))
	}
}

// explainSQLite adds to the error of a missing database file what makes
// one; the errors name the file already.
func explainSQLite(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w; migrate up creates it", err)
	}
	return err
}

// explainPostgres rewrites the errors a user can act on: a failure to
// connect names the server (without its password), and a missing schema
// says so.
func explainPostgres(err error, cfg postgres.Config) error {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		// pgx joins the errors of its attempts (with and without TLS, say),
		// which often repeat.
		var causes []string
		for _, line := range strings.Split(connectErr.Unwrap().Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" && !slices.Contains(causes, line) {
				causes = append(causes, line)
			}
		}
		return fmt.Errorf("cannot connect to %s: %s", postgres.Redact(cfg.ConnString), strings.Join(causes, "; "))
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3F000" { // invalid_schema_name
		return fmt.Errorf("schema %s does not exist; migrate up creates it", cfg.Schema)
	}
	return err
}
