# One image holds the operator (/manager), the worker (/usr/local/bin/kubeinfer-worker)
# and, beside the worker, its CUDA backend (libkubeinfer_cuda.so), which the worker
# dlopens at run time; the operator's --worker-image points at this same image.
# Build: make docker-build IMG=...   (needs a Docker engine)

ARG CUDA_VERSION=13.0.1
ARG UBUNTU=ubuntu24.04

# --- CUDA backend ----------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-devel-${UBUNTU} AS cuda
WORKDIR /src
COPY cuda/ cuda/
RUN make -C cuda -j"$(nproc)"

# --- Go build --------------------------------------------------------------
# bookworm's glibc (2.36) is older than the runtime image's, so the cgo worker runs there.
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not refetch modules.
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY worker/ worker/
# The cgo binding includes the CUDA backend's C header (the ABI is defined once).
COPY cuda/include/ cuda/include/
# The manager is static. The worker needs cgo only for dlopen: it links nothing from
# CUDA or the driver, so the same binary starts on nodes without a GPU.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/manager ./cmd/manager \
 && CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/kubeinfer-worker ./cmd/kubeinfer-worker

# --- Runtime ---------------------------------------------------------------
# The CUDA runtime image has cuBLAS/cuBLASLt; the driver comes from the node
# (the NVIDIA container toolkit mounts it).
FROM nvidia/cuda:${CUDA_VERSION}-runtime-${UBUNTU}
COPY --from=build /out/manager /manager
COPY --from=build /out/kubeinfer-worker /usr/local/bin/kubeinfer-worker
COPY --from=cuda /src/cuda/build/libkubeinfer_cuda.so /usr/local/bin/libkubeinfer_cuda.so
# The same non-root user the worker pods run as (runAsUser 65532).
USER 65532:65532
ENTRYPOINT ["/manager"]
