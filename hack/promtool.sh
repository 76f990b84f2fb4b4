#!/usr/bin/env bash
# Builds bin/promtool, which make test-alerts runs to unit-test the alerts of
# deploy/monitoring, from the Prometheus version that
# hack/tools/promtool/go.mod pins.
#
# promtool has a module of its own, not a place in hack/tools, because
# github.com/prometheus/prometheus requires newer client_golang, common and
# k8s.io modules than Kubernetes does: in hack/tools, MVS would raise them
# under etcd and kube-apiserver too.
#
# As hack/testbin.sh does, it asks the binary for its version and rebuilds
# only when that is not the pinned one. Built with plain go build, promtool
# reports an empty version, so the build stamps it the way Prometheus's own
# release builds do.
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module_dir="${repo_root}/hack/tools/promtool"
bin_dir="${repo_root}/bin"
promtool="${bin_dir}/promtool"

die() {
    echo "hack/promtool.sh: $*" >&2
    exit 1
}

command -v go >/dev/null || die "go is not on PATH; install Go to build promtool"

# A go.work above the repository must not pull other modules into this build.
export GOWORK=off

module_version="$(cd "${module_dir}" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)" ||
    die "cannot read the version of github.com/prometheus/prometheus from hack/tools/promtool/go.mod"

# Prometheus 3 publishes release X.Y.Z as the Go module version v0.X0Y.Z
# (3.16.0 is v0.316.0), because its tags have no /v3 module path.
if [[ "${module_version}" =~ ^v0\.([0-9]+)([0-9][0-9])\.([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 3)); then
    want="${BASH_REMATCH[1]}.$((10#${BASH_REMATCH[2]})).${BASH_REMATCH[3]}"
else
    die "github.com/prometheus/prometheus ${module_version} is not of the form v0.X0Y.Z of a Prometheus 3 release"
fi

# promtool --version prints "promtool, version 3.16.0 (branch: ..., revision: ...)".
have=""
if [[ -x "${promtool}" ]]; then
    have="$("${promtool}" --version 2>/dev/null | awk '$1 == "promtool," && $2 == "version" { print $3; exit }')" || true
fi
if [[ "${have}" == "${want}" ]]; then
    echo "bin/promtool ${have} is up to date"
    exit 0
fi

echo "==> building bin/promtool ${want} (github.com/prometheus/prometheus ${module_version}); with a cold Go"
echo "    build cache this takes about 8 minutes of CPU: 5 minutes on an idle 2-core machine, over 12 on a busy one"
started=${SECONDS}
mkdir -p "${bin_dir}"
# Built next to the target and renamed, so that an interrupted build never
# leaves a truncated binary that looks installed.
partial="${bin_dir}/.promtool.partial"
trap 'rm -f "${partial}"' EXIT
(cd "${module_dir}" && go build -ldflags "-X github.com/prometheus/common/version.Version=${want}" \
    -o "${partial}" github.com/prometheus/prometheus/cmd/promtool) ||
    die "building promtool from hack/tools/promtool failed; see the go build errors above"
mv -f "${partial}" "${promtool}"
echo "    built bin/promtool in $((SECONDS - started))s"

have="$("${promtool}" --version 2>/dev/null | awk '$1 == "promtool," && $2 == "version" { print $3; exit }')" || true
[[ "${have}" == "${want}" ]] ||
    die "bin/promtool was built but reports version '${have}', not ${want}; check how hack/promtool.sh stamps it"
