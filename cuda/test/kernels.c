// kernels: checks every kernel of libkubeinfer_cuda.so against a CPU reference written here, each with
// its tolerance next to the check. Needs a GPU; run by hack/cuda-device-test.sh (or `make -C cuda test`).
//
// A check passes when |got - want| <= tol * (|want| + mean|want|) for every element: relative, with the
// row's mean magnitude as the floor so values near zero are not held to an impossible relative bound.
// Tolerances: fp32 arithmetic 1e-5; products whose inputs were rounded to bf16 2e-2, to fp16 5e-3.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kic_test.h"
#include "types.h"
#include "layout.h"

#define TOL_F32 1e-5
#define TOL_BF16 2e-2
#define TOL_F16 5e-3
// The int8 path (the matvec's activations rounded to int8 blocks of 32) against a float64 reference of the same
// math, the dequantized weights times the int8-rounded activations: fp32 rounding of the scale products and the
// sums, as the float matvec's 4096-column checks (TOL_F32 * 10).
#define TOL_Q8_SAME (TOL_F32 * 10)
// The int8 path's [gate; up] against the float kernel (activations not rounded): the rounding of x in [-1, 1) to
// steps of amax / 127 per 32 values is a relative error of ~0.4% a value, independent across values. A CPU
// simulation of these checks (random weights, 200 draws of x, the shapes below, check's measure) gave at worst
// 7.7e-2 for [gate; up], whose silu(g) * u multiplies two rounded products; the bound is about two times that.
// The plain product is held to the rounding's own bound instead (check_rounding).

static int failures, checks;

#define CALL(x)                                                                                      \
	do {                                                                                             \
		kic_status st_ = (x);                                                                        \
		if (st_ != KIC_OK) {                                                                         \
			printf("FAIL %s:%d %s: status %d: %s\n", __FILE__, __LINE__, #x, st_, kic_last_error()); \
			failures++;                                                                              \
			return;                                                                                  \
		}                                                                                            \
	} while (0)

static void check(const char *name, const float *got, const float *want, long n, double tol) {
	double mean = 0, worst = 0;
	for (long i = 0; i < n; i++) mean += fabs(want[i]);
	mean = mean / n + 1e-30;
	long at = 0;
	for (long i = 0; i < n; i++) {
		double e = fabs((double)got[i] - want[i]) / (fabs(want[i]) + mean);
		if (!(e <= worst)) worst = e, at = i;
	}
	checks++;
	int ok = worst <= tol;
	if (!ok) failures++;
	printf("%s %-40s worst rel err %.3g (tol %.0e) at %ld: got %.7g want %.7g\n", ok ? "ok  " : "FAIL", name, worst, tol,
	       at, got[at], want[at]);
}

// check_rounding checks got against want where bound[i] is the most that rounding can move output i (the int8
// path against the float kernel: sum over c of |w[i][c]| * |x[c] - rounded x[c]|): the two may differ
// by that plus slack of the magnitude (fp32 rounding), wherever cancellation makes the output small.
static void check_rounding(const char *name, const float *got, const float *want, const double *bound, long n, double slack) {
	double mean = 0, worst = 0;
	for (long i = 0; i < n; i++) mean += fabs(want[i]);
	mean = mean / n + 1e-30;
	long at = 0;
	for (long i = 0; i < n; i++) {
		double e = fabs((double)got[i] - want[i]) / (bound[i] + slack * (fabs(want[i]) + mean));
		if (!(e <= worst)) worst = e, at = i;
	}
	checks++;
	int ok = worst <= 1;
	if (!ok) failures++;
	printf("%s %-40s worst share of the rounding bound %.3g at %ld: got %.7g want %.7g (bound %.3g)\n", ok ? "ok  " : "FAIL",
	       name, worst, at, got[at], want[at], bound[at]);
}

static uint64_t rng = 88172645463325252ull;
static float frand(void) { // uniform in [-1, 1)
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.f - 1.f;
}
static void fill(float *x, long n, float scale) {
	for (long i = 0; i < n; i++) x[i] = frand() * scale;
}

static uint16_t to_bf16(float f, float *back) { // truncates; back is the value the GPU will see
	uint32_t u;
	memcpy(&u, &f, 4);
	uint16_t b = (uint16_t)(u >> 16);
	u = (uint32_t)b << 16;
	memcpy(back, &u, 4);
	return b;
}

static uint16_t to_f16(float f, float *back) { // normals and zero, truncating the mantissa
	uint32_t u;
	memcpy(&u, &f, 4);
	uint32_t sign = (u >> 16) & 0x8000u;
	int e = (int)((u >> 23) & 0xff) - 127 + 15;
	uint16_t h;
	if (f == 0.f || e <= 0) h = (uint16_t)sign;
	else h = (uint16_t)(sign | (uint32_t)e << 10 | ((u >> 13) & 0x3ffu));
	int he = (h >> 10) & 0x1f;
	float v = he ? ldexpf(1.f + (h & 0x3ff) / 1024.f, he - 15) : 0.f;
	*back = (h & 0x8000) ? -v : v;
	return h;
}

// The KV cache's rounding, as the CPU engine does it (gguf's encoders, ggml's): fp16 and bf16 to nearest even
// (finite values), q8_0 per 32 consecutive values with scale amax / 127 stored as fp16.
static float rne_f16(float f) {
	if (f == 0.f || !isfinite(f)) return f;
	int e;
	frexpf(f, &e); // |f| in [2^(e-1), 2^e)
	int exp = e - 1 < -14 ? -14 : e - 1; // subnormals share the smallest exponent
	float ulp = ldexpf(1.f, exp - 10);
	return nearbyintf(f / ulp) * ulp; // the quotient is exact; nearbyint rounds half to even
}
static float rne_bf16(float f) {
	uint32_t u;
	memcpy(&u, &f, 4);
	u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
	memcpy(&f, &u, 4);
	return f;
}
static void round_kv(int kv_type, float *x, long n) {
	for (long i = 0; i < n; i++) {
		if (kv_type == KIC_F16) x[i] = rne_f16(x[i]);
		if (kv_type == KIC_BF16) x[i] = rne_bf16(x[i]);
	}
	if (kv_type != KIC_Q8_0) return;
	for (long b = 0; b + 32 <= n; b += 32) {
		float amax = 0;
		for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b + j]));
		float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f, dh = rne_f16(d);
		for (int j = 0; j < 32; j++) x[b + j] = (float)(int8_t)roundf(x[b + j] * id) * dh;
	}
}

static const char *kv_name(int kv_type) {
	return kv_type == KIC_F16 ? "f16" : kv_type == KIC_BF16 ? "bf16" : kv_type == KIC_Q8_0 ? "q8_0" : "f32";
}

// The KV write kernel stores each type exactly as the CPU engine rounds it, and the loads read it back.
static void test_kv_store(int kv_type, int kv_dim, int len) {
	float *k = malloc(sizeof(float) * len * kv_dim), *v = malloc(sizeof(float) * len * kv_dim);
	float *gk = malloc(sizeof(float) * len * kv_dim), *gv = malloc(sizeof(float) * len * kv_dim);
	fill(k, len * kv_dim, 3), fill(v, len * kv_dim, 0.01f);
	for (int i = 0; i < kv_dim; i++) k[i] = 0; // an all-zero group: scale 0
	k[kv_dim + 5] = 60000.f;                    // a group dominated by one value
	char name[64];
	snprintf(name, sizeof name, "kv store %s width %d len %d", kv_name(kv_type), kv_dim, len);
	CALL(kic_test_kv_store(kv_type, k, v, len, kv_dim, gk, gv));
	round_kv(kv_type, k, len * kv_dim), round_kv(kv_type, v, len * kv_dim);
	check(name, gk, k, len * kv_dim, 0); // exact: the same rounding on both sides
	check(name, gv, v, len * kv_dim, 0);
	free(k), free(v), free(gk), free(gv);
}

// Encodes rows*cols values (cols % 32 == 0) as GGUF Q8_0 blocks with power-of-two scales, so the
// dequantized values are exact; back receives them.
static uint8_t *to_q8_0(const float *x, long n, float *back) {
	uint8_t *blocks = malloc(n / 32 * 34);
	for (long b = 0; b < n / 32; b++) {
		float amax = 0;
		for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
		int e = (int)ceilf(log2f(amax / 127.f + 1e-30f));
		if (e < -14) e = -14;
		float d = ldexpf(1.f, e);
		uint16_t hb = (uint16_t)((e + 15) << 10);
		blocks[b * 34] = hb & 0xff, blocks[b * 34 + 1] = hb >> 8;
		for (int j = 0; j < 32; j++) {
			int q = (int)lrintf(x[b * 32 + j] / d);
			q = q > 127 ? 127 : q < -127 ? -127 : q;
			blocks[b * 34 + 2 + j] = (uint8_t)(int8_t)q;
			back[b * 32 + j] = q * d;
		}
	}
	return blocks;
}

static void ref_linear(const float *w, const float *x, const float *bias, int acc, long rows, long cols, int n, float *y) {
	for (int t = 0; t < n; t++)
		for (long r = 0; r < rows; r++) {
			double s = 0;
			for (long c = 0; c < cols; c++) s += (double)w[r * cols + c] * x[t * cols + c];
			if (bias) s += bias[r];
			y[t * rows + r] = (float)(acc ? y[t * rows + r] + s : s);
		}
}

// The types the int8 path takes (quant_q8.cuh's kic_q8_type): the others run the float kernels either way.
static int int8_type(int dt) {
	return dt == KIC_Q4_0 || dt == KIC_Q4_1 || dt == KIC_Q5_0 || dt == KIC_Q5_1 || dt == KIC_Q8_0 || dt == KIC_Q4_K ||
	       dt == KIC_Q5_K || dt == KIC_Q6_K || dt == KIC_IQ4_NL || dt == KIC_IQ4_XS;
}

// q8_round rounds x as the int8 path does, per 32 values: d = amax / 127, q = round-half-even(x * (127 / amax)) in
// fp32, and writes d * q.
static void q8_round(const float *x, long n, double *xr) {
	for (long b = 0; b + 32 <= n; b += 32) {
		float amax = 0.f;
		for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b + j]));
		float id = amax > 0.f ? 127.f / amax : 0.f, d = amax / 127.f;
		for (int j = 0; j < 32; j++) {
			float p = x[b + j] * id;
			xr[b + j] = (double)d * rintf(p);
		}
	}
}

// test_int8 runs the int8 path on a rows x cols matrix of dtype (raw as stored in GGUF; wv its dequantized values)
// at n tokens, the plain product and, with swiglu, the [gate; up] one: against the float64 product of wv with the
// int8-rounded x (TOL_Q8_SAME) and against the float kernel (check_rounding: within what rounding x can move).
static void test_int8(const char *what, int dtype, const void *raw, uint64_t bytes, const float *wv, long rows, long cols,
                      int n, int swiglu) {
	long out = swiglu ? rows / 2 : rows;
	float *x = malloc(sizeof(float) * n * cols), *y = malloc(sizeof(float) * n * out), *yf = malloc(sizeof(float) * n * out);
	float *want = malloc(sizeof(float) * n * out);
	double *xr = malloc(sizeof(double) * n * cols), *gu = malloc(sizeof(double) * n * rows);
	double *eb = malloc(sizeof(double) * n * rows);
	fill(x, n * cols, 1);
	x[3] = 0; // a block whose largest value is not first, and an all-zero block (scale 0)
	if (cols >= 64) memset(x + 32, 0, sizeof(float) * 32);
	q8_round(x, n * cols, xr);
	for (int t = 0; t < n; t++)
		for (long r = 0; r < rows; r++) {
			double d = 0, e = 0;
			for (long c = 0; c < cols; c++) {
				d += (double)wv[r * cols + c] * xr[t * cols + c];
				e += fabs((double)wv[r * cols + c]) * fabs(x[t * cols + c] - xr[t * cols + c]);
			}
			gu[t * rows + r] = d, eb[t * rows + r] = e;
		}
	for (int t = 0; t < n; t++)
		for (long r = 0; r < out; r++) {
			if (!swiglu) {
				want[t * out + r] = (float)gu[t * rows + r];
				continue;
			}
			double g = gu[t * rows + r], u = gu[t * rows + out + r];
			want[t * out + r] = (float)(g / (1 + exp(-g)) * u);
		}
	char name[128];
	snprintf(name, sizeof name, "int8 %s %s %s %ldx%ld n=%d", swiglu ? "linear+swiglu" : "matvec", kic_type(dtype)->name,
	         what, rows, cols, n);
	kic_status st = KIC_OK;
	kic_test_matvec_int8(0);
	st = swiglu ? kic_test_linear_glu(KIC_ACT_SILU, dtype, raw, bytes, rows, cols, x, n, yf)
	            : kic_test_linear(dtype, raw, bytes, rows, cols, x, n, NULL, 0, 0, yf);
	kic_test_matvec_int8(1);
	if (st == KIC_OK)
		st = swiglu ? kic_test_linear_glu(KIC_ACT_SILU, dtype, raw, bytes, rows, cols, x, n, y)
		            : kic_test_linear(dtype, raw, bytes, rows, cols, x, n, NULL, 0, 0, y);
	kic_test_matvec_int8(0);
	if (st != KIC_OK) {
		printf("FAIL %s: %s\n", name, kic_last_error());
		failures++;
	} else {
		check(name, y, want, n * out, TOL_Q8_SAME);
		snprintf(name + strlen(name), sizeof name - strlen(name), " vs float");
		if (swiglu) {
			// The rounding bounds of gate (eg) and up (eu) carried through act(g) * u, with |silu'| <= 1.1: a gate near
			// 0 can change sign within its bound, so a fixed relative tolerance fails on some data and not others.
			double *gb = malloc(sizeof(double) * n * out);
			for (int t = 0; t < n; t++)
				for (long r = 0; r < out; r++) {
					double g = gu[t * rows + r], u = gu[t * rows + out + r], eg = eb[t * rows + r], eu = eb[t * rows + out + r];
					gb[t * out + r] = 1.1 * eg * (fabs(u) + eu) + fabs(g / (1 + exp(-g))) * eu;
				}
			check_rounding(name, y, yf, gb, n * out, TOL_Q8_SAME);
			free(gb);
		} else {
			check_rounding(name, y, yf, eb, n * out, TOL_Q8_SAME);
		}
	}
	free(x), free(y), free(yf), free(want), free(xr), free(gu), free(eb);
}

