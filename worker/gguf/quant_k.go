package gguf

import (
	"encoding/binary"
	"math"
)

// ggml's k-quants: super-blocks of 256 elements in sub-blocks of 16 or 32,
// with 4-, 6- or 8-bit sub-block scales under an fp16 super-block scale.
// Layouts are ggml-common.h's block_q2_K ... block_q6_K; the quantizers are
// the quantize_row_qN_K_ref paths, which ggml_quantize_chunk (and so
// llama-quantize) takes when there is no importance matrix. As in
// quant_legacy.go, every product that is then added is rounded explicitly.

const qkK = 256

// groupMaxEps is ggml's GROUP_MAX_EPS: a group whose largest |x| is below it
// is all zero.
const groupMaxEps = float32(1e-15)

// nearestInt is ggml's nearest_int: round half to even through the float
// mantissa, valid for |f| <= 4194303.
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}

func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// scaleMinK4 is ggml's get_scale_min_k4: the 6-bit scale and min of sub-block
// j from the 12 packed bytes of a Q4_K/Q5_K block.
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// signedMax is the value of x largest in magnitude; when that is below
// ggml's group epsilon the block is all zeros (L cleared) and ok is false.
func signedMax(x []float32, L []int8) (mx float32, ok bool) {
	var amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, mx = ax, v
		}
	}
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0, false
	}
	return mx, true
}

// makeQX1Quants is ggml's make_qx_quants with rmse_type 1 and no weights
// (the only call the reference quantizers make): symmetric quants in
// [-nmax, nmax-1] stored +nmax, with the scale refined over 19 candidates by
// weighted least squares (weights x²).
func makeQX1Quants(n, nmax int, x []float32, L []int8) float32 {
	mx, ok := signedMax(x[:n], L)
	if !ok {
		return 0
	}
	nm := int32(nmax)
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i := range n {
		l := max(-nm, min(nm-1, nearestInt(float32(iscale*x[i]))))
		L[i] = int8(l + nm)
		w := float32(x[i] * x[i])
		sumlx += float32(float32(w*x[i]) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := float32(scale * sumlx)
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(float32(0.1)*float32(is))) / mx
		sumlx, suml2 = 0, 0
		for i := range n {
			l := max(-nm, min(nm-1, nearestInt(float32(iscale*x[i]))))
			w := float32(x[i] * x[i])
			sumlx += float32(float32(w*x[i]) * float32(l))
			suml2 += float32(float32(w*float32(l)) * float32(l))
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i := range n {
				L[i] = int8(nm + max(-nm, min(nm-1, nearestInt(float32(iscale*x[i])))))
			}
			scale = sumlx / suml2
			best = float32(scale * sumlx)
		}
	}
	return scale
}

