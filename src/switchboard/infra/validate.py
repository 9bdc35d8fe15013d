"""Checks of address-like parameters, each failing with InvalidParameter that names the parameter."""

from __future__ import annotations

import ipaddress

from switchboard.errors import InvalidParameter

__all__ = ["cidr", "ip_any", "ip_range", "ipv4", "netmask", "same_subnet"]


def ipv4(value: str | None, *, parameter: str) -> str | None:
    """`value` as a normalised IPv4 address (None passes through)."""
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise InvalidParameter(f"Invalid IPv4 address {value} for parameter {parameter}", parameter=parameter) from None


def ip_any(value: str | None, *, parameter: str) -> str | None:
    """`value` as a normalised IPv4 or IPv6 address (None passes through)."""
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise InvalidParameter(f"Invalid IP address {value} for parameter {parameter}", parameter=parameter) from None


def netmask(value: str | None, *, parameter: str = "netmask") -> str | None:
    """A dotted IPv4 netmask such as 255.255.255.0 (None passes through)."""
    if value is None or value == "":
        return None
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{value.strip()}")
    except ValueError:
        raise InvalidParameter(f"Invalid netmask {value} for parameter {parameter}", parameter=parameter) from None
    return value.strip()


def cidr(value: str | None, *, parameter: str) -> str | None:
    """A CIDR such as 10.1.1.0/24 (None passes through)."""
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise InvalidParameter(f"Invalid CIDR {value} for parameter {parameter}", parameter=parameter) from None


def same_subnet(gateway: str, mask: str, *addresses: tuple[str, str]) -> ipaddress.IPv4Network:
    """The subnet of `gateway`/`mask`; each (address, parameter) must lie inside it."""
    network = ipaddress.IPv4Network(f"{gateway}/{mask}", strict=False)
    for address, parameter in addresses:
        if ipaddress.IPv4Address(address) not in network:
            raise InvalidParameter(
                f"{parameter} {address} is not in the subnet {network} of gateway {gateway}", parameter=parameter
            )
    return network


def ip_range(start: str, end: str, *, start_parameter: str = "startip", end_parameter: str = "endip") -> None:
    """Start must not be above end."""
    if ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
        raise InvalidParameter(
            f"{start_parameter} {start} is greater than {end_parameter} {end}", parameter=start_parameter
        )
