package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// only returns an Environment with values and nothing of the process
// environment.
func only(values map[string]string) config.Environment {
	return config.Environment{Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

// lockedBuffer collects the output of run, written by its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitForOutput(t *testing.T, out *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunNeedsPostgres(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(t.Context(), only(nil), &out)
	require.ErrorIs(t, err, errNeedsPostgres)
	require.ErrorContains(t, err, "DATABASE_URL")
	err = run(t.Context(), only(map[string]string{"PERSISTENCE_MODULE": "memory", "DATABASE_URL": "postgres://nowhere.invalid/db"}), &out)
	require.ErrorIs(t, err, errNeedsPostgres, "an explicit memory module wins over DATABASE_URL")
	require.Empty(t, out.String())
}

func TestRunRefusesOneSchemaForBoth(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	err := run(t.Context(), env, &bytes.Buffer{})
	require.ErrorContains(t, err, "COUNTERS_POSTGRES_SCHEMA and WORLDS_POSTGRES_SCHEMA")
}

// The program counts what another process (here the test) records in
// Worlds, before it starts and while it runs, and stops cleanly when its
// context ends, as on SIGINT.
func TestRunCountsWorldsRecordedElsewhere(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	values := map[string]string{
		"DATABASE_URL":             pgtest.ServerURL(t),
		"WORLDS_POSTGRES_SCHEMA":   pgtest.NewSchemaName(t),
		"COUNTERS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t),
	}
	writerEnv := map[string]string{"PERSISTENCE_MODULE": "postgres"}
	for k, v := range values {
		writerEnv[k] = v
	}
	w, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: writerEnv, Lookup: only(nil).Lookup})
	require.NoError(t, err)
	defer w.Close()
	_, err = counters.MakeWorlds(ctx, w, 3)
	require.NoError(t, err)

	runCtx, cancel := context.WithCancel(ctx)
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(runCtx, only(values), &out) }()
	// stop ends run as SIGINT does, and returns its error.
	stop := sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("run did not return after its context ended")
		}
	})
	defer stop()
	waitForOutput(t, &out, "processed 9 of 9 notifications of Worlds: dinosaurs 3, trucks 2, internet 1\n")

	_, err = counters.MakeWorlds(ctx, w, 3)
	require.NoError(t, err)
	waitForOutput(t, &out, "processed 18 of 18 notifications of Worlds: dinosaurs 6, trucks 4, internet 2\n")

	require.NoError(t, stop())
	s := out.String()
	require.Contains(t, s, "Counters (schema \""+values["COUNTERS_POSTGRES_SCHEMA"]+"\") follows Worlds (schema \""+values["WORLDS_POSTGRES_SCHEMA"]+"\")")
	require.True(t, strings.HasSuffix(s, "stopped\n"), s)
	require.NotContains(t, s, "level=WARN", "nothing was retried")
}
