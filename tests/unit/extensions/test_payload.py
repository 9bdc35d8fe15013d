"""Payload shapes for every action (protocol notes §2): groups, precedence, vlan, TO fields, caller."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from switchboard.extensions.payload import (
    custom_action_payload,
    lifecycle_payload,
    statuses_payload,
    vlan_of,
)
from switchboard.extensions.payload_model import (
    CustomActionInfo,
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    ResourceMapInfo,
)
from tests.unit.extensions.sample import (
    CALLER,
    EXTENSION,
    HOST,
    INSTANCE,
    NET_UUID,
    NIC_UUID,
    RESOURCE_MAP,
    VM_UUID,
)

CTX = {"extension": EXTENSION, "resource_map": RESOURCE_MAP, "host": HOST}
EMPTY_CTX = {"extension": ExtensionInfo(name="E"), "resource_map": ResourceMapInfo(), "host": HostInfo()}

TO_ORDER = [
    "id", "name", "bootloader", "state", "type", "cpus", "speed", "minSpeed", "maxSpeed", "minRam", "maxRam",
    "hostName", "arch", "os", "platformEmulator", "bootArgs", "bootupScripts", "enableHA", "limitCpuUse",
    "enableDynamicallyScaleVm", "vncPassword", "vncAddr", "details", "params", "uuid", "bootType", "bootMode",
    "enterHardwareSetup", "disks", "nics", "gpuDevice", "vcpuMaxLimit", "vmData", "configDriveLabel",
    "configDriveIsoRootFolder", "configDriveIsoFile", "configDriveLocation", "cpuQuotaPercentage",
    "guestOsDetails", "extraConfig", "networkIdToNetworkNameMap", "deployAsIsInfo", "metadataManufacturer",
    "metadataProductName",
]  # fmt: skip
NIC_ORDER = [
    "deviceId", "networkRateMbps", "networkRateMulticastMbps", "defaultNic", "pxeDisable", "nicUuid", "nicSecIps",
    "details", "dpdkEnabled", "mtu", "networkId", "networkSegmentName", "uuid", "ip", "netmask", "gateway", "mac",
    "dns1", "dns2", "broadcastType", "type", "broadcastUri", "isolationUri", "securityGroupEnabled", "name",
    "ip6address", "ip6gateway", "ip6cidr", "ip6Dns1", "ip6Dns2",
]  # fmt: skip


def test_create_payload_matches_the_spec_example() -> None:
    payload = lifecycle_payload("create", instance=INSTANCE, caller=CALLER, **CTX)
    assert list(payload) == [
        "externaldetails", "virtualmachineid", "virtualmachinename", "cloudstack.vm.details", "caller",
    ]  # fmt: skip
    groups = payload["externaldetails"]
    assert list(groups) == ["extension", "resourcemap", "host", "virtualmachine"]
    # Hidden details (display=false and orchestratorrequirespreparevm) never reach the executable.
    assert groups["extension"] == {
        "url": "10.0.0.5", "user": "root@pam", "token": "cloudstack", "secret": "0b6c-secret",
    }  # fmt: skip
    assert groups["resourcemap"] == {"zone_tag": "east"}
    assert groups["host"] == {"node": "pve1", "network_bridge": "vmbr1", "verify_tls_certificate": "false"}
    # deploy-time > template > offering, prefix stripped, plus the default NIC's VLAN.
    assert groups["virtualmachine"] == {
        "cpu_type": "deploytime",
        "disk": "from-template",
        "only_offering": "o",
        "template_type": "template",
        "template_id": "9000",
        "vm_name": "web01",
        "cloudstack.vlan": "1577",
    }
    assert payload["virtualmachineid"] == VM_UUID
    assert payload["virtualmachinename"] == "i-2-12-VM"
    assert payload["caller"] == {
        "id": "u-1", "name": "admin", "type": "ADMIN", "roleid": "r-1", "rolename": "Root Admin", "roletype": "Admin",
    }  # fmt: skip


def test_vm_transfer_object_fields_order_and_units() -> None:
    to = lifecycle_payload("create", instance=INSTANCE, **CTX)["cloudstack.vm.details"]
    keys = list(to)
    assert keys == [k for k in TO_ORDER if k in to], "declared order"
    assert None not in to.values()
    assert to["id"] == 12 and to["name"] == "i-2-12-VM" and to["uuid"] == VM_UUID
    assert to["state"] == "Starting" and to["type"] == "User"
    assert to["cpus"] == 1 and to["minSpeed"] == 500 and to["maxSpeed"] == 500 and "speed" not in to
    assert to["minRam"] == to["maxRam"] == 512 * 1024 * 1024
    assert to["arch"] == "x86_64"
    assert to["vncPassword"] == "s3cr3tVNC"
    assert to["enableHA"] is False and to["limitCpuUse"] is False and to["enableDynamicallyScaleVm"] is False
    assert to["details"]["deployvm"] == "true"
    assert to["details"]["External:cpu_type"] == "deploytime"
    assert to["details"]["External:only_offering"] == "o"
    assert "other" not in to["details"], "only External: keys of template/offering join the TO details"
    assert to["disks"] == []
    assert to["networkIdToNetworkNameMap"] == {"204": "D1-A2-Z1-S204", "205": "D1-A2-Z1-S205"}
    assert to["metadataManufacturer"] == "Apache Software Foundation"
    assert to["metadataProductName"] == "CloudStack External Hypervisor"
    nic = to["nics"][0]
    assert [n["deviceId"] for n in to["nics"]] == [0, 1]
    assert list(nic) == [k for k in NIC_ORDER if k in nic]
    assert nic["uuid"] == NET_UUID and nic["nicUuid"] == NIC_UUID
    assert nic["broadcastUri"] == "vlan://1577" and nic["defaultNic"] is True
    assert nic["mac"] == "02:01:00:cc:00:01" and nic["ip"] == "10.1.1.245" and nic["mtu"] == 1500
    assert nic["networkId"] == 204 and nic["type"] == "Guest" and nic["details"] == {"PromiscuousMode": "false"}
    assert "ip6address" not in nic
    json.dumps(to)  # JSON-serialisable


@pytest.mark.parametrize("action", ["start", "create"])
def test_vlan_only_for_create_and_start(action: str) -> None:
    payload = lifecycle_payload(action, instance=INSTANCE, **CTX)
    assert payload["externaldetails"]["virtualmachine"]["cloudstack.vlan"] == "1577"


@pytest.mark.parametrize("action", ["prepare", "stop", "reboot", "delete", "status", "getconsole"])
def test_other_lifecycle_actions_have_no_vlan(action: str) -> None:
    payload = lifecycle_payload(action, instance=INSTANCE, **CTX)
    assert "cloudstack.vlan" not in payload["externaldetails"]["virtualmachine"]
    assert payload["virtualmachinename"] == "i-2-12-VM"
    assert "caller" not in payload
    has_metadata = "metadataManufacturer" in payload["cloudstack.vm.details"]
    assert has_metadata == (action == "prepare")


def test_status_always_has_a_virtualmachine_group_even_empty() -> None:
    bare = InstanceInfo(id=1, uuid="u", account_id=3, cpus=1, speed=1000, ram_mb=256)
    payload = lifecycle_payload("status", instance=bare, **EMPTY_CTX)
    assert payload["externaldetails"] == {"virtualmachine": {}}
    stop = lifecycle_payload("stop", instance=bare, **EMPTY_CTX)
    assert "externaldetails" not in stop, "empty groups are omitted, and so is an empty map"
    assert stop["virtualmachinename"] == "i-3-1-VM"
    assert "vncPassword" not in stop["cloudstack.vm.details"]


def test_empty_groups_are_omitted() -> None:
    payload = lifecycle_payload("stop", instance=INSTANCE, extension=ExtensionInfo(name="E"),
                                resource_map=ResourceMapInfo(), host=HOST)  # fmt: skip
    assert list(payload["externaldetails"]) == ["host", "virtualmachine"]


def test_vlan_comes_from_the_default_nic_only() -> None:
    no_default = replace(INSTANCE, nics=tuple(replace(n, default_nic=False) for n in INSTANCE.nics))
    assert "cloudstack.vlan" not in lifecycle_payload("start", instance=no_default, **CTX)["externaldetails"][
        "virtualmachine"
    ]


@pytest.mark.parametrize(
    ("uri", "vlan"), [("vlan://1577", "1577"), ("vxlan://5000", "5000"), ("seg-42", "seg-42"), (None, None), ("", None)]
)
def test_vlan_of(uri: str | None, vlan: str | None) -> None:
    assert vlan_of(uri) == vlan


def test_unknown_lifecycle_action_is_refused() -> None:
    with pytest.raises(ValueError):
        lifecycle_payload("ListSnapshots", instance=INSTANCE, **CTX)


def test_statuses_payload_is_host_level() -> None:
    payload = statuses_payload(**CTX)
    assert list(payload) == ["externaldetails"]
    assert list(payload["externaldetails"]) == ["extension", "resourcemap", "host"]
    assert statuses_payload(**EMPTY_CTX) == {}
    assert statuses_payload(caller=CALLER, **EMPTY_CTX)["caller"]["roletype"] == "Admin"


def test_custom_action_payload_on_an_instance() -> None:
    action = CustomActionInfo(name="CreateSnapshot", details={"kind": "full"})
    params = {"snap_name": "s1", "snap_save_memory": True, "count": 3}
    payload = custom_action_payload(action=action, parameters=params, instance=INSTANCE, caller=CALLER, **CTX)
    groups = payload["externaldetails"]
    assert list(groups) == ["extension", "resourcemap", "host", "virtualmachine", "action"]
    assert groups["action"] == {"kind": "full"}
    assert "cloudstack.vlan" not in groups["virtualmachine"]
    assert groups["virtualmachine"]["vm_name"] == "web01"
    assert payload["action"] == "CreateSnapshot"
    assert payload["parameters"] == params
    assert payload["parameters"]["snap_save_memory"] is True
    assert payload["virtualmachineid"] == VM_UUID and payload["virtualmachinename"] == "i-2-12-VM"
    assert payload["cloudstack.vm.details"]["nics"][0]["nicUuid"] == NIC_UUID
    assert payload["caller"]["name"] == "admin"


def test_custom_action_without_parameters_or_instance() -> None:
    payload = custom_action_payload(action=CustomActionInfo(name="Ping"), parameters=None, instance=None, **EMPTY_CTX)
    assert payload == {"action": "Ping"}


def test_resource_map_from_cluster_details_keeps_only_external_keys() -> None:
    rmap = ResourceMapInfo.from_cluster_details({"External:zone_tag": "east", "cpu.overcommit.ratio": "2"})
    payload = statuses_payload(extension=ExtensionInfo(name="E"), resource_map=rmap, host=HostInfo())
    assert payload["externaldetails"] == {"resourcemap": {"zone_tag": "east"}}
