// nccl.cu: NCCL loaded at run time; see nccl.cuh.
#include <dlfcn.h>
#include <mutex>
#include <stdio.h>
#include <stdlib.h>

#include "nccl.cuh"

// NCCL's C ABI, as nccl.h declares it (the enum values are NCCL's).
typedef int nccl_result;      // ncclResult_t; ncclSuccess is 0
enum { kNcclFloat32 = 7 };    // ncclDataType_t ncclFloat32
enum { kNcclSum = 0 };        // ncclRedOp_t ncclSum

static struct {
	nccl_result (*get_version)(int *);
	const char *(*get_error_string)(nccl_result);
	nccl_result (*comm_init_all)(kic_nccl_comm *, int, const int *);
	nccl_result (*comm_destroy)(kic_nccl_comm);
	nccl_result (*all_reduce)(const void *, void *, size_t, int, int, kic_nccl_comm, cudaStream_t);
	nccl_result (*group_start)(void);
	nccl_result (*group_end)(void);
	nccl_result (*send)(const void *, size_t, int, int, kic_nccl_comm, cudaStream_t);
	nccl_result (*recv)(void *, size_t, int, int, kic_nccl_comm, cudaStream_t);
} nccl;

static std::once_flag nccl_once;
static kic_status nccl_status = KIC_ERR_UNSUPPORTED;
static char nccl_error[512];
static int nccl_version = 0;

static void load() {
	// Before NCCL reads its environment: a process that wants NVLS can still not set it here, which is the
	// point, since one model's all-reduces never need it.
	setenv("NCCL_NVLS_ENABLE", "0", 1);
	const char *names[] = {"libnccl.so.2", "libnccl.so"};
	void *h = nullptr;
	const char *why = "";
	for (const char *name : names) {
		if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
		why = dlerror();
	}
	if (!h) {
		snprintf(nccl_error, sizeof nccl_error,
		         "NCCL (libnccl.so.2) is not available, so a model cannot be split over several GPUs: %s. It ships in "
		         "NVIDIA's CUDA images and as the libnccl2 package; or run the model on one GPU",
		         why ? why : "not found");
		return;
	}
#define SYM(field, name)                                                                                      \
	if (!(*(void **)&nccl.field = dlsym(h, name))) {                                                          \
		snprintf(nccl_error, sizeof nccl_error, "NCCL (libnccl.so.2) lacks %s: it is older than 2.7", name); \
		return;                                                                                               \
	}
	SYM(get_version, "ncclGetVersion")
	SYM(get_error_string, "ncclGetErrorString")
	SYM(comm_init_all, "ncclCommInitAll")
	SYM(comm_destroy, "ncclCommDestroy")
	SYM(all_reduce, "ncclAllReduce")
	SYM(group_start, "ncclGroupStart")
	SYM(group_end, "ncclGroupEnd")
	SYM(send, "ncclSend")
	SYM(recv, "ncclRecv")
#undef SYM
	nccl.get_version(&nccl_version);
	nccl_status = KIC_OK;
}

kic_status kic_nccl_load() {
	std::call_once(nccl_once, load);
	if (nccl_status != KIC_OK) return kic_set_error(nccl_status, "%s", nccl_error);
	return KIC_OK;
}

int kic_nccl_version_code() { return nccl_version; }

static kic_status check(nccl_result r, const char *what) {
	if (r == 0) return KIC_OK;
	return kic_set_error(KIC_ERR_CUDA, "NCCL %s: %s (%d)", what, nccl.get_error_string(r), r);
}

kic_status kic_nccl_comm_init_all(kic_nccl_comm *comms, int n, const int *devices) {
	KIC_TRY(kic_nccl_load());
	return check(nccl.comm_init_all(comms, n, devices), "ncclCommInitAll");
}

void kic_nccl_comm_destroy(kic_nccl_comm comm) {
	if (comm && nccl.comm_destroy) nccl.comm_destroy(comm);
}

kic_status kic_nccl_all_reduce_sum(float *buf, size_t count, kic_nccl_comm comm, cudaStream_t s) {
	return check(nccl.all_reduce(buf, buf, count, kNcclFloat32, kNcclSum, comm, s), "ncclAllReduce");
}

kic_status kic_nccl_group_start() { return check(nccl.group_start(), "ncclGroupStart"); }
kic_status kic_nccl_group_end() { return check(nccl.group_end(), "ncclGroupEnd"); }

kic_status kic_nccl_send(const float *buf, size_t count, int peer, kic_nccl_comm comm, cudaStream_t s) {
	return check(nccl.send(buf, count, kNcclFloat32, peer, comm, s), "ncclSend");
}

kic_status kic_nccl_recv(float *buf, size_t count, int peer, kic_nccl_comm comm, cudaStream_t s) {
	return check(nccl.recv(buf, count, kNcclFloat32, peer, comm, s), "ncclRecv");
}