// makeQ3Quants is ggml's make_q3_quants with do_rmse: symmetric quants in
// [-nmax, nmax-1], stored +nmax, refined one element at a time.
func makeQ3Quants(n, nmax int, x []float32, L []int8) float32 {
	mx, ok := signedMax(x[:n], L)
	if !ok {
		return 0
	}
	nm := int32(nmax)
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i := range n {
		l := max(-nm, min(nm-1, nearestInt(float32(iscale*x[i]))))
		L[i] = int8(l)
		w := float32(x[i] * x[i])
		sumlx += float32(float32(w*x[i]) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	for range 5 {
		changed := 0
		for i := range n {
			w := float32(x[i] * x[i])
			li := float32(L[i])
			slx := sumlx - float32(float32(w*x[i])*li)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*li)*li)
				nl := max(-nm, min(nm-1, nearestInt(float32(x[i]*sl2)/slx)))
				if nl != int32(L[i]) {
					fl := float32(nl)
					slx += float32(float32(w*x[i]) * fl)
					sl2 += float32(float32(w*fl) * fl)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = int8(nl)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range n {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQKX2Quants is ggml's make_qkx2_quants: asymmetric quants in [0, nmax]
// with a scale and a min (returned negated in theMin), searched over
// nstep+1 candidate scales by weighted least squares.
func makeQKX2Quants(n, nmax int, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (scale, theMin float32) {
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < mn {
			mn = x[i]
		}
		if x[i] > mx {
			mx = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		for i := range n {
			L[i] = 0
		}
		return 0, -mn
	}
	nm := int32(nmax)
	iscale := float32(nmax) / (mx - mn)
	scale = 1 / iscale
	var bestError float32
	for i := range n {
		l := nearestInt(float32(iscale * (x[i] - mn)))
		L[i] = uint8(max(0, min(nm, l)))
		diff := float32(float32(scale*float32(L[i]))+mn) - x[i]
		if useMad {
			diff = abs32(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestError += float32(weights[i] * diff)
	}
	if nstep < 1 {
		return scale, -mn
	}
	for is := 0; is <= nstep; is++ {
		iscale = float32(float32(rmin+float32(rdelta*float32(is)))+float32(nmax)) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := range n {
			l := max(0, min(nm, nearestInt(float32(iscale*(x[i]-mn)))))
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curError float32
			for i := range n {
				diff := float32(float32(thisScale*float32(Laux[i]))+thisMin) - x[i]
				if useMad {
					diff = abs32(diff)
				} else {
					diff = float32(diff * diff)
				}
				curError += float32(weights[i] * diff)
			}
			if curError < bestError {
				copy(L[:n], Laux[:n])
				bestError, scale, mn = curError, thisScale, thisMin
			}
		}
	}
	return scale, -mn
}

// ---- Q2_K: scales[16] (4-bit scale | 4-bit min), qs[64], d, dmin (fp16).
// x = d*sc*q - dmin*m, q in 0..3, sub-blocks of 16.

func dequantQ2_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		blk := src[b*84 : b*84+84]
		d, dmin := half(blk[80:]), half(blk[82:])
		y := dst[b*qkK : b*qkK+qkK]
		is := 0
		for n := 0; n < 2; n++ {
			q := blk[16+32*n : 16+32*n+32]
			for j := range 4 {
				shift := uint(2 * j)
				for h := range 2 {
					sc := blk[is]
					is++
					dl, ml := float32(d*float32(sc&0xf)), float32(dmin*float32(sc>>4))
					out := y[128*n+32*j+16*h : 128*n+32*j+16*h+16]
					for l := range 16 {
						out[l] = float32(dl*float32(int8(q[16*h+l]>>shift&3))) - ml
					}
				}
			}
		}
	}
}

func quantQ2_K(dst []byte, src []float32) {
	var (
		L       [qkK]uint8
		Laux    [16]uint8
		weights [16]float32
		mins    [16]float32
		scales  [16]float32
	)
	const q4scale = float32(15)
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		o := dst[b*84 : b*84+84]
		var maxScale, maxMin float32
		for j := range 16 {
			for l := range 16 {
				weights[l] = abs32(x[16*j+l])
			}
			scales[j], mins[j] = makeQKX2Quants(16, 3, x[16*j:], weights[:], L[16*j:], Laux[:], -0.5, 0.1, 15, true)
			maxScale = max(maxScale, scales[j])
			maxMin = max(maxMin, mins[j])
		}
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range 16 {
				o[j] = uint8(nearestInt(float32(iscale * scales[j])))
			}
			putHalf(o[80:], maxScale/q4scale)
		} else {
			clear(o[:16])
			putHalf(o[80:], 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range 16 {
				o[j] |= uint8(nearestInt(float32(iscale*mins[j])) << 4)
			}
			putHalf(o[82:], maxMin/q4scale)
		} else {
			putHalf(o[82:], 0)
		}
		for j := range 16 {
			d := float32(half(o[80:]) * float32(o[j]&0xf))
			if d == 0 {
				continue
			}
			dm := float32(half(o[82:]) * float32(o[j]>>4))
			for ii := range 16 {
				L[16*j+ii] = uint8(max(0, min(3, nearestInt((x[16*j+ii]+dm)/d))))
			}
		}
		for j := 0; j < qkK; j += 128 {
			for l := range 32 {
				o[16+j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
			}
		}
	}
}

func dotQ2_K(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qkK; b++ {
		blk := (*[84]byte)(row[b*84:])
		xb := (*[256]float32)(x[b*qkK:])
		s16 := (*[16]float32)(sums[16*b:])
		var sq, sm float32
		is := 0
		for n := 0; n < 2; n++ {
			q := (*[32]byte)(blk[16+32*n:])
			for j := range 4 {
				shift := uint(2 * j)
				for h := range 2 {
					sc := blk[is]
					xs := (*[16]float32)(xb[128*n+32*j+16*h:])
					var s0, s1 float32
					for l := 0; l < 16; l += 2 {
						s0 += float32(q[16*h+l]>>shift&3) * xs[l]
						s1 += float32(q[16*h+l+1]>>shift&3) * xs[l+1]
					}
					sq += float32(sc&0xf) * (s0 + s1)
					sm += float32(sc>>4) * s16[is]
					is++
				}
			}
		}
		sum += half(blk[80:])*sq - half(blk[82:])*sm
	}
	return sum
}

// ---- Q3_K: hmask[32], qs[64], scales[12] (16 6-bit scales), d (fp16).
// x = d*(sc-32)*(q-4), q = 2 low bits | high bit from hmask.

// q3Scales unpacks the 16 6-bit scales of a Q3_K block (0..63; subtract 32).
func q3Scales(s []byte) [16]int8 {
	const kmask1, kmask2 = 0x03030303, 0x0f0f0f0f
	a0 := binary.LittleEndian.Uint32(s[0:])
	a1 := binary.LittleEndian.Uint32(s[4:])
	tmp := binary.LittleEndian.Uint32(s[8:])
	aux := [4]uint32{
		a0&kmask2 | (tmp>>0&kmask1)<<4,
		a1&kmask2 | (tmp>>2&kmask1)<<4,
		a0>>4&kmask2 | (tmp>>4&kmask1)<<4,
		a1>>4&kmask2 | (tmp>>6&kmask1)<<4,
	}
	var out [16]int8
	for i, a := range aux {
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = int8(a), int8(a>>8), int8(a>>16), int8(a>>24)
	}
	return out
}

func dequantQ3_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		blk := src[b*110 : b*110+110]
		dAll := half(blk[108:])
		hm := blk[0:32]
		scales := q3Scales(blk[96:108])
		y := dst[b*qkK : b*qkK+qkK]
		is := 0
		m := uint8(1)
		for n := 0; n < 2; n++ {
			q := blk[32+32*n : 32+32*n+32]
			for j := range 4 {
				shift := uint(2 * j)
				for h := range 2 {
					dl := float32(dAll * float32(int32(scales[is])-32))
					is++
					out := y[128*n+32*j+16*h : 128*n+32*j+16*h+16]
					for l := range 16 {
						v := int32(q[16*h+l] >> shift & 3)
						if hm[16*h+l]&m == 0 {
							v -= 4
						}
						out[l] = dl * float32(v)
					}
				}
				m <<= 1
			}
		}
	}
}

func quantQ3_K(dst []byte, src []float32) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		o := dst[b*110 : b*110+110]
		var maxScale, amax float32
		for j := range 16 {
			scales[j] = makeQ3Quants(16, 4, x[16*j:], L[16*j:])
			if s := abs32(scales[j]); s > amax {
				amax, maxScale = s, scales[j]
			}
		}
		sc := o[96:108]
		clear(sc)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := range 16 {
				l := int8(nearestInt(float32(iscale * scales[j])))
				l = max(-32, min(31, l)) + 32
				if j < 8 {
					sc[j] = uint8(l) & 0xf
				} else {
					sc[j-8] |= (uint8(l) & 0xf) << 4
				}
				l >>= 4
				sc[j%4+8] |= uint8(l) << (2 * (j / 4))
			}
			putHalf(o[108:], 1/iscale)
		} else {
			putHalf(o[108:], 0)
		}
		for j := range 16 {
			var s int8
			if j < 8 {
				s = int8(sc[j] & 0xf)
			} else {
				s = int8(sc[j-8] >> 4)
			}
			s = (s | int8((sc[8+j%4]>>(2*(j/4))&3)<<4)) - 32
			d := float32(half(o[108:]) * float32(s))
			if d == 0 {
				continue
			}
			for ii := range 16 {
				l := max(-4, min(3, nearestInt(x[16*j+ii]/d)))
				L[16*j+ii] = int8(l + 4)
			}
		}
		hmask := o[0:32]
		clear(hmask)
		m, hm := 0, uint8(1)
		for j := range qkK {
			if L[j] > 3 {
				hmask[m] |= hm
				L[j] -= 4
			}
			if m++; m == qkK/8 {
				m, hm = 0, hm<<1
			}
		}
		for j := 0; j < qkK; j += 128 {
			for l := range 32 {
				o[32+j/4+l] = uint8(L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6)
			}
		}
	}
}

func dotQ3_K(row []byte, x, _ []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qkK; b++ {
		blk := row[b*110 : b*110+110]
		hm := blk[0:32]
		scales := q3Scales(blk[96:108])
		xb := x[b*qkK : b*qkK+qkK]
		var sq float32
		is := 0
		m := uint8(1)
		for n := 0; n < 2; n++ {
			q := blk[32+32*n : 32+32*n+32]
			for j := range 4 {
				shift := uint(2 * j)
				for h := range 2 {
					xs := xb[128*n+32*j+16*h : 128*n+32*j+16*h+16]
					qq, hh := q[16*h:16*h+16], hm[16*h:16*h+16]
					var s0, s1 float32
					for l := 0; l < 16; l += 2 {
						v0 := int32(qq[l]>>shift&3) - 4 + 4*int32((hh[l]&m)>>uint(n*4+j))
						v1 := int32(qq[l+1]>>shift&3) - 4 + 4*int32((hh[l+1]&m)>>uint(n*4+j))
						s0 += float32(v0) * xs[l]
						s1 += float32(v1) * xs[l+1]
					}
					sq += float32(int32(scales[is])-32) * (s0 + s1)
					is++
				}
				m <<= 1
			}
		}
		sum += half(blk[108:]) * sq
	}
	return sum
}

// ---- Q4_K: d, dmin (fp16), scales[12] (8 6-bit scales and mins), qs[128].
// x = d*sc*q - dmin*m, q in 0..15, sub-blocks of 32.

func dequantQ4_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		blk := src[b*144 : b*144+144]
		d, dmin := half(blk), half(blk[2:])
		sc := blk[4:16]
		y := dst[b*qkK : b*qkK+qkK]
		for j := range 4 {
			s1, m1 := scaleMinK4(2*j, sc)
			s2, m2 := scaleMinK4(2*j+1, sc)
			d1, mm1 := float32(d*float32(s1)), float32(dmin*float32(m1))
			d2, mm2 := float32(d*float32(s2)), float32(dmin*float32(m2))
			q := blk[16+32*j : 16+32*j+32]
			out := y[64*j : 64*j+64]
			for l := range 32 {
				out[l] = float32(d1*float32(q[l]&0xf)) - mm1
				out[32+l] = float32(d2*float32(q[l]>>4)) - mm2
			}
		}
	}
}