// ref_act is the MLP's nonlinearity a (kic_act) in float64, as the CPU engine computes it.
static double ref_act(int a, double v) {
	switch (a) {
	case KIC_ACT_GELU_TANH: return 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
	case KIC_ACT_GELU: return 0.5 * v * (1 + erf(v / sqrt(2.0)));
	default: return v / (1 + exp(-v));
	}
}

static const char *act_name(int a) { return a == KIC_ACT_GELU_TANH ? "gelu-tanh" : a == KIC_ACT_GELU ? "gelu" : "silu"; }

// rounding_bound: for rows of w (cols values each) times n token rows of x, u * sum |w x| (bound[t * rows + r]),
// what a rounding of relative size u in each product's terms can move its output.
static void rounding_bound(const float *w, const float *x, long rows, long cols, int n, double u, double *bound) {
	for (int t = 0; t < n; t++)
		for (long r = 0; r < rows; r++) {
			double a = 0;
			for (long c = 0; c < cols; c++) a += fabs((double)w[r * cols + c] * x[t * cols + c]);
			bound[t * rows + r] = a * u;
		}
}

// test_gemm_pair checks launch_gemm_pair's two products (a [gate; up] matrix's halves, hi only) against the
// float64 reference within the hi half's rounding bound, and that each half went to its own output.
static void test_gemm_pair(int dtype, long rows, long cols, int n) {
	long nw = rows * cols, half = rows / 2;
	float *w = malloc(sizeof(float) * nw), *wq = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * n * cols);
	float *y = malloc(sizeof(float) * n * rows), *want = malloc(sizeof(float) * n * rows);
	uint16_t *raw = malloc(nw * 2);
	fill(w, nw, 1), fill(x, n * cols, 1);
	for (long i = 0; i < nw; i++) raw[i] = dtype == KIC_BF16 ? to_bf16(w[i], &wq[i]) : to_f16(w[i], &wq[i]);
	double *bound = malloc(sizeof(double) * n * rows), u = dtype == KIC_BF16 ? 0x1p-8 : 0x1p-11;
	// want and bound in the call's order: n rows of the top half's products, then n of the bottom's.
	for (int p = 0; p < 2; p++) {
		ref_linear(wq + p * half * cols, x, NULL, 0, half, cols, n, want + p * n * half);
		rounding_bound(wq + p * half * cols, x, half, cols, n, u, bound + p * n * half);
	}
	char name[96];
	snprintf(name, sizeof name, "gemm pair %s 2x%ldx%ld n=%d, hi only", dtype == KIC_BF16 ? "bf16" : "f16", half, cols, n);
	kic_status st = kic_test_gemm_pair(dtype, raw, nw * 2, rows, cols, x, n, y, y + n * half);
	if (st != KIC_OK) {
		printf("FAIL %s: %s\n", name, kic_last_error());
		failures++;
	} else {
		check_rounding(name, y, want, bound, n * rows, TOL_F32 * 10);
	}
	free(w), free(wq), free(x), free(y), free(want), free(raw), free(bound);
}

static void test_linear(int dtype, long rows, long cols, int n, int gemm) {
	long nw = rows * cols;
	float *w = malloc(sizeof(float) * nw), *wq = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * n * cols);
	float *xr = malloc(sizeof(float) * n * cols), *bias = malloc(sizeof(float) * rows);
	float *y = malloc(sizeof(float) * n * rows), *want = malloc(sizeof(float) * n * rows);
	float *y0 = malloc(sizeof(float) * n * rows);
	fill(w, nw, 1), fill(x, n * cols, 1), fill(bias, rows, 1), fill(y, n * rows, 1);
	memcpy(want, y, sizeof(float) * n * rows);
	memcpy(y0, y, sizeof(float) * n * rows);
	void *raw;
	uint64_t bytes;
	if (dtype == KIC_Q8_0) {
		raw = to_q8_0(w, nw, wq), bytes = nw / 32 * 34;
	} else if (dtype == KIC_F32) {
		raw = malloc(nw * 4), bytes = nw * 4;
		memcpy(raw, w, bytes), memcpy(wq, w, bytes);
	} else {
		uint16_t *h = malloc(nw * 2);
		for (long i = 0; i < nw; i++) h[i] = dtype == KIC_BF16 ? to_bf16(w[i], &wq[i]) : to_f16(w[i], &wq[i]);
		raw = h, bytes = nw * 2;
	}
	// The GEMM path splits activations into hi + lo halves, so it sees x itself; for Q8_0 it multiplies
	// weights dequantized to fp16, so the reference rounds them the same way.
	float *wr = malloc(sizeof(float) * nw);
	for (long i = 0; i < nw; i++) wr[i] = wq[i];
	if (gemm && dtype == KIC_Q8_0)
		for (long i = 0; i < nw; i++) to_f16(wq[i], &wr[i]);
	for (long i = 0; i < n * cols; i++) xr[i] = x[i];
	ref_linear(wr, xr, bias, 1, rows, cols, n, want);
	char name[96];
	int one = kic_test_gemm_one_read(0);
	kic_test_gemm_one_read(one);
	int split = kic_test_gemm_split_k(1);
	kic_test_gemm_split_k(split);
	int hi_from = kic_test_gemm_hi_from(0);
	kic_test_gemm_hi_from(hi_from);
	int hi_only = gemm && dtype != KIC_F32 && hi_from > 0 && n >= hi_from;
	char how[24] = "";
	if (hi_only) snprintf(how, sizeof how, ", hi only");
	else if (gemm && one && split != 1) snprintf(how, sizeof how, split ? ", split %d" : ", split by rule", split);
	snprintf(name, sizeof name, "linear %s %ldx%ld n=%d %s%s%s", dtype == KIC_F32 ? "f32" : dtype == KIC_F16 ? "f16" : dtype == KIC_BF16 ? "bf16" : "q8_0",
	         rows, cols, n, gemm > 1 ? "cublas, weight in tiles" : gemm ? "cublas" : "matvec", gemm && one ? ", one read" : "", how);
	kic_status st = kic_test_linear(dtype, raw, bytes, rows, cols, x, n, bias, 1, gemm, y);
	if (st != KIC_OK) {
		printf("FAIL %s: %s\n", name, kic_last_error());
		failures++;
	} else if (hi_only) {
		// The activations rounded to the product's 16-bit type (bf16 for bf16 weights, else fp16): each moves an
		// output by at most its unit roundoff times |w x|.
		double *bound = malloc(sizeof(double) * n * rows);
		rounding_bound(wr, x, rows, cols, n, dtype == KIC_BF16 ? 0x1p-8 : 0x1p-11, bound);
		check_rounding(name, y, want, bound, n * rows, TOL_F32 * 10);
		free(bound);
	} else {
		check(name, y, want, n * rows, TOL_F32 * 10);
		if (gemm && dtype == KIC_Q8_0) {
			// Against the exact Q8_0 values: the fp16 rounding of d*q is the whole difference.
			float *exact = malloc(sizeof(float) * n * rows);
			for (long i = 0; i < n * rows; i++) exact[i] = y0[i];
			ref_linear(wq, x, bias, 1, rows, cols, n, exact);
			snprintf(name + strlen(name), sizeof name - strlen(name), " vs exact weights");
			check(name, y, exact, n * rows, TOL_F16);
			free(exact);
		}
	}
	free(w), free(wq), free(wr), free(x), free(xr), free(bias), free(y), free(want), free(raw), free(y0);
}

// The int8 path on Q8_0 matrices: random weights through to_q8_0 (wq: the values the GPU holds).
static void test_int8_q8_0(long rows, long cols) {
	long nw = rows * cols;
	float *w = malloc(sizeof(float) * nw), *wq = malloc(sizeof(float) * nw);
	fill(w, nw, 1);
	uint8_t *raw = to_q8_0(w, nw, wq);
	for (int n = 1; n <= 3; n++) test_int8("random", KIC_Q8_0, raw, nw / 32 * 34, wq, rows, cols, n, 0);
	for (int n = 1; n <= 2; n++) test_int8("random", KIC_Q8_0, raw, nw / 32 * 34, wq, rows, cols, n, 1);
	free(w), free(wq), free(raw);
}

static void test_linear_glu(int act, int dtype, long half, long cols, int n) {
	long rows = 2 * half, nw = rows * cols;
	float *w = malloc(sizeof(float) * nw), *wq = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * n * cols);
	float *gu = malloc(sizeof(float) * n * rows), *y = malloc(sizeof(float) * n * half), *want = malloc(sizeof(float) * n * half);
	fill(w, nw, 1), fill(x, n * cols, 1);
	void *raw;
	uint64_t bytes;
	if (dtype == KIC_Q8_0) {
		raw = to_q8_0(w, nw, wq), bytes = nw / 32 * 34;
	} else {
		uint16_t *h = malloc(nw * 2);
		for (long i = 0; i < nw; i++) h[i] = dtype == KIC_BF16 ? to_bf16(w[i], &wq[i]) : to_f16(w[i], &wq[i]);
		raw = h, bytes = nw * 2;
	}
	ref_linear(wq, x, NULL, 0, rows, cols, n, gu);
	for (int t = 0; t < n; t++)
		for (long r = 0; r < half; r++) {
			double g = gu[t * rows + r], u = gu[t * rows + half + r];
			want[t * half + r] = (float)(ref_act(act, g) * u);
		}
	char name[96];
	snprintf(name, sizeof name, "linear+glu %s %s %ldx%ld n=%d", act_name(act),
	         dtype == KIC_F16 ? "f16" : dtype == KIC_BF16 ? "bf16" : "q8_0", rows, cols, n);
	kic_status st = kic_test_linear_glu(act, dtype, raw, bytes, rows, cols, x, n, y);
	if (st != KIC_OK) {
		printf("FAIL %s: %s\n", name, kic_last_error());
		failures++;
	} else {
		check(name, y, want, n * half, TOL_F32 * 10);
	}
	free(w), free(wq), free(x), free(gu), free(y), free(want), free(raw);
}

// skinny_kernel_now is the skinny kernel kic_test_skinny_kernel last forced.
static int skinny_kernel_now(void) {
	int which = kic_test_skinny_kernel(0);
	kic_test_skinny_kernel(which);
	return which;
}

// The skinny tensor-core kernel (kind 0 plain with bias and accumulate, 1 act with bias, 2 the [gate; up] pair)
// against the double reference over the bf16 weights and x itself (the kernel splits x into hi + lo, so it sees
// ~16 of its mantissa bits): token counts inside and across its tiles of 8, rows past a 16-row tile, columns in
// whole and partial turns of the block's warps.
static void test_skinny(int kind, int act, long rows, long cols, int n) {
	long nw = rows * cols, out = kind == 2 ? rows / 2 : rows;
	float *w = malloc(sizeof(float) * nw), *wq = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * n * cols);
	float *bias = malloc(sizeof(float) * out), *gu = malloc(sizeof(float) * n * rows);
	float *y = malloc(sizeof(float) * n * out), *want = malloc(sizeof(float) * n * out);
	uint16_t *h = malloc(nw * 2);
	fill(w, nw, 1), fill(x, n * cols, 1), fill(bias, out, 1), fill(y, n * out, 1);
	for (long i = 0; i < nw; i++) h[i] = to_bf16(w[i], &wq[i]);
	ref_linear(wq, x, kind == 2 ? NULL : bias, 0, rows, cols, n, gu);
	for (int t = 0; t < n; t++)
		for (long r = 0; r < out; r++) {
			double v = gu[t * rows + r];
			want[t * out + r] = (float)(kind == 0   ? y[t * out + r] + v
			                            : kind == 1 ? ref_act(act, v)
			                                        : ref_act(act, v) * gu[t * rows + out + r]);
		}
	char name[96];
	int which = skinny_kernel_now();
	snprintf(name, sizeof name, "skinny%s %s bf16 %ldx%ld n=%d", which == 2 ? " tiled" : which == 1 ? " split" : "",
	         kind == 0 ? "bias+acc" : kind == 1 ? act_name(act) : "glu", rows, cols, n);
	kic_status st = kic_test_skinny(kind, act, h, rows, cols, x, n, kind == 2 ? NULL : bias, 1, y);
	if (st != KIC_OK) {
		printf("FAIL %s: %s\n", name, kic_last_error());
		failures++;
	} else {
		check(name, y, want, n * out, TOL_F32 * 10);
	}
	free(w), free(wq), free(x), free(bias), free(gu), free(y), free(want), free(h);
}

// With one kernel, a token's result does not depend on the other tokens of the call: the first tokens of a 20-token
// call (3 tiles) are the same bits as those tokens alone (1 tile), since every tile's sums are added in the same order.
static void test_skinny_batch_invariant(long rows, long cols) {
	int n = 20, few = 5;
	float *w = malloc(sizeof(float) * rows * cols), *wq = malloc(sizeof(float) * rows * cols);
	float *x = malloc(sizeof(float) * n * cols), *y = calloc(n * rows, sizeof(float)), *y1 = calloc(few * rows, sizeof(float));
	uint16_t *h = malloc(rows * cols * 2);
	fill(w, rows * cols, 1), fill(x, n * cols, 1);
	for (long i = 0; i < rows * cols; i++) h[i] = to_bf16(w[i], &wq[i]);
	CALL(kic_test_skinny(0, 0, h, rows, cols, x, n, NULL, 0, y));
	CALL(kic_test_skinny(0, 0, h, rows, cols, x, few, NULL, 0, y1));
	long differ = 0;
	for (long i = 0; i < few * rows; i++) differ += memcmp(&y[i], &y1[i], sizeof(float)) != 0;
	checks++;
	if (differ) failures++;
	printf("%s skinny kernel %d %ldx%ld: %d tokens alone vs in %d: %ld of %ld values differ\n", differ ? "FAIL" : "ok  ",
	       skinny_kernel_now(), rows, cols, few, n, differ, few * rows);
	free(w), free(wq), free(x), free(y), free(y1), free(h);
}

// The GPT family's MLP up projection: act(W x + b) in the matvec epilogue, at one token with the block's
// LayerNorm (or RMSNorm) inside the kernel, and at three tokens on x as given. fp32 weights: fp32 arithmetic.
static void test_linear_act(int act, long rows, long cols, int norm) {
	int n = norm ? 1 : 3;
	float *w = malloc(sizeof(float) * rows * cols), *x = malloc(sizeof(float) * n * cols), *xn = malloc(sizeof(float) * n * cols);
	float *bias = malloc(sizeof(float) * rows), *nw = malloc(sizeof(float) * cols), *nb = malloc(sizeof(float) * cols);
	float *y = malloc(sizeof(float) * n * rows), *want = malloc(sizeof(float) * n * rows);
	fill(w, rows * cols, 1), fill(x, n * cols, 2), fill(bias, rows, 1), fill(nw, cols, 1), fill(nb, cols, 1);
	memcpy(xn, x, sizeof(float) * n * cols);
	if (norm) { // norm 1: LayerNorm, 2: RMSNorm, on the one token
		double sum = 0, ss = 0, mean = 0;
		if (norm == 1) {
			for (long c = 0; c < cols; c++) sum += x[c];
			mean = sum / cols;
		}
		for (long c = 0; c < cols; c++) ss += (x[c] - mean) * (x[c] - mean);
		double inv = 1 / sqrt(ss / cols + 1e-5);
		for (long c = 0; c < cols; c++) xn[c] = (float)((x[c] - mean) * inv * nw[c] + (norm == 1 ? nb[c] : 0));
	}
	ref_linear(w, xn, bias, 0, rows, cols, n, want);
	for (long i = 0; i < n * rows; i++) want[i] = (float)ref_act(act, want[i]);
	char name[96];
	snprintf(name, sizeof name, "linear+%s f32 %ldx%ld n=%d%s", act_name(act), rows, cols, n,
	         norm == 1 ? " layernorm" : norm == 2 ? " rmsnorm" : "");
	kic_status st = kic_test_linear_act(act, KIC_F32, w, sizeof(float) * rows * cols, rows, cols, x, n, bias,
	                                    norm ? nw : NULL, norm == 1 ? nb : NULL, 1e-5f, y);
	if (st != KIC_OK) {
		printf("FAIL %s: %s\n", name, kic_last_error());
		failures++;
	} else {
		check(name, y, want, n * rows, TOL_F32 * 10);
	}
	free(w), free(x), free(xn), free(bias), free(nw), free(nb), free(y), free(want);
}

// rope_ref rotates the first rope_dim dims of each of heads head vectors of x at position pos, as the CPU engine.
static void rope_ref(float *x, int heads, int hd, int mode, int rope_dim, const float *inv, float mscale, int pos) {
	for (int h = 0; h < heads; h++)
		for (int j = 0; j < rope_dim / 2; j++) {
			float *head = x + h * hd;
			double th = (double)((float)pos * inv[j]);
			float c = (float)cos(th) * mscale, s = (float)sin(th) * mscale;
			int a = mode == KIC_ROPE_NORM ? 2 * j : j, b = mode == KIC_ROPE_NORM ? 2 * j + 1 : j + rope_dim / 2;
			float x0 = head[a], x1 = head[b];
			head[a] = x0 * c - x1 * s, head[b] = x0 * s + x1 * c;
		}
}

// The one-token decode step's fused [q; k; v] kernel: norm inside, bias, the rotation of q and k (whole, partial
// as GPT-NeoX's and Phi's, or none as GPT-2's; LongRoPE's mscale) and the KV append, against the CPU's order of
// the same steps. layer: LayerNorm with bias (the GPT family) instead of RMSNorm.
static void test_matvec_qkv(int dtype, int kv_type, int heads, int hkv, int hd, long cols, int layer, int mode,
                            int rope_dim, float mscale) {
	long nq = (long)heads * hd, nkv = (long)hkv * hd, rows = nq + 2 * nkv, nw = rows * cols;
	int pos = 21;
	float *w = malloc(sizeof(float) * nw), *wq = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * cols);
	float *xn = malloc(sizeof(float) * cols), *bias = malloc(sizeof(float) * rows), *g = malloc(sizeof(float) * cols);
	float *b = malloc(sizeof(float) * cols), *y = malloc(sizeof(float) * rows), *want = malloc(sizeof(float) * rows);
	float *k = malloc(sizeof(float) * nkv), *v = malloc(sizeof(float) * nkv), inv[128];
	fill(w, nw, 1), fill(x, cols, 2), fill(bias, rows, 1), fill(g, cols, 1), fill(b, cols, 1);
	for (int j = 0; j < rope_dim / 2; j++) inv[j] = (float)(1 / pow(10000.0, 2.0 * j / rope_dim));
	void *raw;
	uint64_t bytes;
	if (dtype == KIC_F32) {
		raw = malloc(nw * 4), bytes = nw * 4;
		memcpy(raw, w, bytes), memcpy(wq, w, bytes);
	} else {
		uint16_t *h = malloc(nw * 2);
		for (long i = 0; i < nw; i++) h[i] = to_bf16(w[i], &wq[i]);
		raw = h, bytes = nw * 2;
	}
	double sum = 0, ss = 0, mean = 0;
	if (layer) {
		for (long c = 0; c < cols; c++) sum += x[c];
		mean = sum / cols;
	}
	for (long c = 0; c < cols; c++) ss += (x[c] - mean) * (x[c] - mean);
	double inv_std = 1 / sqrt(ss / cols + 1e-5);
	for (long c = 0; c < cols; c++) xn[c] = (float)((x[c] - mean) * inv_std * g[c] + (layer ? b[c] : 0));
	ref_linear(wq, xn, bias, 0, rows, cols, 1, want);
	if (mode != KIC_ROPE_NONE) {
		rope_ref(want, heads, hd, mode, rope_dim, inv, mscale, pos);
		rope_ref(want + nq, hkv, hd, mode, rope_dim, inv, mscale, pos);
	}
	char name[128];
	snprintf(name, sizeof name, "matvec qkv %s heads %d/%d hd %d %s rope %s %d mscale %g, kv %s",
	         dtype == KIC_F32 ? "f32" : "bf16", heads, hkv, hd, layer ? "layernorm" : "rmsnorm",
	         mode == KIC_ROPE_NONE ? "none" : mode == KIC_ROPE_NORM ? "norm" : "neox", rope_dim, mscale, kv_name(kv_type));
	CALL(kic_test_matvec_qkv(dtype, raw, bytes, heads, hkv, hd, cols, x, bias, g, layer ? b : NULL, 1e-5f, mode, rope_dim,
	                         inv, mscale, pos, kv_type, y, k, v));
	check(name, y, want, rows, TOL_F32 * 10);
	// The stored rows: the type's rounding of what the kernel computed, so a last-bit difference may move a value
	// to the neighbouring step of a 16-bit type.
	double tol = kv_type == KIC_BF16 ? TOL_BF16 : kv_type == KIC_F16 ? TOL_F16 : TOL_F32 * 10;
	round_kv(kv_type, want + nq, 2 * nkv);
	check(name, k, want + nq, nkv, tol);
	check(name, v, want + nq + nkv, nkv, tol);
	free(w), free(wq), free(x), free(xn), free(bias), free(g), free(b), free(y), free(want), free(k), free(v), free(raw);
}


// bench_matvec prints the weight bandwidth of the decode projections of two real shapes (not a check), as GB/s and
// as a share of the device's copy bandwidth measured here (kic_measure_bandwidth: what bench calls the roofline).
// The block formats and Q8_0 run both paths, the float kernels and the int8 path, on the same matrix: one run says
// which is faster for each type and shape.
// bench_copy measures and prints the device copy bandwidth every benchmark's "% of copy" divides by (0 if it failed).
static double bench_copy(void) {
	double copy = 0;
	if (kic_measure_bandwidth(0, 1ull << 30, &copy) != KIC_OK || copy <= 0) {
		printf("bench copy bandwidth failed: %s\n", kic_last_error());
		return 0;
	}
	printf("bench copy bandwidth %.1f GB/s (device-to-device copies of 1 GiB, read + write)\n", copy / 1e9);
	return copy;
}

static void bench_matvec(double copy) {
	struct {
		const char *what;
		int dtype;
		long rows, cols;
		int swiglu;
	} shapes[] = {
	    {"llama3.2-1b qkv", KIC_BF16, 3072, 2048, 0},      {"llama3.2-1b o", KIC_BF16, 2048, 2048, 0},
	    {"llama3.2-1b gate+up", KIC_BF16, 16384, 2048, 1}, {"llama3.2-1b down", KIC_BF16, 2048, 8192, 0},
	    {"llama3.2-1b lm_head", KIC_BF16, 128256, 2048, 0}, {"gpt2-xl qkv", KIC_F16, 4800, 1600, 0},
	    {"gpt2-xl up", KIC_F16, 6400, 1600, 0},            {"gpt2-xl down", KIC_F16, 1600, 6400, 0},
	    {"q8_0 4096x4096", KIC_Q8_0, 4096, 4096, 0},
	    // The Llama-3.2-1B projections as Q4_K_M stores them.
	    {"llama3.2-1b qkv", KIC_Q4_K, 3072, 2048, 0},      {"llama3.2-1b gate+up", KIC_Q4_K, 16384, 2048, 1},
	    {"llama3.2-1b down", KIC_Q6_K, 2048, 8192, 0},     {"llama3.2-1b lm_head", KIC_Q6_K, 128256, 2048, 0},
	    // The Llama-3.1-8B decode projections as Q4_K_M stores them (Q4_K, Q6_K for half of down and lm_head), in
	    // bf16 for comparison, and in the other types' layouts.
	    {"llama3.1-8b qkv", KIC_BF16, 6144, 4096, 0},      {"llama3.1-8b qkv", KIC_Q4_K, 6144, 4096, 0},
	    {"llama3.1-8b o", KIC_Q4_K, 4096, 4096, 0},        {"llama3.1-8b gate+up", KIC_BF16, 28672, 4096, 1},
	    {"llama3.1-8b gate+up", KIC_Q4_K, 28672, 4096, 1}, {"llama3.1-8b down", KIC_BF16, 4096, 14336, 0},
	    {"llama3.1-8b down", KIC_Q6_K, 4096, 14336, 0},    {"llama3.1-8b down", KIC_Q4_K, 4096, 14336, 0},
	    {"llama3.1-8b lm_head", KIC_Q6_K, 128256, 4096, 0}, {"llama3.1-8b gate+up", KIC_Q5_K, 28672, 4096, 1},
	    {"llama3.1-8b down", KIC_Q5_K, 4096, 14336, 0},    {"llama3.1-8b gate+up", KIC_Q8_0, 28672, 4096, 1},
	    {"llama3.1-8b down", KIC_Q8_0, 4096, 14336, 0},    {"llama3.1-8b down", KIC_Q4_0, 4096, 14336, 0},
	    {"llama3.1-8b down", KIC_Q4_1, 4096, 14336, 0},    {"llama3.1-8b down", KIC_Q5_0, 4096, 14336, 0},
	    {"llama3.1-8b down", KIC_Q5_1, 4096, 14336, 0},    {"llama3.1-8b down", KIC_IQ4_NL, 4096, 14336, 0},
	    {"llama3.1-8b down", KIC_IQ4_XS, 4096, 14336, 0},  {"llama3.1-8b down", KIC_Q3_K, 4096, 14336, 0},
	    {"llama3.1-8b down", KIC_Q2_K, 4096, 14336, 0},
	};
	// The int8 path at the block sizes it may launch (16 warps, the default, 8 and 4); the float path at its own.
	static const int q8_warps[] = {16, 8, 4};
	int default_warps = kic_test_matvec_q8_warps(16);
	kic_test_matvec_q8_warps(default_warps);
	for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		int runs = int8_type(shapes[i].dtype) ? 1 + (int)(sizeof q8_warps / sizeof q8_warps[0]) : 1;
		double us_float = 0;
		for (int p = 0; p < runs; p++) {
			double bps = 0, us = 0;
			int warps = p ? q8_warps[p - 1] : 0;
			if (p) kic_test_matvec_q8_warps(warps);
			kic_status st = kic_bench_matvec(shapes[i].dtype, shapes[i].rows, shapes[i].cols, shapes[i].swiglu, p > 0, 200, &bps, &us);
			kic_test_matvec_q8_warps(default_warps);
			if (st != KIC_OK) {
				printf("bench %-22s failed: %s\n", shapes[i].what, kic_last_error());
				break;
			}
			if (!p) us_float = us;
			char path[16];
			snprintf(path, sizeof path, p ? "int8/%d" : "float", warps);
			printf("bench matvec %-22s %-6s %6ldx%-5ld %-7s %7.1f us  %7.1f GB/s  %5.1f%% of copy", shapes[i].what,
			       kic_type(shapes[i].dtype)->name, shapes[i].rows, shapes[i].cols, path, us, bps / 1e9,
			       copy > 0 ? 100 * bps / copy : 0);
			if (p && us > 0) printf("  (int8 %.2fx the float kernel's speed)", us_float / us);
			printf("\n");
		}
	}
}

