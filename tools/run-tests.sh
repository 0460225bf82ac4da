#!/usr/bin/env bash
# Runs every test suite (style, unit, functional, Nova functional, Keystone,
# Tempest against the all-in-one, libvirt, the Cinder cluster, the
# documentation build, short benchmarks) and ends with one line
# "N passed, N failed, N skipped" over all of them.
# Usage: tools/run-tests.sh [tox environments, default
#        pep8,py3,functional,strict,nova-functional,keystone,tempest,libvirt,cluster,docs,bench]
set -uo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh || exit 1

envs=${1:-pep8,py3,functional,strict,nova-functional,keystone,tempest,libvirt,cluster,docs,bench}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
passed=0
failed=0
skipped=0
IFS=',' read -ra env_list <<< "$envs"
for env in "${env_list[@]}"; do
    echo "=== tox -e $env"
    if .venv-tools/bin/tox -e "$env" 2>&1 | tee "$log"; then
        rc=0
    else
        rc=1
        status=1
    fi
    if grep -q ' - Passed: ' "$log"; then
        # stestr's totals of this environment.
        p=$(grep -E '^ - Passed: ' "$log" | tail -1 | awk '{print $3}')
        f=$(grep -E '^ - Failed: ' "$log" | tail -1 | awk '{print $3}')
        s=$(grep -E '^ - Skipped: ' "$log" | tail -1 | awk '{print $3}')
        passed=$((passed + ${p:-0}))
        failed=$((failed + ${f:-0}))
        skipped=$((skipped + ${s:-0}))
        [ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
    elif [ "$rc" -eq 0 ]; then
        # A check with no test count (pep8, docs) counts as one test.
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
