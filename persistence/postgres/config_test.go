package postgres_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// configTestEnv returns an Environment that reads values only: its process
// environment is empty, so that tests never depend on or set real variables.
func configTestEnv(name string, values map[string]string) config.Environment {
	return config.Environment{
		Name:   name,
		Values: values,
		Lookup: func(string) (string, bool) { return "", false },
	}
}

// configTestWith returns a copy of base with the given key, value pairs
// added (an odd trailing key is ignored).
func configTestWith(base map[string]string, kv ...string) map[string]string {
	m := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// configTestWithout returns a copy of base without key.
func configTestWithout(base map[string]string, key string) map[string]string {
	m := configTestWith(base)
	delete(m, key)
	return m
}

const configTestURL = "postgres://user:secret@db.example:5432/events"

func TestConfigFromEnvDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		envName    string
		wantSchema string
	}{
		{"no name", "", "public"},
		{"BankAccounts", "BankAccounts", "bank_accounts"},
		{"Worlds", "Worlds", "worlds"},
		{"bank-accounts", "bank-accounts", "bank_accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := postgres.ConfigFromEnv(configTestEnv(tt.envName,
				map[string]string{postgres.EnvDatabaseURL: configTestURL}))
			require.NoError(t, err)
			require.Equal(t, postgres.Config{
				ConnString:               configTestURL,
				Schema:                   tt.wantSchema,
				PoolSize:                 5,
				ConnectTimeout:           5 * time.Second,
				LockTimeout:              0,
				IdleInTransactionTimeout: 5 * time.Second,
				CreateTable:              true,
				MaxOverflow:              10,
				PoolTimeout:              30 * time.Second,
			}, cfg)
		})
	}
}

func TestConfigFromEnvPrefixedOverridesPlain(t *testing.T) {
	t.Parallel()
	cfg, err := postgres.ConfigFromEnv(config.Environment{
		Name: "BankAccounts",
		Values: map[string]string{
			postgres.EnvDatabaseURL:                    configTestURL,
			postgres.EnvSchema:                         "plain",
			"BANK_ACCOUNTS_" + postgres.EnvPoolSize:    "9",
			postgres.EnvPoolSize:                       "3",
			"BANK_ACCOUNTS_" + postgres.EnvCreateTable: "no",
			"WORLDS_" + postgres.EnvConnectTimeout:     "99",
		},
		Lookup: func(key string) (string, bool) {
			if key == "BANK_ACCOUNTS_"+postgres.EnvSchema {
				return "from_process", true
			}
			return "", false
		},
	})
	require.NoError(t, err)
	require.Equal(t, "from_process", cfg.Schema)
	require.Equal(t, 9, cfg.PoolSize)
	require.False(t, cfg.CreateTable)
	require.Equal(t, 5*time.Second, cfg.ConnectTimeout)
}

