"""The event stream for programs without a socket: long polling."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import AuthenticationError

from essaim.accounts.models import User
from essaim.api_base import viewer

from . import credentials, events, presence

router = Router(tags=["events"])
POLL_INTERVAL = 0.2  # seconds between looks at the stream while waiting


class EventOut(Schema):
    id: int
    type: str
    data: dict[str, Any]


class EventsOut(Schema):
    events: list[EventOut]
    last_event_id: int
    resync: bool


class EventsQuery(Schema):
    last_event_id: int = Field(0, ge=0)
    timeout: float = Field(25, ge=0, le=settings.EVENTS_LONG_POLL_MAX_SECONDS)


@router.get(
    "/events",
    response=EventsOut,
    summary="Events after last_event_id (waits up to `timeout` seconds when none is ready)",
)
def events_after(request: HttpRequest, query: Query[EventsQuery]) -> Any:
    me = viewer(request)
    credential = credentials.from_request(request, me)
    deadline = time.monotonic() + query.timeout
    checked = time.monotonic()
    while True:
        batch = events.after(me, query.last_event_id)
        if batch.events or batch.resync or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
        if time.monotonic() - checked >= 1:  # as the sockets: dead credentials stop it
            checked = time.monotonic()
            if credentials.changed([credential]).get(credential, credential) is None:
                raise AuthenticationError
            me = User.objects.get(pk=me.pk)  # losing a community counts at once too
    return {
        "events": [{"id": e.seq, "type": e.type, "data": e.data} for e in batch.events],
        "last_event_id": batch.last_event_id,
        "resync": batch.resync,
    }


class PresenceOut(Schema):
    user: int
    status: str = Field(description="online, away, dnd or offline")
    message: str


class PresenceQuery(Schema):
    users: str = Field(max_length=5000, pattern=r"^\d+(,\d+)*$", description="ids, comma-separated")


@router.get("/presence", response=list[PresenceOut], summary="Presence of people (at most 500)")
def presence_of(request: HttpRequest, query: Query[PresenceQuery]) -> list[dict[str, Any]]:
    ids = [int(i) for i in query.users.split(",")][:500]
    return presence.states_for(viewer(request), ids)
