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
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv-tools/bin/tox ]; then
    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -q -U pip
    .venv-tools/bin/pip install -q 'tox>=4.0'
fi