func TestConfigFromEnvConnString(t *testing.T) {
	t.Parallel()
	parts := map[string]string{
		postgres.EnvHost:     "db.example",
		postgres.EnvPort:     "6543",
		postgres.EnvDBName:   "events",
		postgres.EnvUser:     "app",
		postgres.EnvPassword: "s3cret",
	}
	tests := []struct {
		name     string
		values   map[string]string
		user     string
		password string
		host     string
		port     string
		dbName   string
	}{
		{
			name:   "all parts",
			values: parts,
			user:   "app", password: "s3cret", host: "db.example", port: "6543", dbName: "events",
		},
		{
			name:   "default port",
			values: configTestWithout(parts, postgres.EnvPort),
			user:   "app", password: "s3cret", host: "db.example", port: "5432", dbName: "events",
		},
		{
			name:   "empty port gives default",
			values: configTestWith(parts, postgres.EnvPort, ""),
			user:   "app", password: "s3cret", host: "db.example", port: "5432", dbName: "events",
		},
		{
			name:   "empty password",
			values: configTestWith(parts, postgres.EnvPassword, ""),
			user:   "app", password: "", host: "db.example", port: "6543", dbName: "events",
		},
		{
			name:   "password needing escapes",
			values: configTestWith(parts, postgres.EnvPassword, "p@ss:w/rd?#%"),
			user:   "app", password: "p@ss:w/rd?#%", host: "db.example", port: "6543", dbName: "events",
		},
		{
			name:   "IPv6 host",
			values: configTestWith(parts, postgres.EnvHost, "::1"),
			user:   "app", password: "s3cret", host: "::1", port: "6543", dbName: "events",
		},
		{
			name: "DATABASE_URL wins over parts",
			values: configTestWith(parts, postgres.EnvDatabaseURL,
				"postgresql://other:pw@elsewhere:1/otherdb"),
			user: "other", password: "pw", host: "elsewhere", port: "1", dbName: "otherdb",
		},
		{
			name:   "empty DATABASE_URL falls back to parts",
			values: configTestWith(parts, postgres.EnvDatabaseURL, ""),
			user:   "app", password: "s3cret", host: "db.example", port: "6543", dbName: "events",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := postgres.ConfigFromEnv(configTestEnv("", tt.values))
			require.NoError(t, err)
			u, err := url.Parse(cfg.ConnString)
			require.NoError(t, err, cfg.ConnString)
			require.Contains(t, []string{"postgres", "postgresql"}, u.Scheme)
			require.NotNil(t, u.User)
			require.Equal(t, tt.user, u.User.Username())
			password, ok := u.User.Password()
			require.True(t, ok, "the password must be present, even if empty: %s", cfg.ConnString)
			require.Equal(t, tt.password, password)
			require.Equal(t, tt.host, u.Hostname())
			require.Equal(t, tt.port, u.Port())
			require.Equal(t, "/"+tt.dbName, u.Path)
		})
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	t.Parallel()
	parts := map[string]string{
		postgres.EnvHost:     "db.example",
		postgres.EnvDBName:   "events",
		postgres.EnvUser:     "app",
		postgres.EnvPassword: "",
	}
	withURL := func(kv ...string) map[string]string {
		return configTestWith(map[string]string{postgres.EnvDatabaseURL: configTestURL}, kv...)
	}
	tests := []struct {
		name    string
		envName string
		values  map[string]string
		wantVar string
		// wantText, if set, must appear in the error message.
		wantText string
	}{
		{name: "nothing set", values: nil, wantVar: postgres.EnvHost},
		{name: "missing host", values: configTestWithout(parts, postgres.EnvHost), wantVar: postgres.EnvHost},
		{name: "empty host", values: configTestWith(parts, postgres.EnvHost, ""), wantVar: postgres.EnvHost},
		{name: "missing dbname", values: configTestWithout(parts, postgres.EnvDBName), wantVar: postgres.EnvDBName},
		{name: "missing user", values: configTestWithout(parts, postgres.EnvUser), wantVar: postgres.EnvUser},
		{name: "missing password", values: configTestWithout(parts, postgres.EnvPassword), wantVar: postgres.EnvPassword},
		{name: "port abc", values: configTestWith(parts, postgres.EnvPort, "abc"), wantVar: postgres.EnvPort},
		{name: "port 70000", values: configTestWith(parts, postgres.EnvPort, "70000"), wantVar: postgres.EnvPort},
		{name: "port 0", values: configTestWith(parts, postgres.EnvPort, "0"), wantVar: postgres.EnvPort},
		{name: "port -1", values: configTestWith(parts, postgres.EnvPort, "-1"), wantVar: postgres.EnvPort},

		{name: "pool size 0", values: withURL(postgres.EnvPoolSize, "0"), wantVar: postgres.EnvPoolSize},
		{name: "pool size x", values: withURL(postgres.EnvPoolSize, "x"), wantVar: postgres.EnvPoolSize},
		{name: "connect timeout -1", values: withURL(postgres.EnvConnectTimeout, "-1"), wantVar: postgres.EnvConnectTimeout},
		{name: "connect timeout x", values: withURL(postgres.EnvConnectTimeout, "x"), wantVar: postgres.EnvConnectTimeout},
		{name: "lock timeout -1", values: withURL(postgres.EnvLockTimeout, "-1"), wantVar: postgres.EnvLockTimeout},
		{name: "lock timeout x", values: withURL(postgres.EnvLockTimeout, "x"), wantVar: postgres.EnvLockTimeout},
		{name: "lock timeout 1.5", values: withURL(postgres.EnvLockTimeout, "1.5"), wantVar: postgres.EnvLockTimeout},
		{name: "idle in tx timeout -1", values: withURL(postgres.EnvIdleInTxTimeout, "-1"), wantVar: postgres.EnvIdleInTxTimeout},
		{name: "idle in tx timeout x", values: withURL(postgres.EnvIdleInTxTimeout, "x"), wantVar: postgres.EnvIdleInTxTimeout},
		{name: "create table bogus", values: withURL(postgres.EnvCreateTable, "bogus"), wantVar: postgres.EnvCreateTable},
		{name: "create table 2", values: withURL(postgres.EnvCreateTable, "2"), wantVar: postgres.EnvCreateTable},
		{name: "schema Bad-Name", values: withURL(postgres.EnvSchema, "Bad-Name"), wantVar: postgres.EnvSchema},
		{name: "schema starting with digit", values: withURL(postgres.EnvSchema, "1abc"), wantVar: postgres.EnvSchema},
		{name: "schema too long", values: withURL(postgres.EnvSchema, strings.Repeat("a", 64)), wantVar: postgres.EnvSchema},
		{name: "default schema from bad name", envName: "Ünïcode", values: withURL(), wantVar: postgres.EnvSchema},
		{name: "DATABASE_URL mysql", values: map[string]string{postgres.EnvDatabaseURL: "mysql://x"}, wantVar: postgres.EnvDatabaseURL},
		{name: "DATABASE_URL garbage", values: map[string]string{postgres.EnvDatabaseURL: "::::"}, wantVar: postgres.EnvDatabaseURL},
		{name: "DATABASE_URL no scheme", values: map[string]string{postgres.EnvDatabaseURL: "db.example:5432/events"}, wantVar: postgres.EnvDatabaseURL},

		// Names PostgreSQL reserves for system schemas.
		{name: "schema pg_x", values: withURL(postgres.EnvSchema, "pg_x"), wantVar: postgres.EnvSchema, wantText: "pg_"},
		{name: "schema pg_", values: withURL(postgres.EnvSchema, "pg_"), wantVar: postgres.EnvSchema, wantText: "pg_"},
		{name: "default schema pg_x from name PgX", envName: "PgX", values: withURL(), wantVar: postgres.EnvSchema, wantText: "pg_"},

		// Numbers out of range: each error names its variable and the range.
		{name: "pool size 2^31", values: withURL(postgres.EnvPoolSize, "2147483648"), wantVar: postgres.EnvPoolSize, wantText: "1 to 2147483647"},
		{name: "pool size 2^32+1", values: withURL(postgres.EnvPoolSize, "4294967297"), wantVar: postgres.EnvPoolSize, wantText: "1 to 2147483647"},
		{name: "pool size beyond int64", values: withURL(postgres.EnvPoolSize, "99999999999999999999"), wantVar: postgres.EnvPoolSize, wantText: "1 to 2147483647"},
		{name: "connect timeout 3601", values: withURL(postgres.EnvConnectTimeout, "3601"), wantVar: postgres.EnvConnectTimeout, wantText: "0 to 3600"},
		{name: "connect timeout max int64", values: withURL(postgres.EnvConnectTimeout, "9223372036854775807"), wantVar: postgres.EnvConnectTimeout, wantText: "0 to 3600"},
		{name: "connect timeout -1 range", values: withURL(postgres.EnvConnectTimeout, "-1"), wantVar: postgres.EnvConnectTimeout, wantText: "0 to 3600"},
		{name: "lock timeout 2147484", values: withURL(postgres.EnvLockTimeout, "2147484"), wantVar: postgres.EnvLockTimeout, wantText: "0 to 2147483"},
		{name: "lock timeout max int64", values: withURL(postgres.EnvLockTimeout, "9223372036854775807"), wantVar: postgres.EnvLockTimeout, wantText: "0 to 2147483"},
		{name: "idle in tx timeout 2147484", values: withURL(postgres.EnvIdleInTxTimeout, "2147484"), wantVar: postgres.EnvIdleInTxTimeout, wantText: "0 to 2147483"},
		{name: "idle in tx timeout 10^12", values: withURL(postgres.EnvIdleInTxTimeout, "1000000000000"), wantVar: postgres.EnvIdleInTxTimeout, wantText: "0 to 2147483"},
		{name: "DATABASE_URL connect_timeout x", values: map[string]string{postgres.EnvDatabaseURL: configTestURL + "?connect_timeout=x"}, wantVar: postgres.EnvDatabaseURL, wantText: "0 to 3600"},
		{name: "DATABASE_URL connect_timeout 3601", values: map[string]string{postgres.EnvDatabaseURL: configTestURL + "?connect_timeout=3601"}, wantVar: postgres.EnvDatabaseURL, wantText: "0 to 3600"},
		{name: "DATABASE_URL connect_timeout empty", values: map[string]string{postgres.EnvDatabaseURL: configTestURL + "?connect_timeout="}, wantVar: postgres.EnvDatabaseURL, wantText: "0 to 3600"},
		{name: "DATABASE_URL connect_timeout -1", values: map[string]string{postgres.EnvDatabaseURL: configTestURL + "?connect_timeout=-1"}, wantVar: postgres.EnvDatabaseURL, wantText: "0 to 3600"},

		// Pool settings (issue 11 item 9). The names are spelt out so that
		// these cases compiled, and failed, before the settings were read.
		{name: "max overflow x", values: withURL("POSTGRES_MAX_OVERFLOW", "x"), wantVar: "POSTGRES_MAX_OVERFLOW", wantText: "0 to 2147483642"},
		{name: "max overflow -1", values: withURL("POSTGRES_MAX_OVERFLOW", "-1"), wantVar: "POSTGRES_MAX_OVERFLOW", wantText: "0 to 2147483642"},
		{name: "max overflow 1.5", values: withURL("POSTGRES_MAX_OVERFLOW", "1.5"), wantVar: "POSTGRES_MAX_OVERFLOW"},
		{name: "max overflow beyond int32 with pool size", values: withURL("POSTGRES_MAX_OVERFLOW", "2147483643"), wantVar: "POSTGRES_MAX_OVERFLOW", wantText: "0 to 2147483642"},
		{name: "max overflow beyond int32 with pool size 7", values: withURL("POSTGRES_MAX_OVERFLOW", "2147483641", "POSTGRES_POOL_SIZE", "7"),
			wantVar: "POSTGRES_MAX_OVERFLOW", wantText: "0 to 2147483640"},
		{name: "max overflow beyond int64", values: withURL("POSTGRES_MAX_OVERFLOW", "99999999999999999999"), wantVar: "POSTGRES_MAX_OVERFLOW"},
		{name: "pool max overflow -1", values: withURL("POSTGRES_POOL_MAX_OVERFLOW", "-1"), wantVar: "POSTGRES_POOL_MAX_OVERFLOW"},
		{name: "pool max overflow x", values: withURL("POSTGRES_POOL_MAX_OVERFLOW", "x"), wantVar: "POSTGRES_POOL_MAX_OVERFLOW"},
		{name: "pool timeout x", values: withURL("POSTGRES_POOL_TIMEOUT", "x"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "number of seconds"},
		{name: "pool timeout 30s", values: withURL("POSTGRES_POOL_TIMEOUT", "30s"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "number of seconds"},
		{name: "pool timeout -1", values: withURL("POSTGRES_POOL_TIMEOUT", "-1"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "31536000"},
		{name: "pool timeout 0", values: withURL("POSTGRES_POOL_TIMEOUT", "0"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "context's deadline"},
		{name: "pool timeout 0.0", values: withURL("POSTGRES_POOL_TIMEOUT", "0.0"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "context's deadline"},
		{name: "pool timeout nan", values: withURL("POSTGRES_POOL_TIMEOUT", "nan"), wantVar: "POSTGRES_POOL_TIMEOUT"},
		{name: "pool timeout inf", values: withURL("POSTGRES_POOL_TIMEOUT", "inf"), wantVar: "POSTGRES_POOL_TIMEOUT"},
		{name: "pool timeout beyond a year", values: withURL("POSTGRES_POOL_TIMEOUT", "31536000.5"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "31536000"},
		{name: "pool timeout 1e300", values: withURL("POSTGRES_POOL_TIMEOUT", "1e300"), wantVar: "POSTGRES_POOL_TIMEOUT"},
		{name: "pool timeout 0.5", values: withURL("POSTGRES_POOL_TIMEOUT", "0.5"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "from 1 to 31536000"},
		{name: "pool timeout 1e-10", values: withURL("POSTGRES_POOL_TIMEOUT", "1e-10"), wantVar: "POSTGRES_POOL_TIMEOUT", wantText: "from 1 to 31536000"},
		{name: "conn max age x", values: withURL("POSTGRES_CONN_MAX_AGE", "x"), wantVar: "POSTGRES_CONN_MAX_AGE", wantText: "number of seconds"},
		{name: "conn max age -1", values: withURL("POSTGRES_CONN_MAX_AGE", "-1"), wantVar: "POSTGRES_CONN_MAX_AGE"},
		{name: "conn max age -0.5", values: withURL("POSTGRES_CONN_MAX_AGE", "-0.5"), wantVar: "POSTGRES_CONN_MAX_AGE"},
		{name: "conn max age nan", values: withURL("POSTGRES_CONN_MAX_AGE", "NaN"), wantVar: "POSTGRES_CONN_MAX_AGE"},
		{name: "conn max age +inf", values: withURL("POSTGRES_CONN_MAX_AGE", "+Inf"), wantVar: "POSTGRES_CONN_MAX_AGE"},
		{name: "conn max age 1h", values: withURL("POSTGRES_CONN_MAX_AGE", "1h"), wantVar: "POSTGRES_CONN_MAX_AGE"},
		{name: "conn max age 0.999", values: withURL("POSTGRES_CONN_MAX_AGE", "0.999"), wantVar: "POSTGRES_CONN_MAX_AGE", wantText: "from 1 to 31536000"},
		{name: "conn max age 1e-10", values: withURL("POSTGRES_CONN_MAX_AGE", "1e-10"), wantVar: "POSTGRES_CONN_MAX_AGE", wantText: "from 1 to 31536000"},
		{name: "conn max age beyond a year", values: withURL("POSTGRES_CONN_MAX_AGE", "31536001"), wantVar: "POSTGRES_CONN_MAX_AGE", wantText: "31536000"},
		{name: "pre ping bogus", values: withURL("POSTGRES_PRE_PING", "bogus"), wantVar: "POSTGRES_PRE_PING", wantText: "truth value"},
		{name: "pre ping 2", values: withURL("POSTGRES_PRE_PING", "2"), wantVar: "POSTGRES_PRE_PING", wantText: "truth value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := postgres.ConfigFromEnv(configTestEnv(tt.envName, tt.values))
			require.Error(t, err)
			require.Equal(t, postgres.Config{}, cfg)
			require.ErrorIs(t, err, config.ErrInvalid)
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, tt.wantVar, cfgErr.Var)
			require.Contains(t, err.Error(), tt.wantVar)
			require.Contains(t, err.Error(), tt.wantText)
		})
	}
}

func TestConfigFromEnvRedactsDatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []string{
		"mysql://u:hunter2@h/db",
		"mysql://u:hunter2@h:3306/db?sslmode=disable",
		"postgres://u:hunter2@h:notaport/db",
		"postgres://u:hunter2@[::1/db",
		"hunter2",
		"u:hunter2@h/db",
		"%zz://u:hunter2@h/db",
		"postgress://u@h/db?password=hunter2",
		"mysql://u@h/db?password=hunter2#x",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := postgres.ConfigFromEnv(configTestEnv("", map[string]string{postgres.EnvDatabaseURL: in}))
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, postgres.EnvDatabaseURL, cfgErr.Var)
			require.NotContains(t, err.Error(), "hunter2")
			require.NotContains(t, cfgErr.Value, "hunter2")
			require.Contains(t, err.Error(), postgres.EnvDatabaseURL)
		})
	}
}

func TestConfigFromEnvSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		key   string
		value string
		check func(t *testing.T, cfg postgres.Config)
	}{
		{"pool size 7", postgres.EnvPoolSize, "7", func(t *testing.T, c postgres.Config) { require.Equal(t, 7, c.PoolSize) }},
		{"pool size 1", postgres.EnvPoolSize, "1", func(t *testing.T, c postgres.Config) { require.Equal(t, 1, c.PoolSize) }},
		{"pool size empty", postgres.EnvPoolSize, "", func(t *testing.T, c postgres.Config) { require.Equal(t, 5, c.PoolSize) }},
		{"connect timeout 7", postgres.EnvConnectTimeout, "7", func(t *testing.T, c postgres.Config) { require.Equal(t, 7*time.Second, c.ConnectTimeout) }},
		{"connect timeout 0", postgres.EnvConnectTimeout, "0", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Duration(0), c.ConnectTimeout) }},
		{"connect timeout empty", postgres.EnvConnectTimeout, "", func(t *testing.T, c postgres.Config) { require.Equal(t, 5*time.Second, c.ConnectTimeout) }},
		{"lock timeout 7", postgres.EnvLockTimeout, "7", func(t *testing.T, c postgres.Config) { require.Equal(t, 7*time.Second, c.LockTimeout) }},
		{"lock timeout 0", postgres.EnvLockTimeout, "0", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Duration(0), c.LockTimeout) }},
		{"lock timeout empty", postgres.EnvLockTimeout, "", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Duration(0), c.LockTimeout) }},
		{"idle in tx timeout 7", postgres.EnvIdleInTxTimeout, "7", func(t *testing.T, c postgres.Config) { require.Equal(t, 7*time.Second, c.IdleInTransactionTimeout) }},
		{"idle in tx timeout 0", postgres.EnvIdleInTxTimeout, "0", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Duration(0), c.IdleInTransactionTimeout) }},
		{"idle in tx timeout empty", postgres.EnvIdleInTxTimeout, "", func(t *testing.T, c postgres.Config) { require.Equal(t, 5*time.Second, c.IdleInTransactionTimeout) }},
		{"create table n", postgres.EnvCreateTable, "n", func(t *testing.T, c postgres.Config) { require.False(t, c.CreateTable) }},
		{"create table OFF", postgres.EnvCreateTable, "OFF", func(t *testing.T, c postgres.Config) { require.False(t, c.CreateTable) }},
		{"create table yes", postgres.EnvCreateTable, "yes", func(t *testing.T, c postgres.Config) { require.True(t, c.CreateTable) }},
		{"create table empty", postgres.EnvCreateTable, "", func(t *testing.T, c postgres.Config) { require.True(t, c.CreateTable) }},
		{"schema", postgres.EnvSchema, "my_schema_2", func(t *testing.T, c postgres.Config) { require.Equal(t, "my_schema_2", c.Schema) }},
		{"schema 63 bytes", postgres.EnvSchema, strings.Repeat("s", 63), func(t *testing.T, c postgres.Config) { require.Equal(t, strings.Repeat("s", 63), c.Schema) }},
		{"schema empty", postgres.EnvSchema, "", func(t *testing.T, c postgres.Config) { require.Equal(t, "public", c.Schema) }},
		{"schema order", postgres.EnvSchema, "order", func(t *testing.T, c postgres.Config) { require.Equal(t, "order", c.Schema) }},
		{"schema pgx", postgres.EnvSchema, "pgx", func(t *testing.T, c postgres.Config) { require.Equal(t, "pgx", c.Schema) }},
		{"pool size max int32", postgres.EnvPoolSize, "2147483647", func(t *testing.T, c postgres.Config) {
			require.Equal(t, 2147483647, c.PoolSize)
			require.Equal(t, 0, c.MaxOverflow, "the default overflow shrinks to fit")
		}},
		{"pool size max int32 - 3", postgres.EnvPoolSize, "2147483644", func(t *testing.T, c postgres.Config) { require.Equal(t, 3, c.MaxOverflow) }},
		{"connect timeout 3600", postgres.EnvConnectTimeout, "3600", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Hour, c.ConnectTimeout) }},
		{"lock timeout 2147483", postgres.EnvLockTimeout, "2147483", func(t *testing.T, c postgres.Config) { require.Equal(t, 2147483*time.Second, c.LockTimeout) }},
		{"idle in tx timeout 2147483", postgres.EnvIdleInTxTimeout, "2147483", func(t *testing.T, c postgres.Config) {
			require.Equal(t, 2147483*time.Second, c.IdleInTransactionTimeout)
		}},

		// Pool settings (issue 11 item 9).
		{"max overflow 3", postgres.EnvMaxOverflow, "3", func(t *testing.T, c postgres.Config) { require.Equal(t, 3, c.MaxOverflow) }},
		{"max overflow 0", postgres.EnvMaxOverflow, "0", func(t *testing.T, c postgres.Config) { require.Equal(t, 0, c.MaxOverflow) }},
		{"max overflow empty", postgres.EnvMaxOverflow, "", func(t *testing.T, c postgres.Config) { require.Equal(t, 10, c.MaxOverflow) }},
		{"max overflow largest with pool size 5", postgres.EnvMaxOverflow, "2147483642", func(t *testing.T, c postgres.Config) {
			require.Equal(t, 2147483642, c.MaxOverflow)
		}},
		{"pool max overflow 4", postgres.EnvPoolMaxOverflow, "4", func(t *testing.T, c postgres.Config) { require.Equal(t, 4, c.MaxOverflow) }},
		{"pool max overflow empty", postgres.EnvPoolMaxOverflow, "", func(t *testing.T, c postgres.Config) { require.Equal(t, 10, c.MaxOverflow) }},
		{"pool timeout 1.5", postgres.EnvPoolTimeout, "1.5", func(t *testing.T, c postgres.Config) { require.Equal(t, 1500*time.Millisecond, c.PoolTimeout) }},
		{"pool timeout 7", postgres.EnvPoolTimeout, " 7 ", func(t *testing.T, c postgres.Config) { require.Equal(t, 7*time.Second, c.PoolTimeout) }},
		{"pool timeout 1", postgres.EnvPoolTimeout, "1", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Second, c.PoolTimeout) }},
		{"pool timeout 1.000000001", postgres.EnvPoolTimeout, "1.000000001", func(t *testing.T, c postgres.Config) {
			require.Equal(t, time.Second+time.Nanosecond, c.PoolTimeout)
		}},
		{"pool timeout a year", postgres.EnvPoolTimeout, "31536000", func(t *testing.T, c postgres.Config) { require.Equal(t, 365*24*time.Hour, c.PoolTimeout) }},
		{"pool timeout empty", postgres.EnvPoolTimeout, "", func(t *testing.T, c postgres.Config) { require.Equal(t, 30*time.Second, c.PoolTimeout) }},
		{"conn max age 2.5", postgres.EnvConnMaxAge, "2.5", func(t *testing.T, c postgres.Config) {
			require.Equal(t, 2500*time.Millisecond, c.ConnMaxAge)
			require.False(t, c.ConnUseOnce)
		}},
		{"conn max age 0 is use once", postgres.EnvConnMaxAge, "0", func(t *testing.T, c postgres.Config) {
			require.Equal(t, time.Duration(0), c.ConnMaxAge)
			require.True(t, c.ConnUseOnce)
		}},
		{"conn max age 0.0 is use once", postgres.EnvConnMaxAge, "0.0", func(t *testing.T, c postgres.Config) { require.True(t, c.ConnUseOnce) }},
		{"conn max age 1", postgres.EnvConnMaxAge, "1", func(t *testing.T, c postgres.Config) { require.Equal(t, time.Second, c.ConnMaxAge) }},
		{"conn max age a year", postgres.EnvConnMaxAge, "31536000", func(t *testing.T, c postgres.Config) { require.Equal(t, 365*24*time.Hour, c.ConnMaxAge) }},
		{"conn max age empty is unset", postgres.EnvConnMaxAge, "", func(t *testing.T, c postgres.Config) {
			require.Equal(t, time.Duration(0), c.ConnMaxAge)
			require.False(t, c.ConnUseOnce)
		}},
		{"pre ping y", postgres.EnvPrePing, "y", func(t *testing.T, c postgres.Config) { require.True(t, c.PrePing) }},
		{"pre ping TRUE", postgres.EnvPrePing, "TRUE", func(t *testing.T, c postgres.Config) { require.True(t, c.PrePing) }},
		{"pre ping off", postgres.EnvPrePing, "off", func(t *testing.T, c postgres.Config) { require.False(t, c.PrePing) }},
		{"pre ping empty", postgres.EnvPrePing, "", func(t *testing.T, c postgres.Config) { require.False(t, c.PrePing) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := postgres.ConfigFromEnv(configTestEnv("", map[string]string{
				postgres.EnvDatabaseURL: configTestURL,
				tt.key:                  tt.value,
			}))
			require.NoError(t, err)
			require.Equal(t, configTestURL, cfg.ConnString)
			tt.check(t, cfg)
		})
	}
}

func TestValidateSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"public", true},
		{"bank_accounts", true},
		{"_private", true},
		{"a1", true},
		{strings.Repeat("x", 63), true},
		{strings.Repeat("x", 64), false},
		{"", false},
		{"1abc", false},
		{"Bad", false},
		{"bad-name", false},
		{"bad name", false},
		{"bad.name", false},
		{`bad"name`, false},
		{"order", true},
		{"user", true},
		{"select", true},
		{"pgx", true},
		{"_pg_x", true},
		{"pg_x", false},
		{"pg_", false},
		{"pg_catalog", false},
		{"pg_toast", false},
		{"ünicode", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := postgres.ValidateSchema(tt.name)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, postgres.EnvSchema, cfgErr.Var)
			require.Equal(t, tt.name, cfgErr.Value)
		})
	}
}

// An out-of-range value read from an application's prefixed variable is
// reported under that variable's name.
func TestConfigFromEnvRangeErrorNamesPrefixedVariable(t *testing.T) {
	t.Parallel()
	_, err := postgres.ConfigFromEnv(configTestEnv("BankAccounts", map[string]string{
		postgres.EnvDatabaseURL:                 configTestURL,
		"BANK_ACCOUNTS_" + postgres.EnvPoolSize: "4294967297",
	}))
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "BANK_ACCOUNTS_"+postgres.EnvPoolSize, cfgErr.Var)
	require.Equal(t, "4294967297", cfgErr.Value)
}

