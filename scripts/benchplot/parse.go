package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// sample is one benchmark result line: the benchmark's name, without the
// GOMAXPROCS suffix, and its metrics by unit ("ns/op", "events/s", ...).
type sample struct {
	name    string
	metrics map[string]float64
}

// resultLine matches a benchmark result line: the name (with its
// "-GOMAXPROCS" suffix, if any), the iterations and the metrics.
var resultLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)

// readSamples reads the benchmark output in r, either plain (`go test
// -bench`) or test2json (`go test -bench -json`: one JSON event per line,
// the output in the events' Output fields), and returns its result lines
// in order.
func readSamples(r io.Reader) ([]sample, error) {
	var text bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 && line[0] == '{' {
			var ev struct {
				Action string
				Output string
			}
			if err := json.Unmarshal(line, &ev); err != nil {
				return nil, fmt.Errorf("test2json line: %w", err)
			}
			if ev.Action == "output" {
				text.WriteString(ev.Output)
			}
			continue
		}
		text.Write(line)
		text.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []sample
	for line := range strings.SplitSeq(text.String(), "\n") {
		s, ok := parseResult(line)
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// parseResult parses one benchmark result line; ok is false for any
// other line.
func parseResult(line string) (s sample, ok bool) {
	m := resultLine.FindStringSubmatch(strings.TrimRight(line, "\r"))
	if m == nil {
		return sample{}, false
	}
	fields := strings.Fields(m[3])
	if len(fields)%2 != 0 {
		return sample{}, false
	}
	s = sample{name: m[1], metrics: map[string]float64{}}
	for i := 0; i < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return sample{}, false
		}
		s.metrics[fields[i+1]] = v
	}
	return s, true
}

// Units of the metrics the curves plot.
const (
	unitEventsPerSecond = "events/s"
	unitMedian          = "µs-median"
	unitP99             = "µs-p99"
)

// The series of the curves, as the benchmarks name them.
const (
	seriesSave     = "save-1"
	seriesLocked   = "locked-insert"
	seriesUnsafe   = "unsafe-insert"
	seriesReplay   = "replay"
	seriesSnapshot = "snapshot"
)

// defaultLength is the length of the aggregate of BenchmarkGet's
// postgres/replay and postgres/snapshot, the curve's point at 100.
const defaultLength = 100

var (
	appendName = regexp.MustCompile(`^BenchmarkAppend/postgres/writers=(\d+)/(save-1|locked-insert|unsafe-insert)$`)
	getName    = regexp.MustCompile(`^BenchmarkGet/postgres/(?:length=(\d+)/)?(replay|snapshot)$`)
)

// point is one point of a curve: the median of its runs.
type point struct {
	x, y float64
	p99  float64 // gets only: median of the runs' 99th percentiles, µs
	runs int
}

// curves are the figures of the two charts, by series, each series'
// points in increasing x.
type curves struct {
	throughput map[string][]point // x writers, y events/s
	latency    map[string][]point // x aggregate length, y median µs
}

// collect takes the samples of the scaling benchmarks and returns their
// curves, each point the median over the runs (-count) of its benchmark.
func collect(samples []sample) curves {
	type key struct {
		series string
		x      float64
	}
	through, lat, p99s := map[key][]float64{}, map[key][]float64{}, map[key][]float64{}
	for _, s := range samples {
		if m := appendName.FindStringSubmatch(s.name); m != nil {
			v, ok := s.metrics[unitEventsPerSecond]
			if !ok {
				continue
			}
			w, _ := strconv.Atoi(m[1])
			k := key{m[2], float64(w)}
			through[k] = append(through[k], v)
			continue
		}
		if m := getName.FindStringSubmatch(s.name); m != nil {
			v, ok := s.metrics[unitMedian]
			if !ok {
				continue
			}
			length := defaultLength
			if m[1] != "" {
				length, _ = strconv.Atoi(m[1])
			}
			k := key{m[2], float64(length)}
			lat[k] = append(lat[k], v)
			if p, ok := s.metrics[unitP99]; ok {
				p99s[k] = append(p99s[k], p)
			}
		}
	}
	build := func(values, pcts map[key][]float64) map[string][]point {
		out := map[string][]point{}
		for k, vs := range values {
			out[k.series] = append(out[k.series], point{x: k.x, y: median(vs), p99: median(pcts[k]), runs: len(vs)})
		}
		for _, pts := range out {
			slices.SortFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
		}
		return out
	}
	return curves{throughput: build(through, nil), latency: build(lat, p99s)}
}

// median returns the median of vs (the mean of the middle two for an
// even count), 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
