"""Pieces every router shares: the input schema base, the error shape, the viewer."""

from __future__ import annotations

from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from ninja import Field, Schema
from ninja.errors import ValidationError
from ninja.pagination import CursorPagination
from pydantic import ConfigDict

from essaim.accounts.models import User


class InSchema(Schema):
    """Request bodies: unknown fields are refused (no mass assignment), strings trimmed,
    and types strict: ``"yes"`` is not a boolean, ``5`` not a string. JSON carries enums
    and dates as strings, so enum and datetime fields say ``Field(strict=False)``
    (tests/test_api.py checks every body schema for it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


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


def _invalid_cursor() -> ValidationError:
    return ValidationError([{"loc": ("query", "cursor"), "msg": "This cursor is not valid."}])


class CursorPages(CursorPagination):
    """The one list convention: ``@paginate(CursorPages, ordering=(…))``. Cursors are
    opaque; a forged or stale one, or a page size out of range, is a 422, never a 500."""

    class Input(Schema):
        page_size: int | None = Field(None, ge=1, le=settings.NINJA_MAX_PER_PAGE_SIZE)
        cursor: str | None = Field(None, max_length=500)

    class Cursor(CursorPagination.Cursor):
        @classmethod
        def from_encoded_param(
            cls, encoded_param: str | None, context: Any = None
        ) -> CursorPagination.Cursor:
            try:
                return super().from_encoded_param(encoded_param, context)
            except (pydantic.ValidationError, ValidationError, UnicodeDecodeError) as exc:
                raise _invalid_cursor() from exc

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        try:
            return super().paginate_queryset(queryset, pagination, request, **params)
        except (ValueError, DjangoValidationError) as exc:
            # A position that does not fit the ordering field (text for an id…).
            raise _invalid_cursor() from exc
