"""Entry-point paths: CloudStack's normalisation table, confinement to the extension directory, checksums."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from switchboard.errors import InvalidParameter
from switchboard.extensions.paths import (
    NESTING_ERROR,
    NOT_CONFIGURED,
    NOT_EXECUTABLE,
    EntryPoint,
    EntryPointError,
    ExtensionRoots,
    default_relative_path,
    directory_name,
    entry_checksum,
    normalise_relative_path,
    payload_directory_name,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MyExt", "myext"),
        ("My Ext!", "my_ext_"),
        ("a.b-c_d", "a.b-c_d"),
        ("Über/../x", "_ber_.._x"),
    ],
)
def test_directory_name_replaces_unsafe_characters_and_lowercases(name: str, expected: str) -> None:
    assert directory_name(name) == expected


def test_default_path_is_dir_slash_dir_sh() -> None:
    assert default_relative_path("My Ext") == "my_ext/my_ext.sh"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, "myext/myext.sh"),
        ("", "myext/myext.sh"),
        ("run.py", "myext/run.py"),
        ("/run.py", "myext/run.py"),
        ("myext", "myext/myext"),
        ("/myext", "myext/myext"),
        ("myext/run.sh", "myext/run.sh"),
        ("myext\\bin\\run.sh", "myext/bin/run.sh"),
        ("bin\\run.sh", "myext/bin/run.sh"),
        ("myext/a/b/run.sh", "myext/a/b/run.sh"),
        ("a/b/run.sh", "myext/a/b/run.sh"),
        ("other/run.sh", "myext/other/run.sh"),
        ("myextra/run.sh", "myext/myextra/run.sh"),
    ],
)
def test_normalisation_follows_cloudstack(path: str | None, expected: str) -> None:
    assert normalise_relative_path("MyExt", path) == expected


@pytest.mark.parametrize("path", ["myext/a/b/c/run.sh", "a/b/c/run.sh", "\\a\\b\\c\\run.sh"])
def test_more_than_two_subdirectories_is_refused_with_cloudstack_text(path: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        normalise_relative_path("MyExt", path)
    assert str(info.value) == NESTING_ERROR
    assert info.value.parameter == "path"


@pytest.mark.parametrize("path", ["../escape.sh", "myext/../../etc/passwd", "a/../run.sh", "..\\x.sh"])
def test_dot_dot_is_refused(path: str) -> None:
    with pytest.raises(InvalidParameter):
        normalise_relative_path("MyExt", path)


def test_payload_directory_uses_raw_name_unless_unsafe() -> None:
    assert payload_directory_name("My Ext") == "My Ext"
    assert payload_directory_name("../../etc") == ".._.._etc"
    assert payload_directory_name("a/b") == "a_b"
    for name in ("", ".", ".."):
        assert payload_directory_name(name) not in ("", ".", "..")
        assert "/" not in payload_directory_name(name)


def test_roots_layouts(tmp_path: Path) -> None:
    roots = ExtensionRoots.in_data_dir(tmp_path)
    assert roots.extensions == tmp_path / "extensions"
    assert roots.payloads == tmp_path / "extensions-data"
    assert roots.payload_dir("My Ext") == tmp_path / "extensions-data" / "My Ext"
    cs = ExtensionRoots.for_layout("cloudstack", data_dir=tmp_path)
    assert cs.extensions == Path("/usr/share/cloudstack-management/extensions")
    assert cs.payloads == Path("/var/lib/cloudstack/management/extensions")
    with pytest.raises(InvalidParameter):
        ExtensionRoots.for_layout("nope", data_dir=tmp_path)  # type: ignore[arg-type]


def _script(path: Path, mode: int = 0o755, body: str = "#!/bin/sh\necho hi\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(mode)
    return path


def test_valid_entry_point_resolves(tmp_path: Path) -> None:
    script = _script(tmp_path / "myext" / "myext.sh")
    entry = EntryPoint.from_relative(tmp_path, "myext/myext.sh")
    assert entry.validate() == script.resolve()
    assert entry.directory == tmp_path / "myext"


def test_missing_entry_point_is_not_configured(tmp_path: Path) -> None:
    with pytest.raises(EntryPointError) as info:
        EntryPoint.from_relative(tmp_path, "myext/myext.sh").validate()
    assert str(info.value) == NOT_CONFIGURED


def test_directory_is_not_configured(tmp_path: Path) -> None:
    (tmp_path / "myext" / "sub").mkdir(parents=True)
    with pytest.raises(EntryPointError) as info:
        EntryPoint.from_relative(tmp_path, "myext/sub").validate()
    assert str(info.value) == NOT_CONFIGURED


def test_non_executable_file_is_refused(tmp_path: Path) -> None:
    _script(tmp_path / "myext" / "myext.sh", mode=0o644)
    with pytest.raises(EntryPointError) as info:
        EntryPoint.from_relative(tmp_path, "myext/myext.sh").validate()
    assert str(info.value) == NOT_EXECUTABLE


def test_a_symlink_placed_on_disk_is_followed_wherever_it_leads(tmp_path: Path) -> None:
    # The documented install of a third-party extension: `ln -s` to a script installed elsewhere.
    outside = _script(tmp_path / "opt" / "vendor.py")
    (tmp_path / "myext").mkdir()
    os.symlink(outside, tmp_path / "myext" / "myext.sh")
    entry = EntryPoint.from_relative(tmp_path, "myext/myext.sh")
    assert entry.validate() == outside.resolve()
    assert entry_checksum(entry) == hashlib.md5(outside.read_bytes()).hexdigest()
    assert entry.directory == tmp_path / "myext"  # still the working directory and HOME


def test_a_symlinked_subdirectory_placed_on_disk_is_followed(tmp_path: Path) -> None:
    real = _script(tmp_path / "other" / "run.sh")
    (tmp_path / "myext").mkdir()
    os.symlink(tmp_path / "other", tmp_path / "myext" / "bin")
    assert EntryPoint.from_relative(tmp_path, "myext/bin/run.sh").validate() == real.resolve()


@pytest.mark.parametrize("target", ["missing.sh", "loop.sh"])
def test_a_dangling_or_looping_symlink_is_not_configured(tmp_path: Path, target: str) -> None:
    (tmp_path / "myext").mkdir()
    os.symlink(tmp_path / "myext" / target, tmp_path / "myext" / "myext.sh")
    os.symlink(tmp_path / "myext" / "loop.sh", tmp_path / "myext" / "loop.sh")
    with pytest.raises(EntryPointError) as info:
        EntryPoint.from_relative(tmp_path, "myext/myext.sh").validate()
    assert str(info.value) == NOT_CONFIGURED


def test_a_symlink_to_a_file_without_execute_permission_is_not_executable(tmp_path: Path) -> None:
    outside = _script(tmp_path / "opt" / "vendor.py", mode=0o644)
    (tmp_path / "myext").mkdir()
    os.symlink(outside, tmp_path / "myext" / "myext.sh")
    with pytest.raises(EntryPointError) as info:
        EntryPoint.from_relative(tmp_path, "myext/myext.sh").validate()
    assert str(info.value) == NOT_EXECUTABLE


def test_symlink_inside_the_extension_directory_is_allowed(tmp_path: Path) -> None:
    real = _script(tmp_path / "myext" / "v2" / "run.sh")
    os.symlink("v2/run.sh", tmp_path / "myext" / "myext.sh")
    assert EntryPoint.from_relative(tmp_path, "myext/myext.sh").validate() == real.resolve()


@pytest.mark.parametrize("relative", ["../x/run.sh", "/etc/passwd", "myext", "myext/../other/run.sh", "a//b"])
def test_entry_point_refuses_malformed_relative_paths(tmp_path: Path, relative: str) -> None:
    with pytest.raises(InvalidParameter):
        EntryPoint.from_relative(tmp_path, relative)


def test_checksum_is_md5_of_the_entry_file_or_none(tmp_path: Path) -> None:
    body = "#!/bin/sh\necho checksum\n"
    _script(tmp_path / "myext" / "myext.sh", body=body)
    entry = EntryPoint.from_relative(tmp_path, "myext/myext.sh")
    assert entry_checksum(entry) == hashlib.md5(body.encode()).hexdigest()
    (tmp_path / "myext" / "myext.sh").chmod(0o644)
    assert entry.checksum() is None
    assert EntryPoint.from_relative(tmp_path, "nope/nope.sh").checksum() is None


def test_standalone_entry_point_is_confined_to_its_own_directory(tmp_path: Path) -> None:
    script = _script(tmp_path / "tool.sh")
    assert EntryPoint.standalone(script).validate() == script.resolve()


def test_roots_resolve_explicit_roots_over_the_layout(tmp_path: Path) -> None:
    roots = ExtensionRoots.resolve(data_dir=tmp_path, layout="cloudstack", payloads=Path("/srv/data"))
    assert roots.extensions == Path("/usr/share/cloudstack-management/extensions")
    assert roots.payloads == Path("/srv/data")
    roots = ExtensionRoots.resolve(data_dir=tmp_path, layout="switchboard", payloads=tmp_path / "p")
    assert roots == ExtensionRoots(extensions=tmp_path / "extensions", payloads=tmp_path / "p")
    assert ExtensionRoots.resolve(data_dir=tmp_path) == ExtensionRoots.in_data_dir(tmp_path)
    with pytest.raises(InvalidParameter):
        ExtensionRoots.for_layout("other", data_dir=tmp_path)  # type: ignore[arg-type]


def test_ensure_creates_roots_with_private_payloads(tmp_path: Path) -> None:
    roots = ExtensionRoots.in_data_dir(tmp_path / "data")
    assert roots.ensure() == []
    assert roots.extensions.is_dir()
    assert stat.S_IMODE(roots.payloads.stat().st_mode) == 0o700
    blocked = ExtensionRoots(extensions=tmp_path / "file" / "x", payloads=tmp_path / "p")
    (tmp_path / "file").write_text("not a dir")
    assert len(blocked.ensure()) == 1
