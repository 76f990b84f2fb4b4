#!/usr/bin/env bash
# Builds bin/etcd, bin/kube-apiserver and bin/kubectl, the control plane that
# the integration tests, hack/demo and hack/local-cluster run crddemo against.
#
# They are built from source rather than downloaded because a machine with
# only Go (and the Go module proxy) must be able to run everything; their
# versions come from hack/tools/go.mod, the one place they are pinned.
#
# A binary is rebuilt only when it is missing or reports a version other than
# the pinned one. Asking the binary itself, rather than keeping a stamp file,
# means bin/ can never claim a version that it does not hold.
#
# Usage: hack/testbin.sh [NAME...]
# NAME is etcd, kube-apiserver or kubectl; without one, all three. make deploy
# asks for kubectl alone, which builds far faster than kube-apiserver.
# kubelet, kube-controller-manager and kube-scheduler, the node and the
# controllers that make e2e runs pods with, are built only when named: make
# test never needs them, and each takes minutes to build.
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${repo_root}/hack/tools"
bin_dir="${repo_root}/bin"

die() {
    echo "hack/testbin.sh: $*" >&2
    exit 1
}

command -v go >/dev/null || die "go is not on PATH; install Go to build the control plane"

# A go.work above the repository must not pull other modules into this build:
# the versions have to be exactly those of hack/tools/go.mod.
export GOWORK=off

# pinned MODULE prints the version of MODULE that hack/tools/go.mod requires.
pinned() {
    (cd "${tools_dir}" && go list -m -f '{{.Version}}' "$1") ||
        die "cannot read the version of $1 from hack/tools/go.mod"
}

kube_version="$(pinned k8s.io/kubernetes)"
etcd_version="$(pinned go.etcd.io/etcd/server/v3)"

# Built with plain go build, Kubernetes binaries report a placeholder version
# (v0.0.0-master); its own release scripts stamp these variables instead.
# component-base is what kube-apiserver --version and kubectl version print;
# client-go's copy goes into the User-Agent of every request they make.
kube_semver="${kube_version#v}"
kube_major="${kube_semver%%.*}"
kube_minor="${kube_semver#*.}"
kube_minor="${kube_minor%%.*}"
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kube_ldflags+=" -X ${pkg}.gitVersion=${kube_version}"
    kube_ldflags+=" -X ${pkg}.gitMajor=${kube_major}"
    kube_ldflags+=" -X ${pkg}.gitMinor=${kube_minor}"
    kube_ldflags+=" -X ${pkg}.gitTreeState=clean"
done

# reported_version NAME prints the version that bin/NAME says it is, in the
# form go.mod uses (with a leading v), or nothing if it is missing or broken.
reported_version() {
    local binary="${bin_dir}/$1"
    [[ -x "${binary}" ]] || return 0
    case "$1" in
    etcd) "${binary}" --version | awk '$1 == "etcd" && $2 == "Version:" { print "v" $3 }' ;;
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler)
        "${binary}" --version | awk '$1 == "Kubernetes" { print $2 }' ;;
    kubectl) "${binary}" version --client | awk '$1 == "Client" && $2 == "Version:" { print $3 }' ;;
    esac 2>/dev/null || true
}

names=(etcd kube-apiserver kubectl)
declare -A packages=(
    [etcd]=go.etcd.io/etcd/server/v3
    [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
    [kubectl]=k8s.io/kubernetes/cmd/kubectl
    [kubelet]=k8s.io/kubernetes/cmd/kubelet
    [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
    [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
)
declare -A versions=([etcd]="${etcd_version}")
declare -A ldflags=([etcd]="")
for name in kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler; do
    versions[${name}]="${kube_version}"
    ldflags[${name}]="${kube_ldflags}"
done
if [[ $# -gt 0 ]]; then
    for name in "$@"; do
        [[ -n "${packages[${name}]+set}" ]] || die "unknown binary '${name}'; choose from ${!packages[*]}"
    done
    names=("$@")
fi

stale=()
for name in "${names[@]}"; do
    have="$(reported_version "${name}")"
    if [[ "${have}" == "${versions[${name}]}" ]]; then
        echo "bin/${name} ${have} is up to date"
    else
        stale+=("${name}")
    fi
done
[[ ${#stale[@]} -gt 0 ]] || exit 0

echo "Building ${stale[*]} from source with Go. On a machine whose Go build cache"
echo "is cold this takes several minutes (kube-apiserver alone about 8.5 minutes"
echo "on 2 cores); later runs reuse the cache and bin/."

mkdir -p "${bin_dir}"
# go build writes its output in place, so build next to the target and rename:
# an interrupted build must not leave a truncated binary that looks installed.
partial=""
trap '[[ -z "${partial}" ]] || rm -f "${partial}"' EXIT

for name in "${stale[@]}"; do
    want="${versions[${name}]}"
    echo "==> building bin/${name} ${want} (${packages[${name}]})"
    started=${SECONDS}
    partial="${bin_dir}/.${name}.partial"
    (cd "${tools_dir}" && go build -ldflags "${ldflags[${name}]}" -o "${partial}" "${packages[${name}]}") ||
        die "building bin/${name} from ${packages[${name}]} failed; see the go build errors above"
    mv -f "${partial}" "${bin_dir}/${name}"
    partial=""
    echo "    built bin/${name} in $((SECONDS - started))s"

    have="$(reported_version "${name}")"
    [[ "${have}" == "${want}" ]] ||
        die "bin/${name} was built but reports version '${have}', not ${want}; check how hack/testbin.sh stamps it"
done
