"""The REST API at /api/v1/: one NinjaAPI, one router per app, one error shape.

Every 4xx answers ``{"error": {"code", "message", "fields"}}``. Lists use cursor
pagination (``?cursor=…&page_size=…`` → ``{"results", "next", "previous"}``).
Authentication: the session cookie (with CSRF on unsafe methods) or
``Authorization: Bearer <token>``; a read-only token may only use safe methods.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from essaim.accounts.models import TokenScope, User
from essaim.accounts.services import ServiceError, token_authenticate
from essaim.api_base import error_response

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SessionAuth(APIKeyCookie):
    """The browser's session; ninja checks CSRF before reading the cookie."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        # No session cookie: not authenticated (401), rather than a CSRF refusal (403).
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        return user if user.is_authenticated and user.is_active else None


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise HttpError(403, "This token is read-only.")
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


api = NinjaAPI(
    title="Essaim API",
    version="1",
    description="The REST API of Essaim, the enterprise social network.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


def _fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        # ("body", <parameter>, field…), ("query", field…), ("path", field)
        if loc[:1] in (["body"], ["query"], ["path"]):
            loc = loc[2:] if loc[0] == "body" else loc[1:]
        fields.setdefault(".".join(loc) or "__all__", []).append(str(err.get("msg", "invalid")))
    return fields


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(422, "invalid", "The request is not valid.", _fields(exc.errors))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        401, "unauthenticated", "Sign in, or send a valid token as 'Authorization: Bearer <token>'."
    )
    response["WWW-Authenticate"] = 'Bearer realm="essaim"'
    return response


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", "Not found.")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", "You may not do this.")


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    codes = {"conflict": 409, "forbidden": 403, "throttled": 429}
    status = codes.get(exc.code, 400 if exc.field is None else 422)
    response = error_response(
        status, exc.code, exc.message, {exc.field: [exc.message]} if exc.field else None
    )
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 403 and "CSRF" in message:
        return error_response(
            403,
            "csrf_failed",
            "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value.",
        )
    codes = {
        400: "bad_request",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        429: "throttled",
    }
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), message)


def _register_routers() -> None:
    from essaim.accounts.api import router as accounts_router
    from essaim.chat.api import router as chat_router
    from essaim.communities.api import router as communities_router
    from essaim.content.api import router as content_router
    from essaim.directory.api import router as directory_router
    from essaim.governance.api import router as governance_router
    from essaim.knowledge.api import router as knowledge_router
    from essaim.notifications.api import router as notifications_router
    from essaim.realtime.api import router as realtime_router
    from essaim.search.api import router as search_router

    api.add_router("/", accounts_router)
    api.add_router("/audit", governance_router)
    api.add_router("/", directory_router)
    api.add_router("/", communities_router)
    api.add_router("/", content_router)
    api.add_router("/", knowledge_router)
    api.add_router("/", chat_router)
    api.add_router("/", realtime_router)
    api.add_router("/", search_router)
    api.add_router("/", notifications_router)


_register_routers()
