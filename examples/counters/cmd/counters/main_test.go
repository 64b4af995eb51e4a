package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// only returns an Environment with values and nothing of the process
// environment.
func only(values map[string]string) config.Environment {
	return config.Environment{Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func checkOutput(t *testing.T, s string) {
	t.Helper()
	require.Contains(t, s, "world 1 (")
	require.Contains(t, s, "): [dinosaurs trucks internet]\nworld 2 (")
	require.Contains(t, s, "): [dinosaurs trucks]\nworld 3 (")
	require.Contains(t, s, "): [dinosaurs]\ncounters caught up\n")
}

func TestRunInMemory(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), only(nil), &out))
	s := out.String()
	require.Contains(t, s, "persistence module: memory\n")
	checkOutput(t, s)
	require.Contains(t, s, "count of dinosaurs: 3\ncount of trucks: 2\ncount of internet: 1\n")
}

// DATABASE_URL alone selects PostgreSQL; the second run adds to the
// counts of the first.
func TestRunOnPostgresTwice(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{
		"DATABASE_URL":             pgtest.ServerURL(t),
		"WORLDS_POSTGRES_SCHEMA":   pgtest.NewSchemaName(t),
		"COUNTERS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t),
	})
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), env, &out))
	s := out.String()
	require.Contains(t, s, "persistence module: postgres\n")
	checkOutput(t, s)
	require.Contains(t, s, "count of dinosaurs: 3\ncount of trucks: 2\ncount of internet: 1\n")

	out.Reset()
	require.NoError(t, run(t.Context(), env, &out))
	s = out.String()
	checkOutput(t, s)
	require.Contains(t, s, "count of dinosaurs: 6\ncount of trucks: 4\ncount of internet: 2\n")
}

func TestRunRefusesOneSchemaForBoth(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	var out bytes.Buffer
	err := run(t.Context(), env, &out)
	require.ErrorContains(t, err, "COUNTERS_POSTGRES_SCHEMA and WORLDS_POSTGRES_SCHEMA")
	require.Empty(t, out.String(), "nothing was recorded")
}
