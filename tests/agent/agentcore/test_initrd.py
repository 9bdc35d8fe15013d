"""A template's optional initrd: read from the payload, resolved in the kernel directory like the kernel,
and handed to the VMM driver in the launch config."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.conftest import Host
from agentcore.harness import client, payload
from switchboard.agent.api import AgentContext
from switchboard.agent.errors import InvalidRequest
from switchboard.agent.model import TemplateRef
from switchboard.agent.payload import spec_from_payload
from switchboard.agent.spec import VmSpec
from switchboard.agent.templates import InvalidTemplate, TemplateNotFound, TemplateStore


def _with_initrd(name: str, initrd: object) -> dict:
    raw = payload(name)
    raw["externaldetails"]["virtualmachine"]["initrd"] = initrd
    return raw


def test_payload_initrd_becomes_the_templates_initrd_and_survives_the_record() -> None:
    spec = spec_from_payload(_with_initrd("i-2-400-VM", "initrd.img-6.1"))
    assert spec.template.initrd == "initrd.img-6.1"
    assert VmSpec.from_json(spec.to_json()).template.initrd == "initrd.img-6.1"
    assert spec_from_payload(payload("i-2-401-VM")).template.initrd is None
    assert spec_from_payload(_with_initrd("i-2-402-VM", "")).template.initrd is None


@pytest.mark.parametrize("bad", ["../initrd", "a/b", ".hidden", 5])
def test_payload_initrd_must_be_a_plain_file_name(bad: object) -> None:
    with pytest.raises(InvalidRequest, match=r"virtualmachine\.initrd"):
        spec_from_payload(_with_initrd("i-2-403-VM", bad))


def test_template_store_resolves_the_initrd_in_the_kernel_directory(tmp_path: Path) -> None:
    kernel_dir, image_dir = tmp_path / "kernel", tmp_path / "images"
    kernel_dir.mkdir()
    image_dir.mkdir()
    (kernel_dir / "vmlinux").write_bytes(b"\x7fELF fake kernel")
    (kernel_dir / "initrd.img").write_bytes(b"070701 fake cpio")
    (image_dir / "root.img").write_bytes(b"\0" * (1 << 20))
    store = TemplateStore(kernel_dir, image_dir, tmp_path / "cache")

    resolved = store.resolve(TemplateRef(kernel="vmlinux", image="root.img", initrd="initrd.img"))
    assert resolved.initrd == kernel_dir / "initrd.img"
    assert store.resolve(TemplateRef(kernel="vmlinux", image="root.img")).initrd is None
    with pytest.raises(TemplateNotFound, match=r"initrd 'missing\.img'"):
        store.resolve(TemplateRef(kernel="vmlinux", image="root.img", initrd="missing.img"))
    with pytest.raises(InvalidTemplate):
        store.resolve(TemplateRef(kernel="vmlinux", image="root.img", initrd="../images/root.img"))


def test_the_vmm_driver_gets_the_initrd_and_a_missing_one_is_refused(
    served: tuple[AgentContext, str], host: Host
) -> None:
    _, url = served
    kernel_dir = host.config.defaults.host.kernel_dir
    (kernel_dir / "initrd.img").write_bytes(b"070701 fake cpio")
    with client(url, host.pki) as http:
        reply = http.post("/v1/vms", json={"spec": _with_initrd("i-2-404-VM", "initrd.img")})
        assert reply.status_code == 201, reply.text
        assert host.vmm.launches[-1].initrd == kernel_dir / "initrd.img"
        details = http.get("/v1/vms/i-2-404-VM/details").json()
        assert details["firecracker_config"]["boot-source"]["initrd_path"] == str(kernel_dir / "initrd.img")

        assert http.post("/v1/vms", json={"spec": payload("i-2-405-VM")}).status_code == 201
        assert host.vmm.launches[-1].initrd is None  # the driver then falls back to its `initrd` option

        refused = http.post("/v1/vms", json={"spec": _with_initrd("i-2-406-VM", "nope.img")})
        assert refused.status_code == 400
        assert "initrd 'nope.img'" in refused.text
