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

	"github.com/jackc/pgx/v5"

	"github.com/eventsourcing-go/eventsourcing/config"
)

// Config says how to reach PostgreSQL and how to set up the connections of
// one application.
type Config struct {
	// ConnString is a postgres:// URL or a key=value connection string.
	ConnString string
	// Schema is the application's schema; its tables live there and the
	// pool's search_path is set to it.
	Schema string
	// PoolSize is, with MaxOverflow, the pool's maximum number of
	// connections, at most 2147483647 in all. 0 leaves the connection
	// string's pool_max_conns or pgxpool's default as the maximum, and
	// then MaxOverflow must be 0.
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
	// MaxOverflow is how many connections may be opened above PoolSize
	// when all are in use: the pool holds at most PoolSize+MaxOverflow
	// (at most 2147483647). It needs PoolSize. Unlike the Python library's pool,
	// which closes a connection released above PoolSize at once, pgxpool
	// keeps every released connection until it has been idle for
	// MaxConnIdleTime (30 minutes, or the connection string's
	// pool_max_conn_idle_time): closing on release makes a sequential
	// caller open a new connection for every other operation.
	MaxOverflow int
	// PoolTimeout bounds the wait for a connection, from 1 s to a year:
	// for one to be released when all are in use, or to be opened. The
	// operation then fails with an error that is errors.Is(err,
	// persistence.ErrOperational) and context.DeadlineExceeded. 0 waits
	// until the context ends.
	PoolTimeout time.Duration
	// ConnMaxAge closes a connection older than this when it is next
	// released, acquired or checked idle (never while in use), from 1 s
	// to a year; 0 leaves the connection string's pool_max_conn_lifetime
	// or pgxpool's default, an hour.
	ConnMaxAge time.Duration
	// ConnUseOnce closes each connection when it is released, so that each
	// serves one operation (POSTGRES_CONN_MAX_AGE=0). It excludes
	// ConnMaxAge.
	ConnUseOnce bool
	// PrePing pings each connection before handing it out, replacing it
	// if the ping fails; false leaves pgxpool's default, which pings a
	// connection that was idle for more than a second.
	PrePing bool
	// QueryTracer traces the pool's queries (pgx's hook: an OpenTelemetry
	// tracer for pgx, a logger). If it also implements the pgxpool or pgx
	// tracer interfaces (pgxpool.AcquireTracer, pgx.ConnectTracer...),
	// those are called too. nil traces nothing. It has no variable.
	QueryTracer pgx.QueryTracer
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
	EnvMaxOverflow       = "POSTGRES_MAX_OVERFLOW"
	EnvPoolMaxOverflow   = "POSTGRES_POOL_MAX_OVERFLOW"
	EnvPoolTimeout       = "POSTGRES_POOL_TIMEOUT"
	EnvConnMaxAge        = "POSTGRES_CONN_MAX_AGE"
	EnvPrePing           = "POSTGRES_PRE_PING"
	defaultPoolSize      = 5
	defaultConnectSecs   = 5
	defaultIdleInTxSecs  = 5
	defaultMaxOverflow   = 10
	defaultPoolTimeout   = 30 * time.Second
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
	// minPoolDuration and maxPoolDuration are this package's limits on
	// PoolTimeout and ConnMaxAge: shorter could fail to acquire even an
	// idle or a new connection; longer is for ever in practice.
	minPoolDuration = time.Second
	maxPoolDuration = 365 * 24 * time.Hour
)

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ValidateSchema returns a *config.Error unless name is a valid
// schema name: lowercase letters, digits and underscores, not starting with
// a digit, at most 63 bytes, and not beginning with "pg_" (PostgreSQL
// reserves those names for system schemas). SQL reserved words such as
// "order" are valid: the package quotes the names it puts in SQL.
func ValidateSchema(name string) error {
	if !schemaPattern.MatchString(name) || len(name) > maxIdentifierLength {
		return &config.Error{Var: EnvSchema, Value: name,
			Reason: "a schema name of lowercase letters, digits and underscores, not starting with a digit, at most 63 bytes, is expected"}
	}
	if strings.HasPrefix(name, "pg_") {
		return &config.Error{Var: EnvSchema, Value: name,
			Reason: "names beginning with pg_ are reserved by PostgreSQL for system schemas"}
	}
	return nil
}

