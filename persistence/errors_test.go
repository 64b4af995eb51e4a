package persistence_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestErrorKindHierarchy(t *testing.T) {
	t.Parallel()
	all := map[string]error{
		"ErrPersistence":  persistence.ErrPersistence,
		"ErrConnection":   persistence.ErrConnection,
		"ErrDatabase":     persistence.ErrDatabase,
		"ErrData":         persistence.ErrData,
		"ErrOperational":  persistence.ErrOperational,
		"ErrIntegrity":    persistence.ErrIntegrity,
		"ErrInternal":     persistence.ErrInternal,
		"ErrProgramming":  persistence.ErrProgramming,
		"ErrNotSupported": persistence.ErrNotSupported,
	}
	// ancestors lists, for each kind, the kinds it is (itself included).
	ancestors := map[string][]string{
		"ErrPersistence":  {"ErrPersistence"},
		"ErrConnection":   {"ErrConnection", "ErrPersistence"},
		"ErrDatabase":     {"ErrDatabase", "ErrPersistence"},
		"ErrData":         {"ErrData", "ErrDatabase", "ErrPersistence"},
		"ErrOperational":  {"ErrOperational", "ErrDatabase", "ErrPersistence"},
		"ErrIntegrity":    {"ErrIntegrity", "ErrDatabase", "ErrPersistence"},
		"ErrInternal":     {"ErrInternal", "ErrDatabase", "ErrPersistence"},
		"ErrProgramming":  {"ErrProgramming", "ErrDatabase", "ErrPersistence"},
		"ErrNotSupported": {"ErrNotSupported", "ErrDatabase", "ErrPersistence"},
	}
	for name, kind := range all {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := map[string]bool{}
			for _, a := range ancestors[name] {
				want[a] = true
			}
			for otherName, other := range all {
				require.Equal(t, want[otherName], errors.Is(kind, other),
					"errors.Is(%s, %s)", name, otherName)
				// The same holds through wrapping.
				wrapped := fmt.Errorf("op: %w", kind)
				require.Equal(t, want[otherName], errors.Is(wrapped, other),
					"errors.Is(wrapped %s, %s)", name, otherName)
			}
			require.False(t, errors.Is(kind, config.ErrInvalid))
			require.NotEmpty(t, kind.Error())
		})
	}
}

func TestDatabaseError(t *testing.T) {
	t.Parallel()
	cause := errors.New("relation \"stored_events\" does not exist")
	tests := []struct {
		name     string
		err      *persistence.DatabaseError
		is       []error
		isNot    []error
		contains []string
	}{
		{
			name:     "programming with code",
			err:      &persistence.DatabaseError{Kind: persistence.ErrProgramming, Code: "42P01", Err: cause},
			is:       []error{persistence.ErrProgramming, persistence.ErrDatabase, persistence.ErrPersistence, cause},
			isNot:    []error{persistence.ErrConnection, persistence.ErrIntegrity, config.ErrInvalid},
			contains: []string{"programming error", "42P01", cause.Error()},
		},
		{
			name:     "connection without code",
			err:      &persistence.DatabaseError{Kind: persistence.ErrConnection, Err: cause},
			is:       []error{persistence.ErrConnection, persistence.ErrPersistence, cause},
			isNot:    []error{persistence.ErrDatabase},
			contains: []string{"connection failure", cause.Error()},
		},
		{
			name:     "operational",
			err:      &persistence.DatabaseError{Kind: persistence.ErrOperational, Code: "55P03", Err: cause},
			is:       []error{persistence.ErrOperational, persistence.ErrDatabase, cause},
			isNot:    []error{persistence.ErrData},
			contains: []string{"operational error", "SQLSTATE 55P03", cause.Error()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("insert events: %w", tt.err)
			for _, target := range tt.is {
				require.ErrorIs(t, tt.err, target)
				require.ErrorIs(t, wrapped, target)
			}
			for _, target := range tt.isNot {
				require.NotErrorIs(t, wrapped, target)
			}
			for _, s := range tt.contains {
				require.Contains(t, tt.err.Error(), s)
			}
			var dbErr *persistence.DatabaseError
			require.ErrorAs(t, wrapped, &dbErr)
			require.Equal(t, tt.err.Code, dbErr.Code)
			require.Equal(t, tt.err.Kind, dbErr.Kind)
		})
	}
}

