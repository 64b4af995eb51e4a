package sqlite_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := func(values map[string]string) config.Environment {
		return config.Environment{Name: "Bank", Values: values, Lookup: func(string) (string, bool) { return "", false }}
	}
	cfg, err := sqlite.ConfigFromEnv(env(map[string]string{"SQLITE_DBNAME": "bank.db"}))
	require.NoError(t, err)
	require.Equal(t, sqlite.Config{DBName: "bank.db", CreateTable: true}, cfg)

	cfg, err = sqlite.ConfigFromEnv(env(map[string]string{"BANK_SQLITE_DBNAME": ":memory:", "SQLITE_LOCK_TIMEOUT": " 10 ", "CREATE_TABLE": "no"}))
	require.NoError(t, err)
	require.Equal(t, sqlite.Config{DBName: ":memory:", LockTimeout: 10 * time.Second}, cfg)

	cfg, err = sqlite.ConfigFromEnv(env(map[string]string{"SQLITE_DBNAME": "bank.db", "SQLITE_LOCK_TIMEOUT": ""}))
	require.NoError(t, err)
	require.Zero(t, cfg.LockTimeout, "the default")

	for _, c := range []struct {
		values map[string]string
		bad    string
	}{
		{map[string]string{}, "SQLITE_DBNAME"},
		{map[string]string{"SQLITE_DBNAME": " "}, "SQLITE_DBNAME"},
		{map[string]string{"SQLITE_DBNAME": "x", "SQLITE_LOCK_TIMEOUT": "1.5"}, "SQLITE_LOCK_TIMEOUT"},
		{map[string]string{"SQLITE_DBNAME": "x", "SQLITE_LOCK_TIMEOUT": "-1"}, "SQLITE_LOCK_TIMEOUT"},
		{map[string]string{"SQLITE_DBNAME": "x", "SQLITE_LOCK_TIMEOUT": "2147484"}, "SQLITE_LOCK_TIMEOUT"},
		{map[string]string{"SQLITE_DBNAME": "x", "CREATE_TABLE": "maybe"}, "CREATE_TABLE"},
	} {
		_, err := sqlite.ConfigFromEnv(env(c.values))
		var cfgErr *config.Error
		require.True(t, errors.As(err, &cfgErr), "%v: %v", c.values, err)
		require.Equal(t, c.bad, cfgErr.Var)
		require.ErrorIs(t, err, config.ErrInvalid)
	}
}
