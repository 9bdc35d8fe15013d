"""The one place where domain errors become CloudStack error codes."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.errors import (
    AuthenticationFailed,
    Conflict,
    ExtensionFailed,
    InsufficientCapacity,
    InvalidParameter,
    LimitExceeded,
    MethodNotAllowed,
    NotFound,
    OperationFailed,
    PermissionDenied,
    SwitchboardError,
    TooManyRequests,
    UnsupportedCommand,
)


@dataclass(frozen=True)
class WireError:
    errorcode: int  # also the HTTP status
    cserrorcode: int
    errortext: str
    uuids: tuple[str, ...] = ()

    def body(self) -> dict[str, object]:
        return {
            "uuidList": list(self.uuids),
            "errorcode": self.errorcode,
            "cserrorcode": self.cserrorcode,
            "errortext": self.errortext,
        }


# (errorcode, cserrorcode) per error kind, the first that matches; cserrorcodes follow CloudStack's
# CSExceptionErrorCode table.
_CODES: list[tuple[type[SwitchboardError], int, int]] = [
    (InsufficientCapacity, 533, 4325),
    (AuthenticationFailed, 401, 9999),
    (InvalidParameter, 431, 4350),
    (NotFound, 431, 4350),
    (Conflict, 431, 4350),
    (UnsupportedCommand, 432, 9999),
    (PermissionDenied, 531, 4365),
    (TooManyRequests, 429, 4545),  # API_LIMIT_EXCEED, RequestLimitException
    (MethodNotAllowed, 405, 9999),
    (LimitExceeded, 535, 4370),  # RESOURCE_ALLOCATION_ERROR, ResourceAllocationException
    (ExtensionFailed, 530, 4250),
    (OperationFailed, 530, 4250),
]


def to_wire(error: SwitchboardError) -> WireError:
    for kind, code, cscode in _CODES:
        if isinstance(error, kind):
            return WireError(code, cscode, error.message, tuple(error.uuids))
    return WireError(530, 4250, error.message, tuple(error.uuids))


def internal_error() -> WireError:
    return WireError(530, 4250, "Internal error executing command, please contact your system administrator")
