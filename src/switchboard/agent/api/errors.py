"""One place that maps errors to HTTP: every error body is `{"error": "<message>"}` (the original's shape),
validation errors add `detail`, and unknown routes are JSON too."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard.agent.errors import AgentError, Conflict, InvalidRequest, NotFound, OperationFailed, Unsupported
from switchboard.agent.state import StateError

__all__ = ["ApiError", "install_error_handlers"]

_log = logging.getLogger(__name__)

_STATUS: dict[type[AgentError], int] = {
    InvalidRequest: 400,
    NotFound: 404,
    Conflict: 409,
    Unsupported: 501,
    OperationFailed: 500,
}


class ApiError(Exception):
    """An HTTP-level refusal raised by the API layer itself (auth, bad body)."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ApiError):
        return _error(exc.status, str(exc), exc.headers)
    return await _unexpected(request, exc)


async def _agent_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 500)
    if status >= 500:
        _log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return _error(status, str(exc))


async def _state_error(request: Request, exc: Exception) -> JSONResponse:
    _log.error("state store failure on %s %s: %s", request.method, request.url.path, exc)
    return _error(500, f"agent state could not be saved: {exc}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))
    return await _unexpected(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        return await _unexpected(request, exc)
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    return JSONResponse({"error": "Validation error", "detail": detail}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(AgentError, _agent_error)
    app.add_exception_handler(StateError, _state_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
