package system

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The delay doubles from the minimum up to the cap, and stays there; the
// jitter takes it anywhere between half and all of that.
func TestBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	least := func(int64) int64 { return 0 }
	most := func(n int64) int64 { return n }
	const base, limit = 100 * time.Millisecond, 30 * time.Second
	var lows, highs []time.Duration
	for attempt := 0; attempt < 12; attempt++ {
		lows = append(lows, backoff(attempt, base, limit, least))
		highs = append(highs, backoff(attempt, base, limit, most))
	}
	ms := time.Millisecond
	require.Equal(t, []time.Duration{
		100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms, 12800 * ms, 25600 * ms,
		30 * time.Second, 30 * time.Second, 30 * time.Second,
	}, highs)
	for i := range highs {
		require.Equal(t, highs[i]/2, lows[i], "attempt %d: half of it at least", i)
	}
	// Far beyond the cap, no overflow.
	for _, attempt := range []int{62, 63, 64, 1000, 1 << 30} {
		require.Equal(t, limit, backoff(attempt, base, limit, most), "attempt %d", attempt)
		require.Equal(t, limit/2, backoff(attempt, base, limit, least), "attempt %d", attempt)
	}
	// A jitter source out of range is clamped.
	require.Equal(t, 100*ms, backoff(0, base, limit, func(int64) int64 { return 1 << 62 }))
	require.Equal(t, 50*ms, backoff(0, base, limit, func(int64) int64 { return -1 }))
}

// A retrier's delays grow attempt by attempt until reset; a permanent
// error waits the cap at once.
func TestRetrierBacksOffAndResets(t *testing.T) {
	t.Parallel()
	r := newRetrier(RunnerOptions{RetryMin: time.Second, RetryMax: 8 * time.Second})
	r.jitter = func(n int64) int64 { return n }
	var got []time.Duration
	for range 5 {
		got = append(got, r.next(false))
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}, got)
	r.reset()
	require.Equal(t, time.Second, r.next(false))
	require.Equal(t, 8*time.Second, r.next(true), "a permanent error: the cap at once")
	r.reset()
	require.Equal(t, 8*time.Second, r.next(true))

	// Defaults.
	d := newRetrier(RunnerOptions{})
	d.jitter = func(n int64) int64 { return n }
	require.Equal(t, DefaultRetryMin, d.next(false))
	require.Equal(t, DefaultRetryMax, d.next(true))
	// A maximum below the minimum is raised to it.
	low := newRetrier(RunnerOptions{RetryMin: time.Second, RetryMax: time.Millisecond})
	low.jitter = func(n int64) int64 { return n }
	require.Equal(t, time.Second, low.next(false))
	require.Equal(t, time.Second, low.next(false))
}
