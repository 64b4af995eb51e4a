package bench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// pageSizes are the follower's page sizes measured; 1 is one notification
// per transaction, as before pages.
var pageSizes = []int{1, 10, 100, 1000}

// BenchmarkFollower measures a process application catching up with b.N
// upstream notifications recorded before the clock starts, with a policy
// that records one new event per notification (a new Receipt), for each
// page size: the row's "writers" column is the page size. events/s counts
// upstream notifications processed.
func BenchmarkFollower(b *testing.B) {
	for _, store := range followerStores {
		for _, size := range pageSizes {
			b.Run(fmt.Sprintf("%s/page=%d", store, size), func(b *testing.B) { benchFollower(b, store, size) })
		}
	}
}

func benchFollower(b *testing.B, store string, pageSize int) {
	ctx := b.Context()
	env := storeEnv(b, store, "UPSTREAM,RECEIPTS")
	leader := openApp(b, app.Options{Name: leaderName, Registry: registry(), Env: env})
	writeUpstream(b, leader, b.N)
	follower := system.NewProcessApplication(openApp(b, app.Options{Name: "Receipts", Registry: receiptRegistry(), Env: env}), issueReceipt)
	follower.SetPaging(system.Paging{Size: pageSize})
	follower.Follow(leader)

	b.ResetTimer()
	n, err := follower.PullAndProcess(ctx, leaderName)
	if err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("processed %d notifications of %d", n, b.N)
	}
	record(b, rowKey{opFollower, store, pageSize}, 1, perSecond("notifications"))
}

// writeUpstream records n notifications in leader, in saves of items of
// 100 events.
func writeUpstream(b *testing.B, leader *app.Application, n int) {
	b.Helper()
	for written := 0; written < n; written += 100 {
		it, err := newItem(min(100, n-written))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := leader.Save(b.Context(), it); err != nil {
			b.Fatal(err)
		}
	}
}

// Receipt is the follower's aggregate in the follower benchmark: one per
// upstream notification.
type Receipt struct {
	domain.Base
	Of uuid.UUID `json:"of"`
	At int64     `json:"at"`
}

// ReceiptIssued creates a Receipt.
type ReceiptIssued struct {
	Of uuid.UUID `json:"of"`
	At int64     `json:"at"` // the upstream event's version
}

// Apply evolves the receipt from its event.
func (r *Receipt) Apply(event any) error {
	e, ok := event.(ReceiptIssued)
	if !ok {
		return fmt.Errorf("receipt: unexpected event %T", event)
	}
	r.Of, r.At = e.Of, e.At
	return nil
}

func receiptRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register("bench:Receipt", &Receipt{})
	r.Register("bench:ReceiptIssued", ReceiptIssued{})
	return r
}

// issueReceipt is the follower's policy: one new event per notification.
func issueReceipt(_ context.Context, _ *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
	r, err := domain.Create[Receipt](uuid.New(), ReceiptIssued{Of: e.OriginatorID, At: e.OriginatorVersion})
	if err != nil {
		return err
	}
	pe.Save(r)
	return nil
}

// latencyRate is the steady upstream load of BenchmarkFollowerLatency, in
// notifications per second: saves of 10 events every 10 ms.
const latencyRate = 1000

// BenchmarkFollowerLatency measures the time from an upstream save to the
// downstream commit of its notifications (p50, p99), with the follower
// run by a ConcurrentRunner (default paging) and the leader saving
// items of 10 events every 10 ms: 1,000 notifications/s. A notification's
// latency runs from the return of the Save that recorded it to the
// return of the follower's commit that tracked it.
func BenchmarkFollowerLatency(b *testing.B) {
	for _, store := range followerStores {
		b.Run(store, func(b *testing.B) { benchFollowerLatency(b, store) })
	}
}

func benchFollowerLatency(b *testing.B, store string) {
	ctx := b.Context()
	sys, err := system.New([]system.App{
		{Name: leaderName, Registry: registry()},
		{Name: "Receipts", Registry: receiptRegistry(), Policy: issueReceipt},
	}, []string{leaderName, "Receipts"})
	if err != nil {
		b.Fatal(err)
	}
	runner := system.NewConcurrentRunner(sys, system.RunnerOptions{Env: storeEnv(b, store, "UPSTREAM,RECEIPTS"), Lookup: noEnv, ProgressInterval: -1})
	if err := runner.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := runner.Stop(); err != nil {
			b.Error(err)
		}
	}()
	leader, follower := runner.App(leaderName), runner.App("Receipts")
	for _, a := range []*app.Application{leader, follower} {
		if pool := a.Pool(); pool != nil {
			warm(b, pool)
		}
	}

	var mu sync.Mutex
	saved := map[int64]time.Time{} // upstream notification id → when its save returned
	var observed []time.Duration
	done := make(chan struct{})
	var tracked int64
	follower.OnRecorded(func(ctx context.Context, _ []int64) error {
		now := time.Now()
		max, err := follower.Recorder().MaxTrackingID(ctx, leaderName)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for id := tracked + 1; id <= max; id++ {
			if at, ok := saved[id]; ok {
				observed = append(observed, now.Sub(at))
				delete(saved, id)
			}
		}
		tracked = max
		if len(observed) >= b.N {
			select {
			case <-done:
			default:
				close(done)
			}
		}
		return nil
	})

	b.ResetTimer()
	tick := time.NewTicker(time.Second * upstreamEventsPerSave / latencyRate)
	defer tick.Stop()
	start := time.Now()
	for written := 0; written < b.N; {
		<-tick.C
		// Catch up with the load due by now, should a save have been slow.
		due := min(b.N, int(time.Since(start).Seconds()*latencyRate)+upstreamEventsPerSave)
		for ; written < due; written += upstreamEventsPerSave {
			it, err := newItem(min(upstreamEventsPerSave, b.N-written))
			if err != nil {
				b.Fatal(err)
			}
			ids, err := leader.Save(ctx, it)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			mu.Lock()
			for _, id := range ids {
				if id > tracked {
					saved[id] = now
				} else {
					observed = append(observed, 0) // tracked before Save returned
				}
			}
			mu.Unlock()
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("the follower did not catch up within a minute")
	}
	mu.Lock()
	median, p99 := latencies(observed)
	mu.Unlock()
	record(b, rowKey{opFollowerLatency, store, 1}, 1, func(result) string {
		return fmt.Sprintf("at %d notifications/s: save → downstream commit median %s, p99 %s", latencyRate, ms(median), ms(p99))
	})
	resultsMu.Lock()
	medians[rowKey{opFollowerLatency, store, 1}] = median
	resultsMu.Unlock()
}