// A connect_timeout in DATABASE_URL is kept: the POSTGRES_CONNECT_TIMEOUT
// default does not override it, and neither does the variable set
// explicitly (the URL wins, as libpq's parameters win over PGCONNECT_TIMEOUT).
func TestConfigFromEnvConnectTimeoutPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		variable string // "" leaves POSTGRES_CONNECT_TIMEOUT unset
		want     time.Duration
	}{
		{"URL only", configTestURL + "?connect_timeout=2", "", 2 * time.Second},
		{"URL 0 means no limit", configTestURL + "?connect_timeout=0", "", 0},
		{"URL among other parameters", configTestURL + "?sslmode=disable&connect_timeout=3&application_name=x", "", 3 * time.Second},
		{"URL wins over the variable", configTestURL + "?connect_timeout=2", "7", 2 * time.Second},
		{"URL 0 wins over the variable", configTestURL + "?connect_timeout=0", "7", 0},
		{"variable without URL parameter", configTestURL, "7", 7 * time.Second},
		{"default without either", configTestURL, "", 5 * time.Second},
		{"last of repeated URL parameters", configTestURL + "?connect_timeout=9&connect_timeout=2", "7", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			values := map[string]string{postgres.EnvDatabaseURL: tt.url}
			if tt.variable != "" {
				values[postgres.EnvConnectTimeout] = tt.variable
			}
			cfg, err := postgres.ConfigFromEnv(configTestEnv("", values))
			require.NoError(t, err)
			require.Equal(t, tt.url, cfg.ConnString, "the connection string is passed on unchanged")
			require.Equal(t, tt.want, cfg.ConnectTimeout)
		})
	}
}

