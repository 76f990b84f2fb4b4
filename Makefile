# crddemo's build. `make` checks, tests and builds everything; `make help`
# lists the targets. The first run builds a Kubernetes control plane from
# source into bin/ (on a 2-core machine with empty Go caches, kube-apiserver
# alone takes about 8.5 minutes); later runs reuse it.

GO ?= go
# Go 1.27.3, which the go command fetches from the module proxy the first
# time (about 76 MB): go1.26.8's standard library has vulnerabilities that
# crddemo reaches (hack/vulncheck-allow.txt). go.mod's toolchain line names
# it too, but a machine whose Go says GOTOOLCHAIN=local ignores that line.
export GOTOOLCHAIN ?= go1.27.3
BINARY := releases/crddemo
# The version that the binary and the image report: the nearest git tag, with
# the commit and a -dirty mark when the tree is not exactly that tag.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
VERSION_LDFLAGS := -X github.com/domac/crddemo/internal/version.version=$(VERSION)
IMAGE ?= crddemo:$(VERSION)
# bin/kubectl, built from source like the rest of bin/, lets a machine with
# only Go deploy; KUBECTL=kubectl uses your own instead.
KUBECTL ?= bin/kubectl
# make vulncheck checks against the golang.org/x/vulndb version that
# hack/tools/vulndb/go.mod pins, built into bin/vulndb; VULNDB=URL uses
# another database, such as the live https://vuln.go.dev.
VULNDB ?=

.DEFAULT_GOAL := all
.PHONY: all build test e2e test-alerts docs-check check fmt-check vet vulncheck codegen verify-codegen testbin promtool image image-load deploy undeploy kubectl-bin demo bench local-cluster clean help

all: test build ## Check, test (unit and integration) and build releases/crddemo.

build: ## Build the controller into releases/crddemo.
	$(GO) build -ldflags "$(VERSION_LDFLAGS)" -o $(BINARY) .

# The integration tests skip themselves under plain `go test` when bin/ is
# empty; CRDDEMO_REQUIRE_CONTROL_PLANE makes them fail instead, so that this
# target never passes without running them.
test: check vulncheck test-alerts build docs-check testbin ## Run govulncheck, the alert rules' tests, and the unit and integration tests against a real kube-apiserver and etcd.
	CRDDEMO_REQUIRE_CONTROL_PLANE=1 CRDDEMO_BINARY=$(CURDIR)/$(BINARY) $(GO) test -race -count=1 ./...

docs-check: build ## Check that docs/ names every flag of --help and that every relative link in the pages resolves.
	$(GO) run ./hack/docscheck --crddemo=$(BINARY)

# E2E_TIMEOUT bounds the whole suite; the node alone takes a minute to start.
E2E_TIMEOUT ?= 30m

# The suite runs the image that make image built, imported from its archive.
e2e: image ## Run deploy/ as pods on a real node (kubelet, containerd), from make image's image, and test it; needs root (test/e2e).
	hack/e2e-packages.sh
	hack/testbin.sh etcd kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler
	CRDDEMO_E2E=1 CRDDEMO_E2E_IMAGE=$(IMAGE) CRDDEMO_E2E_IMAGE_ARCHIVE=$(CURDIR)/$(IMAGE_ARCHIVE) \
		$(GO) test -count=1 -v -timeout $(E2E_TIMEOUT) ./test/e2e

test-alerts: promtool ## Run promtool's unit tests of the alerts in deploy/monitoring (deploy/monitoring/alerts_test.yaml).
	hack/test-alerts.sh

check: fmt-check vet verify-codegen ## gofmt, go vet and the generated-code check.

fmt-check:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change these files:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

vulncheck: ## Run govulncheck on ./... and fail on reachable vulnerabilities that hack/vulncheck-allow.txt does not explain.
	hack/vulncheck.sh $(VULNDB)

codegen: ## Regenerate pkg/client, the deepcopy functions and crd/mydemo.yaml from pkg/apis.
	./code-gen.sh

verify-codegen: ## Fail if the committed generated code or crd/mydemo.yaml is out of date.
	hack/verify-codegen.sh

testbin: ## Build etcd, kube-apiserver and kubectl into bin/ (only what is missing or outdated).
	hack/testbin.sh

promtool: ## Build Prometheus's promtool into bin/ at the version hack/tools/promtool/go.mod pins (only if missing or outdated).
	hack/promtool.sh

# make image writes the image into this archive, named $(IMAGE); its times
# are the commit's, so that two builds of one commit give the same digest.
IMAGE_ARCHIVE := releases/crddemo-$(VERSION).tar
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

image: ## Build the container image crddemo:VERSION (or IMAGE=...) into releases/crddemo-VERSION.tar, in Go: no Docker or Podman needed.
	$(GO) run ./hack/image --version=$(VERSION) --tag=$(IMAGE) --output=$(IMAGE_ARCHIVE) \
		--created=$(SOURCE_DATE_EPOCH) --revision=$(REVISION)

# The first of docker and podman that is installed and whose engine answers
# (Podman needs none). A recursive variable, so that only make image-load
# pays for asking.
CONTAINER_ENGINE ?= $(shell for engine in docker podman; do \
	if command -v $$engine >/dev/null 2>&1 && $$engine info >/dev/null 2>&1; then echo $$engine; break; fi; done)

image-load: image ## Build the image and load it into Docker or Podman, whichever answers first.
	@if [ -z "$(CONTAINER_ENGINE)" ]; then \
		echo "make image-load: neither docker nor podman answers; load $(IMAGE_ARCHIVE) where one does, or into a node's containerd with ctr -n k8s.io images import" >&2; exit 1; fi
	$(CONTAINER_ENGINE) load -i $(IMAGE_ARCHIVE)

# Only the kubectl of bin/ is built here: anything else is the user's own.
ifeq ($(KUBECTL),bin/kubectl)
deploy undeploy: kubectl-bin
endif

kubectl-bin:
	hack/testbin.sh kubectl

deploy: ## Install the CRD and run crddemo in the cluster that KUBECONFIG names (kubectl apply -k deploy).
	$(KUBECTL) apply -k deploy

undeploy: ## Remove everything make deploy installed, the CRD and so every Mydemo included.
	$(KUBECTL) delete -k deploy --ignore-not-found

demo: build testbin ## Replay the walkthrough on a throwaway local control plane.
	$(GO) run ./hack/demo --crddemo=$(BINARY)

# BENCH_FLAGS are the bench's own flags, crddemo's after a --, for example
#   make bench BENCH_FLAGS='--n=10000 -- --workers=16 --kube-api-qps=2000 --kube-api-burst=4000'
# (go run ./hack/bench --help lists them).
BENCH_FLAGS ?=

bench: build testbin ## Time crddemo on N objects against the API server's own limit (BENCH_FLAGS=...).
	$(GO) run ./hack/bench --crddemo=$(BINARY) $(BENCH_FLAGS)

# LOCAL_CLUSTER_FLAGS=--sharded-list-and-watch turns on the API server's
# ShardedListAndWatch feature gate, for crddemo --shards.
LOCAL_CLUSTER_FLAGS ?=

local-cluster: build testbin ## Start a local control plane and keep it up until Ctrl-C (LOCAL_CLUSTER_FLAGS=...).
	$(GO) run ./hack/local-cluster $(LOCAL_CLUSTER_FLAGS)

clean: ## Remove releases/. bin/ is kept: rebuilding the control plane takes minutes (rm -rf bin to force it).
	rm -rf releases

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## /  \1\t/' | expand -t 18
