package gguf

import "math"

// Activations rounded to int8, as llama.cpp's CPU kernels round them before a product with K-quant weights
// (its Q8_K): per 256 values a scale d = amax / 127 and quants q = round(x / d), with the sums of each 16
// quants. A K-quant row then dots with them in exact integer arithmetic, 32 byte products an instruction on
// x86 (dotq8_amd64.s), and applies the block's scales and mins once per sub-block. The rounding of x moves a
// dot product by about 0.4% of its magnitude: llama.cpp's own error, which the CPU engine, as the reference
// the GPU is checked against, does not make unless asked (engine.CPUOptions.MatvecInt8).

// QK8K is the values per scale of Q8K: a K-quant's block.
const QK8K = qkK

// Q8K is a vector of activations rounded to int8 in blocks of 256 (QuantizeQ8K).
type Q8K struct {
	Q     []int8
	D     []float32 // per 256 values
	Sum16 []int32   // per 16 values: the sum of their quants
	Sum32 []int32   // per 32 values
}

// QuantizeQ8K rounds x (a multiple of 256 values) into q, reusing q's storage.
func QuantizeQ8K(q *Q8K, x []float32) {
	n := len(x)
	if cap(q.Q) < n {
		q.Q, q.D, q.Sum16, q.Sum32 = make([]int8, n), make([]float32, n/qkK), make([]int32, n/16), make([]int32, n/32)
	}
	q.Q, q.D, q.Sum16, q.Sum32 = q.Q[:n], q.D[:n/qkK], q.Sum16[:n/16], q.Sum32[:n/32]
	for b := range n / qkK {
		xb := x[b*qkK : (b+1)*qkK]
		var amax float32
		for _, v := range xb {
			amax = max(amax, abs32(v))
		}
		qb := q.Q[b*qkK : (b+1)*qkK]
		if amax == 0 {
			clear(qb)
			q.D[b] = 0
			clear(q.Sum16[b*16 : (b+1)*16])
			clear(q.Sum32[b*8 : (b+1)*8])
			continue
		}
		id := 127 / amax
		q.D[b] = amax / 127
		for i, v := range xb {
			qb[i] = int8(math.RoundToEven(float64(v * id)))
		}
		for s := range 16 {
			var sum int32
			for _, v := range qb[16*s : 16*s+16] {
				sum += int32(v)
			}
			q.Sum16[b*16+s] = sum
		}
		for s := range 8 {
			q.Sum32[b*8+s] = q.Sum16[b*16+2*s] + q.Sum16[b*16+2*s+1]
		}
	}
}

// dotQ8Chunk is how many blocks one call of the integer kernels covers: their sums stay on the stack.
const dotQ8Chunk = 16

// dotQ4_KQ8KGo is a Q4_K row times x: d * sum(scale * (q . x_q)) - dmin * sum(min * sum(x_q)) per block, times
// x's scale; q . x_q per 32 values from q4kSumsGo. dotQ4KAVX2 computes the same.
func dotQ4_KQ8KGo(row []byte, x *Q8K) float32 { return dotScaleMinQ8K(row, x, 144, q4kSumsGo) }

// dotQ5_KQ8KGo is dotQ4_KQ8KGo for Q5_K (a fifth bit per quant, the same scales and mins).
func dotQ5_KQ8KGo(row []byte, x *Q8K) float32 { return dotScaleMinQ8K(row, x, 176, q5kSumsGo) }

// dotScaleMinQ8K is the product of a row of Q4_K or Q5_K blocks (blockBytes each: d, dmin, 12 bytes of 6-bit
// scales and mins, then the quants) with x, from sums, the blocks' integer sums over 32 values.
func dotScaleMinQ8K(row []byte, x *Q8K, blockBytes int, sums func(row []byte, x []int8, out []int32)) float32 {
	var s [dotQ8Chunk * 8]int32
	nb := len(x.D)
	var total float32
	for b0 := 0; b0 < nb; b0 += dotQ8Chunk {
		n := min(dotQ8Chunk, nb-b0)
		sums(row[b0*blockBytes:(b0+n)*blockBytes], x.Q[b0*qkK:(b0+n)*qkK], s[:8*n])
		for i := range n {
			b := b0 + i
			blk := row[b*blockBytes : (b+1)*blockBytes]
			var isum, msum int32
			for j := range 8 {
				sc, m := scaleMinK4(j, blk[4:16])
				isum += int32(sc) * s[8*i+j]
				msum += int32(m) * x.Sum32[8*b+j]
			}
			total += x.D[b] * (half(blk)*float32(isum) - half(blk[2:])*float32(msum))
		}
	}
	return total
}

