"""The stand-in's reading of Firecracker's OpenAPI file: routes, and bodies refused the way Firecracker's
serde types refuse them. In-process and fast."""

from __future__ import annotations

from typing import Any

import pytest

from .spec import BODY_ERROR, BadRequest, Spec


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec()


def refused(spec: Spec, definition: str, body: Any) -> str:
    with pytest.raises(BadRequest) as info:
        spec.validate(definition, body)
    message = str(info.value)
    assert message.startswith(BODY_ERROR)
    return message


def test_the_spec_is_firecracker_1_13_1_and_every_operation_routes(spec: Spec) -> None:
    assert spec.version == "1.13.1"
    assert len(spec.routes) == 29  # every operation of the v1.13.1 file
    route, params = spec.route("PUT", "/drives/rootfs")
    assert (route.template, route.body, params) == ("/drives/{drive_id}", "Drive", {"drive_id": "rootfs"})
    assert spec.route("GET", "/")[0].body is None
    assert spec.route("PATCH", "/vm")[0].body == "Vm"


def test_unknown_paths_and_methods_are_refused(spec: Spec) -> None:
    with pytest.raises(BadRequest, match=r"Invalid request method and/or path: PUT /reboot\."):
        spec.route("PUT", "/reboot")
    with pytest.raises(BadRequest, match="Invalid request method and/or path: DELETE /drives/x"):
        spec.route("DELETE", "/drives/x")


def test_unknown_fields_are_refused_at_any_depth(spec: Spec) -> None:
    drive = {"drive_id": "rootfs", "is_root_device": True, "path_on_host": "/x"}
    assert "unknown field `bogus`" in refused(spec, "Drive", {**drive, "bogus": 1})
    nested = {**drive, "rate_limiter": {"bandwidth": {"size": 1, "refill_time": 1, "burst": 2}}}
    assert "unknown field `burst`" in refused(spec, "Drive", nested)
    config = {"boot-source": {"kernel_image_path": "/k"}, "network-interfaces": [{"iface_id": "eth0",
              "host_dev_name": "tap0", "mtu": 1500}]}  # fmt: skip
    assert "unknown field `mtu`" in refused(spec, "FullVmConfiguration", config)  # mtu came in 1.16


def test_wrong_types_missing_fields_and_unknown_variants_are_refused(spec: Spec) -> None:
    assert 'invalid type: string "2", expected an integer' in refused(
        spec, "MachineConfiguration", {"vcpu_count": "2", "mem_size_mib": 128}
    )
    assert "invalid type: floating point" in refused(spec, "MachineConfiguration", {"vcpu_count": 1.5,
                                                                                     "mem_size_mib": 128})  # fmt: skip
    assert "missing field `mem_size_mib`" in refused(spec, "MachineConfiguration", {"vcpu_count": 1})
    assert "unknown variant `Unsafe2`" in refused(
        spec, "Drive", {"drive_id": "r", "is_root_device": False, "cache_type": "Unsafe2"}
    )
    assert "unknown variant `Reboot`" in refused(spec, "InstanceActionInfo", {"action_type": "Reboot"})
    assert "33" in refused(spec, "MachineConfiguration", {"vcpu_count": 33, "mem_size_mib": 128})


def test_valid_bodies_pass_including_nulls_for_optional_fields(spec: Spec) -> None:
    # The original agent's config file writes null for unused optional fields; serde's Option takes it.
    spec.validate("Drive", {"drive_id": "rootfs", "is_root_device": True, "partuuid": None, "cache_type": "Unsafe",
                            "is_read_only": False, "path_on_host": "/d", "io_engine": "Sync", "rate_limiter": None,
                            "socket": None})  # fmt: skip
    spec.validate("BootSource", {"kernel_image_path": "/k", "boot_args": "console=ttyS0", "initrd_path": None})
    spec.validate("MmdsContentsObject", {"any": {"nested": ["thing"]}})
    refused(spec, "BootSource", {"kernel_image_path": None})  # a required field may not be null
