# kubeinfer: Kubernetes operator + GPU inference worker.
# Targets follow the kubebuilder v4 scaffold; run `make help` for the list.

IMG ?= ghcr.io/kubeinfer/kubeinfer:dev
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
manifests: controller-gen ## Generate the CRD and RBAC manifests from the API types and markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	$(GO) run ./hack/argocd-health

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods for the API types and the Go side's table of the CUDA library's ABI.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	$(GO) run ./hack/gen-kic-api

.PHONY: fmt
fmt: ## Run go fmt.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: envtest
envtest: ## Print (building once per machine if needed) the KUBEBUILDER_ASSETS directory.
	@hack/setup-envtest.sh

.PHONY: test
test: manifests generate vet ## Run unit and envtest suites against a real kube-apiserver + etcd.
	@git diff --exit-code --stat -- api config worker/cudabackend/kic_api.h || { echo "generated files are stale: run 'make generate manifests' and commit"; exit 1; }
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" $(GO) test ./... -count=1 -coverprofile cover.out

.PHONY: test-e2e
test-e2e: build ## End-to-end tests: the real operator and workers on a devcluster (KWOK GPU nodes + local node), ~5 minutes.
	$(GO) test -tags e2e ./hack/e2e -count=1 -v -timeout 20m

##@ Run it on this machine

.PHONY: demo
demo: ## Build, start a devcluster, run the operator and config/samples, ask each model, show kubectl; DEMO_FLAGS=--keep keeps it running.
	$(GO) run ./hack/demo $(DEMO_FLAGS)

.PHONY: devcluster
devcluster: build ## Run a devcluster (control plane, KWOK GPU nodes, a local node running pods) until Ctrl-C; DEVCLUSTER_FLAGS for its flags.
	$(GO) run ./hack/devcluster up $(DEVCLUSTER_FLAGS)

.PHONY: bench-operator
bench-operator: ## Scale benchmark of the operator on KWOK GPU nodes vs. the cluster's floor, then every worker loading its model at once (API writes of load progress), ~11 min at the default scale (the load phase included); BENCH_FLAGS, e.g. --workers 100 --nodes 25.
	$(GO) run ./hack/bench-operator $(BENCH_FLAGS)

.PHONY: devcluster-binaries
devcluster-binaries: ## Build (once per machine, minutes) the devcluster's etcd, kube-apiserver, controller-manager, scheduler and KWOK.
	$(GO) run ./hack/devcluster build

##@ Build

.PHONY: build
build: ## Build the manager and worker binaries into ./bin.
	$(GO) build -o $(LOCALBIN)/manager ./cmd/manager
	$(GO) build -o $(LOCALBIN)/kubeinfer-worker ./cmd/kubeinfer-worker

.PHONY: run
run: manifests generate ## Run the manager against the cluster in ~/.kube/config.
	$(GO) run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the image (needs a Docker engine).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster in ~/.kube/config.
	kubectl kustomize config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs (and every InferenceWorker) from the cluster.
	kubectl kustomize config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests ## Deploy the operator with image IMG.
	cd config/manager && kubectl kustomize . >/dev/null
	kubectl kustomize config/default | sed 's#controller:latest#$(IMG)#' | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator.
	kubectl kustomize config/default | kubectl delete --ignore-not-found -f -

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: test-gitops
test-gitops: ## Issue 9 end to end: a real Argo CD (built once per machine) syncs InferenceWorkers into devcluster (~2 min once Argo CD is built; not in `make test`).
	$(GO) test -tags gitops ./hack/argocd -run TestGitOps -v -count=1 -timeout 40m
