"""Chat: conversations (one-to-one, groups, community channels) and messages through the
one policy and the API — the three forms of the rules agree, what each persona may do,
idempotent sends, history, threads, read state, floods and bad input refused, and an
outsider seeing nothing through any route or event."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model
from django.test import Client
from pytest_django import Settings

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError, user_deactivate
from essaim.chat import selectors, services
from essaim.chat.models import BODY_MAX, Conversation, Message, MessageEdit
from essaim.communities.models import Visibility
from essaim.http import CLI
from essaim.realtime import events
from essaim.realtime.models import Event
from essaim.search.models import Pending
from tests.conftest import Personas, make_user
from tests.test_communities import build

pytestmark = pytest.mark.django_db
TokenClient = Callable[..., Client]
API = "/api/v1"
MISSING = 999_999


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    call = getattr(client, method)
    if body is None:
        return call(f"{API}{path}")
    return call(f"{API}{path}", body, content_type="application/json")


def world(personas: Personas) -> tuple[list[Conversation], list[Message]]:
    """A channel in a community of each visibility (and an archived one), a direct
    conversation, a group someone left; messages in each, a reply, a deleted one."""
    conversations = [
        services.channel_of(actor=personas.owner, community=build(personas, v, archived=a))
        for v in Visibility
        for a in (False, True)
    ]
    direct, _new = services.direct_open(actor=personas.member, person=personas.hr)
    group = services.group_create(
        actor=personas.member, title="Launch", people=[personas.hr.pk, personas.external.pk]
    )
    services.group_leave(actor=personas.hr, conversation=group)
    conversations += [direct, group]
    messages = []
    for conversation in conversations:
        author = personas.member if conversation.kind != "channel" else personas.owner
        if not access.can(author, "post", conversation):
            continue
        first, _ = services.message_send(actor=author, conversation=conversation, body="Hello")
        reply, _ = services.message_send(
            actor=author, conversation=conversation, body="More", parent=first
        )
        messages += [first, reply]
    gone, _ = services.message_send(actor=personas.member, conversation=direct, body="Oops")
    services.message_delete(actor=personas.member, message=gone)
    return conversations, [*messages, gone]


def test_the_three_forms_agree_for_conversations_and_messages(personas: Personas) -> None:
    conversations, messages = world(personas)
    objects: list[Model] = [*conversations, *messages]
    viewers: list[User | AnonymousUser] = [*personas.all(), AnonymousUser()]
    for viewer in viewers:
        for obj in objects:
            obj.refresh_from_db()
            allowed = access.can(viewer, access.VIEW, obj)
            listed = access.visible(viewer, type(obj).objects.filter(pk=obj.pk)).exists()
            receives = (
                isinstance(viewer, User) and access.audience(obj).filter(pk=viewer.pk).exists()
            )
            assert allowed == listed == receives, (viewer, obj, allowed, listed, receives)


def test_who_reads_and_writes_where(personas: Personas) -> None:
    public = build(personas, Visibility.PUBLIC)
    channel = services.channel_of(actor=personas.member, community=public)
    # Members only: an employee who reads the public community does not read its channel.
    assert access.can(personas.outsider, "view", public) and not access.can(
        personas.outsider, "view", channel
    )
    assert not access.can(personas.compliance, "view", channel)  # invited, not yet a member
    assert access.can(personas.hr, "view", channel) and not access.can(
        personas.hr, "post", channel
    ), "the reader reads, does not write"
    with pytest.raises(access.NotFound):
        services.channel_of(actor=personas.outsider, community=public)
    archived = services.channel_of(
        actor=personas.owner, community=build(personas, Visibility.PRIVATE, archived=True)
    )
    assert access.can(personas.member, "view", archived)
    assert not access.can(personas.member, "post", archived)
    # A direct conversation: once per pair, whoever opens it; closed to writing when the
    # other person leaves the company.
    leaving = make_user("leaving")
    direct, new = services.direct_open(actor=personas.member, person=leaving)
    again, new_again = services.direct_open(actor=leaving, person=personas.member)
    assert (direct, new, new_again) == (again, True, False)
    user_deactivate(actor=personas.admin, origin=CLI, user=leaving)
    assert access.can(personas.member, "view", direct)
    assert not access.can(personas.member, "post", direct)
    # A message: its author edits it; a channel's animator deletes it; nobody else.
    message, _ = services.message_send(actor=personas.member, conversation=channel, body="Hi")
    assert access.can(personas.member, "edit", message)
    assert not access.can(personas.owner, "edit", message)
    assert access.can(personas.animator, "delete", message)
    assert not access.can(personas.hr, "delete", message)
    # The external customer never writes to someone they cannot see.
    with pytest.raises(ServiceError):
        services.direct_open(actor=personas.external, person=personas.outsider)


def test_direct_messages_through_the_api(personas: Personas, token_client: TokenClient) -> None:
    member, hr = token_client(personas.member), token_client(personas.hr)
    opened = send(member, "post", "/conversations", {"kind": "direct", "person": personas.hr.pk})
    assert opened.status_code == 201 and opened.json()["title"] == personas.hr.display_name
    conversation = opened.json()["id"]
    again = send(hr, "post", "/conversations", {"kind": "direct", "person": personas.member.pk})
    assert again.status_code == 200 and again.json()["id"] == conversation
    path = f"/conversations/{conversation}/messages"
    first = send(member, "post", path, {"body": "**Hello**", "client_id": "c-1"})
    assert first.status_code == 201 and "<strong>Hello</strong>" in first.json()["html"]
    retried = send(member, "post", path, {"body": "**Hello**", "client_id": "c-1"})
    assert retried.status_code == 200 and retried.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1
    ids = [first.json()["id"]]
    for n in range(2, 7):
        ids.append(send(member, "post", path, {"body": f"Message {n}"}).json()["id"])
    listed = send(hr, "get", "/conversations").json()
    assert [(c["id"], c["unread"]) for c in listed] == [(conversation, 6)]
    assert send(member, "get", "/conversations").json()[0]["unread"] == 0  # one's own
    # History: the newest page, scrolling back, and the context of a linked message.
    assert [m["id"] for m in send(hr, "get", f"{path}?limit=2").json()] == ids[-2:]
    assert [m["id"] for m in send(hr, "get", f"{path}?limit=2&before={ids[-2]}").json()] == ids[
        -4:-2
    ]
    assert [m["id"] for m in send(hr, "get", f"{path}?after={ids[1]}&limit=2").json()] == ids[2:4]
    around = [m["id"] for m in send(hr, "get", f"{path}?around={ids[3]}&limit=4").json()]
    assert ids[3] in around and around == sorted(around)
    assert [m["body"] for m in send(hr, "get", f"{path}?q=message+5").json()] == ["Message 5"]
    # Read up to the fourth: two left; a thread reply does not count as unread.
    read = send(hr, "put", f"/conversations/{conversation}/read", {"message": ids[3]})
    assert read.status_code == 200 and read.json()["unread"] == 2
    reply = send(hr, "post", path, {"body": "Thanks", "parent": ids[0]})
    assert reply.status_code == 201 and reply.json()["parent"] == ids[0]
    assert send(member, "get", f"/messages/{ids[0]}").json()["reply_count"] == 1
    assert [m["body"] for m in send(member, "get", f"/messages/{ids[0]}/replies").json()] == [
        "Thanks"
    ]
    assert selectors.unread_total(personas.member) == 0
    # Edit keeps the history; others may not edit; delete removes it for everyone.
    edited = send(member, "patch", f"/messages/{ids[1]}", {"body": "Message two"})
    assert edited.status_code == 200 and edited.json()["edited_at"]
    assert list(MessageEdit.objects.values_list("body", flat=True)) == ["Message 2"]
    assert send(hr, "patch", f"/messages/{ids[1]}", {"body": "x"}).status_code == 403
    assert send(member, "delete", f"/messages/{ids[1]}").status_code == 204
    assert send(hr, "get", f"/messages/{ids[1]}").status_code == 404
    muted = send(hr, "patch", f"/conversations/{conversation}", {"muted": True})
    assert muted.json()["muted"] is True and muted.json()["favourite"] is False


def test_a_message_writes_its_event_outbox_row_and_read_position(personas: Personas) -> None:
    """What a plain message writes, whichever way it is written (PostgreSQL: one statement;
    SQLite: the ORM's steps): the same rows."""
    group = services.group_create(
        actor=personas.member, title="Launch", people=[personas.hr.pk, personas.owner.pk]
    )
    services.group_leave(actor=personas.owner, conversation=group)
    message, new = services.message_send(
        actor=personas.member, conversation=group, body="**Go**", client_id="c-1"
    )
    assert new and "<strong>Go</strong>" in message.html
    stored = Message.objects.get()
    assert (stored.pk, stored.body, stored.client_id, stored.parent_id, stored.reply_count) == (
        message.pk, "**Go**", "c-1", None, 0,
    )  # fmt: skip
    group.refresh_from_db()
    assert group.last_message_at == stored.created_at
    assert Pending.objects.filter(kind="message", object_id=message.pk).count() == 1
    [event] = Event.objects.filter(type="chat.message")
    assert event.data == {
        "conversation": group.pk, "message": message.pk, "author": personas.member.pk,
        "parent": None,
    }  # fmt: skip
    assert event.community_id is None and not event.everyone
    # Its readers: those still in the group, not the one who left.
    assert set(event.recipients.values_list("user_id", flat=True)) == {
        personas.member.pk, personas.hr.pk,
    }  # fmt: skip
    read = dict(group.participants.values_list("user_id", "last_read"))
    assert (read[personas.member.pk], read[personas.hr.pk]) == (message.pk, 0)
    # A retry writes nothing more.
    again, new = services.message_send(
        actor=personas.member, conversation=group, body="**Go**", client_id="c-1"
    )
    assert (again.pk, new) == (message.pk, False)
    assert Message.objects.count() == 1 and Pending.objects.count() == 1
    assert Event.objects.filter(type="chat.message").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's one-statement send")
def test_a_client_id_taken_meanwhile_writes_nothing(personas: Personas) -> None:
    """Two sends of one client id at the same moment both pass message_send's look for
    it; the second one's statement then writes nothing (message_send reads the first)."""
    group = services.group_create(actor=personas.member, title="Launch", people=[personas.hr.pk])
    services.message_send(actor=personas.member, conversation=group, body="Go", client_id="c-1")
    written = (Message.objects.count(), Pending.objects.count(), Event.objects.count())
    group.refresh_from_db()
    raced = services._send_in_one_statement(personas.member, group, "Go", "<p>Go</p>", "c-1")
    assert raced is None
    assert (Message.objects.count(), Pending.objects.count(), Event.objects.count()) == written
    # A conversation deleted after the checks: no message, and no error from the database.
    gone = Conversation.objects.get(pk=group.pk)
    Conversation.objects.filter(pk=group.pk).delete()
    assert services._send_in_one_statement(personas.member, gone, "Go", "<p>Go</p>", "") is None


def test_groups_and_channels_through_the_api(personas: Personas, token_client: TokenClient) -> None:
    member = token_client(personas.member)
    people = [personas.hr.pk, personas.animator.pk]
    made = send(
        member, "post", "/conversations", {"kind": "group", "title": "Q4", "people": people}
    )
    assert made.status_code == 201 and made.json()["allowed"] == ["leave", "manage", "post"]
    group = made.json()["id"]
    added = send(member, "post", f"/conversations/{group}/people", {"people": [personas.owner.pk]})
    assert added.status_code == 204
    names = {p["id"] for p in send(member, "get", f"/conversations/{group}/people").json()}
    assert names == {personas.member.pk, personas.owner.pk, *people}
    hr = token_client(personas.hr)
    assert send(hr, "delete", f"/conversations/{group}/people/me").status_code == 204
    assert send(hr, "get", f"/conversations/{group}").status_code == 404
    private = build(personas, Visibility.PRIVATE)
    channel = send(member, "post", f"/communities/{private.pk}/channel")
    assert channel.status_code == 200 and channel.json()["kind"] == "channel"
    outsider = token_client(personas.outsider)
    assert send(outsider, "post", f"/communities/{private.pk}/channel").status_code == 404


def test_bad_input_floods_and_limits_change_nothing(
    personas: Personas, token_client: TokenClient, settings: Settings
) -> None:
    member = token_client(personas.member)
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    path = f"/conversations/{direct.pk}/messages"
    cases: list[tuple[dict[str, Any], int]] = [
        ({"body": ""}, 422),
        ({"body": "x" * (BODY_MAX + 1)}, 422),
        ({"body": "x", "extra": 1}, 422),
        ({"body": 5}, 422),
        ({"body": "x", "client_id": "c" * 65}, 422),
        ({"body": "x", "parent": MISSING}, 422),
    ]
    for body, status in cases:
        assert send(member, "post", path, body).status_code == status, body
    assert not Message.objects.exists()
    settings.CHAT_MESSAGES_PER_WINDOW = 3
    codes = [send(member, "post", path, {"body": f"m{n}"}).status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429] and Message.objects.count() == 3
    settings.CHAT_GROUP_MAX = 3
    many = [make_user(f"p{n}").pk for n in range(3)]
    too_big = send(member, "post", "/conversations", {"kind": "group", "people": many})
    assert too_big.status_code == 422 and Conversation.objects.count() == 1
    for body in ({"kind": "direct"}, {"kind": "direct", "person": personas.member.pk}):
        assert send(member, "post", "/conversations", body).status_code == 422
    # A client id used in one conversation is not replayed into another.
    other, _ = services.direct_open(actor=personas.member, person=personas.owner)
    used = Message.objects.first()
    assert used is not None
    Message.objects.filter(pk=used.pk).update(client_id="c-9")
    reused = send(
        member, "post", f"/conversations/{other.pk}/messages", {"body": "x", "client_id": "c-9"}
    )
    assert reused.status_code == 422 and not other.messages.exists()
    # Nor is a parent taken from another conversation the sender reads.
    crossed = send(
        member, "post", f"/conversations/{other.pk}/messages", {"body": "x", "parent": used.pk}
    )
    assert crossed.status_code == 422 and not other.messages.exists()


def test_an_outsider_sees_nothing_through_any_route_or_event(
    personas: Personas, token_client: TokenClient
) -> None:
    start = events.head_now()
    secret = build(personas, Visibility.SECRET)
    channel = services.channel_of(actor=personas.owner, community=secret)
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    messages = [
        services.message_send(actor=personas.owner, conversation=c, body="Merger")[0]
        if c == channel
        else services.message_send(actor=personas.member, conversation=c, body="Merger")[0]
        for c in (channel, direct)
    ]
    events.publish()
    outsider = token_client(personas.outsider)
    for conversation, message in zip((channel, direct), messages, strict=True):
        c, m = conversation.pk, message.pk
        routes: list[tuple[str, str, Any]] = [
            ("get", f"/conversations/{c}", None),
            ("patch", f"/conversations/{c}", {"muted": True}),
            ("get", f"/conversations/{c}/people", None),
            ("post", f"/conversations/{c}/people", {"people": [personas.outsider.pk]}),
            ("delete", f"/conversations/{c}/people/me", None),
            ("get", f"/conversations/{c}/messages", None),
            ("post", f"/conversations/{c}/messages", {"body": "me too"}),
            ("put", f"/conversations/{c}/read", {"message": m}),
            ("get", f"/messages/{m}", None),
            ("get", f"/messages/{m}/replies", None),
            ("patch", f"/messages/{m}", {"body": "x"}),
            ("delete", f"/messages/{m}", None),
        ]
        for method, path, body in routes:
            seen = send(outsider, method, path, body)
            missing = send(outsider, method, path.replace(str(c), str(MISSING)).replace(
                str(m), str(MISSING)), body)  # fmt: skip
            assert seen.status_code == missing.status_code == 404, (method, path)
            assert seen.content == missing.content, path
    assert send(outsider, "get", "/conversations").json() == []
    assert [e.type for e in events.after(personas.outsider, start).events] == []
    assert (
        Message.objects.count() == 2
        and not direct.participants.filter(user=personas.outsider).exists()
    )
    hr_events = [e.type for e in events.after(personas.hr, start).events]
    assert hr_events.count("chat.message") == 2  # the direct message, and the channel's


def test_the_help_line_end_to_end(personas: Personas, token_client: TokenClient) -> None:
    admin, member = token_client(personas.admin), token_client(personas.member)
    helpers = [personas.hr, personas.animator]
    opened = send(
        admin,
        "post",
        "/helpdesks",
        {"name": "IT help", "helpers": [h.pk for h in helpers]},
    )
    assert opened.status_code == 201, opened.content
    desk = opened.json()["id"]
    assert send(member, "post", "/helpdesks", {"name": "Mine"}).status_code == 403
    asked = send(member, "post", f"/helpdesks/{desk}/requests", {"body": "VPN is down\nSince 9"})
    assert asked.status_code == 201 and asked.json()["state"] == "waiting"
    request, conversation = asked.json()["id"], asked.json()["conversation"]
    hr, animator = token_client(personas.hr), token_client(personas.animator)
    # The rota sees the queue and the request; nobody else does.
    queue = send(animator, "get", f"/helpdesks/{desk}/requests").json()
    assert [(r["id"], r["title"]) for r in queue] == [(request, "VPN is down")]
    outsider = token_client(personas.outsider)
    assert send(outsider, "get", f"/helpdesks/{desk}/requests").json() == []
    assert send(outsider, "get", f"/help-requests/{request}").status_code == 404
    assert send(outsider, "get", f"/conversations/{conversation}/messages").status_code == 404
    external = token_client(personas.external)
    assert send(external, "post", f"/helpdesks/{desk}/requests", {"body": "x"}).status_code == 404
    # A helper answers only once they claimed it; the other helper then reads, not writes.
    path = f"/conversations/{conversation}/messages"
    assert send(hr, "post", path, {"body": "On it"}).status_code == 403
    claimed = send(hr, "post", f"/help-requests/{request}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"]["id"] == personas.hr.pk
    assert send(animator, "post", f"/help-requests/{request}/claim").status_code == 409
    assert send(hr, "post", path, {"body": "Restart the client"}).status_code == 201
    assert send(animator, "post", path, {"body": "me too"}).status_code == 403
    assert [m["body"] for m in send(animator, "get", path).json()] == [
        "VPN is down\nSince 9",
        "Restart the client",
    ]
    assert send(member, "put", f"/help-requests/{request}/rating", {"rating": 5}).status_code == 403
    resolved = send(hr, "post", f"/help-requests/{request}/resolve")
    assert resolved.status_code == 200
    for rating, status in ((6, 422), (0, 422), (4, 200)):
        rated = send(member, "put", f"/help-requests/{request}/rating", {"rating": rating})
        assert rated.status_code == status
    final = send(member, "get", f"/help-requests/{request}").json()
    assert final["state"] == "resolved" and final["rating"] == 4
    times = [final[k] for k in ("created_at", "claimed_at", "first_response_at", "resolved_at")]
    assert all(times) and times == sorted(times)
    assert send(member, "post", path, {"body": "Thanks"}).status_code == 403  # closed


def test_the_three_forms_agree_for_help_requests(personas: Personas) -> None:
    desk = services.desk_save(actor=personas.admin, name="HR help", helpers=[personas.hr.pk])
    waiting = services.help_ask(actor=personas.member, desk=desk, body="Payslip?")
    claimed = services.help_ask(actor=personas.owner, desk=desk, body="Holidays?")
    services.help_claim(actor=personas.hr, request=claimed)
    objects: list[Model] = [waiting, claimed, waiting.conversation, claimed.conversation]
    for viewer in [*personas.all(), AnonymousUser()]:
        for obj in objects:
            allowed = access.can(viewer, access.VIEW, obj)
            listed = access.visible(viewer, type(obj).objects.filter(pk=obj.pk)).exists()
            receives = (
                isinstance(viewer, User) and access.audience(obj).filter(pk=viewer.pk).exists()
            )
            assert allowed == listed == receives, (viewer, obj, allowed, listed, receives)
    assert access.can(personas.hr, "view", waiting) and not access.can(
        personas.owner, "view", waiting
    )


def test_reactions_pins_forwards_and_files(
    personas: Personas, token_client: TokenClient, settings: Settings, tmp_path: Any
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    member, hr = token_client(personas.member), token_client(personas.hr)
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    path = f"/conversations/{direct.pk}/messages"
    upload = member.post(
        f"{API}/files", {"file": SimpleUploadedFile("plan.txt", b"step 1\n", "text/plain")}
    )
    assert upload.status_code == 201
    sent = send(member, "post", path, {"attachments": [upload.json()["id"]]})
    assert sent.status_code == 201 and [f["name"] for f in sent.json()["files"]] == ["plan.txt"]
    message = sent.json()["id"]
    assert hr.get(f"{API}/files/{upload.json()['id']}").status_code == 200
    # Someone else's file, or one attached already, is not attached again.
    for client in (hr, member):
        again = send(client, "post", path, {"attachments": [upload.json()["id"]]})
        assert again.status_code == 422
    assert Message.objects.count() == 1
    outsider = token_client(personas.outsider)
    assert outsider.get(f"{API}/files/{upload.json()['id']}").status_code == 404
    # Reactions: one of the proposed set, counted, one's own marked.
    for client in (member, hr):
        assert (
            send(client, "put", f"/messages/{message}/reactions", {"emoji": "🎉"}).status_code
            == 200
        )
    again = send(hr, "put", f"/messages/{message}/reactions", {"emoji": "🎉"}).json()
    assert again["reactions"] == [{"emoji": "🎉", "count": 2, "mine": True}]
    refused = send(hr, "put", f"/messages/{message}/reactions", {"emoji": "💩"})
    assert refused.status_code == 422
    taken_back = send(hr, "delete", f"/messages/{message}/reactions?emoji=🎉").json()
    assert taken_back["reactions"] == [{"emoji": "🎉", "count": 1, "mine": False}]
    # Pins.
    assert send(hr, "put", f"/messages/{message}/pin", {"pinned": True}).json()["pinned_at"]
    assert [m["id"] for m in send(member, "get", f"/conversations/{direct.pk}/pins").json()] == [
        message
    ]
    # Forward to a conversation one may write in, never to one one cannot read.
    group = services.group_create(actor=personas.hr, title="Team", people=[personas.owner.pk])
    forwarded = send(hr, "post", f"/messages/{message}/forward", {"conversation": group.pk})
    assert forwarded.status_code == 201
    assert forwarded.json()["conversation"] == group.pk
    assert "Forwarded from Member" in forwarded.json()["body"]
    assert (
        send(member, "post", f"/messages/{message}/forward", {"conversation": group.pk}).status_code
        == 404
    )
    for method, route, body in (
        ("put", f"/messages/{message}/reactions", {"emoji": "👍"}),
        ("delete", f"/messages/{message}/reactions?emoji=👍", None),
        ("put", f"/messages/{message}/pin", {"pinned": False}),
        ("post", f"/messages/{message}/forward", {"conversation": group.pk}),
        ("get", f"/conversations/{direct.pk}/pins", None),
    ):
        assert send(outsider, method, route, body).status_code == 404, route
    assert Message.objects.filter(conversation=group).count() == 1
    # What is said in a confidential community's channel is not forwarded out of it.
    secret = build(personas, Visibility.SECRET)
    secret.confidential = True
    secret.save(update_fields=["confidential"])
    channel = services.channel_of(actor=personas.owner, community=secret)
    said, _ = services.message_send(actor=personas.owner, conversation=channel, body="Merger")
    out = send(token_client(personas.owner), "post", f"/messages/{said.pk}/forward",
               {"conversation": group.pk})  # fmt: skip
    assert out.status_code == 403 and Message.objects.filter(conversation=group).count() == 1
    page = Client()
    page.force_login(personas.member)
    assert "Confidential" in page.get(f"/chat/{channel.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_see_one_order_in_the_history_and_the_stream(
    personas: Personas, token_client: TokenClient, settings: Settings
) -> None:
    """Four people send into one group at once: the API's history and the event stream
    (what a socket delivers, in seq order) list the messages in the same order."""
    settings.CHAT_MESSAGES_PER_WINDOW = 1000
    people = [personas.member, personas.hr, personas.owner, personas.animator]
    group = services.group_create(
        actor=personas.member, title="Rush", people=[p.pk for p in people[1:]]
    )
    clients = [token_client(person) for person in people]
    path = f"/conversations/{group.pk}/messages"

    answers: list[int] = []

    def sender(client: Client, name: str) -> None:
        try:
            for n in range(15):
                answers.append(send(client, "post", path, {"body": f"{name} {n}"}).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=sender, args=(client, f"p{i}")) for i, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [201] * 60
    events.publish()
    history = send(clients[0], "get", f"{path}?limit=100").json()
    listed = [m["id"] for m in history]  # as the API lists them, oldest first
    streamed = [
        e.data["message"]
        for e in Event.objects.filter(type="chat.message").order_by("seq")
        if e.data.get("conversation", group.pk) == group.pk
    ]
    assert len(listed) == 60 and streamed == listed == sorted(listed)
