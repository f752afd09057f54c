"""Directory API: people search, profiles, organisation, expertise, follows. Thin: the
selectors decide who and what each viewer sees; the services make every change."""

from __future__ import annotations

import datetime
from typing import Any, BinaryIO, Literal, cast

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.api_base import CursorPages, InSchema, offset_page, viewer
from essaim.http import Origin

from . import photos, selectors, services, vcard
from .models import (
    BIO_MAX,
    TEXT_MAX,
    Availability,
    FieldKind,
    LanguageLevel,
    OrgUnit,
    Topic,
    TopicKind,
    Visibility,
)
from .text import LANGUAGES

router = Router(tags=["directory"])

# --- Output -------------------------------------------------------------------------------


class Named(Schema):
    id: int
    name: str


class PersonCard(Schema):
    """A person in a list; ``org_unit`` and ``site`` only for viewers who read them."""

    id: int
    display_name: str
    job_title: str
    pronouns: str
    photo_url: str | None
    org_unit: Named | None = None
    site: Named | None = None
    skills: list[str] = []


class TopicOut(Schema):
    id: int
    name: str
    level: int | None
    endorsements: int
    endorsed_by_me: bool


class LanguageOut(Schema):
    language: str
    name: str
    level: LanguageLevel


class FieldValueOut(Schema):
    key: str
    label: str
    kind: FieldKind
    value: str


class StatusOut(Schema):
    availability: Availability
    text: str
    until: datetime.datetime | None


class PersonOut(PersonCard):
    """A profile: fields the viewer may not read are absent."""

    email: str | None = None
    manager: PersonCard | None = None
    phone: str | None = None
    mobile_phone: str | None = None
    timezone: str | None = None
    bio: str | None = None
    status: StatusOut | None = None
    topics: dict[TopicKind, list[TopicOut]] | None = None
    languages: list[LanguageOut] | None = None
    fields: list[FieldValueOut] = []
    followers: int | None = None
    following: int | None = None
    followed_by_me: bool = False
    can_edit: bool = False
    can_edit_org: bool = False


def photo_url(person: User, size: str = "large") -> str | None:
    profile = getattr(person, "profile", None)
    if profile is None or not profile.photo:
        return None
    # The version in the query makes a changed photo a new URL for caches.
    return f"/api/v1/people/{person.pk}/photo/{size}?v={profile.photo[:8]}"


def card(viewing: access.Viewer, person: User) -> dict[str, Any]:
    profile = getattr(person, "profile", None)
    out: dict[str, Any] = {
        "id": person.pk,
        "display_name": person.display_name,
        "job_title": profile.job_title if profile else "",
        "pronouns": profile.pronouns if profile else "",
        "photo_url": photo_url(person, "small"),
    }
    if profile and access.sees_field(viewing, person, "org_unit") and profile.org_unit:
        out["org_unit"] = {"id": profile.org_unit.pk, "name": profile.org_unit.name}
    if profile and access.sees_field(viewing, person, "site") and profile.site:
        out["site"] = {"id": profile.site.pk, "name": profile.site.name}
    if access.sees_field(viewing, person, "topics"):
        out["skills"] = [held.topic.name for held in person.topics.all()][:5]
    return out


def detail(viewing: access.Viewer, view: selectors.PersonView) -> dict[str, Any]:
    person = view.person
    profile = person.profile
    out = card(viewing, person)
    out["photo_url"] = photo_url(person)
    for name in ("phone", "mobile_phone", "timezone", "bio"):
        if view.shows(name):
            out[name] = getattr(profile, name)
    if view.shows("email"):
        out["email"] = person.email
    if view.shows("manager") and profile.manager is not None:
        out["manager"] = card(viewing, profile.manager)
    if view.shows("presence"):
        out["status"] = {
            "availability": profile.current_availability,
            "text": profile.current_status_text,
            "until": None if profile.status_expired else profile.status_until,
        }
    if view.shows("topics"):
        out["topics"] = {
            kind: [
                {
                    "id": held.topic_id,
                    "name": held.topic.name,
                    "level": held.level,
                    "endorsements": view.endorsements.get(held.topic_id, 0),
                    "endorsed_by_me": held.topic_id in view.endorsed_by_viewer,
                }
                for held in view.topics.get(kind, [])
            ]
            for kind in TopicKind
        }
    if view.shows("languages"):
        out["languages"] = [
            {
                "language": s.language,
                "name": LANGUAGES.get(s.language, s.language),
                "level": s.level,
            }
            for s in view.languages
        ]
    out["fields"] = [
        {"key": v.field.key, "label": v.field.label, "kind": v.field.kind, "value": v.value}
        for v in view.fields
    ]
    if view.shows("follows"):
        out["followers"], out["following"] = view.followers, view.following
    out["followed_by_me"] = view.viewer_follows
    out["can_edit"] = access.can(viewing, "edit_profile", person)
    out["can_edit_org"] = access.can(viewing, "edit_org", person)
    return out


