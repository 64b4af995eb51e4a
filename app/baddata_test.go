package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// TestApplicationRefusesBadData shows, through both stores, that an event
// with invalid UTF-8 is refused at save and nothing is recorded, and that
// a stored state that inflates past the configured limit, or that has no
// data, is an error when read, never a zero or truncated event.
func TestApplicationRefusesBadData(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		const limit = 2000
		a := newApp(app.Options{Env: map[string]string{
			app.EnvCompressorTopic:               "zlib",
			app.EnvCompressorMaxDecompressedSize: "2000",
		}})
		repo := app.NewRepository[World](a)

		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "caf\xe9"})
		require.NoError(t, err)
		_, err = a.Save(ctx, w)
		require.ErrorIs(t, err, codec.ErrInvalidUTF8)
		_, err = repo.Get(ctx, w.ID())
		require.ErrorIs(t, err, app.ErrAggregateNotFound, "nothing was recorded")

		// Written by a compressor with a higher limit, or by an attacker.
		big, err := codec.ZlibCompressor{}.Compress([]byte(
			`{"timestamp":"2026-01-01T00:00:00Z","data":{"Name":"` + strings.Repeat("x", limit) + `"}}`))
		require.NoError(t, err)
		missing, err := codec.ZlibCompressor{}.Compress([]byte(`{"timestamp":"2026-01-01T00:00:00Z"}`))
		require.NoError(t, err)
		for state, want := range map[string]error{string(big): codec.ErrCompressedData, string(missing): codec.ErrDecode} {
			id := uuid.New()
			require.NoError(t, a.Recorder().InsertEvents(ctx, []persistence.StoredEvent{
				{OriginatorID: id, OriginatorVersion: 1, Topic: "test:World.Created", State: []byte(state)},
			}))
			got, err := repo.Get(ctx, id)
			require.ErrorIs(t, err, want)
			require.Nil(t, got)
		}
	})
}

// TestApplicationDecompressionLimitConfig shows that a bad
// COMPRESSOR_MAX_DECOMPRESSED_SIZE stops the application from starting,
// naming the variable as set.
func TestApplicationDecompressionLimitConfig(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, Env: map[string]string{
		"PERSISTENCE_MODULE": "memory", "COMPRESSOR_TOPIC": "zlib", "WORLDS_COMPRESSOR_MAX_DECOMPRESSED_SIZE": "64MiB",
	}})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "WORLDS_COMPRESSOR_MAX_DECOMPRESSED_SIZE", cfgErr.Var)
}