// dotLegacyQ8KGo is a row of Q4_0, Q4_1, Q5_0 or Q5_1 (blocks of 32 values, blockBytes each: d, then m withMin, then
// the fifth bits when qhOff > 0 (bit j for value j), then 16 bytes of nibbles at qsOff, value j low and j + 16
// high) times x: D * (d * (q . x_q - off * sum(x_q)) + m * sum(x_q)) per block.
func dotLegacyQ8KGo(row []byte, x *Q8K, blockBytes, qsOff, qhOff int, off int32, withMin bool) float32 {
	var total float32
	for b := range len(x.Q) / 32 {
		blk := row[b*blockBytes : (b+1)*blockBytes]
		var qh uint32
		if qhOff > 0 {
			qh = uint32(blk[qhOff]) | uint32(blk[qhOff+1])<<8 | uint32(blk[qhOff+2])<<16 | uint32(blk[qhOff+3])<<24
		}
		xb := x.Q[b*32 : b*32+32]
		var isum int32
		for j, v := range blk[qsOff : qsOff+16] {
			lo, hi := int32(v&0xf)|int32(qh>>j&1)<<4, int32(v>>4)|int32(qh>>(j+16)&1)<<4
			isum += lo*int32(xb[j]) + hi*int32(xb[j+16])
		}
		s := half(blk) * float32(isum-off*x.Sum32[b])
		if withMin {
			s += half(blk[2:]) * float32(x.Sum32[b])
		}
		total += x.D[b/8] * s
	}
	return total
}

func dotQ4_0Q8KGo(row []byte, x *Q8K) float32 { return dotLegacyQ8KGo(row, x, 18, 2, 0, 8, false) }
func dotQ4_1Q8KGo(row []byte, x *Q8K) float32 { return dotLegacyQ8KGo(row, x, 20, 4, 0, 0, true) }
func dotQ5_0Q8KGo(row []byte, x *Q8K) float32 { return dotLegacyQ8KGo(row, x, 22, 6, 2, 16, false) }
func dotQ5_1Q8KGo(row []byte, x *Q8K) float32 { return dotLegacyQ8KGo(row, x, 24, 8, 4, 0, true) }

// dotQ8_0Q8KGo is a Q8_0 row (blocks of 32: d, 32 int8) times x: d * D * (q . x_q) per block.
func dotQ8_0Q8KGo(row []byte, x *Q8K) float32 {
	var total float32
	for b := range len(x.Q) / 32 {
		blk := row[b*34 : b*34+34]
		xb := x.Q[b*32 : b*32+32]
		var isum int32
		for j, v := range blk[2:34] {
			isum += int32(int8(v)) * int32(xb[j])
		}
		total += x.D[b/8] * half(blk) * float32(isum)
	}
	return total
}

// dotQ2_KQ8KGo is a Q2_K row (blocks of 84 bytes: 16 bytes of 4-bit scale | 4-bit min, qs[64], d, dmin) times x:
// D * sum(d * scale * (q . x_q) - dmin * min * sum(x_q)) per 16 values (value 128n + 32j + l: bits 2j of
// qs[32n + l]; scale and min 8n + 2j + l/16).
func dotQ2_KQ8KGo(row []byte, x *Q8K) float32 {
	var total float32
	for b := range len(x.D) {
		blk := row[b*84 : b*84+84]
		xb := x.Q[b*qkK : (b+1)*qkK]
		var isum, msum int32
		for n := range 2 {
			q := blk[16+32*n : 48+32*n]
			for j := range 4 {
				shift := uint(2 * j)
				for h := range 2 {
					var s int32
					for l := 16 * h; l < 16*h+16; l++ {
						s += int32(q[l]>>shift&3) * int32(xb[128*n+32*j+l])
					}
					sc := blk[8*n+2*j+h]
					isum += int32(sc&0xf) * s
					msum += int32(sc>>4) * x.Sum16[16*b+8*n+2*j+h]
				}
			}
		}
		total += x.D[b] * (half(blk[80:])*float32(isum) - half(blk[82:])*float32(msum))
	}
	return total
}

