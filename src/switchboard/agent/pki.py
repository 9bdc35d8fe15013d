"""`switchboard agent init-tls`: a private CA, a server certificate with proper subjectAltNames, and client
certificates, so that nobody needs to skip verification.

Two directories, so that the CA's key never sits where the agent reads its files:

* the agent's directory (`directory`): `ca.crt`, `server.crt`, `server.key` — what the agent needs;
* the CA's directory (`ca_dir`, 0700): `ca.crt`, `ca.key` and each client's `client-<name>.crt`/`.key`
  — what the issuer keeps and what the management server needs (copy the client files there).

Keys are EC P-256, written 0600; certificates 0644. An existing CA is reused (so certificates issued later
chain to the same root), an existing server or client certificate is kept unless `force` is set. A CA key
left in the agent's directory by an earlier layout is moved to `ca_dir`.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import os
import re
import shutil
import socket
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["IssuedFiles", "PkiError", "init_tls", "write_tls_config"]

_CA_DAYS = 3650
_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PkiError(Exception):
    """A file cannot be written or an existing CA cannot be read."""


@dataclass
class IssuedFiles:
    ca_cert: Path  # the copy in the agent's directory
    ca_dir: Path
    server_cert: Path | None = None
    server_key: Path | None = None
    clients: dict[str, tuple[Path, Path, str]] = field(default_factory=dict)  # name -> (cert, key, fingerprint)

    def fingerprints(self) -> list[str]:
        """The clients' `allowed_clients` entries (`sha256:<hex>`), in the order they were named."""
        return [fingerprint for _cert, _key, fingerprint in self.clients.values()]


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _move_old_ca(agent_dir: Path, ca_dir: Path) -> None:
    """An earlier layout kept the CA key (and client keys) in the agent's directory: move them out."""
    old_key = agent_dir / "ca.key"
    if not old_key.exists():
        return
    if (ca_dir / "ca.key").exists():
        if (ca_dir / "ca.key").read_bytes() != old_key.read_bytes():
            raise PkiError(f"{old_key} and {ca_dir / 'ca.key'} are different CAs; remove the one not in use")
        old_key.unlink()
        return
    for path in [old_key, agent_dir / "ca.crt", *agent_dir.glob("client-*.crt"), *agent_dir.glob("client-*.key")]:
        if path.name == "ca.crt":
            shutil.copy2(path, ca_dir / path.name)
        else:
            os.replace(path, ca_dir / path.name)


def _load_or_create_ca(directory: Path, organisation: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise PkiError(f"cannot read the existing CA in {directory}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(f"{key_path} is not an EC key")
        return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(f"{organisation} agent CA", organisation)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _issue(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    common_name: str,
    organisation: str,
    *,
    usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName],
    days: int,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _server_sans(hostnames: list[str], addresses: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in dict.fromkeys(hostnames)]
    for address in dict.fromkeys(addresses):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError as exc:
            raise PkiError(f"not an IP address: {address!r}") from exc
    return names


def init_tls(
    directory: Path,
    *,
    ca_dir: Path,
    hostnames: list[str] | None = None,
    addresses: list[str] | None = None,
    clients: Sequence[str] = (),
    organisation: str = "Switchboard",
    days: int = 825,
    force: bool = False,
) -> IssuedFiles:
    """Create (or reuse) the CA in `ca_dir`, the server certificate in `directory` and one certificate per
    client name in `ca_dir`. The server's SANs default to this host's FQDN, its short name, `localhost`,
    127.0.0.1 and ::1. Raises PkiError (also when `ca_dir` is `directory`)."""
    if directory.resolve() == ca_dir.resolve():
        raise PkiError("the CA directory must not be the agent's TLS directory (the CA key stays out of it)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o750)
        _private_dir(ca_dir)
        _move_old_ca(directory, ca_dir)
        ca = _load_or_create_ca(ca_dir, organisation)
        shutil.copyfile(ca_dir / "ca.crt", directory / "ca.crt")
        os.chmod(directory / "ca.crt", 0o644)
        issued = IssuedFiles(ca_cert=directory / "ca.crt", ca_dir=ca_dir)
        fqdn = socket.getfqdn()
        names = hostnames or [fqdn, fqdn.split(".")[0], "localhost"]
        ips = addresses or ["127.0.0.1", "::1"]
        server_cert = directory / "server.crt"
        if force or not server_cert.exists():
            cert, key = _issue(
                ca, names[0], organisation, usage=ExtendedKeyUsageOID.SERVER_AUTH,
                sans=_server_sans(names, ips), days=days,
            )
            _write(directory / "server.key", _key_pem(key), 0o600)
            _write(server_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        issued.server_cert, issued.server_key = server_cert, directory / "server.key"
        for client in clients:
            if not _CLIENT_NAME.fullmatch(client):
                raise PkiError(f"invalid client name {client!r}: letters, digits, dot, dash, underscore")
            cert_path, key_path = ca_dir / f"client-{client}.crt", ca_dir / f"client-{client}.key"
            if force or not cert_path.exists():
                cert, key = _issue(
                    ca, client, organisation, usage=ExtendedKeyUsageOID.CLIENT_AUTH, sans=[], days=days
                )
                _write(key_path, _key_pem(key), 0o600)
                _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
            der = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(serialization.Encoding.DER)
            issued.clients[client] = (cert_path, key_path, "sha256:" + hashlib.sha256(der).hexdigest())
    except OSError as exc:
        raise PkiError(f"cannot write TLS files in {directory} or {ca_dir}: {exc.strerror}") from exc
    return issued


def write_tls_config(config_path: Path, issued: IssuedFiles) -> list[str]:
    """Point `config_path`'s `security.tls` at the issued files with client certificates required, and add
    the issued clients' fingerprints to `allowed_clients` (entries already there are kept). Other keys are
    left as they are; the file is replaced atomically and keeps its mode (0600 when it is new). Returns
    the allow-list. Raises PkiError when the file is not a JSON object or cannot be written."""
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    except (OSError, ValueError) as exc:
        raise PkiError(f"cannot read config {config_path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.setdefault("security", {}), dict):
        raise PkiError(f"config {config_path} must be a JSON object with an object `security`")
    tls = raw["security"].setdefault("tls", {})
    if not isinstance(tls, dict):
        raise PkiError(f"config {config_path}: security.tls must be an object")
    allowed = [str(entry) for entry in tls.get("allowed_clients") or []]
    allowed += [fingerprint for fingerprint in issued.fingerprints() if fingerprint not in allowed]
    tls.update(
        enabled=True,
        cert_file=str(issued.server_cert),
        key_file=str(issued.server_key),
        ca_file=str(issued.ca_cert),
        client_auth="required",
        allowed_clients=allowed,
    )
    mode = stat.S_IMODE(config_path.stat().st_mode) if config_path.exists() else 0o600
    tmp = config_path.with_name(f".{config_path.name}.tmp")
    try:
        _write(tmp, (json.dumps(raw, indent=2) + "\n").encode(), mode)
        os.replace(tmp, config_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PkiError(f"cannot write config {config_path}: {exc.strerror}") from exc
    return allowed
