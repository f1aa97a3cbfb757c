// The matvec kernels for IQ4_NL, IQ4_XS weights (see matvec_impl.cuh).
#include "matvec_impl.cuh"

KIC_MATVEC_INSTANTIATE(KIC_IQ4_NL)
KIC_MATVEC_INSTANTIATE(KIC_IQ4_XS)