// dotQ3_KQ8KGo is a Q3_K row (blocks of 110 bytes: hmask[32], qs[64], 16 6-bit scales in 12 bytes, d) times x:
// d * D * sum((scale - 32) * (q . x_q)) per 16 values, q the 2 bits from qs less 4 where hmask's bit is clear
// (value 128n + 32j + l: bits 2j of qs[32n + l], bit 4n + j of hmask[l]; scale 8n + 2j + l/16).
func dotQ3_KQ8KGo(row []byte, x *Q8K) float32 {
	var total float32
	for b := range len(x.D) {
		blk := row[b*110 : b*110+110]
		scales := q3Scales(blk[96:108])
		xb := x.Q[b*qkK : (b+1)*qkK]
		var isum int32
		for n := range 2 {
			q := blk[32+32*n : 64+32*n]
			for j := range 4 {
				shift, m := uint(2*j), uint8(1)<<(4*n+j)
				for h := range 2 {
					var s int32
					for l := 16 * h; l < 16*h+16; l++ {
						v := int32(q[l] >> shift & 3)
						if blk[l]&m == 0 {
							v -= 4
						}
						s += v * int32(xb[128*n+32*j+l])
					}
					isum += (int32(scales[8*n+2*j+h]) - 32) * s
				}
			}
		}
		total += x.D[b] * half(blk[108:]) * float32(isum)
	}
	return total
}

// dotIQ4_NLQ8KGo is an IQ4_NL row (blocks of 32: d, 16 bytes of nibbles indexing kvaluesIQ4NL, value j in byte
// j's low nibble and value j + 16 in its high one) times x: d * D * (kvalue(q) . x_q) per block.
func dotIQ4_NLQ8KGo(row []byte, x *Q8K) float32 {
	var total float32
	for b := range len(x.Q) / 32 {
		blk := row[b*18 : b*18+18]
		total += x.D[b/8] * half(blk) * float32(iq4Sum(blk[2:18], x.Q[b*32:b*32+32]))
	}
	return total
}

// dotIQ4_XSQ8KGo is an IQ4_XS row (blocks of 256, 136 bytes: d, scales_h (16 bits), scales_l[4], qs[128]; sub-block
// ib's 6-bit scale ls from scales_l's nibble ib and scales_h's bits 2ib, 2ib+1; its 16 bytes of qs as IQ4_NL's)
// times x: d * D * sum((ls - 32) * kvalue(q) . x_q) per block.
func dotIQ4_XSQ8KGo(row []byte, x *Q8K) float32 {
	var total float32
	for b := range len(x.D) {
		blk := row[b*136 : b*136+136]
		sh := uint16(blk[2]) | uint16(blk[3])<<8
		var isum int32
		for ib := range 8 {
			ls := int32(blk[4+ib/2]>>(4*(ib%2))&0xf) | int32(sh>>(2*ib)&3)<<4
			isum += (ls - 32) * iq4Sum(blk[8+16*ib:24+16*ib], x.Q[b*qkK+32*ib:b*qkK+32*ib+32])
		}
		total += x.D[b] * half(blk) * float32(isum)
	}
	return total
}

// iq4Sum is the integer dot of 16 bytes of IQ4 nibbles (32 codebook values) with 32 activation quants.
func iq4Sum(qs []byte, x []int8) int32 {
	var s int32
	for j, v := range qs[:16] {
		s += int32(kvaluesIQ4NL[v&0xf])*int32(x[j]) + int32(kvaluesIQ4NL[v>>4])*int32(x[j+16])
	}
	return s
}

