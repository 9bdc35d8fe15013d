"""VerifiedRequests remembers verified requests by secret and exact parameters, and nothing else."""

from __future__ import annotations

import pytest

from switchboard.api.signing import SignatureRejected, VerifiedRequests, compute_signature

SECRET = b"secret-one"


def _signed(**params: str) -> dict[str, str]:
    request = {"command": "listZones", "apiKey": "key", **params}
    request["signature"] = compute_signature(request, SECRET)
    return request


def test_a_verified_request_is_accepted_again_and_only_with_the_same_secret() -> None:
    memo = VerifiedRequests()
    request = _signed(response="json")
    memo.verify(request, SECRET, request["signature"])
    memo.verify(request, SECRET, request["signature"])
    with pytest.raises(SignatureRejected):  # a regenerated secret does not match what was remembered
        memo.verify(request, b"secret-two", request["signature"])


def test_changed_parameters_or_signature_are_verified_afresh() -> None:
    memo = VerifiedRequests()
    request = _signed(name="a")
    memo.verify(request, SECRET, request["signature"])
    with pytest.raises(SignatureRejected):
        memo.verify({**request, "name": "b"}, SECRET, request["signature"])
    forged = {**request, "signature": "AAAA" + request["signature"][4:]}
    with pytest.raises(SignatureRejected):
        memo.verify(forged, SECRET, forged["signature"])
    with pytest.raises(SignatureRejected):  # a failure is not remembered either
        memo.verify(forged, SECRET, forged["signature"])


def test_memory_is_bounded() -> None:
    memo = VerifiedRequests(max_entries=10)
    for index in range(50):
        request = _signed(page=str(index))
        memo.verify(request, SECRET, request["signature"])
    assert len(memo._seen) <= 10