// bench_gemm prints the prefill products of the Llama-3.1-8B shape (1024 tokens, a prefill chunk) as Q4_K_M
// stores them, and in bf16, with the quantized weights dequantized to fp16 through scratch of the model's
// size (KIC_W16_ELEMS), four times it, and the whole matrix: how much the chunking costs the quantized prefill.
static void bench_gemm(void) {
	struct {
		const char *what;
		int dtype;
		long rows, cols;
	} shapes[] = {
	    {"llama3.1-8b qkv", KIC_BF16, 6144, 4096},       {"llama3.1-8b qkv", KIC_Q4_K, 6144, 4096},
	    {"llama3.1-8b gate+up", KIC_BF16, 28672, 4096}, {"llama3.1-8b gate+up", KIC_Q4_K, 28672, 4096},
	    {"llama3.1-8b down", KIC_BF16, 4096, 14336},    {"llama3.1-8b down", KIC_Q6_K, 4096, 14336},
	    {"llama3.1-8b down", KIC_Q4_K, 4096, 14336},
	};
	// The batched decode step of the Llama-3.2-1B shape (64 sequences, bf16): what its products cost apart.
	struct {
		const char *what;
		long rows, cols;
	} step[] = {{"llama3.2-1b qkv", 3072, 2048}, {"llama3.2-1b o", 2048, 2048}, {"llama3.2-1b gate+up", 16384, 2048},
	            {"llama3.2-1b down", 2048, 8192}, {"llama3.2-1b lm_head", 128256, 2048}};
	for (unsigned i = 0; i < sizeof step / sizeof step[0]; i++) {
		double fps = 0, us = 0;
		if (kic_bench_gemm(KIC_BF16, step[i].rows, step[i].cols, 64, 0, 20, &fps, &us) != KIC_OK) {
			printf("bench gemm %s failed: %s\n", step[i].what, kic_last_error());
			continue;
		}
		double gbs = (double)step[i].rows * step[i].cols * 2 / (us * 1e-6) / 1e9;
		printf("bench gemm %-20s BF16  %6ldx%-5ld n=64   %8.1f us  %6.1f TFLOP/s  %7.1f GB/s of weights (hi+lo: two products)\n",
		       step[i].what, step[i].rows, step[i].cols, us, fps / 1e12, gbs);
	}
	const long scratch[] = {KIC_W16_ELEMS, 4 * KIC_W16_ELEMS, 0};
	for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		int quant = shapes[i].dtype != KIC_BF16;
		for (unsigned k = 0; k < (quant ? 3u : 1u); k++) {
			double fps = 0, us = 0;
			if (kic_bench_gemm(shapes[i].dtype, shapes[i].rows, shapes[i].cols, 1024, scratch[k], 10, &fps, &us) != KIC_OK) {
				printf("bench gemm %s failed: %s\n", shapes[i].what, kic_last_error());
				continue;
			}
			char sc[32];
			if (!quant) snprintf(sc, sizeof sc, "-");
			else if (scratch[k]) snprintf(sc, sizeof sc, "scratch %ldM", scratch[k] >> 20);
			else snprintf(sc, sizeof sc, "scratch whole");
			printf("bench gemm %-20s %-5s %6ldx%-5ld n=1024 %-14s %8.1f us  %6.1f TFLOP/s (one product; hi+lo is two)\n",
			       shapes[i].what, kic_type(shapes[i].dtype)->name, shapes[i].rows, shapes[i].cols, sc, us, fps / 1e12);
		}
	}
}

// bench_skinny prints what a batched decode step's projections cost on each path, for the Llama-3.2-1B and
// Llama-3.1-8B shapes in bf16: the matvec kernels, the skinny tensor-core kernels and cuBLAS (hi + lo: two products,
// or one of W by [hi; lo]; a [gate; up] pair as two such and the GLU kernel), at 1-64 tokens, and the skinny
// kernels' weight bandwidth as a share of the copy bandwidth.
static void bench_skinny(double copy) {
	struct {
		const char *what;
		long rows, cols;
		int glu;
	} shapes[] = {{"llama3.2-1b qkv", 3072, 2048, 0},      {"llama3.2-1b o", 2048, 2048, 0},
	              {"llama3.2-1b gate+up", 16384, 2048, 1}, {"llama3.2-1b down", 2048, 8192, 0},
	              {"llama3.2-1b lm_head", 128256, 2048, 0}, {"llama3.1-8b qkv", 6144, 4096, 0},
	              {"llama3.1-8b o", 4096, 4096, 0},        {"llama3.1-8b gate+up", 28672, 4096, 1},
	              {"llama3.1-8b down", 4096, 14336, 0},    {"llama3.1-8b lm_head", 128256, 4096, 0}};
	const int ns[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
	int split_was = kic_test_gemm_split_k(1);
	for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		for (unsigned k = 0; k < sizeof ns / sizeof ns[0]; k++) {
			double us[5] = {0, 0, 0, 0, 0}, bps[5] = {0, 0, 0, 0, 0};
			for (int path = ns[k] > 64 ? 2 : 0; path < 5; path += ns[k] > 64 ? 2 : 1) { // past 64: cuBLAS only
				if (kic_bench_linear(path, shapes[i].rows, shapes[i].cols, ns[k], shapes[i].glu, 20, &bps[path], &us[path]) != KIC_OK) {
					printf("bench skinny %s n=%d path %d failed: %s\n", shapes[i].what, ns[k], path, kic_last_error());
					us[path] = 0;
				}
			}
			// The one-read form split over the columns in 2 and 4 slices (kic_gemm_split_k; up to 128 tokens); the
			// "one read" column is it whole.
			double split[2] = {0, 0}, sbps = 0;
			for (int j = 0; j < 2 && ns[k] <= 128; j++) {
				int was = kic_test_gemm_split_k(2 << j);
				if (kic_bench_linear(4, shapes[i].rows, shapes[i].cols, ns[k], shapes[i].glu, 20, &sbps, &split[j]) != KIC_OK)
					printf("bench skinny %s n=%d split %d failed: %s\n", shapes[i].what, ns[k], 2 << j, kic_last_error());
				kic_test_gemm_split_k(was);
			}
			char cub[80] = "-";
			if (ns[k] > 64) { // prefill chunks, past the skinny kernels' 64 tokens
				printf("bench skinny %-20s %6ldx%-5ld n=%-3d cublas %.1f us, one read %.1f us (split 2: %.1f, 4: %.1f)\n",
				       shapes[i].what, shapes[i].rows, shapes[i].cols, ns[k], us[2], us[4], split[0], split[1]);
				continue;
			}
			if (us[2] > 0)
				snprintf(cub, sizeof cub, "%.1f us, one read %.1f us (split 2: %.1f, 4: %.1f)", us[2], us[4], split[0], split[1]);
			printf("bench skinny %-20s %6ldx%-5ld n=%-2d  matvec %7.1f us  split %7.1f us (%3.0f%%)  tiled %7.1f us (%3.0f%% of copy)  cublas %s\n",
			       shapes[i].what, shapes[i].rows, shapes[i].cols, ns[k], us[0], us[1], copy > 0 ? 100 * bps[1] / copy : 0,
			       us[3], copy > 0 ? 100 * bps[3] / copy : 0, cub);
		}
	kic_test_gemm_split_k(split_was);
}

// bench_attn prints decode attention's KV bandwidth (not a check) for the Llama-3.2-1B and Llama-3.1-8B
// attention shapes with the KV cache in f16: one row at several context lengths and 64 rows of 2048 keys, with 16
// splits and with the splits the library picks (kic_decode_splits).
static void bench_attn(double copy) {
	struct {
		const char *what;
		int heads, hkv, hd;
	} shapes[] = {{"llama3.2-1b", 32, 8, 64}, {"llama3.1-8b", 32, 8, 128}};
	int lens[] = {512, 2048, 8192, 32768};
	for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		for (unsigned l = 0; l < sizeof lens / sizeof lens[0] + 1; l++) {
			int last = l == sizeof lens / sizeof lens[0], n = last ? 64 : 1, len = last ? 2048 : lens[l];
			for (int p = 0; p < 4; p++) { // splits 16 / the library's, each with the tiles pipelined and not
				int splits = p / 2 ? 0 : KIC_ATTN_SPLITS, pipe = p % 2 == 0;
				double bps = 0, us = 0;
				int was = kic_test_attn_pipeline(pipe);
				kic_status st = kic_bench_attn_decode(KIC_F16, shapes[i].heads, shapes[i].hkv, shapes[i].hd, len, n, splits, 100,
				                                      &bps, &us);
				kic_test_attn_pipeline(was);
				if (st != KIC_OK) {
					printf("bench attention %s failed: %s\n", shapes[i].what, kic_last_error());
					continue;
				}
				char sp[40];
				// piped: the library's default (f16 takes the cp.async kernel); else one tile at a time.
				if (splits) snprintf(sp, sizeof sp, "splits %d%s", splits, pipe ? " piped" : "");
				else snprintf(sp, sizeof sp, "splits auto%s", pipe ? " piped" : "");
				printf("bench attention decode %-12s f16 %2d rows x %5d keys %-16s %8.1f us  %7.1f GB/s  %5.1f%% of copy\n",
				       shapes[i].what, n, len, sp, us, bps / 1e9, copy > 0 ? 100 * bps / copy : 0);
			}
		}
	}
}

// bench_attn_splits sweeps decode attention's splits over batch sizes and contexts of the Llama-3.2-1B shape
// (f16 KV, tiles pipelined): the figures kic_decode_splits's blocks-per-SM target is chosen from.
static void bench_attn_splits(double copy) {
	int rows[] = {1, 8, 64}, lens[] = {256, 1024, 4096}, splits[] = {0, 1, 2, 4, 8, 16, 32, 128};
	for (unsigned r = 0; r < sizeof rows / sizeof rows[0]; r++)
		for (unsigned l = 0; l < sizeof lens / sizeof lens[0]; l++)
			for (unsigned k = 0; k < sizeof splits / sizeof splits[0]; k++) {
				if ((int64_t)splits[k] * rows[r] > kic_attn_partial_slots(rows[r])) continue; // past the partials' room
				double bps = 0, us = 0;
				if (kic_bench_attn_decode(KIC_F16, 32, 8, 64, lens[l], rows[r], splits[k], 100, &bps, &us) != KIC_OK) {
					printf("bench attention splits failed: %s\n", kic_last_error());
					continue;
				}
				char sp[16];
				if (splits[k]) snprintf(sp, sizeof sp, "%d", splits[k]);
				else snprintf(sp, sizeof sp, "auto");
				printf("bench attention splits llama3.2-1b %2d rows x %5d keys splits %-4s %8.1f us  %5.1f%% of copy\n", rows[r],
				       lens[l], sp, us, copy > 0 ? 100 * bps / copy : 0);
			}
}

// bench_barrier: what one grid-wide barrier costs the persistent decode path (five a layer).
static void bench_barrier(void) {
	double us = 0;
	if (kic_bench_grid_barrier(512, 1000, &us) != KIC_OK) {
		printf("bench grid barrier failed: %s\n", kic_last_error());
		return;
	}
	printf("bench grid barrier: %.2f us a barrier (one 512-thread block an SM, cooperative launch)\n", us);
}

// run_benches runs the benchmarks `which` names: "1" all of them, else "matvec", "attention", "gemm", "skinny" or
// "barrier".
static void run_benches(const char *which) {
	int all = strcmp(which, "1") == 0;
	double copy = bench_copy();
	if (all || strcmp(which, "matvec") == 0) bench_matvec(copy);
	if (all || strcmp(which, "attention") == 0) bench_attn(copy), bench_attn_splits(copy);
	if (all || strcmp(which, "gemm") == 0) bench_gemm();
	if (all || strcmp(which, "skinny") == 0) bench_skinny(copy);
	if (all || strcmp(which, "barrier") == 0) bench_barrier();
}

