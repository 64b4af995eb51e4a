package config

import (
	"errors"
	"fmt"
)

// ErrInvalid is the root of configuration errors; see Error.
var ErrInvalid = errors.New("invalid configuration")

// Error is returned for a bad configuration value. Var names the
// environment variable (or setting) and Value the rejected value.
type Error struct {
	Var    string
	Value  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid value %q for %s: %s", e.Value, e.Var, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }
