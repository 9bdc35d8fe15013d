"""TemplateStore: names, formats, checksums (with the stat-keyed cache) and verified downloads.

Everything here is real: images made with mkfs.ext4 and qemu-img, downloads from a real HTTP server on
127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from switchboard.agent.hostcmd import CommandResult, SubprocessRunner
from switchboard.agent.model import TemplateRef
from switchboard.agent.template_sources import SourceNotAllowed, TemplateSources
from switchboard.agent.templates import (
    ChecksumMismatch,
    DownloadFailed,
    DownloadNotAllowed,
    InvalidTemplate,
    TemplateNotFound,
    TemplateStore,
    parse_checksum,
)


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install it (scripts/ci-deps.sh lists the apt packages)")


def _make_ext4(path: Path, size_mib: int, marker: str) -> None:
    _need("mkfs.ext4")
    content = path.parent / f".{path.name}.d"
    content.mkdir()
    (content / "marker").write_text(marker)
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(path)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-d", str(content), str(path)], check=True)
    shutil.rmtree(content)


class CountingRunner(SubprocessRunner):
    """The real runner, counting calls (to see whether the digest cache was used)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        self.calls.append(list(argv))
        return super().run(argv, timeout=timeout, env=env)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    kernel_dir, image_dir, cache_dir = tmp_path / "kernel", tmp_path / "images", tmp_path / "cache"
    kernel_dir.mkdir()
    image_dir.mkdir()
    (kernel_dir / "vmlinux").write_bytes(b"\x7fELF-not-really")
    _make_ext4(image_dir / "debian.img", 16, "v1")
    return kernel_dir, image_dir, cache_dir


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resolves_raw_image_with_its_sha256_and_size(dirs: tuple[Path, Path, Path]) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    store = TemplateStore(kernel_dir, image_dir, cache_dir)
    t = store.resolve(TemplateRef(kernel="vmlinux", image="debian.img", boot_args="console=ttyS0"))
    assert t.kernel == kernel_dir / "vmlinux"
    assert t.image == image_dir / "debian.img"
    assert t.image_format == "raw"
    assert t.virtual_size == 16 << 20
    assert t.checksum == "sha256:" + _sha256(image_dir / "debian.img")
    assert t.boot_args == "console=ttyS0"
    assert oct(cache_dir.stat().st_mode & 0o777) == "0o700"


def test_detects_qcow2_and_refuses_other_formats_and_backing_files(dirs: tuple[Path, Path, Path]) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    _need("qemu-img")
    raw = image_dir / "debian.img"
    for fmt, name in (("qcow2", "d.qcow2"), ("vmdk", "d.vmdk")):
        subprocess.run(["qemu-img", "convert", "-O", fmt, str(raw), str(image_dir / name)], check=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(raw), "-F", "raw", str(image_dir / "o.qcow2")],
        check=True,
    )
    store = TemplateStore(kernel_dir, image_dir, cache_dir)
    q = store.resolve(TemplateRef(kernel="vmlinux", image="d.qcow2"))
    assert (q.image_format, q.virtual_size) == ("qcow2", 16 << 20)
    with pytest.raises(InvalidTemplate, match="unsupported format 'vmdk'"):
        store.resolve(TemplateRef(kernel="vmlinux", image="d.vmdk"))
    with pytest.raises(InvalidTemplate, match="backing file"):
        store.resolve(TemplateRef(kernel="vmlinux", image="o.qcow2"))


@pytest.mark.parametrize("name", ["../images/debian.img", "a/b", ".hidden", "", "..", "x" * 300, "a\nb"])
def test_refuses_names_that_could_leave_the_directory(dirs: tuple[Path, Path, Path], name: str) -> None:
    store = TemplateStore(*dirs)
    with pytest.raises(InvalidTemplate):
        store.resolve(TemplateRef(kernel="vmlinux", image=name))
    with pytest.raises(InvalidTemplate):
        store.resolve(TemplateRef(kernel=name, image="debian.img"))


def test_missing_files_are_reported_by_name(dirs: tuple[Path, Path, Path]) -> None:
    store = TemplateStore(*dirs)
    with pytest.raises(TemplateNotFound, match="kernel 'nope'"):
        store.resolve(TemplateRef(kernel="nope", image="debian.img"))
    with pytest.raises(TemplateNotFound, match=r"image 'nope\.img'"):
        store.resolve(TemplateRef(kernel="vmlinux", image="nope.img"))


