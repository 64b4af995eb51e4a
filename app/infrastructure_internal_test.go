package app

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
)

// Not parallel: it replaces the default logger.
func TestExplicitMemoryWithConnectionWarnsOnce(t *testing.T) {
	var logged bytes.Buffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(previous) })
	memoryWithConnection = sync.Once{}
	noProcessEnv := func(string) (string, bool) { return "", false }

	quiet := config.Environment{Values: map[string]string{EnvPersistenceModule: "memory"}, Lookup: noProcessEnv}
	module, err := ModuleFromEnv(quiet)
	require.NoError(t, err)
	require.Equal(t, Memory, module)
	require.Empty(t, logged.String(), "memory without a connection variable is not worth a warning")

	explicit := config.Environment{
		Values: map[string]string{EnvPersistenceModule: "memory", "DATABASE_URL": "postgres://u:secret@h/db"},
		Lookup: noProcessEnv,
	}
	for range 3 {
		module, err := ModuleFromEnv(explicit)
		require.NoError(t, err)
		require.Equal(t, Memory, module, "an explicit memory module is allowed")
	}
	require.Equal(t, 1, strings.Count(logged.String(), "level=WARN"), logged.String())
	require.Contains(t, logged.String(), "DATABASE_URL")
	require.NotContains(t, logged.String(), "secret", "the warning names the variable, not its value")
}

// Options.Logger, not slog.Default, receives the application's warning of
// an explicit memory module with a connection variable set. Not parallel:
// it resets the once-per-process warning and replaces the default logger.
func TestOptionsLoggerReceivesWarnings(t *testing.T) {
	var fallback, logged bytes.Buffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&fallback, nil)))
	t.Cleanup(func() { slog.SetDefault(previous) })
	memoryWithConnection = sync.Once{}

	a, err := New(t.Context(), Options{
		Registry: codec.NewRegistry(),
		Logger:   slog.New(slog.NewTextHandler(&logged, nil)),
		Env:      map[string]string{EnvPersistenceModule: "memory", "POSTGRES_HOST": "db.example"},
		Lookup:   func(string) (string, bool) { return "", false },
	})
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, Memory, a.Module())
	require.Equal(t, 1, strings.Count(logged.String(), "level=WARN"), logged.String())
	require.Contains(t, logged.String(), "POSTGRES_HOST")
	require.Empty(t, fallback.String(), "nothing went to slog.Default")
}
