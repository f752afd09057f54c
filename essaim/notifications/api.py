"""Notifications API: the caller's notifications, reading them, and their settings.
Thin: the selectors decide what each caller sees, the services what changes."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from essaim import access
from essaim.api_base import viewer

from . import push, selectors, services
from .models import Channel, Kind

router = Router(tags=["notifications"])

KindName = Literal[
    "mention",
    "message",
    "reply",
    "answer",
    "accepted",
    "reaction",
    "invitation",
    "join_request",
    "announcement",
    "post",
    "watch",
    "expert",
    "help",
]
ChannelName = Literal["app", "email", "push"]


class NotificationOut(Schema):
    id: int
    kind: KindName
    priority: Literal["low", "normal", "high"]
    text: str = Field(description="HTML: the sentence, names and title escaped")
    url: str = Field(description="the page where it happened")
    actors: list[int] = Field(description="the newest of those who did it")
    actor_count: int
    target_type: str
    target_id: int
    unread: bool
    updated_at: datetime.datetime


class PageOut(Schema):
    results: list[NotificationOut]
    unread: int
    before: int | None = Field(description="pass as ?before= for the older ones")


class ListParams(Schema):
    unread: bool = False
    before: int | None = Field(None, ge=1)


PRIORITY_NAMES = {0: "low", 1: "normal", 2: "high"}


def _out(item: selectors.Item) -> dict[str, Any]:
    row = item.notification
    return {
        "id": row.pk,
        "kind": row.kind,
        "priority": PRIORITY_NAMES[row.priority],
        "text": str(item.text),
        "url": item.url,
        "actors": row.actors,
        "actor_count": row.actor_count,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "unread": item.unread,
        "updated_at": row.updated_at,
    }


@router.get("/notifications", response=PageOut, summary="My notifications, newest first")
def notification_list(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    me = viewer(request)
    found = selectors.page(me, before=params.before, unread=params.unread)
    return {
        "results": [_out(i) for i in found],
        "unread": selectors.unread_count(me),
        "before": found[-1].notification.pk if len(found) == selectors.PAGE else None,
    }


class CountOut(Schema):
    unread: int


@router.post("/notifications/{notification_id}/read", response=CountOut, summary="Mark read")
def notification_read(request: HttpRequest, notification_id: int) -> dict[str, int]:
    me = viewer(request)
    services.mark_read(actor=me, notification=access.access_notification(me, notification_id))
    return {"unread": selectors.unread_count(me)}


@router.post("/notifications/read", response=CountOut, summary="Mark all read")
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    me = viewer(request)
    services.mark_all_read(actor=me)
    return {"unread": selectors.unread_count(me)}


class PreferencesIn(Schema):
    channels: dict[KindName, list[ChannelName]] | None = None
    digest: Literal["daily", "weekly", "never"] | None = None
    quiet_from: datetime.time | None = None
    quiet_until: datetime.time | None = None


class PreferencesOut(Schema):
    channels: dict[str, list[str]] = Field(description="every kind, with its channels")
    digest: str
    quiet_from: datetime.time | None
    quiet_until: datetime.time | None


def _preferences(prefs: Any) -> dict[str, Any]:
    return {
        "channels": {k: [c for c in Channel.values if prefs.wants(k, c)] for k in Kind.values},
        "digest": prefs.digest,
        "quiet_from": prefs.quiet_from,
        "quiet_until": prefs.quiet_until,
    }


@router.get("/notifications/preferences", response=PreferencesOut, summary="My settings")
def preferences_get(request: HttpRequest) -> dict[str, Any]:
    return _preferences(services.preferences_of(viewer(request)))


@router.put("/notifications/preferences", response=PreferencesOut, summary="Change my settings")
def preferences_put(request: HttpRequest, payload: PreferencesIn) -> dict[str, Any]:
    prefs = services.preferences_set(
        actor=viewer(request),
        channels={str(k): list(v) for k, v in payload.channels.items()}
        if payload.channels is not None
        else None,
        digest=payload.digest,
        quiet_hours=(payload.quiet_from, payload.quiet_until)
        if {"quiet_from", "quiet_until"} & payload.model_fields_set
        else None,
    )
    return _preferences(prefs)


class LevelIn(Schema):
    level: Literal["all", "default", "nothing"]


class LevelOut(Schema):
    community: int
    level: str


@router.put(
    "/communities/{community_id}/notifications",
    response=LevelOut,
    summary="How much a community tells me",
)
def community_level_put(
    request: HttpRequest, community_id: int, payload: LevelIn
) -> dict[str, Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    services.community_level_set(actor=me, community=community, level=payload.level)
    return {"community": community.pk, "level": selectors.community_level(me, community)}


class PushKeys(Schema):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=200)


class PushIn(Schema):
    endpoint: str = Field(max_length=2000)
    keys: PushKeys


class PushOut(Schema):
    id: int
    endpoint: str
    user_agent: str
    created_at: datetime.datetime


class PushKeyOut(Schema):
    public_key: str = Field(description="the applicationServerKey to subscribe with")


@router.get(
    "/notifications/push/key",
    response=PushKeyOut,
    summary="The VAPID public key",
    url_name="push_key",
)
def push_key(request: HttpRequest) -> dict[str, str]:
    return {"public_key": push.public_key()}


@router.get("/notifications/push/subscriptions", response=list[PushOut], summary="My devices")
def push_list(request: HttpRequest) -> Any:
    return selectors.devices(viewer(request))


@router.post(
    "/notifications/push/subscriptions",
    response={201: PushOut},
    summary="Push to this device",
    url_name="push_subscribe",
)
def push_subscribe(request: HttpRequest, payload: PushIn) -> Status[Any]:
    made = services.push_subscribe(
        actor=viewer(request),
        endpoint=payload.endpoint,
        p256dh=payload.keys.p256dh,
        auth=payload.keys.auth,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return Status(201, made)


@router.delete(
    "/notifications/push/subscriptions/{subscription_id}",
    response={204: None},
    summary="Stop pushing to a device",
)
def push_unsubscribe(request: HttpRequest, subscription_id: int) -> Status[Any]:
    me = viewer(request)
    device = access.access_push_subscription(me, subscription_id)
    services.push_unsubscribe(actor=me, subscription=device)
    return Status(204, None)
