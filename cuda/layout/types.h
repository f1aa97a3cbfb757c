/*
 * types.h: the weight types the CUDA library takes, as ggml stores them: elements per block and bytes per
 * block, the one table model.cu sizes, checks and uploads tensors by. worker/gguf's type table says the same
 * for the Go side, and its test compiles this file and compares the two. Plain C, as layout.h.
 */
#ifndef KIC_TYPES_H
#define KIC_TYPES_H

#include <stdint.h>

#include "kubeinfer_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kic_type_traits {
	int32_t dtype;       /* kic_dtype, ggml's number */
	const char *name;    /* ggml's name */
	int32_t block;       /* elements per block */
	int32_t block_bytes; /* bytes per block as stored in GGUF */
} kic_type_traits;

/* The types kic_upload accepts for matrices and embeddings, in the order of ggml's enum. */
static const kic_type_traits kic_types[] = {
	{KIC_F32, "F32", 1, 4},         {KIC_F16, "F16", 1, 2},         {KIC_Q4_0, "Q4_0", 32, 18},
	{KIC_Q4_1, "Q4_1", 32, 20},     {KIC_Q5_0, "Q5_0", 32, 22},     {KIC_Q5_1, "Q5_1", 32, 24},
	{KIC_Q8_0, "Q8_0", 32, 34},     {KIC_Q2_K, "Q2_K", 256, 84},    {KIC_Q3_K, "Q3_K", 256, 110},
	{KIC_Q4_K, "Q4_K", 256, 144},   {KIC_Q5_K, "Q5_K", 256, 176},   {KIC_Q6_K, "Q6_K", 256, 210},
	{KIC_IQ4_NL, "IQ4_NL", 32, 18}, {KIC_IQ4_XS, "IQ4_XS", 256, 136}, {KIC_BF16, "BF16", 1, 2},
};
enum { KIC_TYPE_COUNT = sizeof kic_types / sizeof kic_types[0] };

/* kic_type returns dtype's row, or NULL for a type the library does not take. */
static inline const kic_type_traits *kic_type(int32_t dtype) {
	for (int i = 0; i < KIC_TYPE_COUNT; i++)
		if (kic_types[i].dtype == dtype) return &kic_types[i];
	return 0;
}

/* kic_type_bytes is the stored size of n elements of dtype (n a whole number of blocks), 0 if unknown. */
static inline uint64_t kic_type_bytes(int32_t dtype, uint64_t n) {
	const kic_type_traits *t = kic_type(dtype);
	return t ? n / (uint64_t)t->block * (uint64_t)t->block_bytes : 0;
}

#ifdef __cplusplus
}
#endif
#endif /* KIC_TYPES_H */
