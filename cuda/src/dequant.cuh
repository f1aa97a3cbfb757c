// dequant.cuh: Q8_0 unpacking and dtype conversions.
//
// GGUF's Q8_0 block is 34 bytes: an fp16 scale d, then 32 int8 quants q, value = d*q. Blocks are not
// 4-byte aligned, so at upload they are split into an int8 quant array and a half scale array, which the
// matvec kernel reads with 8- and 16-byte loads. Nothing is lost: the values are exactly those stored.
#pragma once
#include "common.cuh"

// Splits nblocks raw Q8_0 blocks (device) into qs[nblocks*32] and d[nblocks].
kic_status launch_q8_0_split(const uint8_t *raw, int64_t nblocks, int8_t *qs, __half *d, cudaStream_t s);
// Dequantizes count values of a split Q8_0 tensor, starting at element first (a multiple of 32), to fp32/fp16.
kic_status launch_q8_0_to_f32(const int8_t *qs, const __half *d, int64_t first, int64_t count, float *y,
                              cudaStream_t s);
// Dequantizes the tile rows [r0, r0 + nrows) x columns [c0, c0 + ncols) of a split Q8_0 rows x cols matrix to
// fp16, ncols values a row (c0 and ncols multiples of 32).
kic_status launch_q8_0_tile_f16(const int8_t *qs, const __half *d, int64_t cols, int64_t r0, int64_t nrows, int64_t c0,
                                int64_t ncols, __half *y, cudaStream_t s);
// Converts count fp32 values to dtype (KIC_F16 or KIC_BF16).
kic_status launch_f32_to(int dtype, const float *x, int64_t count, void *y, cudaStream_t s);
// Splits count fp32 values into hi = dtype(x) and lo = dtype(x - hi) (KIC_F16 or KIC_BF16).
kic_status launch_f32_split(int dtype, const float *x, int64_t count, void *hi, void *lo, cudaStream_t s);
