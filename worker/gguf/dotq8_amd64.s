#include "textflag.h"

// The integer dot products of dotq8.go on AVX2 (with FMA and F16C, which every AVX2 processor has), as
// llama.cpp's x86 kernels do them: VPMADDUBSW multiplies 32 unsigned weight quants by 32 signed activation
// quants and adds pairs (at most 2 * 63 * 127: no saturation), VPMADDWD multiplies those by the sub-block's scale
// and adds pairs again, exactly, into 8 int32 lanes per block; the block's fp16 scales and the activations'
// scale then weigh the lanes into 8 float32 accumulators (FMA), summed once per row. The order of the float
// additions is not the Go kernels' (dotQ4_KQ8KGo, dotQ6_KQ8KGo), so the two agree to float32 rounding.

DATA nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib<>(SB), RODATA|NOPTR, $8
DATA bits45<>+0(SB)/8, $0x3030303030303030
GLOBL bits45<>(SB), RODATA|NOPTR, $8
DATA bit4<>+0(SB)/8, $0x1010101010101010
GLOBL bit4<>(SB), RODATA|NOPTR, $8
DATA ones16<>+0(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $8
DATA iq4tab<>+0(SB)/8, $0xf6eaddcfbfad9881 // kvalues_iq4nl as int8: -127 -104 -83 -65 -49 -35 -22 -10
DATA iq4tab<>+8(SB)/8, $0x7159453526190d01 //                        1 13 25 38 53 69 89 113
GLOBL iq4tab<>(SB), RODATA|NOPTR, $16
DATA q3bit<>+0(SB)/8, $0x8040201008040201 // byte k: bit k, hmask's bit for the values of (n, j) = k / 4, k % 4
GLOBL q3bit<>(SB), RODATA|NOPTR, $8
DATA q5shuf<>+0(SB)/8, $0x0000000000000000 // VPSHUFB: byte k of the 32 fifth bits' byte k / 8
DATA q5shuf<>+8(SB)/8, $0x0101010101010101
DATA q5shuf<>+16(SB)/8, $0x0202020202020202
DATA q5shuf<>+24(SB)/8, $0x0303030303030303
GLOBL q5shuf<>(SB), RODATA|NOPTR, $32
DATA q5bits<>+0(SB)/8, $0x7fbfdfeff7fbfdfe // byte k: every bit but k, so OR gives 0xff where bit k is set
GLOBL q5bits<>(SB), RODATA|NOPTR, $8
DATA threes<>+0(SB)/8, $0x0303030303030303
GLOBL threes<>(SB), RODATA|NOPTR, $8
DATA fours<>+0(SB)/8, $0x0404040404040404
GLOBL fours<>(SB), RODATA|NOPTR, $8
DATA thirtytwo<>+0(SB)/8, $0x2020202020202020
GLOBL thirtytwo<>(SB), RODATA|NOPTR, $8
// q6scale: VPSHUFB masks that spread scales 2p and 2p+1 (of a Q6_K block's 16) over 8 bytes each.
DATA q6scale<>+0(SB)/8, $0x0000000000000000
DATA q6scale<>+8(SB)/8, $0x0101010101010101
DATA q6scale<>+16(SB)/8, $0x0202020202020202
DATA q6scale<>+24(SB)/8, $0x0303030303030303
DATA q6scale<>+32(SB)/8, $0x0404040404040404
DATA q6scale<>+40(SB)/8, $0x0505050505050505
DATA q6scale<>+48(SB)/8, $0x0606060606060606
DATA q6scale<>+56(SB)/8, $0x0707070707070707
DATA q6scale<>+64(SB)/8, $0x0808080808080808
DATA q6scale<>+72(SB)/8, $0x0909090909090909
DATA q6scale<>+80(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA q6scale<>+88(SB)/8, $0x0b0b0b0b0b0b0b0b
DATA q6scale<>+96(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA q6scale<>+104(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA q6scale<>+112(SB)/8, $0x0e0e0e0e0e0e0e0e
DATA q6scale<>+120(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL q6scale<>(SB), RODATA|NOPTR, $128

// KSCALES: the 6-bit scales and mins of a Q4_K/Q5_K block (scales[12] at offset 4 of SI), unpacked as
// llama.cpp does: the 8 scales as int16 at 0(SP), the 8 mins as bytes in R11.
#define KSCALES \
	MOVL 4(SI), AX \
	MOVL 8(SI), BX \
	MOVL 12(SI), R10 \
	MOVL R10, R11 \
	SHRL $4, R11 \
	ANDL $0x0f0f0f0f, R11 \
	MOVL BX, R12 \
	SHRL $6, R12 \
	ANDL $0x03030303, R12 \
	SHLL $4, R12 \
	ORL  R12, R11 \
	MOVL BX, R13 \
	ANDL $0x3f3f3f3f, R13 \
	MOVL R10, R12 \
	ANDL $0x0f0f0f0f, R12 \
	MOVL AX, R14 \
	SHRL $6, R14 \
	ANDL $0x03030303, R14 \
	SHLL $4, R14 \
	ORL  R14, R12 \
	ANDL $0x3f3f3f3f, AX \
	SHLQ $32, R12 \
	ORQ  AX, R12 \
	SHLQ $32, R11 \
	ORQ  R13, R11 \
	MOVQ R12, X10 \
	VPMOVZXBW X10, X10 \
	VMOVDQU X10, 0(SP)

// KSUB: the pair sums of sub-blocks lo, hi (VPMADDUBSW's) times their scales (int16 at soff(SP)) into Y11.
#define KSUB(soff, lo, hi) \
	VPBROADCASTW soff(SP), Y10 \
	VPMADDWD Y10, lo, lo \
	VPBROADCASTW (soff+2)(SP), Y10 \
	VPMADDWD Y10, hi, hi \
	VPADDD  lo, Y11, Y11 \
	VPADDD  hi, Y11, Y11

// KTAIL: the block's lanes (Y11) times D * d into Y13, its mins (R11) times the sums of 32 of x (R9) times
// D * dmin into Y12; then on to the next block of blockBytes.
#define KTAIL(blockBytes) \
	VCVTDQ2PS Y11, Y11 \
	MOVQ R11, X10 \
	VPMOVZXBD X10, Y10 \
	VPMULLD (R9), Y10, Y10 \
	VCVTDQ2PS Y10, Y10 \
	MOVL   (SI), AX \
	MOVQ   AX, X0 \
	VCVTPH2PS X0, X0 \
	VBROADCASTSS (R8), X1 \
	VMULPS X1, X0, X0 \
	VBROADCASTSS X0, Y1 \
	VFMADD231PS Y11, Y1, Y13 \
	VMOVSHDUP X0, X2 \
	VBROADCASTSS X2, Y2 \
	VFMADD231PS Y10, Y2, Y12 \
	ADDQ $blockBytes, SI \
	ADDQ $256, DI \
	ADDQ $4, R8 \
	ADDQ $32, R9 \
	DECQ CX

// KDONE: Y13 - Y12, summed, returned.
#define KDONE \
	VSUBPS Y12, Y13, Y13 \
	VEXTRACTF128 $1, Y13, X0 \
	VADDPS X0, X13, X0 \
	VHADDPS X0, X0, X0 \
	VHADDPS X0, X0, X0 \
	VZEROUPPER \
	MOVSS X0, ret+40(FP) \
	RET

// Q4SUB: the low nibbles of qs[qoff..qoff+31] (sub-block 2j) times x[xoff..], the high ones (2j+1) times
// x[xoff+32..], scaled into Y11.
#define Q4SUB(qoff, xoff, soff) \
	VMOVDQU qoff(SI), Y8 \
	VPSRLW  $4, Y8, Y9 \
	VPAND   Y15, Y8, Y8 \
	VPAND   Y15, Y9, Y9 \
	VPMADDUBSW xoff(DI), Y8, Y0 \
	VPMADDUBSW (xoff+32)(DI), Y9, Y1 \
	KSUB(soff, Y0, Y1)

// func dotQ4KAVX2(row *byte, x *int8, d *float32, sum32 *int32, blocks int) float32
// A Q4_K row (blocks of 144 bytes: d, dmin (fp16), scales[12], qs[128]) times a Q8K vector (its quants, its
// scales, its sums of 32): sum over blocks of D * (d * sum(scale * q.x) - dmin * sum(min * sum(x))).
TEXT ·dotQ4KAVX2(SB), NOSPLIT, $16-44
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ sum32+24(FP), R9
	MOVQ blocks+32(FP), CX
	VPBROADCASTQ nib<>(SB), Y15
	VXORPS Y13, Y13, Y13 // D * d * sum(scale * q.x), per lane
	VXORPS Y12, Y12, Y12 // D * dmin * min * sum(x)

q4loop:
	TESTQ CX, CX
	JZ    q4done
	KSCALES
	VPXOR Y11, Y11, Y11
	Q4SUB(16, 0, 0)
	Q4SUB(48, 64, 4)
	Q4SUB(80, 128, 8)
	Q4SUB(112, 192, 12)
	KTAIL(144)
	JMP q4loop

q4done:
	KDONE

// Q5SUB: as Q4SUB for Q5_K (quants at 48 + 32j), with the fifth bits from qh (Y2): shifted to bit 4 by the
// instructions lo and hi leave in Y3 and Y4 (masked with 0x10, Y14).
#define Q5SUB(qoff, xoff, soff) \
	VMOVDQU qoff(SI), Y8 \
	VPSRLW  $4, Y8, Y9 \
	VPAND   Y15, Y8, Y8 \
	VPAND   Y15, Y9, Y9 \
	VPAND   Y14, Y3, Y3 \
	VPAND   Y14, Y4, Y4 \
	VPOR    Y3, Y8, Y8 \
	VPOR    Y4, Y9, Y9 \
	VPMADDUBSW xoff(DI), Y8, Y0 \
	VPMADDUBSW (xoff+32)(DI), Y9, Y1 \
	KSUB(soff, Y0, Y1)

// func dotQ5KAVX2(row *byte, x *int8, d *float32, sum32 *int32, blocks int) float32
// dotQ4KAVX2 for Q5_K (blocks of 176 bytes: d, dmin, scales[12], qh[32], qs[128]): bit 2j of qh[l] is the fifth
// bit of value 64j + l, bit 2j+1 that of value 64j + 32 + l.
TEXT ·dotQ5KAVX2(SB), NOSPLIT, $16-44
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ sum32+24(FP), R9
	MOVQ blocks+32(FP), CX
	VPBROADCASTQ nib<>(SB), Y15
	VPBROADCASTQ bit4<>(SB), Y14
	VXORPS Y13, Y13, Y13
	VXORPS Y12, Y12, Y12

q5loop:
	TESTQ CX, CX
	JZ    q5done
	KSCALES
	VPXOR   Y11, Y11, Y11
	VMOVDQU 16(SI), Y2 // qh
	VPSLLW  $4, Y2, Y3 // bit 0
	VPSLLW  $3, Y2, Y4 // bit 1
	Q5SUB(48, 0, 0)
	VPSLLW  $2, Y2, Y3 // bit 2
	VPSLLW  $1, Y2, Y4 // bit 3
	Q5SUB(80, 64, 4)
	VMOVDQU Y2, Y3     // bit 4
	VPSRLW  $1, Y2, Y4 // bit 5
	Q5SUB(112, 128, 8)
	VPSRLW  $2, Y2, Y3 // bit 6
	VPSRLW  $3, Y2, Y4 // bit 7
	Q5SUB(144, 192, 12)
	KTAIL(176)
	JMP q5loop

q5done:
	KDONE

// DSCALE: X1 = the fp16 at off(SI) times the activations' scale at (R8).
#define DSCALE(off) \
	MOVWLZX off(SI), AX \
	MOVQ    AX, X1 \
	VCVTPH2PS X1, X1 \
	VMULSS  (R8), X1, X1

// HSUM13: the 8 float lanes of Y13 summed into X0.
#define HSUM13 \
	VEXTRACTF128 $1, Y13, X0 \
	VADDPS X0, X13, X0 \
	VHADDPS X0, X0, X0 \
	VHADDPS X0, X0, X0

// func dotQ80AVX2(row *byte, x *int8, d *float32, blocks int) float32
// A Q8_0 row (blocks of 34 bytes: d (fp16), 32 int8) times a Q8K vector: sum over blocks of D * d * q.x, D the
// scale of the 256 values the block is in. Signed times signed: VPMADDUBSW takes |q| and x with q's sign.
TEXT ·dotQ80AVX2(SB), NOSPLIT, $0-36
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ blocks+24(FP), CX
	VPBROADCASTQ ones16<>(SB), Y14
	VXORPS Y13, Y13, Y13
	XORQ   BX, BX // the block's index within its 256 values

q8loop:
	TESTQ CX, CX
	JZ    q8done
	VMOVDQU 2(SI), Y0
	VMOVDQU (DI), Y1
	VPSIGNB Y0, Y1, Y1
	VPABSB  Y0, Y0
	VPMADDUBSW Y1, Y0, Y0
	VPMADDWD Y14, Y0, Y0
	VCVTDQ2PS Y0, Y0
	DSCALE(0) // D * d
	VBROADCASTSS X1, Y1
	VFMADD231PS Y0, Y1, Y13
	ADDQ $34, SI
	ADDQ $32, DI
	INCQ BX
	CMPQ BX, $8
	JNE  q8next
	XORQ BX, BX
	ADDQ $4, R8
q8next:
	DECQ CX
	JMP  q8loop

q8done:
	HSUM13
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// Q6VEC: vector k of the half (values 32k..32k+31, unsigned quants in v) times x[32k..], less 32 * x, times the
// scales of its two sub-blocks (mask p of q6scale), into the block's lanes, Y10.
#define Q6VEC(v, k, p) \
	VPMADDUBSW (32*k)(DI), v, v \
	VPMADDUBSW (32*k)(DI), Y12, Y4 \
	VPSUBW  Y4, v, v \
	VPSHUFB (16*p)(R12), X9, X5 \
	VPMOVSXBW X5, Y5 \
	VPMADDWD Y5, v, v \
	VPADDD  v, Y10, Y10

// Q6HALF: half n of a block (ql at 64n, qh at 128 + 32n, x at 128n from DI).
#define Q6HALF(n) \
	VMOVDQU (64*n)(SI), Y6 \
	VMOVDQU (64*n+32)(SI), Y7 \
	VMOVDQU (128+32*n)(SI), Y8 \
	VPSLLW $4, Y8, Y4 \
	VPAND  Y13, Y4, Y4 \
	VPAND  Y15, Y6, Y0 \
	VPOR   Y4, Y0, Y0 \
	VPSLLW $2, Y8, Y4 \
	VPAND  Y13, Y4, Y4 \
	VPAND  Y15, Y7, Y1 \
	VPOR   Y4, Y1, Y1 \
	VPAND  Y13, Y8, Y4 \
	VPSRLW $4, Y6, Y2 \
	VPAND  Y15, Y2, Y2 \
	VPOR   Y4, Y2, Y2 \
	VPSRLW $2, Y8, Y4 \
	VPAND  Y13, Y4, Y4 \
	VPSRLW $4, Y7, Y3 \
	VPAND  Y15, Y3, Y3 \
	VPOR   Y4, Y3, Y3 \
	Q6VEC(Y0, 0, (4*n)) \
	Q6VEC(Y1, 1, (4*n+1)) \
	Q6VEC(Y2, 2, (4*n+2)) \
	Q6VEC(Y3, 3, (4*n+3)) \
	ADDQ $128, DI

// func dotQ6KAVX2(row *byte, x *int8, d *float32, blocks int) float32
// A Q6_K row (blocks of 210 bytes: ql[128], qh[64], scales[16] (int8), d (fp16)) times a Q8K vector: sum over
// blocks of D * d * sum(scale * (q - 32) . x) per 16 values. In half n of a block, value 32k + l (k = 0..3) takes
// ql[64n + l + 32(k&1)]'s low (k < 2) or high nibble and bits 2k, 2k+1 of qh[32n + l].
TEXT ·dotQ6KAVX2(SB), NOSPLIT, $0-36
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ blocks+24(FP), CX
	VPBROADCASTQ nib<>(SB), Y15
	VPBROADCASTQ bits45<>(SB), Y13
	VPBROADCASTQ thirtytwo<>(SB), Y12
	LEAQ q6scale<>(SB), R12
	VXORPS Y11, Y11, Y11 // D * d * sum, per lane

q6loop:
	TESTQ CX, CX
	JZ    q6done
	VPXOR   Y10, Y10, Y10
	VMOVDQU 192(SI), X9 // the 16 scales
	Q6HALF(0)
	Q6HALF(1)
	VCVTDQ2PS Y10, Y10
	MOVWLZX 208(SI), AX
	MOVQ    AX, X0
	VCVTPH2PS X0, X0
	VMULSS  (R8), X0, X0 // D * d
	VBROADCASTSS X0, Y0
	VFMADD231PS Y10, Y0, Y11

	ADDQ $210, SI
	ADDQ $4, R8
	DECQ CX
	JMP  q6loop

q6done:
	VEXTRACTF128 $1, Y11, X0
	VADDPS X0, X11, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// IQ4DOT: the 16 bytes of IQ4 nibbles at qoff(SI) (value j low, j + 16 high) looked up in the codebook (Y15) and
// dotted with the 32 activation quants at xoff(DI): pairs of products in 16 int16 lanes, times the int16 words
// of scale and added pairwise into 8 int32 lanes, Y0. Signed times signed, as Q8_0's: VPMADDUBSW takes |w| and x
// with w's sign (|w| <= 127: no saturation).
#define IQ4DOT(qoff, xoff, scale) \
	VMOVDQU qoff(SI), X0 \
	VPSRLW  $4, X0, X1 \
	VINSERTI128 $1, X1, Y0, Y0 \
	VPAND   Y14, Y0, Y0 \
	VPSHUFB Y0, Y15, Y0 \
	VMOVDQU xoff(DI), Y1 \
	VPSIGNB Y0, Y1, Y1 \
	VPABSB  Y0, Y0 \
	VPMADDUBSW Y1, Y0, Y0 \
	VPMADDWD scale, Y0, Y0

// func dotIQ4NLAVX2(row *byte, x *int8, d *float32, blocks int) float32
// An IQ4_NL row (blocks of 18 bytes: d (fp16), 16 bytes of nibbles indexing the codebook) times a Q8K vector: sum
// over blocks of D * d * kvalue(q).x, D the scale of the 256 values the block is in.
TEXT ·dotIQ4NLAVX2(SB), NOSPLIT, $0-36
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ blocks+24(FP), CX
	VBROADCASTI128 iq4tab<>(SB), Y15
	VPBROADCASTQ nib<>(SB), Y14
	VPBROADCASTQ ones16<>(SB), Y12
	VXORPS Y13, Y13, Y13
	XORQ   BX, BX // the block's index within its 256 values

nlloop:
	TESTQ CX, CX
	JZ    nldone
	IQ4DOT(2, 0, Y12)
	VCVTDQ2PS Y0, Y0
	DSCALE(0) // D * d
	VBROADCASTSS X1, Y1
	VFMADD231PS Y0, Y1, Y13
	ADDQ $18, SI
	ADDQ $32, DI
	INCQ BX
	CMPQ BX, $8
	JNE  nlnext
	XORQ BX, BX
	ADDQ $4, R8
nlnext:
	DECQ CX
	JMP  nlloop

nldone:
	HSUM13
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// XSSUB: sub-block ib of an IQ4_XS block: its 6-bit scale ls (scales_l's nibble at byte lbyte, shift lsh, and bits
// hsh, hsh+1 of scales_h in R10) less 32 times its codebook dot, added to the block's lanes, Y11. The scale is
// applied by IQ4DOT's VPMADDWD, and the sums stay integers: 2 * 32258 * 32 a lane and sub-block, 8 sub-blocks.
#define XSSUB(lbyte, lsh, hsh, qoff, xoff) \
	MOVBLZX lbyte(SI), AX \
	SHRL    $lsh, AX \
	ANDL    $15, AX \
	MOVL    R10, DX \
	SHRL    $hsh, DX \
	ANDL    $3, DX \
	SHLL    $4, DX \
	ORL     DX, AX \
	SUBL    $32, AX \
	MOVQ    AX, X2 \
	VPBROADCASTW X2, Y2 \
	IQ4DOT(qoff, xoff, Y2) \
	VPADDD  Y0, Y11, Y11

// func dotIQ4XSAVX2(row *byte, x *int8, d *float32, blocks int) float32
// An IQ4_XS row (blocks of 136 bytes: d (fp16), scales_h (16 bits), scales_l[4], qs[128]) times a Q8K vector: sum
// over blocks of D * d * sum((ls - 32) * kvalue(q).x) per sub-block of 32.
TEXT ·dotIQ4XSAVX2(SB), NOSPLIT, $0-36
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ blocks+24(FP), CX
	VBROADCASTI128 iq4tab<>(SB), Y15
	VPBROADCASTQ nib<>(SB), Y14
	VPBROADCASTQ ones16<>(SB), Y12
	VXORPS Y13, Y13, Y13

xsloop:
	TESTQ CX, CX
	JZ    xsdone
	MOVWLZX 2(SI), R10
	VPXOR   Y11, Y11, Y11
	XSSUB(4, 0, 0, 8, 0)
	XSSUB(4, 4, 2, 24, 32)
	XSSUB(5, 0, 4, 40, 64)
	XSSUB(5, 4, 6, 56, 96)
	XSSUB(6, 0, 8, 72, 128)
	XSSUB(6, 4, 10, 88, 160)
	XSSUB(7, 0, 12, 104, 192)
	XSSUB(7, 4, 14, 120, 224)
	VCVTDQ2PS Y11, Y11
	DSCALE(0) // D * d
	VBROADCASTSS X1, Y1
	VFMADD231PS Y11, Y1, Y13
	ADDQ $136, SI
	ADDQ $256, DI
	ADDQ $4, R8
	DECQ CX
	JMP  xsloop

xsdone:
	HSUM13
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// Q3CHUNK: values 128n + 32j + l (l = 0..31) of a Q3_K block: their 2 low bits from qs (half n in Y9) shifted
// right by 2j, less 4 where bit 4n + j (the byte at q3bit<>+bit) of hmask (Y10) is clear, times x[xoff..]:
// VPMADDUBSW of the bits and of the 4s (both unsigned, below 8) with x, subtracted in int16 (at most 2 * 7 * 127
// apart), then VPMADDWD with the scales less 32 of values l < 16 (int16 at s0(SP)) and l >= 16 (s1(SP)) into
// the block's lanes, Y11.
#define Q3CHUNK(sh, bit, xoff, s0, s1) \
	VPSRLW  $sh, Y9, Y0 \
	VPAND   Y15, Y0, Y0 \
	VPBROADCASTB q3bit<>+bit(SB), Y1 \
	VPAND   Y10, Y1, Y1 \
	VPCMPEQB Y8, Y1, Y1 \
	VPAND   Y14, Y1, Y1 \
	VMOVDQU xoff(DI), Y2 \
	VPMADDUBSW Y2, Y0, Y0 \
	VPMADDUBSW Y2, Y1, Y1 \
	VPSUBW  Y1, Y0, Y0 \
	VPBROADCASTW s0(SP), X3 \
	VPBROADCASTW s1(SP), X4 \
	VINSERTI128 $1, X4, Y3, Y3 \
	VPMADDWD Y3, Y0, Y0 \
	VPADDD  Y0, Y11, Y11

// Q3SCALE: bytes 4i..4i+3 of the 16 6-bit scales (ggml's unpacking of scales[12], the words a0, a1 and tmp in AX,
// BX, DX): the low nibbles of word w (shifted right by lo), with bits 2i, 2i+1 of each byte of tmp above them,
// stored at 4i(SP).
#define Q3SCALE(w, lo, th, off) \
	MOVL w, R10 \
	SHRL $lo, R10 \
	ANDL $0x0f0f0f0f, R10 \
	MOVL DX, R12 \
	SHRL $th, R12 \
	ANDL $0x03030303, R12 \
	SHLL $4, R12 \
	ORL  R12, R10 \
	MOVL R10, off(SP)

// func dotQ3KAVX2(row *byte, x *int8, d *float32, blocks int) float32
// A Q3_K row (blocks of 110 bytes: hmask[32], qs[64], scales[12], d (fp16)) times a Q8K vector: sum over blocks
// of D * d * sum((scale - 32) * q.x) per 16 values. Each block's scales are unpacked to 16 int16 at 0(SP).
TEXT ·dotQ3KAVX2(SB), NOSPLIT, $32-36
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ blocks+24(FP), CX
	VPBROADCASTQ threes<>(SB), Y15
	VPBROADCASTQ fours<>(SB), Y14
	MOVL $32, AX
	MOVQ AX, X7
	VPBROADCASTW X7, Y7
	VPXOR  Y8, Y8, Y8
	VXORPS Y13, Y13, Y13

q3loop:
	TESTQ CX, CX
	JZ    q3done
	MOVL 96(SI), AX
	MOVL 100(SI), BX
	MOVL 104(SI), DX
	Q3SCALE(AX, 0, 0, 0)
	Q3SCALE(BX, 0, 2, 4)
	Q3SCALE(AX, 4, 4, 8)
	Q3SCALE(BX, 4, 6, 12)
	VMOVDQU   0(SP), X6
	VPMOVZXBW X6, Y6
	VPSUBW    Y7, Y6, Y6
	VMOVDQU   Y6, 0(SP)
	VMOVDQU (SI), Y10
	VPXOR   Y11, Y11, Y11
	VMOVDQU 32(SI), Y9
	Q3CHUNK(0, 0, 0, 0, 2)
	Q3CHUNK(2, 1, 32, 4, 6)
	Q3CHUNK(4, 2, 64, 8, 10)
	Q3CHUNK(6, 3, 96, 12, 14)
	VMOVDQU 64(SI), Y9
	Q3CHUNK(0, 4, 128, 16, 18)
	Q3CHUNK(2, 5, 160, 20, 22)
	Q3CHUNK(4, 6, 192, 24, 26)
	Q3CHUNK(6, 7, 224, 28, 30)
	VCVTDQ2PS Y11, Y11
	DSCALE(108) // D * d
	VBROADCASTSS X1, Y1
	VFMADD231PS Y11, Y1, Y13
	ADDQ $110, SI
	ADDQ $256, DI
	ADDQ $4, R8
	DECQ CX
	JMP  q3loop

q3done:
	HSUM13
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// Q2CHUNK: values 128n + 32j + l (l = 0..31) of a Q2_K block: their 2 bits from qs (half n in Y9) shifted right by
// 2j, times x[xoff..] (VPMADDUBSW, unsigned below 4), then VPMADDWD with the scales of values l < 16 (int16 at
// s0(SP)) and l >= 16 (s1(SP)) into the block's lanes, Y11.
#define Q2CHUNK(sh, xoff, s0, s1) \
	VPSRLW  $sh, Y9, Y0 \
	VPAND   Y15, Y0, Y0 \
	VPMADDUBSW xoff(DI), Y0, Y0 \
	VPBROADCASTW s0(SP), X3 \
	VPBROADCASTW s1(SP), X4 \
	VINSERTI128 $1, X4, Y3, Y3 \
	VPMADDWD Y3, Y0, Y0 \
	VPADDD  Y0, Y11, Y11

// func dotQ2KAVX2(row *byte, x *int8, d *float32, sum16 *int32, blocks int) float32
// A Q2_K row (blocks of 84 bytes: scales[16] (4-bit scale, 4-bit min), qs[64], d, dmin (fp16)) times a Q8K vector
// (its quants, scales and sums of 16): sum over blocks of D * (d * sum(scale * q.x) - dmin * sum(min * sum(x))) per
// 16 values. Each block's scales are widened to 16 int16 at 0(SP); its mins times the sums of x go to Y12.
TEXT ·dotQ2KAVX2(SB), NOSPLIT, $32-44
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ sum16+24(FP), R9
	MOVQ blocks+32(FP), CX
	VPBROADCASTQ threes<>(SB), Y15
	VPBROADCASTQ nib<>(SB), Y14
	VXORPS Y13, Y13, Y13 // D * d * scale * q.x, per lane
	VXORPS Y12, Y12, Y12 // D * dmin * min * sum(x), per lane

q2loop:
	TESTQ CX, CX
	JZ    q2done
	VMOVDQU   (SI), X5
	VPAND     X14, X5, X6
	VPMOVZXBW X6, Y6
	VMOVDQU   Y6, 0(SP)
	VPSRLW    $4, X5, X5
	VPAND     X14, X5, X5 // the 16 mins
	VPMOVZXBD X5, Y6
	VPSRLDQ   $8, X5, X5
	VPMOVZXBD X5, Y7
	VPMULLD   (R9), Y6, Y6
	VPMULLD   32(R9), Y7, Y7
	VPADDD    Y7, Y6, Y6
	VCVTDQ2PS Y6, Y6
	DSCALE(82) // D * dmin
	VBROADCASTSS X1, Y1
	VFMADD231PS Y6, Y1, Y12
	VPXOR   Y11, Y11, Y11
	VMOVDQU 16(SI), Y9
	Q2CHUNK(0, 0, 0, 2)
	Q2CHUNK(2, 32, 4, 6)
	Q2CHUNK(4, 64, 8, 10)
	Q2CHUNK(6, 96, 12, 14)
	VMOVDQU 48(SI), Y9
	Q2CHUNK(0, 128, 16, 18)
	Q2CHUNK(2, 160, 20, 22)
	Q2CHUNK(4, 192, 24, 26)
	Q2CHUNK(6, 224, 28, 30)
	VCVTDQ2PS Y11, Y11
	DSCALE(80) // D * d
	VBROADCASTSS X1, Y1
	VFMADD231PS Y11, Y1, Y13
	ADDQ $84, SI
	ADDQ $256, DI
	ADDQ $4, R8
	ADDQ $64, R9
	DECQ CX
	JMP  q2loop

q2done:
	VSUBPS Y12, Y13, Y13
	HSUM13
	VZEROUPPER
	MOVSS X0, ret+40(FP)
	RET

// func dotLegacyAVX2(row *byte, x *int8, d *float32, sum32 *int32, blocks, blockBytes, qsOff, qhOff, off, withMin int) float32
// A row of Q4_0, Q4_1, Q5_0 or Q5_1 (blocks of 32 values, blockBytes each: d (fp16); m (fp16) when withMin; the 32 fifth
// bits at qhOff when it is not 0; 16 bytes of nibbles at qsOff) times a Q8K vector: sum over blocks of
// D * (d * (q.x - off * sum(x)) + m * sum(x)). The fifth bits become bytes as llama.cpp's bytes_from_bits_32 does.
TEXT ·dotLegacyAVX2(SB), NOSPLIT, $0-84
	MOVQ row+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ d+16(FP), R8
	MOVQ sum32+24(FP), R9
	MOVQ blocks+32(FP), CX
	MOVQ blockBytes+40(FP), R12
	MOVQ qsOff+48(FP), R10
	MOVQ qhOff+56(FP), R11
	VCVTSI2SSQ off+64(FP), X10, X10
	MOVQ withMin+72(FP), R13
	VPBROADCASTQ nib<>(SB), Y15
	VPBROADCASTQ ones16<>(SB), Y14
	VMOVDQU q5shuf<>(SB), Y9
	VPBROADCASTQ q5bits<>(SB), Y8
	VPCMPEQB Y7, Y7, Y7
	VPBROADCASTQ bit4<>(SB), Y6
	VXORPS Y13, Y13, Y13 // D * d * q.x, per lane
	VXORPS X12, X12, X12 // D * (m - off * d) * sum(x)
	XORQ   BX, BX        // the block's index within its 256 values

lgloop:
	TESTQ CX, CX
	JZ    lgdone
	VMOVDQU (SI)(R10*1), X0
	VPSRLW  $4, X0, X1
	VINSERTI128 $1, X1, Y0, Y0 // low lane: bytes for values 0-15, high lane: 16-31
	VPAND   Y15, Y0, Y0
	TESTQ   R11, R11
	JZ      lgquants
	VPBROADCASTD (SI)(R11*1), Y1
	VPSHUFB Y9, Y1, Y1
	VPOR    Y8, Y1, Y1
	VPCMPEQB Y7, Y1, Y1
	VPAND   Y6, Y1, Y1
	VPOR    Y1, Y0, Y0
lgquants:
	VPMADDUBSW (DI), Y0, Y0
	VPMADDWD Y14, Y0, Y0
	VCVTDQ2PS Y0, Y0
	DSCALE(0) // D * d
	VBROADCASTSS X1, Y2
	VFMADD231PS Y0, Y2, Y13
	VMULSS  X10, X1, X3 // D * d * off
	VXORPS  X4, X4, X4
	TESTQ   R13, R13
	JZ      lgsum
	MOVWLZX 2(SI), AX
	MOVQ    AX, X4
	VCVTPH2PS X4, X4
	VMULSS  (R8), X4, X4 // D * m
lgsum:
	VSUBSS  X3, X4, X3 // D * (m - off * d)
	VCVTSI2SSL (R9), X4, X4
	VFMADD231SS X4, X3, X12
	ADDQ R12, SI
	ADDQ $32, DI
	ADDQ $4, R9
	INCQ BX
	CMPQ BX, $8
	JNE  lgnext
	XORQ BX, BX
	ADDQ $4, R8
lgnext:
	DECQ CX
	JMP  lgloop

lgdone:
	HSUM13
	VADDSS X12, X0, X0
	VZEROUPPER
	MOVSS X0, ret+80(FP)
	RET
