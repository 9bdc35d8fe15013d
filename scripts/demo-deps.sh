#!/usr/bin/env bash
# `make run`: installs the Debian packages the demo's real microVMs need (src/switchboard/demo), only when run
# as root on a machine with apt-get and only what is missing. Never fails `make run`: without them the
# server says in one line why its demo is pretend. Skipped with SWITCHBOARD_DEMO=0 or
# SWITCHBOARD_DEMO_MICROVMS=0.
set -uo pipefail

case "${SWITCHBOARD_DEMO:-1}/${SWITCHBOARD_DEMO_MICROVMS:-1}" in
  0/* | */0 | off/* | */off | false/* | */false | no/* | */no) exit 0 ;;
esac
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && command -v dpkg-query >/dev/null || exit 0

PACKAGES=(
  qemu-system-x86 qemu-utils tmux iproute2 e2fsprogs  # the agent and its QEMU driver
  busybox-static kmod                                 # the guest image builder (switchboard/demo/guest.py)
  xvfb xterm x11vnc                                   # the guests' VNC consoles
  genisoimage                                         # config drives (SSH keys, user data)
)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
echo "make run: installing what the demo's microVMs need: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "make run: could not install ${missing[*]}; the demo will say what it lacks"
fi
exit 0
