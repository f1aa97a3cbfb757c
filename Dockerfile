# Two images, both non-root (UID 65532) and able to run with a read-only root filesystem
# (the operator writes nothing; the worker writes only to the volumes the operator mounts:
# /models, /tmp and the model cache):
#
#   operator  /manager on distroless static: the operator (make docker-build IMG=...)
#   worker    /usr/local/bin/kubeinfer-worker and, beside it, its CUDA backend
#             libkubeinfer_cuda.so on the CUDA runtime image (cuBLAS); the operator's
#             --worker-image (the chart's worker.image) points at it (WORKER_IMG=...)
#
#   docker build --target operator -t <registry>/kubeinfer-operator:<tag> .
#   docker build --target worker   -t <registry>/kubeinfer-worker:<tag> .
#
# Build: make docker-build IMG=... WORKER_IMG=...   (needs a Docker engine)

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
COPY internal/ internal/
COPY worker/ worker/
# The cgo binding includes the CUDA backend's C header (the ABI is defined once).
COPY cuda/include/ cuda/include/
# The manager is static. The worker needs cgo only for dlopen: it links nothing from
# CUDA or the driver, so the same binary starts on nodes without a GPU.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/manager ./cmd/manager \
 && CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/kubeinfer-worker ./cmd/kubeinfer-worker

# --- worker ----------------------------------------------------------------
# The CUDA runtime image has cuBLAS/cuBLASLt; the driver comes from the node (the NVIDIA
# container toolkit mounts it). The worker finds libkubeinfer_cuda.so next to itself.
FROM nvidia/cuda:${CUDA_VERSION}-runtime-${UBUNTU} AS worker
COPY --from=build /out/kubeinfer-worker /usr/local/bin/kubeinfer-worker
COPY --from=cuda /src/cuda/build/libkubeinfer_cuda.so /usr/local/bin/libkubeinfer_cuda.so
# The user the worker pods run as (runAsUser 65532).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubeinfer-worker"]

# --- operator --------------------------------------------------------------
# Last, so a plain `docker build .` gives the small operator image.
FROM gcr.io/distroless/static-debian12:nonroot AS operator
COPY --from=build /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
