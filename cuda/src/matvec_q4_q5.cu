// The matvec kernels for Q4_0, Q4_1, Q5_0, Q5_1 weights (see matvec_impl.cuh).
#include "matvec_impl.cuh"

KIC_MATVEC_INSTANTIATE(KIC_Q4_0)
KIC_MATVEC_INSTANTIATE(KIC_Q4_1)
KIC_MATVEC_INSTANTIATE(KIC_Q5_0)
KIC_MATVEC_INSTANTIATE(KIC_Q5_1)
