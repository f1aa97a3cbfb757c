package gguf

import (
	"fmt"
	"math"
)

// ValueType is the type tag of a metadata value.
type ValueType uint32

// Metadata value types, as numbered by the GGUF specification.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar type, 0 for string and array.
func (t ValueType) fixedSize() uint64 {
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	}
	return 0
}

// minSize is the smallest encoding of one value of the type; the reader uses
// it to reject element counts the remaining bytes cannot possibly hold.
func (t ValueType) minSize() uint64 {
	switch t {
	case ValueString:
		return 8
	case ValueArray:
		return 12
	}
	return t.fixedSize()
}

// Value is one metadata value. Scalars hold the Go type of the same width
// (uint8 ... float64, bool, string). Arrays keep the element type in Elem and
// hold a typed slice ([]uint32, []string, ...) so that a 150k-entry token
// list costs one slice, not 150k boxed values; nested arrays hold []Value.
type Value struct {
	Type ValueType
	Elem ValueType // element type when Type is ValueArray
	V    any
}

// Scalar and array constructors, used mostly by the Writer.

func Uint8(v uint8) Value     { return Value{Type: ValueUint8, V: v} }
func Int8(v int8) Value       { return Value{Type: ValueInt8, V: v} }
func Uint16(v uint16) Value   { return Value{Type: ValueUint16, V: v} }
func Int16(v int16) Value     { return Value{Type: ValueInt16, V: v} }
func Uint32(v uint32) Value   { return Value{Type: ValueUint32, V: v} }
func Int32(v int32) Value     { return Value{Type: ValueInt32, V: v} }
func Float32(v float32) Value { return Value{Type: ValueFloat32, V: v} }
func Bool(v bool) Value       { return Value{Type: ValueBool, V: v} }
func String(v string) Value   { return Value{Type: ValueString, V: v} }
func Uint64(v uint64) Value   { return Value{Type: ValueUint64, V: v} }
func Int64(v int64) Value     { return Value{Type: ValueInt64, V: v} }
func Float64(v float64) Value { return Value{Type: ValueFloat64, V: v} }

// Strings builds an array of strings.
func Strings(v []string) Value { return Value{Type: ValueArray, Elem: ValueString, V: v} }

// Float32s builds an array of float32.
func Float32s(v []float32) Value { return Value{Type: ValueArray, Elem: ValueFloat32, V: v} }

// Int32s builds an array of int32.
func Int32s(v []int32) Value { return Value{Type: ValueArray, Elem: ValueInt32, V: v} }

// Uint32s builds an array of uint32.
func Uint32s(v []uint32) Value { return Value{Type: ValueArray, Elem: ValueUint32, V: v} }

// Arrays builds an array whose elements are themselves arrays.
func Arrays(v []Value) Value { return Value{Type: ValueArray, Elem: ValueArray, V: v} }

// Len is the number of elements of an array value, 0 otherwise.
func (v Value) Len() int {
	switch s := v.V.(type) {
	case []uint8:
		return len(s)
	case []int8:
		return len(s)
	case []uint16:
		return len(s)
	case []int16:
		return len(s)
	case []uint32:
		return len(s)
	case []int32:
		return len(s)
	case []float32:
		return len(s)
	case []bool:
		return len(s)
	case []string:
		return len(s)
	case []uint64:
		return len(s)
	case []int64:
		return len(s)
	case []float64:
		return len(s)
	case []Value:
		return len(s)
	}
	return 0
}

// Int returns an integer scalar (of any width or signedness) as int64.
func (v Value) Int() (int64, bool) {
	switch x := v.V.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Float returns a float or integer scalar as float64.
func (v Value) Float() (float64, bool) {
	switch x := v.V.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	return 0, false
}

// String returns a string scalar.
func (v Value) String() (string, bool) {
	s, ok := v.V.(string)
	return s, ok
}

// Bool returns a bool scalar.
func (v Value) Bool() (bool, bool) {
	b, ok := v.V.(bool)
	return b, ok
}

// Bools returns an array of bools.
func (v Value) Bools() ([]bool, bool) {
	b, ok := v.V.([]bool)
	return b, ok
}

// Strings returns an array of strings.
func (v Value) Strings() ([]string, bool) {
	s, ok := v.V.([]string)
	return s, ok
}

// Float32s returns an array of float32 (float64 arrays are narrowed).
func (v Value) Float32s() ([]float32, bool) {
	switch s := v.V.(type) {
	case []float32:
		return s, true
	case []float64:
		out := make([]float32, len(s))
		for i, x := range s {
			out[i] = float32(x)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns an integer array as int32, failing when a value does not fit.
func (v Value) Int32s() ([]int32, bool) {
	if s, ok := v.V.([]int32); ok {
		return s, true
	}
	n := v.Len()
	if v.Type != ValueArray || v.Elem == ValueArray {
		return nil, false
	}
	out := make([]int32, n)
	for i := range n {
		x, ok := v.index(i).Int()
		if !ok || x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// index returns element i of a scalar array as a Value.
func (v Value) index(i int) Value {
	switch s := v.V.(type) {
	case []uint8:
		return Uint8(s[i])
	case []int8:
		return Int8(s[i])
	case []uint16:
		return Uint16(s[i])
	case []int16:
		return Int16(s[i])
	case []uint32:
		return Uint32(s[i])
	case []int32:
		return Int32(s[i])
	case []float32:
		return Float32(s[i])
	case []bool:
		return Bool(s[i])
	case []string:
		return String(s[i])
	case []uint64:
		return Uint64(s[i])
	case []int64:
		return Int64(s[i])
	case []float64:
		return Float64(s[i])
	case []Value:
		return s[i]
	}
	return Value{}
}

// Format renders the value for humans, eliding long arrays.
func (v Value) Format() string {
	if v.Type != ValueArray {
		if s, ok := v.V.(string); ok {
			if len(s) > 60 {
				s = s[:60] + "..."
			}
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprint(v.V)
	}
	n := v.Len()
	if n > 4 {
		return fmt.Sprintf("[%s × %d]", v.Elem, n)
	}
	s := "["
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += v.index(i).Format()
	}
	return s + "]"
}
