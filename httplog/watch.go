package httplog

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
)

// Watcher tells when a notification log may have new notifications:
// *app.Application (its store's notifications) and *Client (its server's
// answers to a waiting request for the head) are Watchers.
type Watcher interface {
	// Watch calls wake whenever the log may have new notifications, and
	// once when it starts, until ctx ends (then it returns nil) or it can
	// watch no more (an error).
	Watch(ctx context.Context, wake func()) error
}

var (
	_ Watcher = (*app.Application)(nil)
	_ Watcher = (*Client)(nil)
)

// MaxWait is the longest wait that a request for the head may ask for
// (GET /head?after=N&wait=D; see the package documentation).
const MaxWait = time.Minute

// The delays of a sharedWatch: after a failed Watch, before watching
// again; after the last waiter left, before stopping.
const (
	watchRetry  = time.Second
	watchLinger = 5 * time.Second
)

// sharedWatch runs one Watch of a Watcher for all the requests that wait
// for new notifications: it starts with the first of them and stops
// watchLinger after the last one left. It is safe for concurrent use.
type sharedWatch struct {
	watcher Watcher
	logger  *slog.Logger

	mu      sync.Mutex
	changed chan struct{}      // closed, and replaced, when the log may have changed
	waiters int                // between join and leave
	stop    context.CancelFunc // ends the running watch; nil when none runs
	idle    *time.Timer        // stops the watch when no waiter came back
}

func newSharedWatch(w Watcher, logger *slog.Logger) *sharedWatch {
	return &sharedWatch{watcher: w, logger: logger, changed: make(chan struct{})}
}

// join counts in a waiter, starts the watch if none runs, and returns a
// channel closed when the log may have changed. Each join needs a leave.
func (s *sharedWatch) join() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters++
	if s.idle != nil {
		s.idle.Stop()
		s.idle = nil
	}
	if s.stop == nil {
		ctx, stop := context.WithCancel(context.Background())
		s.stop = stop
		go s.run(ctx)
	}
	return s.changed
}

// next returns a channel closed at the next change, for a waiter that
// has joined.
func (s *sharedWatch) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// leave counts a waiter out; the watch stops after watchLinger unless
// another joins.
func (s *sharedWatch) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters--
	if s.waiters > 0 {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(watchLinger, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.idle == t { // no waiter joined since
			s.stop()
			s.stop, s.idle = nil, nil
		}
	})
	s.idle = t
}

// wake tells every waiter that the log may have changed.
func (s *sharedWatch) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// run watches until ctx ends. When a Watch fails it wakes the waiters
// (the log may have changed meanwhile) and watches again after
// watchRetry; meanwhile waits end at their bounds.
func (s *sharedWatch) run(ctx context.Context) {
	for {
		err := s.watcher.Watch(ctx, s.wake)
		if ctx.Err() != nil {
			return
		}
		s.logger.WarnContext(ctx, "httplog: watching the log for new notifications failed; waits end at their bounds until it watches again",
			"error", err, "retry", watchRetry)
		s.wake()
		t := time.NewTimer(watchRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// shutdowns tells the waits served by each http.Server when it begins to
// shut down, so that Shutdown need not wait for them. It is safe for
// concurrent use.
type shutdowns struct {
	byServer sync.Map // *http.Server → chan struct{}, closed by its Shutdown
}

// of returns a channel closed when the http.Server that serves r begins
// to shut down (nil, never closed, when r has none), registering with the
// server the first time.
func (s *shutdowns) of(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	if ch, ok := s.byServer.Load(srv); ok {
		return ch.(chan struct{})
	}
	ch := make(chan struct{})
	if prev, loaded := s.byServer.LoadOrStore(srv, ch); loaded {
		return prev.(chan struct{})
	}
	srv.RegisterOnShutdown(func() { close(ch) })
	return ch
}
