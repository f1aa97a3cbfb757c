# One image holds both binaries: the operator (/manager) and the worker
# (/usr/local/bin/kubeinfer-worker); the operator's --worker-image points at it.
# Build: make docker-build IMG=...   (needs a Docker engine)

# --- Go build --------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not refetch modules.
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY worker/ worker/
# The worker loads its GPU library at run time (dlopen), so neither binary links
# anything from the driver; static binaries run on any node.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o /out/manager ./cmd/manager \
 && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o /out/kubeinfer-worker ./cmd/kubeinfer-worker

# --- Runtime ---------------------------------------------------------------
# distroless: no shell, no package manager; runs as the nonroot user (65532),
# matching the worker pods' runAsUser.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/manager /manager
COPY --from=build /out/kubeinfer-worker /usr/local/bin/kubeinfer-worker
USER 65532:65532
ENTRYPOINT ["/manager"]
