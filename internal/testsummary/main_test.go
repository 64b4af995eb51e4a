package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"Action":"output","Package":"p","Test":"TestA","Output":"pgtest: using PostgreSQL 15 at 127.0.0.1:1\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: boom\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: no server\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"--- SKIP: TestC (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"fail","Package":"p","Elapsed":1.5}`,
		`# build error line`,
	}, "\n")
	var out bytes.Buffer
	require.Equal(t, 1, summarize(strings.NewReader(in), &out))
	s := out.String()
	require.Contains(t, s, "pgtest: using PostgreSQL 15 at 127.0.0.1:1")
	require.Contains(t, s, "--- FAIL: p TestB\n    b_test.go:3: boom")
	require.Contains(t, s, "--- SKIP: p TestC: c_test.go:3: no server")
	require.Contains(t, s, "# build error line")
	require.Contains(t, s, "tests: 1 passed, 2 failed, 1 skipped")
	require.Contains(t, s, "RESULT: FAIL")
}

func TestSummarizePass(t *testing.T) {
	t.Parallel()
	in := `{"Action":"pass","Package":"p","Test":"TestA"}` + "\n" + `{"Action":"pass","Package":"p","Elapsed":0.2}`
	var out bytes.Buffer
	require.Equal(t, 0, summarize(strings.NewReader(in), &out))
	require.Contains(t, out.String(), "ok   p (0.2s)")
	require.Contains(t, out.String(), "RESULT: PASS")
}

func TestSummarizeNothingIsFailure(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.Equal(t, 1, summarize(strings.NewReader(""), &out))
}
