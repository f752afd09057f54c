"""Community pages. Thin: selectors decide what each viewer sees, services make every
change, access.py answers every "may they?"."""

from __future__ import annotations

import json
from typing import Any, BinaryIO, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.content import views as content_views
from essaim.content.selectors import Feed
from essaim.directory import selectors as directory_selectors
from essaim.http import Origin
from essaim.realtime import events

from . import selectors, services
from .forms import CommunityForm, InviteForm, RuleForm
from .models import Community, Role

MAX_PAGE = 100


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    request.section = "communities"  # type: ignore[attr-defined]
    return user


def _home(community: Community) -> HttpResponse:
    return redirect("community", slug=community.slug)


@login_required
def community_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    scope = request.GET.get("scope", "mine")
    scope = scope if scope in selectors.SCOPES else "mine"
    raw_page = request.GET.get("page", "1")
    page = min(max(int(raw_page), 1), MAX_PAGE) if raw_page.isdigit() else 1
    text = request.GET.get("q", "")[:100]
    archived = request.GET.get("archived") == "1"
    found = selectors.browse(
        me,
        scope=scope,
        text=text,
        archived=archived,
        offset=(page - 1) * selectors.PAGE_SIZE,
    )
    context = {
        "found": found,
        "scope": scope,
        "text": text,
        "archived": archived,
        "page": page,
        "has_next": page * selectors.PAGE_SIZE < found.total and page < MAX_PAGE,
        "invitations": selectors.my_invitations(me),
        "can_create": access.sees_everyone(me),
    }
    return render(request, "communities/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def community_new(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    if not access.sees_everyone(me):
        raise access.NotFound
    form = CommunityForm(request.POST or None, initial={"visibility": "public"})
    if request.method == "POST" and form.is_valid():
        try:
            community = services.community_create(
                actor=me,
                origin=Origin.of(request),
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                visibility=form.cleaned_data["visibility"],
                **form.settings(),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return _home(community)
    status = 400 if form.errors else 200
    return render(request, "communities/edit.html", {"form": form}, status=status)


@login_required
def community_home(request: HttpRequest, slug: str) -> HttpResponse:
    me = _me(request)
    position = events.head_now()  # before the state: the page's socket resumes from it
    community = access.access_community_by_slug(me, slug)
    view = selectors.community_view(me, community)
    feed: dict[str, Any] = {}
    if view.can["read"]:
        feed = content_views.feed_context(request, Feed(scope="community", community=community))
        if request.GET.get("fragment"):  # the next page of the feed (infinite scroll)
            return render(request, "content/feed_page.html", feed)
        feed.update(content_views.composer_context(me, community))
    # Owners and animators are listed above, from the community's view.
    shown = selectors.members(me, community, limit=12, runners=False) if view.can["read"] else []
    # The member count follows joins and leaves live (events.js): both plural forms.
    count_forms = json.dumps(
        [ngettext("%(counter)s member", "%(counter)s members", n) for n in (1, 2)]
    )
    context = {
        **feed,
        "view": view,
        "members": shown,
        "events_from": position,
        "count_forms": count_forms,
    }
    return render(request, "communities/home.html", context)


@login_required
@require_POST
def community_act(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """Join, leave, ask to join, answer an invitation, archive or restore."""
    me = _me(request)
    community = access.access_community_by_slug(me, slug)
    origin = Origin.of(request)
    try:
        if action == "join":
            services.join(actor=me, community=community)
        elif action == "request":
            services.join_request(
                actor=me, community=community, message=request.POST.get("message", "")
            )
            messages.success(request, _("Your request is sent to the community's animators."))
        elif action == "leave":
            services.leave(actor=me, community=community)
        elif action in ("accept", "decline"):
            invitation = selectors.my_invitations(me).filter(community=community).first()
            if invitation is None:
                raise access.NotFound
            services.invitation_answer(actor=me, invitation=invitation, accept=action == "accept")
        elif action in ("archive", "restore"):
            services.community_archive(
                actor=me, origin=origin, community=community, archived=action == "archive"
            )
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    if not access.can(me, access.VIEW, community):  # declined a secret one, or left it
        return redirect("communities")
    return _home(community)


def _places(me: User) -> dict[str, list[tuple[int, str]]]:
    """The units (as a tree) and sites the viewer may pick from."""
    tree = directory_selectors.org_unit_tree(me)
    return {
        "units": [(u.pk, "\u2003" * depth + u.name) for u, depth, _n in tree],
        "sites": list(directory_selectors.sites(me).values_list("id", "name")),
    }


def _invite_form(me: User, data: Any = None) -> InviteForm:
    return InviteForm(data, **_places(me))


@login_required
@require_http_methods(["GET", "POST"])
def community_members(request: HttpRequest, slug: str) -> HttpResponse:
    me = _me(request)
    community = access.access_community_by_slug(me, slug)
    view = selectors.community_view(me, community)
    if not view.can["read"]:
        raise access.NotFound
    form = _invite_form(me, request.POST or None) if view.can["manage"] else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        addresses = form.addresses()
        people = list(directory_selectors.people(me).filter(email__in=addresses))
        unknown = set(addresses) - {p.email for p in people}
        if unknown:
            form.add_error(
                "emails",
                _("Nobody found with: %(emails)s") % {"emails": ", ".join(sorted(unknown))},
            )
        else:
            unit, site = directory_selectors.places(me, data["org_unit"], data["site"])
            try:
                sent = services.invite(
                    actor=me,
                    origin=Origin.of(request),
                    community=community,
                    people=people,
                    org_unit=unit,
                    site=site,
                    role=data["role"],
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", len(sent))
                    % {"count": len(sent)},
                )
                return redirect("community-members", slug=community.slug)
    context = {
        "view": view,
        "members": selectors.members(me, community, limit=500),
        "form": form,
        "requests": selectors.join_requests(me, community),
        "invitations": selectors.invitations(me, community),
        "roles": Role.choices,
    }
    return render(
        request, "communities/members.html", context, status=400 if form and form.errors else 200
    )


@login_required
@require_POST
def community_member_act(
    request: HttpRequest, slug: str, user_id: int, action: str
) -> HttpResponse:
    """Change a member's role, remove them, or decide on their request to join."""
    me = _me(request)
    community = access.access_community_by_slug(me, slug)
    origin = Origin.of(request)
    try:
        if action in ("approve", "decline"):
            join_request = selectors.join_requests(me, community).filter(user_id=user_id).first()
            if join_request is None:
                raise access.NotFound
            services.join_request_decide(
                actor=me, origin=origin, request=join_request, approve=action == "approve"
            )
        else:
            membership = access.visible(me, community.memberships.filter(user_id=user_id)).first()
            if membership is None:
                raise access.NotFound
            if action == "role":
                services.role_set(
                    actor=me,
                    origin=origin,
                    community=community,
                    person=membership.user,
                    role=request.POST.get("role", ""),
                )
            elif action == "remove":
                services.member_remove(
                    actor=me, origin=origin, community=community, person=membership.user
                )
            else:
                raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("community-members", slug=community.slug)


@login_required
def community_settings_by_id(request: HttpRequest, community_id: int) -> HttpResponse:
    """A link that does not name its community (e-mails about a confidential one): the
    settings page, for whoever may configure it."""
    community = access.access_community(_me(request), community_id, "configure")
    return redirect("community-settings", slug=community.slug)


@login_required
@require_http_methods(["GET", "POST"])
def community_settings(request: HttpRequest, slug: str) -> HttpResponse:
    me = _me(request)
    community = access.access_community_by_slug(me, slug)
    if not access.can(me, "configure", community):
        raise access.NotFound
    initial = {
        "name": community.name,
        "slug": community.slug,
        "visibility": community.visibility,
        "confidential": community.confidential,
        "kind": community.kind,
        "end_date": community.end_date,
        "description": community.description,
        "rules": community.rules,
        "tags": ", ".join(community.tags),
    }
    posted = request.POST if request.method == "POST" else None
    rule_posted = posted is not None and posted.get("form") == "rule"
    form = CommunityForm(None if rule_posted else posted, initial=initial)
    form.fields["slug"].disabled = True
    rule = RuleForm(
        posted if rule_posted else None,
        initial={"org_unit": community.org_unit_id, "site": community.site_id},
        **_places(me),
    )
    if rule.is_bound and rule.is_valid():
        places = rule.cleaned_data["org_unit"], rule.cleaned_data["site"]
        unit, site = directory_selectors.places(me, *places)
        try:
            services.membership_rule_set(
                actor=me, origin=Origin.of(request), community=community, org_unit=unit, site=site
            )
        except ServiceError as exc:
            rule.add_error(None, exc.message)
        else:
            messages.success(request, _("The automatic members are up to date."))
            return redirect("community-settings", slug=community.slug)
    if form.is_bound and form.is_valid():
        try:
            services.community_update(
                actor=me,
                origin=Origin.of(request),
                community=community,
                changes={
                    "name": form.cleaned_data["name"],
                    "visibility": form.cleaned_data["visibility"],
                    **form.settings(),
                },
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The settings are saved."))
            return _home(community)
    context = {"form": form, "community": community, "rule": rule}
    status = 400 if form.errors or rule.errors else 200
    return render(request, "communities/edit.html", context, status=status)


@login_required
@require_POST
def community_cover(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload (field ``cover``) or remove (``remove``) the cover image."""
    me = _me(request)
    community = access.access_community_by_slug(me, slug)
    upload = request.FILES.get("cover")
    if upload is None and "remove" not in request.POST:
        messages.error(request, _("Choose an image."))
        return redirect("community-settings", slug=community.slug)
    try:
        source = cast(BinaryIO, upload) if upload is not None else None
        services.cover_set(actor=me, origin=Origin.of(request), community=community, source=source)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("community-settings", slug=community.slug)


urlpatterns = [
    path("communities/", community_list, name="communities"),
    path("communities/new/", community_new, name="community-new"),
    path("c/<slug:slug>/", community_home, name="community"),
    path("c/<slug:slug>/members/", community_members, name="community-members"),
    path("c/<slug:slug>/settings/", community_settings, name="community-settings"),
    path(
        "communities/<id:community_id>/settings/",
        community_settings_by_id,
        name="community-settings-by-id",
    ),
    path("c/<slug:slug>/cover/", community_cover, name="community-cover"),
    path(
        "c/<slug:slug>/members/<id:user_id>/<str:action>/",
        community_member_act,
        name="community-member-act",
    ),
    path("c/<slug:slug>/<str:action>/", community_act, name="community-act"),
]
