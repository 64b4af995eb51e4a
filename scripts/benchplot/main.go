// Command benchplot draws the scaling curves of issue 17 from the output
// of the bench package's benchmarks: events/s of 1-event saves on
// PostgreSQL as the writers go 1 to 64 (BenchmarkAppend/postgres/writers=N,
// beside the raw INSERT ceilings of the same run), and the median latency
// of a get as the aggregate's length goes 10 to 10,000 events, replayed
// and from a snapshot (BenchmarkGet/postgres/length=N and, for 100,
// BenchmarkGet/postgres/replay and /snapshot). It writes one SVG of two
// charts and, with -table, prints the figures as Markdown tables. Each
// point is the median of the benchmark's runs (-count).
//
// It reads `go test -bench` output, plain or -json (test2json), from the
// files named or from standard input:
//
//	go run ./scripts/benchplot -o docs/scaling.svg bin/scaling.json
//
// `make bench-plot` runs the benchmarks and then this. It uses the
// standard library only.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	out := flag.String("o", "", "the SVG file to write (standard output if empty)")
	table := flag.Bool("table", false, "print the figures as Markdown tables on standard output (with -o)")
	caption := flag.String("caption", "", "a line of text under the charts (machine, date, load)")
	flag.Parse()
	if err := run(flag.Args(), *out, *table, *caption, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

func run(files []string, out string, table bool, caption string, stdin io.Reader, stdout io.Writer) error {
	var samples []sample
	if len(files) == 0 {
		s, err := readSamples(stdin)
		if err != nil {
			return err
		}
		samples = s
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		s, err := readSamples(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		samples = append(samples, s...)
	}
	c := collect(samples)
	if len(c.throughput) == 0 && len(c.latency) == 0 {
		return fmt.Errorf("no scaling benchmark results in the input (BenchmarkAppend/postgres/writers=N/…, BenchmarkGet/postgres/…)")
	}
	var svg bytes.Buffer
	if err := writeSVG(&svg, scalingCharts(c), caption); err != nil {
		return err
	}
	if out == "" {
		_, err := stdout.Write(svg.Bytes())
		return err
	}
	if err := os.WriteFile(out, svg.Bytes(), 0o644); err != nil {
		return err
	}
	if table {
		writeTables(stdout, c)
	}
	return nil
}

// writeTables prints the curves' figures as two Markdown tables.
func writeTables(w io.Writer, c curves) {
	fmt.Fprintln(w, "| writers | Save, 1 event, events/s | raw INSERT under LOCK TABLE | raw INSERT, no lock (unsafe) | Save / locked | Save / unsafe | runs |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|")
	at := func(pts []point, x float64) (point, bool) {
		for _, p := range pts {
			if p.x == x {
				return p, true
			}
		}
		return point{}, false
	}
	cell := func(p point, ok bool) string {
		if !ok {
			return "–"
		}
		return label(p.y)
	}
	ratio := func(a, b point, okA, okB bool) string {
		if !okA || !okB || b.y == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", a.y/b.y)
	}
	for _, s := range c.throughput[seriesSave] {
		l, okL := at(c.throughput[seriesLocked], s.x)
		u, okU := at(c.throughput[seriesUnsafe], s.x)
		fmt.Fprintf(w, "| %g | %s | %s | %s | %s | %s | %d |\n", s.x, label(s.y), cell(l, okL), cell(u, okU),
			ratio(s, l, true, okL), ratio(s, u, true, okU), s.runs)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| aggregate length | replay: median | replay: p99 | snapshot: median | snapshot: p99 | replay / snapshot (medians) | runs |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|")
	msCell := func(v float64, ok bool) string {
		if !ok {
			return "–"
		}
		return fmt.Sprintf("%.3f ms", v/1000)
	}
	for _, r := range c.latency[seriesReplay] {
		s, ok := at(c.latency[seriesSnapshot], r.x)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d |\n", label(r.x), msCell(r.y, true), msCell(r.p99, r.p99 > 0),
			msCell(s.y, ok), msCell(s.p99, ok && s.p99 > 0), ratio(r, s, true, ok), r.runs)
	}
}
