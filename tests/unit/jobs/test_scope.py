"""Who may see a job: domain subtrees in both path spellings, accounts, and system jobs."""

from __future__ import annotations

import pytest

from switchboard.jobs import SYSTEM, JobOwner, JobScope, in_domain


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("ROOT", "ROOT", True),
        ("ROOT/eng", "ROOT", True),
        ("ROOT/eng/ops", "ROOT/eng", True),
        ("ROOT/engineering", "ROOT/eng", False),
        ("ROOT", "ROOT/eng", False),
        ("/eng/ops/", "/eng/", True),
        ("/engineering/", "/eng/", False),
        (None, "ROOT", False),
    ],
)
def test_domain_subtrees_match_whole_path_segments(path: str | None, root: str, inside: bool) -> None:
    assert in_domain(path, root) is inside


def test_scopes_limit_by_account_and_domain_and_hide_system_jobs_from_limited_readers() -> None:
    alice = JobOwner(account_id=1, domain_path="ROOT/eng")
    bob = JobOwner(account_id=2, domain_path="ROOT/sales")
    assert JobScope().allows(alice) and JobScope().allows(SYSTEM)
    assert JobScope(account_id=1).allows(alice) and not JobScope(account_id=1).allows(bob)
    assert JobScope(domain_path="ROOT/eng").allows(alice) and not JobScope(domain_path="ROOT/eng").allows(bob)
    assert not JobScope(account_id=1).allows(SYSTEM) and not JobScope(domain_path="ROOT").allows(SYSTEM)
