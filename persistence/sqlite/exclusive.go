package sqlite

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
)

// Exclusive runs fn while no other caller of Exclusive with the same name
// on the same database runs its own: the others wait for it, until their
// ctx ends (then they return an error wrapping ctx.Err()). Otherwise it
// returns fn's error. It is safe for concurrent use.
//
// For a file database the exclusion holds across the goroutines and the
// processes that open the file: on Unix, Exclusive takes an advisory lock
// (flock) on a lock file beside the database, named after it and a hash
// of name ("bank.db-exclusive-<16 hex digits>", created if missing and
// left in place), checking for it every ExclusivePollInterval while it
// waits. The kernel releases the lock when the holder's process ends,
// however it ends, so a killed holder frees it at once. A lock file that
// cannot be created or locked gives an error naming it that wraps
// persistence.ErrProgramming. On other systems the exclusion holds only
// among the goroutines of one process: processes on the same file do not
// exclude each other. For an in-memory database, which only its process
// sees, the exclusion holds among the goroutines that use it (for a
// shared one, "file:NAME?mode=memory&cache=shared", among all the
// Databases of the process open on NAME).
func (d *Database) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	h := fnv.New64a()
	h.Write([]byte(name))
	key := fmt.Sprintf("%016x", h.Sum64())
	var lockFile, local string
	switch {
	case d.file != "":
		lockFile = d.file + "-exclusive-" + key
		local = "file:" + lockFile
	case d.shared != "":
		local = "memory:" + d.shared + "\x00" + key
	default:
		local = fmt.Sprintf("private:%p\x00%s", d, key)
	}
	release, err := processLocks.lock(ctx, local)
	if err != nil {
		return fmt.Errorf("wait for the exclusive lock %q of %s: %w", name, describe(d.name), err)
	}
	defer release()
	if lockFile != "" {
		unlock, err := lockExclusive(ctx, lockFile)
		if err != nil {
			return fmt.Errorf("take the exclusive lock %q of %s: %w", name, describe(d.name), err)
		}
		defer unlock()
	}
	return fn(ctx)
}

// processLocks are the exclusive locks of this process, by key: a waiter
// of the process queues here before it polls the lock file, if any.
var processLocks = &keyedLocks{locks: map[string]*keyedLock{}}

// keyedLocks is a set of locks by key, each existing while someone holds
// or waits for it. It is safe for concurrent use.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	held chan struct{} // capacity 1: full while held
	refs int           // holders and waiters
}

// lock takes the lock key, waiting until ctx ends (then it returns
// ctx.Err()), and returns the function that releases it.
func (k *keyedLocks) lock(ctx context.Context, key string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k.mu.Lock()
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{held: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	forget := func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
	}
	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; forget() }, nil
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}
