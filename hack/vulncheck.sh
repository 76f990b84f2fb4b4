#!/usr/bin/env bash
# Runs govulncheck on the crddemo module (./...: the controller and the code
# that tests and demonstrates it) and fails on every vulnerability that its
# code reaches, unless hack/vulncheck-allow.txt lists it with a reason.
#
# govulncheck's database server is out of reach on a machine that has only
# the Go module proxy, but the database ships as a Go module too:
# golang.org/x/vulndb, whose data/osv directory its cmd/indexdb turns into the
# database that `govulncheck -db file://...` reads. Both are pinned, so that a
# run finds the same things until one of them is bumped: govulncheck in
# hack/tools/go.mod, golang.org/x/vulndb in hack/tools/vulndb/go.mod. The
# database is built once per vulndb version into bin/vulndb/VERSION (about a
# minute, most of it compiling cmd/indexdb) and reused after that.
#
# Only govulncheck's default, symbol-level findings count: a vulnerable
# function that crddemo's code can call. Vulnerabilities in packages or
# modules it requires without calling them are shown by
# `govulncheck -show verbose`, and fail nothing.
#
# Usage: hack/vulncheck.sh [DB]
# DB is a database URL for govulncheck's -db flag to use instead of the pinned
# one: https://vuln.go.dev, the live database, on a machine that reaches it.
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${repo_root}/hack/tools"
vulndb_module_dir="${tools_dir}/vulndb"
bin_dir="${repo_root}/bin"
allow_file="${repo_root}/hack/vulncheck-allow.txt"

die() {
    echo "hack/vulncheck.sh: $*" >&2
    exit 1
}

