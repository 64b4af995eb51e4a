package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// only returns an Environment with values and nothing of the process
// environment.
func only(values map[string]string) config.Environment {
	return config.Environment{Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

// The command prints the spans as JSON, then one line per span, each
// processing span linked to a save, and the metrics.
func TestRun(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		var out bytes.Buffer
		require.NoError(t, run(t.Context(), only(env), &out, true))
		s := out.String()
		require.Contains(t, s, `"Name": "eventsourcing.save"`)
		require.Contains(t, s, "count of dinosaurs: 1\n")
		links := regexp.MustCompile(`(?m)^  eventsourcing\.process +\w+ \w+ ← \w+ ⇠ (\w+)/(\w+)$`).FindAllStringSubmatch(s, -1)
		require.Len(t, links, 3, "each of the 3 events is processed in a span linked to its save:\n%s", s)
		for _, l := range links {
			require.Regexp(t, `(?m)^  eventsourcing\.save +`+l[1]+` `+l[2]+` ← \w+$`, s, "the linked span is a save")
		}
		require.Contains(t, s, "eventsourcing.follower.processed ({notification}) {eventsourcing.application=Counters eventsourcing.upstream=Worlds}: 3\n")
		require.Contains(t, s, "eventsourcing.follower.lag ({notification}) {eventsourcing.application=Counters eventsourcing.upstream=Worlds}: 0\n")
	}, "WORLDS", "COUNTERS")
}
