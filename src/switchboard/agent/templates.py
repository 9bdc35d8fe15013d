"""Templates: the kernel and root-disk image a VM boots from, found by name and verified by checksum.

A template is named by two file names from the template's details: `kernel` in the host's kernel
directory and `image` (raw or qcow2) in the host's image directory. Names are single path components;
anything that could leave the directory (`..`, `/`, a leading dot) is refused before a path is built.

The image's identity is its SHA-256 (`ResolvedTemplate.checksum`, `"sha256:<hex>"`); storage backends key
their derived artefacts by it (converted qcow2 bases, LVM thin base volumes), so an image replaced under
the same name yields a new checksum and is never served stale. Hashing a multi-GiB image is slow, so
digests are cached in `cache_dir/checksums.json`, keyed by the file's device, inode, size, mtime and
ctime: any replacement (copy over, rename over, even with a preserved mtime) changes one of these and
forces a re-hash.

Optional download: only from a URL under `templates.allowed_sources` (see template_sources.py; by default
nothing is downloaded). When the reference carries a `url`, a `checksum` is required (`sha256:<hex>`,
`sha512:<hex>`, `sha1:<hex>`, `md5:<hex>`, CloudStack's `{SHA-256}<hex>`, or a bare hex digest whose
length names the algorithm). A local image of that name with a matching digest is used as it is;
otherwise the image is fetched once into `cache_dir/downloads/` (verified while streaming, renamed into
place only when it matches) and later resolves reuse the cached copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from switchboard.agent.hostcmd import CommandRunner, SubprocessRunner
from switchboard.agent.model import TemplateRef
from switchboard.agent.storage.base import StorageError
from switchboard.agent.template_sources import SourceNotAllowed, TemplateSources

__all__ = [
    "ChecksumMismatch",
    "DownloadFailed",
    "DownloadNotAllowed",
    "InvalidTemplate",
    "ResolvedTemplate",
    "TemplateError",
    "TemplateNotFound",
    "TemplateStore",
    "parse_checksum",
]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$")
_ALGO_BY_HEXLEN = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_ALGO_ALIASES = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha512": "sha512",
    "sha-512": "sha512",
}
_FORMATS = frozenset({"raw", "qcow2"})
_CHUNK = 1 << 20  # bytes read per hashing step
_MAX_REDIRECTS = 5


class TemplateError(StorageError):
    """A template could not be resolved. `str()` is fit for the API caller."""


class InvalidTemplate(TemplateError):
    """A name, checksum or image that is not acceptable (bad name, unsupported format, backing file)."""


class TemplateNotFound(TemplateError):
    """The kernel or image file does not exist on this host (and no URL was given)."""


class ChecksumMismatch(TemplateError):
    """The image's digest differs from the one the template declares."""


class DownloadFailed(TemplateError):
    """Fetching the image from its URL failed (network, HTTP status, or size)."""


class DownloadNotAllowed(InvalidTemplate):
    """The image's URL (or a redirect) is outside `templates.allowed_sources`: nothing was fetched."""


@dataclass(frozen=True)
class ResolvedTemplate:
    """A template found on this host: absolute paths plus what the storage backends need to know."""

    name: str  # the image's file name, as the template named it
    kernel: Path
    image: Path
    image_format: str  # "raw" or "qcow2"
    checksum: str  # "sha256:<hex>" of the image file as stored here
    virtual_size: int  # bytes the image expands to (the smallest root disk it fits)
    boot_args: str | None = None
    initrd: Path | None = None  # in the kernel directory, when the template names one

    @property
    def key(self) -> str:
        """A short, file-name-safe identity of this image version (first 16 hex digits of its SHA-256)."""
        return self.checksum.split(":", 1)[1][:16]


def parse_checksum(text: str) -> tuple[str, str]:
    """Split a declared checksum into (hashlib algorithm, lowercase hex). Raises InvalidTemplate."""
    raw = text.strip()
    algo: str | None
    if raw.startswith("{") and "}" in raw:
        algo_text, digest = raw[1:].split("}", 1)
        algo = _ALGO_ALIASES.get(algo_text.lower())
    elif ":" in raw:
        algo_text, digest = raw.split(":", 1)
        algo = _ALGO_ALIASES.get(algo_text.lower())
    else:
        digest = raw
        algo = _ALGO_BY_HEXLEN.get(len(raw))
    digest = digest.strip().lower()
    if algo is None or not re.fullmatch(r"[0-9a-f]+", digest) or _ALGO_BY_HEXLEN.get(len(digest)) != algo:
        raise InvalidTemplate(f"unsupported or malformed checksum {text!r}")
    return algo, digest


