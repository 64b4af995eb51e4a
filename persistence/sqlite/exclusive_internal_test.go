package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The lock files of Exclusive go beside the database file, whatever form
// its name takes; in-memory databases have none, and only shared ones a
// name of their own.
func TestExclusionTargets(t *testing.T) {
	t.Parallel()
	rel, err := filepath.Abs("data/x y.db")
	require.NoError(t, err)
	for name, want := range map[string]target{
		"data/x y.db":                        {file: rel},
		"/srv/x.db":                          {file: "/srv/x.db"},
		"file:data/x%20y.db?mode=rwc":        {file: rel},
		"file:///srv/x.db":                   {file: "/srv/x.db"},
		"file://localhost/srv/x.db?mode=ro":  {file: "/srv/x.db"},
		":memory:":                           {},
		"file::memory:":                      {},
		"file::memory:?cache=shared":         {shared: "file::memory:"},
		"file:bank?mode=memory&cache=shared": {shared: "file:bank"},
		"file:bank?mode=memory":              {},
	} {
		d, _, err := Config{DBName: name}.parse()
		require.NoError(t, err, name)
		require.Equal(t, d.memory, Config{DBName: name}.InMemory(), name)
		require.Equal(t, want.file == "", d.memory, name)
		require.Equal(t, want.file, d.file, name)
		require.Equal(t, want.shared, d.shared, name)
	}
}