// quantKScalesMins packs 8 sub-block scales and mins (0..63) as Q4_K/Q5_K do.
func packScalesMinsK4(sc []byte, j int, ls, lm uint8) {
	if j < 4 {
		sc[j] = ls
		sc[j+4] = lm
		return
	}
	sc[j+4] = ls&0xf | (lm&0xf)<<4
	sc[j-4] |= (ls >> 4) << 6
	sc[j] |= (lm >> 4) << 6
}

// quantKAsym is the shared first half of quantize_row_q4_K_ref and
// quantize_row_q5_K_ref: per sub-block of 32 a scale and a min by
// make_qkx2_quants, then the 6-bit packed scales and the fp16 super-scales,
// then the quants re-derived from the packed scales. It fills L and o's
// header (d, dmin, scales: the first 16 bytes).
func quantKAsym(x []float32, o []byte, L *[qkK]uint8, nmax int, rmin, rdelta float32, nstep int) {
	var (
		Laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
	)
	var maxScale, maxMin float32
	for j := range 8 {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrtf(sumX2 / 32)
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(32, nmax, xs, weights[:], L[32*j:], Laux[:], rmin, rdelta, nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	sc := o[4:16]
	for j := range 8 {
		ls := min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm := min(63, uint8(nearestInt(float32(invMin*mins[j]))))
		packScalesMinsK4(sc, j, ls, lm)
	}
	putHalf(o, maxScale/63)
	putHalf(o[2:], maxMin/63)
	d0, dm0 := half(o), half(o[2:])
	nm := int32(nmax)
	for j := range 8 {
		s, m := scaleMinK4(j, sc)
		d := float32(d0 * float32(s))
		if d == 0 {
			continue
		}
		dm := float32(dm0 * float32(m))
		for ii := range 32 {
			L[32*j+ii] = uint8(max(0, min(nm, nearestInt((x[32*j+ii]+dm)/d))))
		}
	}
}

func quantQ4_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		o := dst[b*144 : b*144+144]
		quantKAsym(src[b*qkK:b*qkK+qkK], o, &L, 15, -1, 0.1, 20)
		q := o[16:144]
		for j := 0; j < qkK; j += 64 {
			for l := range 32 {
				q[j/2+l] = L[j+l] | L[j+l+32]<<4
			}
		}
	}
}

