package gguf

import (
	"fmt"
	"math"
)

// Dequantize converts a tensor's encoded bytes to float32, bit for bit as
// ggml's to_float. A type the worker does not support fails with an
// *UnsupportedTypeError, so a file with, say, IQ2_XXS weights can be opened
// and inspected but not run.
func Dequantize(t TensorInfo, data []byte) ([]float32, error) {
	if err := t.CheckSupported(); err != nil {
		return nil, err
	}
	n := t.Elements()
	want, err := tensorBytes(t.Type, n)
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	if uint64(len(data)) != want {
		return nil, fmt.Errorf("tensor %s: %d bytes of data, want %d", t.Name, len(data), want)
	}
	out := make([]float32, n)
	t.Type.row().dequantize(out, data)
	return out, nil
}

// DequantizeInto decodes whole blocks of type t from src into dst, which
// holds as many elements as src has.
func DequantizeInto(t GGMLType, dst []float32, src []byte) error {
	if !t.Supported() {
		return fmt.Errorf("cannot decode %s (supported: %s)", t, SupportedTypeNames())
	}
	want, err := tensorBytes(t, uint64(len(dst)))
	if err != nil {
		return err
	}
	if uint64(len(src)) != want {
		return fmt.Errorf("%d bytes of %s data for %d elements, want %d", len(src), t, len(dst), want)
	}
	t.row().dequantize(dst, src)
	return nil
}

// Quantize encodes values as type t, bit for bit as llama-quantize does
// without an importance matrix (ggml_quantize_chunk). Rows play no part: every
// supported encoder works block by block, so len(values) need only be a whole
// number of blocks.
func Quantize(t GGMLType, values []float32) ([]byte, error) {
	if !t.Quantizable() {
		return nil, fmt.Errorf("cannot encode %s", t)
	}
	size, err := tensorBytes(t, uint64(len(values)))
	if err != nil {
		return nil, err
	}
	out := make([]byte, size)
	t.row().quantize(out, values)
	return out, nil
}

// QuantizeInto is Quantize into dst, which must have exactly the encoded size.
func QuantizeInto(t GGMLType, dst []byte, values []float32) error {
	if !t.Quantizable() {
		return fmt.Errorf("cannot encode %s", t)
	}
	size, err := tensorBytes(t, uint64(len(values)))
	if err != nil {
		return err
	}
	if uint64(len(dst)) != size {
		return fmt.Errorf("%d bytes for %d %s values, want %d", len(dst), len(values), t, size)
	}
	t.row().quantize(dst, values)
	return nil
}

// F16ToF32 converts IEEE half precision bits to float32, exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or nan
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant * 2^-24
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// F32ToF16 converts float32 to half precision, rounding to nearest even.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 // quiet nan
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		// Subnormal: shift the implicit-one mantissa into place and round.
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || rem == half && r&1 == 1 {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && r&1 == 1 {
		r++ // may carry into the exponent, which is the correct result
	}
	return sign | uint16(r)
}

// BF16ToF32 converts bfloat16 bits to float32, exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts float32 to bfloat16, rounding to nearest even as torch does.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet nan
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
