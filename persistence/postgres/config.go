package postgres

import (
	"fmt"
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
	// PoolSize is the maximum number of connections in the pool.
	PoolSize int
	// ConnectTimeout bounds each attempt to connect; 0 means no limit.
	ConnectTimeout time.Duration
	// LockTimeout bounds the wait for the events table's EXCLUSIVE lock;
	// 0 means wait for ever.
	LockTimeout time.Duration
	// IdleInTransactionTimeout ends a session that stays idle inside a
	// transaction for longer, releasing its locks; 0 means never.
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

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ValidateSchema returns a *persistence.ConfigError unless name is a valid
// schema name: lowercase letters, digits and underscores, not starting with
// a digit, at most 63 bytes.
func ValidateSchema(name string) error {
	if !schemaPattern.MatchString(name) || len(name) > maxIdentifierLength {
		return &persistence.ConfigError{Var: EnvSchema, Value: name,
			Reason: "a schema name of lowercase letters, digits and underscores, not starting with a digit, at most 63 bytes, is expected"}
	}
	return nil
}

// ConfigFromEnv reads a Config from env. DATABASE_URL, if set, gives the
// connection; otherwise POSTGRES_HOST, POSTGRES_DBNAME, POSTGRES_USER and
// POSTGRES_PASSWORD are required and POSTGRES_PORT defaults to 5432.
// POSTGRES_SCHEMA defaults to env.Name in snake case ("public" without a
// name). Defaults: POSTGRES_POOL_SIZE 5, POSTGRES_CONNECT_TIMEOUT 5 s,
// POSTGRES_LOCK_TIMEOUT 0 (wait for ever),
// POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT 5 s, CREATE_TABLE true. Each
// bad or missing value gives a *persistence.ConfigError naming its variable.
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
	if cfg.PoolSize, err = env.Int(EnvPoolSize, defaultPoolSize, 1); err != nil {
		return Config{}, err
	}
	seconds := []struct {
		key string
		def int
		dst *time.Duration
	}{
		{EnvConnectTimeout, defaultConnectSecs, &cfg.ConnectTimeout},
		{EnvLockTimeout, 0, &cfg.LockTimeout},
		{EnvIdleInTxTimeout, defaultIdleInTxSecs, &cfg.IdleInTransactionTimeout},
	}
	for _, s := range seconds {
		n, err := env.Int(s.key, s.def, 0)
		if err != nil {
			return Config{}, err
		}
		*s.dst = time.Duration(n) * time.Second
	}
	if cfg.CreateTable, err = env.Bool(EnvCreateTable, true); err != nil {
		return Config{}, err
	}
	return cfg, nil
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
