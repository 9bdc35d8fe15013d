"""The ASGI application that serves /client/api (GET and POST, query or form).

GET requests to /client/api are answered by a small ASGI endpoint that sits in front of Starlette: the API's
hottest path (signed list commands) then skips Starlette's middleware stack, router and Request/Response
objects, which together cost more CPU than the command itself. Everything else — POST (form parsing, urlencoded
and multipart), other methods, other routes and the lifespan — goes through the Starlette application, which
serves /client/api with exactly the same semantics.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from switchboard.api import limits
from switchboard.api.call import RequestMeta
from switchboard.api.dispatcher import Dispatcher, Reply

SESSION_COOKIE = "sessionkey"
API_PATHS = frozenset({"/client/api", "/client/api/"})
MEDIA_TYPE = "application/json;charset=UTF-8"
_CONTENT_TYPE = (b"content-type", MEDIA_TYPE.encode("latin-1"))

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _body(reply: Reply) -> bytes:
    """The reply as compact UTF-8 JSON. orjson writes it several times faster than json.dumps (a few per cent
    of a short list request); what orjson refuses (integers beyond 64 bits) json.dumps still writes."""
    try:
        return orjson.dumps(reply.body, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def query_pairs(query_string: bytes) -> dict[str, str]:
    """The query's parameters exactly as `dict(parse_qsl(query_string.decode("latin-1"),
    keep_blank_values=True))` (Starlette's reading: the last of repeated names wins), in about half the
    time for the usual all-ASCII query: parse_qsl's per-value regex split is only needed for non-ASCII."""
    text = query_string.decode("latin-1")
    if not text.isascii():
        return dict(parse_qsl(text, keep_blank_values=True))
    pairs: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs[_unquote_plus(name)] = _unquote_plus(value)
    return pairs


def _unquote_plus(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote_to_bytes(text).decode("utf-8", "replace") if "%" in text else text


def _cookie_headers(reply: Reply, *, secure: bool) -> list[tuple[bytes, bytes]]:
    """Set-Cookie headers for the reply's cookies (a None value deletes the cookie). Formatted by Starlette's
    Response so that both paths write identical headers."""
    holder = Response()
    holder.raw_headers = []
    for name, value in reply.set_cookies.items():
        if value is None:
            holder.delete_cookie(name, path="/")
        else:
            # The session key cookie must be readable by the UI's JS (CloudStack's does the same), the
            # JSESSIONID-like cookie is HttpOnly; the identity work decides which is which.
            holder.set_cookie(name, value, path="/", httponly=name != SESSION_COOKIE, samesite="lax", secure=secure)
    return holder.raw_headers


def _response_headers(reply: Reply, body: bytes, *, secure: bool) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-length", str(len(body)).encode("latin-1")), _CONTENT_TYPE]
    headers.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers.items())
    if reply.set_cookies:
        headers.extend(_cookie_headers(reply, secure=secure))
    return headers


async def _run(dispatcher: Dispatcher, pairs: dict[str, str], meta: RequestMeta) -> Reply:
    if dispatcher.is_quick(pairs):
        return dispatcher.dispatch(pairs, meta)  # read-only: cheaper on the loop than a thread hop
    return await run_in_threadpool(dispatcher.dispatch, pairs, meta)


def api_routes(dispatcher: Dispatcher) -> list[BaseRoute]:
    """The Starlette routes for /client/api (used for POST and anything the lean endpoint passes on)."""

    async def client_api(request: Request) -> Response:
        secure = request.url.scheme == "https"
        try:
            limits.check_query(request.scope["query_string"])
            pairs: dict[str, str] = dict(request.query_params)
            if request.method == "POST":
                pairs.update(await _form(request))
        except limits.RequestTooLarge as refused:
            return _response(limits.error_reply(limits.response_name(request.scope["query_string"]), refused.status,
                                                refused.text), secure=secure)
        except _MalformedForm as malformed:
            return _response(limits.error_reply(pairs.get("command") or "error", 431, malformed.text), secure=secure)
        meta = RequestMeta(
            client_ip=request.client.host if request.client else "",
            cookies=dict(request.cookies),
            headers={k.lower(): v for k, v in request.headers.items()},
            method=request.method,
        )
        return _response(await _run(dispatcher, pairs, meta), secure=secure)

    return [Route("/client/api", client_api, methods=["GET", "POST"]),
            Route("/client/api/", client_api, methods=["GET", "POST"])]


def _response(reply: Reply, *, secure: bool) -> Response:
    body = _body(reply)
    response = Response(body, status_code=reply.status)
    response.raw_headers = _response_headers(reply, body, secure=secure)
    return response


class _MalformedForm(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


async def _form(request: Request) -> dict[str, str]:
    """The POST body's fields (urlencoded or multipart; file parts are ignored), read within the limits of
    `switchboard.api.limits`. Raises RequestTooLarge, or _MalformedForm for a body that does not parse."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.MAX_BODY_BYTES:
        raise limits.RequestTooLarge(413, f"The request body is larger than {limits.MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.MAX_BODY_BYTES:
            raise limits.RequestTooLarge(413, f"The request body is larger than {limits.MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)

    async def replay() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    # A request of its own, outside the app (no "app" in its scope): parse errors come as MultiPartException.
    scope = {key: value for key, value in request.scope.items() if key not in ("app", "router", "endpoint")}
    try:
        form = await Request(scope, replay).form(max_fields=limits.MAX_FIELDS, max_part_size=limits.MAX_FIELD_BYTES)
    except MultiPartException as exc:
        text = exc.message
        if text.startswith(("Too many", "Field exceeded", "Part exceeded")):
            raise limits.RequestTooLarge(413, f"The request body is over a limit: {text}") from None
        raise _MalformedForm(f"Unable to read the request body: {text}") from None
    return {key: value for key, value in form.items() if isinstance(value, str)}


class ClientApi:
    """ASGI app: GET /client/api handled directly, everything else passed to `fallback` (Starlette).

    Reads the request exactly as Starlette's Request would: query parameters by `parse_qsl` over the
    latin-1 query string (the last of repeated names wins), headers latin-1 decoded (the last of repeated
    names wins), cookies from every Cookie header, the client's address from the ASGI scope.
    """

    def __init__(self, dispatcher: Dispatcher, fallback: Starlette) -> None:
        self.dispatcher = dispatcher
        self.fallback = fallback

    def __getattr__(self, name: str) -> Any:
        # Starlette's attributes (state, routes, url_path_for …) stay reachable through this wrapper.
        return getattr(self.fallback, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in API_PATHS:
            await self.fallback(scope, receive, send)
            return
        try:
            limits.check_query(scope["query_string"])
        except limits.RequestTooLarge as refused:
            await _send(send, limits.error_reply(limits.response_name(scope["query_string"]), refused.status,
                                                 refused.text), secure=scope.get("scheme", "http") == "https")
            return
        pairs = query_pairs(scope["query_string"])
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = value
            if name == "cookie":
                cookies.update(cookie_parser(value))
        client = scope.get("client")
        meta = RequestMeta(client_ip=client[0] if client else "", cookies=cookies, headers=headers, method="GET")
        await _send(send, await _run(self.dispatcher, pairs, meta), secure=scope.get("scheme", "http") == "https")


async def _send(send: Send, reply: Reply, *, secure: bool) -> None:
    body = _body(reply)
    await send({"type": "http.response.start", "status": reply.status,
                "headers": _response_headers(reply, body, secure=secure)})
    await send({"type": "http.response.body", "body": body})


def create_app(dispatcher: Dispatcher, extra_routes: list[BaseRoute] | None = None, **kwargs: Any) -> ClientApi:
    """The server's ASGI app: the lean GET /client/api endpoint in front of a Starlette app serving the rest."""
    return ClientApi(dispatcher, Starlette(routes=[*api_routes(dispatcher), *(extra_routes or [])], **kwargs))
