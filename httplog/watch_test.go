package httplog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// failAfter is how long a test lets a wait that should end take before
// it fails: far more than any wake-up takes, far less than the waits'
// bound of 30 s, so that only a wake-up answers in time.
const failAfter = 10 * time.Second

// countingWatcher is a Watcher that watches through watcher, counting
// its Watch calls (all, and running), and saying on started when a
// Watch has started watching. failFirst of them fail at once.
type countingWatcher struct {
	watcher   httplog.Watcher
	failFirst int64
	calls     atomic.Int64
	running   atomic.Int64
	most      atomic.Int64 // the most running at once
	started   chan struct{}
	ended     chan struct{}
}

func newCountingWatcher(w httplog.Watcher, failFirst int64) *countingWatcher {
	return &countingWatcher{watcher: w, failFirst: failFirst, started: make(chan struct{}, 100), ended: make(chan struct{}, 100)}
}

func (c *countingWatcher) Watch(ctx context.Context, wake func()) error {
	if c.calls.Add(1) <= c.failFirst {
		return errors.New("made to fail")
	}
	n := c.running.Add(1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	defer func() { c.running.Add(-1); c.ended <- struct{}{} }()
	first := true
	return c.watcher.Watch(ctx, func() {
		if first {
			first = false
			c.started <- struct{}{}
		}
		wake()
	})
}

// receive waits for ch, failing t after failAfter.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(failAfter):
		t.Fatalf("%s: nothing after %v", what, failAfter)
		panic("unreachable")
	}
}

type headResult struct {
	status int
	head   int64
	cache  string
	err    error
}

