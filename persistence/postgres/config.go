package postgres

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Config says how to reach PostgreSQL and how to set up the connections of
// one application.
type Config struct {
	// ConnString is a postgres:// URL or a key=value connection string.
	ConnString string
	// Schema is the application's schema; its tables live there and the
	// pool's search_path is set to it.
	Schema string
	// PoolSize is the maximum number of connections in the pool, at most
	// 2147483647; 0 leaves pgxpool's default.
	PoolSize int
	// ConnectTimeout bounds each attempt to connect, at most an hour; 0
	// leaves the connection string's connect_timeout (no limit without one).
	ConnectTimeout time.Duration
	// LockTimeout bounds the wait for the events table's EXCLUSIVE lock,
	// at most 2147483647 ms (PostgreSQL's limit); 0 means wait for ever.
	LockTimeout time.Duration
	// IdleInTransactionTimeout ends a session that stays idle inside a
	// transaction for longer, releasing its locks, at most 2147483647 ms;
	// 0 means never.
	IdleInTransactionTimeout time.Duration
	// CreateTable makes Open apply the migrations to Schema.
	CreateTable bool
}

// The environment variables ConfigFromEnv reads.
const (
	EnvDatabaseURL       = "DATABASE_URL"
	EnvHost              = "POSTGRES_HOST"
	EnvPort              = "POSTGRES_PORT"
	EnvDBName            = "POSTGRES_DBNAME"
	EnvUser              = "POSTGRES_USER"
	EnvPassword          = "POSTGRES_PASSWORD"
	EnvSchema            = "POSTGRES_SCHEMA"
	EnvPoolSize          = "POSTGRES_POOL_SIZE"
	EnvConnectTimeout    = "POSTGRES_CONNECT_TIMEOUT"
	EnvLockTimeout       = "POSTGRES_LOCK_TIMEOUT"
	EnvIdleInTxTimeout   = "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"
	EnvCreateTable       = "CREATE_TABLE"
	defaultPoolSize      = 5
	defaultConnectSecs   = 5
	defaultIdleInTxSecs  = 5
	defaultSchemaNoName  = "public"
	maxIdentifierLength  = 63
	defaultPostgresPort  = 5432
	requiredWithoutDBURL = "required when DATABASE_URL is not set"
)

// The ranges of the numbers a Config holds.
const (
	// maxPoolSize is pgxpool's limit (MaxConns is an int32).
	maxPoolSize = math.MaxInt32
	// maxConnectTimeout is this package's limit: longer is no timeout in
	// practice, and much longer overflows time.Duration.
	maxConnectTimeout = time.Hour
	// maxServerTimeout is PostgreSQL's limit on lock_timeout and
	// idle_in_transaction_session_timeout (int milliseconds).
	maxServerTimeout = math.MaxInt32 * time.Millisecond
)

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ValidateSchema returns a *persistence.ConfigError unless name is a valid
// schema name: lowercase letters, digits and underscores, not starting with
// a digit, at most 63 bytes, and not beginning with "pg_" (PostgreSQL
// reserves those names for system schemas). SQL reserved words such as
// "order" are valid: the package quotes the names it puts in SQL.
func ValidateSchema(name string) error {
	if !schemaPattern.MatchString(name) || len(name) > maxIdentifierLength {
		return &persistence.ConfigError{Var: EnvSchema, Value: name,
			Reason: "a schema name of lowercase letters, digits and underscores, not starting with a digit, at most 63 bytes, is expected"}
	}
	if strings.HasPrefix(name, "pg_") {
		return &persistence.ConfigError{Var: EnvSchema, Value: name,
			Reason: "names beginning with pg_ are reserved by PostgreSQL for system schemas"}
	}
	return nil
}

