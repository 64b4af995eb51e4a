//go:build unix

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// ExclusivePollInterval is how often Exclusive tries again to lock a
// database's lock file that another process holds.
const ExclusivePollInterval = 20 * time.Millisecond

// lockExclusive takes an exclusive flock on the file at path, created if
// missing, trying every ExclusivePollInterval until ctx ends (then it
// returns ctx.Err()), and returns the function that releases it (by
// closing the file).
func lockExclusive(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666) // close-on-exec: children do not inherit it
	if err != nil {
		return nil, &persistence.DatabaseError{Kind: persistence.ErrProgramming, Err: fmt.Errorf("open the lock file: %w", err)}
	}
	conn, err := f.SyscallConn()
	if err != nil {
		return nil, errors.Join(&persistence.DatabaseError{Kind: persistence.ErrProgramming, Err: err}, f.Close())
	}
	var timer *time.Timer
	for {
		var lockErr error
		if err := conn.Control(func(fd uintptr) {
			lockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
		}); err != nil {
			lockErr = err
		}
		switch {
		case lockErr == nil:
			return func() { _ = f.Close() }, nil // closing the file releases the lock
		case errors.Is(lockErr, syscall.EWOULDBLOCK), errors.Is(lockErr, syscall.EINTR):
		default:
			return nil, errors.Join(&persistence.DatabaseError{Kind: persistence.ErrProgramming,
				Err: fmt.Errorf("lock the lock file %s: %w", path, lockErr)}, f.Close())
		}
		if timer == nil {
			timer = time.NewTimer(ExclusivePollInterval)
			defer timer.Stop()
		} else {
			timer.Reset(ExclusivePollInterval)
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), f.Close())
		case <-timer.C:
		}
	}
}
