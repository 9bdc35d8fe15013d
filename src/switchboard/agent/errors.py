"""The agent's error tree. Domain errors carry no HTTP codes; `api/errors.py` maps them once.

    AgentError
    ├── InvalidRequest     the caller sent something unusable (bad name, bad payload)
    ├── NotFound           no such VM or snapshot
    ├── Conflict           the request contradicts the VM's recorded spec or state
    ├── Unsupported        the host's VMM driver lacks the capability
    └── OperationFailed    a VMM, storage or network backend failed (its message is kept)

    BackendError           raised below the service by a backend (StorageError, NetworkError, VmmError)
                           or a host command (hostcmd.CommandFailed); `runtime.backend_errors` turns it
                           into OperationFailed, keeping the message
"""

from __future__ import annotations

__all__ = ["AgentError", "BackendError", "Conflict", "InvalidRequest", "NotFound", "OperationFailed", "Unsupported"]


class AgentError(Exception):
    """Base of every error the agent reports to its caller. `str()` is the message for the caller."""


class InvalidRequest(AgentError):
    pass


class NotFound(AgentError):
    pass


class Conflict(AgentError):
    pass


class Unsupported(AgentError):
    pass


class OperationFailed(AgentError):
    pass


class BackendError(Exception):
    """A VMM, storage or network backend, or a host command, failed. `str()` is fit for the API caller."""