[[ $# -le 1 ]] || die "usage: hack/vulncheck.sh [DB_URL]"
command -v go >/dev/null || die "go is not on PATH; install Go to run govulncheck"

# A go.work above the repository must not pull other modules into these
# builds, nor into the module that govulncheck checks.
export GOWORK=off

# The allowed findings, from lines "ID WHERE REASON" ('#' starts a comment),
# read first so that a malformed line fails before the scan, not after it.
[[ -f "${allow_file}" ]] || die "hack/vulncheck-allow.txt is missing; it lists the findings that may pass (it may list none)"
declare -A allowed=()
line_number=0
while read -r id where reason || [[ -n "${id}" ]]; do
    line_number=$((line_number + 1))
    [[ -n "${id}" && "${id}" != \#* ]] || continue
    [[ -n "${reason}" ]] ||
        die "hack/vulncheck-allow.txt:${line_number}: '${id} ${where}' gives no reason; write ID WHERE REASON"
    allowed["${id} ${where}"]="${reason}"
done <"${allow_file}"

report=""
partial_db=""
trap 'rm -rf "${report}" "${partial_db}"' EXIT

# go build leaves an up-to-date binary alone and rebuilds one that another Go
# or another pinned version built. That matters here: a govulncheck built by
# an older Go cannot type-check code for a newer one.
mkdir -p "${bin_dir}/tools"
govulncheck="${bin_dir}/tools/govulncheck"
(cd "${tools_dir}" && go build -o "${govulncheck}" golang.org/x/vuln/cmd/govulncheck) ||
    die "building govulncheck from hack/tools failed; see the go build errors above"

if [[ $# -eq 1 ]]; then
    db_url="$1"
    db_name="${db_url}"
else
    vulndb_version="$(cd "${vulndb_module_dir}" && go list -m -f '{{.Version}}' golang.org/x/vulndb)" ||
        die "cannot read the version of golang.org/x/vulndb from hack/tools/vulndb/go.mod"
    db_dir="${bin_dir}/vulndb/${vulndb_version}"
    db_url="file://${db_dir}"
    db_name="golang.org/x/vulndb ${vulndb_version}"
    # The directory appears only complete (it is built under another name and
    # renamed), so its presence is enough; a version bump builds a new one.
    if [[ ! -d "${db_dir}" ]]; then
        echo "==> building the vulnerability database of ${db_name} into bin/vulndb/${vulndb_version} (once per version, about a minute)"
        started=${SECONDS}
        osv_dir="$(cd "${vulndb_module_dir}" && go mod download golang.org/x/vulndb &&
            go list -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv" ||
            die "cannot download golang.org/x/vulndb ${vulndb_version} from the Go module proxy"
        indexdb="${bin_dir}/tools/indexdb"
        (cd "${vulndb_module_dir}" && go build -o "${indexdb}" golang.org/x/vulndb/cmd/indexdb) ||
            die "building cmd/indexdb from hack/tools/vulndb failed; see the go build errors above"
        mkdir -p "${bin_dir}/vulndb"
        partial_db="$(mktemp -d "${bin_dir}/vulndb/.${vulndb_version}.XXXXXX")"
        "${indexdb}" -vulns "${osv_dir}" -out "${partial_db}" ||
            die "cmd/indexdb could not build the database from ${osv_dir}"
        chmod 755 "${partial_db}"
        if mv -T "${partial_db}" "${db_dir}" 2>/dev/null; then
            partial_db=""
        else
            # Another run finished the same database first: use that one, and
            # let the trap remove this copy.
            [[ -d "${db_dir}" ]] || die "cannot move the new database into ${db_dir}"
        fi
        echo "    built bin/vulndb/${vulndb_version} in $((SECONDS - started))s"
    fi
fi

echo "==> govulncheck ./... with $(go env GOVERSION), against ${db_name}"
report="$(mktemp)"
status=0
(cd "${repo_root}" && "${govulncheck}" -db "${db_url}" ./...) >"${report}" 2>&1 || status=$?
case ${status} in
0)
    cat "${report}"
    ;;
3) ;; # Symbol-level findings: sorted out below.
*)
    cat "${report}"
    die "govulncheck failed (exit code ${status}); see its output above"
    ;;
esac

# The findings, as "ID WHERE" lines: WHERE is stdlib or the module that the
# vulnerable code is in. One advisory can be in both (golang.org/x/net carries
# the HTTP/2 code that net/http bundles), and an entry allows one of them only.
# This reads govulncheck's text report: its JSON would need a JSON parser,
# which a machine with only Go, bash and make lacks. The pinned govulncheck
# keeps the format fixed, and a report that fails yet yields nothing to check
# stops the script rather than passing it.
found=()
if [[ ${status} -eq 3 ]]; then
    mapfile -t found < <(awk '
        /^=== / { symbols = ($0 == "=== Symbol Results ===") }
        symbols && /^Vulnerability #[0-9]+: / { id = $3 }
        symbols && id != "" && $0 == "  Standard library" { print id, "stdlib" }
        symbols && id != "" && /^  Module: / { print id, $2 }
    ' "${report}" | sort -u)
    if [[ ${#found[@]} -eq 0 ]]; then
        cat "${report}"
        die "govulncheck reported vulnerabilities, but none could be read from its report; has its format changed?"
    fi
fi

declare -A is_found=()
unexplained=()
for finding in "${found[@]}"; do
    is_found["${finding}"]=1
    [[ -n "${allowed[${finding}]+set}" ]] || unexplained+=("${finding}")
done

stale=()
if [[ ${#allowed[@]} -gt 0 ]]; then
    mapfile -t entries < <(printf '%s\n' "${!allowed[@]}" | sort)
    for entry in "${entries[@]}"; do
        [[ -n "${is_found[${entry}]+set}" ]] || stale+=("${entry}")
    done
fi

if [[ ${#unexplained[@]} -gt 0 ]]; then
    cat "${report}"
elif [[ ${#found[@]} -gt 0 ]]; then
    echo "govulncheck found ${#found[@]} reachable vulnerabilities (ID WHERE), each explained in hack/vulncheck-allow.txt:"
    for finding in "${found[@]}"; do
        echo "  ${finding}: ${allowed[${finding}]}"
    done
    echo "(the full report, with call traces: ${govulncheck#"${repo_root}"/} -db ${db_url} ./...)"
fi
# Not an error: a newer Go than the one CI uses, or another database, finds
# less, and the entry is still needed there.
for entry in "${stale[@]}"; do
    echo "note: '${entry}' in hack/vulncheck-allow.txt was not found this time; remove it once no supported Go or database finds it"
done
if [[ ${#unexplained[@]} -gt 0 ]]; then
    echo
    echo "Not explained in hack/vulncheck-allow.txt:"
    printf '  %s\n' "${unexplained[@]}"
    die "${#unexplained[@]} reachable vulnerabilities (listed above) are neither fixed nor explained; upgrade the module or Go that has them, or add 'ID WHERE REASON' to hack/vulncheck-allow.txt and explain it in docs/development.md"
fi
