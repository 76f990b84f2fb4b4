#!/usr/bin/env bash
# Fails when the committed generated code in pkg/, or the CRD in
# crd/mydemo.yaml, differs from what ./code-gen.sh generates from the current
# API types, code-generator and controller-gen.
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT

# Generate into a copy of the module, so the working tree is never touched.
cp -a "${repo_root}/go.mod" "${repo_root}/go.sum" "${repo_root}/hack" "${repo_root}/pkg" "${scratch}/"
rm -rf "${scratch}/pkg/client"
find "${scratch}/pkg" -name 'zz_generated.*.go' -delete
"${repo_root}/code-gen.sh" "${scratch}" >/dev/null

stale=0
if ! diff -ruN "${repo_root}/pkg" "${scratch}/pkg"; then
    echo "Generated code in pkg/ is out of date." >&2
    stale=1
fi
if ! diff -uN "${repo_root}/crd/mydemo.yaml" "${scratch}/crd/mydemo.yaml"; then
    echo "crd/mydemo.yaml is not what controller-gen generates from pkg/apis." >&2
    stale=1
fi
if [[ ${stale} -ne 0 ]]; then
    echo "Run ./code-gen.sh (or make codegen) and commit the result." >&2
    exit 1
fi
echo "Generated code in pkg/ and crd/mydemo.yaml are up to date."
