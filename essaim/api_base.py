"""Pieces every router shares: the input schema base, the error shape, the viewer."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any

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

# A database id, as a path parameter or a field: a number past the database's integers is
# a 422, never a 500 from the database driver.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


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


# Ranked results (a search) are paged by position, like a web search engine's pages, up
# to this depth; the cursor stays opaque so that clients treat it as in every list.
MAX_SEARCH_DEPTH = 1000


@dataclass
class OffsetPage:
    request: HttpRequest
    offset: int
    size: int

    def _link(self, offset: int) -> str:
        query = self.request.GET.copy()
        query["cursor"] = base64.urlsafe_b64encode(f"o={offset}".encode()).decode()
        return self.request.build_absolute_uri(f"{self.request.path}?{query.urlencode()}")

    def links(self, total: int) -> dict[str, str | None]:
        end = self.offset + self.size
        return {
            "next": self._link(end) if end < min(total, MAX_SEARCH_DEPTH) else None,
            "previous": self._link(max(0, self.offset - self.size)) if self.offset else None,
        }


def offset_page(request: HttpRequest, cursor: str | None, size: int) -> OffsetPage:
    """The page a ranked-results cursor points at; a forged cursor is a 422."""
    if not cursor:
        return OffsetPage(request, 0, size)
    try:
        key, value = base64.urlsafe_b64decode(cursor.encode()).decode().split("=")
        offset = int(value)
    except (ValueError, UnicodeError) as exc:
        raise _invalid_cursor() from exc
    if key != "o" or not 0 <= offset < MAX_SEARCH_DEPTH:
        raise _invalid_cursor()
    return OffsetPage(request, offset, size)
