"""Pieces every router shares: the input schema base, the error shape, the viewer."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from ninja import Schema
from pydantic import ConfigDict

from essaim.accounts.models import User


class InSchema(Schema):
    """Request bodies: unknown fields are refused (no mass assignment), strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


def viewer(request: HttpRequest) -> User:
    """The authenticated person: every route needs authentication, and the auth
    classes put the active user in request.auth."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
