package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
)

// Of two applications on one store (a PostgreSQL schema, an SQLite file),
// Exclusive lets one caller of a name run at a time: the second waits
// while the first holds, runs once the first returns, and returns its
// context's error if that ends while it waits. The in-memory module,
// whose store no other application shares, has nothing to exclude.
func TestExclusive(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		first, second := newApp(app.Options{}), newApp(app.Options{})
		if strings.HasPrefix(first.Store(), "memory:") {
			t.Skip("the in-memory module runs fn directly")
		}
		require.Equal(t, first.Store(), second.Store())
		ctx := t.Context()
		var mu sync.Mutex
		var runs []string
		add := func(s string) {
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, s)
		}
		holding, release := make(chan struct{}), make(chan struct{})
		firstDone := make(chan error, 1)
		go func() {
			firstDone <- first.Exclusive(ctx, "follow Worlds", func(context.Context) error {
				add("first starts")
				close(holding)
				<-release
				add("first ends")
				return nil
			})
		}()
		<-holding

		waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		err := second.Exclusive(waitCtx, "follow Worlds", func(context.Context) error {
			add("impatient runs")
			return nil
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)

		secondDone := make(chan error, 1)
		go func() {
			secondDone <- second.Exclusive(ctx, "follow Worlds", func(context.Context) error {
				add("second starts")
				return nil
			})
		}()
		time.Sleep(50 * time.Millisecond) // a chance for the second to run too early, were the lock broken
		close(release)
		require.NoError(t, <-firstDone)
		require.NoError(t, <-secondDone)
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, []string{"first starts", "first ends", "second starts"}, runs)
	})
}
