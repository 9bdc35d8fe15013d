"""The guest's data in the payload: CloudStack's `vmData` triples in its order (null contents left out), and
`vmData`/`configDriveLabel` in the VM TO, after `nics`, only when the instance's guest data is given."""

from __future__ import annotations

from dataclasses import replace

from switchboard.extensions.payload import lifecycle_payload, vm_data
from switchboard.extensions.payload_model import ExtensionInfo, GuestData, HostInfo, InstanceInfo, ResourceMapInfo

GUEST = GuestData(
    user_data="I2Nsb3VkLWNvbmZpZwo=", user_data_details=(("role", "web"),), service_offering="Small Instance",
    availability_zone="z1", local_hostname="web01", local_ipv4="10.1.1.5", instance_id="uuid-1",
    public_keys="ssh-ed25519 AAAA\nssh-rsa BBBB",
)


def test_vm_data_follows_cloudstacks_order() -> None:
    assert vm_data(GUEST) == [
        ["userdata", "user_data", "I2Nsb3VkLWNvbmZpZwo="],
        ["metadata", "service-offering", "Small Instance"],
        ["metadata", "availability-zone", "z1"],
        ["metadata", "local-hostname", "web01"],
        ["metadata", "local-ipv4", "10.1.1.5"],
        ["metadata", "role", "web"],
        ["metadata", "public-ipv4", "10.1.1.5"],
        ["metadata", "instance-id", "uuid-1"],
        ["metadata", "vm-id", "uuid-1"],
        ["metadata", "public-keys", "ssh-ed25519 AAAA\nssh-rsa BBBB"],
    ]


def test_what_would_be_null_is_left_out() -> None:
    bare = GuestData(local_hostname="web01", instance_id="uuid-1", public_hostname="web01", password="pw")
    assert vm_data(bare) == [
        ["metadata", "local-hostname", "web01"],
        ["metadata", "public-hostname", "web01"],
        ["metadata", "instance-id", "uuid-1"],
        ["metadata", "vm-id", "uuid-1"],
        ["password", "vm_password", "pw"],
    ]


def test_the_to_carries_vm_data_and_the_label_after_the_nics_only_when_given() -> None:
    instance = InstanceInfo(id=12, uuid="uuid-1", account_id=2, cpus=1, speed=500, ram_mb=512)
    target = {"extension": ExtensionInfo(name="e"), "resource_map": ResourceMapInfo(), "host": HostInfo(name="h")}
    without = lifecycle_payload("create", instance=instance, **target)["cloudstack.vm.details"]
    assert "vmData" not in without and "configDriveLabel" not in without
    given = lifecycle_payload("create", instance=replace(instance, guest=GUEST), **target)["cloudstack.vm.details"]
    keys = list(given)
    assert keys.index("nics") < keys.index("vmData") < keys.index("configDriveLabel") < \
        keys.index("configDriveLocation")
    assert given["vmData"] == vm_data(GUEST) and given["configDriveLabel"] == "config-2"