func dotQ4_K(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qkK; b++ {
		blk := (*[144]byte)(row[b*144:])
		xb := (*[256]float32)(x[b*qkK:])
		s16 := (*[16]float32)(sums[16*b:])
		sc := blk[4:16]
		var sq, sm float32
		for j := range 4 {
			s1, m1 := scaleMinK4(2*j, sc)
			s2, m2 := scaleMinK4(2*j+1, sc)
			q := (*[32]byte)(blk[16+32*j:])
			xa, xc := (*[32]float32)(xb[64*j:]), (*[32]float32)(xb[64*j+32:])
			var a0, a1, c0, c1 float32
			for l := 0; l < 32; l += 2 {
				q0, q1 := q[l], q[l+1]
				a0 += float32(q0&0xf) * xa[l]
				a1 += float32(q1&0xf) * xa[l+1]
				c0 += float32(q0>>4) * xc[l]
				c1 += float32(q1>>4) * xc[l+1]
			}
			sq += float32(s1)*(a0+a1) + float32(s2)*(c0+c1)
			sm += float32(m1)*(s16[4*j]+s16[4*j+1]) + float32(m2)*(s16[4*j+2]+s16[4*j+3])
		}
		sum += half(blk[:])*sq - half(blk[2:])*sm
	}
	return sum
}

