"""The `prepare` merge patch (§2.6) with the spec's examples, and what is kept afterwards."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from switchboard.extensions.payload import vm_transfer_object
from switchboard.extensions.prepare_output import (
    NicUpdate,
    PrepareOutputError,
    apply_prepare_output,
    merge_patch,
)
from tests.unit.extensions.sample import INSTANCE, NET_UUID, NIC, NIC_UUID, SECOND_NIC


def vm() -> dict[str, Any]:
    return vm_transfer_object(INSTANCE, start_path=True)


def test_objects_merge_recursively_scalars_replace_null_sets_null() -> None:
    target = {"a": {"b": 1, "c": 2}, "d": "x", "e": 5, "l": [1, 2]}
    patch = {"a": {"c": 3, "n": {"z": 1}}, "d": None, "e": "y", "l": [3]}
    assert merge_patch(target, patch) == {"a": {"b": 1, "c": 3, "n": {"z": 1}}, "d": None, "e": "y", "l": [3]}
    assert target == {"a": {"b": 1, "c": 2}, "d": "x", "e": 5, "l": [1, 2]}, "arguments are not changed"


def test_arrays_of_uuid_objects_merge_by_uuid_and_append_unmatched() -> None:
    target = {"xs": [{"uuid": "a", "v": 1}, {"uuid": "b", "v": 2}]}
    patch = {"xs": [{"uuid": "b", "v": 20, "w": 1}, {"uuid": "c", "v": 3}]}
    merged = merge_patch(target, patch)["xs"]
    assert {"uuid": "a", "v": 1} in merged
    assert {"uuid": "b", "v": 20, "w": 1} in merged
    assert {"uuid": "c", "v": 3} in merged
    assert len(merged) == 3


def test_arrays_without_uuid_on_one_side_are_replaced() -> None:
    target = {"xs": [{"uuid": "a", "v": 1}]}
    assert merge_patch(target, {"xs": [{"v": 9}]}) == {"xs": [{"v": 9}]}
    assert merge_patch({"xs": [{"v": 1}]}, {"xs": [{"uuid": "a"}]}) == {"xs": [{"uuid": "a"}]}


def test_scaffold_nic_mac_patch_updates_the_nic_by_network_uuid() -> None:
    output = json.dumps({"nics": [{"uuid": NET_UUID, "mac": "52:54:00:aa:bb:cc"}]})
    outcome = apply_prepare_output(vm(), output)
    assert outcome.changed
    assert outcome.nics == (NicUpdate(nic_uuid=NIC_UUID, mac="52:54:00:aa:bb:cc", ip="10.1.1.245", ip6_address=None),)
    merged_nic = next(n for n in outcome.merged["nics"] if n["nicUuid"] == NIC_UUID)
    assert merged_nic["gateway"] == "10.1.1.1", "the rest of the NIC is kept"
    assert outcome.vnc_password == "s3cr3tVNC"
    assert outcome.details["deployvm"] == "true"


def test_two_nics_on_one_network_get_one_patch_element_each() -> None:
    twin = replace(SECOND_NIC, network_uuid=NET_UUID)
    to = vm_transfer_object(replace(INSTANCE, nics=(NIC, twin)), start_path=True)
    output = json.dumps({"nics": [{"uuid": NET_UUID, "mac": "52:54:00:00:00:01"},
                                  {"uuid": NET_UUID, "mac": "52:54:00:00:00:02"}]})  # fmt: skip
    outcome = apply_prepare_output(to, output)
    assert {u.mac for u in outcome.nics} == {"52:54:00:00:00:01", "52:54:00:00:00:02"}
    assert len(outcome.merged["nics"]) == 2


def test_proxmox_details_patch_replaces_the_whole_details_map() -> None:
    outcome = apply_prepare_output(vm(), '{"details":{"proxmox_vmid":"105"}}')
    assert outcome.changed
    assert outcome.details["proxmox_vmid"] == "105"
    assert outcome.details["External:vm_name"] == "web01", "merged, so existing keys remain"
    assert outcome.nics == ()


def test_maas_full_nics_array_and_external_details() -> None:
    to = vm()
    nics = [dict(n) for n in to["nics"]]
    nics[0]["mac"] = "00:16:3e:12:34:56"
    patch = {
        "nics": nics,
        "details": {"External:mac_address": "00:16:3e:12:34:56", "External:maas_system_id": "abc123",
                    "External:hostname": "node1", "External:console_url": "https://maas/console"},
    }  # fmt: skip
    outcome = apply_prepare_output(to, json.dumps(patch))
    assert outcome.nics == (
        NicUpdate(nic_uuid=nics[0]["nicUuid"], mac="00:16:3e:12:34:56", ip=nics[0].get("ip"), ip6_address=None),
    )
    assert outcome.details["External:maas_system_id"] == "abc123"
    assert len(outcome.merged["nics"]) == 2


def test_vnc_password_and_typed_detail_values() -> None:
    outcome = apply_prepare_output(vm(), '{"vncPassword":"newpw","details":{"n":105,"b":true,"gone":null}}')
    assert outcome.vnc_password == "newpw"
    assert outcome.details["n"] == "105" and outcome.details["b"] == "true"
    assert "gone" not in outcome.details


def test_empty_output_changes_nothing() -> None:
    outcome = apply_prepare_output(vm(), "  \n")
    assert not outcome.changed and outcome.nics == () and outcome.merged == vm()


def test_patch_equal_to_current_values_changes_nothing() -> None:
    outcome = apply_prepare_output(vm(), json.dumps({"nics": [{"uuid": NET_UUID, "mac": NIC.mac}]}))
    assert not outcome.changed and outcome.nics == ()


@pytest.mark.parametrize("output", ["not json", "[1,2]", '"str"', '{"details": "flat"}'])
def test_unusable_output_fails_like_cloudstack(output: str) -> None:
    with pytest.raises(PrepareOutputError) as info:
        apply_prepare_output(vm(), output)
    assert str(info.value) == "Failed to parse VM"
