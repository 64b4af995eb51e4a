package sqlite

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// The environment variables ConfigFromEnv reads, as the Python library
// names them.
const (
	EnvDBName      = "SQLITE_DBNAME"
	EnvLockTimeout = "SQLITE_LOCK_TIMEOUT"
	EnvCreateTable = "CREATE_TABLE"
)

// maxLockTimeoutSeconds is the largest SQLITE_LOCK_TIMEOUT: SQLite's
// busy_timeout is an int of milliseconds.
const maxLockTimeoutSeconds = (1<<31 - 1) / 1000

// ConfigFromEnv reads a Config from env: SQLITE_DBNAME (required),
// SQLITE_LOCK_TIMEOUT (whole seconds; unset, empty or 0 means
// DefaultLockTimeout) and CREATE_TABLE (a truth value, true by default).
// A missing or bad value gives a *config.Error naming the variable.
func ConfigFromEnv(env config.Environment) (Config, error) {
	name, dbName, _ := env.Find(EnvDBName)
	if strings.TrimSpace(dbName) == "" {
		return Config{}, &config.Error{Var: name, Value: dbName,
			Reason: "required: the SQLite database name, a file path, :memory: or a file: URI"}
	}
	seconds, err := env.Int(EnvLockTimeout, 0, 0)
	if err == nil && seconds > maxLockTimeoutSeconds {
		name, value, _ := env.Find(EnvLockTimeout)
		err = &config.Error{Var: name, Value: value}
	}
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		cfgErr.Reason = fmt.Sprintf("if set, a whole number of seconds from 0 (the default, %s) to %d, or an empty string, is expected",
			DefaultLockTimeout, maxLockTimeoutSeconds)
		return Config{}, cfgErr
	}
	createTable, err := env.Bool(EnvCreateTable, true)
	if err != nil {
		return Config{}, err
	}
	return Config{DBName: dbName, LockTimeout: time.Duration(seconds) * time.Second, CreateTable: createTable}, nil
}

// DefaultLockTimeout is the lock timeout of a Config that sets none, as in
// the Python library (SQLITE_LOCK_TIMEOUT).
const DefaultLockTimeout = 5 * time.Second

// Config says which SQLite database to open and how.
type Config struct {
	// DBName names the database (SQLITE_DBNAME): a file path; ":memory:",
	// a private in-memory database; "file::memory:?mode=memory&cache=shared",
	// an in-memory database shared by the process's connections to that
	// name; "file:NAME?mode=memory&cache=shared", a named one, so that
	// several can coexist; or another SQLite URI starting with "file:".
	// It is required.
	DBName string
	// LockTimeout bounds each wait for the write lock: for the writers of
	// this process, and then for those of other processes on the same file
	// (SQLite's busy_timeout). A write that waits longer fails with an
	// error wrapping persistence.ErrOperational. 0 means
	// DefaultLockTimeout; it is at most 2147483647 ms.
	LockTimeout time.Duration
	// CreateTable makes Open apply the migrations (CREATE_TABLE); tables
	// that exist are left as they are.
	CreateTable bool
	// MustExist makes Open fail, rather than create the file, when the
	// database file does not exist (for tools that only read or roll
	// back); an in-memory database, which Open would create empty, is
	// refused too.
	MustExist bool
}

// target is a Config's name as the driver takes it, and what kind it is.
type target struct {
	// dsn is the name given to modernc.org/sqlite: a "file:" URI with the
	// connection's settings as query parameters.
	dsn string
	// memory is true for the in-memory forms, which get no WAL and one
	// connection (see Open).
	memory bool
	// file is the absolute path of a file database, beside which
	// Exclusive keeps its lock files; "" for the in-memory forms.
	file string
	// shared names a shared in-memory database (a "mode=memory" or
	// "file::memory:" URI with cache=shared) by its URI without the
	// query, which is what SQLite identifies it by; "" for the others.
	shared string
}

// parse validates c and returns the database it names. Its errors wrap
// persistence.ErrProgramming.
func (c Config) parse() (target, time.Duration, error) {
	timeout := c.LockTimeout
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	if timeout < time.Millisecond || timeout.Milliseconds() > 1<<31-1 {
		return target{}, 0, fmt.Errorf("sqlite database %q: lock timeout %s is not between 1ms and 2147483647ms: %w", c.DBName, c.LockTimeout, persistence.ErrProgramming)
	}
	if c.DBName == "" {
		return target{}, 0, fmt.Errorf("sqlite: no database name (a file path, or :memory:): %w", persistence.ErrProgramming)
	}
	var d target
	uri, query, _ := strings.Cut(c.DBName, "?")
	switch {
	case c.DBName == ":memory:":
		d = target{dsn: "file::memory:?", memory: true}
	case strings.HasPrefix(c.DBName, "file:"):
		params, err := url.ParseQuery(query)
		if err != nil {
			return target{}, 0, fmt.Errorf("sqlite: database name %q: %v: %w", c.DBName, err, persistence.ErrProgramming)
		}
		d = target{dsn: c.DBName + "?", memory: params.Get("mode") == "memory" || uri == "file::memory:"}
		switch {
		case !d.memory:
			d.file = absolute(uriPath(uri))
		case params.Get("cache") == "shared":
			d.shared = uri
		}
		if query != "" {
			d.dsn = c.DBName + "&"
		}
	default:
		// A path: as a URI, with the characters that URIs give a meaning
		// escaped, so that a path holding '?', '#' or '%' names that file.
		d = target{dsn: "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(c.DBName) + "?",
			file: absolute(c.DBName)}
	}
	d.dsn += fmt.Sprintf("_busy_timeout=%d&_txlock=immediate", timeout.Milliseconds())
	if !d.memory {
		d.dsn += "&_journal_mode=WAL"
	}
	return d, timeout, nil
}

// uriPath returns the file path of an SQLite "file:" URI without its
// query: "file:data/x.db" is data/x.db, "file:///srv/x.db" and
// "file://localhost/srv/x.db" are /srv/x.db, with %-escapes decoded.
func uriPath(uri string) string {
	path := strings.TrimPrefix(uri, "file:")
	if rest, ok := strings.CutPrefix(path, "//"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			path = rest[i:] // the authority is empty or "localhost"
		}
	}
	path, _, _ = strings.Cut(path, "#")
	if decoded, err := url.PathUnescape(path); err == nil {
		path = decoded
	}
	return path
}

// absolute returns path made absolute, or path if that fails.
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// InMemory reports whether c names an in-memory database (":memory:", or
// a "file:" URI with mode=memory or the name ":memory:"), which lives
// only as long as the process's connections to it.
func (c Config) InMemory() bool {
	t, _, err := c.parse()
	return err == nil && t.memory
}
