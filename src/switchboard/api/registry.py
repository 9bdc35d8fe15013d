"""The declarative command registry: every API command declares its parameters, allowed role types and
the shape of its response.

A command module registers its handlers with `@api_command(...)`; the dispatcher validates input from the
declarations, checks the caller's role type, and calls the handler with a `Call`. `listApis` serves the
same declarations, so what is documented is exactly what is enforced; the response shapes
(`switchboard.api.shapes`) are held to what the views return by the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchboard.api.params import Param, ParamType
from switchboard.api.shapes import Shape
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
    # The fields of the object the command answers with (for an async command: its job's result).
    response: Shape | None = None
    is_async: bool = False
    requires_auth: bool = True
    since: str | None = None
    related: tuple[str, ...] = field(default_factory=tuple)
    # Quick commands run on the event loop instead of a worker thread: the thread hop costs more than
    # a short read does. Only for commands that neither block (password hashing, long queries) nor write.
    quick: bool = False

    # The lower-cased names of the parameters (computed once: the dispatcher looks names up on every request).
    param_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_keys", frozenset(param.key for param in self.params))

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
    response: Shape | None = None,
    response_object: str | None = None,
    is_async: bool = False,
    is_list: bool = False,
    requires_auth: bool = True,
    since: str | None = None,
    quick: bool | None = None,
    registry: CommandRegistry = REGISTRY,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as API command `name`. `is_list` adds keyword/page/pagesize.

    `response` is the shape of the object the command answers with (an async command: what its job
    returns); the object name defaults to the shape's. `quick` defaults to true for read-only list/query
    commands (see `Command.quick`)."""
    if response_object is None and response is not None and response.name != "success":
        response_object = response.name
    own = {param.name for param in params}
    # A list command may declare a standard parameter itself (its own description wins).
    declared = tuple(params) + (tuple(p for p in LIST_PARAMS if p.name not in own) if is_list else ())
    if len(own) != len(tuple(params)):
        raise ValueError(f"{name} declares a parameter twice")

    def register(handler: Handler) -> Handler:
        registry.add(
            Command(
                name=name,
                handler=handler,
                params=declared,
                roles=roles,
                description=description,
                response_object=response_object,
                response=response,
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
