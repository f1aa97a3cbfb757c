# kubeinfer: Kubernetes operator + GPU inference worker.
# Targets follow the kubebuilder v4 scaffold; run `make help` for the list.

# The two images of the Dockerfile: the operator, and the worker (with the CUDA backend).
IMG ?= ghcr.io/kubeinfer/kubeinfer-operator:dev
WORKER_IMG ?= ghcr.io/kubeinfer/kubeinfer-worker:dev
# Kubernetes version envtest runs against (kube-apiserver built from source, see hack/setup-envtest.sh).
ENVTEST_K8S_VERSION ?= 1.37.2
CONTROLLER_TOOLS_VERSION ?= v0.23.0

LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GO ?= go

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests from the API types and markers, and the Helm chart's CRD and RBAC templates from config/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:allowDangerousTypes=true paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	$(GO) run ./hack/argocd-health
	$(GO) run ./hack/gen-chart

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods for the API types and the Go side's table of the CUDA library's ABI.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	$(GO) run ./hack/gen-kic-api

.PHONY: fmt
fmt: ## Run go fmt.
	$(GO) fmt ./...

# Build tags of the suites outside `make test`, so that vet and staticcheck read them too.
SUITE_TAGS := e2e,gitops

.PHONY: vet
vet: ## Run go vet; and build without cgo and for arm64 (no assembly), which the worker's image and users may do.
	$(GO) vet -tags $(SUITE_TAGS) ./...
	CGO_ENABLED=0 $(GO) build ./...
	GOARCH=arm64 $(GO) build ./...

.PHONY: lint
lint: vet ## go vet and staticcheck (built once per machine) over every package and suite.
	"$$(hack/prereqs.sh --path staticcheck)" -tags $(SUITE_TAGS) ./...

.PHONY: chart-lint
chart-lint: ## helm lint --strict and helm template of charts/kubeinfer (Helm built once per machine, ~6 min).
	@helm="$$(hack/prereqs.sh --path helm)"; \
	"$$helm" lint --strict charts/kubeinfer && \
	"$$helm" template kubeinfer charts/kubeinfer --namespace kubeinfer-system --set metrics.podMonitor.enabled=true >/dev/null && \
	echo "chart-lint: helm lint and helm template of charts/kubeinfer passed"

.PHONY: envtest
envtest: ## Print (building once per machine if needed) the KUBEBUILDER_ASSETS directory.
	@hack/setup-envtest.sh

.PHONY: test
test: ## Run unit and envtest suites against a real kube-apiserver + etcd, after lint, the chart's lint and the generated-code check.
	hack/prereqs.sh go gcc kubectl npm etcd helm
	$(MAKE) manifests generate lint chart-lint
	@git diff --exit-code --stat -- api config charts worker/cudabackend/kic_api.h || { echo "generated files are stale: run 'make generate manifests' and commit"; exit 1; }
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" $(GO) test ./... -count=1 -coverprofile cover.out

.PHONY: test-e2e
test-e2e: prereqs-cluster build ## End-to-end tests: the operator installed by helm and real workers on a devcluster (KWOK GPU nodes + local node), ~5 minutes.
	@hack/prereqs.sh helm
	$(GO) test -tags e2e ./test/e2e -count=1 -v -timeout 20m

##@ Run it on this machine

.PHONY: demo
demo: prereqs-cluster ## Build, start a devcluster, run the operator and config/samples, ask each model, show kubectl; DEMO_FLAGS=--keep keeps it running.
	$(GO) run ./hack/demo $(DEMO_FLAGS)

.PHONY: devcluster
devcluster: prereqs-cluster build ## Run a devcluster (control plane, KWOK GPU nodes, a local node running pods) until Ctrl-C; DEVCLUSTER_FLAGS for its flags.
	$(GO) run ./hack/devcluster up $(DEVCLUSTER_FLAGS)

.PHONY: bench-operator
bench-operator: prereqs-cluster ## Scale benchmark of the operator on KWOK GPU nodes vs. the cluster's floor, then every worker loading its model at once (API writes of load progress), ~11 min at the default scale (the load phase included); BENCH_FLAGS, e.g. --workers 100 --nodes 25.
	$(GO) run ./test/bench $(BENCH_FLAGS)

.PHONY: devcluster-binaries
devcluster-binaries: prereqs-build ## Build (once per machine, minutes) the devcluster's etcd, kube-apiserver, controller-manager, scheduler and KWOK.
	$(GO) run ./hack/devcluster build

##@ Build

# What the targets need before their long part: checked, and installed where a fresh Debian
# machine can (hack/prereqs.sh).
.PHONY: prereqs-build prereqs-cluster
prereqs-build:
	@hack/prereqs.sh go gcc
prereqs-cluster: prereqs-build
	@hack/prereqs.sh kubectl

.PHONY: build
build: ## Build the manager and worker binaries into ./bin.
	$(GO) build -o $(LOCALBIN)/manager ./cmd/manager
	$(GO) build -o $(LOCALBIN)/kubeinfer-worker ./cmd/kubeinfer-worker

.PHONY: run
run: manifests generate ## Run the manager against the cluster in ~/.kube/config.
	$(GO) run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the operator image IMG and the worker image WORKER_IMG (needs a Docker engine).
	docker build --target operator -t $(IMG) .
	docker build --target worker -t $(WORKER_IMG) .

# config/default with the images of IMG and WORKER_IMG.
KUSTOMIZE_RELEASE = kubectl kustomize config/default | sed -e 's|image: controller:latest|image: $(IMG)|' -e 's|--worker-image=worker:latest|--worker-image=$(WORKER_IMG)|'

.PHONY: release-manifest
release-manifest: manifests ## Write dist/kubeinfer.yaml: the namespace, CRD, RBAC and operator in one file for kubectl apply --server-side -f.
	@hack/prereqs.sh kubectl
	@mkdir -p dist
	$(KUSTOMIZE_RELEASE) > dist/kubeinfer.yaml
	@echo "wrote dist/kubeinfer.yaml (operator $(IMG), workers $(WORKER_IMG))"

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster in ~/.kube/config.
	kubectl kustomize config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs (and every InferenceWorker) from the cluster.
	kubectl kustomize config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests ## Deploy the operator with kustomize, images IMG and WORKER_IMG (Helm: see README "Install").
	$(KUSTOMIZE_RELEASE) | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator.
	kubectl kustomize config/default | kubectl delete --ignore-not-found -f -

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: test-gitops
test-gitops: prereqs-cluster ## A real Argo CD (built once per machine, ~7 min) syncs InferenceWorkers from a local Git repository into a devcluster (~2 min once built; not in `make test`).
	hack/prereqs.sh git redis
	$(GO) test -tags gitops ./test/gitops -run TestGitOps -v -count=1 -timeout 40m
