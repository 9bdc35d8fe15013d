"""The declarative command registry: every API command declares its parameters and allowed role types.

A command module registers its handlers with `@api_command(...)`; the dispatcher validates input from the
declarations, checks the caller's role type, and calls the handler with a `Call`. `listApis` serves the
same declarations, so what is documented is exactly what is enforced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchboard.api.params import Param, ParamType
from switchboard.roles import ADMIN_ONLY, RoleType

if TYPE_CHECKING:
    from switchboard.api.call import Call

Handler = Callable[["Call"], Any]

# Every list command accepts these, as CloudStack's BaseListCmd does.
LIST_PARAMS = (
    Param("keyword", ParamType.STRING, description="List by keyword"),
    Param("page", ParamType.INTEGER, description="The page number of the list, starting at 1"),
    Param("pagesize", ParamType.INTEGER, description="The number of items per page"),
    Param("listall", ParamType.BOOLEAN, description="List all resources the caller may see"),
)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    params: tuple[Param, ...]
    roles: frozenset[RoleType]
    description: str
    response_object: str | None = None  # e.g. "zone": the object name in responses
    is_async: bool = False
    requires_auth: bool = True
    since: str | None = None
    related: tuple[str, ...] = field(default_factory=tuple)
    # Quick commands run on the event loop instead of a worker thread: the thread hop costs more than
    # a short read does. Only for commands that neither block (password hashing, long queries) nor write.
    quick: bool = False

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(self, command: Command) -> None:
        if command.name.lower() in self._commands:
            raise ValueError(f"API command {command.name} registered twice")
        self._commands[command.name.lower()] = command

    def get(self, name: str) -> Command | None:
        """Look a command up by name; CloudStack command names are matched case-insensitively here."""
        return self._commands.get(name.lower())

    def __iter__(self) -> Any:
        return iter(sorted(self._commands.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self._commands)


REGISTRY = CommandRegistry()


def api_command(
    name: str,
    *,
    params: Iterable[Param] = (),
    roles: frozenset[RoleType] = ADMIN_ONLY,
    description: str,
    response_object: str | None = None,
    is_async: bool = False,
    is_list: bool = False,
    requires_auth: bool = True,
    since: str | None = None,
    quick: bool | None = None,
    registry: CommandRegistry = REGISTRY,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as API command `name`. `is_list` adds keyword/page/pagesize.

    `quick` defaults to true for read-only list/query commands (see `Command.quick`)."""
    declared = tuple(params) + (LIST_PARAMS if is_list else ())

    def register(handler: Handler) -> Handler:
        registry.add(
            Command(
                name=name,
                handler=handler,
                params=declared,
                roles=roles,
                description=description,
                response_object=response_object,
                is_async=is_async,
                requires_auth=requires_auth,
                since=since,
                quick=_reads_only(name) if quick is None else quick,
            )
        )
        return handler

    return register


def _reads_only(name: str) -> bool:
    return name.startswith(("list", "query"))
