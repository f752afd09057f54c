"""Communities API. Thin: selectors decide what each viewer sees, services make every
change, access.py answers every "may they?"; a secret community is a 404 like a missing
one."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from essaim import access
from essaim.api_base import CursorPages, Id, InSchema, viewer
from essaim.directory import photos
from essaim.directory import selectors as directory_selectors
from essaim.http import Origin

from . import selectors, services
from .models import NAME_MAX, SLUG_MAX, TEXT_MAX, Community, Kind, Membership, Role, Visibility

router = Router(tags=["communities"])


class CommunityOut(Schema):
    id: int
    slug: str
    name: str
    cover_url: str | None
    visibility: Visibility
    confidential: bool
    kind: Kind
    description: str
    tags: list[str]
    end_date: datetime.date | None
    archived_at: datetime.datetime | None
    member_count: int | None = None
    my_role: Role | None = None


class CommunityDetailOut(CommunityOut):
    rules: str
    can: dict[str, bool]
    invited: bool
    requested: bool


class MemberOut(Schema):
    user_id: int
    display_name: str
    role: Role
    joined_at: datetime.datetime


def cover_url(community: Community, size: str = "wide") -> str | None:
    if not community.cover:
        return None
    return reverse("api:community_cover", kwargs={"community_id": community.pk, "size": size})


def _out(community: Community) -> dict[str, Any]:
    return {
        "id": community.pk,
        "slug": community.slug,
        "name": community.name,
        "cover_url": cover_url(community),
        "visibility": community.visibility,
        "confidential": community.confidential,
        "kind": community.kind,
        "description": community.description,
        "tags": community.tags,
        "end_date": community.end_date,
        "archived_at": community.archived_at,
        "member_count": getattr(community, "member_count", None) or 0,
        "my_role": getattr(community, "my_role", None),
    }


def _detail(request: HttpRequest, community: Community) -> dict[str, Any]:
    view = selectors.community_view(viewer(request), community)
    return {
        **_out(community),
        "member_count": view.member_count,
        "my_role": view.role,
        "rules": community.rules,
        "can": view.can,
        "invited": view.invitation is not None,
        "requested": view.requested,
    }


class ListFilters(Schema):
    scope: Literal["mine", "suggested", "all"] = "mine"
    q: str = Field("", max_length=100)
    archived: bool = False
    offset: int = Field(0, ge=0, le=10_000)
    limit: int = Field(selectors.PAGE_SIZE, ge=1, le=100)


class ListOut(Schema):
    results: list[CommunityOut]
    total: int


@router.get("/communities", response=ListOut, summary="My communities, suggestions, or all")
def community_list(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    found = selectors.browse(
        viewer(request),
        scope=filters.scope,
        text=filters.q,
        archived=filters.archived,
        offset=filters.offset,
        limit=filters.limit,
    )
    return {"results": [_out(c) for c in found.results], "total": found.total}


class CommunityIn(InSchema):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    slug: str = Field("", max_length=SLUG_MAX)
    visibility: Visibility = Field(strict=False)
    kind: Kind = Field(Kind.OTHER, strict=False)
    confidential: bool = False
    description: str = Field("", max_length=TEXT_MAX)
    rules: str = Field("", max_length=TEXT_MAX)
    tags: list[str] = Field(default_factory=list, max_length=10)
    end_date: datetime.date | None = Field(None, strict=False)


@router.post("/communities", response={201: CommunityDetailOut}, summary="Create a community")
def community_create(request: HttpRequest, payload: CommunityIn) -> Status[Any]:
    data = payload.dict()
    community = services.community_create(
        actor=viewer(request),
        origin=Origin.of(request),
        name=data.pop("name"),
        slug=data.pop("slug"),
        visibility=data.pop("visibility"),
        **data,
    )
    return Status(201, _detail(request, community))


@router.get("/communities/{community_id}", response=CommunityDetailOut, summary="A community")
def community_detail(request: HttpRequest, community_id: int) -> dict[str, Any]:
    return _detail(request, access.access_community(viewer(request), community_id))


class CommunityPatch(InSchema):
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    visibility: Visibility | None = Field(None, strict=False)
    kind: Kind | None = Field(None, strict=False)
    confidential: bool | None = None
    description: str | None = Field(None, max_length=TEXT_MAX)
    rules: str | None = Field(None, max_length=TEXT_MAX)
    tags: list[str] | None = Field(None, max_length=10)
    end_date: datetime.date | None = Field(None, strict=False)
    archived: bool | None = None


@router.patch(
    "/communities/{community_id}",
    response=CommunityDetailOut,
    summary="Change settings, visibility, or archive (owners)",
)
def community_update(
    request: HttpRequest, community_id: int, payload: CommunityPatch
) -> dict[str, Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    changes = payload.dict(exclude_unset=True)
    archived = changes.pop("archived", None)
    if changes:
        services.community_update(
            actor=me, origin=Origin.of(request), community=community, changes=changes
        )
    if archived is not None:
        services.community_archive(
            actor=me, origin=Origin.of(request), community=community, archived=archived
        )
    return _detail(request, community)


@router.get("/communities/{community_id}/members", response=list[MemberOut], summary="Its members")
@paginate(CursorPages, ordering=("-id",))
def members(request: HttpRequest, community_id: int) -> QuerySet[Membership]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    return selectors.visible_members(me, community).annotate(display_name=F("user__display_name"))


@router.get(
    "/communities/{community_id}/cover/{size}",
    response={200: None},
    url_name="community_cover",
    summary="The cover image (WebP; wide 1200x300 or narrow 600x150)",
)
def community_cover(
    request: HttpRequest, community_id: int, size: Literal["wide", "narrow"]
) -> HttpResponse:
    community = access.access_community(viewer(request), community_id)
    if not community.cover:
        raise access.NotFound
    return photos.photo_response(photos.photo_file(community.cover, size, photos.COVER))


@router.put("/communities/{community_id}/membership", response={204: None}, summary="Join")
def join(request: HttpRequest, community_id: int) -> Status[Any]:
    me = viewer(request)
    services.join(actor=me, community=access.access_community(me, community_id))
    return Status(204, None)


@router.delete("/communities/{community_id}/membership", response={204: None}, summary="Leave")
def leave(request: HttpRequest, community_id: int) -> Status[Any]:
    me = viewer(request)
    services.leave(actor=me, community=access.access_community(me, community_id))
    return Status(204, None)


class RequestIn(InSchema):
    message: str = Field("", max_length=500)


@router.post("/communities/{community_id}/requests", response={204: None}, summary="Ask to join")
def join_request(request: HttpRequest, community_id: int, payload: RequestIn) -> Status[Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    services.join_request(actor=me, community=community, message=payload.message)
    return Status(204, None)


class DecisionIn(InSchema):
    approve: bool


@router.put(
    "/communities/{community_id}/requests/{user_id}",
    response={204: None},
    summary="Approve or decline a request to join (owners and animators)",
)
def join_request_decide(
    request: HttpRequest, community_id: int, user_id: Id, payload: DecisionIn
) -> Status[Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    found = selectors.join_requests(me, community).filter(user_id=user_id).first()
    if found is None:
        raise access.NotFound
    services.join_request_decide(
        actor=me, origin=Origin.of(request), request=found, approve=payload.approve
    )
    return Status(204, None)


class InviteIn(InSchema):
    user_ids: list[Id] = Field(default_factory=list, max_length=500)
    org_unit_id: Id | None = None
    site_id: Id | None = None
    role: Role = Field(Role.MEMBER, strict=False)


class InvitedOut(Schema):
    invited: int


@router.post(
    "/communities/{community_id}/invitations",
    response={201: InvitedOut},
    summary="Invite people, everyone in a unit or at a site (owners and animators)",
)
def invite(request: HttpRequest, community_id: int, payload: InviteIn) -> Status[Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    people = list(directory_selectors.people(me).filter(pk__in=payload.user_ids))
    if len(people) != len(set(payload.user_ids)):
        raise access.NotFound  # someone they may not see, or nobody
    unit, site = directory_selectors.places(me, payload.org_unit_id, payload.site_id)
    sent = services.invite(
        actor=me,
        origin=Origin.of(request),
        community=community,
        people=people,
        org_unit=unit,
        site=site,
        role=payload.role,
    )
    return Status(201, {"invited": len(sent)})


class AnswerIn(InSchema):
    accept: bool


@router.put(
    "/communities/{community_id}/invitation",
    response={204: None},
    summary="Accept or decline my invitation",
)
def invitation_answer(request: HttpRequest, community_id: int, payload: AnswerIn) -> Status[Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    invitation = selectors.my_invitations(me).filter(community=community).first()
    if invitation is None:
        raise access.NotFound
    services.invitation_answer(actor=me, invitation=invitation, accept=payload.accept)
    return Status(204, None)


def _membership(
    request: HttpRequest, community_id: int, user_id: Id
) -> tuple[Community, Membership]:
    """A community and one of its memberships, both as the viewer may see them."""
    me = viewer(request)
    community = access.access_community(me, community_id)
    membership = access.visible(me, community.memberships.filter(user_id=user_id)).first()
    if membership is None:
        raise access.NotFound
    return community, membership


class RoleIn(InSchema):
    role: Role = Field(strict=False)


@router.put(
    "/communities/{community_id}/members/{user_id}",
    response={204: None},
    summary="Change a member's role",
)
def role_set(request: HttpRequest, community_id: int, user_id: Id, payload: RoleIn) -> Status[Any]:
    me = viewer(request)
    community, membership = _membership(request, community_id, user_id)
    services.role_set(
        actor=me,
        origin=Origin.of(request),
        community=community,
        person=membership.user,
        role=payload.role,
    )
    return Status(204, None)


@router.delete(
    "/communities/{community_id}/members/{user_id}",
    response={204: None},
    summary="Remove a member",
)
def member_remove(request: HttpRequest, community_id: int, user_id: Id) -> Status[Any]:
    me = viewer(request)
    community, membership = _membership(request, community_id, user_id)
    services.member_remove(
        actor=me, origin=Origin.of(request), community=community, person=membership.user
    )
    return Status(204, None)
