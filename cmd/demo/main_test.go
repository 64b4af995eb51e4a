package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func only(values map[string]string) config.Environment {
	return config.Environment{Name: "demo", Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func TestDemoInMemory(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), only(nil), &out))
	s := out.String()
	require.Contains(t, s, "persistence module: memory")
	require.Contains(t, s, "notification ids [1 2 3 4]")
	require.Contains(t, s, "conflicting batch refused: concurrency conflict: version 3 of")
	require.Contains(t, s, "dog ")
	require.Contains(t, s, "has 3 events")
	require.Contains(t, s, "is at version 1 (the refused batch left nothing)")
	require.Contains(t, s, "processed 2 registrations exactly once")
	require.Contains(t, s, "section 1,3:")
	require.Contains(t, s, "section 4,6:")
	require.Contains(t, s, "max notification id: 6")
}

func TestDemoOnPostgresTwice(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), env, &out))
	require.Contains(t, out.String(), "persistence module: postgres")
	require.Contains(t, out.String(), "processed 2 registrations exactly once")

	// A second run continues the same sequences; earlier work is not redone.
	out.Reset()
	require.NoError(t, run(context.Background(), env, &out))
	s := out.String()
	require.Contains(t, s, "processed 2 registrations exactly once")
	require.NotContains(t, s, "notification ids [1 2 3 4]")
}