// ---- Q5_K: d, dmin (fp16), scales[12], qh[32], qs[128].
// As Q4_K with a fifth bit from qh: q in 0..31.

func dequantQ5_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		blk := src[b*176 : b*176+176]
		d, dmin := half(blk), half(blk[2:])
		sc := blk[4:16]
		qh := blk[16:48]
		y := dst[b*qkK : b*qkK+qkK]
		u1, u2 := uint8(1), uint8(2)
		for j := range 4 {
			s1, m1 := scaleMinK4(2*j, sc)
			s2, m2 := scaleMinK4(2*j+1, sc)
			d1, mm1 := float32(d*float32(s1)), float32(dmin*float32(m1))
			d2, mm2 := float32(d*float32(s2)), float32(dmin*float32(m2))
			ql := blk[48+32*j : 48+32*j+32]
			out := y[64*j : 64*j+64]
			for l := range 32 {
				h1, h2 := uint8(0), uint8(0)
				if qh[l]&u1 != 0 {
					h1 = 16
				}
				if qh[l]&u2 != 0 {
					h2 = 16
				}
				out[l] = float32(d1*float32(ql[l]&0xf+h1)) - mm1
				out[32+l] = float32(d2*float32(ql[l]>>4+h2)) - mm2
			}
			u1 <<= 2
			u2 <<= 2
		}
	}
}

func quantQ5_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		o := dst[b*176 : b*176+176]
		quantKAsym(src[b*qkK:b*qkK+qkK], o, &L, 31, -0.5, 0.1, 15)
		qh, ql := o[16:48], o[48:176]
		clear(qh)
		m1, m2 := uint8(1), uint8(2)
		for n := 0; n < qkK; n += 64 {
			for j := range 32 {
				l1, l2 := L[n+j], L[n+j+32]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[n/2+j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
		}
	}
}

func dotQ5_K(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qkK; b++ {
		blk := (*[176]byte)(row[b*176:])
		xb := (*[256]float32)(x[b*qkK:])
		s16 := (*[16]float32)(sums[16*b:])
		sc := blk[4:16]
		qh := (*[32]byte)(blk[16:])
		var sq, sm float32
		for j := range 4 {
			s1, m1 := scaleMinK4(2*j, sc)
			s2, m2 := scaleMinK4(2*j+1, sc)
			ql := (*[32]byte)(blk[48+32*j:])
			xa, xc := (*[32]float32)(xb[64*j:]), (*[32]float32)(xb[64*j+32:])
			sh := uint(2 * j)
			var a0, a1, c0, c1 float32
			for l := 0; l < 32; l += 2 {
				q0, q1 := ql[l], ql[l+1]
				h0, h1 := qh[l]>>sh, qh[l+1]>>sh
				a0 += float32(q0&0xf|(h0&1)<<4) * xa[l]
				a1 += float32(q1&0xf|(h1&1)<<4) * xa[l+1]
				c0 += float32(q0>>4|(h0&2)<<3) * xc[l]
				c1 += float32(q1>>4|(h1&2)<<3) * xc[l+1]
			}
			sq += float32(s1)*(a0+a1) + float32(s2)*(c0+c1)
			sm += float32(m1)*(s16[4*j]+s16[4*j+1]) + float32(m2)*(s16[4*j+2]+s16[4*j+3])
		}
		sum += half(blk[:])*sq - half(blk[2:])*sm
	}
	return sum
}

