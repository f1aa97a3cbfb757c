// matvec_launch.cuh: what matvec.cu's run-time dispatch calls, one instantiation per weight type (each in its own
// matvec_<type>.cu, from matvec_impl.cuh).
#pragma once
#include "matvec.cuh"

// kActFn applies the runtime activation (a kic_act) in the epilogue; kActGLU is act(gate) * up.
enum { kActNone, kActFn, kActGLU };
enum { kNormNone, kNormRMS, kNormLayer };

// launch_dt runs y = W x for nt tokens (1, 2, 4 or 8) of weight type DT; kind is kActNone, kActFn or kActGLU, act the
// kic_act of the latter two, nrm a norm fused into the prologue (nt == 1) or null.
template <int DT>
kic_status launch_dt(const kic_mat &w, const float *x, int nt, const float *bias, bool acc, float *y, int kind, int act,
                     const kic_matvec_norm *nrm, cudaStream_t s);

// launch_qkv_dt is launch_matvec_qkv for weight type DT and norm NORM (kNormRMS or kNormLayer).
template <int DT, int NORM>
kic_status launch_qkv_dt(const kic_mat &w, const float *x, const float *bias, float *y, const kic_matvec_norm &nrm,
                         const kic_qkv_store &st, cudaStream_t s);