def _check_name(kind: str, name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise InvalidTemplate(f"invalid {kind} name {name!r}: a plain file name is required")
    return name


class TemplateStore:
    """Finds, verifies and (optionally) downloads templates. Thread-safe; one instance per agent.

    `kernel_dir` and `image_dir` are where the admin places files; `cache_dir` (created 0700) holds the
    digest cache, downloads and per-template lock files. `download_timeout` is in seconds per network
    operation; `max_download_bytes` caps a download (default 64 GiB); `sources` says which URLs may be
    fetched (default: none).
    """

    def __init__(
        self,
        kernel_dir: Path,
        image_dir: Path,
        cache_dir: Path,
        *,
        runner: CommandRunner | None = None,
        http: httpx.Client | None = None,
        download_timeout: float = 60.0,
        max_download_bytes: int = 64 << 30,
        sources: TemplateSources | None = None,
    ) -> None:
        self.sources = sources or TemplateSources()
        self.kernel_dir = Path(kernel_dir)
        self.image_dir = Path(image_dir)
        self.cache_dir = Path(cache_dir)
        self._runner = runner or SubprocessRunner()
        self._http = http
        self._timeout = download_timeout
        self._max_bytes = max_download_bytes
        self._cache_lock = threading.Lock()
        self._locks_guard = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}
        self.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.cache_dir / "downloads").mkdir(exist_ok=True, mode=0o700)
        (self.cache_dir / "locks").mkdir(exist_ok=True, mode=0o700)

    # -- public -----------------------------------------------------------------------------------

    def resolve(self, ref: TemplateRef) -> ResolvedTemplate:
        """Find `ref`'s kernel and image, download the image if needed, and verify it.

        Raises InvalidTemplate (bad name, bad checksum text, url without checksum, unsupported format,
        qcow2 with a backing file), TemplateNotFound, ChecksumMismatch or DownloadFailed."""
        kernel = self.kernel_dir / _check_name("kernel", ref.kernel)
        image_name = _check_name("image", ref.image)
        if not kernel.is_file():
            raise TemplateNotFound(f"kernel {ref.kernel!r} not found in {self.kernel_dir}")
        initrd = self.kernel_dir / _check_name("initrd", ref.initrd) if ref.initrd else None
        if initrd is not None and not initrd.is_file():
            raise TemplateNotFound(f"initrd {ref.initrd!r} not found in {self.kernel_dir}")
        declared = parse_checksum(ref.checksum) if ref.checksum else None

        image = self.image_dir / image_name
        if ref.url is None:
            if not image.is_file():
                raise TemplateNotFound(f"image {image_name!r} not found in {self.image_dir}")
            info = self._info(image, declared[0] if declared else None)
            if declared and info["digests"][declared[0]] != declared[1]:
                raise ChecksumMismatch(
                    f"image {image_name!r} does not match its checksum ({declared[0]}); it was replaced or corrupted"
                )
        elif declared is not None:  # always true here: a url without a checksum was refused above
            image, info = self._local_or_download(image, ref.url, declared)
        else:
            raise InvalidTemplate(f"image {image_name!r} has a download URL but no checksum")
        return ResolvedTemplate(
            name=image_name,
            kernel=kernel,
            image=image,
            image_format=info["format"],
            checksum="sha256:" + info["digests"]["sha256"],
            virtual_size=int(info["virtual_size"]),
            boot_args=ref.boot_args,
            initrd=initrd,
        )

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the per-template lock `key` (a ResolvedTemplate.key or image name) across threads and
        processes: a thread lock plus `flock` on `cache_dir/locks/<key>.lock`."""
        safe = _check_name("lock", key)
        with self._locks_guard:
            tlock = self._thread_locks.setdefault(safe, threading.Lock())
        with tlock:
            fd = os.open(self.cache_dir / "locks" / f"{safe}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    # -- digests and image facts ------------------------------------------------------------------

    def _info(self, path: Path, extra_algo: str | None) -> dict[str, Any]:
        """Digests (sha256, plus `extra_algo`), format and virtual size of `path`, cached by stat key."""
        with self._locks_guard:
            path_lock = self._thread_locks.setdefault(f"hash:{path}", threading.Lock())
        with path_lock:  # concurrent creates from a new image hash it once, not once each
            return self._info_locked(path, extra_algo)

    def _info_locked(self, path: Path, extra_algo: str | None) -> dict[str, Any]:
        st = path.stat()
        stat_key = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        cache_key = str(path.resolve())
        with self._cache_lock:
            cached = self._load_cache().get(cache_key)
        entry: dict[str, Any] | None = cached if isinstance(cached, dict) else None
        want = {"sha256"} | ({extra_algo} if extra_algo else set())
        if entry and entry.get("stat") == stat_key and want <= set(entry.get("digests", {})):
            return entry
        digests = self._hash(path, want)
        fmt, vsize = self._probe(path)
        entry = {"stat": stat_key, "digests": digests, "format": fmt, "virtual_size": vsize}
        if path.stat().st_ctime_ns != st.st_ctime_ns:
            # Changed while we read it: do not cache a digest that may describe neither version.
            raise TemplateError(f"image {path.name!r} changed while being verified; retry")
        with self._cache_lock:
            cache = self._load_cache()
            cache[cache_key] = entry
            self._store_cache(cache)
        return entry

    @staticmethod
    def _hash(path: Path, algos: set[str]) -> dict[str, str]:
        hashers = {a: hashlib.new(a) for a in algos}
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                for h in hashers.values():
                    h.update(chunk)
        return {a: h.hexdigest() for a, h in hashers.items()}

    def _probe(self, path: Path) -> tuple[str, int]:
        """Format and virtual size from `qemu-img info`; refuse formats other than raw/qcow2 and any
        backing file (a backing file could point anywhere on the host)."""
        result = self._runner.run(["qemu-img", "info", "-U", "--output=json", str(path)], timeout=60)
        if result.returncode != 0:
            raise InvalidTemplate(f"image {path.name!r} is unreadable: {result.stderr.strip()}")
        try:
            info = json.loads(result.stdout)
            fmt, vsize = str(info["format"]), int(info["virtual-size"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidTemplate(f"image {path.name!r}: unexpected qemu-img output") from exc
        if fmt not in _FORMATS:
            raise InvalidTemplate(f"image {path.name!r} has unsupported format {fmt!r} (raw or qcow2)")
        if info.get("backing-filename") or info.get("full-backing-filename"):
            raise InvalidTemplate(f"image {path.name!r} has a backing file; flatten it first")
        return fmt, vsize

    def _load_cache(self) -> dict[str, Any]:
        try:
            data = json.loads((self.cache_dir / "checksums.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _store_cache(self, cache: dict[str, Any]) -> None:
        for stale in [p for p in cache if not Path(p).exists()]:
            del cache[stale]  # images that were removed
        # Atomic replace so a crash never leaves a half-written cache (which would only cost a re-hash).
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".checksums.")
        with os.fdopen(fd, "w") as f:
            json.dump(cache, f)
        os.replace(tmp, self.cache_dir / "checksums.json")

    # -- downloads --------------------------------------------------------------------------------

    def _local_or_download(self, local: Path, url: str, declared: tuple[str, str]) -> tuple[Path, dict[str, Any]]:
        algo, digest = declared
        if local.is_file():
            info = self._info(local, algo)
            if info["digests"][algo] == digest:
                return local, info
            log.info("image %s differs from the declared checksum; using the download", local.name)
        cached = self.cache_dir / "downloads" / f"{algo}-{digest}"
        with self.lock(f"dl-{algo}-{digest[:32]}"):
            if cached.is_file():
                info = self._info(cached, algo)
                if info["digests"][algo] == digest:
                    return cached, info
                cached.unlink()  # corrupted cache entry: fetch again
            self._download(url, cached, algo, digest)
            return cached, self._info(cached, algo)

    def _allowed(self, url: str) -> None:
        try:
            self.sources.check(url)
        except SourceNotAllowed as exc:
            raise DownloadNotAllowed(str(exc)) from exc

    def _get(self, client: httpx.Client, url: str) -> httpx.Response:
        """GET `url` as a stream, following redirects by hand: every URL asked for must be allowed."""
        request = client.build_request("GET", url)
        for _ in range(_MAX_REDIRECTS + 1):
            self._allowed(str(request.url))
            resp = client.send(request, stream=True, follow_redirects=False)
            if resp.next_request is None:
                return resp
            resp.close()
            request = resp.next_request
        raise DownloadFailed(f"download of {url} failed: more than {_MAX_REDIRECTS} redirects")

    def _download(self, url: str, target: Path, algo: str, digest: str) -> None:
        self._allowed(url)  # before anything is created or connected
        hasher = hashlib.new(algo)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                client = self._http or httpx.Client(timeout=self._timeout)
                try:
                    resp = self._get(client, url)
                    with contextlib.closing(resp):
                        if resp.status_code != 200:
                            raise DownloadFailed(f"download of {url} failed: HTTP {resp.status_code}")
                        total = 0
                        for chunk in resp.iter_bytes(_CHUNK):
                            total += len(chunk)
                            if total > self._max_bytes:
                                raise DownloadFailed(f"download of {url} exceeds {self._max_bytes} bytes")
                            hasher.update(chunk)
                            out.write(chunk)
                except httpx.HTTPError as exc:
                    raise DownloadFailed(f"download of {url} failed: {exc}") from exc
                finally:
                    if self._http is None:
                        client.close()
                out.flush()
                os.fsync(out.fileno())
            if hasher.hexdigest() != digest:
                raise ChecksumMismatch(f"download of {url} does not match its checksum ({algo})")
            os.replace(tmp, target)
            log.info("downloaded %s (%s)", url, target.name)
        finally:
            tmp.unlink(missing_ok=True)
