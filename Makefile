# Sluice's Makefile. `make test` is the one command CI runs: it builds whatever
# tool is missing from the cache, checks that generated files are current, and
# runs every test suite.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

# Tools are pinned here and cached by version outside the repository, so a
# fresh clone reuses them. Delete the cache directory to force a rebuild.
SLUICE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sluice
export SLUICE_CACHE
TOOLS := $(SLUICE_CACHE)/tools

CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
GINKGO_VERSION ?= $(shell go list -m -f '{{.Version}}' github.com/onsi/ginkgo/v2)

CONTROLLER_GEN := $(TOOLS)/controller-gen-$(CONTROLLER_TOOLS_VERSION)/controller-gen
GOLANGCI_LINT := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint

# go test runs GOMAXPROCS (2 here) test packages at a time by default. The
# suites mostly wait on real timers (analysis intervals, Prometheus scrapes,
# pods becoming ready): the Canary controller suite uses about a third of a
# core over its 6 minutes. With two at a time the packages' 1,380 s queue in
# two lanes (about 11.5 minutes); four at a time keep both cores busy, and the
# Canary suite (about 6 minutes) becomes the longest lane. The suites'
# deadlines stretch with load (test/framework/deadline). GO_TEST_P=2 restores
# the default.
GO_TEST_P ?= 4
GO_TEST_FLAGS ?= -count=1 -timeout 30m -p $(GO_TEST_P)
IMG ?= sluice:dev

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the API and kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=sluice-manager-role crd:allowDangerousTypes=true,generateEmbeddedObjectMeta=true paths="./api/..." paths="./internal/..." paths="./cmd/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code (the API types are the only ones that need it).
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: api-docs
api-docs: ## Write docs/api.md from the generated CRDs.
	go run ./hack/apidocs config/crd/bases docs/api.md

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (pinned, installed by this Makefile).
	$(GOLANGCI_LINT) run ./...

.PHONY: sync-chart
sync-chart: ## Copy the CRDs, the manager's RBAC rules, the Grafana dashboard and the hook policy from config/ into charts/sluice.
	hack/sync-chart.sh

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart (helm is built into the cache when missing).
	"$$(hack/tools.sh helm)" lint --strict charts/sluice

.PHONY: verify-generated
verify-generated: $(CONTROLLER_GEN) ## Fail when generated files differ from what is committed.
	@hack/verify-generated.sh

##@ Test

.PHONY: tools
tools: $(CONTROLLER_GEN) ## Build or install the test tools with hack/tools.sh (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, Prometheus, helm, Traefik) when missing.
	hack/tools.sh cluster >/dev/null
	hack/tools.sh prometheus >/dev/null
	hack/tools.sh helm >/dev/null
	@# Traefik, the Gateway API data plane of test/suites/gateway: about 10
	@# minutes on a quiet 2-core machine, once; tests never build it themselves.
	hack/tools.sh traefik >/dev/null

.PHONY: test
test: verify-generated tools ## Run every test: unit, envtest (real kube-apiserver + etcd).
	@hack/check-gofmt.sh
	go vet ./...
	KUBEBUILDER_ASSETS="$$(hack/tools.sh envtest)" SLUICE_PROMETHEUS="$$(hack/tools.sh prometheus)" \
		go test $(GO_TEST_FLAGS) ./...

.PHONY: sandbox
sandbox: tools ## Run the sandbox: a whole canary and blue-green release on this machine, shown live (SANDBOX_FLAGS="--keep", "--scenario canary", "--rate 500").
	go run ./cmd/sandbox $(SANDBOX_FLAGS)

.PHONY: test-scenarios
test-scenarios: tools ## Run only the end-to-end suite, test/suites/scenarios (the sandbox's scenarios, asserted; SLUICE_E2E_GATEWAY=1 adds the gateway one).
	go test $(GO_TEST_FLAGS) -v ./test/suites/scenarios/

.PHONY: test-faults
test-faults: tools ## Run the full fault-injection suite (~25 min): 200 SIGKILLs of the operator during releases, 40 of them leader failovers, a 3-minute Prometheus outage, a concurrent writer, route drift (make test runs a reduced form).
	SLUICE_FAULTS=full go test -count=1 -timeout 90m -v -run . ./test/suites/faults/

.PHONY: test-zerodowntime
test-zerodowntime: tools ## Run the zero-downtime suite in full: every scenario of make test, plus a Canary release of a target autoscaled by a real HPA.
	SLUICE_ZERODOWNTIME=full KUBEBUILDER_ASSETS="$$(hack/tools.sh envtest)" SLUICE_PROMETHEUS="$$(hack/tools.sh prometheus)" \
		go test -count=1 -timeout 30m -v ./test/suites/zerodowntime/

.PHONY: test-unit
test-unit: ## Run the tests that need no API server.
	go test $(GO_TEST_FLAGS) ./internal/... ./api/...

##@ Deployment

.PHONY: install-crds
install-crds: ## Install the CRDs into the cluster of the current kubeconfig.
	kubectl apply --server-side -f config/crd/bases

.PHONY: uninstall-crds
uninstall-crds: ## Remove the CRDs (and with them every Canary and BlueGreen).
	kubectl delete -f config/crd/bases

##@ Build

.PHONY: build
build: ## Build the manager binary.
	CGO_ENABLED=0 go build -trimpath -o bin/manager ./cmd

.PHONY: run
run: ## Run the manager against the current kubeconfig.
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: build-plugin
build-plugin: ## Build the kubectl plugin, bin/kubectl-sluice (put it on PATH for `kubectl sluice`).
	CGO_ENABLED=0 go build -trimpath -o bin/kubectl-sluice ./cmd/kubectl-sluice

##@ Tools

$(CONTROLLER_GEN):
	@echo "installing controller-gen $(CONTROLLER_TOOLS_VERSION) into $(dir $@)"
	GOBIN=$(dir $@) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

$(GOLANGCI_LINT):
	@echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(dir $@) (a few minutes, once)"
	GOBIN=$(dir $@) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

##@ Benchmarks

.PHONY: bench-scale
bench-scale: tools ## Scale benchmark: N Canaries on a local control plane with kwok and the real operator; prints a table (BENCH_SCALE_FLAGS="-n 100,300,1000").
	go run ./cmd/bench-scale $(BENCH_SCALE_FLAGS)

.PHONY: bench-decisions
bench-decisions: ## Compare the judge with threshold rules on simulated releases; writes docs/analysis.md and docs/analysis-decisions.svg.
	go run ./hack/decisionbench
