from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from essaim import access
from essaim.accounts.models import Role
from essaim.notifications import selectors as notification_selectors
from essaim.realtime import events

# The domains of the navigation, in order; a url of None is a section still to come.
SECTIONS: list[tuple[str, Any, str | None]] = [
    ("home", _("Home"), "home"),
    ("communities", _("Communities"), "communities"),
    ("questions", _("Knowledge"), "knowledge"),
    ("chat", _("Chat"), "chat"),
    ("directory", _("Directory"), "directory"),
    ("search", _("Search"), "search"),
    ("notifications", _("Notifications"), "notifications"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    # External customers live in their communities: the directory is for employees.
    hidden = set() if access.sees_everyone(user) else {"directory"}
    nav = [
        {"key": key, "label": label, "url": reverse(name) if name else None}
        for key, label, name in SECTIONS
        if key not in hidden
    ]
    signed_in = access.is_active(user)
    return {
        "nav": nav,
        # Read when the page shows them, in this order: the stream's position first, so
        # that the badge's socket misses nothing counted after it.
        "events_head": SimpleLazyObject(lambda: events.head_now() if signed_in else 0),
        "notifications_unread": SimpleLazyObject(
            lambda: notification_selectors.unread_count(user) if signed_in else 0
        ),
        "current_section": getattr(request, "section", ""),
        "can_manage_people": access.is_admin(user),
        "can_read_audit": access.has_role(user, Role.COMPLIANCE),
        "can_manage_organisation": access.has_role(user, Role.HR),
    }


def csrf(request: HttpRequest) -> dict[str, Any]:
    """The CSRF field, made once per page: Django's Jinja2 backend makes a new masked token
    for every form of the page (eight per post card), which cost more than the page."""
    return {
        "csrf_input": SimpleLazyObject(lambda: csrf_input(request)),
        "csrf_token": SimpleLazyObject(lambda: get_token(request)),
    }
