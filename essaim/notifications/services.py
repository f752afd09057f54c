"""Every write of notifications: telling people (grouped), reading, preferences.

The apps' services call ``notify`` in the transaction of the change, so a notification
exists exactly when the change was committed. Who may still read the target is checked
when the notification is shown or sent (access.NotificationRule), not here: here only
who asked not to hear of it (a muted post or conversation, a silenced community, a
kind turned off) is left out."""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy
from datetime import time
from functools import partial
from typing import Any

from django.core import signing
from django.db import connection, transaction
from django.db.models import F, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.communities.models import Community
from essaim.realtime import events

from . import mail, push, tasks
from .models import (
    ACTORS_KEPT,
    PRIORITY,
    Channel,
    CommunityLevel,
    Digest,
    Kind,
    Level,
    Notification,
    Preferences,
    Priority,
    PushSubscription,
    target_type_of,
)

BATCH = 2000  # rows written per statement when a whole community is told


def _among(ids: Iterable[int]) -> Any:
    """``ids`` for an ``__in`` lookup; on PostgreSQL one array parameter: a whole
    community's 10,000 parameters cost psycopg most of a second to bind."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (sorted(ids),))
    return list(ids)


def _muted(target_type: str, target_id: int, users: set[int]) -> set[int]:
    """Those of ``users`` who muted the post or the conversation."""
    states: QuerySet[Any]
    if target_type == "post":
        from essaim.content.models import PostState

        states = PostState.objects.filter(post_id=target_id, muted=True)
    elif target_type == "conversation":
        from essaim.chat.models import Participant

        states = Participant.objects.filter(conversation_id=target_id, muted=True)
    else:
        return set()
    return set(states.filter(user_id__in=_among(users)).values_list("user_id", flat=True))


def _silenced(community: Community | None, users: set[int]) -> set[int]:
    if community is None:
        return set()
    quiet = CommunityLevel.objects.filter(community=community, level=Level.NOTHING)
    return set(quiet.filter(user_id__in=_among(users)).values_list("user_id", flat=True))


def _insert(template: Notification, users: list[int], in_app: set[int]) -> dict[int, int]:
    """Rows like ``template`` for ``users`` ({user: id}), but for someone a concurrent
    change gave an unread one of this group meanwhile (it stands: two messages sent at
    once into a group). On PostgreSQL one statement for any number of people: for a
    community of 10,000 told at once, Django's bulk_create spent seconds preparing the
    rows field by field."""
    if connection.vendor != "postgresql":
        rows = [copy(template) for _u in users]
        for row, user in zip(rows, users, strict=True):
            row.user_id, row.in_app = user, user in in_app
        Notification.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
        # Ignoring conflicts, SQLite returns no ids: the rows of this group made now.
        made = Notification.objects.filter(
            kind=template.kind,
            target_type=template.target_type,
            target_id=template.target_id,
            read_at__isnull=True,
            created_at=template.created_at,
        )
        return dict(made.values_list("user_id", "id"))
    fields = [
        f for f in Notification._meta.concrete_fields if f.name not in ("id", "user", "in_app")
    ]
    values = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields]
    sql = _INSERT.format(
        columns=", ".join(f.column for f in fields), values=", ".join(["%s"] * len(fields))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, users, [u in in_app for u in users]])
        return dict(cursor.fetchall())


# The fields come from the model, never from input.
_INSERT = (
    "INSERT INTO notifications_notification (user_id, in_app, {columns}) "
    "SELECT t.u, t.a, {values} FROM unnest(%s::bigint[], %s::boolean[]) AS t(u, a) "
    "ON CONFLICT (user_id, kind, target_type, target_id) WHERE read_at IS NULL DO NOTHING "
    "RETURNING user_id, id"
)


def notify(
    kind: str,
    users: Iterable[User | int],
    *,
    target: Model,
    actor: User | None = None,
    community: Community | None = None,
    detail: dict[str, Any] | None = None,
    priority: int | None = None,
    digest_only: bool = False,
) -> list[int]:
    """Tell ``users`` that ``actor`` did ``kind`` on ``target``, in the caller's
    transaction; returns who was told. A person's unread notification of this kind on
    this target gets one more actor instead of a new row. Not told: the actor, the
    inactive, who muted the target (a mention still reaches them), who silenced the
    community, who turned every channel of this kind off. ``priority`` replaces the
    kind's (a whole community mentioned at once is not urgent for each of them);
    ``digest_only``: kept for the digest, not shown in the app (a watch followed daily).
    Urgent ones are e-mailed (tasks.send_now) to those who want it once the change
    committed."""
    ids = {u if isinstance(u, int) else u.pk for u in users}
    if actor is not None:
        ids.discard(actor.pk)
    if not ids:
        return []
    target_type = target_type_of(target)
    active = User.objects.filter(pk__in=_among(ids), is_active=True)
    ids = set(active.values_list("pk", flat=True))
    if kind != Kind.MENTION:
        ids -= _muted(target_type, target.pk, ids)
    ids -= _silenced(community, ids)
    chosen = {p.user_id: p for p in Preferences.objects.filter(user_id__in=_among(ids))}
    wanted = {u for u in ids if u not in chosen or any(chosen[u].wants(kind, c) for c in Channel)}
    in_app = {u for u in wanted if u not in chosen or chosen[u].wants(kind, Channel.APP)}
    in_app = set() if digest_only else in_app
    if not wanted:
        return []
    now = timezone.now()
    level = priority if priority is not None else PRIORITY.get(kind, Priority.NORMAL)
    with transaction.atomic():
        same = Notification.objects.filter(
            kind=kind, target_type=target_type, target_id=target.pk, read_at__isnull=True
        )
        grouped = list(same.filter(user_id__in=_among(wanted)).select_for_update())
        for row in grouped:
            if actor is not None and actor.pk not in row.actors:
                row.actor_count += 1
            if actor is not None:
                row.actors = [actor.pk, *(a for a in row.actors if a != actor.pk)][:ACTORS_KEPT]
            row.detail = detail or {}
            row.updated_at = now
        Notification.objects.bulk_update(grouped, ["actor_count", "actors", "detail", "updated_at"])
        known = {row.user_id for row in grouped}
        template = Notification(
            kind=kind,
            priority=level,
            target_type=target_type,
            target_id=target.pk,
            community=community,
            actors=[actor.pk] if actor else [],
            detail=detail or {},
            created_at=now,
            updated_at=now,
        )
        made = _insert(template, sorted(wanted - known), in_app)
        told = sorted(u for u in wanted if u in in_app)
        if told:
            events.emit("notification", {"kind": kind}, users=told)
        if level == Priority.HIGH:
            mailed = [
                pk
                for u, pk in made.items()
                if u not in chosen
                or chosen[u].wants(kind, Channel.EMAIL)
                or chosen[u].wants(kind, Channel.PUSH)
            ]
            if mailed:
                transaction.on_commit(partial(tasks.schedule, mailed))
    return told


def mark_read(*, actor: User, notification: Notification) -> Notification:
    _require(access.can(actor, access.VIEW, notification))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        events.emit("notification.read", {"id": notification.pk}, users=[actor])
    return notification


def mark_all_read(*, actor: User) -> int:
    """Every unread notification of the actor's centre (those about something they can
    no longer read too: they would never be shown)."""
    with transaction.atomic():
        unread = Notification.objects.filter(user=actor, in_app=True, read_at__isnull=True)
        done = unread.update(read_at=timezone.now())
        if done:
            events.emit("notification.read", {"all": True}, users=[actor])
    return done


def read_about(
    *,
    actor: User,
    target: Model,
    kinds: Iterable[str] = (),
    thread: int | None = None,
    in_threads: bool = True,
) -> int:
    """The actor has seen ``target`` itself (opened the post, read the conversation to its
    end): its unread notifications are read, as in Slack, and never e-mailed. ``kinds``
    narrows them; ``thread`` keeps those of one chat thread, ``in_threads=False`` leaves
    the threads' out. The caller has checked that the actor may see the target."""
    unread = Notification.objects.filter(
        user=actor, target_type=target_type_of(target), target_id=target.pk, read_at__isnull=True
    )
    if kinds:
        unread = unread.filter(kind__in=kinds)
    if thread is not None:
        unread = unread.filter(detail__thread=thread)
    elif not in_threads:
        unread = unread.exclude(detail__has_key="thread")
    done = unread.update(read_at=timezone.now())
    if done:
        events.emit("notification.read", {"target": target_type_of(target)}, users=[actor])
    return done


