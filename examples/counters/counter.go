package counters

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// Counter is an aggregate of the Counters application: how many times the
// thing it is named after happened, in all worlds.
type Counter struct {
	domain.Base
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// CounterCreated is the event that creates a Counter, at zero.
type CounterCreated struct {
	Name string `json:"name"`
}

// CounterIncremented is the event that adds one to a Counter.
type CounterIncremented struct{}

// CounterID returns the ID of the counter of the thing name: the version 5
// UUID of "/counters/"+name, as in the Python library's example, so that a counter is found by
// its name.
func CounterID(name string) uuid.UUID { return domain.NameID("/counters/" + name) }

// NewCounter creates the counter of the thing name, at zero, with its
// pending CounterCreated event.
func NewCounter(name string) (*Counter, error) {
	return domain.Create[Counter](CounterID(name), CounterCreated{Name: name})
}

// Increment adds one to the counter.
func (c *Counter) Increment() error {
	return domain.Trigger(c, CounterIncremented{})
}

// Apply evolves the counter's state from one of its events.
func (c *Counter) Apply(data any) error {
	switch e := data.(type) {
	case CounterCreated:
		c.Name = e.Name
	case CounterIncremented:
		c.Count++
	default:
		return fmt.Errorf("counter: unknown event %T", data)
	}
	return nil
}
