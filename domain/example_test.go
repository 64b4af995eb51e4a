package domain_test

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// Create, command, collect and replay an aggregate.
func Example() {
	world, _ := NewWorld("earth")
	_ = world.MakeItSo("dinosaurs")
	_ = world.MakeItSo("trucks")
	fmt.Println(world.Version(), world.History)

	events := world.CollectEvents()
	for _, e := range events {
		fmt.Printf("v%d %T\n", e.OriginatorVersion, e.Data)
	}
	copy, _ := domain.Replay[World](events)
	fmt.Println(copy.Version(), copy.History, copy.ID() == world.ID())
	// Output:
	// 3 [dinosaurs trucks]
	// v1 domain_test.WorldCreated
	// v2 domain_test.SomethingHappened
	// v3 domain_test.SomethingHappened
	// 3 [dinosaurs trucks] true
}

// Aggregates found by name use namespaced (version 5) IDs.
func ExampleNameID() {
	id := domain.NameID("/pages/Erth")
	fmt.Println(id, id.Version() == uuid.Version(5))
	// Output: c51b7c66-7c30-50d0-81ce-f32424f1de02 true
}
