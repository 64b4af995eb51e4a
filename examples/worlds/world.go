package worlds

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// World is an aggregate: a named world and the history of what happened
// to it, in order. Its exported fields are its state, also in snapshots.
type World struct {
	domain.Base
	Name    string   `json:"name"`
	History []string `json:"history"`
}

// WorldCreated is the event that creates a World.
type WorldCreated struct {
	Name string `json:"name"`
}

// SomethingHappened is the event that adds What to a World's history.
type SomethingHappened struct {
	What string `json:"what"`
}

// NewWorld creates a World named name, with a new random ID, and its
// pending WorldCreated event.
func NewWorld(name string) (*World, error) {
	return domain.Create[World](uuid.New(), WorldCreated{Name: name})
}

// MakeItSo records that what happened to the world.
func (w *World) MakeItSo(what string) error {
	return domain.Trigger(w, SomethingHappened{What: what})
}

// Apply evolves the world's state from one of its events.
func (w *World) Apply(data any) error {
	switch e := data.(type) {
	case WorldCreated:
		w.Name = e.Name
	case SomethingHappened:
		w.History = append(w.History, e.What)
	default:
		return fmt.Errorf("world: unknown event %T", data)
	}
	return nil
}
