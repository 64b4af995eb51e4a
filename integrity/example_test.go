package integrity_test

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// A chain of two events verifies; changed, it is refused with an error
// naming the aggregate and the version.
func ExampleHasher_Verify() {
	h, err := integrity.NewHasher([]byte("salt"), integrity.Scheme1)
	if err != nil {
		panic(err)
	}
	id := uuid.MustParse("b81d160d-d7ef-45ab-a629-c7278082a845")
	created := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 1, Topic: "test:World.Created", State: []byte(`{"Name":"earth"}`)}
	created.Hash = h.EventHash(created, nil)
	changed := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 2, Topic: "test:World.SomethingHappened", State: []byte(`{"What":"dinosaurs"}`)}
	changed.Hash = h.EventHash(changed, created.Hash)
	fmt.Printf("head %x…\n", changed.Hash[:8])
	fmt.Println(h.Verify([]persistence.StoredEvent{created, changed}))

	changed.State = []byte(`{"What":"trucks"}`)
	err = h.Verify([]persistence.StoredEvent{created, changed})
	fmt.Println(errors.Is(err, domain.ErrDataIntegrity))
	fmt.Println(err)
	// Output:
	// head 016acb037621596e…
	// <nil>
	// true
	// integrity: event 2 of b81d160d-d7ef-45ab-a629-c7278082a845: the hash does not match the event chained to the one before it (the event, or the one before it, was changed, moved or removed)
}
