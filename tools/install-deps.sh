#!/usr/bin/env bash
# Installs the system packages the tests and the all-in-one need on Debian
# or Ubuntu, and a private virtualenv with tox under .venv-tools/.
# Safe to run again: apt and pip skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    python3-venv python3-dev gcc libc6-dev pkg-config git
    libvirt-dev libvirt-daemon-system libvirt-clients
    qemu-system-x86 qemu-utils busybox-static cpio
    linux-libc-dev libxml2-utils fuse3
)
# The services of the cluster topology (tox -e cluster); the all-in-one
# starts them by hand on private ports, never as system services.
CLUSTER_PACKAGES=(rabbitmq-server mariadb-server etcd-server)
APT_PACKAGES+=("${CLUSTER_PACKAGES[@]}")

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "Installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    # Keep the packages' services from starting at install (exit 101:
    # action forbidden), unless the machine already has such a policy.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        trap '$SUDO rm -f "$policy"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv-tools/bin/tox ]; then
    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -q -U pip
    .venv-tools/bin/pip install -q 'tox>=4.0'
fi
