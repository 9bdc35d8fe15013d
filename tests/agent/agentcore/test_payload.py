"""CloudStack payload → VmSpec, as the original agent reads it."""

from __future__ import annotations

import pytest

from agentcore.harness import payload
from switchboard.agent.errors import InvalidRequest
from switchboard.agent.payload import parse_size, spec_from_payload


def test_the_original_fields_map_onto_the_spec() -> None:
    spec = spec_from_payload(payload("i-2-100-VM", cpus=2, ram_mib=1024, boot_args="console=ttyS0 ip=dhcp"))
    assert (spec.name, spec.vcpus, spec.memory_mib) == ("i-2-100-VM", 2, 1024)
    assert (spec.template.kernel, spec.template.image, spec.template.boot_args) == (
        "vmlinux", "root.img", "console=ttyS0 ip=dhcp"
    )
    nic = spec.nics[0]
    assert (nic.index, nic.mac, nic.vlan, nic.ip, nic.network_uuid, nic.nic_uuid) == (
        0, "02:00:4c:5e:00:01", "120", "10.1.1.10", "net-1", "nic-1"
    )
    assert spec.cloudstack_vm_id == "uuid-i-2-100-VM"
    assert "S3cret" not in repr(spec.to_json())


def test_ram_is_rounded_up_to_whole_mib_and_min_ram_is_the_fallback() -> None:
    raw = payload("r-1")
    raw["cloudstack.vm.details"]["maxRam"] = (512 << 20) + 1
    assert spec_from_payload(raw).memory_mib == 513
    del raw["cloudstack.vm.details"]["maxRam"]
    raw["cloudstack.vm.details"]["minRam"] = 256 << 20
    assert spec_from_payload(raw).memory_mib == 256
    del raw["cloudstack.vm.details"]["minRam"]
    assert spec_from_payload(raw).memory_mib == 512


def test_untagged_and_missing_vlans() -> None:
    assert spec_from_payload(payload("u-1", vlan="vlan://untagged")).nics[0].vlan == "untagged"
    raw = payload("u-2")
    del raw["cloudstack.vm.details"]["nics"][0]["broadcastUri"]
    assert spec_from_payload(raw).nics[0].vlan is None
    assert spec_from_payload(payload("u-3", vlan=None)).nics == ()
    with pytest.raises(InvalidRequest, match="out of range"):
        spec_from_payload(payload("u-4", vlan="vlan://5000"))


def test_root_disk_size_from_the_vm_details_or_the_template_details() -> None:
    raw = payload("s-1")
    raw["cloudstack.vm.details"]["details"]["rootdisksize"] = "8"
    assert spec_from_payload(raw).root_size_bytes == 8 << 30
    raw["externaldetails"]["virtualmachine"]["root_disk_size"] = "4G"
    assert spec_from_payload(raw).root_size_bytes == 4 << 30
    assert parse_size("4096MiB", "x") == 4 << 30 and parse_size(512, "x") == 512


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("externaldetails", "virtualmachine", "kernel"), "../vmlinux", "plain file name"),
        (("externaldetails", "virtualmachine", "image"), "/etc/shadow", "plain file name"),
        (("cloudstack.vm.details", "cpus"), "many", "integer"),
        (("cloudstack.vm.details", "cpus"), 0, "at least 1"),
        (("virtualmachinename",), "bad/name", "invalid VM name"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(path: tuple[str, ...], value: object, message: str) -> None:
    raw = payload("b-1")
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    if path == ("virtualmachinename",):
        raw["cloudstack.vm.details"]["name"] = value
    with pytest.raises(InvalidRequest, match=message):
        spec_from_payload(raw)


def test_duplicate_device_ids_and_bad_macs_are_refused() -> None:
    raw = payload("d-1")
    raw["cloudstack.vm.details"]["nics"].append(dict(raw["cloudstack.vm.details"]["nics"][0]))
    with pytest.raises(InvalidRequest, match="deviceId"):
        spec_from_payload(raw)
    raw = payload("d-2")
    raw["cloudstack.vm.details"]["nics"][0]["mac"] = "zz"
    with pytest.raises(InvalidRequest, match="MAC"):
        spec_from_payload(raw)


def test_a_download_url_needs_a_checksum() -> None:
    raw = payload("t-1")
    raw["externaldetails"]["virtualmachine"]["image_url"] = "https://example.invalid/img.raw"
    with pytest.raises(InvalidRequest, match="image_checksum"):
        spec_from_payload(raw)
    raw["externaldetails"]["virtualmachine"]["image_checksum"] = "sha256:" + "0" * 64
    assert spec_from_payload(raw).template.checksum == "sha256:" + "0" * 64
