"""A PowerShell subset for the Hyper-V stand-in: tokenizer, parser and interpreter.

It understands what a careful extension needs and refuses the rest, as PowerShell would refuse it or with a
message naming the construct the stand-in does not implement (so a script that strays outside the subset
fails loudly instead of being half-understood):

* statements separated by newlines or `;`; `#` comments;
* `$var = <pipeline>` and pipelines `cmd -Param value ... | cmd ...`, the first element may be a variable or
  a literal;
* single-quoted strings with PowerShell's rules: the four typographic single quotes (U+2018..U+201B) are
  quotes too, and two quotes in a row stand for one; double-quoted strings only without `$` or backtick
  (their expansion is not implemented); integers with an optional KB/MB/GB/TB suffix; `$true`, `$false`,
  `$null`, `$_`; bare words as strings in argument mode; `-Param:value`; `a, b, c` lists.

Anything else — `$(...)`, `(...)`, `{...}`, `@`, `&`, `[type]`, redirections, backticks outside strings — is
a parse error, reported like PowerShell's ParserError. Commands come from a table of `Cmdlet`s with
declared parameters (name, type, switch or not, which one binds pipeline input); binding follows
PowerShell's rules closely enough for its error messages: unknown parameters, missing arguments, positional
arguments (refused: the stand-in has no positions), wrong types, null arguments.

Errors: a cmdlet raises `CmdletError`; with `$ErrorActionPreference = 'Stop'` (or `-ErrorAction Stop`) it
ends the script (exit 1), otherwise it is written and the script goes on; `-ErrorAction SilentlyContinue`
hides it. The exit code is 1 when the script was stopped, or when the last statement failed (as
`powershell -EncodedCommand` does), else 0. Errors go to stderr as CLIXML, as powershell.exe writes them
when run with -EncodedCommand over WinRM.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
_SIZE = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
_WORD_END = set(" \t\r\n;|,=") | set("(){}") | set(SINGLE_QUOTES) | set(DOUBLE_QUOTES)


class ParseError(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line = line
        self.column = column


class CmdletError(Exception):
    """A cmdlet's error record: message, PowerShell's category and fully qualified id."""

    def __init__(self, message: str, category: str = "InvalidOperation", error_id: str = "StandIn"):
        super().__init__(message)
        self.category = category
        self.error_id = error_id


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, number, variable, parameter, pipe, comma, assign, end
    value: Any
    line: int
    column: int
    colon: bool = False  # a parameter written -Name:value


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, line_start = 0, 1, 0
    while i < len(text):
        c, col = text[i], i - line_start + 1
        if c in " \t\r":
            i += 1
        elif c == "\n" or c == ";":
            tokens.append(Token("end", c, line, col))
            if c == "\n":
                line, line_start = line + 1, i + 1
            i += 1
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif c == "|":
            tokens.append(Token("pipe", c, line, col))
            i += 1
        elif c == ",":
            tokens.append(Token("comma", c, line, col))
            i += 1
        elif c == "=":
            tokens.append(Token("assign", c, line, col))
            i += 1
        elif c in SINGLE_QUOTES:
            value, i, newlines, line_start = _single_quoted(text, i, line, col, line_start)
            tokens.append(Token("string", value, line, col))
            line += newlines
        elif c in DOUBLE_QUOTES:
            j = i + 1
            while j < len(text) and text[j] not in DOUBLE_QUOTES:
                if text[j] in "$`":
                    raise ParseError("the stand-in does not implement expansion in double-quoted strings", line, col)
                j += 1
            if j >= len(text):
                raise ParseError('The string is missing the terminator: ".', line, col)
            tokens.append(Token("string", text[i + 1:j], line, col))
            i = j + 1
        elif c == "$":
            match = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*|_)").match(text, i)
            if not match:
                raise ParseError(f"the stand-in does not implement {text[i:i + 2]!r} (subexpressions, "
                                 "scoped or braced variables)", line, col)
            tokens.append(Token("variable", match.group(1), line, col))
            i = match.end()
        elif c == "-" and i + 1 < len(text) and text[i + 1].isalpha():
            match = re.compile(r"-([A-Za-z][A-Za-z0-9]*)(:?)").match(text, i)
            assert match is not None
            tokens.append(Token("parameter", match.group(1), line, col, colon=bool(match.group(2))))
            i = match.end()
        elif c in "(){}@&[]<>`":
            raise ParseError(f"the stand-in does not implement the {c!r} construct", line, col)
        else:
            j = i
            while j < len(text) and text[j] not in _WORD_END and text[j] not in "`$":
                j += 1
            if j < len(text) and text[j] in "`$":
                raise ParseError(f"the stand-in does not implement {text[j]!r} inside a bare word", line, col)
            word = text[i:j]
            number = re.fullmatch(r"(\d+)(kb|mb|gb|tb)?", word, re.IGNORECASE)
            if number:
                tokens.append(Token("number", int(number.group(1)) * _SIZE.get((number.group(2) or "").lower(), 1),
                                    line, col))
            else:
                tokens.append(Token("word", word, line, col))
            i = j
    tokens.append(Token("end", "", line, len(text) - line_start + 1))
    return tokens


def _single_quoted(text: str, start: int, line: int, col: int, line_start: int) -> tuple[str, int, int, int]:
    """A single-quoted literal from `start`: (value, index after it, newlines inside, new line start)."""
    out: list[str] = []
    i, newlines = start + 1, 0
    while i < len(text):
        c = text[i]
        if c in SINGLE_QUOTES:
            if i + 1 < len(text) and text[i + 1] in SINGLE_QUOTES:
                out.append(text[i + 1])
                i += 2
                continue
            return "".join(out), i + 1, newlines, line_start
        if c == "\n":
            newlines, line_start = newlines + 1, i + 1
        out.append(c)
        i += 1
    raise ParseError("The string is missing the terminator: '.", line, col)


# --- syntax tree ---------------------------------------------------------------------------------------

@dataclass
class Argument:
    parameter: str | None  # None: a positional argument
    values: list[Token] | None  # None: a switch written without value
    token: Token


@dataclass
class Command:
    name: str
    arguments: list[Argument]
    token: Token


@dataclass
class Statement:
    assign_to: str | None
    head: Token | None  # a variable or literal at the start of the pipeline
    commands: list[Command]
    line: int
    text: str


def parse(text: str) -> list[Statement]:
    tokens = tokenize(text)
    lines = text.split("\n")
    statements: list[Statement] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind == "end":
            i += 1
            continue
        start = tokens[i]
        assign_to = None
        if start.kind == "variable" and tokens[i + 1].kind == "assign":
            assign_to, i = start.value, i + 2
        head = None
        if tokens[i].kind in ("variable", "string", "number"):
            head, i = tokens[i], i + 1
        commands: list[Command] = []
        expect_command = head is None
        while tokens[i].kind != "end":
            token = tokens[i]
            if token.kind == "pipe":
                if expect_command:
                    raise ParseError("An empty pipe element is not allowed.", token.line, token.column)
                expect_command, i = True, i + 1
                continue
            if not expect_command:
                raise ParseError(f"Unexpected token '{token.value}' in expression or statement.",
                                 token.line, token.column)
            if token.kind != "word":
                raise ParseError(f"Expressions are only allowed as the first element of a pipeline "
                                 f"(found {token.value!r}).", token.line, token.column)
            command, i = _command(tokens, i)
            commands.append(command)
            expect_command = False
        if expect_command and (commands or head is None):
            raise ParseError("An empty pipe element is not allowed.", tokens[i].line, tokens[i].column)
        statements.append(Statement(assign_to, head, commands, start.line, lines[start.line - 1].rstrip("\r")))
    return statements


def _command(tokens: list[Token], i: int) -> tuple[Command, int]:
    name_token = tokens[i]
    arguments: list[Argument] = []
    i += 1
    while tokens[i].kind not in ("end", "pipe"):
        token = tokens[i]
        if token.kind == "parameter":
            if token.colon:
                values, i = _values(tokens, i + 1)
                arguments.append(Argument(token.value, values, token))
            else:
                arguments.append(Argument(token.value, None, token))
                i += 1
                if tokens[i].kind not in ("end", "pipe", "parameter"):
                    values, i = _values(tokens, i)
                    arguments[-1].values = values
        elif token.kind in ("word", "string", "number", "variable"):
            values, i = _values(tokens, i)
            arguments.append(Argument(None, values, token))
        else:
            raise ParseError(f"Unexpected token '{token.value}' in expression or statement.", token.line, token.column)
    return Command(name_token.value, arguments, name_token), i


def _values(tokens: list[Token], i: int) -> tuple[list[Token], int]:
    values: list[Token] = []
    while True:
        token = tokens[i]
        if token.kind not in ("word", "string", "number", "variable"):
            raise ParseError("Missing argument in parameter list.", token.line, token.column)
        values.append(token)
        i += 1
        if tokens[i].kind != "comma":
            return values, i
        i += 1


# --- binding and running --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"  # string, int, guid, switch, enum:<A|B>, object:<Kind>, any
    many: bool = False
    pipeline: bool = False


@dataclass(frozen=True)
class Cmdlet:
    name: str
    params: tuple[Param, ...]
    run: Callable[[dict[str, Any], list[Any] | None], list[Any]]
    confirm_impact_high: bool = False  # prompts unless -Confirm:$false or -Force


COMMON = (Param("ErrorAction", "enum:Stop|Continue|SilentlyContinue|Ignore"), Param("Confirm", "switch"),
          Param("WhatIf", "switch"), Param("Verbose", "switch"))


class _Stop(Exception):
    pass


@dataclass
class Result:
    exit_code: int
    stdout: str
    errors: list[str] = field(default_factory=list)


def type_name(value: Any) -> str:
    return getattr(value, "ps_type", type(value).__name__)


def _convert(value: Any, param: Param, cmdlet: str) -> Any:
    kind = param.type
    if value is None:
        if kind.startswith("object:") or kind in ("guid", "int"):
            raise CmdletError(f"Cannot validate argument on parameter '{param.name}'. The argument is null or empty. "
                              "Provide an argument that is not null or empty, and then try the command again.",
                              "InvalidData", f"ParameterArgumentValidationError,{cmdlet}")
        return None
    fail = CmdletError(f"Cannot bind parameter '{param.name}'. Cannot convert value \"{value}\" to type "
                       f"\"{_dotnet(kind)}\".", "InvalidArgument", f"CannotConvertArgumentNoMessage,{cmdlet}")
    if kind == "string":
        if isinstance(value, bool):
            return "True" if value else "False"
        return str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise fail
        try:
            return int(str(value).strip())
        except ValueError:
            raise fail from None
    if kind == "guid":
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise fail from None
    if kind.startswith("enum:"):
        options = kind[5:].split("|")
        match = [option for option in options if option.lower() == str(value).lower()]
        if not match:
            raise CmdletError(f"Cannot bind parameter '{param.name}'. Cannot convert value \"{value}\" to type "
                              f"\"{_dotnet(kind)}\". Specify one of the following enumerator names and try again: "
                              f"{', '.join(options)}", "InvalidArgument", f"CannotConvertArgumentNoMessage,{cmdlet}")
        return match[0]
    if kind.startswith("object:"):
        wanted = kind[7:].split("|")
        if type_name(value) not in wanted:
            raise CmdletError(f"Cannot bind parameter '{param.name}'. Cannot convert the \"{value}\" value of type "
                              f"\"{type_name(value)}\" to type \"{wanted[0]}\".", "InvalidArgument",
                              f"CannotConvertArgument,{cmdlet}")
        return value
    return value


def _dotnet(kind: str) -> str:
    return {"int": "System.Int64", "guid": "System.Guid", "string": "System.String"}.get(kind, kind)


class Interpreter:
    """Runs scripts against `cmdlets`; `before_command` is called with each command name before it runs (the
    stand-in's hook to delay or fail a command)."""

    def __init__(self, cmdlets: Mapping[str, Cmdlet], render: Callable[[Any], str],
                 before_command: Callable[[str], None] | None = None):
        self.cmdlets = {name.lower(): cmdlet for name, cmdlet in cmdlets.items()}
        self.render = render
        self.before_command = before_command or (lambda name: None)

    def run(self, script: str) -> Result:
        try:
            statements = parse(script)
        except ParseError as exc:
            line = script.split("\n")[exc.line - 1] if script else ""
            return Result(1, "", [f"At line:{exc.line} char:{exc.column}\n+ {line}\n{exc}\n"
                                  "    + CategoryInfo          : ParserError: (:) [], "
                                  "ParentContainsErrorRecordException\n"
                                  "    + FullyQualifiedErrorId : StandInParseError\n"])
        variables: dict[str, Any] = {"true": True, "false": False, "null": None, "ErrorActionPreference": "Continue"}
        out: list[str] = []
        errors: list[str] = []
        last_failed = False
        for statement in statements:
            try:
                values, last_failed = self._statement(statement, variables, errors)
            except _Stop:
                return Result(1, "".join(out), errors)
            if statement.assign_to is not None:
                variables[statement.assign_to] = None if not values else values[0] if len(values) == 1 else values
            else:
                out.extend(self.render(value) + "\r\n" for value in values)
        return Result(1 if last_failed else 0, "".join(out), errors)

    def _statement(self, statement: Statement, variables: dict[str, Any], errors: list[str]) -> tuple[list[Any], bool]:
        flowing: list[Any] | None = None
        if statement.head is not None:
            flowing = _flatten([self._value(statement.head, variables)])
        failed = False
        for command in statement.commands:
            try:
                flowing, preference = self._invoke(command, flowing, variables)
            except CmdletError as error:
                preference = self._preference(command, variables)
                if preference in ("SilentlyContinue", "Ignore"):
                    flowing, failed = [], True
                    continue
                errors.append(_record(command.name, error, statement))
                if preference == "Stop":
                    raise _Stop from error
                flowing, failed = [], True
        return flowing or [], failed

    def _preference(self, command: Command, variables: dict[str, Any]) -> str:
        for argument in command.arguments:
            if argument.parameter and argument.parameter.lower() == "erroraction" and argument.values:
                return str(argument.values[0].value)
        return str(variables.get("ErrorActionPreference") or "Continue")

    def _value(self, token: Token, variables: dict[str, Any]) -> Any:
        if token.kind == "variable":
            if token.value not in variables:
                return None  # PowerShell: an unset variable is $null
            return variables[token.value]
        return token.value

    def _invoke(self, command: Command, flowing: list[Any] | None,
                variables: dict[str, Any]) -> tuple[list[Any], str]:
        cmdlet = self.cmdlets.get(command.name.lower())
        if cmdlet is None:
            raise CmdletError(f"The term '{command.name}' is not recognized as the name of a cmdlet, function, script "
                              "file, or operable program.", "ObjectNotFound", "CommandNotFoundException")
        params = {p.name.lower(): p for p in (*cmdlet.params, *COMMON)}
        bound: dict[str, Any] = {}
        for argument in command.arguments:
            if argument.parameter is None:
                shown = argument.values[0].value if argument.values else ""
                raise CmdletError(f"A positional parameter cannot be found that accepts argument '{shown}'.",
                                  "InvalidArgument", f"PositionalParameterNotFound,{cmdlet.name}")
            param = params.get(argument.parameter.lower())
            if param is None:
                raise CmdletError(f"A parameter cannot be found that matches parameter name '{argument.parameter}'.",
                                  "InvalidArgument", f"NamedParameterNotFound,{cmdlet.name}")
            if param.name in bound:
                raise CmdletError(f"Cannot bind parameter because parameter '{param.name}' is specified more than "
                                  "once.", "InvalidArgument", f"ParameterAlreadyBound,{cmdlet.name}")
            if param.type == "switch":
                if argument.values is not None and not argument.token.colon:
                    # `-Switch value`: the value becomes a positional argument
                    raise CmdletError("A positional parameter cannot be found that accepts argument "
                                      f"'{argument.values[0].value}'.", "InvalidArgument",
                                      f"PositionalParameterNotFound,{cmdlet.name}")
                bound[param.name] = True if argument.values is None else bool(
                    self._value(argument.values[0], variables))
                continue
            if argument.values is None:
                raise CmdletError(f"Missing an argument for parameter '{param.name}'. Specify a parameter of type "
                                  f"'{_dotnet(param.type)}' and try again.", "InvalidArgument",
                                  f"MissingArgument,{cmdlet.name}")
            raw = _flatten([self._value(token, variables) for token in argument.values])
            if not param.many and len(raw) > 1:
                raise CmdletError(f"Cannot convert 'System.Object[]' to the type '{_dotnet(param.type)}' required by "
                                  f"parameter '{param.name}'.", "InvalidArgument",
                                  f"CannotConvertArgument,{cmdlet.name}")
            if not raw:
                raw = [None]
            converted = [_convert(value, param, cmdlet.name) for value in raw]
            bound[param.name] = converted if param.many else converted[0]
        # ShouldProcess asks per item: an empty pipeline asks nothing.
        asks = flowing is None or bool(flowing)
        if cmdlet.confirm_impact_high and asks and bound.get("Confirm", True) and not bound.get("Force"):
            raise CmdletError("PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
                              "InvalidOperation", f"HostFunctionNotImplemented,{cmdlet.name}")
        if flowing is not None:
            target = next((p for p in cmdlet.params if p.pipeline), None)
            if target is None or target.name in bound:
                if flowing:
                    raise CmdletError("The input object cannot be bound to any parameters for the command either "
                                      "because the command does not take pipeline input or the input and its "
                                      "properties do not match any of the parameters that take pipeline input.",
                                      "InvalidArgument", f"InputObjectNotBound,{cmdlet.name}")
            else:
                flowing = [_convert(value, target, cmdlet.name) for value in flowing]
        preference = str(bound.get("ErrorAction") or variables.get("ErrorActionPreference") or "Continue")
        self.before_command(cmdlet.name)
        return cmdlet.run(bound, flowing), preference


def _flatten(values: Sequence[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def _record(name: str, error: CmdletError, statement: Statement) -> str:
    return (f"{name} : {error}\nAt line:{statement.line} char:1\n+ {statement.text}\n"
            f"    + CategoryInfo          : {error.category}: (:) [{name}], {error.error_id.split(',')[0]}\n"
            f"    + FullyQualifiedErrorId : {error.error_id}\n")


def clixml(errors: Sequence[str]) -> bytes:
    """Error records as powershell.exe writes its error stream under -EncodedCommand: CLIXML, one <S S="Error">
    element per line, CR and LF written as _x000D__x000A_."""
    if not errors:
        return b""
    parts = []
    for record in errors:
        for line in record.rstrip("\n").split("\n"):
            text = (line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("_x", "_x005F_x"))
            parts.append(f'<S S="Error">{text}_x000D__x000A_</S>')
    return ("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
            + "".join(parts) + "</Objs>").encode("utf-8")
