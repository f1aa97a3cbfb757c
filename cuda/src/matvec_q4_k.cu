// The matvec kernels for Q4_K weights (see matvec_impl.cuh).
#include "matvec_impl.cuh"

KIC_MATVEC_INSTANTIATE(KIC_Q4_K)
