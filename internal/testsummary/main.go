// Command testsummary reads `go test -json` output on standard input and
// prints what a reader of a CI log needs: which PostgreSQL server the tests
// used (the "pgtest:" lines), the full output of every failed test, the
// name and reason of every skipped test, each package's result, and the
// totals. It exits with status 1 if any test or package failed, or if the
// input holds no test results at all.
//
//	go test -json ./... | go run ./internal/testsummary
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

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	os.Exit(summarize(os.Stdin, os.Stdout))
}

func summarize(in io.Reader, out io.Writer) int {
	outputs := map[string]*strings.Builder{} // per package+test
	servers := map[string]bool{}
	var failed, skipped, packages []string
	var passCount int
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	for scanner.Scan() {
		var e event
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			// Build errors and other non-JSON lines are shown as they are.
			fmt.Fprintln(out, scanner.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			if strings.HasPrefix(e.Output, "pgtest: ") {
				servers[strings.TrimSpace(e.Output)] = true
			}
			if outputs[key] == nil {
				outputs[key] = &strings.Builder{}
			}
			outputs[key].WriteString(e.Output)
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "pass":
			if e.Test != "" {
				passCount++
			} else {
				packages = append(packages, fmt.Sprintf("ok   %s (%.1fs)", e.Package, e.Elapsed))
			}
			delete(outputs, key)
		case "fail":
			if e.Test != "" {
				failed = append(failed, key)
				fmt.Fprintf(out, "--- FAIL: %s %s\n%s", e.Package, e.Test, text(outputs[key]))
			} else {
				packages = append(packages, fmt.Sprintf("FAIL %s (%.1fs)\n%s", e.Package, e.Elapsed, text(outputs[key])))
				failed = append(failed, e.Package)
			}
		case "skip":
			if e.Test != "" {
				skipped = append(skipped, fmt.Sprintf("--- SKIP: %s %s: %s", e.Package, e.Test, lastLine(text(outputs[key]))))
			} else {
				packages = append(packages, "?    "+e.Package+" [no test files]")
			}
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintln(out, "testsummary: reading input:", err)
		return 1
	}
	for _, s := range sortedKeys(servers) {
		fmt.Fprintln(out, s)
	}
	for _, s := range skipped {
		fmt.Fprintln(out, s)
	}
	sort.Strings(packages)
	for _, p := range packages {
		fmt.Fprintln(out, p)
	}
	fmt.Fprintf(out, "tests: %d passed, %d failed, %d skipped\n", passCount, len(failed), len(skipped))
	if len(failed) > 0 || passCount == 0 {
		fmt.Fprintln(out, "RESULT: FAIL")
		return 1
	}
	fmt.Fprintln(out, "RESULT: PASS")
	return 0
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

// lastLine returns the last non-empty line that is not go test's own
// "--- SKIP" line: the reason given to t.Skip.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "--- SKIP") && !strings.HasPrefix(l, "=== ") {
			return l
		}
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
