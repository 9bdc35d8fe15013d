"""CloudStack's password policy: length, character classes, the username, a regular expression.

The rules are the `password.policy.*` settings (global, or per domain: the user's domain and its ancestors,
nearest first) and the texts are CloudStack's (PasswordPolicyImpl). They apply whenever a password is set:
createAccount, createUser, updateUser and `switchboard admin reset-password`.
"""

from __future__ import annotations

import re
import secrets
import string

from sqlalchemy.orm import Session

from switchboard import configuration
from switchboard.errors import InvalidParameter

__all__ = ["check_password", "generate_password"]

_MINIMA = (
    ("password.policy.minimum.special.characters", "special characters", "special"),
    ("password.policy.minimum.uppercase.letters", "upper case letters", "upper"),
    ("password.policy.minimum.lowercase.letters", "lower case letters", "lower"),
    ("password.policy.minimum.digits", "digits", "digit"),
)


def _classes(password: str) -> dict[str, int]:
    """Characters by class as Java's Character tests count them (a letter is neither upper nor lower case
    when its script has no case; it then counts nowhere)."""
    counts = {"special": 0, "upper": 0, "lower": 0, "digit": 0}
    for character in password:
        if not character.isalnum():
            counts["special"] += 1
        elif character.isupper():
            counts["upper"] += 1
        elif character.islower():
            counts["lower"] += 1
        elif character.isdigit():
            counts["digit"] += 1
    return counts


def check_password(session: Session, password: str, *, username: str, domain_path: str) -> None:
    """Raise InvalidParameter(parameter="password") unless `password` complies with the policy that applies
    in the domain at `domain_path` (stored form). An empty password is always refused."""

    def value(name: str) -> str:
        return configuration.effective_value(session, name, domain_path=domain_path)

    def refuse(text: str) -> InvalidParameter:
        return InvalidParameter(text, parameter="password")

    if not password:
        raise refuse("Password cannot be empty or blank.")
    counts = _classes(password)
    for name, what, kind in _MINIMA:
        least = int(value(name))
        if counts[kind] < least:
            raise refuse(f"User password should contain at least [{least}] {what}.")
    least = int(value("password.policy.minimum.length"))
    if len(password) < least:
        raise refuse(f"User password should contain at least [{least}] characters.")
    if value("password.policy.allowPasswordToContainUsername") != "true" and username.lower() in password.lower():
        raise refuse("User password should not contain their username.")
    pattern = value("password.policy.regex")
    if pattern and re.fullmatch(pattern, password) is None:
        raise refuse("User password does not match with password policy regex.")


def generate_password(length: int = 20) -> str:
    """A random password with letters of both cases, digits and special characters (a few of each), so that
    any usual policy takes it."""
    alphabet = string.ascii_letters + string.digits
    picks = [secrets.choice(string.ascii_uppercase) for _ in range(3)]
    picks += [secrets.choice(string.ascii_lowercase) for _ in range(3)]
    picks += [secrets.choice(string.digits) for _ in range(3)]
    picks += [secrets.choice("-_.!@%+=") for _ in range(3)]
    picks += [secrets.choice(alphabet) for _ in range(max(0, length - len(picks)))]
    secrets.SystemRandom().shuffle(picks)
    return "".join(picks)
