package config

import (
	"os"
	"strconv"
	"strings"
	"unicode"
)

// Environment is where configuration is read from: typed settings
// (Settings) override values set in code (Values), which override the
// process environment, and a variable prefixed with
// the application's name overrides the plain one, as in the Python eventsourcing library. For the
// application "BankAccounts" the prefix is spelt in snake case
// (BANK_ACCOUNTS_POSTGRES_SCHEMA) or, as the Python library spells it, upper-cased
// (BANKACCOUNTS_POSTGRES_SCHEMA); the snake-case spelling wins when both
// are set. The zero value reads the process environment only. It is safe
// for concurrent reads.
type Environment struct {
	// Name is the application's name; it gives the variable prefix.
	Name string
	// Values are set in code and override the process environment.
	Values map[string]string
	// Lookup reads the process environment; nil means os.LookupEnv.
	Lookup func(key string) (string, bool)
	// Settings hold values given as typed options (such as
	// app.Options.Schema), keyed by the variable they stand for
	// (POSTGRES_SCHEMA). They override every spelling of that variable,
	// and errors name them by Setting.Name.
	Settings map[string]Setting
}

// Setting is a value given as a typed option: Name is how errors name it
// (such as "app.Options.Schema").
type Setting struct {
	Name  string
	Value string
}

// Get returns the value of key and whether it is set. It looks, in order,
// in Settings, then for the snake-case prefixed key, the Python library's prefixed key, and the plain
// key, each first in Values and then in the process environment.
func (e Environment) Get(key string) (string, bool) {
	_, v, ok := e.lookup(key)
	return v, ok
}

// Find is Get that also returns the name of the variable found (key
// itself when none is), so that errors name what the user actually set.
func (e Environment) Find(key string) (name, value string, ok bool) { return e.lookup(key) }

// lookup is Find.
func (e Environment) lookup(key string) (name, value string, ok bool) {
	if s, ok := e.Settings[key]; ok {
		return s.Name, s.Value, true
	}
	process := e.Lookup
	if process == nil {
		process = os.LookupEnv
	}
	keys := []string{key}
	if e.Name != "" {
		snake := strings.ToUpper(SnakeCase(e.Name)) + "_" + key // BANK_ACCOUNTS_KEY
		python := strings.ToUpper(e.Name) + "_" + key           // BANKACCOUNTS_KEY, as the Python library spells it
		keys = []string{snake, key}
		if python != snake {
			keys = []string{snake, python, key}
		}
	}
	for _, k := range keys {
		if v, ok := e.Values[k]; ok {
			return k, v, true
		}
		if v, ok := process(k); ok {
			return k, v, true
		}
	}
	return key, "", false
}

// String returns the value of key, or def when key is unset or empty.
func (e Environment) String(key, def string) string {
	if v, ok := e.Get(key); ok && v != "" {
		return v
	}
	return def
}

// Bool returns the value of key parsed by ParseBool, or def when key is
// unset or empty. A bad value gives a *Error naming the variable read.
func (e Environment) Bool(key string, def bool) (bool, error) {
	name, v, ok := e.lookup(key)
	if !ok || v == "" {
		return def, nil
	}
	b, err := ParseBool(v)
	if err != nil {
		return false, &Error{Var: name, Value: v, Reason: "expected a truth value: y, yes, t, true, on, 1, n, no, f, false, off or 0"}
	}
	return b, nil
}

// Int returns the value of key as an integer no less than min, or def when
// key is unset or empty. A bad value gives a *Error naming the
// variable read.
func (e Environment) Int(key string, def, min int) (int, error) {
	name, v, ok := e.lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, &Error{Var: name, Value: v, Reason: "if set, an integer or empty string is expected"}
	}
	if n < min {
		return 0, &Error{Var: name, Value: v, Reason: "must be at least " + strconv.Itoa(min)}
	}
	return n, nil
}

// ParseBool converts a truth value as the Python library's strtobool does: "y",
// "yes", "t", "true", "on" and "1" are true; "n", "no", "f", "false", "off"
// and "0" are false, in any case. Anything else is an error.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes", "t", "true", "on", "1":
		return true, nil
	case "n", "no", "f", "false", "off", "0":
		return false, nil
	}
	return false, &Error{Var: "truth value", Value: s, Reason: "invalid truth value"}
}

// SnakeCase converts an application name such as "BankAccounts" or
// "bank-accounts" to "bank_accounts". It is used for the default schema
// name and the environment variable prefix.
func SnakeCase(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case unicode.IsUpper(r):
			if i > 0 && (unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1]) ||
				(i+1 < len(runes) && unicode.IsLower(runes[i+1]) && unicode.IsUpper(runes[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
