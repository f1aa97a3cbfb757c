package gguf

import "encoding/binary"

// ggml's non-linear 4-bit quants: each nibble indexes kvaluesIQ4NL, a
// non-uniform grid. IQ4_NL: blocks of 32 with an fp16 scale. IQ4_XS:
// super-blocks of 256 with an fp16 scale and eight 6-bit sub-block scales
// (ggml-common.h's block_iq4_nl, block_iq4_xs).

// kvaluesIQ4NL is ggml-common.h's kvalues_iq4nl.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// kvaluesIQ4NLf is kvaluesIQ4NL as float32, for the dot products.
var kvaluesIQ4NLf = func() (f [16]float32) {
	for i, v := range kvaluesIQ4NL {
		f[i] = float32(v)
	}
	return f
}()

// bestIndexInt8 is ggml's best_index_int8: the index of the grid value
// nearest to x (the upper one on ties).
func bestIndexInt8(val *[16]int8, x float32) uint8 {
	if x <= float32(val[0]) {
		return 0
	}
	if x >= float32(val[15]) {
		return 15
	}
	ml, mu := 0, 15
	for mu-ml > 1 {
		mav := (ml + mu) / 2
		if x < float32(val[mav]) {
			mu = mav
		} else {
			ml = mav
		}
	}
	if x-float32(val[mu-1]) < float32(val[mu])-x {
		return uint8(mu - 1)
	}
	return uint8(mu)
}

func dequantIQ4_NL(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		blk := src[b*18 : b*18+18]
		d := half(blk)
		y := dst[b*qk32 : b*qk32+qk32]
		for j := range 16 {
			y[j] = d * float32(kvaluesIQ4NL[blk[2+j]&0xf])
			y[j+16] = d * float32(kvaluesIQ4NL[blk[2+j]>>4])
		}
	}
}

func dotIQ4_NL(row []byte, x, _ []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qk32; b++ {
		blk := row[b*18 : b*18+18]
		xb := x[b*qk32 : b*qk32+qk32]
		var s0, s1 float32
		for j := range 16 {
			q := blk[2+j]
			s0 += kvaluesIQ4NLf[q&0xf] * xb[j]
			s1 += kvaluesIQ4NLf[q>>4] * xb[j+16]
		}
		sum += half(blk) * (s0 + s1)
	}
	return sum
}

func dequantIQ4_XS(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		blk := src[b*136 : b*136+136]
		d := half(blk)
		sh := binary.LittleEndian.Uint16(blk[2:])
		sl := blk[4:8]
		y := dst[b*qkK : b*qkK+qkK]
		for ib := range 8 {
			ls := int32(sl[ib/2]>>(4*(ib%2))&0xf) | int32(sh>>(2*ib)&3)<<4
			dl := d * float32(ls-32)
			qs := blk[8+16*ib : 8+16*ib+16]
			out := y[32*ib : 32*ib+32]
			for j := range 16 {
				out[j] = dl * float32(kvaluesIQ4NL[qs[j]&0xf])
				out[j+16] = dl * float32(kvaluesIQ4NL[qs[j]>>4])
			}
		}
	}
}

func dotIQ4_XS(row []byte, x, _ []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qkK; b++ {
		blk := row[b*136 : b*136+136]
		sh := binary.LittleEndian.Uint16(blk[2:])
		sl := blk[4:8]
		xb := x[b*qkK : b*qkK+qkK]
		var sq float32
		for ib := range 8 {
			ls := int32(sl[ib/2]>>(4*(ib%2))&0xf) | int32(sh>>(2*ib)&3)<<4
			qs := blk[8+16*ib : 8+16*ib+16]
			xs := xb[32*ib : 32*ib+32]
			var s0, s1, s2, s3 float32
			for j := 0; j < 16; j += 2 {
				q0, q1 := qs[j], qs[j+1]
				s0 += kvaluesIQ4NLf[q0&0xf] * xs[j]
				s1 += kvaluesIQ4NLf[q0>>4] * xs[j+16]
				s2 += kvaluesIQ4NLf[q1&0xf] * xs[j+1]
				s3 += kvaluesIQ4NLf[q1>>4] * xs[j+17]
			}
			sq += float32(ls-32) * ((s0 + s1) + (s2 + s3))
		}
		sum += half(blk) * sq
	}
	return sum
}

