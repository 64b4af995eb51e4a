package codec

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// plainDecoder decodes the JSON object of an event's data straight into a
// struct of plain fields, the common case, in one pass over the bytes
// (encoding/json checks the whole input, then walks it again through
// reflection). It takes only what encoding/json would decode without
// error into the same value: exact keys of the struct's fields, compact
// or spaced; strings without escapes; numbers the field's type holds;
// true and false; nested structs of the same kind; and fields whose type
// decodes itself (time.Time, uuid.UUID) from a string or number. Anything
// else (an unknown or differently cased key, an escape, null, an array, a
// number out of range, a value its decoder refuses) makes decode return
// false, and the caller decodes with encoding/json, which gives the
// result or the error: decode may have filled part of the value by then,
// so the caller starts again from a zero value.
type plainDecoder struct {
	fields []plainField
	byName map[string]int // index in fields
}

type plainKind uint8

const (
	kindString plainKind = iota
	kindBool
	kindInt
	kindUint
	kindFloat
	kindStruct
	kindText // *T is an encoding.TextUnmarshaler: a JSON string
	kindJSON // *T is a json.Unmarshaler: a JSON string or number
)

type plainField struct {
	name  string
	index int
	kind  plainKind
	sub   *plainDecoder // of a kindStruct
}

// newPlainDecoder returns the decoder of struct type t, or nil when a
// field or the type itself is of a kind it does not take: embedded
// fields, pointers, interfaces, slices, maps, arrays, json.Number, the
// `string` tag option, tag names other than ASCII letters, digits, '_'
// and '-', two names equal but for case, or a struct that decodes itself.
func newPlainDecoder(t reflect.Type) *plainDecoder {
	if t.Kind() != reflect.Struct || decodesItself(t) {
		return nil
	}
	d := &plainDecoder{byName: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		for opt := range strings.SplitSeq(opts, ",") {
			if opt == "string" {
				return nil
			}
		}
		if name == "" {
			name = sf.Name
		} else if !plainName(name) {
			return nil
		}
		for _, f := range d.fields {
			if strings.EqualFold(f.name, name) {
				return nil
			}
		}
		f := plainField{name: name, index: i}
		switch ft := sf.Type; {
		case ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Interface || ft == jsonNumberType:
			return nil
		// encoding/json looks for the decoding methods of a field's type
		// only when the type has a name (an unnamed struct type's methods
		// come from its embedded fields, which it decodes instead).
		case ft.Name() != "" && reflect.PointerTo(ft).Implements(jsonUnmarshalerType):
			f.kind = kindJSON
		case ft.Name() != "" && reflect.PointerTo(ft).Implements(textUnmarshalerType):
			f.kind = kindText
		default:
			switch ft.Kind() {
			case reflect.String:
				f.kind = kindString
			case reflect.Bool:
				f.kind = kindBool
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				f.kind = kindInt
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				f.kind = kindUint
			case reflect.Float32, reflect.Float64:
				f.kind = kindFloat
			case reflect.Struct:
				if f.sub = newPlainDecoder(ft); f.sub == nil {
					return nil
				}
				f.kind = kindStruct
			default:
				return nil
			}
		}
		d.byName[name] = len(d.fields)
		d.fields = append(d.fields, f)
	}
	return d
}

// jsonNumberType is json.Number, a string that encoding/json fills from a
// number, or from a string only if it holds a valid number.
var jsonNumberType = reflect.TypeFor[json.Number]()

// decodesItself reports whether encoding/json hands values of type t to
// their own decoding method.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(jsonUnmarshalerType) || p.Implements(textUnmarshalerType)
}

// plainName reports whether a tag name is of the characters the plain
// decoder takes.
func plainName(name string) bool {
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// decode fills v, an addressable struct value of the decoder's type, from
// data, and reports whether it could (see plainDecoder).
func (d *plainDecoder) decode(data []byte, v reflect.Value) bool {
	s := jsonScan{b: data}
	if !d.object(&s, v) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// object decodes the object at s into v.
func (d *plainDecoder) object(s *jsonScan, v reflect.Value) bool {
	s.space()
	if !s.consume('{') {
		return false
	}
	s.space()
	if s.consume('}') {
		return true
	}
	next := 0 // the field after the last one decoded: keys usually come in field order
	for {
		s.space()
		key, ok := s.plainString()
		if !ok {
			return false
		}
		s.space()
		if !s.consume(':') {
			return false
		}
		s.space()
		i := next
		if i >= len(d.fields) || d.fields[i].name != string(key) {
			if i, ok = d.byName[string(key)]; !ok {
				return false
			}
		}
		next = i + 1
		if !d.fields[i].value(s, v.Field(d.fields[i].index)) {
			return false
		}
		s.space()
		if !s.consume(',') {
			return s.consume('}')
		}
	}
}

// value decodes the value at s into the field's value v.
func (f *plainField) value(s *jsonScan, v reflect.Value) bool {
	switch f.kind {
	case kindString:
		str, ok := s.plainString()
		if ok {
			v.SetString(string(str))
		}
		return ok
	case kindBool:
		switch {
		case s.literal("true"):
			v.SetBool(true)
		case s.literal("false"):
			v.SetBool(false)
		default:
			return false
		}
		return true
	case kindInt, kindUint, kindFloat:
		num, ok := s.number()
		return ok && setNumber(v, f.kind, string(num))
	case kindStruct:
		return f.sub.object(s, v)
	case kindText:
		str, ok := s.plainString()
		return ok && v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(str) == nil
	case kindJSON:
		start := s.i
		if _, ok := s.plainString(); !ok {
			if _, ok := s.number(); !ok {
				return false
			}
		}
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(s.b[start:s.i]) == nil
	}
	return false
}

// setNumber sets v, a field of kind kindInt, kindUint or kindFloat, to
// the JSON number num, parsed as encoding/json parses it, and reports
// whether v's type holds it.
func setNumber(v reflect.Value, kind plainKind, num string) bool {
	switch kind {
	case kindInt:
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
	case kindUint:
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
	default:
		n, err := strconv.ParseFloat(num, v.Type().Bits())
		if err != nil || v.OverflowFloat(n) {
			return false
		}
		v.SetFloat(n)
	}
	return true
}

// jsonScan reads JSON tokens from b, at i.
type jsonScan struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *jsonScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips c if it is next.
func (s *jsonScan) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// literal skips word if it is next.
func (s *jsonScan) literal(word string) bool {
	if strings.HasPrefix(string(s.b[s.i:]), word) {
		s.i += len(word)
		return true
	}
	return false
}

// plainString returns the value of the string next, when it is plain (see
// plainString the function), and skips it.
func (s *jsonScan) plainString() ([]byte, bool) {
	quoted, _, ok := plainString(s.b[s.i:])
	if !ok {
		return nil, false
	}
	s.i += len(quoted)
	return quoted[1 : len(quoted)-1], true
}

// number returns the JSON number next, by the JSON grammar, and skips it.
// What follows it is the caller's to check.
func (s *jsonScan) number() ([]byte, bool) {
	b, i := s.b, s.i
	digits := func() int {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	num := b[s.i:i]
	s.i = i
	return num, true
}