// ---- Q6_K: ql[128], qh[64], scales[16] (int8), d (fp16).
// x = d*sc*(q-32), q = 4 low bits | 2 high bits, sub-blocks of 16.

func dequantQ6_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		blk := src[b*210 : b*210+210]
		d := half(blk[208:])
		y := dst[b*qkK : b*qkK+qkK]
		for n := 0; n < 2; n++ {
			ql, qh := blk[64*n:64*n+64], blk[128+32*n:128+32*n+32]
			sc := blk[192+8*n : 192+8*n+8]
			out := y[128*n : 128*n+128]
			for l := range 32 {
				is := l / 16
				q1 := int8(ql[l]&0xf|(qh[l]>>0&3)<<4) - 32
				q2 := int8(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
				q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				out[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
				out[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
				out[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
				out[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
			}
		}
	}
}

func quantQ6_K(dst []byte, src []float32) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : b*qkK+qkK]
		o := dst[b*210 : b*210+210]
		var maxScale, maxAbsScale float32
		for ib := range 16 {
			scale := makeQX1Quants(16, 32, x[16*ib:], L[16*ib:])
			scales[ib] = scale
			if a := abs32(scale); a > maxAbsScale {
				maxAbsScale, maxScale = a, scale
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(o)
			continue
		}
		iscale := -128 / maxScale
		putHalf(o[208:], 1/iscale)
		sc := o[192:208]
		for ib := range 16 {
			sc[ib] = uint8(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
		}
		d0 := half(o[208:])
		for j := range 16 {
			d := float32(d0 * float32(int8(sc[j])))
			if d == 0 {
				continue
			}
			for ii := range 16 {
				l := max(-32, min(31, nearestInt(x[16*j+ii]/d)))
				L[16*j+ii] = int8(l + 32)
			}
		}
		for j := 0; j < qkK; j += 128 {
			ql, qh := o[j/2:j/2+64], o[128+j/4:128+j/4+32]
			for l := range 32 {
				q1, q2 := uint8(L[j+l])&0xf, uint8(L[j+l+32])&0xf
				q3, q4 := uint8(L[j+l+64])&0xf, uint8(L[j+l+96])&0xf
				ql[l] = q1 | q3<<4
				ql[l+32] = q2 | q4<<4
				qh[l] = uint8(L[j+l])>>4 | uint8(L[j+l+32])>>4<<2 | uint8(L[j+l+64])>>4<<4 | uint8(L[j+l+96])>>4<<6
			}
		}
	}
}

func dotQ6_K(row []byte, x, sums []float32) float32 {
	var sum float32
	for b := 0; b < len(x)/qkK; b++ {
		blk := (*[210]byte)(row[b*210:])
		xb := (*[256]float32)(x[b*qkK:])
		s16 := (*[16]float32)(sums[16*b:])
		var sq float32
		for n := 0; n < 2; n++ {
			ql, qh := (*[64]byte)(blk[64*n:]), (*[32]byte)(blk[128+32*n:])
			sc := (*[8]byte)(blk[192+8*n:])
			xs := (*[128]float32)(xb[128*n:])
			for h := range 2 {
				var s1, s2, s3, s4 float32
				for l := 16 * h; l < 16*h+16; l++ {
					a, c, hh := ql[l], ql[l+32], qh[l]
					s1 += float32(a&0xf|(hh&3)<<4) * xs[l]
					s2 += float32(c&0xf|(hh>>2&3)<<4) * xs[l+32]
					s3 += float32(a>>4|(hh>>4&3)<<4) * xs[l+64]
					s4 += float32(c>>4|(hh>>6&3)<<4) * xs[l+96]
				}
				// sc * Σ (q-32) x = sc * (Σ q x - 32 Σ x), by sub-block of 16
				g := 8*n + h
				sq += float32(int8(sc[h]))*(s1-32*s16[g]) + float32(int8(sc[h+2]))*(s2-32*s16[g+2]) +
					float32(int8(sc[h+4]))*(s3-32*s16[g+4]) + float32(int8(sc[h+6]))*(s4-32*s16[g+6])
			}
		}
		sum += half(blk[208:]) * sq
	}
	return sum
}