// waitHead sends GET url/head?after=after&wait=wait with the test token,
// failing after failAfter, and sends the outcome on the channel it
// returns.
func waitHead(t *testing.T, url string, after int64, wait string) <-chan headResult {
	t.Helper()
	done := make(chan headResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), failAfter)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/head?after=%d&wait=%s", url, after, wait), nil)
		if err != nil {
			done <- headResult{err: err}
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- headResult{err: err}
			return
		}
		defer resp.Body.Close()
		var body struct {
			Head int64 `json:"max_notification_id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		done <- headResult{status: resp.StatusCode, head: body.Head, cache: resp.Header.Get("Cache-Control"), err: err}
	}()
	return done
}

// requireHead checks that the wait answered 200, uncached, with head.
func requireHead(t *testing.T, done <-chan headResult, head int64) {
	t.Helper()
	r := receive(t, done, "the wait for the head")
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "no-store", r.cache)
	require.Equal(t, head, r.head)
}

func worldsApp(t *testing.T, env map[string]string) *app.Application {
	t.Helper()
	return newApp(t, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env})
}

func createWorld(t *testing.T, a *app.Application) int64 {
	t.Helper()
	_, err := counters.CreateWorld(t.Context(), a, "a world")
	require.NoError(t, err)
	head, err := a.Log().MaxNotificationID(t.Context())
	require.NoError(t, err)
	return head
}

// A request waiting for the head to pass its own is answered as soon as
// the leader records an event (in memory, and on PostgreSQL through
// LISTEN/NOTIFY), well before its bound of 30 s; many waiting requests
// share one Watch, which ends once none waits.
func TestWaitForTheHeadEndsOnASave(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		a := worldsApp(t, env)
		head := createWorld(t, a)
		watcher := newCountingWatcher(a, 0)
		var inFlight atomic.Int64
		srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: watcher}, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inFlight.Add(1)
				defer inFlight.Add(-1)
				h.ServeHTTP(w, r)
			})
		})

		const waiters = 20
		results := []<-chan headResult{waitHead(t, srv.URL, head, "30s")}
		receive(t, watcher.started, "the watch")
		for range waiters - 1 {
			results = append(results, waitHead(t, srv.URL, head, "30s"))
		}
		require.Eventually(t, func() bool { return inFlight.Load() == waiters }, failAfter, time.Millisecond)
		newHead := createWorld(t, a)
		for _, done := range results {
			requireHead(t, done, newHead)
		}
		require.EqualValues(t, 1, watcher.calls.Load(), "one watch for every waiter")
		require.EqualValues(t, 1, watcher.most.Load())

		// Once no request waits, the watch ends (after a few seconds).
		select {
		case <-watcher.ended:
		case <-time.After(time.Minute):
			t.Fatal("the watch did not end without waiters")
		}
		require.Zero(t, watcher.running.Load())
	}, "WORLDS")
}

// With no new event a wait ends at its bound with the head as it is; so it
// does without a Watcher, and while the Watcher fails, which is tried
// again: then a save ends a wait at once again.
func TestWaitForTheHeadEndsAtItsBound(t *testing.T) {
	t.Parallel()
	a := worldsApp(t, map[string]string{"PERSISTENCE_MODULE": "memory"})
	head := createWorld(t, a)

	srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: a}, nil)
	requireHead(t, waitHead(t, srv.URL, head, "200ms"), head)
	requireHead(t, waitHead(t, srv.URL, head+100, "200ms"), head)

	noWatcher := serve(t, a.Log(), httplog.HandlerOptions{}, nil)
	requireHead(t, waitHead(t, noWatcher.URL, head, "200ms"), head)
	requireHead(t, waitHead(t, noWatcher.URL, head-1, "30s"), head) // passed already: at once

	// The first Watch fails: the wait ends at its bound, the watch is
	// tried again, and a save then ends a wait at once.
	failing := newCountingWatcher(a, 1)
	lost := serve(t, a.Log(), httplog.HandlerOptions{Watcher: failing}, nil)
	requireHead(t, waitHead(t, lost.URL, head, "200ms"), head)
	done := waitHead(t, lost.URL, head, "30s")
	receive(t, failing.started, "the second watch")
	requireHead(t, done, createWorld(t, a))
	require.EqualValues(t, 2, failing.calls.Load())
}

// Bad waits are refused with a JSON 400, and a request without the
// credential gets 401 at once, not after its wait.
func TestWaitForTheHeadRefusals(t *testing.T) {
	t.Parallel()
	a := worldsApp(t, map[string]string{"PERSISTENCE_MODULE": "memory"})
	srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: a}, nil)
	for _, q := range []string{
		"after=1", "wait=1s", "after=&wait=1s", "after=1&wait=", "after=-1&wait=1s", "after=x&wait=1s",
		"after=99999999999999999999&wait=1s", "after=1&wait=0s", "after=1&wait=-1s", "after=1&wait=1",
		"after=1&wait=61s", "after=1&wait=2m", "after=1&wait=1s&after=2", "after=1&wait=1s&wait=2s",
		"after=1&wait=1s&x=1", "start=1&wait=1s",
	} {
		resp, body := get(t, srv.URL+"/head?"+q, "Bearer "+token)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), q)
		t.Logf("%s: %s", q, requireJSONError(t, resp, body))
	}

	for _, auth := range []string{"", "Bearer wrong"} {
		ctx, cancel := context.WithTimeout(t.Context(), failAfter)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/head?after=100&wait=1m", nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, "answered before the wait's bound")
		resp.Body.Close()
		cancel()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, auth)
	}
}

// Client.Watch wakes once it has read the head, then after each remote
// save, and returns nil when its context ends; it asks for waits of half
// the HTTP client's timeout when that is shorter than WatchWait.
func TestClientWatchWakesOnARemoteSave(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		a := worldsApp(t, env)
		var mu sync.Mutex
		waits := map[string]bool{}
		watcher := newCountingWatcher(a, 0)
		srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: watcher}, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				waits[r.URL.Query().Get("wait")] = true
				mu.Unlock()
				h.ServeHTTP(w, r)
			})
		})
		c := newClient(t, srv.URL, httplog.ClientOptions{HTTPClient: &http.Client{Timeout: 20 * time.Second}})

		woken := make(chan struct{}, 100)
		ctx, stop := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.Watch(ctx, func() { woken <- struct{}{} }) }()
		receive(t, woken, "the first wake")
		for range 3 {
			createWorld(t, a)
			receive(t, woken, "the wake after a save")
		}
		stop()
		require.NoError(t, receive(t, done, "Watch's return"), "nil when its context ends")
		mu.Lock()
		require.Equal(t, map[string]bool{"": true, "10s": true}, waits, "the first head, then waits of half the timeout")
		mu.Unlock()
		select { // the server's watch, once no request waits
		case <-watcher.ended:
		case <-time.After(time.Minute):
			t.Fatal("the server's watch did not end")
		}
	}, "WORLDS")
}

// Client.Watch returns an error when the server cannot be reached, or
// refuses the credential, and NewClient refuses a WatchWait out of range.
func TestClientWatchFails(t *testing.T) {
	t.Parallel()
	a := worldsApp(t, map[string]string{"PERSISTENCE_MODULE": "memory"})
	srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: a}, nil)
	err := newClient(t, srv.URL, httplog.ClientOptions{Token: "wrong"}).Watch(t.Context(), func() {})
	var se *httplog.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusUnauthorized, se.StatusCode)

	woken := make(chan struct{}, 100)
	done := make(chan error, 1)
	c := newClient(t, srv.URL, httplog.ClientOptions{MaxAttempts: 2})
	go func() { done <- c.Watch(t.Context(), func() { woken <- struct{}{} }) }()
	receive(t, woken, "the first wake")
	srv.CloseClientConnections()
	srv.Close()
	require.ErrorIs(t, receive(t, done, "Watch's return"), persistence.ErrConnection)

	for _, wait := range []time.Duration{-time.Second, httplog.MaxWait + time.Second} {
		_, err := httplog.NewClient("http://127.0.0.1:1/log", httplog.ClientOptions{WatchWait: wait})
		require.Error(t, err, wait)
	}
}

// A wait ends when its server begins to shut down, so that Shutdown
// returns at once, and the waiting request gets the head.
func TestWaitForTheHeadEndsWhenItsServerShutsDown(t *testing.T) {
	t.Parallel()
	a := worldsApp(t, map[string]string{"PERSISTENCE_MODULE": "memory"})
	head := createWorld(t, a)
	arrived := make(chan struct{}, 10)
	srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: a}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			h.ServeHTTP(w, r)
		})
	})
	requireHead(t, waitHead(t, srv.URL, head-1, "30s"), head) // the server's first request
	receive(t, arrived, "the first request")

	done := waitHead(t, srv.URL, head, "30s")
	receive(t, arrived, "the wait")
	ctx, stop := context.WithTimeout(t.Context(), failAfter)
	defer stop()
	require.NoError(t, srv.Config.Shutdown(ctx), "the wait of 30 s ended as the shutdown began")
	requireHead(t, done, head)
}

// A wait ends when its client goes away: the server does not hold it.
func TestWaitForTheHeadEndsWhenItsClientGoes(t *testing.T) {
	t.Parallel()
	a := worldsApp(t, map[string]string{"PERSISTENCE_MODULE": "memory"})
	arrived := make(chan struct{}, 1)
	srv := serve(t, a.Log(), httplog.HandlerOptions{Watcher: a}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			h.ServeHTTP(w, r)
		})
	})
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/head?after=100&wait=1m", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	gone := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		gone <- err
	}()
	receive(t, arrived, "the wait")
	cancel()
	require.ErrorIs(t, receive(t, gone, "the client's return"), context.Canceled)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }() // waits for the requests under way
	receive(t, closed, "the server's close")
}
