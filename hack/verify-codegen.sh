#!/usr/bin/env bash
# Fails when the committed generated code in pkg/ differs from what
# ./code-gen.sh generates from the current API types and code-generator.
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT

# Generate into a copy of the module, so the working tree is never touched.
cp -a "${repo_root}/go.mod" "${repo_root}/go.sum" "${repo_root}/hack" "${repo_root}/pkg" "${scratch}/"
rm -rf "${scratch}/pkg/client"
find "${scratch}/pkg" -name 'zz_generated.*.go' -delete
"${repo_root}/code-gen.sh" "${scratch}" >/dev/null

if ! diff -ruN "${repo_root}/pkg" "${scratch}/pkg"; then
    echo "Generated code in pkg/ is out of date: run ./code-gen.sh (or make codegen) and commit the result." >&2
    exit 1
fi
echo "Generated code in pkg/ is up to date."
