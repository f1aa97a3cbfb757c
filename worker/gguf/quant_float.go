package gguf

import (
	"encoding/binary"
	"math"
	"sync"
	"unsafe"
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

func dotF32Go(row []byte, x, _ []float32) float32 {
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

func dequantF16Go(dst []float32, src []byte) {
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

func dotF16Go(row []byte, x, _ []float32) float32 {
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

func dequantBF16Go(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func quantBF16(dst []byte, src []float32) {
	for i, x := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(x))
	}
}

func dotBF16Go(row []byte, x, _ []float32) float32 {
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

// The float kernels the type table uses: the AVX2 ones (dotfloat_amd64.s) over whole vectors of 32 values
// where the processor has them, the Go ones above for the rest. Summation order differs between the two, so
// results agree to float32 rounding, and a row of a given length always takes the same path.

// floatVec is how many of n values the AVX2 float kernels take: whole vectors of 32, none without AVX2.
func floatVec(n int) int {
	if !hasAVX2 {
		return 0
	}
	return n &^ 31
}

func dotF32(row []byte, x, _ []float32) float32 {
	n := floatVec(len(x))
	var s float32
	if n > 0 {
		_ = row[4*n-1]
		s = dotF32AVX2((*float32)(unsafe.Pointer(&row[0])), &x[0], n)
	}
	return s + dotF32Go(row[4*n:], x[n:], nil)
}

func dotF16(row []byte, x, _ []float32) float32  { return dot16(row, x, dotF16AVX2, dotF16Go) }
func dotBF16(row []byte, x, _ []float32) float32 { return dot16(row, x, dotBF16AVX2, dotBF16Go) }

// dot16 is a 16-bit row's dot product with x: avx2 over the whole vectors, fallback for the rest.
func dot16(row []byte, x []float32, avx2 func(*byte, *float32, int) float32, fallback func([]byte, []float32, []float32) float32) float32 {
	n := floatVec(len(x))
	var s float32
	if n > 0 {
		_ = row[2*n-1]
		s = avx2(&row[0], &x[0], n)
	}
	return s + fallback(row[2*n:], x[n:], nil)
}

func dequantF16(dst []float32, src []byte)  { cvt16(dst, src, cvtF16AVX2, dequantF16Go) }
func dequantBF16(dst []float32, src []byte) { cvt16(dst, src, cvtBF16AVX2, dequantBF16Go) }

// cvt16 decodes a 16-bit row: avx2 over the whole vectors, fallback for the rest.
func cvt16(dst []float32, src []byte, avx2 func(*float32, *byte, int), fallback func([]float32, []byte)) {
	n := floatVec(len(dst))
	if n > 0 {
		_ = src[2*n-1]
		avx2(&dst[0], &src[0], n)
	}
	fallback(dst[n:], src[2*n:])
}

// DotF32 is a·b over len(a) values (b at least as long): the CPU engine's float32 products (a prefill's
// dequantized rows, attention), on the same kernels as an F32 row.
func DotF32(a, b []float32) float32 {
	b = b[:len(a)]
	n := floatVec(len(a))
	var s float32
	if n > 0 {
		s = dotF32AVX2(&a[0], &b[0], n)
	}
	var s0, s1, s2, s3 float32
	i := n
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s + ((s0 + s1) + (s2 + s3))
}
