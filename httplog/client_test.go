package httplog_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// failing serves the log of 2 worlds, answering the first n requests (all
// when n < 0) with status; it counts the requests.
func failing(t *testing.T, status, n int) (string, *atomic.Int64) {
	t.Helper()
	var count atomic.Int64
	srv := serve(t, memoryWorlds(t, 2).Log(), httplog.HandlerOptions{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c := count.Add(1); n < 0 || c <= int64(n) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"error": "made to fail"}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	return srv.URL, &count
}

func TestClientRetriesUnavailable(t *testing.T) {
	t.Parallel()
	url, count := failing(t, http.StatusServiceUnavailable, 2)
	c := newClient(t, url, httplog.ClientOptions{})
	head, err := c.MaxNotificationID(t.Context())
	require.NoError(t, err)
	require.Equal(t, int64(7), head)
	require.Equal(t, int64(3), count.Load(), "two 503s, then served")
}

func TestClientGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	url, count := failing(t, http.StatusInternalServerError, -1)
	c := newClient(t, url, httplog.ClientOptions{MaxAttempts: 3})
	_, err := c.ReadNotifications(t.Context(), 1, 10)
	var se *httplog.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusInternalServerError, se.StatusCode)
	require.Equal(t, "made to fail", se.Message)
	require.ErrorIs(t, err, persistence.ErrConnection)
	require.True(t, persistence.IsRetryable(err), "a runner retries it")
	require.Equal(t, int64(3), count.Load())
}

func TestClientDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest, http.StatusNotFound} {
		url, count := failing(t, status, -1)
		c := newClient(t, url, httplog.ClientOptions{})
		_, err := c.Section(t.Context(), "1,10")
		var se *httplog.StatusError
		require.ErrorAs(t, err, &se, status)
		require.Equal(t, status, se.StatusCode)
		require.Equal(t, "made to fail", se.Message)
		require.Contains(t, err.Error(), "made to fail")
		require.False(t, se.Retryable())
		require.Equal(t, int64(1), count.Load(), "not retried: %d", status)
		require.False(t, errors.Is(err, persistence.ErrConnection), status)
		if status != http.StatusBadRequest {
			require.True(t, persistence.NeedsAttention(err), "%d needs someone to fix the credential or URL", status)
		}
	}

	// The real handler's refusals, with the message it sent.
	srv := serve(t, memoryWorlds(t, 1).Log(), httplog.HandlerOptions{}, nil)
	_, err := newClient(t, srv.URL, httplog.ClientOptions{Token: "wrong"}).MaxNotificationID(t.Context())
	var se *httplog.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusUnauthorized, se.StatusCode)
	require.Equal(t, "invalid token", se.Message)
}

func TestClientRetriesConnectionErrors(t *testing.T) {
	t.Parallel()
	srv := serve(t, memoryWorlds(t, 1).Log(), httplog.HandlerOptions{}, nil)
	url := srv.URL
	srv.Close()
	start := time.Now()
	_, err := newClient(t, url, httplog.ClientOptions{MaxAttempts: 3, RetryMin: 20 * time.Millisecond, RetryMax: 20 * time.Millisecond}).MaxNotificationID(t.Context())
	require.ErrorIs(t, err, persistence.ErrConnection)
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "two delays of 10 to 20 ms")
}

// Cancelling the context stops the retries at once, and a request in
// flight.
func TestClientStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	url, count := failing(t, http.StatusServiceUnavailable, -1)
	c := newClient(t, url, httplog.ClientOptions{MaxAttempts: 100, RetryMin: time.Minute, RetryMax: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.MaxNotificationID(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, int64(1), count.Load())

	blocked := make(chan struct{})
	slow := serve(t, memoryWorlds(t, 1).Log(), httplog.HandlerOptions{}, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(blocked)
			<-r.Context().Done()
		})
	})
	ctx, cancel = context.WithCancel(t.Context())
	go func() { <-blocked; cancel() }()
	start = time.Now()
	_, err = newClient(t, slow.URL, httplog.ClientOptions{}).MaxNotificationID(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestNewClientRefusesBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "leader:8080", "ftp://leader/log", "http://", "http://leader/log?x=1", "::"} {
		_, err := httplog.NewClient(u, httplog.ClientOptions{})
		require.Error(t, err, u)
	}
	_, err := httplog.NewClient("https://leader.example/log/", httplog.ClientOptions{})
	require.NoError(t, err)
}

// A server that accepts connections and never answers is given up on
// after the HTTP client's timeout per attempt: the error is a connection
// error (a runner retries it) and a timeout, within a bounded time.
func TestClientTimesOutAServerThatNeverAnswers(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range held {
			conn.Close()
		}
	})

	c := newClient(t, "http://"+l.Addr().String(), httplog.ClientOptions{
		HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}, MaxAttempts: 2})
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadNotifications(t.Context(), 1, 10)
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no answer and no timeout after 10 s")
	}
	require.ErrorIs(t, err, persistence.ErrConnection)
	require.True(t, persistence.IsRetryable(err), "a runner retries it")
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	require.True(t, netErr.Timeout(), "a timeout: %v", err)
	require.NotErrorIs(t, err, context.Canceled)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, held, 2, "one connection per attempt")
}
