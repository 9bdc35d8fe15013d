#!/usr/bin/env bash
# Installs the Debian packages the test suite needs. Idempotent: skips apt when all are present.
set -euo pipefail

APT_PACKAGES=(
  tmux
  postgresql
  iproute2
  openssl
  e2fsprogs
  qemu-system-x86
  qemu-utils
  busybox-static
  # agent storage and networking (tests/agent/storage, tests/agent/network, bench/storage.py)
  xfsprogs
  btrfs-progs
  lvm2
  thin-provisioning-tools
  openvswitch-switch
  # test guest builder (scripts/build-guest.py: depmod) and VMM drivers (tests/agent/vmm, tests/agent/fcstandin)
  kmod
  # bench/api.py load generator
  wrk
  # web UI tests (tests/e2e: Playwright drives Debian's Chromium; fonts for screenshots)
  chromium
  fonts-dejavu-core
  # agent VNC consoles (src/switchboard/agent/console.py, tests/agent/agentcore/test_console.py)
  xvfb
  xterm
  x11vnc
  # agent config drives for SSH keys and user data (src/switchboard/agent/configdrive.py)
  genisoimage
  # ssh-keygen: key pairs and their fingerprints in the API tests (tests/integration/compute/test_guest_data.py)
  openssh-client
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
