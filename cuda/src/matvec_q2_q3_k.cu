// The matvec kernels for Q2_K, Q3_K weights (see matvec_impl.cuh).
#include "matvec_impl.cuh"

KIC_MATVEC_INSTANTIATE(KIC_Q2_K)
KIC_MATVEC_INSTANTIATE(KIC_Q3_K)