// BenchmarkFollowerInstances measures 1, 2 and 4 instances of one follower
// (RunProcess, in goroutines of this process, on PostgreSQL) catching up
// with b.N notifications, with the one-event policy: instances that stand
// by for each other (the default), and instances that divide the log in 8
// partitions (RunnerOptions.Partitions). The instances start on an empty
// log and, when dividing, settle their shares first; the notifications
// are recorded while the policy waits at a gate, which opens when the
// clock starts. "writers" is the number of instances.
func BenchmarkFollowerInstances(b *testing.B) {
	for _, partitions := range []int{1, 8} {
		for _, n := range []int{1, 2, 4} {
			name := fmt.Sprintf("postgres/standby/instances=%d", n)
			if partitions > 1 {
				name = fmt.Sprintf("postgres/partitions=%d/instances=%d", partitions, n)
			}
			b.Run(name, func(b *testing.B) { benchFollowerInstances(b, n, partitions) })
		}
	}
}

func benchFollowerInstances(b *testing.B, instances, partitions int) {
	ctx := b.Context()
	env := storeEnv(b, storePostgres, "UPSTREAM,RECEIPTS")
	leader := openApp(b, app.Options{Name: leaderName, Registry: registry(), Env: env})
	follower := openApp(b, app.Options{Name: "Receipts", Registry: receiptRegistry(), Env: env})
	var runs atomic.Int64
	gate := make(chan struct{})
	counted := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		<-gate
		runs.Add(1)
		return issueReceipt(ctx, p, e, pe)
	}
	sys, err := system.New([]system.App{
		{Name: leaderName, Registry: registry()},
		{Name: "Receipts", Registry: receiptRegistry(), Policy: counted},
	}, []string{leaderName, "Receipts"})
	if err != nil {
		b.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range instances {
		wg.Go(func() {
			err := system.RunProcess(runCtx, sys, "Receipts", system.ProcessOptions{
				RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, ProgressInterval: -1, Partitions: partitions},
				Logger:        slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Error(err)
			}
		})
	}
	if partitions > 1 {
		waitSettled(b, follower, instances, partitions)
	}
	writeUpstream(b, leader, b.N)

	b.ResetTimer()
	close(gate)
	for {
		tracked, err := caughtUpTo(ctx, follower, partitions)
		if err != nil {
			b.Fatal(err)
		}
		if tracked >= int64(b.N) {
			break
		}
		time.Sleep(2 * time.Millisecond) // polling the position, as an operator's check would
	}
	b.StopTimer()
	stop()
	wg.Wait()
	perNotification := float64(runs.Load()) / float64(b.N)
	key := rowKey{opFollowerInstances, storePostgres, instances}
	if partitions > 1 {
		key.op = opFollowerDivided
	}
	record(b, key, 1, func(r result) string {
		return fmt.Sprintf("%s notifications/s; policy runs per notification %.2f", thousands(r.eventsPerSecond()), perNotification)
	})
	resultsMu.Lock()
	runsPerNotification[key] = perNotification
	resultsMu.Unlock()
}

// waitSettled waits until the instances of follower hold the partitions
// in fair shares.
func waitSettled(b *testing.B, follower *app.Application, instances, partitions int) {
	b.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var owners, held int
		err := follower.Pool().QueryRow(b.Context(),
			"SELECT count(DISTINCT owner), count(owner) FROM partition_leases WHERE expires_at > now()").Scan(&owners, &held)
		if err != nil {
			b.Fatal(err)
		}
		if owners == instances && held == partitions {
			return
		}
	}
	b.Fatalf("%d instances did not settle their shares of %d partitions", instances, partitions)
}

// caughtUpTo returns the notification up to which the follower has
// processed every one: the lowest position of its partitions when its log
// is divided.
func caughtUpTo(ctx context.Context, follower *app.Application, partitions int) (int64, error) {
	if partitions <= 1 {
		return follower.Recorder().MaxTrackingID(ctx, leaderName)
	}
	positions, err := follower.Recorder().(persistence.PartitionRecorder).PartitionPositions(ctx, leaderName, partitions)
	if err != nil {
		return 0, err
	}
	return slices.Min(positions), nil
}

// runsPerNotification holds, by row, the policy runs per notification of
// BenchmarkFollowerInstances.
var runsPerNotification = map[rowKey]float64{}
