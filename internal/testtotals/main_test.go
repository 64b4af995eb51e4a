package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files in testdata are `go test -json` output of small packages,
// with the times left out. The comments give gotestsum v1.13.0's summary
// of each (`gotestsum --raw-command -- cat file`).
func TestCountsAsGotestsumDoes(t *testing.T) {
	for _, tc := range []struct {
		file                    string
		passed, failed, skipped int
	}{
		{"pass.json", 5, 0, 0},      // DONE 5 tests (subtests, a parallel one, two levels deep)
		{"mixed.json", 2, 2, 1},     // DONE 5 tests, 1 skipped, 2 failures (a failing subtest and its root)
		{"panics.json", 1, 2, 0},    // DONE 3 tests, 2 failures (a subtest's goroutine panicked: neither it nor its root ended)
		{"timeout.json", 0, 2, 0},   // DONE 1 tests, 2 failures (the test that hit -timeout, and the package)
		{"buildfail.json", 0, 1, 0}, // DONE 0 tests, 1 failure, 1 error
		{"mainfail.json", 0, 1, 0},  // DONE 0 tests, 1 failure (TestMain exited 1)
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := countFile(filepath.Join("testdata", tc.file))
			if c.passed != tc.passed || c.failed() != tc.failed || c.skipped != tc.skipped {
				t.Errorf("%d passed, %d failed, %d skipped; want %d, %d, %d\nfailures: %q",
					c.passed, c.failed(), c.skipped, tc.passed, tc.failed, tc.skipped, c.failures)
			}
		})
	}
}

func TestReportAddsSuitesAndEndsWithTheTotals(t *testing.T) {
	var out strings.Builder
	status := report(&out, []string{"testdata/pass.json", "testdata/mixed.json"})
	if status != 1 {
		t.Errorf("status %d, want 1 (tests failed)", status)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != "tests: 7 passed, 2 failed, 1 skipped" {
		t.Errorf("last line %q, want the totals of both suites", last)
	}
	for _, want := range []string{"failed: fx/ok TestFail/b", "failed: fx/ok TestFail"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("output does not name %q:\n%s", want, out.String())
		}
	}
}

func TestReportStatus(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	garbled := filepath.Join(dir, "garbled.json")
	pass, err := os.ReadFile("testdata/pass.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A stream cut short, then something that is not an event.
	if err := os.WriteFile(garbled, append(pass, []byte("{\"Action\":\"ru\nFAIL oops\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		files  []string
		status int
		last   string
		says   string
	}{
		{"all passed", []string{"testdata/pass.json"}, 0, "tests: 5 passed, 0 failed, 0 skipped", ""},
		{"no test files is not a suite", []string{"testdata/notests.json"}, 1, "tests: 0 passed, 1 failed, 0 skipped", "the suite ran no tests"},
		{"empty file", []string{"testdata/pass.json", empty}, 1, "tests: 5 passed, 1 failed, 0 skipped", "the suite ran no tests"},
		{"missing file", []string{"testdata/pass.json", filepath.Join(dir, "missing.json")}, 1, "tests: 5 passed, 1 failed, 0 skipped", "the suite left no results"},
		{"not events", []string{garbled}, 1, "tests: 5 passed, 1 failed, 0 skipped", "2 lines are not go test -json events (first: line 30)"},
		{"build failure", []string{"testdata/pass.json", "testdata/buildfail.json"}, 1, "tests: 5 passed, 1 failed, 0 skipped", "fx/buildfail (the package failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if status := report(&out, tc.files); status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if last := lines[len(lines)-1]; last != tc.last {
				t.Errorf("last line %q, want %q", last, tc.last)
			}
			if !strings.Contains(out.String(), tc.says) {
				t.Errorf("output does not say %q:\n%s", tc.says, out.String())
			}
		})
	}
}
