"""Directory pages: search, profiles, editing, org chart, org units, experts. Thin: the
selectors decide what each viewer sees, the services make every change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from essaim import access
from essaim.accounts.models import Role, User
from essaim.accounts.services import ServiceError
from essaim.content import views as content_views
from essaim.content.selectors import Feed
from essaim.http import Origin
from essaim.realtime import events

from . import selectors, services
from .forms import (
    LanguageFormSet,
    OrganisationForm,
    OrgUnitForm,
    PersonalForm,
    PhotoForm,
    ProfileFieldForm,
    SiteForm,
    SkillFormSet,
    StatusForm,
    TopicListsForm,
)
from .models import FieldKind, OrgUnit, ProfileField, Site, Topic, TopicKind, Visibility

PAGE_SIZE = 20
MAX_PAGE = 50


def _ints(request: HttpRequest, name: str) -> list[int]:
    return [int(v) for v in request.GET.getlist(name)[:20] if v.isdigit()]


def _section(request: HttpRequest) -> None:
    request.section = "directory"  # type: ignore[attr-defined]


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    _section(request)
    me = _me(request)
    employee = Visibility.EMPLOYEES in access.readable_visibilities(me)
    query = selectors.PeopleQuery(
        text=str(request.GET.get("q", ""))[:200],
        org_units=_ints(request, "org_unit") if employee else [],
        sites=_ints(request, "site") if employee else [],
        skills=_ints(request, "skill") if employee else [],
        expertise=_ints(request, "expertise") if employee else [],
        languages=[v for v in request.GET.getlist("language")[:20] if len(v) <= 8]
        if employee
        else [],
        sort="name" if request.GET.get("sort") == "name" else "relevance",
    )
    raw_page = str(request.GET.get("page", "1"))
    page_number = min(max(int(raw_page), 1), MAX_PAGE) if raw_page.isdigit() else 1
    found = selectors.people_search(
        me, query, offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    chosen: dict[str, set[int] | set[str]] = {
        "org_unit": set(query.org_units),
        "site": set(query.sites),
        "skill": set(query.skills),
        "expertise": set(query.expertise),
        "language": set(query.languages),
    }
    facets = [
        (key, label, [(value, value.value in chosen[key]) for value in found.facets.get(key, [])])
        for key, label in (
            ("org_unit", _("Department")),
            ("site", _("Site")),
            ("skill", _("Skills")),
            ("expertise", _("Expertise")),
            ("language", _("Languages")),
        )
        if found.facets.get(key)
    ]
    pages = (found.total + PAGE_SIZE - 1) // PAGE_SIZE
    context = {
        "query": query,
        "found": found,
        "facets": facets,
        "page": page_number,
        "has_next": page_number < min(pages, MAX_PAGE),
        "has_previous": page_number > 1,
        "querystring": request.GET.copy(),
    }
    return render(request, "directory/directory.html", context)


@login_required
def experts(request: HttpRequest) -> HttpResponse:
    _section(request)
    text = str(request.GET.get("q", ""))[:100].strip()
    topics, found = selectors.experts(_me(request), text) if text else ([], [])
    return render(
        request, "directory/experts.html", {"text": text, "topics": topics, "experts": found}
    )


@login_required
def profile(request: HttpRequest, person_id: int) -> HttpResponse:
    _section(request)
    me = _me(request)
    view = selectors.person_view(me, person_id)
    context = {
        "view": view,
        "person": view.person,
        "profile": view.person.profile,
        "topic_kinds": [
            (
                kind,
                label,
                [
                    (
                        held,
                        view.endorsements.get(held.topic_id, 0),
                        held.topic_id in view.endorsed_by_viewer,
                    )
                    for held in view.topics.get(kind, [])
                ],
            )
            for kind, label in TopicKind.choices
        ],
        "similar": selectors.people_like(me, view.person, limit=6),
        "can_edit": access.can(me, "edit_profile", view.person),
        "is_me": me.pk == view.person.pk,
        "events_from": events.head_now(),  # before the feed: its socket resumes from it
    }
    feed = content_views.feed_context(request, Feed(scope="profile", person=view.person))
    if request.GET.get("fragment"):  # the next page of the feed (infinite scroll)
        return render(request, "content/feed_page.html", feed)
    return render(request, "directory/profile.html", {**context, **feed})


def _custom_fields_form(person: User, data: Any = None) -> forms.Form:
    """One input per custom field, of its kind."""
    form = forms.Form(data, prefix="custom")
    values = dict(person.field_values.values_list("field__key", "value"))
    for field in ProfileField.objects.all():
        common: dict[str, Any] = {
            "label": field.label,
            "required": False,
            "initial": values.get(field.key, ""),
        }
        if field.kind == FieldKind.CHOICE:
            form.fields[field.key] = forms.ChoiceField(
                choices=[("", "—"), *((c, c) for c in field.choices)], **common
            )
        elif field.kind == FieldKind.LINK:
            form.fields[field.key] = forms.URLField(max_length=500, assume_scheme="https", **common)
        elif field.kind == FieldKind.DATE:
            form.fields[field.key] = forms.DateField(
                widget=forms.DateInput({"type": "date"}), **common
            )
        else:
            form.fields[field.key] = forms.CharField(max_length=500, **common)
        if field.visibility != Visibility.EVERYONE:
            form.fields[field.key].help_text = Visibility(field.visibility).label
    return form


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    _section(request)
    me = _me(request)
    person = access.access_user(me, person_id)
    if not access.can(me, "edit_profile", person):
        raise access.NotFound
    profile = services.profile_of(person)
    data = request.POST if request.method == "POST" else None
    held = {kind: [] for kind in TopicKind}  # type: dict[str, list[Any]]
    for item in person.topics.select_related("topic").order_by("-level", "topic__name"):
        held[item.kind].append(item)
    personal = PersonalForm(
        data,
        prefix="me",
        initial={name: getattr(profile, name) for name in PersonalForm.base_fields},
    )
    can_edit_org = access.can(me, "edit_org", person)
    organisation = OrganisationForm(
        data if can_edit_org else None,
        prefix="org",
        units=list(OrgUnit.objects.order_by("path").values_list("id", "name")),
        sites=list(Site.objects.order_by("name").values_list("id", "name")),
        initial={
            "job_title": profile.job_title,
            "org_unit": profile.org_unit_id,
            "site": profile.site_id,
            "manager": profile.manager.email if profile.manager else "",
        },
    )
    skills = SkillFormSet(
        data,
        prefix="skill",
        initial=[{"name": i.topic.name, "level": i.level} for i in held[TopicKind.SKILL]],
    )
    languages = LanguageFormSet(
        data,
        prefix="lang",
        initial=[
            {"language": s.language, "level": s.level}
            for s in person.spoken_languages.order_by("language")
        ],
    )
    lists = TopicListsForm(
        data,
        prefix="topics",
        initial={kind.value: ", ".join(i.topic.name for i in held[kind]) for kind in TopicKind},
    )
    custom = _custom_fields_form(person, data)
    forms_: list[Any] = [personal, skills, languages, lists, custom]
    if can_edit_org:
        forms_.append(organisation)
    if request.method == "POST" and all(f.is_valid() for f in forms_):
        try:
            _save_profile(
                request,
                me,
                person,
                personal,
                organisation if can_edit_org else None,
                skills,
                languages,
                lists,
                custom,
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The profile is saved."))
            return redirect("person", person_id=person.pk)
    status_form = None
    if me.pk == person.pk:
        status = {"availability": profile.availability, "status_text": profile.status_text}
        status_form = StatusForm(initial=status)
    context = {
        "person": person,
        "profile": profile,
        "personal": personal,
        "organisation": organisation if can_edit_org else None,
        "skills": skills,
        "languages": languages,
        "lists": lists,
        "custom": custom,
        "photo_form": PhotoForm(),
        "status_form": status_form,
    }
    invalid = request.method == "POST"
    return render(request, "directory/profile_edit.html", context, status=400 if invalid else 200)


def _save_profile(
    request: HttpRequest,
    me: User,
    person: User,
    personal: PersonalForm,
    organisation: OrganisationForm | None,
    skills: Any,
    languages: Any,
    lists: TopicListsForm,
    custom: forms.Form,
) -> None:
    """Every part through its service, all or nothing."""
    from django.db import transaction

    origin = Origin.of(request)
    with transaction.atomic():
        changes: dict[str, Any] = dict(personal.cleaned_data)
        if organisation is not None:
            org = organisation.cleaned_data
            changes["job_title"] = org["job_title"]
            changes["org_unit"] = OrgUnit.objects.filter(pk=org["org_unit"]).first()
            changes["site"] = Site.objects.filter(pk=org["site"]).first()
            manager = None
            if org["manager"]:
                manager = selectors.people(me).filter(email=org["manager"].lower()).first()
                if manager is None:
                    raise ServiceError(_("Nobody active has this e-mail."), field="manager")
            changes["manager"] = manager
        services.profile_update(actor=me, person=person, origin=origin, changes=changes)
        skill_items = [
            (row["name"], row["level"]) for row in skills.cleaned_data if row.get("name")
        ]
        services.topics_set(
            actor=me, person=person, origin=origin, kind=TopicKind.SKILL, items=skill_items
        )
        for kind, names in lists.lists().items():
            services.topics_set(
                actor=me, person=person, origin=origin, kind=kind, items=[(n, None) for n in names]
            )
        services.languages_set(
            actor=me,
            person=person,
            origin=origin,
            items=[
                (row["language"], row["level"])
                for row in languages.cleaned_data
                if row.get("language")
            ],
        )
        values = {
            key: (value.isoformat() if hasattr(value, "isoformat") else str(value or ""))
            for key, value in custom.cleaned_data.items()
        }
        if values:
            services.field_values_set(actor=me, person=person, origin=origin, values=values)


@login_required
@require_POST
def photo_upload(request: HttpRequest, person_id: int) -> HttpResponse:
    me = _me(request)
    person = access.access_user(me, person_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a photo to upload."))
    else:
        try:
            services.photo_set(
                actor=me,
                person=person,
                origin=Origin.of(request),
                source=form.cleaned_data["photo"],
            )
            messages.success(request, _("The photo is saved."))
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("person-edit", person_id=person.pk)


@login_required
@require_POST
def photo_remove(request: HttpRequest, person_id: int) -> HttpResponse:
    me = _me(request)
    person = access.access_user(me, person_id)
    services.photo_remove(actor=me, person=person, origin=Origin.of(request))
    messages.success(request, _("The photo is removed."))
    return redirect("person-edit", person_id=person.pk)


@login_required
@require_POST
def status_set(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    form = StatusForm(request.POST)
    if form.is_valid():
        services.status_set(
            actor=me,
            availability=form.cleaned_data["availability"],
            text=form.cleaned_data["status_text"],
        )
        messages.success(request, _("Your status is saved."))
    return _back(request, me)


def _back(request: HttpRequest, person: User) -> HttpResponse:
    target = str(request.POST.get("next", ""))
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("person", person_id=person.pk)


@login_required
@require_POST
def follow(request: HttpRequest, person_id: int, on: bool) -> HttpResponse:
    me = _me(request)
    person = access.access_user(me, person_id)
    try:
        if on:
            services.follow(actor=me, person=person)
        else:
            services.unfollow(actor=me, person=person)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(request, person)


@login_required
@require_POST
def endorse(request: HttpRequest, person_id: int, topic_id: int, on: bool) -> HttpResponse:
    me = _me(request)
    person = access.access_user(me, person_id)
    topic = Topic.objects.filter(pk=topic_id).first()
    if topic is None:
        raise Http404
    try:
        if on:
            services.endorse(actor=me, person=person, topic=topic)
        else:
            services.endorsement_withdraw(actor=me, person=person, topic=topic)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(request, person)


@login_required
def org_chart(request: HttpRequest, person_id: int) -> HttpResponse:
    _section(request)
    chart = selectors.org_chart(_me(request), person_id)
    return render(request, "directory/org_chart.html", {"chart": chart})


@login_required
def org_unit(request: HttpRequest, unit_id: int) -> HttpResponse:
    _section(request)
    view = selectors.unit_view(_me(request), unit_id)
    return render(request, "directory/org_unit.html", {"view": view})


@login_required
def follows(request: HttpRequest, person_id: int, direction: str) -> HttpResponse:
    _section(request)
    me = _me(request)
    person = access.access_user(me, person_id)
    people = (
        selectors.followers(me, person)
        if direction == "followers"
        else selectors.following(me, person)
    )
    listed = list(selectors.with_profile(people).order_by("profile__sort_name", "id")[:500])
    return render(
        request,
        "directory/follows.html",
        {"person": person, "people": listed, "direction": direction},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_fields_admin(request: HttpRequest) -> HttpResponse:
    """Administrators define the custom fields of every profile."""
    me = _me(request)
    if not access.is_admin(me):
        raise access.NotFound
    fields = selectors.profile_fields(me)
    editing = fields.filter(key=str(request.GET.get("key", ""))[:50]).first()
    initial = {}
    if editing is not None:
        initial = {
            "key": editing.key,
            "label": editing.label,
            "kind": editing.kind,
            "choices": ", ".join(editing.choices),
            "visibility": editing.visibility,
            "position": editing.position,
        }
    form = ProfileFieldForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.profile_field_save(
                actor=me,
                origin=Origin.of(request),
                key=data["key"],
                label=data["label"],
                kind=FieldKind(data["kind"]),
                visibility=Visibility(data["visibility"]),
                choices=data["choices"].split(","),
                position=data["position"],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("The field “%(label)s” is saved.") % {"label": data["label"]}
            )
            return redirect("profile-fields-admin")
    context = {"form": form, "fields": fields, "editing": editing}
    return render(
        request, "directory/profile_fields_admin.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_admin(request: HttpRequest) -> HttpResponse:
    """HR and administrators shape the organisation: units (a tree) and sites."""
    me = _me(request)
    if not access.has_role(me, Role.HR):
        raise access.NotFound
    units = selectors.org_unit_tree(me)
    choices = [(unit.pk, "\u2003" * depth + unit.name) for unit, depth, _n in units]
    editing = OrgUnit.objects.filter(pk=_int(request.GET.get("unit")) or 0).first()
    unit_form = OrgUnitForm(
        request.POST if request.POST.get("form") == "unit" else None,
        units=choices,
        initial={"name": editing.name, "parent": editing.parent_id, "code": editing.code}
        if editing
        else {},
    )
    site_form = SiteForm(request.POST if request.POST.get("form") == "site" else None)
    origin = Origin.of(request)
    try:
        if unit_form.is_bound and unit_form.is_valid():
            data = unit_form.cleaned_data
            parent = OrgUnit.objects.filter(pk=data["parent"]).first()
            target = OrgUnit.objects.filter(pk=_int(request.POST.get("unit")) or 0).first()
            services.org_unit_save(
                actor=me,
                origin=origin,
                name=data["name"],
                parent=parent,
                code=data["code"],
                unit=target,
            )
            messages.success(request, _("The unit “%(name)s” is saved.") % {"name": data["name"]})
            return redirect("organisation-admin")
        if site_form.is_bound and site_form.is_valid():
            services.site_save(actor=me, origin=origin, **site_form.cleaned_data)
            messages.success(request, _("The site is saved."))
            return redirect("organisation-admin")
    except ServiceError as exc:
        form = unit_form if unit_form.is_bound else site_form
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    context = {
        "units": units,
        "sites": selectors.sites(me),
        "unit_form": unit_form,
        "site_form": site_form,
        "editing": editing,
    }
    invalid = unit_form.errors or site_form.errors
    return render(
        request, "directory/organisation_admin.html", context, status=400 if invalid else 200
    )


def _int(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None
