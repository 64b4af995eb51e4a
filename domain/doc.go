// Package domain is for writing event-sourced aggregates in plain Go.
//
// An aggregate is a struct that embeds Base and has an Apply method that
// evolves its state from one event. Events are plain structs. Command
// methods decide, then call Trigger with the event; Trigger applies the
// event and keeps it as pending, to be saved by the application:
//
//	type World struct {
//		domain.Base
//		Name    string
//		History []string
//	}
//
//	type WorldCreated struct{ Name string }
//	type SomethingHappened struct{ What string }
//
//	func NewWorld(name string) (*World, error) {
//		return domain.Create[World](uuid.New(), WorldCreated{Name: name})
//	}
//
//	func (w *World) MakeItSo(what string) error {
//		return domain.Trigger(w, SomethingHappened{What: what})
//	}
//
//	func (w *World) Apply(event any) error {
//		switch e := event.(type) {
//		case WorldCreated:
//			w.Name = e.Name
//		case SomethingHappened:
//			w.History = append(w.History, e.What)
//		}
//		return nil
//	}
//
// Replay rebuilds an aggregate from its events, and FromSnapshot from a
// snapshot taken with TakeSnapshot. The package imports only the standard
// library and github.com/google/uuid; storing events is the business of
// packages persistence and app.
package domain
