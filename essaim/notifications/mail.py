"""E-mails of notifications: one at once for what is urgent, a digest for the rest, each
in the person's language, with a signed link that stops that kind of e-mail. What a
confidential community holds never leaves by e-mail: its notifications say only that
something happened there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy

from essaim.accounts.models import User
from essaim.directory.models import Availability, Profile

from . import selectors
from .models import Preferences

UNSUBSCRIBE_SALT = "essaim.notifications.unsubscribe"
UNSUBSCRIBE_DAYS = 60  # a link in an old e-mail stops working after this
DIGEST = "digest"  # the unsubscribe link of the digest itself
CONFIDENTIAL = gettext_lazy(
    "You have something new in a confidential community: open Essaim to read it."
)


def unsubscribe_token(user: User, prefs: Preferences, what: str) -> str:
    """A link's token: who, which kind of e-mail (or the digest), and the version of
    their links, which each use bumps (a replayed link then changes nothing)."""
    data = {"u": user.pk, "k": what, "v": prefs.link_version}
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT, compress=True)


def read_token(token: str) -> dict[str, object]:
    """The token's content; signing.BadSignature (SignatureExpired too) when it is forged,
    changed or too old."""
    found = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=UNSUBSCRIBE_DAYS))
    if not isinstance(found, dict):
        raise signing.BadSignature("not a token")
    return found


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _zone(profile: Profile | None) -> ZoneInfo:
    try:
        return (
            ZoneInfo(profile.timezone)
            if profile and profile.timezone
            else ZoneInfo(settings.TIME_ZONE)
        )
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def held_until(user: User, prefs: Preferences, now: datetime | None = None) -> datetime | None:
    """When the person may be disturbed again: the end of their do-not-disturb status or
    of their quiet hours; None when they may be now. A do-not-disturb without end holds
    until the digest (the far future)."""
    now = now or timezone.now()
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.current_availability == Availability.DO_NOT_DISTURB:
        return profile.status_until or now + timedelta(days=365)
    start, end = prefs.quiet_from, prefs.quiet_until
    if start is None or end is None:
        return None
    local = now.astimezone(_zone(profile))
    clock = local.time()
    quiet = start <= clock < end if start < end else clock >= start or clock < end
    if not quiet:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return until if until > local else until + timedelta(days=1)


@dataclass
class Line:
    text: str  # plain text: the sentence without its markup
    url: str


def said(item: selectors.Item) -> str:
    """What a notification says outside Essaim, as plain text in the active language: a
    confidential community's say that there is something, not what."""
    row = item.notification
    if row.community is not None and row.community.confidential:
        return str(CONFIDENTIAL)
    return unescape(strip_tags(str(item.text)))


def _lines(found: list[selectors.Item]) -> list[Line]:
    return [Line(text=said(item), url=_absolute(item.url)) for item in found]


def message(
    user: User, prefs: Preferences, found: list[selectors.Item], *, digest: bool
) -> EmailMultiAlternatives:
    """The e-mail of ``found`` (notifications already checked against the person's
    access, one at least) to ``user``."""
    rows = [item.notification for item in found]
    with translation.override(user.language or settings.LANGUAGE_CODE):
        lines = _lines(found)
        what = DIGEST if digest else rows[0].kind
        stop = _absolute(
            reverse("notification-unsubscribe", args=[unsubscribe_token(user, prefs, what)])
        )
        context = {
            "user": user,
            "lines": lines,
            "digest": digest,
            "kind": rows[0].get_kind_display(),
            "unsubscribe": stop,
            "centre": _absolute(reverse("notifications")),
            "settings_url": _absolute(reverse("notification-settings")),
        }
        subject = " ".join(render_to_string("notifications/email_subject.txt", context).split())
        body = render_to_string("notifications/email.txt", context)
    mail = EmailMultiAlternatives(subject, body, None, [user.email])
    # One-click unsubscribe (RFC 8058): mail clients POST to the link.
    mail.extra_headers = {
        "List-Unsubscribe": f"<{stop}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    return mail


def push_payload(user: User, item: selectors.Item) -> dict[str, str]:
    """What the service worker shows: the sentence (or, for a confidential community,
    only that there is something), and where a tap leads."""
    row = item.notification
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = said(item)
    url = _absolute(item.url)
    return {"title": "Essaim", "body": text, "url": url, "tag": f"{row.kind}-{row.pk}"}
