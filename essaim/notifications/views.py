"""The notification centre and the notification settings. Thin: the selectors decide
what each person sees, the services what changes."""

from __future__ import annotations

from datetime import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.communities import selectors as community_selectors
from essaim.realtime import events

from . import mail, selectors, services
from .models import Channel, Digest, Kind, Level


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _before(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    request.section = "notifications"  # type: ignore[attr-defined]
    me = _me(request)
    unread = request.GET.get("show") == "unread"
    position = events.head_now()  # before the list: the page's socket resumes from it
    found = selectors.page(me, before=_before(request), unread=unread)
    context = {
        "items": found,
        "unread_only": unread,
        "older": found[-1].notification.pk if len(found) == selectors.PAGE else None,
        "events_from": position,
    }
    partial = request.headers.get("HX-Request")  # the list again, live or "older"
    template = "notifications/list.html" if partial else "notifications/centre.html"
    return render(request, template, context)


@login_required
def badge(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"unread": selectors.unread_count(_me(request))})


@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Read it and go where it happened (a GET: it is a link, and reading is harmless)."""
    me = _me(request)
    notification = access.access_notification(me, notification_id)
    item = selectors.items([notification])
    if not item:
        raise access.NotFound
    services.mark_read(actor=me, notification=notification)
    return HttpResponseRedirect(item[0].url)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=_me(request))
    return HttpResponseRedirect(reverse("notifications"))


def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        raise ServiceError(_("Give the time as HH:MM."), field="quiet_from") from None


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    request.section = "notifications"  # type: ignore[attr-defined]
    me = _me(request)
    if request.method == "POST":
        try:
            _save_settings(request, me)
            messages.success(request, _("Your notification settings are saved."))
            return HttpResponseRedirect(reverse("notification-settings"))
        except ServiceError as exc:
            messages.error(request, exc.message)
    prefs = services.preferences_of(me)
    levels = selectors.community_levels(me)
    mine = community_selectors.mine(me).order_by("name")
    context = {
        "prefs": prefs,
        "kinds": Kind.choices,
        "channels": Channel.choices,
        "digests": Digest.choices,
        "levels": Level.choices,
        "communities": [(c, levels.get(c.pk, Level.DEFAULT)) for c in mine],
        "devices": list(selectors.devices(me)),
    }
    return render(request, "notifications/settings.html", context)


def _save_settings(request: HttpRequest, me: User) -> None:
    data = request.POST
    if data.get("form") == "device":
        device = access.access_push_subscription(me, data.get("device", ""))
        services.push_unsubscribe(actor=me, subscription=device)
        return
    if data.get("form") == "community":
        community = access.access_community(me, data.get("community", ""))
        services.community_level_set(actor=me, community=community, level=data.get("level", ""))
        return
    channels = {kind: data.getlist(f"channel-{kind}") for kind in Kind.values}
    services.preferences_set(
        actor=me,
        channels=channels,
        digest=data.get("digest", ""),
        quiet_hours=(_time(data.get("quiet_from", "")), _time(data.get("quiet_until", ""))),
    )


@csrf_exempt  # the link's signed token is the credential; mail clients POST it (RFC 8058)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """An e-mail's link: GET asks to confirm (a link previewer must not unsubscribe
    anyone), POST stops that kind of e-mail. Works signed out."""
    context: dict[str, object] = {"token": token, "done": None, "error": None}
    status = 200
    if request.method == "POST":
        try:
            what = services.unsubscribe(token=token)
            context["done"] = _("digests") if what == mail.DIGEST else Kind(what).label
        except ServiceError as exc:
            context["error"], status = exc.message, 400
    else:
        try:
            mail.read_token(token)
        except signing.BadSignature:
            context["error"], status = _("This link is not valid or has expired."), 400
    return render(request, "notifications/unsubscribe.html", context, status=status)


urlpatterns = [
    path("notifications/", centre, name="notifications"),
    path("notifications/badge/", badge, name="notification-badge"),
    path("notifications/read-all/", read_all, name="notifications-read-all"),
    path("notifications/settings/", settings_page, name="notification-settings"),
    path("notifications/<id:notification_id>/", open_notification, name="notification-open"),
    path("notifications/stop/<str:token>/", unsubscribe, name="notification-unsubscribe"),
]
