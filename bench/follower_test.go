package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
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
	for _, store := range stores {
		for _, size := range pageSizes {
			b.Run(fmt.Sprintf("%s/page=%d", store, size), func(b *testing.B) { benchFollower(b, store, size) })
		}
	}
}

func benchFollower(b *testing.B, store string, pageSize int) {
	ctx := context.Background()
	env := storeEnv(b, store, "UPSTREAM,RECEIPTS")
	newApp := func(name string, reg *codec.Registry) *app.Application {
		a, err := app.New(ctx, app.Options{Name: name, Registry: reg, Env: env, Lookup: noEnv})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(a.Close)
		if pool := a.Pool(); pool != nil {
			warm(b, pool)
		}
		return a
	}
	leader := newApp(leaderName, registry())
	for written := 0; written < b.N; written += 100 {
		it, err := newItem(min(100, b.N-written))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := leader.Save(ctx, it); err != nil {
			b.Fatal(err)
		}
	}
	follower := system.NewProcessApplication(newApp("Receipts", receiptRegistry()), issueReceipt)
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
