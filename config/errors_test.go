package config_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
)

func TestConfigError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *config.Error
	}{
		{"pool size", &config.Error{Var: "POSTGRES_POOL_SIZE", Value: "zero", Reason: "an integer is expected"}},
		{"empty value", &config.Error{Var: "POSTGRES_HOST", Value: "", Reason: "required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("open: %w", tt.err)
			require.ErrorIs(t, wrapped, config.ErrInvalid)
			var got *config.Error
			require.ErrorAs(t, wrapped, &got)
			require.Equal(t, tt.err.Var, got.Var)
			msg := tt.err.Error()
			require.Contains(t, msg, tt.err.Var)
			require.Contains(t, msg, fmt.Sprintf("%q", tt.err.Value))
			require.Contains(t, msg, tt.err.Reason)
		})
	}
}