// quantIQ4 is ggml's quantize_row_iq4_nl_impl without an importance matrix
// (weights x²) and with ntry 7, as quantize_iq4_nl and quantize_iq4_xs call
// it: one super-block of n elements in blocks of 32. For n = 32 (IQ4_NL) it
// writes d and qs; for n = 256 (IQ4_XS) d, scales_h, scales_l and qs.
func quantIQ4(x []float32, o []byte, n int) {
	const ntry = 7
	var (
		L      [qkK]uint8
		scales [8]float32
		weight [32]float32
	)
	values := &kvaluesIQ4NL
	nb := n / 32
	var q4 []byte
	if nb > 1 {
		q4 = o[8 : 8+n/2]
	} else {
		q4 = o[2 : 2+n/2]
	}
	clear(q4)
	putHalf(o, 0)
	var maxScale, amaxScale float32
	for ib := range nb {
		xb := x[32*ib : 32*ib+32]
		Lb := L[32*ib : 32*ib+32]
		for j, v := range xb {
			weight[j] = float32(v * v)
		}
		var amax, mx float32
		for _, v := range xb {
			if ax := abs32(v); ax > amax {
				amax, mx = ax, v
			}
		}
		if amax < groupMaxEps {
			scales[ib] = 0
			continue
		}
		d := -mx / float32(values[0])
		id := 1 / d
		var sumqx, sumq2 float32
		for j, v := range xb {
			l := bestIndexInt8(values, float32(id*v))
			Lb[j] = l
			q := float32(values[l])
			w := weight[j]
			sumqx += float32(float32(w*q) * v)
			sumq2 += float32(float32(w*q) * q)
		}
		d = 0
		if sumq2 > 0 {
			d = sumqx / sumq2
		}
		best := float32(d * sumqx)
		for itry := -ntry; itry <= ntry; itry++ {
			id = float32(itry+int(values[0])) / mx
			sumqx, sumq2 = 0, 0
			for j, v := range xb {
				l := bestIndexInt8(values, float32(id*v))
				q := float32(values[l])
				w := weight[j]
				sumqx += float32(float32(w*q) * v)
				sumq2 += float32(float32(w*q) * q)
			}
			if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
				d = sumqx / sumq2
				best = float32(d * sumqx)
			}
		}
		scales[ib] = d
		if ad := abs32(d); ad > amaxScale {
			amaxScale, maxScale = ad, d
		}
	}
	if nb > 1 {
		var sh uint16
		sl := o[4:8]
		d := -maxScale / 32
		putHalf(o, d)
		var id float32
		if d != 0 {
			id = 1 / d
		}
		for ib := range nb {
			l := max(-32, min(31, nearestInt(float32(id*scales[ib]))))
			dl := d * float32(l)
			var idl float32
			if dl != 0 {
				idl = 1 / dl
			}
			xb := x[32*ib : 32*ib+32]
			for j, v := range xb {
				L[32*ib+j] = bestIndexInt8(values, float32(idl*v))
			}
			l += 32
			lLow, lHigh := uint8(l)&0xf, uint16(l)>>4
			if ib%2 == 0 {
				sl[ib/2] = lLow
			} else {
				sl[ib/2] |= lLow << 4
			}
			sh |= lHigh << (2 * (ib % 8))
		}
		binary.LittleEndian.PutUint16(o[2:], sh)
	} else {
		putHalf(o, scales[0])
		var id float32
		if scales[0] != 0 {
			id = 1 / scales[0]
		}
		for j := range n {
			L[j] = bestIndexInt8(values, float32(id*x[j]))
		}
	}
	for i := range n / 32 {
		for j := range 16 {
			q4[16*i+j] = L[32*i+j] | L[32*i+16+j]<<4
		}
	}
}

func quantIQ4_NL(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		quantIQ4(src[b*qk32:b*qk32+qk32], dst[b*18:b*18+18], qk32)
	}
}

func quantIQ4_XS(dst []byte, src []float32) {
	for b := 0; b < len(src)/qkK; b++ {
		quantIQ4(src[b*qkK:b*qkK+qkK], dst[b*136:b*136+136], qkK)
	}
}
