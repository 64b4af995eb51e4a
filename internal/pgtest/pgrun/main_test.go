package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

// The test binary plays two more parts, chosen by environment variables:
// pgrun itself, and the command pgrun runs.
const (
	envActAsPgrun = "PGRUN_TEST_ACT_AS_PGRUN"
	envChild      = "PGRUN_TEST_CHILD" // "exit" or "wait"
	envReport     = "PGRUN_TEST_REPORT"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envActAsPgrun) != "":
		os.Unsetenv(envActAsPgrun)
		main()
	case os.Getenv(envChild) != "":
		os.Exit(child(os.Getenv(envChild), os.Getenv(envReport)))
	}
	os.Exit(pgtest.Main(m))
}

// child writes the URL it was given and the server's data directory to
// report, then exits with status 3 ("exit") or waits to be ended ("wait").
func child(mode, report string) int {
	url := os.Getenv(envURL)
	dataDir := ""
	if url != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			os.Stderr.WriteString("child: " + err.Error() + "\n")
			return 1
		}
		if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dataDir); err != nil {
			os.Stderr.WriteString("child: " + err.Error() + "\n")
			return 1
		}
		conn.Close(ctx)
	}
	if err := os.WriteFile(report+".tmp", []byte(url+"\n"+dataDir), 0o600); err != nil {
		return 1
	}
	if err := os.Rename(report+".tmp", report); err != nil {
		return 1
	}
	if mode == "wait" {
		time.Sleep(time.Minute)
		return 4
	}
	return 3
}

// pgrunCmd prepares pgrun running the child in mode; the environment has
// no TEST_DATABASE_URL unless url is given.
func pgrunCmd(t *testing.T, mode, url string) (cmd *exec.Cmd, report string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	report = filepath.Join(t.TempDir(), "report")
	cmd = exec.Command(self, "--", self)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envURL+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, envActAsPgrun+"=1", envChild+"="+mode, envReport+"="+report)
	if url != "" {
		cmd.Env = append(cmd.Env, envURL+"="+url)
	}
	return cmd, report
}

// readReport returns the URL and data directory the child reported.
func readReport(t *testing.T, report string) (url, dataDir string) {
	t.Helper()
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("the command did not run: %v", err)
	}
	url, dataDir, _ = strings.Cut(string(b), "\n")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("pgrun started no cluster (CI is set, so this is fatal)")
		}
		t.Skip("pgrun started no cluster (no PostgreSQL binaries?)")
	}
	return url, dataDir
}

// requireStopped checks that the server at url no longer answers and that
// its data directory is gone.
func requireStopped(t *testing.T, url, dataDir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Errorf("the cluster at %s still answers after pgrun ended", url)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory %s: %v, want it removed", dataDir, err)
	}
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &exit) {
		t.Fatalf("pgrun: %v", err)
	}
	return exit.ExitCode()
}

func TestCommandSharesOneClusterThatStopsWithIt(t *testing.T) {
	cmd, report := pgrunCmd(t, "exit", "")
	out, err := cmd.CombinedOutput()
	url, dataDir := readReport(t, report)
	if got := exitStatus(t, err); got != 3 {
		t.Errorf("pgrun exit status = %d, want the command's 3\n%s", got, out)
	}
	if !strings.Contains(string(out), "pgtest: using PostgreSQL") || !strings.Contains(string(out), "(throwaway cluster for this run)") {
		t.Errorf("pgrun did not say which server it uses:\n%s", out)
	}
	requireStopped(t, url, dataDir)
}

func TestInterruptStopsCommandAndCluster(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, report := pgrunCmd(t, "wait", "")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for {
				if _, err := os.Stat(report); err == nil {
					break
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("the command did not start within a minute:\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			url, dataDir := readReport(t, report)
			started := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if got, want := exitStatus(t, err), 128+int(sig); got != want {
				t.Errorf("pgrun exit status = %d, want %d (the command ended by %v)\n%s", got, want, sig, out.String())
			}
			// The child would sleep a minute: it must have been ended.
			if waited := time.Since(started); waited > 30*time.Second {
				t.Errorf("pgrun took %v to end after %v", waited, sig)
			}
			requireStopped(t, url, dataDir)
		})
	}
}

func TestGivenServerIsUsedAndNothingStarted(t *testing.T) {
	url := pgtest.ServerURL(t)
	cmd, report := pgrunCmd(t, "exit", url)
	out, err := cmd.CombinedOutput()
	if got := exitStatus(t, err); got != 3 {
		t.Errorf("pgrun exit status = %d, want 3\n%s", got, out)
	}
	got, _ := readReport(t, report)
	if got != url {
		t.Errorf("the command got %s=%q, want the given %q", envURL, got, url)
	}
	if !strings.Contains(string(out), "("+envURL+")") || strings.Contains(string(out), "throwaway") {
		t.Errorf("pgrun should report the given server and start none:\n%s", out)
	}
	// The given server still answers.
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("the given server no longer answers: %v", err)
	}
	conn.Close(t.Context())
}

func TestUsage(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "--")
	cmd.Env = append(os.Environ(), envActAsPgrun+"=1")
	out, err := cmd.CombinedOutput()
	if got := exitStatus(t, err); got != 2 || !strings.Contains(string(out), "usage: pgrun") {
		t.Errorf("pgrun without a command: status %d, output %q; want 2 and the usage", got, out)
	}
}
