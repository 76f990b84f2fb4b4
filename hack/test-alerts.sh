#!/usr/bin/env bash
# Runs promtool's unit tests of crddemo's alerts (make test-alerts, part of
# make test): deploy/monitoring/alerts_test.yaml against the rule groups of
# deploy/monitoring/prometheusrule.yaml, which hack/rulesfile extracts into a
# plain rules file, since promtool cannot read a PrometheusRule. The rules are
# kept in the PrometheusRule alone, so what is tested is what is deployed.
#
# It needs bin/promtool: make test-alerts builds it first (make promtool).
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
monitoring="${repo_root}/deploy/monitoring"
promtool="${repo_root}/bin/promtool"

die() {
    echo "hack/test-alerts.sh: $*" >&2
    exit 1
}

[[ -x "${promtool}" ]] || die "bin/promtool is missing; build it with make promtool"

# promtool resolves rule_files relative to the test file, so both go into one
# directory, under the name that alerts_test.yaml gives the rules.
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
(cd "${repo_root}" && go run ./hack/rulesfile deploy/monitoring/prometheusrule.yaml) >"${work}/crddemo.rules.yaml" ||
    die "cannot extract the rule groups of deploy/monitoring/prometheusrule.yaml"
cp "${monitoring}/alerts_test.yaml" "${work}/alerts_test.yaml"

echo "==> promtool test rules deploy/monitoring/alerts_test.yaml (rules from deploy/monitoring/prometheusrule.yaml)"
(cd "${work}" && "${promtool}" test rules alerts_test.yaml) ||
    die "the alert rules failed their tests (above); the rules are in deploy/monitoring/prometheusrule.yaml, the tests in deploy/monitoring/alerts_test.yaml"