func TestConcurrencyError(t *testing.T) {
	t.Parallel()
	cause := errors.New("duplicate key value violates unique constraint")
	id := uuid.MustParse("7b2c1f0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b")
	tests := []struct {
		name     string
		err      *persistence.ConcurrencyError
		contains []string
	}{
		{"with key", &persistence.ConcurrencyError{OriginatorID: id, Version: 3, Err: cause}, []string{id.String(), "3"}},
		{"without key", &persistence.ConcurrencyError{Err: cause}, []string{"concurrency conflict"}},
		{"without cause", &persistence.ConcurrencyError{OriginatorID: id, Version: 1}, []string{id.String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("insert events: %w", fmt.Errorf("inner: %w", tt.err))
			require.ErrorIs(t, wrapped, persistence.ErrIntegrity)
			require.ErrorIs(t, wrapped, persistence.ErrDatabase)
			require.ErrorIs(t, wrapped, persistence.ErrPersistence)
			require.NotErrorIs(t, wrapped, persistence.ErrConnection)
			require.NotErrorIs(t, wrapped, persistence.ErrOperational)
			if tt.err.Err != nil {
				require.ErrorIs(t, wrapped, tt.err.Err)
			}
			var got *persistence.ConcurrencyError
			require.ErrorAs(t, wrapped, &got)
			require.Same(t, tt.err, got)
			require.Equal(t, tt.err.OriginatorID, got.OriginatorID)
			require.Equal(t, tt.err.Version, got.Version)
			var tcErr *persistence.TrackingConflictError
			require.False(t, errors.As(wrapped, &tcErr))
			for _, s := range tt.contains {
				require.Contains(t, wrapped.Error(), s)
			}
		})
	}
}

func TestTrackingConflictError(t *testing.T) {
	t.Parallel()
	cause := errors.New("duplicate key value violates unique constraint \"tracking_pkey\"")
	tracking := persistence.Tracking{ApplicationName: "upstream", NotificationID: 42}
	tests := []struct {
		name string
		err  *persistence.TrackingConflictError
	}{
		{"with cause", &persistence.TrackingConflictError{Tracking: tracking, Err: cause}},
		{"without cause", &persistence.TrackingConflictError{Tracking: tracking}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("process: %w", tt.err)
			require.ErrorIs(t, wrapped, persistence.ErrIntegrity)
			require.ErrorIs(t, wrapped, persistence.ErrDatabase)
			require.ErrorIs(t, wrapped, persistence.ErrPersistence)
			require.NotErrorIs(t, wrapped, persistence.ErrConnection)
			if tt.err.Err != nil {
				require.ErrorIs(t, wrapped, cause)
			}
			var got *persistence.TrackingConflictError
			require.ErrorAs(t, wrapped, &got)
			require.Equal(t, tracking, got.Tracking)
			var cErr *persistence.ConcurrencyError
			require.False(t, errors.As(wrapped, &cErr))
			require.Contains(t, wrapped.Error(), "42")
			require.Contains(t, wrapped.Error(), `"upstream"`)
		})
	}
}

// The deprecated ErrInterface is ErrConnection itself: errors.Is finds
// either through the other.
func TestErrInterfaceIsErrConnection(t *testing.T) {
	t.Parallel()
	old := persistence.ErrInterface
	require.Same(t, persistence.ErrConnection, old)
	err := fmt.Errorf("record 1 event: %w",
		&persistence.DatabaseError{Kind: persistence.ErrConnection, Err: errors.New("connection refused")})
	require.ErrorIs(t, err, old)
	require.ErrorIs(t, err, persistence.ErrConnection)
	oldKind := &persistence.DatabaseError{Kind: old, Err: errors.New("EOF")}
	require.ErrorIs(t, oldKind, persistence.ErrConnection)
	require.Equal(t, "connection failure: EOF", oldKind.Error())
}