// validate returns a *persistence.ConfigError, naming the variable that
// sets the field, for a schema or a number out of range.
func (cfg Config) validate() error {
	if err := ValidateSchema(cfg.Schema); err != nil {
		return err
	}
	checks := []struct {
		key    string
		value  int64
		ok     bool
		reason string
	}{
		{EnvPoolSize, int64(cfg.PoolSize), cfg.PoolSize >= 0 && cfg.PoolSize <= maxPoolSize, poolSizeRange},
		{EnvConnectTimeout, int64(cfg.ConnectTimeout), cfg.ConnectTimeout >= 0 && cfg.ConnectTimeout <= maxConnectTimeout, connectTimeoutRange},
		{EnvLockTimeout, int64(cfg.LockTimeout), cfg.LockTimeout >= 0 && cfg.LockTimeout <= maxServerTimeout, serverTimeoutRange},
		{EnvIdleInTxTimeout, int64(cfg.IdleInTransactionTimeout), cfg.IdleInTransactionTimeout >= 0 && cfg.IdleInTransactionTimeout <= maxServerTimeout, serverTimeoutRange},
	}
	for _, c := range checks {
		if !c.ok {
			value := strconv.FormatInt(c.value, 10)
			if c.key != EnvPoolSize {
				value = time.Duration(c.value).String()
			}
			return &persistence.ConfigError{Var: c.key, Value: value, Reason: c.reason}
		}
	}
	return nil
}

// The reasons given for numbers out of range.
var (
	poolSizeRange       = fmt.Sprintf("an integer from 1 to %d is expected", maxPoolSize)
	connectTimeoutRange = fmt.Sprintf("a number of seconds from 0 to %d is expected", int(maxConnectTimeout/time.Second))
	serverTimeoutRange  = fmt.Sprintf("a number of seconds from 0 to %d is expected (PostgreSQL's limit is %d ms)",
		int(maxServerTimeout/time.Second), maxServerTimeout.Milliseconds())
)

