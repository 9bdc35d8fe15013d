#!/usr/bin/env bash
# Switchboard extension scaffold.
#
# Called as:  <this file> <action> <payload.json> <timeout-seconds>
# Success is the exit code alone (0); print one JSON object on stdout.
#
# This example keeps a tiny power-state record per instance in $HOME/.provisioner-state (HOME is the
# extension's directory under Switchboard) so that `status` and `statuses` tell the truth after stop/start.
# Replace the bodies of the action functions with calls to the system you orchestrate.
set -u

ACTION="${1:-}"
PAYLOAD="${2:-}"
TIMEOUT="${3:-}"

fail() {  # fail <message>: print an error object and exit 1
    printf '{"status":"error","error":"%s"}\n' "$1"
    exit 1
}

succeed() {  # succeed <message>
    printf '{"status":"success","message":"%s"}\n' "$1"
    exit 0
}

if [[ -z "$ACTION" || -z "$PAYLOAD" || -z "$TIMEOUT" ]]; then
    printf '{"error":"Missing required arguments"}\n'
    exit 1
fi
if [[ ! -f "$PAYLOAD" || ! -r "$PAYLOAD" ]]; then
    printf '{"error":"File not found or unreadable"}\n'
    exit 1
fi

JSON="$(<"$PAYLOAD")"
STATE_DIR="${HOME:-/tmp}/.provisioner-state"

# The instance's internal name (top-level "virtualmachinename"), made safe for a file name.
vm_name() {
    local re='"virtualmachinename"[[:space:]]*:[[:space:]]*"([^"]*)"'
    if [[ "$JSON" =~ $re ]]; then
        printf '%s' "${BASH_REMATCH[1]//[^A-Za-z0-9._-]/_}"
    fi
}

record_state() {  # record_state <poweron|poweroff|absent>; best effort, never fails the action
    local name
    name="$(vm_name)"
    [[ -n "$name" ]] || return 0
    mkdir -p "$STATE_DIR" 2>/dev/null || return 0
    if [[ "$1" == absent ]]; then
        rm -f "$STATE_DIR/$name"
        rmdir "$STATE_DIR" 2>/dev/null || true  # only when no instance is left
    else
        printf '%s\n' "$1" >"$STATE_DIR/$name" 2>/dev/null || true
    fi
}

read_state() {  # prints the recorded state of the instance; poweron when nothing is recorded
    local name state=""
    name="$(vm_name)"
    [[ -n "$name" && -r "$STATE_DIR/$name" ]] && state="$(<"$STATE_DIR/$name")"
    printf '%s' "${state:-poweron}"
}

random_mac() {  # a locally administered QEMU-style MAC: 52:54:00:xx:xx:xx
    printf '52:54:00:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256))
}

prepare() {
    # Give every NIC a MAC. The answer is a merge patch on the instance's description: NICs are matched by
    # their "uuid" (the network's UUID). Reading nested JSON needs more than bash: python3 lists the NICs.
    command -v python3 >/dev/null 2>&1 || exit 0  # no patch: nothing changes
    local uuids uuid patch=""
    uuids="$(python3 -c 'import json,sys
vm = json.load(open(sys.argv[1])).get("cloudstack.vm.details") or {}
for nic in vm.get("nics") or []:
    if isinstance(nic, dict) and nic.get("uuid"):
        print(nic["uuid"])' "$PAYLOAD")" || fail "Cannot read the payload"
    [[ -n "$uuids" ]] || exit 0  # no NICs: nothing to change
    while IFS= read -r uuid; do
        patch+="${patch:+,}{\"uuid\":\"${uuid}\",\"mac\":\"$(random_mac)\"}"
    done <<<"$uuids"
    printf '{"nics":[%s]}\n' "$patch"
    exit 0
}

case "$ACTION" in
    prepare) prepare ;;
    create) record_state poweron; succeed "Instance created" ;;
    start) record_state poweron; succeed "Instance started" ;;
    stop) record_state poweroff; succeed "Instance stopped" ;;
    reboot) record_state poweron; succeed "Instance rebooted" ;;
    delete) record_state absent; succeed "Instance deleted" ;;
    status) printf '{"status":"success","power_state":"%s"}\n' "$(read_state)" ;;
    statuses)
        # Every instance this host knows, by name. Here: the ones recorded by this script.
        entries=""
        if [[ -d "$STATE_DIR" ]]; then
            for file in "$STATE_DIR"/*; do
                [[ -f "$file" ]] || continue
                entries+="${entries:+,}\"${file##*/}\":\"$(<"$file")\""
            done
        fi
        printf '{"status":"success","power_state":{%s}}\n' "$entries"
        ;;
    getconsole) fail "Console access is not supported by this extension" ;;
    *)
        printf '{"error":"Invalid action"}\n'
        exit 1
        ;;
esac
exit 0
