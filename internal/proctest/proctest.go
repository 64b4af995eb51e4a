// Package proctest runs a test binary again as a child process, for tests
// that kill a worker process and restart it. The test binary's TestMain
// checks an environment variable and, when it is set, runs the worker
// instead of the tests.
package proctest

import (
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Output collects the output of child processes. It is safe for
// concurrent use.
type Output struct {
	mu  sync.Mutex
	buf strings.Builder
}

// Write appends p.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// StartSelf starts this test binary again, running no tests, with
// switchEnv=1 and env added to its environment; see Start.
func StartSelf(t testing.TB, switchEnv string, env map[string]string, out *Output) *exec.Cmd {
	t.Helper()
	withSwitch := map[string]string{switchEnv: "1"}
	maps.Copy(withSwitch, env)
	return Start(t, exec.Command(os.Args[0], "-test.run=^$"), withSwitch, out)
}

// Start starts cmd with env added to this process's environment and its
// output going to out. It fails t if the process cannot start, and kills
// the process at the end of t unless the test waited for it.
func Start(t testing.TB, cmd *exec.Cmd, env map[string]string, out *Output) *exec.Cmd {
	t.Helper()
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}