static void test_norms(void) {
	int n = 5, dim = 1000;
	float *x = malloc(sizeof(float) * n * dim), *w = malloc(sizeof(float) * dim), *b = malloc(sizeof(float) * dim);
	float *y = malloc(sizeof(float) * n * dim), *want = malloc(sizeof(float) * n * dim);
	fill(x, n * dim, 3), fill(w, dim, 1), fill(b, dim, 1);
	for (int i = 0; i < n; i++) {
		double ss = 0, sum = 0, var = 0;
		for (int c = 0; c < dim; c++) ss += (double)x[i * dim + c] * x[i * dim + c], sum += x[i * dim + c];
		double scale = 1 / sqrt(ss / dim + 1e-5);
		for (int c = 0; c < dim; c++) want[i * dim + c] = (float)(x[i * dim + c] * scale * w[c]);
		double mean = sum / dim;
		for (int c = 0; c < dim; c++) var += (x[i * dim + c] - mean) * (x[i * dim + c] - mean);
		(void)var;
	}
	CALL(kic_test_rmsnorm(x, w, n, dim, 1e-5f, y));
	check("rmsnorm 5x1000", y, want, n * dim, TOL_F32);
	// Added to a residual stream (Gemma's post-norms): y = r + rmsnorm(x).
	float *r = malloc(sizeof(float) * n * dim);
	fill(r, n * dim, 2);
	memcpy(y, r, sizeof(float) * n * dim);
	for (int i = 0; i < n * dim; i++) want[i] += r[i];
	CALL(kic_test_rmsnorm_add(x, w, n, dim, 1e-5f, y));
	check("rmsnorm added 5x1000", y, want, n * dim, TOL_F32);
	free(r);
	for (int i = 0; i < n; i++) {
		double sum = 0, var = 0;
		for (int c = 0; c < dim; c++) sum += x[i * dim + c];
		double mean = sum / dim;
		for (int c = 0; c < dim; c++) var += (x[i * dim + c] - mean) * (x[i * dim + c] - mean);
		double inv = 1 / sqrt(var / dim + 1e-5);
		for (int c = 0; c < dim; c++) want[i * dim + c] = (float)((x[i * dim + c] - mean) * inv * w[c] + b[c]);
	}
	CALL(kic_test_layernorm(x, w, b, n, dim, 1e-5f, y));
	check("layernorm 5x1000", y, want, n * dim, TOL_F32);
	free(x), free(w), free(b), free(y), free(want);
}

// mscale multiplies cos and sin (LongRoPE); norm: each head is RMS-normalized first (the q/k norms of Qwen3 and
// Gemma 3). rope_dim < 64 rotates part of each head (GPT-NeoX, Phi-2) and leaves the rest.
static void test_rope(int mode, int rope_dim, float mscale, int norm) {
	int n = 7, heads = 4, hd = 64;
	float *x = malloc(sizeof(float) * n * heads * hd), *want = malloc(sizeof(float) * n * heads * hd);
	float inv[64], nw[64];
	int32_t pos[7] = {0, 1, 2, 5, 100, 1000, 4095};
	for (int j = 0; j < rope_dim / 2; j++) inv[j] = (float)(1 / pow(10000.0, 2.0 * j / rope_dim)) / (j % 3 ? 1.f : 8.f);
	fill(x, n * heads * hd, 1), fill(nw, hd, 1);
	memcpy(want, x, sizeof(float) * n * heads * hd);
	if (norm)
		for (int v = 0; v < n * heads; v++) {
			float *head = want + v * hd;
			double ss = 0;
			for (int d = 0; d < hd; d++) ss += (double)head[d] * head[d];
			float scale = (float)(1 / sqrt(ss / hd + 1e-6));
			for (int d = 0; d < hd; d++) head[d] = head[d] * scale * nw[d];
		}
	for (int i = 0; i < n; i++)
		for (int h = 0; h < heads; h++)
			for (int j = 0; j < rope_dim / 2; j++) {
				float *head = want + (i * heads + h) * hd;
				double th = (double)((float)pos[i] * inv[j]);
				float c = (float)cos(th) * mscale, s = (float)sin(th) * mscale;
				int a = mode == KIC_ROPE_NORM ? 2 * j : j, b = mode == KIC_ROPE_NORM ? 2 * j + 1 : j + rope_dim / 2;
				float x0 = head[a], x1 = head[b];
				head[a] = x0 * c - x1 * s, head[b] = x0 * s + x1 * c;
			}
	CALL(kic_test_rope(x, pos, n, heads, hd, mode, rope_dim, inv, mscale, norm ? nw : NULL, 1e-6f));
	char name[64];
	snprintf(name, sizeof name, "rope %s dim %d/%d mscale %g%s", mode == KIC_ROPE_NORM ? "norm" : "neox", rope_dim, hd,
	         mscale, norm ? " head norm" : "");
	check(name, x, want, n * heads * hd, TOL_F32);
	free(x), free(want);
}

static void test_activations(void) {
	long n = 10000;
	float *g = malloc(sizeof(float) * n), *u = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
	fill(g, n, 8), fill(u, n, 2);
	char name[64];
	for (int a = KIC_ACT_SILU; a <= KIC_ACT_GELU; a++) { // SwiGLU and GeGLU, and each activation alone
		for (long i = 0; i < n; i++) want[i] = (float)(ref_act(a, g[i]) * u[i]);
		CALL(kic_test_glu(a, g, u, n, y));
		snprintf(name, sizeof name, "glu %s", act_name(a));
		check(name, y, want, n, TOL_F32);
		for (long i = 0; i < n; i++) want[i] = (float)ref_act(a, g[i]);
		CALL(kic_test_act(a, g, n, y));
		snprintf(name, sizeof name, "act %s", act_name(a));
		check(name, y, want, n, TOL_F32);
	}
	// Soft-capping (Gemma 2's logits at 30, attention at 50): g spans +-8, so cap 3 bends it hard.
	for (int k = 0; k < 2; k++) {
		float cap = k ? 30.f : 3.f;
		for (long i = 0; i < n; i++) want[i] = (float)(cap * tanh((double)g[i] * (k ? 4 : 1) / cap));
		for (long i = 0; i < n; i++) u[i] = g[i] * (k ? 4 : 1);
		CALL(kic_test_softcap(u, n, cap, y));
		snprintf(name, sizeof name, "softcap %g", cap);
		check(name, y, want, n, TOL_F32);
	}
	free(g), free(u), free(y), free(want);
}

static void test_embed_dequant(void) {
	int dim = 64, vocab = 50, n = 6;
	float *t = malloc(sizeof(float) * vocab * dim), *tq = malloc(sizeof(float) * vocab * dim);
	float *pt = malloc(sizeof(float) * 16 * dim), *y = malloc(sizeof(float) * n * dim), *want = malloc(sizeof(float) * n * dim);
	int32_t tok[6] = {0, 49, 3, 3, 17, 8}, pos[6] = {0, 1, 2, 3, 4, 15};
	fill(t, vocab * dim, 1), fill(pt, 16 * dim, 1);
	uint16_t *bf = malloc(2 * vocab * dim);
	for (int i = 0; i < vocab * dim; i++) bf[i] = to_bf16(t[i], &tq[i]);
	for (int i = 0; i < n; i++)
		for (int c = 0; c < dim; c++) want[i * dim + c] = tq[tok[i] * dim + c] + pt[pos[i] * dim + c];
	CALL(kic_test_embed(KIC_BF16, bf, dim, tok, n, 1.f, pt, pos, y));
	check("embed bf16 + positions", y, want, n * dim, TOL_F32);
	for (int i = 0; i < n; i++) // Gemma: the row times sqrt(n_embd), rounded to fp32 as the CPU engine does
		for (int c = 0; c < dim; c++) want[i * dim + c] = tq[tok[i] * dim + c] * 8.f;
	CALL(kic_test_embed(KIC_BF16, bf, dim, tok, n, 8.f, NULL, NULL, y));
	check("embed bf16 scaled", y, want, n * dim, 0);
	uint8_t *q8 = to_q8_0(t, vocab * dim, tq);
	for (int i = 0; i < n; i++)
		for (int c = 0; c < dim; c++) want[i * dim + c] = tq[tok[i] * dim + c];
	CALL(kic_test_embed(KIC_Q8_0, q8, dim, tok, n, 1.f, NULL, NULL, y));
	check("embed q8_0", y, want, n * dim, TOL_F32);
	float *all = malloc(sizeof(float) * vocab * dim);
	CALL(kic_test_dequant_q8_0(q8, vocab * dim, all));
	check("dequant q8_0", all, tq, vocab * dim, 0); // exact: power-of-two scales
	free(t), free(tq), free(pt), free(y), free(want), free(bf), free(q8), free(all);
}

// window > 0: query i sees keys pos[i] - window + 1 .. pos[i]; softcap > 0: scores are softcap * tanh(s / softcap).
static void ref_attention(const float *q, const float *k, const float *v, const int32_t *pos, int n, int heads, int hkv,
                          int hd, int window, float softcap, float *out) {
	float scale = (float)(1 / sqrt((double)hd));
	for (int i = 0; i < n; i++)
		for (int h = 0; h < heads; h++) {
			int kvh = h / (heads / hkv), len = pos[i] + 1, first = window > 0 && len > window ? len - window : 0;
			double *s = malloc(sizeof(double) * len), mx = -1e300, sum = 0;
			for (int p = first; p < len; p++) {
				double d = 0;
				for (int j = 0; j < hd; j++) d += (double)q[(i * heads + h) * hd + j] * k[(p * hkv + kvh) * hd + j];
				s[p] = d * scale;
				if (softcap > 0) s[p] = softcap * tanh(s[p] / softcap);
				mx = fmax(mx, s[p]);
			}
			for (int p = first; p < len; p++) s[p] = exp(s[p] - mx), sum += s[p];
			for (int j = 0; j < hd; j++) {
				double o = 0;
				for (int p = first; p < len; p++) o += s[p] / sum * v[(p * hkv + kvh) * hd + j];
				out[(i * heads + h) * hd + j] = (float)o;
			}
			free(s);
		}
}

// kernel: 0 decode, 1 prefill (tensor cores where the device can), 2 prefill on the SIMT kernel. A prefill
// of n < len queries is the last chunk of a longer prompt: positions len-n .. len-1. The cache is stored as
// kv_type; the reference attends to the values rounded as the store rounds them, so the tolerance is the
// arithmetic's alone.
static void test_attention_ws(int kv_type, int heads, int hkv, int hd, int len, int n, int kernel, int window, float softcap) {
	int32_t *pos = malloc(sizeof(int32_t) * n);
	for (int i = 0; i < n; i++) // decode: various lengths
		pos[i] = kernel ? len - n + i : (int32_t)((long)len * (i + 1) / n - 1);
	float *q = malloc(sizeof(float) * n * heads * hd), *k = malloc(sizeof(float) * len * hkv * hd);
	float *v = malloc(sizeof(float) * len * hkv * hd), *y = malloc(sizeof(float) * n * heads * hd);
	float *want = malloc(sizeof(float) * n * heads * hd);
	fill(q, n * heads * hd, 1), fill(k, len * hkv * hd, 1), fill(v, len * hkv * hd, 1);
	static const char *kinds[] = {"decode", "prefill", "prefill simt"};
	char name[96];
	int at = snprintf(name, sizeof name, "attention %s %s heads %d/%d hd %d len %d n %d", kinds[kernel], kv_name(kv_type),
	                  heads, hkv, hd, len, n);
	if (window) at += snprintf(name + at, sizeof name - at, " window %d", window);
	if (softcap > 0) snprintf(name + at, sizeof name - at, " softcap %g", softcap);
	CALL(kic_test_attention(kv_type, q, k, v, len, pos, n, heads, hkv, hd, window, softcap, kernel, y));
	round_kv(kv_type, k, len * hkv * hd), round_kv(kv_type, v, len * hkv * hd);
	ref_attention(q, k, v, pos, n, heads, hkv, hd, window, softcap, want);
	// fp32, or bf16 hi + lo halves (~2^-17) on the tensor cores, with exp2f/__expf and a long softmax sum: 1e-4
	check(name, y, want, n * heads * hd, 1e-4);
	free(pos), free(q), free(k), free(v), free(y), free(want);
}

static void test_attention(int kv_type, int heads, int hkv, int hd, int len, int n, int kernel) {
	test_attention_ws(kv_type, heads, hkv, hd, len, n, kernel, 0, 0);
}

// sample_all samples rows rows of l, each by p.
static kic_status sample_all(const float *l, int rows, int vocab, kic_sampling p, const uint64_t *masks, int32_t *got) {
	kic_sampling *ps = malloc(sizeof(kic_sampling) * (size_t)rows);
	for (int r = 0; r < rows; r++) ps[r] = p;
	kic_status st = kic_test_sample(l, rows, vocab, ps, masks, got);
	free(ps);
	return st;
}