// validate returns a *config.Error, naming the variable that
// sets the field, for a schema or a number out of range.
func (cfg Config) validate() error {
	if err := ValidateSchema(cfg.Schema); err != nil {
		return err
	}
	overflowOK := cfg.MaxOverflow >= 0 && cfg.MaxOverflow <= maxPoolSize-cfg.PoolSize
	checks := []struct {
		key    string
		value  int64
		count  bool // value is a number, not a time.Duration
		ok     bool
		reason string
	}{
		{EnvPoolSize, int64(cfg.PoolSize), true, cfg.PoolSize >= 0 && cfg.PoolSize <= maxPoolSize, poolSizeRange},
		{EnvMaxOverflow, int64(cfg.MaxOverflow), true, overflowOK, maxOverflowRange(max(cfg.PoolSize, 0))},
		{EnvMaxOverflow, int64(cfg.MaxOverflow), true, cfg.PoolSize > 0 || cfg.MaxOverflow == 0, "an overflow needs a pool size (PoolSize) above 0"},
		{EnvConnectTimeout, int64(cfg.ConnectTimeout), false, cfg.ConnectTimeout >= 0 && cfg.ConnectTimeout <= maxConnectTimeout, connectTimeoutRange},
		{EnvLockTimeout, int64(cfg.LockTimeout), false, cfg.LockTimeout >= 0 && cfg.LockTimeout <= maxServerTimeout, serverTimeoutRange},
		{EnvIdleInTxTimeout, int64(cfg.IdleInTransactionTimeout), false, cfg.IdleInTransactionTimeout >= 0 && cfg.IdleInTransactionTimeout <= maxServerTimeout, serverTimeoutRange},
		{EnvPoolTimeout, int64(cfg.PoolTimeout), false, poolDurationOK(cfg.PoolTimeout), poolDurationRange},
		{EnvConnMaxAge, int64(cfg.ConnMaxAge), false, poolDurationOK(cfg.ConnMaxAge), poolDurationRange},
		{EnvConnMaxAge, int64(cfg.ConnMaxAge), false, cfg.ConnMaxAge == 0 || !cfg.ConnUseOnce, "ConnUseOnce and ConnMaxAge exclude each other"},
	}
	for _, c := range checks {
		if !c.ok {
			value := strconv.FormatInt(c.value, 10)
			if !c.count {
				value = time.Duration(c.value).String()
			}
			return &config.Error{Var: c.key, Value: value, Reason: c.reason}
		}
	}
	return nil
}

// poolDurationOK reports whether d is 0 or from minPoolDuration to
// maxPoolDuration.
func poolDurationOK(d time.Duration) bool {
	return d == 0 || (d >= minPoolDuration && d <= maxPoolDuration)
}

// The reasons given for numbers out of range.
var (
	poolSizeRange       = fmt.Sprintf("an integer from 1 to %d is expected", maxPoolSize)
	connectTimeoutRange = fmt.Sprintf("a number of seconds from 0 to %d is expected", int(maxConnectTimeout/time.Second))
	serverTimeoutRange  = fmt.Sprintf("a number of seconds from 0 to %d is expected (PostgreSQL's limit is %d ms)",
		int(maxServerTimeout/time.Second), maxServerTimeout.Milliseconds())
	poolDurationRange = fmt.Sprintf("if set, a number of seconds such as 30 or 2.5, 0 or from %d to %d (a year), or an empty string is expected",
		int(minPoolDuration/time.Second), int(maxPoolDuration/time.Second))
	// poolTimeoutZero is the reason POSTGRES_POOL_TIMEOUT=0 is refused.
	poolTimeoutZero = "0 (in the Python library, fail at once when no connection is free) is not supported: " +
		"give a number of seconds above 0, or bound the wait with the context's deadline"
)

