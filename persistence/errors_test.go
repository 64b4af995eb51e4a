package persistence_test

import (
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
		"ErrInterface":    persistence.ErrInterface,
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
		"ErrInterface":    {"ErrInterface", "ErrPersistence"},
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
			isNot:    []error{persistence.ErrInterface, persistence.ErrIntegrity, config.ErrInvalid},
			contains: []string{"programming error", "42P01", cause.Error()},
		},
		{
			name:     "interface without code",
			err:      &persistence.DatabaseError{Kind: persistence.ErrInterface, Err: cause},
			is:       []error{persistence.ErrInterface, persistence.ErrPersistence, cause},
			isNot:    []error{persistence.ErrDatabase},
			contains: []string{"interface error", cause.Error()},
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
			require.NotErrorIs(t, wrapped, persistence.ErrInterface)
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
			require.NotErrorIs(t, wrapped, persistence.ErrInterface)
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
