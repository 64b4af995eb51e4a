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
	if !found {
		return
	}
	if ts, found = parseUTC(quoted); !found && ts.UnmarshalJSON(quoted) != nil {
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
	ascii := true
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			if !ascii && !utf8.Valid(b[1:i]) {
				return nil, nil, false
			}
			return b[:i+1], b[i+1:], true
		case c < 0x20 || c == '\\':
			return nil, nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, nil, false
}

// parseUTC parses a quoted time in the form encoding/json writes a UTC
// time.Time, "2006-01-02T15:04:05.999999999Z", the form of every timestamp
// the library records: the same result as time.Time's UnmarshalJSON, by
// hand. ok is false for any other form or an out-of-range field, which
// UnmarshalJSON then reads or refuses.
func parseUTC(quoted []byte) (t time.Time, ok bool) {
	b := quoted
	if len(b) < len(`"2006-01-02T15:04:05Z"`) || b[0] != '"' || b[len(b)-1] != '"' || b[len(b)-2] != 'Z' ||
		b[5] != '-' || b[8] != '-' || b[11] != 'T' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(b[1:5]), num(b[6:8]), num(b[9:11])
	hour, minute, sec := num(b[12:14]), num(b[15:17]), num(b[18:20])
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[20 : len(b)-2]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		if nsec = num(frac[1:]); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // the 31st of a 30-day month, the 29th of February of a common year
		return time.Time{}, false
	}
	return t, true
}
