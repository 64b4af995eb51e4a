// Command testtotals adds up the test results of one or more suites and
// prints them as one line, last:
//
//	tests: 682 passed, 0 failed, 0 skipped
//
// Each argument is the `go test -json` stream of one suite, as gotestsum
// writes it with --jsonfile. Tests and subtests are counted as gotestsum
// counts them: every test that passed, failed or was skipped, a test that
// started but never ended (its binary panicked or timed out) as failed,
// and a package that failed without a failing test (a build failure, a
// failing TestMain, a panic outside any test) as one failure more. A suite
// whose file is missing, unreadable or holds no test result counts as one
// failure, and so does a line that is not a test event. The failures are
// named, one line each, before the totals.
//
// testtotals exits with status 1 when anything failed or no test passed.
//
//	testtotals bin/test.json bin/integration.json
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testtotals file.json...")
		os.Exit(2)
	}
	os.Exit(report(os.Stdout, os.Args[1:]))
}

// report prints the failures and the totals of the suites in files and
// returns the exit status.
func report(w io.Writer, files []string) int {
	var total counts
	for _, name := range files {
		total.add(countFile(name))
	}
	for _, f := range total.failures {
		fmt.Fprintln(w, "failed:", f)
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", total.passed, total.failed(), total.skipped)
	if total.failed() > 0 || total.passed == 0 {
		return 1
	}
	return 0
}

// counts are the results of one or more suites.
type counts struct {
	passed, skipped int
	failures        []string // one per failure, named
}

func (c *counts) failed() int { return len(c.failures) }

func (c *counts) add(o counts) {
	c.passed += o.passed
	c.skipped += o.skipped
	c.failures = append(c.failures, o.failures...)
}

func countFile(name string) counts {
	f, err := os.Open(name)
	if err != nil {
		return counts{failures: []string{fmt.Sprintf("%s: the suite left no results: %v", name, err)}}
	}
	defer f.Close()
	c, err := count(f)
	if err != nil {
		c.failures = append(c.failures, fmt.Sprintf("%s: %v", name, err))
	} else if c.passed+c.skipped+c.failed() == 0 {
		c.failures = append(c.failures, name+": the suite ran no tests")
	}
	return c
}

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// pkg is what is known of one package's run.
type pkg struct {
	running  map[string]bool // tests started and not yet ended
	passed   map[string]bool
	failed   bool // the package's own result
	failures int  // of its tests
	timedOut bool // a test hit the binary's -timeout
}

// count reads one suite's go test -json stream. A line that is not an
// event is reported as an error after the rest is counted.
func count(r io.Reader) (counts, error) {
	var (
		c        counts
		bad      []int
		pkgs     = map[string]*pkg{}
		scanner  = bufio.NewScanner(r)
		lineNo   int
		packages []string
	)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	for scanner.Scan() {
		lineNo++
		line := scanner.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			bad = append(bad, lineNo)
			continue
		}
		if e.Package == "" {
			continue // build-output and build-fail name an ImportPath; the package fails too
		}
		p := pkgs[e.Package]
		if p == nil {
			p = &pkg{running: map[string]bool{}, passed: map[string]bool{}}
			pkgs[e.Package] = p
			packages = append(packages, e.Package)
		}
		if e.Test == "" {
			if e.Action == "fail" {
				p.failed = true
			}
			continue
		}
		switch e.Action {
		case "run":
			p.running[e.Test] = true
		case "output":
			if strings.HasPrefix(e.Output, "panic: test timed out") {
				p.timedOut = true
			}
		case "pass":
			delete(p.running, e.Test)
			p.passed[e.Test] = true
			c.passed++
		case "skip":
			delete(p.running, e.Test)
			c.skipped++
		case "fail":
			delete(p.running, e.Test)
			p.failures++
			c.failures = append(c.failures, e.Package+" "+e.Test)
		}
	}
	if err := scanner.Err(); err != nil {
		return c, fmt.Errorf("reading: %w", err)
	}
	sort.Strings(packages)
	for _, name := range packages {
		p := pkgs[name]
		for _, test := range sortedKeys(p.running) {
			if root, _, sub := strings.Cut(test, "/"); sub && p.passed[root] {
				continue // a subtest's lost end event; its root passed
			}
			p.failures++
			c.failures = append(c.failures, name+" "+test+" (never finished)")
		}
		if p.timedOut || (p.failed && p.failures == 0) {
			c.failures = append(c.failures, name+" (the package failed: build, TestMain, panic or timeout)")
		}
	}
	if len(bad) > 0 {
		return c, fmt.Errorf("%d lines are not go test -json events (first: line %d)", len(bad), bad[0])
	}
	return c, nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
