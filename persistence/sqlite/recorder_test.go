package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

// open opens cfg with CreateTable and closes it when t ends.
func open(t *testing.T, cfg sqlite.Config) *sqlite.Database {
	t.Helper()
	cfg.CreateTable = true
	d, err := sqlite.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

// The forms of database name that give each test a database of its own.
var forms = map[string]func(t *testing.T) string{
	"File":        func(t *testing.T) string { return filepath.Join(t.TempDir(), "events.db") },
	"Memory":      func(*testing.T) string { return ":memory:" },
	"NamedShared": func(*testing.T) string { return fmt.Sprintf("file:%s?mode=memory&cache=shared", uuid.NewString()) },
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for name, dbName := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			recordertest.Run(t, func(t *testing.T) persistence.ProcessRecorder {
				return sqlite.NewRecorder(open(t, sqlite.Config{DBName: dbName(t)}))
			})
		})
	}
}

func TestSnapshotConformance(t *testing.T) {
	t.Parallel()
	for name, dbName := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			recordertest.RunSnapshots(t, func(t *testing.T) persistence.AggregateRecorder {
				return sqlite.NewSnapshotRecorder(open(t, sqlite.Config{DBName: dbName(t)}))
			})
		})
	}
}
