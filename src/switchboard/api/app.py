"""The Starlette application that serves /client/api (GET and POST, query or form)."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from switchboard.api.call import RequestMeta
from switchboard.api.dispatcher import Dispatcher

SESSION_COOKIE = "sessionkey"


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type="application/json;charset=UTF-8",
    )


def api_routes(dispatcher: Dispatcher) -> list[BaseRoute]:
    async def client_api(request: Request) -> Response:
        pairs: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            pairs.update({key: value for key, value in form.items() if isinstance(value, str)})
        meta = RequestMeta(
            client_ip=request.client.host if request.client else "",
            cookies=dict(request.cookies),
            headers={k.lower(): v for k, v in request.headers.items()},
            method=request.method,
        )
        if dispatcher.is_quick(pairs):
            reply = dispatcher.dispatch(pairs, meta)
        else:
            reply = await run_in_threadpool(dispatcher.dispatch, pairs, meta)
        response = _json(reply.body, reply.status)
        secure = request.url.scheme == "https"
        for name, value in reply.set_cookies.items():
            if value is None:
                response.delete_cookie(name, path="/")
            else:
                # The session key cookie must be readable by the UI's JS (CloudStack's does the same), the
                # JSESSIONID-like cookie is HttpOnly; the identity work decides which is which.
                response.set_cookie(name, value, path="/", httponly=name != SESSION_COOKIE,
                                    samesite="lax", secure=secure)
        return response

    return [Route("/client/api", client_api, methods=["GET", "POST"]),
            Route("/client/api/", client_api, methods=["GET", "POST"])]


def create_app(dispatcher: Dispatcher, extra_routes: list[BaseRoute] | None = None, **kwargs: Any) -> Starlette:
    return Starlette(routes=[*api_routes(dispatcher), *(extra_routes or [])], **kwargs)
