"""`switchboard agent init-tls`: a private CA, a server certificate with proper subjectAltNames, and client
certificates, so that nobody needs to skip verification.

Keys are EC P-256, written 0600; certificates 0644. An existing CA is reused (so certificates issued later
chain to the same root), an existing server or client certificate is kept unless `force` is set.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["IssuedFiles", "PkiError", "init_tls"]

_CA_DAYS = 3650
_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PkiError(Exception):
    """A file cannot be written or an existing CA cannot be read."""


@dataclass
class IssuedFiles:
    ca_cert: Path
    server_cert: Path | None = None
    clients: dict[str, tuple[Path, Path, str]] = field(default_factory=dict)  # name -> (cert, key, fingerprint)


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
    hostnames: list[str] | None = None,
    addresses: list[str] | None = None,
    clients: list[str] = (),  # type: ignore[assignment]
    organisation: str = "Switchboard",
    days: int = 825,
    force: bool = False,
) -> IssuedFiles:
    """Create (or reuse) the CA in `directory`, then the server certificate and one certificate per client
    name. The server's SANs default to this host's FQDN, its short name, `localhost`, 127.0.0.1 and ::1.
    Raises PkiError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o750)
        ca = _load_or_create_ca(directory, organisation)
        issued = IssuedFiles(ca_cert=directory / "ca.crt")
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
        issued.server_cert = server_cert
        for client in clients:
            if not _CLIENT_NAME.fullmatch(client):
                raise PkiError(f"invalid client name {client!r}: letters, digits, dot, dash, underscore")
            cert_path, key_path = directory / f"client-{client}.crt", directory / f"client-{client}.key"
            if force or not cert_path.exists():
                cert, key = _issue(
                    ca, client, organisation, usage=ExtendedKeyUsageOID.CLIENT_AUTH, sans=[], days=days
                )
                _write(key_path, _key_pem(key), 0o600)
                _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
            der = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(serialization.Encoding.DER)
            issued.clients[client] = (cert_path, key_path, "sha256:" + hashlib.sha256(der).hexdigest())
    except OSError as exc:
        raise PkiError(f"cannot write TLS files in {directory}: {exc.strerror}") from exc
    return issued
