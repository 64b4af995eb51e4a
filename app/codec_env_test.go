package app

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
)

// fakeEnv returns an Environment that reads only values, never the process
// environment.
func fakeEnv(values map[string]string) config.Environment {
	return config.Environment{
		Values: values,
		Lookup: func(string) (string, bool) { return "", false },
	}
}

func TestCipherFromEnv(t *testing.T) {
	t.Parallel()
	key32, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	key15 := base64.StdEncoding.EncodeToString([]byte("fifteen bytes!!"))
	badBase64 := "not base64 secret!!"

	t.Run("unset", func(t *testing.T) {
		t.Parallel()
		for _, values := range []map[string]string{
			nil,
			{EnvCipherTopic: "", EnvCipherKey: ""},
		} {
			c, err := cipherFromEnv(fakeEnv(values))
			require.NoError(t, err)
			require.Nil(t, c)
		}
	})

	t.Run("key selects AES", func(t *testing.T) {
		t.Parallel()
		c, err := cipherFromEnv(fakeEnv(map[string]string{EnvCipherKey: key32}))
		require.NoError(t, err)
		require.IsType(t, &codec.AESCipher{}, c)
	})

	t.Run("topics", func(t *testing.T) {
		t.Parallel()
		for _, topic := range []string{"aes", "AES", "Aes", "AESCipher", "eventsourcing.cipher:AESCipher"} {
			c, err := cipherFromEnv(fakeEnv(map[string]string{
				EnvCipherTopic: topic, EnvCipherKey: key32,
			}))
			require.NoError(t, err, topic)
			require.IsType(t, &codec.AESCipher{}, c, topic)
		}
	})

	t.Run("same key decrypts", func(t *testing.T) {
		t.Parallel()
		env := fakeEnv(map[string]string{EnvCipherKey: key32})
		c1, err := cipherFromEnv(env)
		require.NoError(t, err)
		c2, err := cipherFromEnv(env)
		require.NoError(t, err)
		ct, err := c1.Encrypt([]byte("state"))
		require.NoError(t, err)
		got, err := c2.Decrypt(ct)
		require.NoError(t, err)
		require.Equal(t, "state", string(got))
	})

	t.Run("prefixed variables", func(t *testing.T) {
		t.Parallel()
		env := fakeEnv(map[string]string{"BANK_ACCOUNTS_CIPHER_TOPIC": "aes"})
		env.Name = "BankAccounts"
		_, err := cipherFromEnv(env)
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr)
		require.Equal(t, EnvCipherKey, cfgErr.Var)
		require.Contains(t, cfgErr.Reason, "BANK_ACCOUNTS_CIPHER_TOPIC")
	})

	errCases := []struct {
		name    string
		values  map[string]string
		wantVar string
		want    string
		secret  string
	}{
		{
			name:    "unknown topic",
			values:  map[string]string{EnvCipherTopic: "eventsourcing.cipher:DESCipher", EnvCipherKey: key32},
			wantVar: EnvCipherTopic,
			want:    "unknown cipher",
			secret:  key32,
		},
		{
			name:    "topic without key",
			values:  map[string]string{EnvCipherTopic: "aes"},
			wantVar: EnvCipherKey,
			want:    "not set, although CIPHER_TOPIC was set",
		},
		{
			name:    "bad base64",
			values:  map[string]string{EnvCipherKey: badBase64},
			wantVar: EnvCipherKey,
			want:    "base64",
			secret:  badBase64,
		},
		{
			name:    "bad size",
			values:  map[string]string{EnvCipherTopic: "AESCipher", EnvCipherKey: key15},
			wantVar: EnvCipherKey,
			want:    "invalid key size: 15 not in (16, 24, 32)",
			secret:  key15,
		},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := cipherFromEnv(fakeEnv(tt.values))
			require.Error(t, err)
			require.Nil(t, c)
			require.ErrorIs(t, err, config.ErrInvalid)
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, tt.wantVar, cfgErr.Var)
			require.Contains(t, err.Error(), tt.want)
			if tt.secret != "" {
				require.NotContains(t, err.Error(), tt.secret)
				require.NotContains(t, cfgErr.Value, tt.secret)
			}
		})
	}
}

func TestCompressorFromEnv(t *testing.T) {
	t.Parallel()
	for _, values := range []map[string]string{nil, {EnvCompressorTopic: ""}} {
		c, err := compressorFromEnv(fakeEnv(values))
		require.NoError(t, err)
		require.Nil(t, c)
	}
	for _, topic := range []string{"zlib", "ZLIB", "ZlibCompressor", "eventsourcing.compressor:ZlibCompressor"} {
		c, err := compressorFromEnv(fakeEnv(map[string]string{EnvCompressorTopic: topic}))
		require.NoError(t, err, topic)
		require.IsType(t, codec.ZlibCompressor{}, c, topic)
	}
	for _, topic := range []string{"gzip", "eventsourcing.compressor:Bz2Compressor", "zlibcompressor"} {
		c, err := compressorFromEnv(fakeEnv(map[string]string{EnvCompressorTopic: topic}))
		require.Error(t, err, topic)
		require.Nil(t, c)
		require.ErrorIs(t, err, config.ErrInvalid)
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr)
		require.Equal(t, EnvCompressorTopic, cfgErr.Var)
		require.Equal(t, topic, cfgErr.Value)
	}
}

func TestCompressorFromEnvMaxDecompressedSize(t *testing.T) {
	t.Parallel()
	zlibWith := func(size string) map[string]string {
		return map[string]string{EnvCompressorTopic: "zlib", EnvCompressorMaxDecompressedSize: size}
	}
	c, err := compressorFromEnv(fakeEnv(zlibWith("")))
	require.NoError(t, err)
	require.Equal(t, codec.ZlibCompressor{}, c, "unset or empty: the default")
	c, err = compressorFromEnv(fakeEnv(zlibWith("1048576")))
	require.NoError(t, err)
	require.Equal(t, codec.ZlibCompressor{MaxDecompressedSize: 1 << 20}, c)

	for _, bad := range []string{"lots", "64MiB", "0", "-1"} {
		c, err := compressorFromEnv(fakeEnv(zlibWith(bad)))
		require.Nil(t, c, bad)
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, bad)
		require.ErrorIs(t, err, config.ErrInvalid)
		require.Equal(t, EnvCompressorMaxDecompressedSize, cfgErr.Var)
		require.Equal(t, bad, cfgErr.Value)
	}
}
