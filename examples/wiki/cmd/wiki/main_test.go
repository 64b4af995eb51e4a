package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// only returns an Environment with values and nothing of the process
// environment.
func only(values map[string]string) config.Environment {
	return config.Environment{Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func checkOutput(t *testing.T, s string) {
	t.Helper()
	require.Contains(t, s, `created page "Erth" (index id c51b7c66-7c30-50d0-81ce-f32424f1de02)`)
	require.Contains(t, s, "  page \"Erth\" (version 1): Lorem ipsum...\n")
	require.Contains(t, s, "renamed page \"Erth\" to \"Earth\"\n  page \"Earth\" (version 2): Lorem ipsum...\n  no page \"Erth\"\n")
	require.Contains(t, s, `create another page "Earth": refused: `)
	require.Contains(t, s, `rename page "Mars" to "Earth": refused: `)
	require.Contains(t, s, "concurrency conflict")
	require.Contains(t, s, "after the refused commands:\n  page \"Earth\" (version 2): Lorem ipsum...\n  page \"Mars\" (version 1): Neque porro quisquam...\n")
}

func TestRunInMemory(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), only(nil), &out))
	require.Contains(t, out.String(), "persistence module: memory\n")
	checkOutput(t, out.String())
}

func TestRunOnPostgres(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), env, &out))
	require.Contains(t, out.String(), "persistence module: postgres\n")
	checkOutput(t, out.String())

	// "Erth" was released by the first run, but "Earth" is taken: a
	// second run creates "Erth" and cannot rename it.
	out.Reset()
	err := run(t.Context(), env, &out)
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	require.Contains(t, out.String(), "  page \"Erth\" (version 1): Lorem ipsum...\n")
	require.NotContains(t, out.String(), "renamed")
}