static void test_sample(void) {
	int rows = 3, vocab = 5000;
	float *l = malloc(sizeof(float) * rows * vocab);
	fill(l, rows * vocab, 4);
	int32_t best[3], got[3];
	for (int r = 0; r < rows; r++) {
		best[r] = 0;
		for (int j = 1; j < vocab; j++)
			if (l[r * vocab + j] > l[r * vocab + best[r]]) best[r] = j;
	}
	kic_sampling p = {0};
	CALL(sample_all(l, rows, vocab, p, NULL, got));
	checks++;
	int ok = got[0] == best[0] && got[1] == best[1] && got[2] == best[2];
	failures += !ok;
	printf("%s greedy sample = argmax\n", ok ? "ok  " : "FAIL");
	p.temperature = 1, p.top_k = 1, p.seed = 7;
	CALL(sample_all(l, rows, vocab, p, NULL, got));
	checks++;
	ok = got[0] == best[0] && got[1] == best[1] && got[2] == best[2];
	failures += !ok;
	printf("%s top-k 1 sample = argmax\n", ok ? "ok  " : "FAIL");
	// top-k 10: every draw is among the 10 largest logits, and the draws vary with the step.
	p.top_k = 10, p.top_p = 0.9f;
	int inside = 1, distinct = 0, first = -1;
	for (int step = 0; step < 50; step++) {
		p.step = (uint64_t)step;
		CALL(sample_all(l, 1, vocab, p, NULL, got));
		int above = 0;
		for (int j = 0; j < vocab; j++) above += l[j] > l[got[0]];
		inside &= above < 10;
		if (first < 0) first = got[0];
		distinct |= got[0] != first;
	}
	checks++;
	failures += !(inside && distinct);
	printf("%s top-k 10 / top-p 0.9 draws stay in the top 10 and vary (%d, %d)\n", inside && distinct ? "ok  " : "FAIL", inside, distinct);
	// Min-p at temperature 1: with the best logit 10 and the next 9 (probability 0.37 of the best's), the rest at
	// most 4, a floor of 0.3 keeps the two, and draws vary between them; 0.5 keeps the best alone.
	for (int j = 0; j < vocab; j++) l[j] = 4.f * (float)j / (float)vocab;
	l[1234] = 10.f, l[4321] = 9.f;
	p = (kic_sampling){0};
	p.temperature = 1, p.seed = 11, p.min_p = 0.3f;
	int two = 1, seen_best = 0, seen_next = 0, one = 1;
	for (int step = 0; step < 60; step++) {
		p.step = (uint64_t)step, p.min_p = 0.3f;
		CALL(sample_all(l, 1, vocab, p, NULL, got));
		two &= got[0] == 1234 || got[0] == 4321;
		seen_best |= got[0] == 1234, seen_next |= got[0] == 4321;
		p.min_p = 0.5f;
		CALL(sample_all(l, 1, vocab, p, NULL, got));
		one &= got[0] == 1234;
	}
	checks++;
	ok = two && seen_best && seen_next && one;
	failures += !ok;
	printf("%s min-p 0.3 draws the best two (both seen: %d, %d), 0.5 the best alone (%d)\n", ok ? "ok  " : "FAIL", seen_best,
	       seen_next, one);
	free(l);
	// Greedy over a Qwen-sized vocabulary, spread over many blocks: the maximum planted twice in row 0 (the
	// lower index wins), near the end in row 1.
	vocab = 151936;
	l = malloc(sizeof(float) * 2 * vocab);
	fill(l, 2 * vocab, 4);
	l[70001] = l[140003] = 50.f;
	l[vocab + vocab - 2] = 60.f;
	p = (kic_sampling){0};
	CALL(sample_all(l, 2, vocab, p, NULL, got));
	checks++;
	ok = got[0] == 70001 && got[1] == vocab - 2;
	failures += !ok;
	printf("%s greedy over %d tokens: lowest index of a tie, last block (%d, %d)\n", ok ? "ok  " : "FAIL", vocab, got[0], got[1]);
	// A NaN in row 0, +inf in row 1: both marked -1; -inf (a masked token) is an ordinary logit.
	l[123457] = NAN;
	l[vocab + 7] = INFINITY;
	CALL(sample_all(l, 2, vocab, p, NULL, got));
	int32_t nan_rows[2] = {got[0], got[1]};
	l[123457] = -INFINITY, l[vocab + 7] = -INFINITY;
	CALL(sample_all(l, 2, vocab, p, NULL, got));
	checks++;
	ok = nan_rows[0] == -1 && nan_rows[1] == -1 && got[0] == 70001 && got[1] == vocab - 2;
	failures += !ok;
	printf("%s greedy marks NaN/+inf rows -1, ignores -inf (%d, %d; %d, %d)\n", ok ? "ok  " : "FAIL", nan_rows[0],
	       nan_rows[1], got[0], got[1]);
	free(l);
}

// ref_argmax_masked is the host's masked greedy pick (worker/engine's argmaxMasked) after the GPU's check of the
// row: -1 for a NaN or +inf anywhere (-inf is an ordinary logit, as in test_sample), else the largest allowed
// logit, the lowest id on ties (an allowed -inf counts), -2 when the mask allows none.
static int ref_argmax_masked(const float *l, const uint64_t *mask, int vocab) {
	for (int j = 0; j < vocab; j++)
		if (isnan(l[j]) || l[j] == INFINITY) return -1;
	int best = -2;
	for (int j = 0; j < vocab; j++)
		if ((mask[j >> 6] >> (j & 63)) & 1 && (best < 0 || l[j] > l[best])) best = j;
	return best;
}

static int mask_has(const uint64_t *mask, int j) { return (int)((mask[j >> 6] >> (j & 63)) & 1); }
static void mask_set(uint64_t *mask, int j) { mask[j >> 6] |= 1ull << (j & 63); }
static int irand(int n) { // uniform in [0, n)
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (int)((rng >> 11) % (uint64_t)n);
}

// Logprobs on the device against a double reference: the log-softmax at the picked token and the top_n best, best
// first with ties to the lower id (rows with tied logits, a NaN, a row without a pick, a row whose best all lie in
// one of the kernel's chunks), on a Llama-3-sized vocabulary and on a small one whose last chunk is partial.
static void check_logprobs(const char *what, const float *l, int rows, int vocab, const int32_t *toks, int top) {
	kic_logprob_row *got = malloc(sizeof(kic_logprob_row) * rows);
	kic_status st = kic_test_logprobs(l, rows, vocab, toks, top, got);
	for (int r = 0; r < rows; r++) {
		const float *row = l + (long)r * vocab;
		double m = -INFINITY, sum = 0;
		for (int j = 0; j < vocab; j++)
			if (row[j] == row[j] && row[j] > m) m = row[j];
		for (int j = 0; j < vocab; j++)
			if (row[j] == row[j]) sum += exp((double)row[j] - m);
		double lse = m + log(sum), worst = 0;
		int ok = st == KIC_OK && (toks[r] < 0 ? got[r].chosen != got[r].chosen : fabs(got[r].chosen - (row[toks[r]] - lse)) < 1e-4);
		int prev = -1;
		for (int k = 0; k < top && ok; k++) { // the best after the previous pick, by (logit desc, id asc)
			int best = -1;
			for (int j = 0; j < vocab; j++) {
				if (row[j] != row[j]) continue;
				if (prev >= 0 && !(row[j] < row[prev] || (row[j] == row[prev] && j > prev))) continue;
				if (best < 0 || row[j] > row[best]) best = j;
			}
			double d = fabs(got[r].top_logprobs[k] - (row[best] - lse));
			worst = d > worst ? d : worst;
			ok &= got[r].top_ids[k] == best && d < 1e-4;
			prev = best;
		}
		checks++;
		failures += !ok;
		printf("%s logprobs %s row %d: chosen %.5f, top %d, %d, %d ... (worst %.1e)%s%s\n", ok ? "ok  " : "FAIL", what, r,
		       got[r].chosen, got[r].top_ids[0], got[r].top_ids[1], got[r].top_ids[2], worst, st == KIC_OK ? "" : ": ",
		       st == KIC_OK ? "" : kic_last_error());
	}
	free(got);
}

static void test_logprobs(void) {
	enum { ROWS = 5, TOP = 20 };
	int vocab = 128256;
	float *l = malloc(sizeof(float) * ROWS * vocab);
	fill(l, (long)ROWS * vocab, 4);
	l[1 * vocab + 7] = l[1 * vocab + 9] = l[1 * vocab + 3] = 9.f; // a three-way tie at the top: ids 3, 7, 9
	l[2 * vocab + 100] = NAN;                                      // never among the best, not in the sum
	for (int j = 0; j < 30; j++) l[4 * vocab + 70000 + j] = 5.f + j * 0.25f; // the best 30, in one 2048-token chunk
	int32_t toks[ROWS] = {5, 9, 77, -1, 70010};
	check_logprobs("128256 tokens", l, ROWS, vocab, toks, TOP);
	check_logprobs("128256 tokens, top 1", l, ROWS, vocab, toks, 1);
	vocab = 3000; // a chunk and a partial one
	fill(l, 2L * vocab, 4);
	for (int j = 0; j < 25; j++) l[vocab + 2990 + j % 10] = 5.f + (j % 10); // the best in the partial chunk
	int32_t small[2] = {2999, 0};
	check_logprobs("3000 tokens", l, 2, vocab, small, TOP);
	free(l);
}

// Sampling with allowed-token masks (structured output): greedy against the host's masked argmax on rows that
// cover the cases, and temperature, top-k and top-p draws that never leave the allowed tokens.
static void test_sample_masked(void) {
	// A Llama-3-sized vocabulary less 23, so the last mask word is partial (41 of its bits are tokens).
	enum { ROWS = 10 };
	int vocab = 128256 - 23, words = (vocab + 63) / 64;
	float *l = malloc(sizeof(float) * ROWS * vocab);
	uint64_t *m = calloc((size_t)ROWS * words, sizeof(uint64_t));
	fill(l, (long)ROWS * vocab, 4);
	const char *what[ROWS] = {"half the tokens", "one in a thousand", "one token", "every token (and the bits past the vocabulary)",
	                          "the last partial word only", "ties: the lowest allowed id", "no token",
	                          "only -inf logits allowed", "NaN where the mask excludes", "big logits excluded"};
	for (int j = 0; j < vocab; j++) {
		if (irand(2)) mask_set(m, j);
		if (irand(1000) == 0) mask_set(m + words, j);
	}
	mask_set(m + 2 * words, 77777);
	for (int w = 0; w < words; w++) m[3 * words + w] = ~0ull;
	for (int j = (words - 1) * 64; j < vocab; j++) mask_set(m + 4 * words, j);
	l[4 * vocab + (words - 1) * 64 - 1] = 90.f; // just before the last word: excluded
	l[4 * vocab + vocab - 1] = 80.f;            // the vocabulary's last token wins
	for (int j = 0; j < vocab; j += 3) mask_set(m + 5 * words, j);
	l[5 * vocab + 1000] = 70.f;                             // excluded (1000 % 3 != 0)
	l[5 * vocab + 1002] = l[5 * vocab + 99999] = 60.f;      // a tie between two allowed ids
	for (int j = 0; j < vocab; j += 5) {
		mask_set(m + 7 * words, j);
		l[7 * vocab + j] = -INFINITY;
	}
	for (int j = 1; j < vocab; j += 2) mask_set(m + 8 * words, j);
	l[8 * vocab + 4242] = NAN;
	for (int j = 0; j < vocab; j++)
		if (j % 7) mask_set(m + 9 * words, j);
		else l[9 * vocab + j] = 50.f + (float)(j % 11);
	int32_t got[ROWS];
	kic_sampling p = {0};
	CALL(sample_all(l, ROWS, vocab, p, m, got));
	for (int r = 0; r < ROWS; r++) {
		int want = ref_argmax_masked(l + (long)r * vocab, m + (long)r * words, vocab);
		checks++;
		failures += got[r] != want;
		printf("%s masked greedy, %s: %d (want %d)\n", got[r] == want ? "ok  " : "FAIL", what[r], got[r], want);
	}

	// Draws with temperature, alone and with top-k / top-p: always an allowed token, and with top-k one of the k
	// largest allowed logits, though the excluded tokens of rows 0, 1 and 9 hold logits far above the others.
	for (int r = 0; r < ROWS; r++)
		for (int j = 0; j < vocab; j++)
			if (!mask_has(m + (long)r * words, j) && irand(50) == 0) l[(long)r * vocab + j] = 40.f;
	l[8 * vocab + 4242] = 0.f;
	int rows_ok[ROWS] = {0}, k = 10;
	const kic_sampling params[3] = {{.temperature = 1.f, .seed = 11}, {.temperature = 0.7f, .top_k = k, .seed = 12},
	                                {.temperature = 1.3f, .top_p = 0.9f, .seed = 13}};
	int inside = 1, in_top_k = 1, distinct = 0;
	for (int pi = 0; pi < 3; pi++) {
		p = params[pi];
		int first = -1;
		for (int step = 0; step < 50; step++) {
			p.step = (uint64_t)step;
			CALL(sample_all(l, ROWS, vocab, p, m, got));
			for (int r = 0; r < ROWS; r++) {
				const float *lr = l + (long)r * vocab;
				const uint64_t *mr = m + (long)r * words;
				if (r == 6) { // no token allowed
					inside &= got[r] == -2;
					continue;
				}
				if (got[r] < 0 || got[r] >= vocab || !mask_has(mr, got[r])) {
					if (inside) printf("     row %d params %d step %d drew %d, not an allowed token\n", r, pi, step, got[r]);
					inside = 0;
					continue;
				}
				rows_ok[r]++;
				if (p.top_k) {
					int above = 0;
					for (int j = 0; j < vocab; j++) above += mask_has(mr, j) && lr[j] > lr[got[r]];
					in_top_k &= above < k;
				}
			}
			if (first < 0) first = got[0];
			distinct |= got[0] != first;
		}
	}
	checks++;
	int ok = inside && in_top_k && distinct && rows_ok[2] == 150 && rows_ok[7] == 150;
	failures += !ok;
	printf("%s masked draws (temperature, top-k %d, top-p) stay allowed, in the allowed top k, and vary (%d, %d, %d)\n",
	       ok ? "ok  " : "FAIL", k, inside, in_top_k, distinct);
	free(l), free(m);
}

