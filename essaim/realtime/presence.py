"""Presence: online, away, do-not-disturb or offline, with the person's status message.

Whether someone is connected lives in the cache only (Redis at scale), with expiry: a
``seen`` key (online, or away when every page of theirs is idle) that every hub holding
one of their sockets refreshes; without it they are offline. What they chose — away or
do-not-disturb, a status message, until when — is their profile's (directory.services.
status_set). Changes travel to the sockets that watch the person as ephemeral
``presence`` events. A cache that is down makes everyone look offline; it never fails a
socket or a request."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from typing import Any

from django.core.cache import cache

from essaim import access
from essaim.accounts.models import User
from essaim.directory.models import Availability, Profile

from . import bus

ONLINE, AWAY, DND, OFFLINE = "online", "away", "dnd", "offline"
PRESENCE_TTL = 60  # seconds without a refresh before someone shows offline
REFRESH_SECONDS = 20
log = logging.getLogger(__name__)


def _seen_key(user_id: int) -> str:
    return f"presence:seen:{user_id}"


def _states(user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Everyone's state, as others see it: {"user", "status", "message"}."""
    try:
        seen = cache.get_many([_seen_key(uid) for uid in user_ids])
    except Exception as error:  # the cache is down: everyone looks offline
        log.warning("presence unavailable: %s", error)
        seen = {}
    profiles = Profile.objects.filter(user__in=user_ids).only(
        "user_id", "availability", "status_text", "status_until"
    )
    chosen = {p.user_id: p for p in profiles}
    states = {}
    for uid in user_ids:
        connected = seen.get(_seen_key(uid))
        profile = chosen.get(uid)
        availability = profile.current_availability if profile else Availability.AUTO
        if connected is None:
            shown = OFFLINE
        elif availability == Availability.AUTO:
            shown = connected
        else:
            shown = DND if availability == Availability.DO_NOT_DISTURB else AWAY
        message = profile.current_status_text if profile else ""
        states[uid] = {"user": uid, "status": shown, "message": message}
    return states


def _announce(state: dict[str, Any]) -> None:
    message = {"type": "presence", "data": state, "watchers_of": state["user"]}
    bus.announce(bus.EPHEMERAL, json.dumps(message))


def _tell_watchers(before: dict[int, dict[str, Any]]) -> None:
    """Announce the states that changed since ``before`` (one read for all)."""
    for uid, state in _states(list(before)).items():
        if state != before[uid]:
            _announce(state)


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


def tell(user_id: int) -> None:
    """Tell the person's watchers their state, after a change of their profile's status."""
    _announce(_states([user_id])[user_id])


def watchable(viewer: access.Viewer, user_ids: list[int]) -> list[int]:
    """The people among ``user_ids`` whose presence ``viewer`` may see (the profile's
    "presence" field)."""
    people = access.visible(viewer, User.objects.filter(pk__in=user_ids).order_by("pk"))
    field = access.PROFILE_FIELDS["presence"]
    return [p.pk for p in people if field in access.readable_visibilities(viewer, p)]


def states_of(user_ids: list[int]) -> list[dict[str, Any]]:
    """The states of people already checked by ``watchable``."""
    states = _states(user_ids)
    return [states[uid] for uid in user_ids]


def states_for(viewer: access.Viewer, user_ids: list[int]) -> list[dict[str, Any]]:
    return states_of(watchable(viewer, user_ids))


def connected(user_ids: Collection[int]) -> set[int]:
    """Those of ``user_ids`` with a page open (online or away): they see what comes in the
    app, and need no e-mail of it. A cache that is down: nobody (they get the e-mail)."""
    try:
        seen = cache.get_many([_seen_key(uid) for uid in user_ids])
    except Exception as error:
        log.warning("presence unavailable: %s", error)
        return set()
    return {uid for uid in user_ids if _seen_key(uid) in seen}