// dotQ6_KQ8KGo is a Q6_K row times x: d * sum(scale * (q . x_q - 32 * sum(x_q))) per 16 values, times x's
// scale; q . x_q (q unsigned, 0..63) from q6kSumsGo. dotQ6KAVX2 computes the same in the same order.
func dotQ6_KQ8KGo(row []byte, x *Q8K) float32 {
	var sums [dotQ8Chunk * 16]int32
	nb := len(x.D)
	var total float32
	for b0 := 0; b0 < nb; b0 += dotQ8Chunk {
		n := min(dotQ8Chunk, nb-b0)
		q6kSumsGo(row[b0*210:(b0+n)*210], x.Q[b0*qkK:(b0+n)*qkK], sums[:16*n])
		for i := range n {
			b := b0 + i
			blk := row[b*210 : b*210+210]
			s16 := x.Sum16[16*b : 16*b+16]
			var isum int32
			for s := range 16 {
				isum += int32(int8(blk[192+s])) * (sums[16*i+s] - 32*s16[s])
			}
			total += x.D[b] * half(blk[208:]) * float32(isum)
		}
	}
	return total
}

// q4kSumsGo writes, for each Q4_K block of row (len(out)/8 of them) and its 256 quants of x, the 8 sums over
// 32 values of the 4-bit quant times the activation quant.
func q4kSumsGo(row []byte, x []int8, out []int32) {
	for b := range len(out) / 8 {
		qs := row[b*144+16 : b*144+144]
		xb := x[b*qkK : (b+1)*qkK]
		for j := range 4 {
			var lo, hi int32
			for l := range 32 {
				q := qs[32*j+l]
				lo += int32(q&0xf) * int32(xb[64*j+l])
				hi += int32(q>>4) * int32(xb[64*j+32+l])
			}
			out[8*b+2*j], out[8*b+2*j+1] = lo, hi
		}
	}
}

// q5kSumsGo is q4kSumsGo for Q5_K blocks (176 bytes: d, dmin, scales[12], qh[32], qs[128]): bit 2j of qh[l]
// is the fifth bit of value 64j + l, bit 2j+1 that of value 64j + 32 + l.
func q5kSumsGo(row []byte, x []int8, out []int32) {
	for b := range len(out) / 8 {
		qh, qs := row[b*176+16:b*176+48], row[b*176+48:b*176+176]
		xb := x[b*qkK : (b+1)*qkK]
		for j := range 4 {
			var lo, hi int32
			for l := range 32 {
				q := qs[32*j+l]
				lo += int32(q&0xf|(qh[l]>>(2*j)&1)<<4) * int32(xb[64*j+l])
				hi += int32(q>>4|(qh[l]>>(2*j+1)&1)<<4) * int32(xb[64*j+32+l])
			}
			out[8*b+2*j], out[8*b+2*j+1] = lo, hi
		}
	}
}

// q6kSumsGo writes, for each Q6_K block (len(out)/16 of them), the 16 sums over 16 values of the unsigned 6-bit
// quant (0..63) times the activation quant.
func q6kSumsGo(row []byte, x []int8, out []int32) {
	for b := range len(out) / 16 {
		blk := row[b*210 : b*210+210]
		xb := x[b*qkK : (b+1)*qkK]
		var s [16]int32
		for n := range 2 {
			ql, qh := blk[64*n:64*n+64], blk[128+32*n:128+32*n+32]
			for l := range 32 {
				q := [4]int32{int32(ql[l]&0xf | (qh[l]&3)<<4), int32(ql[l+32]&0xf | (qh[l]>>2&3)<<4),
					int32(ql[l]>>4 | (qh[l]>>4&3)<<4), int32(ql[l+32]>>4 | (qh[l]>>6&3)<<4)}
				for k, v := range q {
					p := 32*k + l // position within the half
					s[8*n+p/16] += v * int32(xb[128*n+p])
				}
			}
		}
		copy(out[16*b:16*b+16], s[:])
	}
}