class Facet(Schema):
    value: int | str
    label: str
    count: int


class SearchOut(Schema):
    results: list[PersonCard]
    next: str | None
    previous: str | None
    total: int
    facets: dict[str, list[Facet]]
    facets_partial: bool = Field(
        description="The facet counts are those of the first 500 results of a larger one."
    )
    corrections: dict[str, list[str]] = Field(
        description="Words of the query that matched nothing, with the words they were "
        "read as (one typo away)."
    )


# --- People -------------------------------------------------------------------------------


class SearchFilters(Schema):
    q: str = Field("", max_length=200)
    org_unit: list[int] = Field([], max_length=20)
    site: list[int] = Field([], max_length=20)
    skill: list[int] = Field([], max_length=20)
    expertise: list[int] = Field([], max_length=20)
    language: list[str] = Field([], max_length=20)
    sort: Literal["relevance", "name"] = "relevance"
    page_size: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=100)


@router.get("/people", response=SearchOut, summary="Search the directory")
def people_search(request: HttpRequest, filters: Query[SearchFilters]) -> dict[str, Any]:
    me = viewer(request)
    query = selectors.PeopleQuery(
        text=filters.q,
        org_units=filters.org_unit,
        sites=filters.site,
        skills=filters.skill,
        expertise=filters.expertise,
        languages=filters.language,
        sort=filters.sort,
    )
    if query.has_filters() and Visibility.EMPLOYEES not in access.readable_visibilities(me):
        raise access.Forbidden  # filters on organisation fields are for employees
    page = offset_page(request, filters.cursor, filters.page_size)
    found = selectors.people_search(me, query, offset=page.offset, limit=filters.page_size)
    return {
        **page.links(found.total),
        "results": [card(me, person) for person in found.results],
        "total": found.total,
        "facets": {key: [vars(v) for v in values] for key, values in found.facets.items()},
        "corrections": found.corrections,
        "facets_partial": found.facets_partial,
    }


@router.get("/people/{person_id}", response=PersonOut, exclude_unset=True, summary="A profile")
def person_detail(request: HttpRequest, person_id: int) -> dict[str, Any]:
    me = viewer(request)
    return detail(me, selectors.person_view(me, person_id))


class ProfileIn(InSchema):
    job_title: str | None = Field(None, max_length=TEXT_MAX)
    org_unit_id: int | None = None
    site_id: int | None = None
    manager_id: int | None = None
    phone: str | None = Field(None, max_length=40)
    mobile_phone: str | None = Field(None, max_length=40)
    timezone: str | None = Field(None, max_length=64)
    pronouns: str | None = Field(None, max_length=40)
    bio: str | None = Field(None, max_length=BIO_MAX)


