"""The `lvm` and `lvm-thin` backends.

What this machine cannot cover: its kernel has no device-mapper (CONFIG_MD unset), so no logical volume
or thin pool can exist here. The create/snapshot/extend/remove flows therefore run against `FakeLvm`,
which replays LVM output recorded on this machine (see fake_lvm.py for which parts are recorded bytes
and which follow the recorded layout). Not covered at all here: that a real thin snapshot shares blocks
with its base, that `qemu-img convert -n`/`blkdiscard`/`resize2fs` behave on a real LV, and activation
after a host reboot.

What runs for real (marked `root`): a loop-backed PV and VG, and every refusal that happens before or
at `lvcreate`: a missing volume group, too little space, a missing thin pool, and LVM's own refusal to
create an LV without device-mapper, after which nothing is left behind.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.agent.hostcmd import CommandFailed, CommandResult, SubprocessRunner
from switchboard.agent.model import TemplateRef
from switchboard.agent.storage import create_storage
from switchboard.agent.storage.base import StorageBackend
from switchboard.agent.storage.lvm import LvmStorage
from switchboard.agent.storage.lvmcli import OWNER_TAG, Lvm, LvmError
from switchboard.agent.storage.lvmthin import LvmThinStorage
from switchboard.agent.storage.params import InvalidRequest
from switchboard.agent.templates import TemplateStore

from .conftest import TEMPLATE_MIB, make_ext4, need
from .fake_lvm import VG, FakeLv, FakeLvm, recorded

MIB, GIB = 1 << 20, 1 << 30
REF = TemplateRef(kernel="vmlinux", image="base.img")


@pytest.fixture
def fake() -> FakeLvm:
    lvm = FakeLvm()
    lvm.add_pool("pool")
    return lvm


def _lvm(templates: TemplateStore, fake: FakeLvm) -> LvmStorage:
    return LvmStorage(VG, templates=templates, runner=fake)


def _thin(templates: TemplateStore, fake: FakeLvm) -> LvmThinStorage:
    return LvmThinStorage(VG, "pool", templates=templates, runner=fake)


def _changes(fake: FakeLvm) -> list[list[str]]:
    """Every command except the read-only reports."""
    return [c for c in fake.calls if c[0] not in ("vgs", "lvs", "blkid")]


# -- lvm (thick) against recorded outputs --------------------------------------------------------------


def test_lvm_root_is_created_filled_wiped_and_grown(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _lvm(templates, fake)
    assert isinstance(storage, StorageBackend)
    vol = storage.provision_root("i-2-10-VM", REF, size_bytes=2 * GIB)
    dev = f"/dev/{VG}/vm-i-2-10-VM"
    assert (vol.path, vol.size_bytes, vol.role, vol.vm, vol.backend) == (Path(dev), 2 * GIB, "root", "i-2-10-VM", "lvm")
    image = str(templates.image_dir / "base.img")
    tail = 2 * GIB - TEMPLATE_MIB * MIB
    assert _changes(fake) == [
        ["lvcreate", "--yes", "--wipesignatures", "y", "-L", f"{2 * GIB}b", "-n", "vm-i-2-10-VM",
         "--addtag", OWNER_TAG, "--addtag", "sb.vm=i-2-10-VM", "--addtag", "sb.role=root", VG],
        ["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", image, dev],
        ["blkdiscard", "--zeroout", "-o", str(TEMPLATE_MIB * MIB), "-l", str(tail), dev],
        ["e2fsck", "-f", "-p", dev],
        ["resize2fs", dev],
    ]  # fmt: skip
    # Idempotent: the second call only looks.
    before = len(_changes(fake))
    assert storage.provision_root("i-2-10-VM", REF, size_bytes=8 * GIB) == vol
    assert len(_changes(fake)) == before


def test_lvm_default_size_is_the_original_one_gib_and_extents_round_up(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _lvm(templates, fake)
    assert storage.provision_root("a", REF, size_bytes=None).size_bytes == GIB
    assert storage.provision_root("b", REF, size_bytes=100 * MIB + 1).size_bytes == 104 * MIB
    assert storage.provision_root("c", REF, size_bytes=MIB).size_bytes == TEMPLATE_MIB * MIB  # never below the image
    sized = create_storage("lvm", {"volume_group": VG, "size": "3G"}, templates=templates)
    assert isinstance(sized, LvmStorage)
    sized.lvm.runner = fake
    assert sized.provision_root("d", REF, size_bytes=None).size_bytes == 3 * GIB


def test_lvm_qcow2_template_is_written_by_qemu_img(template_dirs: tuple[Path, Path, Path], fake: FakeLvm) -> None:
    need("qemu-img")
    kernel_dir, image_dir, cache_dir = template_dirs
    subprocess.run(
        ["qemu-img", "convert", "-O", "qcow2", str(image_dir / "base.img"), str(image_dir / "b.qcow2")], check=True
    )
    storage = _lvm(TemplateStore(kernel_dir, image_dir, cache_dir), fake)
    storage.provision_root("q", TemplateRef(kernel="vmlinux", image="b.qcow2"), size_bytes=None)
    (convert,) = fake.commands("qemu-img")
    assert convert[:5] == ["qemu-img", "convert", "-n", "-f", "qcow2"]


def test_lvm_refuses_to_adopt_a_foreign_lv_of_the_same_name(templates: TemplateStore, fake: FakeLvm) -> None:
    fake.lvs["vm-web"] = FakeLv("vm-web", GIB, [], "-wi-a-----")  # an admin's LV, no tag
    storage = _lvm(templates, fake)
    with pytest.raises(LvmError, match="not this VM's"):
        storage.provision_root("web", REF, size_bytes=None)
    storage.delete("web")
    assert _changes(fake) == [] and "vm-web" in fake.lvs
    with pytest.raises(LvmError, match="not created by this agent"):
        Lvm(fake, VG).remove("vm-web")


def test_lvm_failure_after_lvcreate_removes_only_that_lv(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _lvm(templates, fake)
    other = storage.provision_root("other", REF, size_bytes=None)
    fake.fail["qemu-img"] = CommandResult(1, "", "qemu-img: error while writing at byte 0: Input/output error")
    with pytest.raises(CommandFailed, match="Input/output error"):
        storage.provision_root("vm", REF, size_bytes=None)
    assert fake.commands("lvremove") == [["lvremove", "--yes", f"{VG}/vm-vm"]]
    assert set(fake.lvs) == {"pool", "vm-other"}
    fake.fail["resize2fs"] = CommandResult(1, "", "resize2fs: No space left on device")
    with pytest.raises(CommandFailed, match="resize2fs"):
        storage.provision_root("vm", REF, size_bytes=2 * GIB)
    assert set(fake.lvs) == {"pool", "vm-other"}
    assert storage.volumes("other") == [other]


def test_lvm_failed_lvcreate_without_device_mapper_removes_nothing(templates: TemplateStore, fake: FakeLvm) -> None:
    fake.fail["lvcreate"] = recorded("lvcreate_thick")
    with pytest.raises(CommandFailed, match="device-mapper target"):
        _lvm(templates, fake).provision_root("vm", REF, size_bytes=None)
    assert fake.commands("lvremove") == [] and set(fake.lvs) == {"pool"}


def test_lvm_refuses_when_the_vg_is_too_small(templates: TemplateStore, fake: FakeLvm) -> None:
    with pytest.raises(LvmError, match="bytes free"):
        _lvm(templates, fake).provision_root("vm", REF, size_bytes=64 * GIB)
    assert _changes(fake) == []


def test_lvm_delete_removes_exactly_the_vms_tagged_lvs(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _lvm(templates, fake)
    storage.provision_root("a", REF, size_bytes=None)
    storage.provision_data("a", 1, size_bytes=10 * MIB)
    storage.provision_root("a-b", REF, size_bytes=None)
    fake.lvs["vm-a_old"] = FakeLv("vm-a_old", GIB, [], "-wi-a-----")  # admin's, untagged
    assert [v.role for v in storage.volumes("a")] == ["root", "data1"]
    assert storage.owners() == {"a", "a-b"}
    storage.delete("a")
    storage.delete("a")
    assert set(fake.lvs) == {"pool", "vm-a-b", "vm-a_old"}
    assert storage.owners() == {"a-b"}


def test_lvm_data_disk_is_zeroed_and_idempotent(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _lvm(templates, fake)
    d = storage.provision_data("vm", 2, size_bytes=5 * MIB)
    assert (d.role, d.size_bytes, d.path) == ("data2", 8 * MIB, Path(f"/dev/{VG}/vm-vm_data2"))
    assert fake.commands("blkdiscard") == [["blkdiscard", "--zeroout", "-o", "0", "-l", str(8 * MIB), str(d.path)]]
    assert storage.provision_data("vm", 2, size_bytes=5 * MIB) == d
    assert len(fake.commands("lvcreate")) == 1


def test_lvm_names_and_options_are_checked(templates: TemplateStore, fake: FakeLvm) -> None:
    with pytest.raises(InvalidRequest, match="reserved"):
        _lvm(templates, fake).provision_root("a_b", REF, size_bytes=None)
    with pytest.raises(InvalidRequest):
        _lvm(templates, fake).provision_root("../x", REF, size_bytes=None)
    with pytest.raises(InvalidRequest, match="vg"):
        create_storage("lvm", {}, templates=templates)
    with pytest.raises(InvalidRequest, match="thinpool"):
        create_storage("lvm-thin", {"vg": VG}, templates=templates)
    assert isinstance(create_storage("lvmthin", {"vg": VG, "thinpool": "pool"}, templates=templates), LvmThinStorage)
    assert _changes(fake) == []


# -- lvm-thin against recorded outputs -----------------------------------------------------------------


def test_thin_one_base_per_template_version_and_one_snapshot_per_vm(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _thin(templates, fake)
    key = templates.resolve(REF).key
    a = storage.provision_root("a", REF, size_bytes=2 * GIB)
    b = storage.provision_root("b", REF, size_bytes=None)
    base = f"base-{key}"
    creates = fake.commands("lvcreate")
    assert len(creates) == 3
    assert creates[0][:9] == ["lvcreate", "--yes", "--wipesignatures", "y", "-V", f"{TEMPLATE_MIB * MIB}b",
                              "--thinpool", f"{VG}/pool", "-n"]  # fmt: skip
    assert creates[0][9] == base and f"sb.base={key}" in creates[0] and "sb.image=base.img" in creates[0]
    assert creates[1][-1] == creates[2][-1] == f"{VG}/{base}"
    assert "--snapshot" in creates[1] and creates[1][3:5] == ["--setactivationskip", "n"]
    assert fake.commands("qemu-img") == [
        [
            "qemu-img",
            "convert",
            "-n",
            "-f",
            "raw",
            "-O",
            "raw",
            str(templates.image_dir / "base.img"),
            f"/dev/{VG}/{base}",
        ]
    ]
    assert fake.commands("lvchange") == [["lvchange", "--permission", "r", f"{VG}/{base}"]]
    assert fake.lvs[base].attr[1] == "r"
    # a: extended to 2 GiB and grown; b: 1 GiB default, also extended from the 32 MiB base
    assert fake.commands("lvextend") == [
        ["lvextend", "-L", f"{2 * GIB}b", f"{VG}/vm-a"],
        ["lvextend", "-L", f"{GIB}b", f"{VG}/vm-b"],
    ]
    assert fake.commands("resize2fs") == [["resize2fs", f"/dev/{VG}/vm-a"], ["resize2fs", f"/dev/{VG}/vm-b"]]
    assert (a.size_bytes, b.size_bytes, a.backend) == (2 * GIB, GIB, "lvm-thin")
    assert fake.lvs["vm-a"].origin == base
    storage.delete("a")
    assert base in fake.lvs and "vm-b" in fake.lvs and "vm-a" not in fake.lvs


def test_thin_replaced_image_gets_a_new_base_and_the_old_one_goes(
    templates: TemplateStore, template_dirs: tuple[Path, Path, Path], fake: FakeLvm
) -> None:
    storage = _thin(templates, fake)
    old_key = templates.resolve(REF).key
    storage.provision_root("a", REF, size_bytes=None)
    image = template_dirs[1] / "base.img"
    image.unlink()
    make_ext4(image, TEMPLATE_MIB, "v2")
    new_key = templates.resolve(REF).key
    assert new_key != old_key
    storage.provision_root("b", REF, size_bytes=None)
    assert fake.lvs["vm-b"].origin == f"base-{new_key}"
    assert f"base-{old_key}" not in fake.lvs, "the outdated base is removed"
    assert "vm-a" in fake.lvs, "VMs cloned from the old base keep their disks"


def test_thin_refusals_and_cleanup(templates: TemplateStore, fake: FakeLvm) -> None:
    storage = _thin(templates, fake)
    missing_pool = LvmThinStorage(VG, "nopool", templates=templates, runner=fake)
    with pytest.raises(LvmError, match="thin pool sbtrec/nopool not found"):
        missing_pool.provision_root("vm", REF, size_bytes=None)
    assert _changes(fake) == []
    # The image cannot be written into a new base: the base goes, nothing else is made.
    fake.fail["qemu-img"] = CommandResult(1, "", "qemu-img: Could not open: Permission denied")
    with pytest.raises(CommandFailed):
        storage.provision_root("vm", REF, size_bytes=None)
    assert set(fake.lvs) == {"pool"}
    # Growing the snapshot fails: the snapshot goes, the (good) base stays for the next VM.
    fake.fail["lvextend"] = CommandResult(5, "", "  Insufficient free space in thin pool")
    with pytest.raises(CommandFailed, match="Insufficient"):
        storage.provision_root("vm", REF, size_bytes=2 * GIB)
    assert {n for n in fake.lvs if not n.startswith("base-")} == {"pool"}
    assert len([n for n in fake.lvs if n.startswith("base-")]) == 1
    # Recorded: LVM itself refuses the thin volume without device-mapper.
    fresh = FakeLvm()
    fresh.add_pool("pool")
    fresh.fail["lvcreate"] = recorded("lvcreate_thin")
    with pytest.raises(CommandFailed, match="thin: Required device-mapper target"):
        _thin(templates, fresh).provision_data("vm", 1, size_bytes=GIB)
    assert set(fresh.lvs) == {"pool"}


def test_thin_data_disk_is_a_thin_volume(templates: TemplateStore, fake: FakeLvm) -> None:
    d = _thin(templates, fake).provision_data("vm", 1, size_bytes=10 * GIB)
    assert d.size_bytes == 10 * GIB and fake.lvs["vm-vm_data1"].pool == "pool"
    assert fake.commands("blkdiscard") == [], "thin volumes read as zeros; nothing to wipe"


# -- for real: a loop-backed VG on this machine --------------------------------------------------------


@pytest.fixture
def real_vg(tmp_path: Path) -> Iterator[str]:
    """A 256 MiB volume group `sbtvg<pid>` on a loop device; everything removed afterwards."""
    need("pvcreate", "vgcreate", "losetup")
    name = f"sbtvg{os.getpid()}"
    had_control = Path("/dev/mapper/control").exists()
    img = tmp_path / "pv.img"
    subprocess.run(["truncate", "-s", "256M", str(img)], check=True)
    dev = subprocess.run(
        ["losetup", "-f", "--show", str(img)], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {**os.environ, "LVM_SUPPRESS_FD_WARNINGS": "1"}
    try:
        subprocess.run(["pvcreate", "-q", dev], check=True, env=env, capture_output=True)
        subprocess.run(["vgcreate", "-q", name, dev], check=True, env=env, capture_output=True)
        yield name
    finally:
        subprocess.run(["vgremove", "-y", "-q", name], env=env, capture_output=True)
        subprocess.run(["pvremove", "-y", "-q", dev], env=env, capture_output=True)
        subprocess.run(["losetup", "-d", dev], check=True)
        if not had_control:  # lvm creates it as a side effect
            Path("/dev/mapper/control").unlink(missing_ok=True)
    out = subprocess.run(["losetup", "-j", str(img)], capture_output=True, text=True, check=True).stdout
    assert out == "", "loop device left behind"


@pytest.mark.root
def test_real_vg_reports_parse_and_refusals_happen_before_any_change(templates: TemplateStore, real_vg: str) -> None:
    runner = SubprocessRunner()
    lvm = Lvm(runner, real_vg)
    info = lvm.vg_info()
    assert info.name == real_vg and info.extent_size == 4 * MIB and 240 * MIB <= info.free <= 256 * MIB
    assert lvm.lvs() == []
    storage = LvmStorage(real_vg, templates=templates, runner=runner)
    with pytest.raises(LvmError, match="bytes free"):
        storage.provision_root("vm", REF, size_bytes=GIB)
    assert storage.owners() == set() and storage.volumes("vm") == []
    storage.delete("vm")
    with pytest.raises(LvmError, match="volume group 'sbtnovg' not found"):
        LvmStorage("sbtnovg", templates=templates, runner=runner).provision_root("vm", REF, size_bytes=None)
    thin = LvmThinStorage(real_vg, "pool", templates=templates, runner=runner)
    with pytest.raises(LvmError, match=r"thin pool \S+ not found"):
        thin.provision_root("vm", REF, size_bytes=None)


@pytest.mark.root
def test_real_lvcreate_refusal_leaves_nothing(templates: TemplateStore, real_vg: str) -> None:
    """Without device-mapper (these machines and CI) LVM refuses the LV; the error carries LVM's reason
    and no LV exists afterwards."""
    runner = SubprocessRunner()
    storage = LvmStorage(real_vg, templates=templates, runner=runner)
    with pytest.raises(CommandFailed, match="lvcreate failed"):
        storage.provision_root("vm", REF, size_bytes=64 * MIB)
    assert Lvm(runner, real_vg).lvs() == []
