package codec

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

type plainInner struct {
	X int64 `json:"x"`
	S string
}

type plainLabel string

// plainAll has a field of every kind the plain decoder takes.
type plainAll struct {
	S       string     `json:"s"`
	B       bool       `json:"b"`
	I       int        `json:"i"`
	I8      int8       `json:"i8"`
	U16     uint16     `json:"u16"`
	U       uint64     // no tag: the field's name
	F32     float32    `json:"f32"`
	F       float64    `json:"f,omitempty"`
	Inner   plainInner `json:"inner"`
	At      time.Time  `json:"at"`
	ID      uuid.UUID  `json:"id"`
	Label   plainLabel `json:"label"`
	Skipped string     `json:"-"`
	//lint:ignore SA5008 "-," names the field "-", as encoding/json documents: the decoders must agree on it
	Dash       string `json:"-,"`
	unexported int
}

// samePlainAll compares two decoded values, their times by instant and
// zone name (two decodes of one offset give two *time.Location).
func samePlainAll(a, b plainAll) bool {
	if !a.At.Equal(b.At) || a.At.Location().String() != b.At.Location().String() {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

var plainAllValue = plainAll{
	S: "changed by the benchmark é", B: true, I: -42, I8: -128, U16: 65535, U: 1 << 63, F32: 1.5, F: -2.25e-7,
	Inner: plainInner{X: 7, S: "inner"},
	At:    time.Date(2026, 12, 3, 9, 30, 0, 123456789, time.FixedZone("", 3600)),
	ID:    uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), Label: "gold", Dash: "dash",
}

// The plain decoder must agree with encoding/json wherever it decodes:
// the same value, and only where encoding/json decodes without error.
func FuzzPlainDecoder(f *testing.F) {
	dec := newPlainDecoder(reflect.TypeFor[plainAll]())
	if dec == nil {
		f.Fatal("plainAll is not plain")
	}
	written, err := json.Marshal(plainAllValue)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(written)
	spaced, err := json.MarshalIndent(plainAllValue, "", "\t")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(spaced)
	for _, seed := range []string{
		`{}`, `{"s":"a","s":"b"}`, `{"S":"a"}`, `{"i":1.0}`, `{"i":1e2}`, `{"i8":128}`, `{"u16":-0}`,
		`{"f32":3.5e38}`, `{"f":-0.0}`, `{"i":01}`, `{"i":-}`, `{"b":tru}`, `{"b":null}`, `{"s":"a\"b"}`,
		`{"s":"\u00e9"}`, `{"inner":{"x":1,"S":"s"}}`, `{"inner":{}}`, `{"at":"2026-12-03T09:30:00Z"}`,
		`{"at":"2026-13-03T09:30:00Z"}`, `{"id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`, `{"id":"x"}`,
		`{"label":"x"}`, `{"-":"dash"}`, `{"Skipped":"x"}`, `{"s":"a"} x`, `{"s":"a",}`, `{"unexported":1}`,
		" {\"s\" : \"a\" ,\n\"i\":2 } ", `{"s":"a"}{}`, `[]`, `null`, `{"i":9223372036854775808}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var plain plainAll
		if !dec.decode(data, reflect.ValueOf(&plain).Elem()) {
			return
		}
		var full plainAll
		if err := json.Unmarshal(data, &full); err != nil {
			t.Fatalf("decoded %q, but encoding/json refuses it: %v", data, err)
		}
		if !samePlainAll(plain, full) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", data, plain, full)
		}
	})
}

// What encoding/json writes for a plain struct, compact or indented, the
// plain decoder decodes: the fast path is the path of the library's own
// states.
func TestPlainDecoderTakesWhatEncodingJSONWrites(t *testing.T) {
	t.Parallel()
	dec := newPlainDecoder(reflect.TypeFor[plainAll]())
	for _, marshal := range []func(any) ([]byte, error){json.Marshal, func(v any) ([]byte, error) { return json.MarshalIndent(v, " ", "  ") }} {
		for _, v := range []plainAll{plainAllValue, {}} {
			data, err := marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var got plainAll
			if !dec.decode(data, reflect.ValueOf(&got).Elem()) {
				t.Fatalf("the plain decoder refuses %s", data)
			}
			v.Skipped, v.unexported = "", 0
			if !samePlainAll(got, v) {
				t.Errorf("decoded %+v from %s, want %+v", got, data, v)
			}
		}
	}
}

// Inputs that encoding/json decodes differently from a plain reading, or
// refuses, are left to it.
func TestPlainDecoderLeavesTheRestToEncodingJSON(t *testing.T) {
	t.Parallel()
	dec := newPlainDecoder(reflect.TypeFor[plainAll]())
	for _, data := range []string{
		`{"S":"a"}`,             // another case: encoding/json matches it, folded
		`{"other":1}`,           // an unknown key: encoding/json skips its value
		`{"s":"a\nb"}`,          // an escape
		`{"s":null}`,            // null leaves a field as it was
		`{"s":1}`,               // a type error
		`{"i":1.5}`,             // not an integer
		`{"i8":128}`,            // out of range
		`{"u16":-1}`,            // negative
		`{"f32":1e39}`,          // out of float32's range
		`{"inner":[]}`,          // an array
		`{"id":"not a uuid"}`,   // the field's decoder refuses it
		`{"at":"yesterday"}`,    // the field's decoder refuses it
		`{"s":"a"} {"s":"b"}`,   // trailing data
		`{"s":"a",}`,            // not JSON
		"{\"s\":\"\xff\"}",      // invalid UTF-8, which encoding/json replaces
		`{"\u0073":"escaped"}`,  // an escaped key
		`{"Skipped":"ignored"}`, // a key of a field encoding/json ignores
	} {
		var got plainAll
		if dec.decode([]byte(data), reflect.ValueOf(&got).Elem()) {
			t.Errorf("the plain decoder took %s (into %+v)", data, got)
		}
	}
}

func TestPlainDecoderTypes(t *testing.T) {
	t.Parallel()
	type embedded struct{ plainInner }
	type pointer struct{ P *int }
	type slice struct{ S []string }
	type mapped struct{ M map[string]int }
	type iface struct{ V any }
	type quoted struct {
		N int `json:"n,string"`
	}
	type dotted struct {
		N int `json:"a.b"`
	}
	type folded struct {
		A int `json:"name"`
		B int `json:"Name"`
	}
	type nestedSlice struct{ Inner slice }
	type number struct{ N json.Number }
	type unnamedTime struct{ At struct{ time.Time } } // encoding/json decodes the inner struct's fields, not a time
	for _, typ := range []reflect.Type{
		reflect.TypeFor[embedded](), reflect.TypeFor[pointer](), reflect.TypeFor[slice](), reflect.TypeFor[mapped](),
		reflect.TypeFor[iface](), reflect.TypeFor[quoted](), reflect.TypeFor[dotted](), reflect.TypeFor[folded](),
		reflect.TypeFor[nestedSlice](), reflect.TypeFor[number](), reflect.TypeFor[unnamedTime](),
		reflect.TypeFor[time.Time](), reflect.TypeFor[uuid.UUID](), reflect.TypeFor[int](),
	} {
		if newPlainDecoder(typ) != nil {
			t.Errorf("%v: got a plain decoder, want none", typ)
		}
	}
	type empty struct{}
	for _, typ := range []reflect.Type{reflect.TypeFor[plainAll](), reflect.TypeFor[plainInner](), reflect.TypeFor[empty]()} {
		if newPlainDecoder(typ) == nil {
			t.Errorf("%v: no plain decoder", typ)
		}
	}
}

// BenchmarkPlainDecoder decodes the data of a small event, as the library
// writes it, with the plain decoder and with encoding/json: one operation
// is one event.
func BenchmarkPlainDecoder(b *testing.B) {
	type changed struct {
		Amount int       `json:"amount"`
		Note   string    `json:"note"`
		At     time.Time `json:"at"`
		ID     uuid.UUID `json:"id"`
	}
	data, err := json.Marshal(changed{Amount: 42, Note: "changed by the benchmark", At: time.Now().UTC(), ID: uuid.New()})
	if err != nil {
		b.Fatal(err)
	}
	dec := newPlainDecoder(reflect.TypeFor[changed]())
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v changed
			if !dec.decode(data, reflect.ValueOf(&v).Elem()) {
				b.Fatalf("the plain decoder refuses %s", data)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v changed
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
