"""Numeric tunables read from environment variables, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["NumberVariable", "numbers_from_env"]

# (settings field, environment variable, int or float)
NumberVariable = tuple[str, str, type[int] | type[float]]


def numbers_from_env(source: Mapping[str, str], variables: Iterable[NumberVariable]) -> dict[str, int | float]:
    """The values of those `variables` that are set (and not blank) in `source`, keyed by field name.

    Raises ValueError naming the variable when a value is not a valid number of its kind."""
    values: dict[str, int | float] = {}
    for field_name, variable, kind in variables:
        text = source.get(variable, "").strip()
        if not text:
            continue
        try:
            values[field_name] = kind(text)
        except ValueError:
            raise ValueError(f"{variable}={text!r} is not a valid {kind.__name__}") from None
    return values
