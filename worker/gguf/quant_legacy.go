package gguf

import (
	"encoding/binary"
	"math"
)

// ggml's "legacy" quants: blocks of 32 with an fp16 scale (and a min for the
// _1 variants). Layouts are ggml-common.h's block_q4_0 ... block_q8_0; the
// code follows ggml-quants.c operation by operation in float32, with an
// explicit float32() around every product that is then added, so no compiler
// may fuse it into an FMA and round differently from ggml (which ggml-base,
// built without -mfma, does not do either).

const qk32 = 32

// half reads a little-endian fp16 at b.
func half(b []byte) float32 { return F16ToF32(binary.LittleEndian.Uint16(b)) }

func putHalf(b []byte, f float32) { binary.LittleEndian.PutUint16(b, F32ToF16(f)) }

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// ---- Q4_0: d (fp16), qs[16]: x = d * (q - 8); low nibbles are elements 0..15.

func dequantQ4_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		blk := src[b*18 : b*18+18]
		d := half(blk)
		y := dst[b*qk32 : b*qk32+qk32]
		for j := range 16 {
			y[j] = float32(int32(blk[2+j]&0x0f)-8) * d
			y[j+16] = float32(int32(blk[2+j]>>4)-8) * d
		}
	}
}

func quantQ4_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : b*qk32+qk32]
		var amax, mx float32
		for _, v := range x {
			if amax < abs32(v) {
				amax, mx = abs32(v), v
			}
		}
		d := mx / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		o := dst[b*18 : b*18+18]
		putHalf(o, d)
		for j := range 16 {
			x0, x1 := float32(x[j]*id), float32(x[16+j]*id)
			o[2+j] = clampTrunc(x0+8.5, 15) | clampTrunc(x1+8.5, 15)<<4
		}
	}
}

func dotQ4_0(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qk32; b++ {
		blk := (*[18]byte)(row[b*18:])
		xb := (*[32]float32)(x[b*qk32:])
		var s0, s1, s2, s3 float32
		for j := 0; j < 16; j += 2 {
			q0, q1 := blk[2+j], blk[3+j]
			s0 += float32(q0&15) * xb[j]
			s1 += float32(q0>>4) * xb[j+16]
			s2 += float32(q1&15) * xb[j+1]
			s3 += float32(q1>>4) * xb[j+17]
		}
		// d * Σ (q-8) x = d * (Σ q x - 8 Σ x)
		sum += half(blk[:]) * (((s0 + s1) + (s2 + s3)) - 8*(sums[2*b]+sums[2*b+1]))
	}
	return sum
}

// ---- Q4_1: d, m (fp16), qs[16]: x = d * q + m.

func dequantQ4_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		blk := src[b*20 : b*20+20]
		d, m := half(blk), half(blk[2:])
		y := dst[b*qk32 : b*qk32+qk32]
		for j := range 16 {
			y[j] = float32(float32(blk[4+j]&0x0f)*d) + m
			y[j+16] = float32(float32(blk[4+j]>>4)*d) + m
		}
	}
}

// minScale is the asymmetric formats' block scale: the block's minimum, and the
// step d (and 1/d, 0 for a constant block) that spreads it over levels steps.
func minScale(x []float32, levels float32) (mn, d, id float32) {
	mn, mx := float32(math.MaxFloat32), float32(-math.MaxFloat32)
	for _, v := range x {
		mn, mx = min(mn, v), max(mx, v)
	}
	if d = (mx - mn) / levels; d != 0 {
		id = 1 / d
	}
	return mn, d, id
}

func quantQ4_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : b*qk32+qk32]
		mn, d, id := minScale(x, 15)
		o := dst[b*20 : b*20+20]
		putHalf(o, d)
		putHalf(o[2:], mn)
		for j := range 16 {
			x0, x1 := float32((x[j]-mn)*id), float32((x[16+j]-mn)*id)
			o[4+j] = clampTrunc(x0+0.5, 15) | clampTrunc(x1+0.5, 15)<<4
		}
	}
}

func dotQ4_1(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qk32; b++ {
		blk := (*[20]byte)(row[b*20:])
		xb := (*[32]float32)(x[b*qk32:])
		var s0, s1 float32
		for j := range 16 {
			q := blk[4+j]
			s0 += float32(q&15) * xb[j]
			s1 += float32(q>>4) * xb[j+16]
		}
		sum += half(blk[:])*(s0+s1) + half(blk[2:])*(sums[2*b]+sums[2*b+1])
	}
	return sum
}

// ---- Q5_0: d (fp16), qh (32 high bits), qs[16]: x = d * (q - 16).

func dequantQ5_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		blk := src[b*22 : b*22+22]
		d := half(blk)
		qh := binary.LittleEndian.Uint32(blk[2:])
		y := dst[b*qk32 : b*qk32+qk32]
		for j := range 16 {
			xh0 := uint8(qh>>j<<4) & 0x10
			xh1 := uint8(qh>>(j+12)) & 0x10
			y[j] = float32(int32(blk[6+j]&0x0f|xh0)-16) * d
			y[j+16] = float32(int32(blk[6+j]>>4|xh1)-16) * d
		}
	}
}