// A batch samples each row by its own parameters (a server's requests differ): 70 rows (two launches of the
// sampler's 64 rows) mixing greedy and temperature rows, seeds and steps. Each row gives what it gives alone
// (its place in the batch changes nothing), greedy rows their argmax, top-k 1 rows their argmax, and a NaN or
// +inf in a sampled row is marked as in a greedy one.
static void test_sample_rows(void) {
	enum { ROWS = 70 };
	int vocab = 3000;
	float *l = malloc(sizeof(float) * ROWS * vocab);
	fill(l, (long)ROWS * vocab, 3);
	kic_sampling ps[ROWS];
	for (int r = 0; r < ROWS; r++) {
		ps[r] = (kic_sampling){0};
		if (r % 3) ps[r] = (kic_sampling){.temperature = 0.5f + 0.1f * (float)(r % 7), .seed = 1000u + (uint64_t)r, .step = (uint64_t)(r % 5)};
		if (r % 5 == 1) ps[r].top_k = 1 + r % 4;
		if (r % 5 == 2) ps[r].top_p = 0.8f;
	}
	ps[4].top_k = 1; // temperature with top-k 1: the argmax
	l[7L * vocab + 11] = NAN;       // sampled rows (7 % 3 != 0)
	l[65L * vocab + 2999] = INFINITY;
	int32_t got[ROWS], alone;
	CALL(kic_test_sample(l, ROWS, vocab, ps, NULL, got));
	int same = 1, greedy = 1, marked = got[7] == -1 && got[65] == -1;
	for (int r = 0; r < ROWS; r++) {
		if (r == 7 || r == 65) continue;
		CALL(kic_test_sample(l + (long)r * vocab, 1, vocab, &ps[r], NULL, &alone));
		if (got[r] != alone) {
			if (same) printf("     row %d drew %d in the batch, %d alone\n", r, got[r], alone);
			same = 0;
		}
		if (ps[r].temperature <= 0.f || ps[r].top_k == 1) {
			int best = 0;
			for (int j = 1; j < vocab; j++)
				if (l[(long)r * vocab + j] > l[(long)r * vocab + best]) best = j;
			greedy &= got[r] == best;
		}
	}
	// The same row twice with different seeds or steps draws differently somewhere: the parameters reach the row.
	float *two = malloc(sizeof(float) * 2 * vocab);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < vocab; j++) two[(long)i * vocab + j] = 0.01f * (float)(j % 13); // a flat distribution
	int differ = 0;
	for (int t = 0; t < 20 && !differ; t++) {
		kic_sampling pair[2] = {{.temperature = 1.f, .seed = 5, .step = (uint64_t)t}, {.temperature = 1.f, .seed = 6, .step = (uint64_t)t}};
		int32_t g2[2];
		CALL(kic_test_sample(two, 2, vocab, pair, NULL, g2));
		differ |= g2[0] != g2[1];
	}
	checks++;
	int ok = same && greedy && marked && differ;
	failures += !ok;
	printf("%s per-row sampling: %d rows as alone, greedy and top-k 1 rows their argmax, NaN/+inf marked, seeds their own (%d, %d, %d, %d)\n",
	       ok ? "ok  " : "FAIL", ROWS, same, greedy, marked, differ);
	free(l), free(two);
}

// read_file loads a whole file; NULL (and a FAIL) when it cannot.
static void *read_file(const char *dir, const char *name, const char *ext, long *len) {
	char path[1024], lower[32];
	int i = 0;
	for (; name[i] && i < 31; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	lower[i] = 0;
	snprintf(path, sizeof path, "%s/%s%s", dir, lower, ext);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("FAIL cannot open %s\n", path);
		failures++;
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(*len > 0 ? *len : 1);
	if (fread(buf, 1, *len, f) != (size_t)*len) *len = -1;
	fclose(f);
	return buf;
}

// test_block_quant checks one block format on ggml's own golden data (worker/gguf/testdata/quant, made by
// hack/quant/make-golden.sh): <type>.rand holds blocks of random bytes (every bit pattern of the packed scales
// and quants, finite fp16 fields) and <type>.rand.f32 ggml's to_float of them, which the decoding must equal
// bit for bit; <type>.quant holds ggml's quantization of real-looking rows. Then the matvec (batch 1 and 5,
// 1e-5: fp32 arithmetic on exact values) and the GEMM path (fp16 weights, 5e-3) against a float64 dot of the
// decoded values.
// test_block_quant_tiled runs the decode-sized products on a matrix tiled from ggml's quantized blocks: 4096
// columns (several steps of pieces a lane, so the loads of the next step are exercised), a row count that is
// no multiple of a kernel block's warps, the [gate; up] product at batch 1 and 8, the plain one at 1 and 3.
static void test_block_quant_tiled(const kic_type_traits *t, const uint8_t *quant, long nq) {
	long cols = 4096, half = 37, rows = 2 * half, nblk = nq / t->block_bytes, per_row = cols / t->block;
	long nbytes = rows * per_row * t->block_bytes, nw = rows * cols;
	uint8_t *w = malloc(nbytes);
	for (long b = 0; b < rows * per_row; b++) // a stride coprime with most counts, so rows differ
		memcpy(w + b * t->block_bytes, quant + (b * 7 % nblk) * t->block_bytes, t->block_bytes);
	float *wv = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * 8 * cols), *gu = malloc(sizeof(float) * 8 * rows);
	float *y = malloc(sizeof(float) * 8 * rows), *want = malloc(sizeof(float) * 8 * rows);
	if (kic_test_dequant(t->dtype, w, nbytes, nw, wv) != KIC_OK) {
		printf("FAIL dequant %s tiled: %s\n", t->name, kic_last_error());
		failures++;
		goto out;
	}
	fill(x, 8 * cols, 1);
	if (int8_type(t->dtype)) {
		for (int n = 1; n <= 3; n++) {
			test_int8("tiled", t->dtype, w, nbytes, wv, rows, cols, n, 0);
			if (n <= 2) test_int8("tiled", t->dtype, w, nbytes, wv, rows, cols, n, 1);
		}
		// The int8 path's smaller blocks (the benchmark's other sizes): 74 rows end in a part of a block there too.
		int was = kic_test_matvec_q8_warps(4);
		test_int8("tiled, 4 warps a block", t->dtype, w, nbytes, wv, rows, cols, 1, 0);
		test_int8("tiled, 4 warps a block", t->dtype, w, nbytes, wv, rows, cols, 2, 1);
		kic_test_matvec_q8_warps(was);
	}
	for (int n = 1; n <= 8; n++) {
		if (n != 1 && n != 3 && n != 8) continue;
		ref_linear(wv, x, NULL, 0, rows, cols, n, gu);
		char name[96];
		if (n != 8) {
			snprintf(name, sizeof name, "matvec %s %ldx%ld n=%d", t->name, rows, cols, n);
			if (kic_test_linear(t->dtype, w, nbytes, rows, cols, x, n, NULL, 0, 0, y) != KIC_OK) {
				printf("FAIL %s: %s\n", name, kic_last_error());
				failures++;
			} else {
				check(name, y, gu, n * rows, TOL_F32 * 10);
			}
		}
		// The prefill GEMM with the weight dequantized whole, in 4 column tiles of 1024, and in row pieces (18 rows,
		// as a scratch too small for a 1024-column tile gives).
		for (long sc = 0; n == 8 && sc < 3; sc++) {
			long elems = sc == 0 ? 1 : sc == 1 ? rows * 1024 : rows * 1000;
			snprintf(name, sizeof name, "gemm %s %ldx%ld n=%d scratch %ld", t->name, rows, cols, n, sc ? elems : nw);
			if (kic_test_linear(t->dtype, w, nbytes, rows, cols, x, n, NULL, 0, (int32_t)elems, y) != KIC_OK) {
				printf("FAIL %s: %s\n", name, kic_last_error());
				failures++;
			} else {
				check(name, y, gu, n * rows, TOL_F16);
			}
		}
		if (n == 3) continue;
		for (int tk = 0; tk < n; tk++)
			for (long r = 0; r < half; r++) {
				double g = gu[tk * rows + r], u = gu[tk * rows + half + r];
				want[tk * half + r] = (float)(g / (1 + exp(-g)) * u);
			}
		snprintf(name, sizeof name, "linear+swiglu %s %ldx%ld n=%d", t->name, rows, cols, n);
		if (kic_test_linear_glu(KIC_ACT_SILU, t->dtype, w, nbytes, rows, cols, x, n, y) != KIC_OK) {
			printf("FAIL %s: %s\n", name, kic_last_error());
			failures++;
		} else {
			check(name, y, want, n * half, TOL_F32 * 10);
		}
	}
out:
	free(w), free(wv), free(x), free(gu), free(y), free(want);
}

static void test_block_quant(const char *dir, const kic_type_traits *t) {
	long nb = 0, nf = 0, nq = 0;
	uint8_t *blocks = read_file(dir, t->name, ".rand", &nb);
	float *want = read_file(dir, t->name, ".rand.f32", &nf);
	uint8_t *quant = read_file(dir, t->name, ".quant", &nq);
	if (!blocks || !want || !quant) goto out;
	long count = nb / t->block_bytes * t->block;
	if (nf != count * 4 || nb % t->block_bytes || nq % t->block_bytes) {
		printf("FAIL %s golden data: %ld bytes of blocks, %ld of floats\n", t->name, nb, nf);
		failures++;
		goto out;
	}
	float *got = malloc(sizeof(float) * count);
	kic_status st = kic_test_dequant(t->dtype, blocks, nb, count, got);
	checks++;
	if (st != KIC_OK) {
		printf("FAIL dequant %s: %s\n", t->name, kic_last_error());
		failures++;
	} else {
		long diff = 0, first = -1;
		for (long i = 0; i < count; i++)
			if (memcmp(&got[i], &want[i], 4)) diff++, first = first < 0 ? i : first;
		if (diff) failures++;
		printf("%s dequant %-32s %ld of %ld values differ from ggml's bits", diff ? "FAIL" : "ok  ", t->name, diff, count);
		if (diff) printf(" (first at %ld: got %.9g want %.9g)", first, got[first], want[first]);
		printf("\n");
	}
	// Products: 256 columns, as many rows as the data holds.
	long qcount = nq / t->block_bytes * t->block, cols = 256, rows = qcount / cols;
	float *vals = malloc(sizeof(float) * qcount);
	if (kic_test_dequant(t->dtype, quant, nq, qcount, vals) != KIC_OK || rows < 1) {
		printf("FAIL dequant %s .quant: %s\n", t->name, kic_last_error());
		failures++;
	} else {
		for (int pass = 0; pass < 3; pass++) {
			int n = pass == 0 ? 1 : 5, gemm = pass == 2;
			float *x = malloc(sizeof(float) * n * cols), *y = malloc(sizeof(float) * n * rows), *ref = malloc(sizeof(float) * n * rows);
			double *bound = malloc(sizeof(double) * n * rows);
			fill(x, n * cols, 1);
			for (int tk = 0; tk < n; tk++)
				for (long r = 0; r < rows; r++) {
					double d = 0;
					for (long c = 0; c < cols; c++) d += (double)vals[r * cols + c] * x[tk * cols + c];
					ref[tk * rows + r] = (float)d;
				}
			// fp32 sums of cols terms move an output by at most cols units of rounding of sum |w x|; the GEMM's
			// weights rounded to fp16 by half an ulp each on top. The test data's large rows make outputs that
			// cancel to near zero, where only such a bound separates rounding from a bug.
			rounding_bound(vals, x, rows, cols, n, (double)cols * 0x1p-24 + (gemm ? 0x1p-11 : 0), bound);
			char name[64];
			snprintf(name, sizeof name, "%s %s n=%d", gemm ? "gemm" : "matvec", t->name, n);
			if (kic_test_linear(t->dtype, quant, nq, rows, cols, x, n, NULL, 0, gemm, y) != KIC_OK) {
				printf("FAIL %s: %s\n", name, kic_last_error());
				failures++;
			} else {
				check_rounding(name, y, ref, bound, n * rows, gemm ? TOL_F16 / 10 : TOL_F32);
			}
			free(x), free(y), free(ref), free(bound);
		}
		if (int8_type(t->dtype))
			for (int n = 1; n <= 3; n++) test_int8("quant", t->dtype, quant, nq, vals, rows, cols, n, 0);
	}
	free(vals), free(got);
	test_block_quant_tiled(t, quant, nq);
out:
	free(blocks), free(want), free(quant);
}

static void test_block_quants(void) {
	const char *dir = getenv("KIC_QUANT_GOLDEN");
	if (!dir) {
		printf("FAIL KIC_QUANT_GOLDEN is not set: the directory of worker/gguf/testdata/quant, .gz files unpacked\n");
		failures++;
		return;
	}
	for (int i = 0; i < KIC_TYPE_COUNT; i++) {
		int dt = kic_types[i].dtype;
		if (dt != KIC_F32 && dt != KIC_F16 && dt != KIC_BF16 && dt != KIC_Q8_0) test_block_quant(dir, &kic_types[i]);
	}
}

