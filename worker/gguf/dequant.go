package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Dequantize converts a tensor's encoded bytes to float32. Types without a
// decoder fail with "unsupported tensor type X in tensor Y", so a file with,
// say, Q4_K weights can be opened and inspected but not run.
func Dequantize(t TensorInfo, data []byte) ([]float32, error) {
	if !t.Type.Dequantizable() {
		return nil, fmt.Errorf("unsupported tensor type %s in tensor %s", t.Type, t.Name)
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
	switch t.Type {
	case TypeF32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case TypeF16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case TypeBF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case TypeQ8_0:
		dequantizeQ8_0(data, out)
	}
	return out, nil
}

// Q8_0 block: an fp16 scale d followed by 32 int8 quants; x = d * q.
const q8_0Block = 32

func dequantizeQ8_0(data []byte, out []float32) {
	for b := 0; b < len(out)/q8_0Block; b++ {
		blk := data[b*34 : b*34+34]
		d := F16ToF32(binary.LittleEndian.Uint16(blk))
		for j := range q8_0Block {
			out[b*q8_0Block+j] = d * float32(int8(blk[2+j]))
		}
	}
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

// EncodeF32 encodes values as little-endian F32 tensor data.
func EncodeF32(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// EncodeF16 encodes values as F16 tensor data.
func EncodeF16(v []float32) []byte {
	out := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(out[2*i:], F32ToF16(x))
	}
	return out
}

// EncodeBF16 encodes values as BF16 tensor data.
func EncodeBF16(v []float32) []byte {
	out := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(out[2*i:], F32ToBF16(x))
	}
	return out
}

// QuantizeQ8_0 encodes values as Q8_0 the way ggml's reference quantizer
// does: per block of 32, d = max|x|/127 and q = round(x/d).
func QuantizeQ8_0(v []float32) ([]byte, error) {
	if len(v)%q8_0Block != 0 {
		return nil, fmt.Errorf("Q8_0 needs a multiple of %d values, got %d", q8_0Block, len(v))
	}
	out := make([]byte, len(v)/q8_0Block*34)
	for b := 0; b < len(v)/q8_0Block; b++ {
		blk := v[b*q8_0Block : (b+1)*q8_0Block]
		var amax float32
		for _, x := range blk {
			amax = max(amax, float32(math.Abs(float64(x))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		o := out[b*34:]
		binary.LittleEndian.PutUint16(o, F32ToF16(d))
		for j, x := range blk {
			o[2+j] = byte(int8(math.Round(float64(x * id))))
		}
	}
	return out, nil
}
