"""The event stream's outbox and long polling: nothing published for a rolled-back
change, resume with exactly the missed events, resync outside the kept window, and each
event checked against the access policy at delivery."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import token_create, token_revoke, user_deactivate
from essaim.communities import services as community_services
from essaim.communities.models import Community, Visibility
from essaim.http import CLI
from essaim.realtime import events
from essaim.realtime.models import Event
from essaim.worker import TaskWorker, schedule_daily_tasks
from tests.conftest import PASSWORD, Personas
from tests.test_communities import build

TokenClient = Callable[..., Client]
pytestmark = pytest.mark.django_db(transaction=True)  # on_commit publishes


def poll(client: Client, last: int, timeout: float = 0) -> dict[str, Any]:
    response = client.get("/api/v1/events", {"last_event_id": last, "timeout": timeout})
    assert response.status_code == 200, response.content
    return response.json()


def kinds_in(answer: dict[str, Any]) -> list[str]:
    """The types of the test events in a poll's answer, leaving out the communities' own
    (their tests are in test_community_events.py)."""
    return [e["type"] for e in answer["events"] if e["type"].startswith("test.")]


def test_an_event_exists_only_if_its_change_is_committed(personas: Personas) -> None:
    community = build(personas, Visibility.PUBLIC)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit("test.rolled_back", {}, community=community)
        raise RuntimeError
    events.emit("test.kept", {"n": 1}, community=community)
    assert list(Event.objects.values_list("type", "seq")) == [("test.kept", 1)]
    with pytest.raises(ValueError):
        events.emit("test.nobody", {})
    # Named people that come out empty are nobody, never "every reader".
    assert events.emit("test.no_one", {}, community=community, users=[]) is None
    nobody = User.objects.filter(pk=-1)
    assert events.emit("test.no_one", {}, community=community, users=nobody) is None
    assert events.emit("test.no_one", {}, users=User.objects.none()) is None
    assert not Event.objects.filter(type="test.no_one").exists()
    # An audience given as a query is read with the event: its recipients, once each.
    readers = User.objects.filter(pk__in=[personas.member.pk, personas.owner.pk])
    named = events.emit("test.named", {}, community=community, users=readers)
    assert named is not None
    assert set(named.recipients.values_list("user_id", flat=True)) == {
        personas.member.pk,
        personas.owner.pk,
    }


def test_one_publish_per_transaction_and_none_lost_to_a_rolled_back_savepoint(
    personas: Personas,
) -> None:
    community = build(personas, Visibility.PUBLIC)
    with transaction.atomic():
        for n in range(3):
            events.emit("test.tick", {"n": n}, community=community)
        callbacks = [c for _, c, _ in connection.run_on_commit if c is events.publish]
        assert len(callbacks) == 1
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            events.emit("test.undone", {}, community=community)  # registers publish here…
            raise RuntimeError
        kept = events.emit("test.kept", {}, community=community)  # …so again here
    kept.refresh_from_db()
    assert kept.seq is not None
    assert not Event.objects.filter(type="test.undone").exists()


def test_a_transaction_of_more_events_than_a_batch_is_numbered_whole(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "BATCH", 3)
    community = build(personas, Visibility.PUBLIC)
    with transaction.atomic():
        for n in range(7):
            events.emit("test.tick", {"n": n}, community=community)
    assert not Event.objects.filter(seq__isnull=True).exists()  # not 3 now, 4 a tick later


def test_concurrent_publishers_number_every_event_once_without_holes(
    personas: Personas,
) -> None:
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()

    def writer(n: int) -> None:
        try:
            for i in range(20):
                events.emit("test.tick", {"n": n, "i": i}, community=community)  # publishes
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(writer, range(4)))
    numbers = sorted(Event.objects.filter(type="test.tick").values_list("seq", flat=True))
    assert numbers == list(range(start + 1, start + 81))
    assert events.head_now() == start + 80


def test_resume_gets_exactly_the_missed_events_in_order(
    personas: Personas, token_client: TokenClient
) -> None:
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()  # after the community's own events
    member = token_client(personas.member)
    first = poll(member, start)
    assert first == {"events": [], "last_event_id": start, "resync": False}
    for n in range(3):
        events.emit("test.tick", {"n": n}, community=community)
    got = poll(member, start)
    assert [e["data"]["n"] for e in got["events"]] == [0, 1, 2]
    assert got["last_event_id"] == got["events"][-1]["id"]
    events.emit("test.tick", {"n": 3}, community=community)
    again = poll(member, got["last_event_id"])
    assert [e["data"]["n"] for e in again["events"]] == [3]  # no duplicate, none missed
    assert poll(member, again["last_event_id"])["events"] == []


def test_a_process_with_nobody_connected_moves_past_events_without_reading_them(
    personas: Personas,
) -> None:
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()
    for n in range(3):
        events.emit("test.tick", {"n": n}, community=community)
    with CaptureQueriesContext(connection) as queries:
        nobody = events.fan_out(start, [])
    assert (nobody.deliveries, nobody.position, nobody.more) == ([], start + 3, False)
    assert len(queries) == 1  # the head, not the events
    someone = events.fan_out(start, [personas.member.pk])
    assert [(e.data["n"], users) for e, users in someone.deliveries] == [
        (n, {personas.member.pk}) for n in range(3)
    ]
    assert someone.position == start + 3


def test_an_event_committed_late_with_a_lower_id_is_not_skipped(personas: Personas) -> None:
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()
    # Transaction A takes an id, transaction B takes the next one and commits first; a
    # reader reads B; then A commits. Played in order on one connection.
    taken = Event.objects.create(type="test.placeholder", data={}, community=community).pk
    Event.objects.filter(pk=taken).delete()  # A's id, not committed yet
    late = events.emit("test.late", {}, community=community)  # B, committed and published
    late.refresh_from_db()
    reader = personas.member
    assert [e.type for e in events.after(reader, start).events] == ["test.late"]
    early = Event.objects.create(pk=taken, type="test.early", data={}, community=community)
    events.publish()  # A commits now
    early.refresh_from_db()
    assert early.pk < late.pk and (early.seq or 0) > (late.seq or 0)
    assert [e.type for e in events.after(reader, late.seq or 0).events] == ["test.early"]


def test_outside_the_kept_window_the_client_is_told_to_resync(
    personas: Personas, token_client: TokenClient, settings: Any
) -> None:
    settings.EVENTS_KEEP = 2
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()
    for n in range(5):
        events.emit("test.tick", {"n": n}, community=community)
    assert events.prune() == start + 3
    member = token_client(personas.member)
    assert poll(member, start + 1)["resync"] is True  # its next two are gone
    assert poll(member, start + 3)["resync"] is False
    assert poll(member, start + 99)["resync"] is True  # ahead of the stream (a restore)
    assert [e["data"]["n"] for e in poll(member, start + 3)["events"]] == [3, 4]


def test_each_event_is_checked_at_delivery(personas: Personas, token_client: TokenClient) -> None:
    secret = build(personas, Visibility.SECRET)
    private = build(personas, Visibility.PRIVATE)
    events.emit("test.secret", {}, community=secret)
    events.emit("test.for_member", {}, users=[personas.member])
    events.emit("test.mention", {}, community=private, users=[personas.member, personas.outsider])
    outsider, member = token_client(personas.outsider), token_client(personas.member)
    assert kinds_in(poll(outsider, 0)) == []  # a secret community's and a private one's
    assert kinds_in(poll(member, 0)) == [
        "test.secret",
        "test.for_member",
        "test.mention",
    ]
    # Removed: nothing more, at once; the three forms of the rule agree.
    community_services.member_remove(
        actor=personas.owner, origin=CLI, community=secret, person=personas.member
    )
    assert kinds_in(poll(member, 0)) == ["test.for_member", "test.mention"]
    for event in Event.objects.all():
        for name, user in personas.items():
            allowed = access.can(user, "view", event)
            listed = access.visible(user, Event.objects.filter(pk=event.pk)).exists()
            receives = access.audience(event).filter(pk=user.pk).exists()
            assert allowed == listed == receives, (name, event.type)
    user_deactivate(actor=personas.admin, origin=CLI, user=personas.member)
    assert member.get("/api/v1/events").status_code == 401  # its token died with it


def test_a_long_poll_waits_then_answers_empty(
    personas: Personas, token_client: TokenClient
) -> None:
    community = Community.objects.get(pk=build(personas, Visibility.PUBLIC).pk)
    start = events.head_now()
    member = token_client(personas.member)
    empty = {"events": [], "last_event_id": start, "resync": False}
    assert poll(member, start, timeout=0.3) == empty
    events.emit("test.tick", {}, community=community)
    assert len(poll(member, start, timeout=5)["events"]) == 1  # at once: an event is waiting
    bad = member.get("/api/v1/events", {"last_event_id": -1, "timeout": 999})
    assert bad.status_code == 422


def test_a_long_poll_ends_when_its_token_is_revoked(personas: Personas) -> None:
    token, raw = token_create(user=personas.member, name="t", scope="read", password=PASSWORD)
    waiting = Client(headers={"authorization": f"Bearer {raw}"})

    def long_poll() -> Any:
        try:
            return waiting.get("/api/v1/events", {"last_event_id": 0, "timeout": 20})
        finally:
            connections.close_all()  # this thread's

    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(long_poll)
        time.sleep(0.3)
        token_revoke(user=personas.member, token=token)
        assert answer.result(timeout=5).status_code == 401  # not after 20 s


def test_the_daily_task_numbers_stragglers_prunes_and_comes_back_tomorrow(
    personas: Personas, settings: Any
) -> None:
    settings.EVENTS_KEEP = 1
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()
    for n in range(3):
        events.emit("test.tick", {"n": n}, community=community)
    Event.objects.create(type="test.straggler", data={}, community=community)  # never numbered
    schedule_daily_tasks()
    DBTaskResult.objects.filter(task_path__endswith="prune_events").update(run_after=timezone.now())
    TaskWorker(batch=True, interval=0).run()
    assert list(Event.objects.values_list("type", "seq")) == [("test.straggler", start + 4)]
    (tomorrow,) = DBTaskResult.objects.filter(status="READY", task_path__endswith="prune_events")
    assert tomorrow.run_after > timezone.now()
