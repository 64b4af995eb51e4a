package integration

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperProcessEnv) != "" {
		// This binary was started by a test as a follower process (see
		// faults_process_test.go); it touches no container of its own.
		os.Exit(runHelperProcess())
	}
	configureTestcontainers()
	removeOrphans()
	code := m.Run()
	terminateShared()
	os.Exit(code)
}

// noEnv keeps the process environment out of the applications under test:
// they are configured by app.Options.Env alone.
func noEnv(string) (string, bool) { return "", false }