@router.patch(
    "/people/{person_id}", response=PersonOut, exclude_unset=True, summary="Change a profile"
)
def person_update(request: HttpRequest, person_id: int, payload: ProfileIn) -> dict[str, Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    changes = payload.dict(exclude_unset=True)
    for key, choices in (("org_unit_id", selectors.org_units), ("site_id", selectors.sites)):
        if key in changes:
            changes[key[:-3]] = _get(choices(me), changes.pop(key), key)
    if "manager_id" in changes:
        manager_id = changes.pop("manager_id")
        changes["manager"] = None if manager_id is None else access.access_user(me, manager_id)
    services.profile_update(actor=me, person=person, origin=Origin.of(request), changes=changes)
    return detail(me, selectors.person_view(me, person.pk))


def _get(choices: QuerySet[Any], pk: int | None, field: str) -> Any:
    """One of the units or sites the viewer may see (selectors.org_units / sites), so
    that an id's existence shows only to those who may read the organisation."""
    if pk is None:
        return None
    found = choices.filter(pk=pk).first()
    if found is None:
        raise ServiceError(_("Not found."), field=field)
    return found


class TopicIn(InSchema):
    name: str = Field(min_length=1, max_length=80)
    level: int | None = Field(None, ge=1, le=4)


@router.put(
    "/people/{person_id}/topics/{kind}",
    response=PersonOut,
    exclude_unset=True,
    summary="Replace a list of skills, expertise, interests, projects or ask-me-about topics",
)
def topics_set(
    request: HttpRequest, person_id: int, kind: TopicKind, payload: list[TopicIn]
) -> dict[str, Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    items = [(t.name, t.level) for t in payload]
    services.topics_set(actor=me, person=person, origin=Origin.of(request), kind=kind, items=items)
    return detail(me, selectors.person_view(me, person.pk))


class LanguageIn(InSchema):
    language: str = Field(max_length=8)
    level: LanguageLevel = Field(strict=False)


@router.put(
    "/people/{person_id}/languages",
    response=PersonOut,
    exclude_unset=True,
    summary="Replace the languages a person speaks",
)
def languages_set(
    request: HttpRequest, person_id: int, payload: list[LanguageIn]
) -> dict[str, Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    items = [(item.language, item.level.value) for item in payload]
    services.languages_set(actor=me, person=person, origin=Origin.of(request), items=items)
    return detail(me, selectors.person_view(me, person.pk))


class FieldValuesIn(InSchema):
    values: dict[str, str] = Field(description="Field key → value; an empty value removes it.")


@router.put(
    "/people/{person_id}/fields",
    response=PersonOut,
    exclude_unset=True,
    summary="Set custom field values by key",
)
def fields_set(request: HttpRequest, person_id: int, payload: FieldValuesIn) -> dict[str, Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    services.field_values_set(
        actor=me, person=person, origin=Origin.of(request), values=payload.values
    )
    return detail(me, selectors.person_view(me, person.pk))


@router.post(
    "/people/{person_id}/photo",
    response=PersonOut,
    exclude_unset=True,
    summary="Upload a photo (JPEG, PNG, WebP or GIF, 10 MB at most)",
)
def photo_upload(request: HttpRequest, person_id: int, photo: File[UploadedFile]) -> dict[str, Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    source = cast(BinaryIO, photo.file)  # an uploaded file, opened in binary mode
    services.photo_set(actor=me, person=person, origin=Origin.of(request), source=source)
    return detail(me, selectors.person_view(me, person.pk))


@router.delete("/people/{person_id}/photo", response={204: None}, summary="Remove the photo")
def photo_delete(request: HttpRequest, person_id: int) -> Status[Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    services.photo_remove(actor=me, person=person, origin=Origin.of(request))
    return Status(204, None)


@router.get(
    "/people/{person_id}/photo/{size}",
    response={200: None},
    summary="A person's photo (WebP; size: large or small)",
)
def photo_download(
    request: HttpRequest, person_id: int, size: Literal["large", "small"]
) -> HttpResponse:
    me = viewer(request)
    person = access.access_user(me, person_id)
    name = selectors.photo_name(me, person)
    if not name:
        raise access.NotFound
    return photos.photo_response(photos.photo_file(name, size))


@router.get("/people/{person_id}/vcard", response={200: None}, summary="A profile as a vCard")
def person_vcard(request: HttpRequest, person_id: int) -> HttpResponse:
    me = viewer(request)
    view = selectors.person_view(me, person_id)
    response = HttpResponse(vcard.render(view), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{view.person.pk}.vcf"'
    return response


class OrgChartOut(Schema):
    person: PersonCard
    chain: list[PersonCard]
    peers: list[PersonCard]
    reports: list[PersonCard]
    report_counts: dict[int, int]


@router.get(
    "/people/{person_id}/org-chart",
    response=OrgChartOut,
    summary="Manager chain, peers and reports",
)
def org_chart(request: HttpRequest, person_id: int) -> dict[str, Any]:
    me = viewer(request)
    chart = selectors.org_chart(me, person_id, skills=True)
    return {
        "person": card(me, chart.person),
        "chain": [card(me, p) for p in chart.chain],
        "peers": [card(me, p) for p in chart.peers],
        "reports": [card(me, p) for p in chart.reports],
        "report_counts": chart.report_counts,
    }


@router.get("/people/{person_id}/similar", response=list[PersonCard], summary="People like this")
def people_like(request: HttpRequest, person_id: int) -> list[dict[str, Any]]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    return [card(me, p) for p in selectors.people_like(me, person)]


class PeoplePages(CursorPages):
    """Cursor pages of people, each shown as the viewer may see them."""

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["results"] = [card(viewer(request), person) for person in page["results"]]
        return page


@router.get("/people/{person_id}/followers", response=list[PersonCard], summary="Followers")
@paginate(PeoplePages, ordering=("-id",))
def followers(request: HttpRequest, person_id: int) -> Any:
    me = viewer(request)
    return selectors.with_profile(selectors.followers(me, access.access_user(me, person_id)))


@router.get("/people/{person_id}/following", response=list[PersonCard], summary="Followed people")
@paginate(PeoplePages, ordering=("-id",))
def following(request: HttpRequest, person_id: int) -> Any:
    me = viewer(request)
    return selectors.with_profile(selectors.following(me, access.access_user(me, person_id)))


@router.put("/people/{person_id}/follow", response={204: None}, summary="Follow a person")
def follow(request: HttpRequest, person_id: int) -> Status[Any]:
    me = viewer(request)
    services.follow(actor=me, person=access.access_user(me, person_id))
    return Status(204, None)


@router.delete("/people/{person_id}/follow", response={204: None}, summary="Stop following")
def unfollow(request: HttpRequest, person_id: int) -> Status[Any]:
    me = viewer(request)
    services.unfollow(actor=me, person=access.access_user(me, person_id))
    return Status(204, None)


@router.put(
    "/people/{person_id}/endorsements/{topic_id}",
    response={204: None},
    summary="Endorse a skill or area of expertise",
)
def endorse(request: HttpRequest, person_id: int, topic_id: int) -> Status[Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    services.endorse(actor=me, person=person, topic=_topic(topic_id))
    return Status(204, None)


@router.delete(
    "/people/{person_id}/endorsements/{topic_id}",
    response={204: None},
    summary="Withdraw an endorsement",
)
def endorsement_withdraw(request: HttpRequest, person_id: int, topic_id: int) -> Status[Any]:
    me = viewer(request)
    person = access.access_user(me, person_id)
    services.endorsement_withdraw(actor=me, person=person, topic=_topic(topic_id))
    return Status(204, None)


def _topic(topic_id: int) -> Topic:
    topic = Topic.objects.filter(pk=topic_id).first()
    if topic is None:
        raise access.NotFound
    return topic


class StatusIn(InSchema):
    availability: Availability = Field(strict=False)
    text: str = Field("", max_length=100)
    until: datetime.datetime | None = Field(None, strict=False)


@router.put("/me/status", response=StatusOut, summary="Set my availability and status message")
def status_set(request: HttpRequest, payload: StatusIn) -> dict[str, Any]:
    profile = services.status_set(
        actor=viewer(request),
        availability=payload.availability,
        text=payload.text,
        until=payload.until,
    )
    return {
        "availability": profile.availability,
        "text": profile.status_text,
        "until": profile.status_until,
    }


# --- Expertise and organisation -------------------------------------------------------


class EvidenceOut(Schema):
    kind: str
    label: str
    points: float


class ExpertOut(Schema):
    person: PersonCard
    score: float
    evidence: list[EvidenceOut]


class ExpertsOut(Schema):
    topics: list[Named]
    experts: list[ExpertOut]


@router.get("/experts", response=ExpertsOut, summary="Who knows about a topic")
def experts(request: HttpRequest, q: str = Query(..., min_length=1, max_length=100)) -> Any:  # type: ignore[type-arg]
    me = viewer(request)
    topics, found = selectors.experts(me, q)
    return {
        "topics": [{"id": t.pk, "name": t.name} for t in topics],
        "experts": [
            {
                "person": card(me, e.person),
                "score": e.score,
                "evidence": [vars(x) for x in e.evidence],
            }
            for e in found
        ],
    }


class UnitOut(Schema):
    id: int
    name: str
    code: str
    parent_id: int | None


class UnitDetailOut(UnitOut):
    ancestors: list[UnitOut]
    children: list[dict[str, Any]]
    members: list[PersonCard]
    total: int


@router.get("/org-units", response=list[UnitOut], summary="Org units (employees)")
@paginate(CursorPages, ordering=("id",))
def org_units(request: HttpRequest) -> Any:
    return selectors.org_units(viewer(request))


@router.get("/org-units/{unit_id}", response=UnitDetailOut, summary="An org unit with its people")
def org_unit(request: HttpRequest, unit_id: int) -> dict[str, Any]:
    me = viewer(request)
    view = selectors.unit_view(me, unit_id)
    unit = view.unit
    return {
        "id": unit.pk,
        "name": unit.name,
        "code": unit.code,
        "parent_id": unit.parent_id,
        "ancestors": view.ancestors,
        "children": [{"id": c.pk, "name": c.name, "people": n} for c, n in view.children],
        "members": [card(me, p) for p in view.members],
        "total": view.total,
    }


class UnitIn(InSchema):
    name: str = Field(min_length=1, max_length=TEXT_MAX)
    code: str = Field("", max_length=64)
    parent_id: int | None = None


@router.post("/org-units", response={201: UnitOut}, summary="Create an org unit (HR)")
def org_unit_create(request: HttpRequest, payload: UnitIn) -> Status[Any]:
    parent = _get(selectors.org_units(viewer(request)), payload.parent_id, "parent_id")
    unit = services.org_unit_save(
        actor=viewer(request),
        origin=Origin.of(request),
        name=payload.name,
        code=payload.code,
        parent=parent,
    )
    return Status(201, unit)


@router.put("/org-units/{unit_id}", response=UnitOut, summary="Rename or move an org unit (HR)")
def org_unit_update(request: HttpRequest, unit_id: int, payload: UnitIn) -> OrgUnit:
    me = viewer(request)
    unit = selectors.unit_view(me, unit_id).unit
    return services.org_unit_save(
        actor=me,
        origin=Origin.of(request),
        name=payload.name,
        code=payload.code,
        parent=_get(selectors.org_units(me), payload.parent_id, "parent_id"),
        unit=unit,
    )


class SiteOut(Schema):
    id: int
    name: str
    city: str
    country: str


@router.get("/sites", response=list[SiteOut], summary="Sites (employees)")
@paginate(CursorPages, ordering=("id",))
def sites(request: HttpRequest) -> Any:
    return selectors.sites(viewer(request))


class ProfileFieldOut(Schema):
    key: str
    label: str
    kind: FieldKind
    choices: list[str]
    visibility: Visibility
    position: int


class ProfileFieldIn(InSchema):
    label: str = Field(min_length=1, max_length=80)
    kind: FieldKind = Field(strict=False)
    visibility: Visibility = Field(Visibility.EMPLOYEES, strict=False)
    choices: list[str] = Field([], max_length=100)
    position: int = Field(0, ge=0, le=1000)


@router.get("/profile-fields", response=list[ProfileFieldOut], summary="Custom profile fields")
def profile_fields(request: HttpRequest) -> Any:
    return selectors.profile_fields(viewer(request))


@router.put(
    "/profile-fields/{key}",
    response=ProfileFieldOut,
    summary="Create or change a custom field (administrators)",
)
def profile_field_save(request: HttpRequest, key: str, payload: ProfileFieldIn) -> Any:
    return services.profile_field_save(
        actor=viewer(request), origin=Origin.of(request), key=key, **payload.dict()
    )
