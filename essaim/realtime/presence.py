"""Presence: online, away, do-not-disturb or offline, and a status message — kept in the
cache only (Redis at scale), with expiry, never in the database.

Two cache keys per person: ``seen`` (online or away) lives PRESENCE_TTL seconds and is
refreshed by every hub holding one of the person's sockets; ``status`` (do-not-disturb
and the message) lives as long as the person asked. Changes travel to the sockets that
watch the person as ephemeral ``presence`` events. A cache that is down makes everyone
look offline; it never fails a socket or a request."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError, clean_text

from . import bus

ONLINE, AWAY, DND, OFFLINE = "online", "away", "dnd", "offline"
PRESENCE_TTL = 60  # seconds without a refresh before someone shows offline
REFRESH_SECONDS = 20
MESSAGE_MAX = 100
STATUS_LONGEST = timedelta(days=7)
log = logging.getLogger(__name__)


def _seen_key(user_id: int) -> str:
    return f"presence:seen:{user_id}"


def _status_key(user_id: int) -> str:
    return f"presence:status:{user_id}"


def _states(user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Everyone's state, as others see it: {"user", "status", "message"}."""
    keys = [k for uid in user_ids for k in (_seen_key(uid), _status_key(uid))]
    try:
        found = cache.get_many(keys)
    except Exception as error:  # the cache is down: everyone looks offline
        log.warning("presence unavailable: %s", error)
        found = {}
    states = {}
    for uid in user_ids:
        seen = found.get(_seen_key(uid))
        status = found.get(_status_key(uid)) or {}
        shown = OFFLINE if seen is None else DND if status.get("dnd") else seen
        states[uid] = {"user": uid, "status": shown, "message": status.get("message", "")}
    return states


def _tell_watchers(before: dict[int, dict[str, Any]]) -> None:
    """Announce the states that changed since ``before`` (one cache read for all)."""
    after = _states(list(before))
    for uid, state in after.items():
        if state != before[uid]:
            message = {"type": "presence", "data": state, "watchers_of": uid}
            bus.announce(bus.EPHEMERAL, json.dumps(message))


def seen(user_ids: list[int], *, away: Collection[int] = ()) -> None:
    """Called by the hubs for the people with an open socket (``away`` for those whose
    every socket says so); tells the watchers of those whose state changed."""
    if not user_ids:
        return
    before = _states(user_ids)
    try:
        cache.set_many(
            {_seen_key(uid): AWAY if uid in away else ONLINE for uid in user_ids}, PRESENCE_TTL
        )
    except Exception as error:
        log.warning("presence unavailable: %s", error)
        return
    _tell_watchers(before)


def gone(user_id: int) -> None:
    """The person's last socket in this process closed. Another process holding one of
    theirs sets them online again at its next refresh."""
    before = _states([user_id])
    try:
        cache.delete(_seen_key(user_id))
    except Exception as error:
        log.warning("presence unavailable: %s", error)
        return
    _tell_watchers(before)


def status_set(
    *, user: User, dnd: bool, message: str, minutes: int | None = None
) -> dict[str, Any]:
    """The person's own do-not-disturb and status message, until ``minutes`` from now
    (at most a week; a day when not said)."""
    if not access.is_active(user):
        raise access.Forbidden
    message = clean_text(message, "message", MESSAGE_MAX)
    lasts = timedelta(minutes=minutes) if minutes is not None else timedelta(days=1)
    if not timedelta(minutes=1) <= lasts <= STATUS_LONGEST:
        raise ServiceError(_("A status lasts from one minute to seven days."), field="minutes")
    before = _states([user.pk])
    try:
        if dnd or message:
            cache.set(_status_key(user.pk), {"dnd": dnd, "message": message}, lasts.total_seconds())
        else:
            cache.delete(_status_key(user.pk))
    except Exception as error:
        log.warning("presence unavailable: %s", error)
        raise ServiceError(_("Presence is unavailable for a moment; try again.")) from error
    _tell_watchers(before)
    return _states([user.pk])[user.pk]


def states_for(viewer: access.Viewer, user_ids: list[int]) -> list[dict[str, Any]]:
    """The states of the people among ``user_ids`` whom ``viewer`` may see."""
    shown = list(
        access.visible(viewer, User.objects.filter(pk__in=user_ids)).values_list("pk", flat=True)
    )
    states = _states(shown)
    return [states[uid] for uid in shown]
