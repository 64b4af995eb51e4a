// Command pgrun runs a command with TEST_DATABASE_URL naming a throwaway
// PostgreSQL cluster that it starts before the command and stops after it,
// so that every test binary of one `go test ./...` run shares one server
// (each test still works in its own schema; see pgtest.NewSchemaName):
//
//	go run ./internal/pgtest/pgrun -- go test ./...
//
// The cluster is stopped and its files removed when the command ends,
// whether it passes or fails, and when pgrun receives SIGINT, SIGTERM or
// SIGHUP, which it passes on to the command and then waits for it. (Only
// SIGKILL leaves the cluster behind.) The command runs in a process group of
// its own, with standard input from /dev/null. pgrun exits with the
// command's exit status, 128 plus the signal number if the command was ended
// by a signal, or 1 if the cluster could not be stopped.
//
// When TEST_DATABASE_URL is already set, pgrun starts nothing and runs the
// command against that server. When no cluster can be started (no
// PostgreSQL binaries, say), pgrun says why and runs the command without
// TEST_DATABASE_URL, so the tests skip, or fail when CI is set, as they do
// without pgrun.
//
// Before the command, pgrun prints which server the run uses:
//
//	pgtest: using PostgreSQL 15.18 (Debian 15.18-0+deb12u1) at 127.0.0.1:36445 (throwaway cluster for this run)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

const envURL = "TEST_DATABASE_URL"

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: pgrun [--] command [args...]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	// Take the signals before the cluster starts, so that none ends pgrun
	// between starting the cluster and stopping it.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)

	env := os.Environ()
	var cluster *pgtest.Cluster
	if url := os.Getenv(envURL); url != "" {
		announce(url, envURL)
	} else if c, err := pgtest.StartCluster(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: no throwaway cluster for this run (the tests try again, and skip or fail): %v\n", err)
	} else {
		cluster = c
		source := "throwaway cluster for this run"
		if c.Durable() {
			source = "durable " + source
		}
		announce(c.URL(), source)
		env = append(env, envURL+"="+c.URL())
	}

	var code int
	select {
	case sig := <-signals:
		fmt.Fprintf(os.Stderr, "pgrun: %v before the command started\n", sig)
		code = 128 + int(sig.(syscall.Signal))
	default:
		code = runCommand(args, env, signals)
	}

	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping the throwaway cluster: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// runCommand runs args with env in a process group of its own, passes the
// signals on to that group, and returns the exit status to report.
func runCommand(args, env []string, signals <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // stdin: /dev/null
	cmd.Env = env
	// A group of its own, so that a Ctrl-C at the terminal reaches the
	// command once, from pgrun, and pgrun outlives it to stop the cluster.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "pgrun: %v\n", err)
		return 127
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				_ = syscall.Kill(-cmd.Process.Pid, sig.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return exitCode(err)
}

// announce prints which server the run uses, or why it cannot be reached.
func announce(url, source string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server, err := pgtest.Describe(ctx, url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: cannot connect to the server of %s: %v\n", source, err)
		return
	}
	fmt.Fprintf(os.Stderr, "pgtest: using %s (%s)\n", server, source)
}

// exitCode is the exit status pgrun passes on for the command's result.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		fmt.Fprintf(os.Stderr, "pgrun: %v\n", err)
		return 1
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exit.ExitCode()
}