func quantQ5_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : b*qk32+qk32]
		var amax, mx float32
		for _, v := range x {
			if amax < abs32(v) {
				amax, mx = abs32(v), v
			}
		}
		d := mx / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		o := dst[b*22 : b*22+22]
		putHalf(o, d)
		var qh uint32
		for j := range 16 {
			x0, x1 := float32(x[j]*id), float32(x[16+j]*id)
			xi0, xi1 := clampTrunc(x0+16.5, 31), clampTrunc(x1+16.5, 31)
			o[6+j] = xi0&0x0f | (xi1&0x0f)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + 16)
		}
		binary.LittleEndian.PutUint32(o[2:], qh)
	}
}

func dotQ5_0(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qk32; b++ {
		blk := (*[22]byte)(row[b*22:])
		xb := (*[32]float32)(x[b*qk32:])
		qh := binary.LittleEndian.Uint32(blk[2:])
		var s0, s1 float32
		for j := range 16 {
			q := blk[6+j]
			s0 += float32(q&15|uint8(qh>>j<<4)&0x10) * xb[j]
			s1 += float32(q>>4|uint8(qh>>(j+12))&0x10) * xb[j+16]
		}
		sum += half(blk[:]) * ((s0 + s1) - 16*(sums[2*b]+sums[2*b+1]))
	}
	return sum
}

// ---- Q5_1: d, m (fp16), qh, qs[16]: x = d * q + m.

func dequantQ5_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		blk := src[b*24 : b*24+24]
		d, m := half(blk), half(blk[2:])
		qh := binary.LittleEndian.Uint32(blk[4:])
		y := dst[b*qk32 : b*qk32+qk32]
		for j := range 16 {
			xh0 := uint8(qh>>j<<4) & 0x10
			xh1 := uint8(qh>>(j+12)) & 0x10
			y[j] = float32(float32(blk[8+j]&0x0f|xh0)*d) + m
			y[j+16] = float32(float32(blk[8+j]>>4|xh1)*d) + m
		}
	}
}

func quantQ5_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : b*qk32+qk32]
		mn, d, id := minScale(x, 31)
		o := dst[b*24 : b*24+24]
		putHalf(o, d)
		putHalf(o[2:], mn)
		var qh uint32
		for j := range 16 {
			x0, x1 := float32((x[j]-mn)*id), float32((x[16+j]-mn)*id)
			xi0, xi1 := uint8(x0+0.5), uint8(x1+0.5)
			o[8+j] = xi0&0x0f | (xi1&0x0f)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + 16)
		}
		binary.LittleEndian.PutUint32(o[4:], qh)
	}
}

func dotQ5_1(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qk32; b++ {
		blk := (*[24]byte)(row[b*24:])
		xb := (*[32]float32)(x[b*qk32:])
		qh := binary.LittleEndian.Uint32(blk[4:])
		var s0, s1 float32
		for j := range 16 {
			q := blk[8+j]
			s0 += float32(q&15|uint8(qh>>j<<4)&0x10) * xb[j]
			s1 += float32(q>>4|uint8(qh>>(j+12))&0x10) * xb[j+16]
		}
		sum += half(blk[:])*(s0+s1) + half(blk[2:])*(sums[2*b]+sums[2*b+1])
	}
	return sum
}

// ---- Q8_0: d (fp16), qs[32] int8: x = d * q.

func dequantQ8_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		blk := src[b*34 : b*34+34]
		d := half(blk)
		y := dst[b*qk32 : b*qk32+qk32]
		for j := range qk32 {
			y[j] = float32(int8(blk[2+j])) * d
		}
	}
}

func quantQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : b*qk32+qk32]
		var amax float32
		for _, v := range x {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		o := dst[b*34 : b*34+34]
		putHalf(o, d)
		for j, v := range x {
			o[2+j] = byte(int8(roundf(float32(v * id))))
		}
	}
}

// clampTrunc is ggml's MIN(hi, (int8_t)v) stored in a uint8.
func clampTrunc(v float32, hi int32) uint8 { return uint8(min(hi, int32(int8(v)))) }

// roundf is C's roundf: halfway cases away from zero.
func roundf(x float32) float32 { return float32(math.Round(float64(x))) }

func dotQ8_0(row []byte, x, _ []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qk32; b++ {
		blk := row[b*34 : b*34+34]
		xb := x[b*qk32 : b*qk32+qk32]
		qs := blk[2:34]
		var s0, s1, s2, s3 float32
		for j := 0; j < 32; j += 4 {
			s0 += float32(int8(qs[j])) * xb[j]
			s1 += float32(int8(qs[j+1])) * xb[j+1]
			s2 += float32(int8(qs[j+2])) * xb[j+2]
			s3 += float32(int8(qs[j+3])) * xb[j+3]
		}
		sum += half(blk) * ((s0 + s1) + (s2 + s3))
	}
	return sum
}
