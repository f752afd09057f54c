"""Writing and reading the event stream. ``emit`` writes an event in the caller's
transaction; once committed, ``publish`` numbers it; ``after`` reads what a viewer may
receive after a number, each event checked by access.EventRule at that moment."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Case, QuerySet, Value, When

from essaim import access
from essaim.accounts.models import User
from essaim.communities.models import Community

from . import bus
from .models import Event, EventRecipient, Stream

BATCH = 500  # events a hub reads at once
PAGE = 100  # events a client reads at once


def emit(
    type: str,
    data: dict[str, Any],
    *,
    community: Community | None = None,
    users: Iterable[User | int] | QuerySet[User] | None = None,
    everyone: bool = False,
) -> Event | None:
    """Record an event for the readers of ``community``, or for every employee
    (``everyone``), narrowed to ``users`` when given, or for ``users`` alone, in the
    current transaction: nothing is published for a transaction that rolls back.
    ``users`` that come out empty mean nobody, and no event (never "every reader").
    ``users`` as a query (an access.py audience) is read by the event's own statement
    on PostgreSQL: one round trip less."""
    if community is not None and everyone:
        raise ValueError("an event goes to a community's readers or to everyone, not both")
    if community is None and users is None and not everyone:
        raise ValueError("an event needs an audience: a community, everyone or users")
    event = Event(type=type, data=data, community=community, everyone=everyone)
    if connection.vendor == "postgresql" and isinstance(users, QuerySet):
        try:
            sql, params = users.values_list("pk", flat=True).query.sql_with_params()
        except EmptyResultSet:  # a query Django knows to be empty (say, pk__in=[])
            return None
        if not _insert_with_recipients(event, sql, list(params)):
            return None
    else:
        if isinstance(users, QuerySet):
            users = users.values_list("pk", flat=True)
        ids = sorted({u if isinstance(u, int) else u.pk for u in users or ()})
        if users is not None and not ids:
            return None
        if ids and connection.vendor == "postgresql":
            _insert_with_recipients(event, "SELECT unnest(%s::bigint[])", [ids])
        else:
            event.save()
            EventRecipient.objects.bulk_create(
                [EventRecipient(event=event, user_id=u) for u in ids]
            )
    publish_on_commit()
    return event


def event_ctes(source: str | None = None, data: str = "%s", created: str = "%s") -> str:
    """An event and its recipients, as two CTEs of one statement (PostgreSQL): the users
    are those of a CTE ``u(id)`` of the statement, and when it holds nobody there is no
    event (never "every reader"). Parameters: type, then data unless ``data`` is SQL of
    its own, community, everyone, then created_at unless ``created`` is. ``source``: a
    CTE the event is made for, of one row (chat's one-statement send: its message).
    The arguments are SQL written in the code, never input."""
    return f"""e AS (
    INSERT INTO realtime_event (type, data, community_id, everyone, created_at)
    SELECT %s, {data}, %s, %s, {created} {f"FROM {source}" if source else ""}
    WHERE EXISTS (SELECT 1 FROM u) RETURNING id
), r AS (
    INSERT INTO realtime_eventrecipient (event_id, user_id)
    SELECT e.id, u.id FROM e, (SELECT DISTINCT id FROM u) AS u
)"""  # noqa: S608 (see above: no input in it)


_INSERT_WITH_RECIPIENTS = "WITH u(id) AS ({users}), " + event_ctes() + " SELECT id FROM e"  # noqa: S608


def _insert_with_recipients(event: Event, users: str, params: list[Any]) -> bool:
    """One round trip instead of two or three (reading the audience, the event, its
    recipients): emit often runs under a caller's row lock (a chat message's, which paces
    its conversation), held for as long as its statements take. False: nobody, no event."""
    data = Event._meta.get_field("data").get_db_prep_save(event.data, connection)
    row = [event.type, data, event.community_id, event.everyone, event.created_at]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_WITH_RECIPIENTS.format(users=users), [*params, *row])
        found = cursor.fetchone()
    if found is None:
        return False
    event.pk = found[0]
    event._state.adding = False
    return True


def publish_on_commit() -> None:
    """One ``publish`` per transaction, however many events it writes (an import writes
    thousands). A call registered in a savepoint that may still roll back does not count."""
    current = set(connection.savepoint_ids)
    pending: list[Any] = connection.run_on_commit  # (savepoint ids, callback, robust)
    for savepoints, callback, _robust in pending:
        if callback is publish and set(savepoints) <= current:
            return
    transaction.on_commit(publish)


def publish() -> int:
    """Number the committed events that have no ``seq`` yet, in id order, under the
    stream's lock, BATCH at a time until none is left; returns how many. Safe to call
    from anywhere, at any time. On PostgreSQL, in one call to the function of migration
    realtime 0003 (one round trip); elsewhere, from here."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT numbered, head FROM essaim_publish_events(%s)", [BATCH])
            numbered, head = cursor.fetchone()
    else:
        numbered, head = _number_pending()
    if numbered:
        bus.announce(bus.EVENTS, str(head))
    return int(numbered)


