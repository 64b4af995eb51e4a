// Package order is the Order aggregate of the Python eventsourcing
// library's documentation, where it shows commands that do some work before
// they trigger an event, written the Go way: events are structs, commands
// are methods that decide and then call domain.Trigger, and Apply evolves
// the state from each event.
//
// It shows three things about commands:
//
//   - A command that would change nothing records nothing: Rename with the
//     order's current name triggers no event, so saving the order after it
//     stores nothing.
//   - A command that is refused returns an error and records nothing:
//     Pickup before Confirm returns ErrNotConfirmed, the order's pending
//     events are unchanged and there is nothing to save.
//   - Apply can check an event against the state too (the documentation's
//     "raising exceptions in the body of decorated methods"): a PickedUp
//     event triggered directly on an unconfirmed order fails in Apply, and
//     domain.Trigger then keeps neither the event nor any change of state.
//     Checking in the command, before Trigger, is the better habit: Apply
//     runs again on every replay.
//
// The Orders application creates, renames, confirms and picks up orders and
// saves them, in memory by default, or in PostgreSQL when
// PERSISTENCE_MODULE is "postgres" (with DATABASE_URL or the POSTGRES_*
// variables) in the environment or in app.Options.Env.
package order
