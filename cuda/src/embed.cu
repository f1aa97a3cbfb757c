#include "embed.cuh"
#include "quant.cuh"

__global__ void embed_kernel(int dtype, const void *table, const __half *scales, int dim, int64_t vocab_start,
                             int64_t rows, const int32_t *tokens, float scale, const float *pos_table, const int32_t *pos,
                             float *y) {
	pdl_wait();
	pdl_launch_dependents();
	int i = blockIdx.x;
	int64_t row = tokens[i] - vocab_start;
	bool mine = row >= 0 && row < rows;
	float *out = y + (int64_t)i * dim;
	for (int c = threadIdx.x; c < dim; c += blockDim.x) {
		int64_t idx = row * dim + c;
		float v;
		if (!mine)
			v = 0.0f;
		else if (dtype == KIC_Q8_0)
			v = (float)((const int8_t *)table)[idx] * __half2float(scales[idx / 32]);
		else
			v = load_elem(dtype, table, idx);
		v *= scale; // as the CPU engine: the row in float32, then the scale
		if (pos_table) v += pos_table[(int64_t)pos[i] * dim + c];
		out[c] = v;
	}
}

// Block formats: each thread decodes 8 values of the token's row (dim is a whole number of blocks).
template <int DT>
__global__ void embed_quant_kernel(const void *table, int dim, int64_t vocab_start, int64_t rows, const int32_t *tokens,
                                   float scale, const float *pos_table, const int32_t *pos, float *y) {
	pdl_wait();
	pdl_launch_dependents();
	int i = blockIdx.x;
	int64_t row = tokens[i] - vocab_start;
	bool mine = row >= 0 && row < rows;
	float *out = y + (int64_t)i * dim;
	for (int c = 8 * threadIdx.x; c < dim; c += 8 * blockDim.x) {
		float v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
		if (mine) dequant8<DT>(table, row * dim + c, v);
#pragma unroll
		for (int k = 0; k < 8; k++) {
			float e = v[k] * scale;
			out[c + k] = pos_table ? e + pos_table[(int64_t)pos[i] * dim + c + k] : e;
		}
	}
}

kic_status launch_embed(const kic_mat &table, int64_t vocab_start, const int32_t *tokens, int n, float scale,
                        const float *pos_table, const int32_t *pos, float *y, cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	switch (table.dtype) {
#define CASE(DT)                                                                                                      \
	case DT:                                                                                                          \
		return kic_launch(embed_quant_kernel<DT>, dim3(n), dim3(128), 0, s, (const void *)table.data, (int)table.cols, \
		                  vocab_start, (int64_t)table.rows, tokens, scale, pos_table, pos, y);
		KIC_FOR_EACH_BLOCK_QUANT(CASE)
#undef CASE
	}
	return kic_launch(embed_kernel, dim3(n), dim3(256), 0, s, (int)table.dtype, (const void *)table.data,
	                  (const __half *)table.scales, (int)table.cols, vocab_start, (int64_t)table.rows, tokens, scale,
	                  pos_table, pos, y);
}
