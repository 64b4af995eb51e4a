// Package system builds event-driven systems from applications: process
// applications whose policies turn the events of the applications they
// follow into new events of their own, each upstream notification
// processed exactly once, and runners that run a system in one goroutine,
// in one goroutine per follower, or with each application in its own OS
// process against PostgreSQL.
//
// A process application records the new events of each upstream
// notification together with a tracking record of that notification, in
// one transaction. The tracking record is unique, so a
// notification cannot be processed twice, and processing resumes after the
// last tracked notification when a process restarts.
//
//	sys, err := system.New([]system.App{
//		{Name: "Worlds", Registry: worldsTypes},
//		{Name: "Counters", Registry: counterTypes, Policy: countWords},
//	}, []string{"Worlds", "Counters"})
//	runner := system.NewSingleThreadedRunner(sys, system.RunnerOptions{})
//	err = runner.Start(ctx)
//	worlds := runner.App("Worlds") // commands here are processed downstream before they return
//
// A process application reports a span per page of notifications and per
// notification (linked to the span of the save that recorded its event),
// and metrics of its progress, lag, conflicts and retries, to the
// OpenTelemetry providers of its app.Application; see
// docs/observability.md.
package system
