"""The chat pages: what an outsider never sees through them, and the forms that write
(a resubmitted send form never writes twice)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from essaim.accounts.models import User
from essaim.chat import services
from essaim.chat.models import Conversation, HelpRequest, IncomingWebhook, Message
from essaim.communities.models import Visibility
from tests.conftest import Personas
from tests.test_communities import build
from tests.verify import unmasked

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_outsider_sees_nothing_of_a_conversation(personas: Personas) -> None:
    secret = build(personas, Visibility.SECRET)
    channel = services.channel_of(actor=personas.owner, community=secret)
    message, _ = services.message_send(actor=personas.owner, conversation=channel, body="Merger")
    outsider = signed_in(personas.outsider)
    for hidden, missing in (
        (f"/chat/{channel.pk}/", "/chat/999999/"),
        (f"/chat/{channel.pk}/newer/?after=0", "/chat/999999/newer/?after=0"),
        (f"/chat/messages/{message.pk}/", "/chat/messages/999999/"),
        (f"/chat/{channel.pk}/webhooks/", "/chat/999999/webhooks/"),
    ):
        seen, absent = outsider.get(hidden), outsider.get(missing)
        assert seen.status_code == absent.status_code == 404, hidden
        assert unmasked(seen.content, hidden.split("?")[0]) == unmasked(
            absent.content, missing.split("?")[0]
        )
    for path, data in (
        (f"/chat/{channel.pk}/send/", {"body": "me"}),
        (f"/chat/messages/{message.pk}/delete/", {}),
        (f"/chat/messages/{message.pk}/edit/", {"body": "x"}),
        (f"/chat/community/{secret.pk}/", {}),
        (f"/chat/{channel.pk}/webhooks/", {"name": "spy"}),
    ):
        assert outsider.post(path, data).status_code == 404, path
    assert b"Merger" not in outsider.get("/chat/").content
    assert Message.objects.get().body == "Merger"


def test_write_to_a_colleague_from_their_profile(personas: Personas) -> None:
    member, hr = signed_in(personas.member), signed_in(personas.hr)
    profile = member.get(f"/people/{personas.hr.pk}/").content.decode()
    assert f"/chat/with/{personas.hr.pk}/" in profile
    listed = member.get("/people/").content.decode()  # and from the directory's list
    assert f"/chat/with/{personas.hr.pk}/" in listed
    assert f"/chat/with/{personas.member.pk}/" not in listed
    opened = member.post(f"/chat/with/{personas.hr.pk}/")
    conversation = Conversation.objects.get()
    assert opened["Location"] == f"/chat/{conversation.pk}/"
    page = member.get(opened["Location"]).content.decode()
    client_id = re.search(r'name="client_id" value="(\w+)"', page)
    assert client_id is not None
    form = {"body": "**Lunch?**", "client_id": client_id.group(1)}
    for _ in range(2):  # the form sent twice (a double click, a reload)
        member.post(f"/chat/{conversation.pk}/send/", form)
    assert Message.objects.count() == 1
    listing = hr.get("/chat/").content.decode()
    assert personas.member.display_name in listing and 'data-unread="' in listing
    shown = hr.get(f"/chat/{conversation.pk}/").content.decode()
    assert "<strong>Lunch?</strong>" in shown
    assert 'data-unread="' not in hr.get("/chat/").content.decode()  # read by opening it
    french = hr.get("/chat/", headers={"Accept-Language": "fr"}).content.decode()
    assert "Conversations" in french and "Démarrer un groupe" in french


def test_the_help_line_through_the_pages(personas: Personas) -> None:
    desk = services.desk_save(
        actor=personas.admin, name="IT help", helpers=[personas.hr.pk, personas.animator.pk]
    )
    member, hr = signed_in(personas.member), signed_in(personas.hr)
    assert "IT help" in member.get("/chat/help/").content.decode()
    asked = member.post(f"/chat/help/{desk.pk}/ask/", {"body": "My badge stopped working"})
    request = HelpRequest.objects.get()
    assert asked["Location"] == f"/chat/{request.conversation_id}/"
    queue = hr.get("/chat/help/").content.decode()
    assert "My badge stopped working" in queue and "Take it" in queue
    assert "Take it" not in member.get("/chat/help/").content.decode()  # not a helper
    hr.post(f"/chat/help/requests/{request.pk}/claim/")
    page = hr.get(f"/chat/{request.conversation_id}/").content.decode()
    client_id = re.search(r'name="client_id" value="(\w+)"', page)
    assert client_id is not None and "taken by Hr" in page
    hr.post(
        f"/chat/{request.conversation_id}/send/",
        {"body": "Come to desk 3", "client_id": client_id.group(1)},
    )
    hr.post(f"/chat/help/requests/{request.pk}/resolve/")
    rate_page = member.get(f"/chat/{request.conversation_id}/").content.decode()
    assert "How was the help?" in rate_page
    member.post(f"/chat/help/requests/{request.pk}/rate/", {"rating": "5"})
    request.refresh_from_db()
    assert (request.state, request.rating, request.claimed_by) == ("resolved", 5, personas.hr)
    assert request.first_response_at is not None and request.resolved_at is not None
    outsider = signed_in(personas.outsider)
    assert outsider.get(f"/chat/{request.conversation_id}/").status_code == 404
    assert outsider.post(f"/chat/help/requests/{request.pk}/claim/").status_code == 404
    assert "My badge" not in outsider.get("/chat/help/").content.decode()


def test_react_pin_and_send_a_file_through_the_forms(
    personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    member, hr = signed_in(personas.member), signed_in(personas.hr)
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    notes = SimpleUploadedFile("notes.txt", b"agenda\n", "text/plain")
    member.post(f"/chat/{direct.pk}/send/", {"body": "", "client_id": "f-1", "files": [notes]})
    message = Message.objects.get()
    assert message.attachments.get().name == "notes.txt"
    hr.post(f"/chat/messages/{message.pk}/react/", {"emoji": "👍"})
    hr.post(f"/chat/messages/{message.pk}/pin/")
    page = member.get(f"/chat/{direct.pk}/").content.decode()
    assert "notes.txt" in page and "👍 1" in page and "📌" in page
    refused = hr.post(f"/chat/messages/{message.pk}/react/", {"emoji": "x"}, follow=True)
    assert "Choose one of the proposed reactions." in refused.content.decode()
    outsider = signed_in(personas.outsider)
    for action in ("react", "pin"):
        assert (
            outsider.post(f"/chat/messages/{message.pk}/{action}/", {"emoji": "👍"}).status_code
            == 404
        )
    message.refresh_from_db()
    assert message.reactions.count() == 1 and message.pinned_by == personas.hr


def test_webhooks_and_bots_through_the_pages(personas: Personas) -> None:
    channel = services.channel_of(
        actor=personas.owner, community=build(personas, Visibility.PRIVATE)
    )
    page = f"/chat/{channel.pk}/webhooks/"
    animator = signed_in(personas.animator)
    assert page.encode() in animator.get(f"/chat/{channel.pk}/").content
    assert page.encode() not in signed_in(personas.member).get(f"/chat/{channel.pk}/").content
    assert signed_in(personas.member).get(page).status_code == 403
    created = animator.post(page, {"name": "Alerts"})
    url = re.search(rb'value="(http://testserver/hooks/[^"]+)"', created.content)
    assert created.status_code == 200 and url is not None
    assert (
        Client()
        .post(url.group(1).decode(), '{"text": "Disk full"}', content_type="application/json")
        .status_code
        == 200
    )
    listed = animator.get(page)
    assert b"Alerts" in listed.content and url.group(1) not in listed.content  # shown once
    assert b"Disk full" in animator.get(f"/chat/{channel.pk}/").content
    assert animator.post(page, {"name": ""}).status_code == 400
    webhook = IncomingWebhook.objects.get()
    assert animator.post(page, {"revoke": webhook.pk}).status_code == 302
    webhook.refresh_from_db()
    assert webhook.revoked_at is not None
    # Bots: administrators make them and see the token once.
    assert signed_in(personas.member).get("/manage/bots/").status_code == 404
    admin = signed_in(personas.admin)
    made = admin.post("/manage/bots/", {"name": "Standup bot", "description": "Asks at 9"})
    assert made.status_code == 200 and b'value="ess_' in made.content
    assert b"Standup bot" in admin.get("/manage/bots/").content
    assert b'value="ess_' not in admin.get("/manage/bots/").content
    assert admin.post("/manage/bots/", {"name": ""}).status_code == 400
