package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sampleOutput is benchmark output as `go test -bench` prints it: the
// scaling benchmarks (two runs of writers=1 save-1, whose median is
// their mean) and lines the plot ignores.
const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/eventsourcing-go/eventsourcing/bench
BenchmarkAppend/postgres/writers=1/unsafe-insert-2         	    9506	    251326 ns/op	      4000 events/s
BenchmarkAppend/postgres/writers=1/locked-insert-2         	    9000	    260000 ns/op	      3800 events/s
BenchmarkAppend/postgres/writers=1/save-1-2                	    5000	    400000 ns/op	      2000 events/s	 48.1 allocs/event
BenchmarkAppend/postgres/writers=1/save-1-2                	    5000	    400000 ns/op	      3000 events/s	 48.1 allocs/event
BenchmarkAppend/postgres/writers=1/save-10-2               	    5000	    400000 ns/op	     25000 events/s
BenchmarkAppend/postgres/writers=2/save-1-2                	    5000	    400000 ns/op	      4000 events/s
BenchmarkAppend/postgres/writers=4/save-1-2                	    5000	    400000 ns/op	      8000 events/s
BenchmarkAppend/memory/writers=1/save-1-2                  	    5000	    400000 ns/op	    900000 events/s
BenchmarkGet/postgres/raw-select-2                         	   10000	    138000 ns/op	    700000 events/s	 138.0 µs-median
BenchmarkGet/postgres/length=10/replay-2                   	   10000	    120000 ns/op	     80000 events/s	 100.0 µs-median	 400.0 µs-p99
BenchmarkGet/postgres/length=10/snapshot-2                 	   10000	    200000 ns/op	     50000 events/s	 200.0 µs-median	 450.0 µs-p99
BenchmarkGet/postgres/replay-2                             	   10000	    330000 ns/op	    300000 events/s	 330.0 µs-median	 900.0 µs-p99
BenchmarkGet/postgres/snapshot-2                           	   10000	    210000 ns/op	    470000 events/s	 210.0 µs-median	 500.0 µs-p99
BenchmarkGet/postgres/length=10000/replay-2                	      30	  80000000 ns/op	    120000 events/s	 80000 µs-median	 95000 µs-p99
BenchmarkGet/memory/replay-2                               	   10000	     50000 ns/op	   2000000 events/s	 50.0 µs-median
PASS
`

// points returns the circles of an SVG, series → x → y, and their
// horizontal positions by "series@x".
func points(t *testing.T, svg []byte) (map[string]map[float64]float64, map[string]float64) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	out, cxs := map[string]map[float64]float64{}, map[string]float64{}
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, cxs
			}
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "circle" {
			continue
		}
		attrs := map[string]string{}
		for _, a := range el.Attr {
			attrs[a.Name.Local] = a.Value
		}
		x, err1 := strconv.ParseFloat(attrs["data-x"], 64)
		y, err2 := strconv.ParseFloat(attrs["data-y"], 64)
		cx, err3 := strconv.ParseFloat(attrs["cx"], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("circle with bad attributes: %v", attrs)
		}
		if out[attrs["data-series"]] == nil {
			out[attrs["data-series"]] = map[float64]float64{}
		}
		out[attrs["data-series"]][x] = y
		cxs[attrs["data-series"]+"@"+attrs["data-x"]] = cx
	}
}

func TestPlot(t *testing.T) {
	samples, err := readSamples(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 15 {
		t.Fatalf("parsed %d result lines, want 15", len(samples))
	}
	var svg bytes.Buffer
	if err := writeSVG(&svg, scalingCharts(collect(samples)), "test & caption"); err != nil {
		t.Fatal(err)
	}
	got, cxs := points(t, svg.Bytes())
	want := map[string]map[float64]float64{
		seriesSave:     {1: 2500, 2: 4000, 4: 8000}, // median of 2,000 and 3,000 at 1 writer
		seriesUnsafe:   {1: 4000},
		seriesLocked:   {1: 3800},
		seriesReplay:   {10: 0.1, 100: 0.33, 10000: 80}, // ms
		seriesSnapshot: {10: 0.2, 100: 0.21},
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %d series", got, len(want))
	}
	for s, pts := range want {
		if len(got[s]) != len(pts) {
			t.Errorf("series %s: points %v, want %v", s, got[s], pts)
		}
		for x, y := range pts {
			if g, ok := got[s][x]; !ok || math.Abs(g-y) > 1e-9*math.Max(1, y) {
				t.Errorf("series %s at %g: y %v (present %v), want %v", s, x, g, ok, y)
			}
		}
	}
	// log2 x axis: 1, 2 and 4 writers evenly spaced.
	d1, d2 := cxs[seriesSave+"@2"]-cxs[seriesSave+"@1"], cxs[seriesSave+"@4"]-cxs[seriesSave+"@2"]
	if d1 <= 0 || math.Abs(d1-d2) > 0.2 {
		t.Errorf("writers axis not log2: 1→2 is %.1f px, 2→4 is %.1f px", d1, d2)
	}
	// log10 x axis: 10 → 100 is a third of 10 → 10,000.
	a, b := cxs[seriesReplay+"@100"]-cxs[seriesReplay+"@10"], cxs[seriesReplay+"@10000"]-cxs[seriesReplay+"@10"]
	if a <= 0 || math.Abs(3*a-b) > 0.5 {
		t.Errorf("length axis not log10: 10→100 is %.1f px, 10→10,000 is %.1f px", a, b)
	}
	if !strings.Contains(svg.String(), "test &amp; caption") {
		t.Error("the caption is missing or not escaped")
	}
}

// TestJSONInput feeds the same lines as test2json events, as `go test
// -json` writes them, through run, to a file.
func TestJSONInput(t *testing.T) {
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for line := range strings.SplitAfterSeq(sampleOutput, "\n") {
		if err := enc.Encode(map[string]string{"Action": "output", "Package": "bench", "Output": line}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(map[string]string{"Action": "pass", "Package": "bench"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input, out := filepath.Join(dir, "bench.json"), filepath.Join(dir, "scaling.svg")
	if err := os.WriteFile(input, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := run([]string{input}, out, true, "", nil, &table); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := points(t, svg); got[seriesSave][4] != 8000 || got[seriesReplay][10000] != 80 {
		t.Errorf("points from JSON input: %v", got)
	}
	for _, want := range []string{"| 1 | 2,500 | 3,800 | 4,000 | 0.66 | 0.62 | 2 |", "| 10,000 | 80.000 ms | 95.000 ms | – | – | – | 1 |"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestNoResults(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, "", false, "", strings.NewReader("PASS\nok  \tbench\t1.0s\n"), &out); err == nil {
		t.Error("no error for input without scaling results")
	}
}
