//go:build !unix

package sqlite

import (
	"context"
	"time"
)

// ExclusivePollInterval is how often Exclusive tries again to lock a
// database's lock file that another process holds; unused on this
// system, where Exclusive takes no lock file.
const ExclusivePollInterval = 20 * time.Millisecond

// lockExclusive takes no lock on this system: the exclusion of Exclusive
// holds only among the goroutines of one process.
func lockExclusive(context.Context, string) (func(), error) {
	return func() {}, nil
}
