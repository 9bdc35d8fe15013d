"""The public surface of the extensions machinery, pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import importlib

import pytest

EXPORTS = {
    "switchboard.extensions.paths": [
        "CLOUDSTACK_EXTENSIONS_ROOT", "CLOUDSTACK_PAYLOAD_ROOT", "NESTING_ERROR", "NOT_CONFIGURED",
        "NOT_EXECUTABLE", "EntryPoint", "EntryPointError", "ExtensionRoots", "default_relative_path",
        "directory_name", "entry_checksum", "normalise_relative_path", "payload_directory_name",
    ],
    "switchboard.extensions.runner": [
        "CHILD_PATH", "DEFAULT_OUTPUT_LIMIT", "TRUNCATION_MARKER", "ExtensionRunner", "RunResult",
        "collect_old_payloads",
    ],
    "switchboard.extensions.payload": [
        "LIFECYCLE_ACTIONS", "VLAN_KEY", "custom_action_payload", "lifecycle_payload", "nic_object",
        "statuses_payload", "vlan_of", "vm_external_details", "vm_transfer_object",
    ],
    "switchboard.extensions.payload_model": [
        "EXTERNAL_PREFIX", "HIDDEN_EXTENSION_DETAILS", "REQUIRES_PREPARE_DETAIL", "CallerInfo", "CustomActionInfo",
        "ExtensionInfo", "HostInfo", "InstanceInfo", "NicInfo", "OfferingInfo", "PowerState", "ResourceMapInfo",
        "TemplateInfo", "external_details",
    ],
    "switchboard.extensions.prepare_output": [
        "NicUpdate", "PrepareOutcome", "PrepareOutputError", "apply_prepare_output", "merge_patch",
    ],
    "switchboard.extensions.power": ["parse_power_state", "parse_power_states", "power_state_of"],
    "switchboard.extensions.readiness": [
        "CHECK_INTERVAL_DEFAULT", "CHECK_INTERVAL_SETTING", "ExtensionFile", "initial_delay", "is_path_ready",
        "local_checksums", "not_ready_alert",
    ],
    "switchboard.extensions.scaffold": ["BASH_SCAFFOLD", "PYTHON_SCAFFOLD", "prepare_entry_point"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(EXPORTS))
def test_exported_members(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(EXPORTS[module])
    for name in mod.__all__:
        assert hasattr(mod, name), name
