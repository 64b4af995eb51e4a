package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// verifyPage is how many aggregates verify checks per call of the
// database's stored_events_verify_page, and how many notifications per
// page in Go.
const verifyPage = 1000

// verify checks the hash chains of the events and the seals of the
// snapshots of the application name (see docs/integrity.md), and returns
// the exit status: 0 when all verify, 1 when a problem is found or the
// store cannot be read. On PostgreSQL the check runs in the database (the
// functions of migrations 00007 and 00009); on SQLite, in Go. The hashes
// are keyed by SALT_FOR_DATA_INTEGRITY (standard base64, possibly
// prefixed with the application's name; empty when unset). When strict
// (--strict, or HASH_CHAIN_STRICT as the application reads it), every
// event without a hash and every snapshot without a seal is a problem. It
// prints each problem and what it checked to stdout, and its progress to
// stderr. It never migrates the schema (CREATE_TABLE is false unless
// set).
func verify(ctx context.Context, name string, strict bool, env config.Environment, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "eventsourcing: verify:", err)
		return 1
	}
	appEnv := env
	appEnv.Name = name
	var salt []byte
	if saltVar, value, _ := appEnv.Find(app.EnvSaltForDataIntegrity); value != "" {
		var err error
		if salt, err = base64.StdEncoding.DecodeString(strings.TrimSpace(value)); err != nil {
			return fail(&config.Error{Var: saltVar, Reason: "standard base64 is expected (the value is not shown)"})
		}
	}
	values := map[string]string{}
	if _, ok := appEnv.Get("CREATE_TABLE"); !ok {
		values["CREATE_TABLE"] = "false" // verify only reads
	}
	if _, ok := appEnv.Get(app.EnvSnapshottingEnabled); !ok {
		values[app.EnvSnapshottingEnabled] = "true" // so that Go verifies the snapshots too
	}
	for k, v := range env.Values {
		values[k] = v
	}
	a, err := app.New(ctx, app.Options{Name: name, Registry: codec.NewRegistry(), Env: values, Lookup: env.Lookup})
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	strict = strict || a.HashChain() && a.Hasher().IsStrict()
	how := ""
	if strict {
		how = ", strictly: every event must have a hash and every snapshot a seal"
	}
	var sum integrity.Summary
	switch a.Module() {
	case app.Postgres:
		fmt.Fprintf(stdout, "verifying %s (schema %s) in the database%s\n", name, a.Schema(), how)
		sum, err = verifyInPostgres(ctx, a, salt, strict, stdout, stderr)
	case app.Memory:
		return fail(fmt.Errorf("%s has no database: set DATABASE_URL (or the POSTGRES_ variables) or SQLITE_DBNAME", name))
	default:
		fmt.Fprintf(stdout, "verifying %s (%s)%s\n", name, a.Store(), how)
		sum, err = verifyInGo(ctx, a, salt, strict, stdout, stderr)
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "checked %d aggregates: %d events (%d without a hash), %d snapshots (%d unsealed)\n",
		sum.Aggregates, sum.Events, sum.UnhashedEvents, sum.Snapshots, sum.UnsealedSnapshots)
	if sum.UnhashedEvents > 0 && !strict {
		fmt.Fprintln(stdout, "events without a hash before the first hashed event of their aggregate were recorded before the application hash-chained its events: they are not covered (--strict reports them)")
	}
	switch sum.Problems {
	case 0:
		fmt.Fprintln(stdout, "no problems found")
		return 0
	case 1:
		fmt.Fprintln(stdout, "1 problem found")
	default:
		fmt.Fprintf(stdout, "%d problems found\n", sum.Problems)
	}
	return 1
}

// verifyInPostgres verifies a's schema in the database, page by page.
func verifyInPostgres(ctx context.Context, a *app.Application, salt []byte, strict bool, stdout, stderr io.Writer) (integrity.Summary, error) {
	var sum integrity.Summary
	for after := uuid.Nil; ; {
		page, err := postgres.VerifyPage(ctx, a.Pool(), salt, after, verifyPage, strict)
		if err != nil || len(page) == 0 {
			return sum, err
		}
		for _, c := range page {
			sum.Aggregates++
			sum.Events += c.Events
			sum.UnhashedEvents += c.UnhashedEvents
			sum.Snapshots += c.Snapshots
			sum.UnsealedSnapshots += c.UnsealedSnapshots
			if c.Problems == 0 {
				continue
			}
			problems, err := postgres.VerifyAggregate(ctx, a.Pool(), salt, c.OriginatorID, strict)
			if err != nil {
				return sum, err
			}
			for _, p := range problems {
				sum.Problems++
				fmt.Fprintln(stdout, p)
			}
		}
		after = page[len(page)-1].OriginatorID
		fmt.Fprintf(stderr, "verified %d aggregates, %d events\n", sum.Aggregates, sum.Events)
	}
}

// verifyInGo verifies a's store in Go.
func verifyInGo(ctx context.Context, a *app.Application, salt []byte, strict bool, stdout, stderr io.Writer) (integrity.Summary, error) {
	h, err := integrity.NewHasher(salt, 0)
	if err != nil {
		return integrity.Summary{}, err
	}
	if strict {
		h = h.Strict()
	}
	return h.VerifyLog(ctx, a.Recorder(), a.Snapshots(), verifyPage,
		func(p integrity.Problem) { fmt.Fprintln(stdout, strings.TrimPrefix(p.Err.Error(), "integrity: ")) },
		func(s integrity.Summary) {
			fmt.Fprintf(stderr, "verified %d aggregates, %d events\n", s.Aggregates, s.Events)
		})
}

// verifyArgs returns the application's name and whether --strict (or
// -strict) is given, in any order, among args, the arguments of verify;
// ok is false for anything else.
func verifyArgs(args []string) (name string, strict, ok bool) {
	for _, arg := range args {
		switch {
		case arg == "--strict" || arg == "-strict":
			strict = true
		case strings.HasPrefix(arg, "-") || name != "":
			return "", false, false
		default:
			name = arg
		}
	}
	return name, strict, name != ""
}
