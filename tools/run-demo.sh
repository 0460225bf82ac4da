#!/usr/bin/env bash
# Runs the all-in-one demo: the EBS emulator, Cinder with the EBS driver and
# simulated compute hosts with tiny libvirt guests, through the whole
# multi-attach workflow. Exits 0 only if every step held.
# Usage: tools/run-demo.sh [ebs-allinone demo options, e.g. --hosts 3]
# The demo needs root (loop devices, a private libvirtd per host).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    exec sudo --preserve-env=PATH "$0" "$@"
fi

tools/install-deps.sh

# The guest kernel is fetched with apt-get download: the package lists
# must know it.
if ! apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1; then
    apt-get update -qq
fi

exec .venv-tools/bin/tox -e demo -- demo "$@"
