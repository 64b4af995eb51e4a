package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

// holderProcessEnv, set, makes this test binary a holder process: it
// opens the database SQLITE_DBNAME names, takes its exclusive lock
// "follow Counters", prints "holding" and waits to be killed.
const holderProcessEnv = "EVENTSOURCING_SQLITE_TEST_HOLDER"

// holdExclusive is the holder process; it returns only on an error or a
// SIGTERM.
func holdExclusive() string {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg, err := sqlite.ConfigFromEnv(config.Environment{})
	if err != nil {
		return err.Error()
	}
	d, err := sqlite.Open(ctx, cfg)
	if err != nil {
		return err.Error()
	}
	defer d.Close()
	err = d.Exclusive(ctx, "follow Counters", func(ctx context.Context) error {
		fmt.Println("holding")
		<-ctx.Done()
		return nil
	})
	if err != nil {
		return err.Error()
	}
	return "released"
}

// exclusiveRun is a log of Exclusive's runs: which started and ended in
// what order. It is safe for concurrent use.
type exclusiveRun struct {
	mu     sync.Mutex
	events []string
}

func (r *exclusiveRun) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *exclusiveRun) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// Of two callers of Exclusive with one name on one database (two
// Databases on one file, on one shared in-memory database, or one private
// in-memory Database), the second waits while the first holds the lock
// and runs once it is released; a caller whose context ends while it
// waits returns the context's error without running; a caller with
// another name, or on another database, does not wait.
func TestExclusive(t *testing.T) {
	t.Parallel()
	uriFile := func(t *testing.T) string { return "file:" + filepath.Join(t.TempDir(), "events.db") + "?mode=rwc" }
	for name, dbName := range map[string]func(t *testing.T) string{
		"File": forms["File"], "URIFile": uriFile, "Memory": forms["Memory"], "NamedShared": forms["NamedShared"],
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cfg := sqlite.Config{DBName: dbName(t)}
			first := open(t, cfg)
			second := first
			if name != "Memory" { // a private database has one Database
				second = open(t, cfg)
			}
			var run exclusiveRun
			holding, release := make(chan struct{}), make(chan struct{})
			firstDone := make(chan error, 1)
			go func() {
				firstDone <- first.Exclusive(ctx, "follow Counters", func(context.Context) error {
					run.add("first starts")
					close(holding)
					<-release
					run.add("first ends")
					return nil
				})
			}()
			<-holding

			waitCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			err := second.Exclusive(waitCtx, "follow Counters", func(context.Context) error {
				run.add("impatient runs")
				return nil
			})
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Contains(t, err.Error(), `exclusive lock "follow Counters"`)

			require.NoError(t, second.Exclusive(ctx, "follow Worlds", func(context.Context) error {
				run.add("another name runs")
				return nil
			}))
			other := open(t, sqlite.Config{DBName: forms["File"](t)})
			require.NoError(t, other.Exclusive(ctx, "follow Counters", func(context.Context) error {
				run.add("another database runs")
				return nil
			}))

			secondDone := make(chan error, 1)
			go func() {
				secondDone <- second.Exclusive(ctx, "follow Counters", func(context.Context) error {
					run.add("second starts")
					return nil
				})
			}()
			time.Sleep(50 * time.Millisecond) // a chance for the second to run too early, were the lock broken
			close(release)
			require.NoError(t, <-firstDone)
			require.NoError(t, <-secondDone)
			require.Equal(t, []string{"first starts", "another name runs", "another database runs", "first ends", "second starts"}, run.get())
		})
	}
}

// A holder of the lock in another process makes this one wait; when it is
// killed with SIGKILL, the kernel releases its lock and the waiter here
// runs at once.
func TestExclusiveAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: path})
	var out proctest.Output
	holder := proctest.StartSelf(t, holderProcessEnv, map[string]string{"SQLITE_DBNAME": path, "CREATE_TABLE": "false"}, &out)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "holding") }, time.Minute, 10*time.Millisecond,
		"the holder takes the lock: %s", &out)

	waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := d.Exclusive(waitCtx, "follow Counters", func(context.Context) error { return nil })
	require.ErrorIs(t, err, context.DeadlineExceeded, "the other process holds the lock")

	var ran sync.WaitGroup
	ran.Add(1)
	done := make(chan error, 1)
	go func() {
		done <- d.Exclusive(ctx, "follow Counters", func(context.Context) error {
			ran.Done()
			return nil
		})
	}()
	require.NoError(t, holder.Process.Signal(syscall.SIGKILL))
	_ = holder.Wait()
	ran.Wait()
	require.NoError(t, <-done)
	require.NotContains(t, out.String(), "released", "the holder was killed, not stopped")
}

// A lock file that cannot be opened (here, a directory in its place)
// gives an error naming it that wraps persistence.ErrProgramming, and fn
// does not run.
func TestExclusiveLockFileError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: path})
	require.NoError(t, d.Exclusive(ctx, "follow Counters", func(context.Context) error { return nil }))
	lockFiles, err := filepath.Glob(path + "-exclusive-*")
	require.NoError(t, err)
	require.Len(t, lockFiles, 1, "one lock file per name")
	require.NoError(t, os.Remove(lockFiles[0]))
	require.NoError(t, os.Mkdir(lockFiles[0], 0o755))

	err = d.Exclusive(ctx, "follow Counters", func(context.Context) error {
		t.Error("fn ran without the lock")
		return nil
	})
	require.ErrorIs(t, err, persistence.ErrProgramming)
	require.True(t, persistence.NeedsAttention(err))
	require.Contains(t, err.Error(), lockFiles[0])
	require.Contains(t, err.Error(), path)
}

// A name's lock is released when fn returns, whatever it returns, and
// Exclusive returns fn's error.
func TestExclusiveReturnsFnsError(t *testing.T) {
	t.Parallel()
	d := open(t, sqlite.Config{DBName: fmt.Sprintf("file:%s?mode=memory&cache=shared", uuid.NewString())})
	boom := fmt.Errorf("boom")
	require.ErrorIs(t, d.Exclusive(t.Context(), "x", func(context.Context) error { return boom }), boom)
	require.NoError(t, d.Exclusive(t.Context(), "x", func(context.Context) error { return nil }))
}
