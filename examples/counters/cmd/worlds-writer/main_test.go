package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// only returns an Environment with values and nothing of the process
// environment.
func only(values map[string]string) config.Environment {
	return config.Environment{Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func TestRunNeedsPostgres(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(t.Context(), only(nil), 3, &out)
	require.ErrorIs(t, err, errNeedsPostgres)
	require.ErrorContains(t, err, "DATABASE_URL")
	require.Error(t, run(t.Context(), only(nil), 0, &out))
	require.Empty(t, out.String())
}

// The writer records the Python library's example worlds, and more on a second run; a
// Counters process application that starts afterwards counts them all.
func TestRunRecordsWorldsForCounters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	values := map[string]string{
		"DATABASE_URL":             pgtest.ServerURL(t),
		"WORLDS_POSTGRES_SCHEMA":   pgtest.NewSchemaName(t),
		"COUNTERS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t),
	}
	var out bytes.Buffer
	require.NoError(t, run(ctx, only(values), 3, &out))
	s := out.String()
	require.Contains(t, s, "): [dinosaurs trucks internet]\nworld 2 (")
	require.Contains(t, s, "): [dinosaurs]\nrecorded 3 worlds in the schema \""+values["WORLDS_POSTGRES_SCHEMA"]+"\": Worlds has 9 notifications (9 new)\n")

	out.Reset()
	require.NoError(t, run(ctx, only(values), 4, &out))
	require.Contains(t, out.String(), "recorded 4 worlds in the schema \""+values["WORLDS_POSTGRES_SCHEMA"]+"\": Worlds has 22 notifications (13 new)\n")

	// What it recorded is the Worlds of the system: Counters counts it.
	env := map[string]string{"PERSISTENCE_MODULE": "postgres"}
	for k, v := range values {
		env[k] = v
	}
	runner := system.NewSingleThreadedRunner(counters.System(), system.RunnerOptions{Env: env, Lookup: only(nil).Lookup})
	require.NoError(t, runner.Start(ctx)) // catches up
	defer runner.Stop()
	for what, want := range map[string]int{"dinosaurs": 3 + 4, "trucks": 2 + 3, "internet": 1 + 2} {
		n, err := counters.GetCount(ctx, runner.App(counters.CountersName), what)
		require.NoError(t, err)
		require.Equal(t, want, n, what)
	}
}
