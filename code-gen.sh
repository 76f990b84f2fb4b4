#!/usr/bin/env bash
# Regenerates the deepcopy functions in pkg/apis and the typed clientset,
# listers and informers in pkg/client from the types in pkg/apis/crddemo/v1.
#
# The generators come from k8s.io/code-generator at the version go.mod pins,
# found through the module cache, so no GOPATH layout or vendor/ is needed.
#
# Usage: ./code-gen.sh [OUTPUT_ROOT]
# OUTPUT_ROOT defaults to this repository; hack/verify-codegen.sh passes a
# temporary copy of it.
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
output_root="$(cd "${1:-${repo_root}}" && pwd)"
module="github.com/domac/crddemo"

cd "${output_root}"
go mod download k8s.io/code-generator
codegen_root="$(go list -m -f '{{.Dir}}' k8s.io/code-generator)"

# kube_codegen.sh installs the generators into GOBIN; keep them inside the
# repository so that regenerating never touches the user's own Go bin.
export GOBIN="${repo_root}/bin/codegen"
# shellcheck source=/dev/null
source "${codegen_root}/kube_codegen.sh"

kube::codegen::gen_helpers \
    --boilerplate "${output_root}/hack/boilerplate.go.txt" \
    "${output_root}/pkg/apis"

# gen_client looks for stale files in these directories before writing; on a
# fresh output root they do not exist yet.
mkdir -p "${output_root}/pkg/client/clientset" "${output_root}/pkg/client/listers" "${output_root}/pkg/client/informers"

kube::codegen::gen_client \
    --with-watch \
    --output-dir "${output_root}/pkg/client" \
    --output-pkg "${module}/pkg/client" \
    --boilerplate "${output_root}/hack/boilerplate.go.txt" \
    "${output_root}/pkg/apis"
