# crddemo's build. `make` checks, tests and builds everything; `make help`
# lists the targets. The first run builds a Kubernetes control plane from
# source into bin/ (about 10 minutes on 2 cores); later runs reuse it.

GO ?= go
BINARY := releases/crddemo

.DEFAULT_GOAL := all
.PHONY: all build test check fmt-check vet codegen verify-codegen testbin demo local-cluster clean help

all: test build ## Check, test (unit and integration) and build releases/crddemo.

build: ## Build the controller into releases/crddemo.
	$(GO) build -o $(BINARY) .

# The integration tests skip themselves under plain `go test` when bin/ is
# empty; CRDDEMO_REQUIRE_CONTROL_PLANE makes them fail instead, so that this
# target never passes without running them.
test: check build testbin ## Run the unit and integration tests against a real kube-apiserver and etcd.
	CRDDEMO_REQUIRE_CONTROL_PLANE=1 CRDDEMO_BINARY=$(CURDIR)/$(BINARY) $(GO) test -race -count=1 ./...

check: fmt-check vet verify-codegen ## gofmt, go vet and the generated-code check.

fmt-check:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change these files:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

codegen: ## Regenerate pkg/client, the deepcopy functions and crd/mydemo.yaml from pkg/apis.
	./code-gen.sh

verify-codegen: ## Fail if the committed generated code is out of date.
	hack/verify-codegen.sh

testbin: ## Build etcd, kube-apiserver and kubectl into bin/ (only what is missing or outdated).
	hack/testbin.sh

demo: build testbin ## Replay the walkthrough on a throwaway local control plane.
	$(GO) run ./hack/demo --crddemo=$(BINARY)

local-cluster: build testbin ## Start a local control plane and keep it up until Ctrl-C.
	$(GO) run ./hack/local-cluster

clean: ## Remove releases/. bin/ is kept: rebuilding the control plane takes minutes (rm -rf bin to force it).
	rm -rf releases

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 18
