#!/usr/bin/env bash
# Installs, from Debian packages, what make e2e's node needs besides the
# binaries that hack/testbin.sh builds: runc, the CNI plugins, containerd
# and iproute2. Only what is missing is installed; apt-get needs root, as
# make e2e does anyway.
set -o errexit -o nounset -o pipefail

die() {
    echo "hack/e2e-packages.sh: $*" >&2
    exit 1
}

# command or file -> the Debian package that provides it
declare -A packages=(
    [runc]=runc
    [/usr/lib/cni/bridge]=containernetworking-plugins
    [containerd]=containerd
    [ip]=iproute2
)

missing=()
for what in "${!packages[@]}"; do
    if [[ "${what}" == /* ]]; then
        [[ -x "${what}" ]] && continue
    else
        command -v "${what}" >/dev/null && continue
    fi
    missing+=("${packages[${what}]}")
done
[[ ${#missing[@]} -gt 0 ]] || exit 0

[[ "$(id -u)" == 0 ]] || die "make e2e needs ${missing[*]} (Debian packages) and root to install them and to run a node"
command -v apt-get >/dev/null || die "make e2e needs ${missing[*]}; install them (this script knows only apt-get)"
echo "==> installing ${missing[*]} with apt-get"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
