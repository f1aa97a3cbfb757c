package gguf

import (
	"encoding/binary"
	"math"
	"sync"
)

// F32, F16 and BF16 are one-element blocks: their rows in the type table
// convert exactly, and their dot products convert on the fly, so a 16-bit
// matrix stays 16-bit in memory.

func dequantF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func quantF32(dst []byte, src []float32) {
	for i, x := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(x))
	}
}

func dotF32(row []byte, x, _ []float32) float32 {
	row = row[:4*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		b := row[4*i : 4*i+16]
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(b[0:])) * x[i]
		s1 += math.Float32frombits(binary.LittleEndian.Uint32(b[4:])) * x[i+1]
		s2 += math.Float32frombits(binary.LittleEndian.Uint32(b[8:])) * x[i+2]
		s3 += math.Float32frombits(binary.LittleEndian.Uint32(b[12:])) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dequantF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func quantF16(dst []byte, src []float32) {
	for i, x := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(x))
	}
}

// f16Table holds every half-precision value as float32: a table read is
// cheaper than F16ToF32's branches in the F16 dot product. 256 KiB, built on
// first use so that processes that never compute (the operator) do not pay.
var (
	f16Table     *[1 << 16]float32
	f16TableOnce sync.Once
)

func f16Values() *[1 << 16]float32 {
	f16TableOnce.Do(func() {
		t := new([1 << 16]float32)
		for i := range t {
			t[i] = F16ToF32(uint16(i))
		}
		f16Table = t
	})
	return f16Table
}

func dotF16(row []byte, x, _ []float32) float32 {
	tab := f16Values()
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		b := row[2*i : 2*i+8]
		s0 += tab[binary.LittleEndian.Uint16(b[0:])] * x[i]
		s1 += tab[binary.LittleEndian.Uint16(b[2:])] * x[i+1]
		s2 += tab[binary.LittleEndian.Uint16(b[4:])] * x[i+2]
		s3 += tab[binary.LittleEndian.Uint16(b[6:])] * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += tab[binary.LittleEndian.Uint16(row[2*i:])] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dequantBF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func quantBF16(dst []byte, src []float32) {
	for i, x := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(x))
	}
}

func dotBF16(row []byte, x, _ []float32) float32 {
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		b := row[2*i : 2*i+8]
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[0:]))<<16) * x[i]
		s1 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2:]))<<16) * x[i+1]
		s2 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[4:]))<<16) * x[i+2]
		s3 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[6:]))<<16) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += BF16ToF32(binary.LittleEndian.Uint16(row[2*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
