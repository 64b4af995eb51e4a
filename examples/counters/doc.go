// Package counters is the Python library's example of an event-driven system: the
// Worlds application (the worlds.World aggregates of package
// examples/worlds) and the Counters process application, which follows
// Worlds and counts, in one Counter aggregate per thing, how many times
// each thing happened in all worlds.
//
// System defines the system by its pipe, Worlds → Counters, independently
// of how it runs. The same system runs
//
//   - with system.NewSingleThreadedRunner: a command on Worlds returns
//     after Counters has processed its events, so counts are up to date at
//     once;
//   - with system.NewConcurrentRunner: Counters processes in its own
//     goroutine and is eventually consistent; WaitCaughtUp waits for it;
//   - with Counters in its own OS process (system.RunProcess), against
//     PostgreSQL, woken by the Worlds schema's notifications.
//
// Every event of Worlds is processed exactly once: Counters records its
// new events together with a tracking record of the event, in one
// transaction.
//
//	runner := system.NewSingleThreadedRunner(counters.System(), system.RunnerOptions{})
//	err := runner.Start(ctx)
//	defer runner.Stop()
//	w := runner.App(counters.WorldsName)
//	id, err := counters.CreateWorld(ctx, w, "Earth")
//	err = counters.MakeItSo(ctx, w, id, "dinosaurs")
//	n, err := counters.GetCount(ctx, runner.App(counters.CountersName), "dinosaurs") // 1
//
// # Programs
//
// cmd/counters runs the whole system in one process with the concurrent
// runner, in memory or, with DATABASE_URL set, on PostgreSQL; it makes the
// Python library's three worlds and prints the counts.
//
// cmd/counters-process and cmd/worlds-writer show the multi-process mode
// on PostgreSQL. In one terminal, run the Counters process application;
// it keeps running, processing new events of Worlds as they are recorded,
// and prints the counts when they change, until Ctrl-C (SIGINT) or
// SIGTERM:
//
//	export DATABASE_URL=postgres://user:password@localhost:5432/db
//	go run ./examples/counters/cmd/counters-process
//
// In another terminal, record worlds in the Worlds application, which
// exits when done; the first terminal then prints the new counts
// (dinosaurs 3, trucks 2, internet 1 after the first run, 6, 4 and 2
// after the second):
//
//	export DATABASE_URL=postgres://user:password@localhost:5432/db
//	go run ./examples/counters/cmd/worlds-writer            # the Python library's 3 worlds
//	go run ./examples/counters/cmd/worlds-writer -worlds 30
//
// The writer can run before the process too: the process catches up with
// what was recorded meanwhile when it starts. Several instances of
// counters-process may run at once; each event is still counted once.
// Both programs use the schemas "worlds" and "counters" of the database;
// WORLDS_POSTGRES_SCHEMA and COUNTERS_POSTGRES_SCHEMA choose others (set
// both programs alike). Do not set the plain POSTGRES_SCHEMA: it would put
// both applications in one schema.
package counters