def test_declared_checksum_is_enforced_in_every_notation(dirs: tuple[Path, Path, Path]) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    store = TemplateStore(kernel_dir, image_dir, cache_dir)
    data = (image_dir / "debian.img").read_bytes()
    good = [
        "sha256:" + hashlib.sha256(data).hexdigest(),
        "{SHA-256}" + hashlib.sha256(data).hexdigest().upper(),
        hashlib.md5(data).hexdigest(),
        "sha512:" + hashlib.sha512(data).hexdigest(),
    ]
    for checksum in good:
        store.resolve(TemplateRef(kernel="vmlinux", image="debian.img", checksum=checksum))
    with pytest.raises(ChecksumMismatch):
        store.resolve(TemplateRef(kernel="vmlinux", image="debian.img", checksum="sha256:" + "0" * 64))
    for bad in ("sha256:abc", "crc32:1234", "zz" * 32):
        with pytest.raises(InvalidTemplate):
            parse_checksum(bad)


def test_digest_cache_avoids_rehashing_but_notices_a_replaced_image(dirs: tuple[Path, Path, Path]) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    runner = CountingRunner()
    store = TemplateStore(kernel_dir, image_dir, cache_dir, runner=runner)
    ref = TemplateRef(kernel="vmlinux", image="debian.img")
    first = store.resolve(ref)
    assert len(runner.calls) == 1
    assert store.resolve(ref) == first
    assert len(runner.calls) == 1, "an unchanged image must come from the cache"
    # A fresh store (an agent restart) reads the persisted cache.
    again = TemplateStore(kernel_dir, image_dir, cache_dir, runner=runner)
    assert again.resolve(ref) == first
    assert len(runner.calls) == 1

    # Replace the image in place with one of the same size and give it back the old mtime: only the
    # content (and ctime) differ, and the new checksum must still be noticed.
    img = image_dir / "debian.img"
    st = img.stat()
    with img.open("r+b") as f:
        f.seek(8 << 20)
        f.write(b"changed")
    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert img.stat().st_size == st.st_size
    replaced = store.resolve(ref)
    assert replaced.checksum == "sha256:" + _sha256(img)
    assert replaced.checksum != first.checksum


class _Server:
    """A real HTTP server on 127.0.0.1 serving files from a directory and counting GETs."""

    def __init__(self, root: Path) -> None:
        outer = self
        self.gets = 0

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a: object, **kw: object) -> None:
                super().__init__(*a, directory=str(root), **kw)  # type: ignore[arg-type]

            def do_GET(self) -> None:
                outer.gets += 1
                if self.path.startswith("/redirect/"):  # /redirect/<url>: a 302 to <url>
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/redirect/"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[_Server, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    srv = _Server(root)
    yield srv, root
    srv.close()


def test_download_is_verified_cached_and_reused(dirs: tuple[Path, Path, Path], server: tuple[_Server, Path]) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    srv, www = server
    _make_ext4(www / "remote.img", 8, "remote")
    digest = _sha256(www / "remote.img")
    store = TemplateStore(kernel_dir, image_dir, cache_dir, sources=TemplateSources([srv.url + "/"]))
    ref = TemplateRef(kernel="vmlinux", image="remote.img", url=f"{srv.url}/remote.img", checksum=f"sha256:{digest}")
    t = store.resolve(ref)
    assert t.image.parent == cache_dir / "downloads"
    assert _sha256(t.image) == digest
    assert t.checksum == f"sha256:{digest}"
    assert srv.gets == 1
    assert store.resolve(ref).image == t.image
    assert srv.gets == 1, "a cached download must not be fetched again"
    assert not list((cache_dir / "downloads").glob(".part-*"))


def test_local_image_matching_the_checksum_is_not_downloaded(
    dirs: tuple[Path, Path, Path], server: tuple[_Server, Path]
) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    srv, _www = server
    digest = _sha256(image_dir / "debian.img")
    store = TemplateStore(kernel_dir, image_dir, cache_dir)
    ref = TemplateRef(kernel="vmlinux", image="debian.img", url=f"{srv.url}/x.img", checksum=f"sha256:{digest}")
    assert store.resolve(ref).image == image_dir / "debian.img"
    assert srv.gets == 0