// maxOverflowRange is the reason given for an overflow out of range with
// a pool of size connections.
func maxOverflowRange(size int) string {
	return fmt.Sprintf("an integer from 0 to %d is expected (the pool size %d plus the overflow is at most %d)",
		maxPoolSize-size, size, maxPoolSize)
}

// ConfigFromEnv reads a Config from env. DATABASE_URL, if set, gives the
// connection; otherwise POSTGRES_HOST, POSTGRES_DBNAME, POSTGRES_USER and
// POSTGRES_PASSWORD are required and POSTGRES_PORT defaults to 5432.
// POSTGRES_SCHEMA defaults to env.Name in snake case ("public" without a
// name). Defaults and ranges: POSTGRES_POOL_SIZE 5 (1 to 2147483647),
// POSTGRES_CONNECT_TIMEOUT 5 s (0 to 3600 s), POSTGRES_LOCK_TIMEOUT 0, wait
// for ever (0 to 2147483 s), POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT
// 5 s (0 to 2147483 s), CREATE_TABLE true.
//
// The pool settings (see Config): POSTGRES_MAX_OVERFLOW 10, or less if the
// pool size leaves no room (0 to 2147483647 minus the pool size), also
// read as POSTGRES_POOL_MAX_OVERFLOW, the name the Python library's v9.2 code reads:
// an application-prefixed variable wins over a plain one, and between two
// of the same kind POSTGRES_MAX_OVERFLOW wins. POSTGRES_POOL_TIMEOUT 30 s
// (seconds such as 2.5, 1 to 31536000, a year; 0, which the Python library takes as
// "do not wait", is refused). POSTGRES_CONN_MAX_AGE unset, which leaves
// the connection string's pool_max_conn_lifetime or pgxpool's hour
// (seconds, 1 to 31536000; 0 uses each connection once).
// POSTGRES_PRE_PING false (a truth value).
//
// A connect_timeout parameter in DATABASE_URL wins over
// POSTGRES_CONNECT_TIMEOUT, whether that is set or not, as libpq's
// connection parameters win over PGCONNECT_TIMEOUT; it must be 0 to 3600.
//
// Each bad, missing or out-of-range value gives a *config.Error
// naming its variable.
func ConfigFromEnv(env config.Environment) (Config, error) {
	var cfg Config
	var err error
	if cfg.ConnString, err = connStringFromEnv(env); err != nil {
		return Config{}, err
	}
	defaultSchema := defaultSchemaNoName
	if env.Name != "" {
		defaultSchema = config.SnakeCase(env.Name)
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
	if err := poolSettingsFromEnv(env, &cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// poolSettingsFromEnv reads the overflow, pool timeout, connection age
// and pre-ping settings into cfg, whose PoolSize is already read.
func poolSettingsFromEnv(env config.Environment, cfg *Config) error {
	var err error
	room := maxPoolSize - cfg.PoolSize
	if cfg.MaxOverflow, err = intInRange(env, maxOverflowKey(env), min(defaultMaxOverflow, room), 0, room,
		maxOverflowRange(cfg.PoolSize)); err != nil {
		return err
	}
	timeout, set, err := secondsInRange(env, EnvPoolTimeout)
	switch {
	case err != nil:
		return err
	case !set:
		cfg.PoolTimeout = defaultPoolTimeout
	case timeout == 0:
		name, value, _ := env.Find(EnvPoolTimeout)
		return &config.Error{Var: name, Value: value, Reason: poolTimeoutZero}
	default:
		cfg.PoolTimeout = timeout
	}
	age, set, err := secondsInRange(env, EnvConnMaxAge)
	if err != nil {
		return err
	}
	cfg.ConnMaxAge, cfg.ConnUseOnce = age, set && age == 0
	cfg.PrePing, err = env.Bool(EnvPrePing, false)
	return err
}

// maxOverflowKey returns which of POSTGRES_MAX_OVERFLOW and
// POSTGRES_POOL_MAX_OVERFLOW gives the overflow: the one read from an
// application-prefixed variable if only one is, else POSTGRES_MAX_OVERFLOW
// if it is set and not empty.
func maxOverflowKey(env config.Environment) string {
	documented, value, ok := env.Find(EnvMaxOverflow)
	documentedSet := ok && strings.TrimSpace(value) != ""
	code, value, ok := env.Find(EnvPoolMaxOverflow)
	codeSet := ok && strings.TrimSpace(value) != ""
	switch {
	case !codeSet:
		return EnvMaxOverflow
	case !documentedSet:
		return EnvPoolMaxOverflow
	case code != EnvPoolMaxOverflow && documented == EnvMaxOverflow:
		return EnvPoolMaxOverflow // prefixed wins over plain
	default:
		return EnvMaxOverflow
	}
}

// secondsInRange returns the value of key, a number of seconds such as 30
// or 2.5 (to the nanosecond), 0 or from minPoolDuration to
// maxPoolDuration, and whether it is set; unset and empty are the same. A
// bad value gives a *config.Error naming the variable read.
func secondsInRange(env config.Environment, key string) (time.Duration, bool, error) {
	name, value, ok := env.Find(key)
	trimmed := strings.TrimSpace(value)
	if !ok || trimmed == "" {
		return 0, false, nil
	}
	seconds, err := strconv.ParseFloat(trimmed, 64)
	// NaN fails every comparison: test for the range, not against it.
	inRange := seconds >= 0 && seconds <= maxPoolDuration.Seconds()
	d := time.Duration(math.Round(seconds * float64(time.Second)))
	if err == nil && inRange && (seconds == 0 || d >= minPoolDuration) {
		return d, true, nil
	}
	return 0, false, &config.Error{Var: name, Value: value, Reason: poolDurationRange}
}

// intInRange returns the value of key as an integer from lo to hi, or def
// when key is unset or empty. A bad value gives a *config.Error
// naming the variable read, with reason.
func intInRange(env config.Environment, key string, def, lo, hi int, reason string) (int, error) {
	n, err := env.Int(key, def, lo)
	if err == nil && n > hi {
		name, value, _ := env.Find(key)
		err = &config.Error{Var: name, Value: value}
	}
	var cfgErr *config.Error
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
		return 0, false, &config.Error{Var: EnvDatabaseURL, Value: Redact(connString),
			Reason: "for its connect_timeout parameter, " + connectTimeoutRange}
	}
	return time.Duration(n) * time.Second, true, nil
}

func connStringFromEnv(env config.Environment) (string, error) {
	if dbURL := env.String(EnvDatabaseURL, ""); dbURL != "" {
		u, err := url.Parse(dbURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return "", &config.Error{Var: EnvDatabaseURL, Value: Redact(dbURL),
				Reason: "a URL such as postgres://user:password@host:5432/dbname is expected"}
		}
		return dbURL, nil
	}
	required := map[string]string{}
	for _, key := range []string{EnvHost, EnvDBName, EnvUser} {
		v, ok := env.Get(key)
		if !ok || v == "" {
			return "", &config.Error{Var: key, Value: v, Reason: requiredWithoutDBURL}
		}
		required[key] = v
	}
	password, ok := env.Get(EnvPassword)
	if !ok {
		return "", &config.Error{Var: EnvPassword, Reason: requiredWithoutDBURL + " (it may be empty)"}
	}
	port, err := env.Int(EnvPort, defaultPostgresPort, 1)
	if err != nil {
		return "", err
	}
	if port > 65535 {
		return "", &config.Error{Var: EnvPort, Value: strconv.Itoa(port), Reason: "a port number up to 65535 is expected"}
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
