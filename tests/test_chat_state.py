"""Chat state around messages: following threads (who follows, unread replies, stop and
start again), quoting a message into the composer; an outsider learns nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django import Settings

from essaim import access
from essaim.chat import selectors, services
from essaim.chat.models import ThreadFollow
from essaim.communities.models import Visibility
from essaim.realtime import events, presence
from tests.conftest import Personas
from tests.test_chat import MISSING, send
from tests.test_communities import build

pytestmark = pytest.mark.django_db
TokenClient = Callable[..., Client]


def test_following_threads(personas: Personas, token_client: TokenClient) -> None:
    channel = services.channel_of(
        actor=personas.owner, community=build(personas, Visibility.PRIVATE)
    )
    root, _ = services.message_send(actor=personas.member, conversation=channel, body="Plan?")
    owner, member = token_client(personas.owner), token_client(personas.member)
    assert send(member, "get", "/threads").json() == []  # no reply yet: nothing to follow
    reply = {"body": "Friday", "parent": root.pk}
    assert send(owner, "post", f"/conversations/{channel.pk}/messages", reply).status_code == 201
    # The replier follows, having read; the thread's author follows, one reply unread.
    assert [(t["message"]["id"], t["unread"]) for t in send(owner, "get", "/threads").json()] == [
        (root.pk, 0)
    ]
    assert [t["unread"] for t in send(member, "get", "/threads").json()] == [1]
    assert selectors.unread_threads(personas.member) == 1
    assert send(member, "put", f"/messages/{root.pk}/read").status_code == 204
    assert selectors.unread_threads(personas.member) == 0
    # Someone who chooses to follow; someone who stops, and is not made to follow again
    # by the next reply — until they reply themselves.
    animator = token_client(personas.animator)
    assert (
        send(animator, "put", f"/messages/{root.pk}/follow", {"following": True}).status_code == 204
    )
    assert (
        send(member, "put", f"/messages/{root.pk}/follow", {"following": False}).status_code == 204
    )
    services.message_send(actor=personas.owner, conversation=channel, body="Or Monday", parent=root)
    assert send(member, "get", "/threads").json() == []
    assert [t["unread"] for t in send(animator, "get", "/threads").json()] == [1]
    services.message_send(actor=personas.member, conversation=channel, body="Monday", parent=root)
    assert [t["unread"] for t in send(member, "get", "/threads").json()] == [0]
    # A reply is not a thread; bad input changes nothing.
    first_reply = root.replies.order_by("id").first()
    assert first_reply is not None
    path = f"/messages/{first_reply.pk}/follow"
    assert send(animator, "put", path, {"following": True}).status_code == 422
    assert (
        send(animator, "put", f"/messages/{root.pk}/follow", {"following": "x"}).status_code == 422
    )
    # Who stops reading the conversation stops seeing the thread, without unfollowing.
    channel.community.memberships.filter(user=personas.animator).delete()
    assert send(animator, "get", "/threads").json() == []
    assert ThreadFollow.objects.filter(user=personas.animator, following=True).exists()
    # An outsider: 404 as for a missing message, nothing written.
    outsider = token_client(personas.outsider)
    for route in (f"/messages/{root.pk}/follow", f"/messages/{MISSING}/follow"):
        assert send(outsider, "put", route, {"following": True}).status_code == 404
    assert send(outsider, "put", f"/messages/{root.pk}/read").status_code == 404
    assert not ThreadFollow.objects.filter(user=personas.outsider).exists()
    assert not access.can(personas.outsider, "view", root)


def test_the_thread_page_follows_and_reads(personas: Personas) -> None:
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    root, _ = services.message_send(actor=personas.member, conversation=direct, body="Lunch?")
    services.message_send(actor=personas.hr, conversation=direct, body="Yes", parent=root)
    member = Client()
    member.force_login(personas.member)
    assert b"data-threads-unread" in member.get("/chat/").content
    listed = member.get("/chat/threads/")
    assert b"Lunch?" in listed.content and b"1 new reply" in listed.content
    page = member.get(f"/chat/messages/{root.pk}/")
    assert b"Following" in page.content
    assert b"data-threads-unread" not in member.get("/chat/").content  # read by opening it
    member.post(f"/chat/messages/{root.pk}/unfollow/")
    assert b"Lunch?" not in member.get("/chat/threads/").content
    assert b"Follow this thread" in member.get(f"/chat/messages/{root.pk}/").content


def test_quoting_a_message(personas: Personas) -> None:
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    message, _ = services.message_send(
        actor=personas.hr, conversation=direct, body="Line 1\nLine 2"
    )
    elsewhere, _ = services.direct_open(actor=personas.member, person=personas.owner)
    hr = Client()
    hr.force_login(personas.member)
    page = hr.get(f"/chat/{direct.pk}/?quote={message.pk}").content.decode()
    box = re.search(r'<textarea id="chat-body"[^>]*>(.*?)</textarea>', page, re.S)
    assert box is not None and box.group(1) == "&gt; Line 1\n&gt; Line 2\n&gt; — Hr\n\n"
    # Another conversation's message, a missing one, nonsense: an empty box.
    for quote in (str(message.pk), str(MISSING), "x" * 30):
        other = hr.get(f"/chat/{elsewhere.pk}/?quote={quote}").content.decode()
        empty = re.search(r'<textarea id="chat-body"[^>]*>(.*?)</textarea>', other, re.S)
        assert empty is not None and empty.group(1) == ""


def test_read_receipts(personas: Personas, token_client: TokenClient, settings: Settings) -> None:
    group = services.group_create(
        actor=personas.member, title="Trio", people=[personas.hr.pk, personas.owner.pk]
    )
    first, _ = services.message_send(actor=personas.member, conversation=group, body="One")
    second, _ = services.message_send(actor=personas.member, conversation=group, body="Two")
    start = events.head_now()
    services.read_up_to(actor=personas.hr, conversation=group, message_id=first.pk)
    services.read_up_to(actor=personas.owner, conversation=group, message_id=second.pk)
    member = token_client(personas.member)
    path = f"/conversations/{group.pk}/receipts"
    positions = {r["person"]["id"]: r["message"] for r in send(member, "get", path).json()}
    assert positions == {personas.hr.pk: first.pk, personas.owner.pk: second.pk}
    events.publish()
    assert "chat.seen" in [e.type for e in events.after(personas.member, start).events]
    page = Client()
    page.force_login(personas.member)
    html = page.get(f"/chat/{group.pk}/").content.decode()
    assert "Seen by Hr" in html and "Seen by Owner" in html
    assert html.index("Seen by Hr") < html.index("Two") < html.index("Seen by Owner")
    # Whoever turns them off is no longer shown, and sees no one's.
    personas.hr.read_receipts = False
    personas.hr.save(update_fields=["read_receipts"])
    assert [r["person"]["id"] for r in send(member, "get", path).json()] == [personas.owner.pk]
    assert send(token_client(personas.hr), "get", path).json() == []
    start = events.head_now()
    services.read_up_to(actor=personas.hr, conversation=group, message_id=second.pk)
    events.publish()
    assert "chat.seen" not in [e.type for e in events.after(personas.member, start).events]
    # A group past CHAT_RECEIPTS_MAX, and a channel, show none.
    settings.CHAT_RECEIPTS_MAX = 2
    assert send(member, "get", path).json() == []
    channel = services.channel_of(
        actor=personas.owner, community=build(personas, Visibility.PRIVATE)
    )
    services.read_up_to(actor=personas.owner, conversation=channel, message_id=1)
    assert send(member, "get", f"/conversations/{channel.pk}/receipts").json() == []
    # An outsider: 404 like a missing conversation.
    outsider = token_client(personas.outsider)
    assert send(outsider, "get", path).status_code == 404
    assert send(outsider, "get", f"/conversations/{MISSING}/receipts").status_code == 404


def test_read_receipts_are_a_setting(personas: Personas, token_client: TokenClient) -> None:
    member = token_client(personas.member)
    assert send(member, "get", "/me").json()["read_receipts"] is True
    assert send(member, "patch", "/me", {"read_receipts": False}).json()["read_receipts"] is False
    assert send(member, "patch", "/me", {"read_receipts": "nope"}).status_code == 422
    personas.member.refresh_from_db()
    assert personas.member.read_receipts is False
    page = Client()
    page.force_login(personas.member)
    page.post("/settings/", {"display_name": "Member", "language": "", "read_receipts": "on"})
    personas.member.refresh_from_db()
    assert personas.member.read_receipts is True


def test_presence_and_do_not_disturb_in_a_conversation(personas: Personas) -> None:
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    member, hr = Client(), Client()
    member.force_login(personas.member)
    hr.force_login(personas.hr)
    page = member.get(f"/chat/{direct.pk}/").content.decode()
    assert f'data-presence="{personas.hr.pk}" data-status="offline"' in page
    assert "data-dnd-note hidden" in page
    # Hr says "do not disturb" from the chat's own form, and stays in the chat.
    answer = hr.post(
        "/people/status/",
        {"availability": "dnd", "status_text": "Focus time", "next": f"/chat/{direct.pk}/"},
    )
    assert answer.status_code == 302 and answer["Location"] == f"/chat/{direct.pk}/"
    assert 'value="dnd" selected' in hr.get("/chat/").content.decode()
    page = member.get(f"/chat/{direct.pk}/").content.decode()
    assert "Focus time" in page and "data-dnd-note hidden" in page  # offline: nothing to disturb
    presence.seen([personas.hr.pk])  # Hr's socket is open
    page = member.get(f"/chat/{direct.pk}/").content.decode()
    assert 'data-status="dnd"' in page and "data-dnd-note>" in page
    # A group or a channel shows no one's presence; a foreign "next" is not followed.
    group = services.group_create(actor=personas.member, title="G", people=[personas.hr.pk])
    assert "data-presence=" not in member.get(f"/chat/{group.pk}/").content.decode()
    away = hr.post("/people/status/", {"availability": "away", "next": "https://evil.example/"})
    assert away["Location"] == f"/people/{personas.hr.pk}/"
