package codec_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/codec"
)

type regA struct{ N int }
type regB struct{ S string }

// Register panics on the programming errors its doc comment lists, with a
// message that names the codec, the topic and the type.
func TestRegisterPanicsOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		register func(r *codec.Registry)
		want     string
	}{
		{"empty topic", func(r *codec.Registry) { r.Register("", regA{}) },
			"codec: Register needs a topic and an example value"},
		{"no example", func(r *codec.Registry) { r.Register("a", nil) },
			"codec: Register needs a topic and an example value"},
		{"type twice", func(r *codec.Registry) { r.Register("a", regA{}); r.Register("b", regA{}) },
			`codec: type codec_test.regA is already registered as "a"`},
		{"type twice, once by pointer", func(r *codec.Registry) { r.Register("a", &regA{}); r.Register("b", regA{}) },
			`codec: type codec_test.regA is already registered as "a"`},
		{"topic twice", func(r *codec.Registry) { r.Register("a", regA{}); r.Register("a", regB{}) },
			`codec: topic "a" is already registered for codec_test.regA`},
		{"alias taken by a topic", func(r *codec.Registry) { r.Register("a", regA{}); r.Register("b", regB{}, codec.Aliases("a")) },
			`codec: topic "a" is already registered for codec_test.regA`},
		{"topic taken by an alias", func(r *codec.Registry) { r.Register("a", regA{}, codec.Aliases("old")); r.Register("old", regB{}) },
			`codec: topic "old" is already registered for codec_test.regA`},
		{"version 0", func(r *codec.Registry) { r.Register("a", regA{}, codec.Version(0)) },
			`codec: Register "a": version 0: versions start at 1`},
		{"upcaster without a function", func(r *codec.Registry) { r.Register("a", regA{}, codec.Upcast(1, nil)) },
			`codec: Register "a": upcaster from version 1: a version of at least 1 and a function are expected`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.PanicsWithValue(t, tt.want, func() { tt.register(codec.NewRegistry()) })
		})
	}
}
