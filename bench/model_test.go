package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// Item is the aggregate the benchmarks append and get: small events with
// a few fields, as in most applications.
type Item struct {
	domain.Base
	Name  string `json:"name"`
	Total int    `json:"total"`
	Last  string `json:"last"`
}

// ItemCreated creates an Item.
type ItemCreated struct {
	Name string `json:"name"`
}

// ItemChanged changes an Item.
type ItemChanged struct {
	Amount int    `json:"amount"`
	Note   string `json:"note"`
}

// Apply evolves the item from one of its events.
func (i *Item) Apply(event any) error {
	switch e := event.(type) {
	case ItemCreated:
		i.Name = e.Name
	case ItemChanged:
		i.Total += e.Amount
		i.Last = e.Note
	default:
		return fmt.Errorf("item: unexpected event %T", event)
	}
	return nil
}

func registry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register("bench:Item", &Item{})
	r.Register("bench:ItemCreated", ItemCreated{})
	r.Register("bench:ItemChanged", ItemChanged{})
	return r
}

// newItem returns a new item with n pending events: created, then
// changed n-1 times.
func newItem(n int) (*Item, error) {
	it, err := domain.Create[Item](uuid.New(), ItemCreated{Name: "a benchmark item"})
	if err != nil {
		return nil, err
	}
	for v := 1; v < n; v++ {
		if err := domain.Trigger(it, ItemChanged{Amount: v, Note: "changed by the benchmark"}); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// savedItem returns a new item of n events that a has saved, failing b
// if it cannot.
func savedItem(b *testing.B, a *app.Application, n int) *Item {
	b.Helper()
	it, err := newItem(n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Save(b.Context(), it); err != nil {
		b.Fatal(err)
	}
	return it
}

// Tally is the follower's aggregate in the system benchmark: the sum of
// the amounts of one upstream item, under the item's ID.
type Tally struct {
	domain.Base
	Count int `json:"count"`
	Total int `json:"total"`
}

// TallyStarted creates a Tally.
type TallyStarted struct{}

// TallyAdded adds an amount to a Tally.
type TallyAdded struct {
	Amount int `json:"amount"`
}

// Apply evolves the tally from one of its events.
func (t *Tally) Apply(event any) error {
	switch e := event.(type) {
	case TallyStarted:
	case TallyAdded:
		t.Count++
		t.Total += e.Amount
	default:
		return fmt.Errorf("tally: unexpected event %T", event)
	}
	return nil
}

func tallyRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register("bench:Tally", &Tally{})
	r.Register("bench:TallyStarted", TallyStarted{})
	r.Register("bench:TallyAdded", TallyAdded{})
	return r
}

// tally is the follower's policy: it starts a tally when an item is
// created and gets the tally and adds to it when an item changes, so each
// upstream event costs a get (of at most 10 events) and a tracked save.
func tally(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
	switch d := e.Data.(type) {
	case ItemCreated:
		t, err := domain.Create[Tally](e.OriginatorID, TallyStarted{})
		if err != nil {
			return err
		}
		pe.Save(t)
	case ItemChanged:
		t, err := app.NewRepository[Tally](p.Application).Get(ctx, e.OriginatorID)
		if err != nil {
			return err
		}
		if err := domain.Trigger(t, TallyAdded{Amount: d.Amount}); err != nil {
			return err
		}
		pe.Save(t)
	default:
		return errors.New("tally: unexpected event")
	}
	return nil
}
