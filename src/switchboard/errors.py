"""The domain's error tree. No wire codes here: the API maps these once (api/errors.py).

    SwitchboardError
     ├── NotFound            the named object does not exist (or the caller may not see it)
     ├── InvalidParameter    a value is malformed or breaks a rule; names the parameter
     ├── PermissionDenied    the caller's role or ownership does not allow the operation
     ├── AuthenticationFailed  bad signature, expired request, bad password, unknown key
     ├── Conflict            the operation clashes with the current state (duplicate name, in use)
     ├── UnsupportedCommand  no such API command
     ├── ExtensionFailed     an extension executable failed, timed out or printed garbage
     ├── LimitExceeded       the request would take an account or domain past a resource limit
     ├── TooManyRequests     the caller must slow down (failed logins); says for how long
     ├── MethodNotAllowed    the command must come with another HTTP method (login: POST)
     └── OperationFailed     anything else that went wrong while carrying out a valid request
          └── InsufficientCapacity  no host, address, ... is free to carry it out (CloudStack's 533)
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose. `str()` is fit for the API caller."""

    def __init__(self, message: str, *, uuids: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.uuids: list[str] = uuids or []


class NotFound(SwitchboardError):
    pass


class InvalidParameter(SwitchboardError):
    def __init__(self, message: str, *, parameter: str | None = None, uuids: list[str] | None = None) -> None:
        super().__init__(message, uuids=uuids)
        self.parameter = parameter


class PermissionDenied(SwitchboardError):
    pass


class AuthenticationFailed(SwitchboardError):
    pass


class Conflict(SwitchboardError):
    pass


class UnsupportedCommand(SwitchboardError):
    pass


class ExtensionFailed(SwitchboardError):
    pass


class OperationFailed(SwitchboardError):
    pass


class LimitExceeded(SwitchboardError):
    pass


class TooManyRequests(SwitchboardError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MethodNotAllowed(SwitchboardError):
    pass


class InsufficientCapacity(OperationFailed):
    """Nothing can take what was asked for: no suitable host, no free address (CloudStack's
    InsufficientCapacityException family)."""
