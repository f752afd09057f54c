"""API for the signed-in person, their tokens, and (administrators) people."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from essaim import access
from essaim.api_base import CursorPages, InSchema, viewer
from essaim.http import Origin

from . import selectors, services
from .models import EMAIL_MAX, NAME_MAX, ApiToken, Role, TokenScope, User, UserKind

router = Router(tags=["accounts"])

Language = Literal["", "en", "fr"]


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    kind: UserKind
    is_admin: bool
    language: str
    read_receipts: bool
    roles: list[Role]

    @staticmethod
    def resolve_roles(obj: User) -> list[str]:
        return sorted(obj.roles)


class MeIn(InSchema):
    display_name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    language: Language | None = None
    read_receipts: bool | None = Field(None, description="share chat read receipts")


class UserOut(Schema):
    id: int
    email: str
    display_name: str
    kind: UserKind
    is_active: bool


class UserCreateIn(InSchema):
    email: str = Field(max_length=EMAIL_MAX)
    display_name: str = Field(min_length=1, max_length=NAME_MAX)
    kind: UserKind = Field(UserKind.EMPLOYEE, strict=False)
    is_admin: bool = False
    language: Language = ""


class RoleIn(InSchema):
    role: Role = Field(strict=False)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: TokenScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreateIn(InSchema):
    name: str = Field(min_length=1, max_length=100)
    scope: TokenScope = Field(TokenScope.READ, strict=False)
    password: str = Field(
        min_length=1,
        max_length=4096,
        description="Your password: creating a token needs re-authentication.",
    )


class TokenCreatedOut(TokenOut):
    secret: str = Field(description="Shown once; Essaim keeps only its hash.")


@router.get("/me", response=MeOut, summary="The signed-in person")
def me(request: HttpRequest) -> User:
    return viewer(request)


@router.patch("/me", response=MeOut, summary="Change my name, language or chat read receipts")
def me_update(request: HttpRequest, payload: MeIn) -> User:
    return services.user_update_self(user=viewer(request), **payload.dict(exclude_unset=True))


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
@paginate(CursorPages, ordering=("-id",))
def token_list(request: HttpRequest) -> object:
    return selectors.token_list(fetched_by=viewer(request))


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token")
def token_create(request: HttpRequest, payload: TokenCreateIn) -> Status[Any]:
    token, secret = services.token_create(
        user=viewer(request),
        name=payload.name,
        scope=payload.scope,
        password=payload.password,
        origin=Origin.of(request),
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "secret": secret})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def token_revoke(request: HttpRequest, token_id: int) -> Status[Any]:
    token: ApiToken = access.access_api_token(viewer(request), token_id, "revoke")
    services.token_revoke(user=viewer(request), token=token)
    return Status(204, None)


@router.get("/users", response=list[UserOut], summary="People I can see")
@paginate(CursorPages, ordering=("-id",))
def user_list(request: HttpRequest, q: str = Query("", max_length=100)) -> object:  # type: ignore[type-arg]
    return selectors.user_list(fetched_by=viewer(request), query=q).order_by("-id")


@router.get("/users/{user_id}", response=UserOut, summary="One person")
def user_detail(request: HttpRequest, user_id: int) -> User:
    return access.access_user(viewer(request), user_id)


@router.post("/users", response={201: UserOut}, summary="Create an account (administrators)")
def user_create(request: HttpRequest, payload: UserCreateIn) -> Status[Any]:
    actor = viewer(request)
    if not access.is_admin(actor):
        raise access.Forbidden
    user = services.user_create(actor=actor, origin=Origin.of(request), **payload.dict())
    return Status(201, user)


@router.post(
    "/users/{user_id}/deactivate",
    response=UserOut,
    summary="Deactivate an account; its sessions and tokens end at once",
)
def user_deactivate(request: HttpRequest, user_id: int) -> User:
    person = access.access_user(viewer(request), user_id, "manage")
    return services.user_deactivate(actor=viewer(request), origin=Origin.of(request), user=person)


@router.post("/users/{user_id}/reactivate", response=UserOut, summary="Reactivate an account")
def user_reactivate(request: HttpRequest, user_id: int) -> User:
    person = access.access_user(viewer(request), user_id, "manage")
    return services.user_reactivate(actor=viewer(request), origin=Origin.of(request), user=person)


@router.post("/users/{user_id}/roles", response={204: None}, summary="Grant a global role")
def role_grant(request: HttpRequest, user_id: int, payload: RoleIn) -> Status[Any]:
    person = access.access_user(viewer(request), user_id, "manage")
    services.role_grant(
        actor=viewer(request), origin=Origin.of(request), user=person, role=payload.role
    )
    return Status(204, None)


@router.delete(
    "/users/{user_id}/roles/{role}", response={204: None}, summary="Revoke a global role"
)
def role_revoke(request: HttpRequest, user_id: int, role: Role) -> Status[Any]:
    person = access.access_user(viewer(request), user_id, "manage")
    services.role_revoke(actor=viewer(request), origin=Origin.of(request), user=person, role=role)
    return Status(204, None)
