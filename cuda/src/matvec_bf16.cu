// The matvec kernels for BF16 weights (see matvec_impl.cuh).
#include "matvec_impl.cuh"

KIC_MATVEC_INSTANTIATE(KIC_BF16)
