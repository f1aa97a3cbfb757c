// The matvec kernels for Q8_0 weights (see matvec_impl.cuh).
#include "matvec_impl.cuh"

KIC_MATVEC_INSTANTIATE(KIC_Q8_0)