// POSTGRES_MAX_OVERFLOW (the Python library's documented name) and
// POSTGRES_POOL_MAX_OVERFLOW (the name its v9.2 code reads) are both
// read. An application-prefixed variable wins over a plain one, whichever
// the name; between two of the same kind, POSTGRES_MAX_OVERFLOW wins.
func TestConfigFromEnvMaxOverflowNames(t *testing.T) {
	t.Parallel()
	const (
		maxOverflow     = "POSTGRES_MAX_OVERFLOW"
		poolMaxOverflow = "POSTGRES_POOL_MAX_OVERFLOW"
		prefix          = "BANK_ACCOUNTS_"
		seedsPrefix     = "BANKACCOUNTS_"
	)
	tests := []struct {
		name   string
		values map[string]string
		want   int
	}{
		{"neither", map[string]string{}, 10},
		{"documented name", map[string]string{maxOverflow: "3"}, 3},
		{"v9.2 code's name", map[string]string{poolMaxOverflow: "4"}, 4},
		{"both: documented name wins", map[string]string{maxOverflow: "3", poolMaxOverflow: "4"}, 3},
		{"empty documented name is unset", map[string]string{maxOverflow: "", poolMaxOverflow: "4"}, 4},
		{"both prefixed: documented name wins", map[string]string{prefix + maxOverflow: "5", prefix + poolMaxOverflow: "6"}, 5},
		{"prefixed v9.2 name wins over plain documented name", map[string]string{maxOverflow: "3", prefix + poolMaxOverflow: "6"}, 6},
		{"prefixed v9.2 name wins over plain documented name", map[string]string{maxOverflow: "3", seedsPrefix + poolMaxOverflow: "7"}, 7},
		{"prefixed documented name wins over plain v9.2 name", map[string]string{prefix + maxOverflow: "5", poolMaxOverflow: "4"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			values := configTestWith(tt.values, postgres.EnvDatabaseURL, configTestURL)
			cfg, err := postgres.ConfigFromEnv(configTestEnv("BankAccounts", values))
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg.MaxOverflow)
		})
	}
}

// A bad pool setting read from an application's prefixed variable is
// reported under that variable's name, in either prefix spelling.
func TestConfigFromEnvPoolSettingErrorsNamePrefixedVariable(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, value string }{
		{"BANK_ACCOUNTS_POSTGRES_MAX_OVERFLOW", "-1"},
		{"BANKACCOUNTS_POSTGRES_POOL_MAX_OVERFLOW", "x"},
		{"BANK_ACCOUNTS_POSTGRES_POOL_TIMEOUT", "x"},
		{"BANKACCOUNTS_POSTGRES_POOL_TIMEOUT", "0"},
		{"BANK_ACCOUNTS_POSTGRES_CONN_MAX_AGE", "-1"},
		{"BANKACCOUNTS_POSTGRES_CONN_MAX_AGE", "forever"},
		{"BANK_ACCOUNTS_POSTGRES_PRE_PING", "maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			_, err := postgres.ConfigFromEnv(configTestEnv("BankAccounts", map[string]string{
				postgres.EnvDatabaseURL: configTestURL,
				tt.key:                  tt.value,
			}))
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, tt.key, cfgErr.Var)
			require.Equal(t, tt.value, cfgErr.Value)
		})
	}
}