def test_bad_downloads_leave_nothing_behind(dirs: tuple[Path, Path, Path], server: tuple[_Server, Path]) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    srv, www = server
    (www / "remote.img").write_bytes(b"x" * 100_000)
    store = TemplateStore(kernel_dir, image_dir, cache_dir, sources=TemplateSources([srv.url]))
    wrong = TemplateRef(kernel="vmlinux", image="r.img", url=f"{srv.url}/remote.img", checksum="sha256:" + "1" * 64)
    with pytest.raises(ChecksumMismatch):
        store.resolve(wrong)
    missing = TemplateRef(kernel="vmlinux", image="r.img", url=f"{srv.url}/absent.img", checksum="sha256:" + "1" * 64)
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        store.resolve(missing)
    with pytest.raises(InvalidTemplate, match="no checksum"):
        store.resolve(TemplateRef(kernel="vmlinux", image="r.img", url=f"{srv.url}/remote.img"))
    with pytest.raises(InvalidTemplate, match=r"http:// or https://"):
        store.resolve(TemplateRef(kernel="vmlinux", image="r.img", url="file:///etc/passwd", checksum="1" * 64))
    assert list((cache_dir / "downloads").iterdir()) == []


def test_nothing_is_downloaded_unless_its_source_is_allowed(
    dirs: tuple[Path, Path, Path], server: tuple[_Server, Path]
) -> None:
    kernel_dir, image_dir, cache_dir = dirs
    srv, www = server
    _make_ext4(www / "remote.img", 8, "remote")
    digest = _sha256(www / "remote.img")
    ref = TemplateRef(kernel="vmlinux", image="remote.img", url=f"{srv.url}/pub/../remote.img",
                      checksum=f"sha256:{digest}")
    for sources in (TemplateSources(), TemplateSources([f"{srv.url}/pub/"]), TemplateSources(["http://127.0.0.2/"])):
        store = TemplateStore(kernel_dir, image_dir, cache_dir, sources=sources)
        for url in (f"{srv.url}/remote.img", f"{srv.url}/pub/../remote.img", f"{srv.url}/pubX/remote.img"):
            with pytest.raises(DownloadNotAllowed):
                store.resolve(replace(ref, url=url))
    assert srv.gets == 0
    assert list((cache_dir / "downloads").iterdir()) == []
    # An allowed server that redirects elsewhere: the redirect is not followed.
    store = TemplateStore(kernel_dir, image_dir, cache_dir, sources=TemplateSources([f"{srv.url}/redirect/"]))
    elsewhere = srv.url.replace("127.0.0.1", "localhost") + "/remote.img"
    with pytest.raises(DownloadNotAllowed, match=r"not under templates\.allowed_sources"):
        store.resolve(replace(ref, url=f"{srv.url}/redirect/{elsewhere}"))
    assert srv.gets == 1
    # Redirects within the allowed sources are followed.
    store = TemplateStore(kernel_dir, image_dir, cache_dir, sources=TemplateSources([srv.url]))
    assert store.resolve(replace(ref, url=f"{srv.url}/redirect/{srv.url}/remote.img")).checksum == f"sha256:{digest}"
    assert srv.gets == 3


@pytest.mark.parametrize(
    ("entry", "url", "allowed"),
    [
        ("https://img.example/", "https://img.example/a/b.qcow2", True),
        ("https://img.example", "https://IMG.example:443/b.qcow2", True),
        ("https://img.example/pub", "https://img.example/pub/b.qcow2", True),
        ("https://img.example/pub", "https://img.example/public/b.qcow2", False),
        ("https://img.example/", "http://img.example/b.qcow2", False),
        ("https://img.example/", "https://img.example:8443/b.qcow2", False),
        ("https://img.example/", "https://img.example.evil/b.qcow2", False),
        ("https://img.example/", "https://img.example@evil/b.qcow2", False),
        ("https://img.example/", "https://img.example/%2e%2e/b.qcow2", False),
        ("https://img.example/", "ftp://img.example/b.qcow2", False),
    ],
)
def test_allowed_sources_are_url_prefixes(entry: str, url: str, allowed: bool) -> None:
    sources = TemplateSources([entry])
    if allowed:
        sources.check(url)
    else:
        with pytest.raises(SourceNotAllowed):
            sources.check(url)


def test_template_lock_serialises_holders(dirs: tuple[Path, Path, Path]) -> None:
    store = TemplateStore(*dirs)
    inside: list[int] = []
    overlap: list[bool] = []

    def worker() -> None:
        for _ in range(50):
            with store.lock("abc"):
                inside.append(1)
                overlap.append(len(inside) > 1)
                inside.pop()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(overlap) == 200 and not any(overlap)


def test_concurrent_resolves_of_a_new_image_verify_it_once(dirs: tuple[Path, Path, Path]) -> None:
    runner = CountingRunner()
    store = TemplateStore(*dirs, runner=runner)
    ref = TemplateRef(kernel="vmlinux", image="debian.img")
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.resolve(ref))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert len(runner.calls) == 1, "one qemu-img probe (and one hash) for four concurrent resolves"
