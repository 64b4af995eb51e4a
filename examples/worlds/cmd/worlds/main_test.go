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
	require.Contains(t, s, "created world ")
	require.Contains(t, s, "made it so: dinosaurs\nmade it so: trucks\nmade it so: internet\n")
	require.Contains(t, s, `history: ["dinosaurs" "trucks" "internet"]`)
	require.Contains(t, s, `asked for version 1, got version 1: []`)
	require.Contains(t, s, `asked for version 3, got version 3: ["dinosaurs" "trucks"]`)
	require.Contains(t, s, `asked for version 5, got version 4: ["dinosaurs" "trucks" "internet"]`)
	require.Contains(t, s, "  section 1,3:\n")
	require.Contains(t, s, " v1 worlds:WorldCreated {Name:Earth}\n")
	require.Contains(t, s, " v4 worlds:SomethingHappened {What:internet}\n")
}

func TestRunInMemory(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), only(nil), &out))
	s := out.String()
	require.Contains(t, s, "persistence module: memory\n")
	checkOutput(t, s)
	require.Contains(t, s, "  section 4,4:\n")
	require.NotContains(t, s, "#5 ")
}

func TestRunOnPostgresTwice(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), env, &out))
	s := out.String()
	require.Contains(t, s, "persistence module: postgres\n")
	checkOutput(t, s)

	// The second run finds the first run's world in the log, then its own.
	out.Reset()
	require.NoError(t, run(t.Context(), env, &out))
	s = out.String()
	checkOutput(t, s)
	require.Contains(t, s, "  section 7,8:\n")
	require.Contains(t, s, "#8 ")
}
