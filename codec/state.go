package codec

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"
)

// splitState splits an event's stored state of the form that
// JSONTranscoder writes for it,
//
//	{"timestamp":"…"[,"class_version":N][,"originator_topic":"…"],"data":…}
//
// compact, with its keys in that order, into its parts, leaving the data
// encoded. ok is false for a state of any other form (spaces, other keys or
// key order, escapes in a string, a number that is not a plain positive
// integer, a timestamp encoding/json would refuse): the caller then
// decodes the state in full, which gives the same result or the error.
// The data is not checked here: it is the rest of the state but its last
// byte, and only a decoder that finds it to be exactly one JSON value may
// take the split.
func splitState(state []byte) (ts time.Time, version int, topic string, data []byte, ok bool) {
	rest, found := bytes.CutPrefix(state, []byte(`{"timestamp":`))
	if !found {
		return
	}
	quoted, rest, found := plainString(rest)
	if !found || ts.UnmarshalJSON(quoted) != nil {
		return
	}
	if after, found := bytes.CutPrefix(rest, []byte(`,"class_version":`)); found {
		end := 0
		for end < len(after) && after[end] >= '0' && after[end] <= '9' {
			end++
		}
		if end == 0 || end > 9 || after[0] == '0' {
			return
		}
		n, err := strconv.Atoi(string(after[:end]))
		if err != nil {
			return
		}
		version, rest = n, after[end:]
	}
	if after, found := bytes.CutPrefix(rest, []byte(`,"originator_topic":`)); found {
		if quoted, rest, found = plainString(after); !found {
			return
		}
		topic = string(quoted[1 : len(quoted)-1])
	}
	rest, found = bytes.CutPrefix(rest, []byte(`,"data":`))
	if !found || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return
	}
	return ts, version, topic, rest[:len(rest)-1], true
}

// plainString returns the JSON string at the start of b, quotes included,
// and what follows it, when the string has no escape, no control character
// and is valid UTF-8, so that its bytes are its value.
func plainString(b []byte) (quoted, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"') + 1
	if end == 0 {
		return nil, nil, false
	}
	s := b[1:end]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, nil, false
	}
	return b[:end+1], b[end+1:], true
}