// The predicates over every kind and typed error, bare, wrapped once and
// wrapped twice (the second time in a join, as a rollback error is).
func TestPredicates(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	db := func(kind error, code string) error {
		return &persistence.DatabaseError{Kind: kind, Code: code, Err: cause}
	}
	tests := []struct {
		name                           string
		err                            error
		conflict, retryable, attention bool
	}{
		{name: "nil"},
		{name: "not a persistence error", err: cause},
		{name: "context canceled", err: context.Canceled},
		{name: "deadline exceeded", err: context.DeadlineExceeded},
		{name: "outcome unknown alone", err: persistence.ErrOutcomeUnknown},
		{name: "ErrPersistence", err: persistence.ErrPersistence, retryable: true},
		{name: "ErrConnection", err: db(persistence.ErrConnection, ""), retryable: true},
		{name: "ErrConnection kind", err: persistence.ErrConnection, retryable: true},
		{name: "ErrDatabase", err: db(persistence.ErrDatabase, "P0001"), retryable: true},
		{name: "ErrData", err: db(persistence.ErrData, "22P02")},
		{name: "ErrOperational", err: db(persistence.ErrOperational, "55P03"), retryable: true},
		{name: "ErrOperational login rejected", err: db(persistence.ErrOperational, "28P01"), retryable: true, attention: true},
		{name: "ErrOperational invalid authorization", err: db(persistence.ErrOperational, "28000"), retryable: true, attention: true},
		{name: "ErrIntegrity", err: db(persistence.ErrIntegrity, "23502")},
		{name: "ErrInternal", err: db(persistence.ErrInternal, "XX000"), retryable: true},
		{name: "ErrProgramming undefined table", err: db(persistence.ErrProgramming, "42P01"), retryable: true, attention: true},
		{name: "ErrProgramming no database", err: db(persistence.ErrProgramming, "3D000"), retryable: true, attention: true},
		{name: "ErrProgramming kind", err: persistence.ErrProgramming, retryable: true, attention: true},
		{name: "ErrNotSupported", err: db(persistence.ErrNotSupported, "0A000")},
		{name: "ConcurrencyError", err: &persistence.ConcurrencyError{OriginatorID: uuid.New(), Version: 2, Err: cause}, conflict: true},
		{name: "ConcurrencyError without cause", err: &persistence.ConcurrencyError{}, conflict: true},
		{name: "TrackingConflictError", err: &persistence.TrackingConflictError{Tracking: persistence.Tracking{ApplicationName: "up", NotificationID: 1}}, conflict: true},
		{name: "outcome unknown after a connection failure", err: fmt.Errorf("%w: %w", persistence.ErrOutcomeUnknown, db(persistence.ErrConnection, "")), retryable: true},
		{name: "outcome unknown with the context", err: fmt.Errorf("%w: %w", persistence.ErrOutcomeUnknown, context.DeadlineExceeded)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, wrap := range []struct {
				name string
				err  error
			}{
				{"bare", tt.err},
				{"wrapped", fmt.Errorf("record 1 event: %w", tt.err)},
				{"wrapped twice", fmt.Errorf("save: %w", errors.Join(fmt.Errorf("record 1 event: %w", tt.err), errors.New("rollback: conn busy")))},
			} {
				if tt.err == nil && wrap.name != "bare" {
					continue
				}
				require.Equal(t, tt.conflict, persistence.IsConflict(wrap.err), "IsConflict, %s: %v", wrap.name, wrap.err)
				require.Equal(t, tt.retryable, persistence.IsRetryable(wrap.err), "IsRetryable, %s: %v", wrap.name, wrap.err)
				require.Equal(t, tt.attention, persistence.NeedsAttention(wrap.err), "NeedsAttention, %s: %v", wrap.name, wrap.err)
			}
		})
	}
}