def _require(allowed: bool) -> None:
    """Someone else's notification, or one about what they no longer see: not found."""
    if not allowed:
        raise access.NotFound


def preferences_of(user: User) -> Preferences:
    """The person's choices: their row, or the defaults (not saved)."""
    found = Preferences.objects.filter(user=user).first()
    return found or Preferences(user=user)


def preferences_set(
    *,
    actor: User,
    channels: dict[str, list[str]] | None = None,
    digest: str | None = None,
    quiet_hours: tuple[time | None, time | None] | None = None,
) -> Preferences:
    """Which channels each kind uses, the digest's rhythm, quiet hours (from, until: both
    or neither); what is None stays as it was."""
    _require(access.is_active(actor))
    if channels is not None:
        for kind, chosen in channels.items():
            if kind not in Kind.values:
                raise ServiceError(_("Unknown kind of notification."), field="channels")
            if not isinstance(chosen, list) or not set(chosen) <= set(Channel.values):
                raise ServiceError(_("Choose among in Essaim, e-mail and push."), field="channels")
    if digest is not None and digest not in Digest.values:
        raise ServiceError(_("Choose daily, weekly or never."), field="digest")
    if quiet_hours is not None:
        start, end = quiet_hours
        if (start is None) != (end is None) or (start is not None and start == end):
            raise ServiceError(
                _("Quiet hours need a start and a different end."), field="quiet_from"
            )
    with transaction.atomic():
        prefs, _created = Preferences.objects.select_for_update().get_or_create(user=actor)
        if channels is not None:
            prefs.channels = {**prefs.channels, **{k: sorted(set(v)) for k, v in channels.items()}}
        if digest is not None:
            prefs.digest = digest
        if quiet_hours is not None:
            prefs.quiet_from, prefs.quiet_until = quiet_hours
        prefs.save()
    return prefs


