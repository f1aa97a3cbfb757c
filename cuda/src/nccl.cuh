// nccl.cuh: NCCL, loaded at run time (dlopen of libnccl.so.2), for tensor parallelism.
//
// The library links nothing from NCCL at build time: one build runs on a node without it (single-GPU models
// never touch it), and a multi-GPU model says clearly when it is missing. The few declarations below are
// NCCL's stable C ABI (nccl.h, unchanged since NCCL 2.0 for these calls), so no NCCL headers are needed to
// build either.
#pragma once
#include "common.cuh"

typedef struct ncclComm *kic_nccl_comm;

// kic_nccl_load dlopens NCCL once per process (later calls return the first answer), after turning NVLink
// multicast (NVLS) off: it reserves memory on every GPU and has failed on shared machines; the all-reduces
// of one model's activations are small enough not to need it.
kic_status kic_nccl_load();
// kic_nccl_version is NCCL's version code (e.g. 22703) once loaded.
int kic_nccl_version_code();

// The calls a tensor-parallel model makes, each returning KIC_ERR_CUDA with NCCL's message on failure.
kic_status kic_nccl_comm_init_all(kic_nccl_comm *comms, int n, const int *devices);
void kic_nccl_comm_destroy(kic_nccl_comm comm);
// Sum of count floats over the ranks, in place, enqueued on s.
kic_status kic_nccl_all_reduce_sum(float *buf, size_t count, kic_nccl_comm comm, cudaStream_t s);
kic_status kic_nccl_group_start();
kic_status kic_nccl_group_end();
kic_status kic_nccl_send(const float *buf, size_t count, int peer, kic_nccl_comm comm, cudaStream_t s);
kic_status kic_nccl_recv(float *buf, size_t count, int peer, kic_nccl_comm comm, cudaStream_t s);
