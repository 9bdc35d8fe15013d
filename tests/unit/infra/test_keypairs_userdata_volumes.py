"""The rules of key pairs, user data and root volume sizes, as CloudStack's: public key material read
with its comment dropped (or base64-wrapped), fingerprints as MD5 colon hex; user data base64 (URL-encoded
accepted, re-encoded padded) within the GET/POST and configured limits; root disks sized by request,
offering or template."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from switchboard.errors import InvalidParameter
from switchboard.infra.keypairs import fingerprint, public_key_of
from switchboard.infra.userdata import details_text, parse_details_text, validate_user_data
from switchboard.infra.volumes import root_size

GIB = 1024 ** 3


def _key() -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_public_keys_keep_type_and_blob_only() -> None:
    key = _key()
    assert public_key_of(f"  {key} me@laptop \n") == key
    assert public_key_of(base64.b64encode(f"{key} me@laptop".encode()).decode()) == key
    blob = key.split()[1]
    digest = hashlib.md5(base64.b64decode(blob), usedforsecurity=False).hexdigest()
    assert fingerprint(key) == ":".join(digest[i:i + 2] for i in range(0, 32, 2))


# The last one's blob is an ed25519 key: it names another type than the text does.
@pytest.mark.parametrize("material", ["", "ssh-rsa", "ssh-foo AAAA", "ssh-rsa !!!", "not base64 at all",
                                      "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBnyYr8FVnlWPNJ0gaC2qfcDP8Lhf2yvKtC9Dl8VUpAF"])
def test_what_is_not_a_public_key_is_refused(material: str) -> None:
    with pytest.raises(InvalidParameter, match="Public key is invalid"):
        public_key_of(material)


def test_user_data_is_checked_and_re_encoded_as_cloudstack_does() -> None:
    assert validate_user_data(None, method="GET", max_length=32768) is None
    assert validate_user_data("  ", method="GET", max_length=32768) is None
    assert validate_user_data("aGk", method="GET", max_length=32768) == "aGk="  # padded
    assert validate_user_data("aGk%3D", method="GET", max_length=32768) == "aGk="  # URL-encoded
    with pytest.raises(InvalidParameter, match="not base64"):
        validate_user_data("hé!", method="GET", max_length=32768)
    big = base64.b64encode(b"x" * 6000).decode()
    with pytest.raises(InvalidParameter, match="too long for http GET request"):
        validate_user_data(big, method="GET", max_length=32768)
    assert validate_user_data(big, method="POST", max_length=32768) == big
    with pytest.raises(InvalidParameter, match="exceeded configurable max length: 4000"):
        validate_user_data(big, method="POST", max_length=4000)


def test_user_data_details_are_kept_in_cloudstacks_form() -> None:
    text = details_text({"role": "web", "tier": "1"})
    assert text == "{role=web, tier=1}"
    assert parse_details_text(text) == [("role", "web"), ("tier", "1")]
    assert details_text({}) is None and parse_details_text(None) == []


def test_root_volumes_are_sized_by_request_then_offering_then_template() -> None:
    assert root_size(requested_gb=8, offering_gb=20, template_bytes=GIB) == 8 * GIB
    assert root_size(requested_gb=None, offering_gb=20, template_bytes=GIB) == 20 * GIB
    assert root_size(requested_gb=None, offering_gb=None, template_bytes=GIB) == GIB
    assert root_size(requested_gb=None, offering_gb=None, template_bytes=None) is None
    with pytest.raises(InvalidParameter, match=r"Root disk size \[1\] is smaller than the template size"):
        root_size(requested_gb=1, offering_gb=None, template_bytes=2 * GIB)