def community_level_set(*, actor: User, community: Community, level: str) -> CommunityLevel | None:
    """How much ``community`` tells the actor; the default level keeps no row."""
    _require(access.can(actor, access.VIEW, community))
    if level not in Level.values:
        raise ServiceError(_("Choose everything, mentions and follows, or nothing."), field="level")
    if level == Level.DEFAULT:
        CommunityLevel.objects.filter(user=actor, community=community).delete()
        return None
    found, _created = CommunityLevel.objects.update_or_create(
        user=actor, community=community, defaults={"level": level}
    )
    return found


def claim_email(ids: list[int]) -> int:
    """Take these notifications for an e-mail: those still unread and not e-mailed; how
    many were taken. Two workers never both take one."""
    unsent = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True, read_at__isnull=True)
    return unsent.update(emailed_at=timezone.now())


def release_email(ids: list[int]) -> None:
    """The e-mail could not be sent: they may be taken again."""
    Notification.objects.filter(pk__in=ids).update(emailed_at=None)


def digests_sent(user_ids: list[int]) -> None:
    """When each of these people last got a digest (one statement for a batch)."""
    now = timezone.now()
    Preferences.objects.bulk_create(
        [Preferences(user_id=pk, digest_sent_at=now) for pk in user_ids],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["digest_sent_at"],
    )


def unsubscribe(*, token: str) -> str:
    """Stop the kind of e-mail a link names (or the digest); returns what was stopped.
    A forged, changed, expired or already used link raises ServiceError, changing
    nothing: each use moves the person's links to a new version."""
    try:
        data = mail.read_token(token)
    except signing.BadSignature:
        raise ServiceError(_("This link is not valid or has expired."), code="invalid") from None
    who = data.get("u")
    user = User.objects.filter(pk=who, is_active=True).first() if isinstance(who, int) else None
    what = data.get("k")
    if user is None or (what != mail.DIGEST and what not in Kind.values):
        raise ServiceError(_("This link is not valid or has expired."), code="invalid")
    with transaction.atomic():
        prefs, _created = Preferences.objects.select_for_update().get_or_create(user=user)
        if data.get("v") != prefs.link_version:
            raise ServiceError(_("This link was already used."), code="conflict")
        if what == mail.DIGEST:
            prefs.digest = Digest.NEVER
        else:
            kept = [c for c in Channel.values if prefs.wants(str(what), c) and c != Channel.EMAIL]
            prefs.channels = {**prefs.channels, str(what): kept}
        prefs.link_version += 1
        prefs.save()
    return str(what)


def push_subscribe(
    *, actor: User, endpoint: object, p256dh: object, auth: object, user_agent: str = ""
) -> PushSubscription:
    """This device's subscription (checked by push.check_subscription); a browser that
    subscribed for someone else before now pushes to the actor."""
    _require(access.is_active(actor))
    endpoint, p256dh, auth = push.check_subscription(endpoint, p256dh, auth)
    found, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": actor,
            "p256dh": p256dh,
            "auth": auth,
            "user_agent": user_agent[:200],
            "failures": 0,
        },
    )
    return found


def push_unsubscribe(*, actor: User, subscription: PushSubscription) -> None:
    _require(access.can(actor, "delete", subscription))
    subscription.delete()


def push_result(subscription: PushSubscription, status: int) -> None:
    """What the push service answered: gone, the subscription goes; failing
    FAILURES_MAX times in a row, too."""
    if 200 <= status < 300:
        if subscription.failures:
            PushSubscription.objects.filter(pk=subscription.pk).update(failures=0)
    elif status in push.GONE or subscription.failures + 1 >= PushSubscription.FAILURES_MAX:
        PushSubscription.objects.filter(pk=subscription.pk).delete()
    else:
        PushSubscription.objects.filter(pk=subscription.pk).update(failures=F("failures") + 1)


def claim_push(ids: list[int]) -> int:
    """As claim_email, for the push of these notifications."""
    unsent = Notification.objects.filter(pk__in=ids, pushed_at__isnull=True, read_at__isnull=True)
    return unsent.update(pushed_at=timezone.now())
