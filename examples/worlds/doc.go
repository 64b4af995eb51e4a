// Package worlds is the Python library's basic example of an event-sourced
// application: a World aggregate whose history grows as things happen to
// it, and the Worlds application that creates worlds, makes things happen
// to them and reads their history back.
//
//	w, err := worlds.NewWorlds(ctx, app.Options{})
//	id, err := w.CreateWorld(ctx, "Earth")
//	err = w.MakeItSo(ctx, id, "dinosaurs")
//	history, err := w.GetHistory(ctx, id) // ["dinosaurs"]
//
// The application stores in memory by default; set PERSISTENCE_MODULE to
// "postgres" (with DATABASE_URL or the POSTGRES_* variables) in the
// environment or in app.Options.Env to store in PostgreSQL. Every event is
// also a notification in the application's notification log, which
// Worlds.Log presents in sections, and Worlds.Mapper decodes back to
// domain events. The program in cmd/worlds runs the example.
package worlds