int main(void) {
	int32_t count = 0;
	printf("%s, abi %d\n", kic_version(), kic_abi_version());
	if (kic_device_count(&count) != KIC_OK) {
		printf("FAIL no device: %s\n", kic_last_error());
		return 1;
	}
	kic_device_info info;
	if (kic_device_info_get(0, &info) == KIC_OK)
		printf("device 0: %s, cc %d.%d, %d SMs, %llu MiB free of %llu\n", info.name, info.cc_major, info.cc_minor,
		       info.sm_count, (unsigned long long)(info.free_bytes >> 20), (unsigned long long)(info.total_bytes >> 20));
	// KIC_BENCH_ONLY=1: the benchmarks alone (no checks), for a quick measurement on a GPU machine; =matvec,
	// =attention, =gemm or =skinny: that one (run_benches).
	const char *bench_only = getenv("KIC_BENCH_ONLY");
	if (bench_only && *bench_only && strcmp(bench_only, "0") != 0) {
		run_benches(bench_only);
		return 0;
	}
	// The float kernels by default (the checks below hold them to fp32 rounding); test_int8 turns the int8 path on
	// for its own checks.
	kic_test_matvec_int8(0);
	// cuBLAS's two products first (KUBEINFER_CUDA_GEMM_ONE_READ=0), then its one-read form, the library's default.
	kic_test_gemm_one_read(0);
	int dtypes[4] = {KIC_F32, KIC_F16, KIC_BF16, KIC_Q8_0};
	for (int d = 0; d < 4; d++) {
		test_linear(dtypes[d], 300, 512, 1, 0);
		test_linear(dtypes[d], 257, 1024, 11, 0);
		test_linear(dtypes[d], 384, 512, 40, 1);
	}
	// A dequantization scratch smaller than the weight (kic_test_linear's use_gemm > 1): column tiles summed into y
	// (with the bias and accumulate on), row pieces of 256 where a column tile would be too narrow, and row pieces
	// of 2048 and a remainder.
	test_linear(KIC_Q8_0, 384, 4096, 5, 384 * 1024);
	test_linear(KIC_Q8_0, 1000, 1024, 3, 300 * 1024);
	test_linear(KIC_Q8_0, 4100, 256, 3, 2100 * 256); // pieces of 2048 rows: thick enough to stay whole rows
	// cuBLAS's one-read form (W times [hi; lo] as one product of 2n columns; y's rows past n start as garbage): 16-bit
	// weights, Q8_0 whole and in tiles (row pieces and column tiles summed into y), with the bias and accumulate on.
	kic_test_gemm_one_read(1);
	int split_was = kic_test_gemm_split_k(1);
	test_linear(KIC_BF16, 384, 512, 40, 1);
	test_linear(KIC_F16, 257, 1024, 64, 1);
	test_linear(KIC_BF16, 300, 512, 100, 1); // a prefill chunk, up to kic_gemm_one_read_max
	test_linear(KIC_Q8_0, 384, 512, 17, 1);
	test_linear(KIC_Q8_0, 384, 4096, 5, 384 * 1024);
	test_linear(KIC_Q8_0, 1000, 1024, 3, 300 * 1024);
	// Split over the columns: 2 and 3 slices (3 does not divide 512 in multiples of 8: 2 are taken), 16-bit weights,
	// bias and accumulate on, y's spare rows garbage; Q8_0 is never split.
	for (int slices = 2; slices <= 3; slices++) {
		int was = kic_test_gemm_split_k(slices);
		test_linear(KIC_BF16, 384, 512, 40, 1);
		test_linear(KIC_F16, 257, 1024, 64, 1);
		test_linear(KIC_BF16, 300, 768, 7, 1);
		test_linear(KIC_Q8_0, 384, 512, 17, 1);
		kic_test_gemm_split_k(was);
	}
	// The library's rule (split by the columns-to-rows ratio): 2 slices, 4, and a square matrix left whole.
	kic_test_gemm_split_k(0);
	test_linear(KIC_F16, 257, 1024, 64, 1);
	test_linear(KIC_BF16, 128, 1024, 40, 1);
	test_linear(KIC_BF16, 256, 256, 33, 1);
	kic_test_gemm_split_k(split_was);
	// Prefill products from 33 tokens on the activations' hi half alone (kic_gemm_hi_from): 16-bit weights in one
	// read's range and past it, Q8_0 in tiles; 17 tokens stay hi and lo.
	int hi_was = kic_test_gemm_hi_from(33);
	test_linear(KIC_BF16, 384, 512, 40, 1);
	test_linear(KIC_F16, 257, 1024, 200, 1);
	test_linear(KIC_Q8_0, 384, 4096, 64, 384 * 1024);
	test_linear(KIC_BF16, 384, 512, 17, 1);
	// An MLP's gate and up as two products of one call, where the hi half alone is taken.
	test_gemm_pair(KIC_BF16, 2 * 320, 512, 64);
	test_gemm_pair(KIC_F16, 2 * 256, 1024, 40);
	kic_test_gemm_hi_from(hi_was);
	test_linear(KIC_BF16, 65, 172, 3, 0); // cols % 8 != 0: scalar path
	test_linear(KIC_F32, 65, 172, 3, 0);
	// The skinny tensor-core kernels, each forced: 1, 7 (one partial tile), 8, 9, 31 and 64 tokens; 40 rows (a partial
	// tile). The column-splitting kernel on 96 columns (3 chunks: most warps idle) and 2080 (65 chunks: one warp a chunk
	// more than the rest); the tiled one on 2048 (its 8 cluster blocks 2 steps each, 4 for the [gate; up] pair), 256
	// (2 slices) and a matrix of enough rows for one slice (no cluster).
	for (int which = 1; which <= 2; which++) {
		kic_test_skinny_kernel(which);
		long cols = which == 1 ? 2080 : 2048;
		for (int k = 0; k < 3; k++) {
			const int ns[] = {1, 7, 8, 9, 31, 64};
			for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) test_skinny(k, KIC_ACT_SILU, k == 2 ? 80 : 40, cols, ns[i]);
			test_skinny(k, KIC_ACT_GELU_TANH, 300, which == 1 ? 96 : 256, 12);
		}
		test_skinny(1, KIC_ACT_GELU, 48, 512, 3);
		test_skinny(0, 0, 4096, 4096, 16);
		test_skinny_batch_invariant(300, 1024);
	}
	test_skinny(0, 0, 24576, 256, 20); // tiled: 192 row blocks, one slice each
	test_skinny(2, KIC_ACT_SILU, 49152, 128, 40);
	kic_test_skinny_kernel(0);
	test_linear_glu(KIC_ACT_SILU, KIC_BF16, 300, 512, 1);
	test_linear_glu(KIC_ACT_SILU, KIC_F16, 257, 1024, 5);
	test_linear_glu(KIC_ACT_SILU, KIC_Q8_0, 129, 512, 2);
	test_linear_glu(KIC_ACT_SILU, KIC_BF16, 40, 172, 3); // scalar path
	test_linear_glu(KIC_ACT_GELU_TANH, KIC_BF16, 300, 512, 1); // GeGLU (Gemma)
	test_linear_glu(KIC_ACT_GELU_TANH, KIC_Q8_0, 129, 512, 3);
	for (int a = KIC_ACT_SILU; a <= KIC_ACT_GELU; a++)
		for (int norm = 0; norm <= 2; norm++) test_linear_act(a, 257, 512, norm);
	// The fused decode [q; k; v] step in the shapes of the architectures that use it: Llama (adjacent pairs),
	// Qwen2/Phi-3/StarCoder2 (neox, Phi-3 partial with LongRoPE's factor), GPT-NeoX and Phi-2 (a quarter and a
	// half of each head rotated), GPT-2 (none).
	test_matvec_qkv(KIC_BF16, KIC_BF16, 32, 8, 64, 2048, 0, KIC_ROPE_NORM, 64, 1);
	test_matvec_qkv(KIC_F32, KIC_F32, 4, 2, 16, 64, 0, KIC_ROPE_NEOX, 12, 1.19f);
	test_matvec_qkv(KIC_BF16, KIC_F16, 14, 2, 64, 896, 0, KIC_ROPE_NEOX, 64, 1);
	test_matvec_qkv(KIC_F32, KIC_F32, 4, 4, 16, 64, 1, KIC_ROPE_NEOX, 4, 1);
	test_matvec_qkv(KIC_BF16, KIC_F32, 32, 32, 80, 2560, 1, KIC_ROPE_NEOX, 32, 1);
	test_matvec_qkv(KIC_F32, KIC_F16, 4, 2, 16, 64, 1, KIC_ROPE_NEOX, 16, 1);
	test_matvec_qkv(KIC_F32, KIC_F32, 12, 12, 64, 768, 1, KIC_ROPE_NONE, 0, 1);
	test_int8_q8_0(300, 512);
	test_int8_q8_0(74, 4096);
	test_norms();
	test_rope(KIC_ROPE_NORM, 64, 1, 0);
	test_rope(KIC_ROPE_NEOX, 64, 1, 0);
	test_rope(KIC_ROPE_NEOX, 32, 1, 0);
	test_rope(KIC_ROPE_NEOX, 16, 1, 0);       // GPT-NeoX's rotary quarter
	test_rope(KIC_ROPE_NORM, 48, 1, 0);       // partial in the adjacent-pair layout
	test_rope(KIC_ROPE_NEOX, 48, 1.19f, 0);   // LongRoPE's factor on cos and sin
	test_rope(KIC_ROPE_NEOX, 64, 1, 1);       // q/k norms, then the rotation
	test_rope(KIC_ROPE_NORM, 64, 1.19f, 1);
	test_activations();
	test_embed_dequant();
	test_block_quants();
	// heads / KV heads / head_dim: GQA, MHA, Llama-3-8B-like, MQA at 256, Qwen2.5-0.5B's group of 7, 80 wide
	int shapes[6][3] = {{8, 2, 16}, {4, 4, 64}, {32, 8, 128}, {8, 1, 256}, {14, 2, 64}, {4, 2, 80}};
	for (int s = 0; s < 6; s++) {
		for (int kernel = 1; kernel <= 2; kernel++) {
			test_attention(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 77, 77, kernel);
			test_attention(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 200, kernel);
		}
		test_attention(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 77, 5, 0);
		test_attention(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0);
		// One decode row takes up to KIC_ATTN_MAX_SPLITS splits: 47 active here, 79 at 5000 keys (merges
		// of more than 32 partials, in rounds).
		test_attention(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 1, 0);
		test_attention(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 5000, 1, 0);
		test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 5000, 1, 0, 1300, 0.5f);
	}
	// Sliding windows (Mistral, Gemma's local layers, Phi-3) and soft-capped scores (Gemma 2): windows shorter
	// than a tile, across tiles and split-K chunks, longer than every query's history (no effect); decode
	// queries of various lengths; prefill chunks at the end of a long prompt.
	int windows[4] = {6, 37, 300, 5000};
	for (int s = 0; s < 6; s++)
		for (int wi = 0; wi < 4; wi++) {
			float cap = wi % 2 ? 0.5f : 0;
			for (int kernel = 1; kernel <= 2; kernel++) {
				test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 77, 77, kernel, windows[wi], cap);
				if (windows[wi] < 1500) // (a longer one is the plain case, already run at this length)
					test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 200, kernel, windows[wi], cap);
			}
			test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0, windows[wi], cap);
			test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 77, 5, 0, windows[wi], cap);
		}
	for (int s = 0; s < 6; s++) { // soft-cap alone, a strong one (Gemma 2's 50 and 10 barely bend these scores)
		test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 200, 1, 0, 0.5f);
		test_attention_ws(KIC_F32, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0, 0, 0.5f);
		test_attention_ws(KIC_BF16, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 200, 1, 37, 0.5f);
		test_attention_ws(KIC_Q8_0, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0, 37, 0);
	}
	// Decode over the 16-bit pools (f16 is the default): the cp.async kernel, stages refilled while tiles are read,
	// across KV blocks, split-K chunks and partial tiles, with windows and soft-capping; a batch of short rows.
	for (int s = 0; s < 6; s++)
		for (int t16 = 0; t16 < 2; t16++) {
			int kt = t16 ? KIC_BF16 : KIC_F16;
			test_attention(kt, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0);
			test_attention(kt, shapes[s][0], shapes[s][1], shapes[s][2], 5000, 1, 0);
			test_attention(kt, shapes[s][0], shapes[s][1], shapes[s][2], 300, 64, 0);
			test_attention_ws(kt, shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0, 37, 0.5f);
			test_attention_ws(kt, shapes[s][0], shapes[s][1], shapes[s][2], 77, 5, 0, 300, 0);
		}
	// The KV storage types: every row width of the shapes above is whole groups of 32, as q8_0 needs.
	int kv_types[3] = {KIC_F16, KIC_BF16, KIC_Q8_0};
	for (int t = 0; t < 3; t++) {
		test_kv_store(kv_types[t], 32, 40);
		test_kv_store(kv_types[t], 160, 17);
		test_kv_store(kv_types[t], 1024, 3);
		for (int s = 0; s < 6; s++) {
			for (int kernel = 1; kernel <= 2; kernel++)
				test_attention(kv_types[t], shapes[s][0], shapes[s][1], shapes[s][2], 1500, 200, kernel);
			test_attention(kv_types[t], shapes[s][0], shapes[s][1], shapes[s][2], 77, 5, 0);
			test_attention(kv_types[t], shapes[s][0], shapes[s][1], shapes[s][2], 1500, 5, 0);
			test_attention(kv_types[t], shapes[s][0], shapes[s][1], shapes[s][2], 5000, 1, 0);
		}
	}
	test_sample();
	test_sample_masked();
	test_logprobs();
	test_sample_rows();
	// KIC_BENCHES names the benchmarks that follow the checks (run_benches; "none" for the checks alone), all by default.
	const char *benches = getenv("KIC_BENCHES");
	run_benches(benches && *benches ? benches : "1");
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
