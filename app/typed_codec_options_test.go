package app_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// Options.Cipher and Options.Compressor are the ones the stored state
// goes through (compressed, then encrypted); the typed Cipher wins over a
// CIPHER_KEY in the environment.
func TestTypedCipherAndCompressor(t *testing.T) {
	t.Parallel()
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(key)
	require.NoError(t, err)
	cipher, err := codec.NewAESCipher(raw)
	require.NoError(t, err)
	otherKey, err := codec.CreateAESKey(16)
	require.NoError(t, err)
	compressor := codec.ZlibCompressor{}
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{Cipher: cipher, Compressor: compressor, Env: map[string]string{"CIPHER_KEY": otherKey}})
		w := createWorld(t, a, "dinosaurs")
		s, err := a.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		require.Len(t, s.Items, 2)
		stored := s.Items[1].State
		require.False(t, json.Valid(stored), "the stored state is not readable as JSON")
		require.NotContains(t, string(stored), "dinosaurs")

		compressed, err := cipher.Decrypt(stored)
		require.NoError(t, err, "encrypted by Options.Cipher")
		require.False(t, json.Valid(compressed), "compressed before it was encrypted")
		plain, err := compressor.Decompress(compressed)
		require.NoError(t, err, "compressed by Options.Compressor")
		var state struct{ Data SomethingHappened }
		require.NoError(t, json.Unmarshal(plain, &state))
		require.Equal(t, SomethingHappened{What: "dinosaurs"}, state.Data)

		got, err := app.NewRepository[World](a).Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs"}, got.History, "read back through the same options")
	})
}