// ConfigFromEnv reads a Config from env. DATABASE_URL, if set, gives the
// connection; otherwise POSTGRES_HOST, POSTGRES_DBNAME, POSTGRES_USER and
// POSTGRES_PASSWORD are required and POSTGRES_PORT defaults to 5432.
// POSTGRES_SCHEMA defaults to env.Name in snake case ("public" without a
// name). Defaults and ranges: POSTGRES_POOL_SIZE 5 (1 to 2147483647),
// POSTGRES_CONNECT_TIMEOUT 5 s (0 to 3600 s), POSTGRES_LOCK_TIMEOUT 0, wait
// for ever (0 to 2147483 s), POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT
// 5 s (0 to 2147483 s), CREATE_TABLE true.
//
// A connect_timeout parameter in DATABASE_URL wins over
// POSTGRES_CONNECT_TIMEOUT, whether that is set or not, as libpq's
// connection parameters win over PGCONNECT_TIMEOUT; it must be 0 to 3600.
//
// Each bad, missing or out-of-range value gives a *persistence.ConfigError
// naming its variable.
func ConfigFromEnv(env persistence.Environment) (Config, error) {
	var cfg Config
	var err error
	if cfg.ConnString, err = connStringFromEnv(env); err != nil {
		return Config{}, err
	}
	defaultSchema := defaultSchemaNoName
	if env.Name != "" {
		defaultSchema = persistence.SnakeCase(env.Name)
	}
	cfg.Schema = env.String(EnvSchema, defaultSchema)
	if err := ValidateSchema(cfg.Schema); err != nil {
		return Config{}, err
	}
	if cfg.PoolSize, err = intInRange(env, EnvPoolSize, defaultPoolSize, 1, maxPoolSize, poolSizeRange); err != nil {
		return Config{}, err
	}
	seconds := []struct {
		key    string
		def    int
		max    time.Duration
		reason string
		dst    *time.Duration
	}{
		{EnvConnectTimeout, defaultConnectSecs, maxConnectTimeout, connectTimeoutRange, &cfg.ConnectTimeout},
		{EnvLockTimeout, 0, maxServerTimeout, serverTimeoutRange, &cfg.LockTimeout},
		{EnvIdleInTxTimeout, defaultIdleInTxSecs, maxServerTimeout, serverTimeoutRange, &cfg.IdleInTransactionTimeout},
	}
	for _, s := range seconds {
		n, err := intInRange(env, s.key, s.def, 0, int(s.max/time.Second), s.reason)
		if err != nil {
			return Config{}, err
		}
		*s.dst = time.Duration(n) * time.Second
	}
	if timeout, ok, err := urlConnectTimeout(cfg.ConnString); err != nil {
		return Config{}, err
	} else if ok {
		cfg.ConnectTimeout = timeout
	}
	if cfg.CreateTable, err = env.Bool(EnvCreateTable, true); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// intInRange returns the value of key as an integer from lo to hi, or def
// when key is unset or empty. A bad value gives a *persistence.ConfigError
// naming the variable read, with reason.
func intInRange(env persistence.Environment, key string, def, lo, hi int, reason string) (int, error) {
	n, err := env.Int(key, def, lo)
	if err == nil && n > hi {
		// Int names the variable it read (prefixed by the application's
		// name or not) in its errors: ask it for one, with a minimum
		// above n.
		_, err = env.Int(key, def, n+1)
		if err == nil { // n+1 overflowed
			err = &persistence.ConfigError{Var: key, Value: strconv.Itoa(n)}
		}
	}
	var cfgErr *persistence.ConfigError
	if errors.As(err, &cfgErr) {
		cfgErr.Reason = reason
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// urlConnectTimeout returns the connect_timeout parameter of a postgres://
// URL, if it has one (the last, if repeated, as pgx reads it).
func urlConnectTimeout(connString string) (time.Duration, bool, error) {
	u, err := url.Parse(connString)
	if err != nil {
		return 0, false, nil // not a URL; pgx reports it at Open
	}
	query, err := url.ParseQuery(u.RawQuery)
	values := query["connect_timeout"]
	if err != nil || len(values) == 0 {
		return 0, false, nil
	}
	n, err := strconv.Atoi(values[len(values)-1])
	if err != nil || n < 0 || n > int(maxConnectTimeout/time.Second) {
		return 0, false, &persistence.ConfigError{Var: EnvDatabaseURL, Value: Redact(connString),
			Reason: "for its connect_timeout parameter, " + connectTimeoutRange}
	}
	return time.Duration(n) * time.Second, true, nil
}

func connStringFromEnv(env persistence.Environment) (string, error) {
	if dbURL := env.String(EnvDatabaseURL, ""); dbURL != "" {
		u, err := url.Parse(dbURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return "", &persistence.ConfigError{Var: EnvDatabaseURL, Value: Redact(dbURL),
				Reason: "a URL such as postgres://user:password@host:5432/dbname is expected"}
		}
		return dbURL, nil
	}
	required := map[string]string{}
	for _, key := range []string{EnvHost, EnvDBName, EnvUser} {
		v, ok := env.Get(key)
		if !ok || v == "" {
			return "", &persistence.ConfigError{Var: key, Value: v, Reason: requiredWithoutDBURL}
		}
		required[key] = v
	}
	password, ok := env.Get(EnvPassword)
	if !ok {
		return "", &persistence.ConfigError{Var: EnvPassword, Reason: requiredWithoutDBURL + " (it may be empty)"}
	}
	port, err := env.Int(EnvPort, defaultPostgresPort, 1)
	if err != nil {
		return "", err
	}
	if port > 65535 {
		return "", &persistence.ConfigError{Var: EnvPort, Value: strconv.Itoa(port), Reason: "a port number up to 65535 is expected"}
	}
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(required[EnvUser], password),
		Host:   net.JoinHostPort(required[EnvHost], strconv.Itoa(port)),
		Path:   "/" + required[EnvDBName],
	}
	return u.String(), nil
}

// Redact hides the passwords in a connection URL, for error messages: the
// user-info password and any query parameter whose name contains
// "password". What cannot be parsed as a URL is not shown at all.
func Redact(connString string) string {
	u, err := url.Parse(connString)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return fmt.Sprintf("<%d bytes, unparseable>", len(connString))
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		u.RawQuery = "xxxxx"
	} else {
		for key := range query {
			if strings.Contains(strings.ToLower(key), "password") {
				query.Set(key, "xxxxx")
			}
		}
		u.RawQuery = query.Encode()
	}
	u.ForceQuery, u.Fragment, u.RawFragment = false, "", ""
	return u.String()
}