def _number_pending() -> tuple[int, int]:
    """``publish``'s numbering, step by step: (events numbered, last number given)."""
    numbered = 0
    while True:
        with transaction.atomic():
            stream = Stream.objects.select_for_update().filter(pk=1).first()
            if stream is None:  # the first time; a concurrent create is no harm
                Stream.objects.get_or_create(pk=1)
                continue
            pending = list(
                Event.objects.filter(seq__isnull=True)
                .order_by("id")
                .values_list("id", flat=True)[:BATCH]
            )
            if not pending:
                break
            numbers = {pk: stream.last_seq + i for i, pk in enumerate(pending, start=1)}
            Event.objects.filter(pk__in=pending).update(
                seq=Case(*(When(pk=pk, then=Value(n)) for pk, n in numbers.items()))
            )
            stream.last_seq += len(pending)
            stream.save(update_fields=["last_seq"])
        numbered += len(pending)
        if len(pending) < BATCH:  # all there was, as of this lock: no second look
            break
    return numbered, stream.last_seq


def publish_stragglers() -> int:
    """``publish`` when some committed event still waits for its number (its process
    died between commit and publish, or its on_commit call failed)."""
    return publish() if Event.objects.filter(seq__isnull=True).exists() else 0


def _oldest_kept() -> int | None:
    """The ``seq`` of the oldest event kept (None when there is none)."""
    oldest = Event.objects.filter(seq__isnull=False).order_by("seq")
    return oldest.values_list("seq", flat=True).first()


def head_now() -> int:
    """The last number given (0 before the first event)."""
    return Stream.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0


@dataclass
class Batch:
    events: list[Event]
    last_event_id: int  # the ``seq`` to resume from
    resync: bool  # the client's position is outside the kept window: fetch state again


def after(viewer: access.Viewer, last_event_id: int, *, limit: int = PAGE) -> Batch:
    """What ``viewer`` may receive after ``last_event_id``, oldest first. A position
    older than the oldest event kept, or beyond the newest, gets ``resync``: never a
    silent gap."""
    head = head_now()
    first = _oldest_kept()
    kept_from = first if first is not None else head + 1
    if last_event_id > head or last_event_id < kept_from - 1:
        return Batch([], head, resync=True)
    found = list(
        access.visible(viewer, Event.objects.filter(seq__gt=last_event_id)).order_by("seq")[:limit]
    )
    # Resume after what was read; when less than a page came back, the viewer may receive
    # nothing more up to the head read above (every event up to it was numbered, hence
    # committed, before the query ran): resume from there.
    position = max([e.seq or 0 for e in found], default=last_event_id)
    if len(found) < limit:
        position = max(position, head)
    return Batch(found, position, resync=False)


@dataclass
class Fanout:
    deliveries: list[tuple[Event, set[int]]]  # each event, with who may receive it now
    position: int  # the last ``seq`` read
    resync: bool  # events after ``position`` were pruned: every client must fetch again
    more: bool  # a full batch came back: read again


def fan_out(position: int, among: Collection[int]) -> Fanout:
    """The events after ``position``, each with the users among ``among`` (the people
    connected to a process) who may receive it at this moment."""
    if not among:  # nobody to hand them to: move past the events without reading them
        return Fanout([], max(position, head_now()), resync=False, more=False)
    found = list(
        Event.objects.filter(seq__gt=position).select_related("community").order_by("seq")[:BATCH]
    )
    if not found:
        return Fanout([], position, resync=False, more=False)
    # Numbers are given without holes, but a deleted community takes its events along:
    # only the oldest event kept tells whether events were pruned under our feet.
    resync = (found[0].seq or 0) > position + 1 and (_oldest_kept() or 0) > position + 1
    audiences = access.event_audiences(found, among)
    return Fanout(
        [(e, audiences[e.pk]) for e in found],
        found[-1].seq or position,
        resync=resync,
        more=len(found) == BATCH,
    )


def prune() -> int:
    """Forget the events beyond the kept window (EVENTS_KEEP of them); returns how many."""
    keep = settings.EVENTS_KEEP
    head = head_now()
    deleted, _ = Event.objects.filter(seq__lte=head - keep).delete()
    return deleted
