"""Notification e-mails through a real SMTP server on loopback: at once for what is
urgent (once), held by quiet hours, never for what the person can no longer see; the
digest repeats nothing; the unsubscribe link is signed, expires and works once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from essaim.accounts.services import user_deactivate
from essaim.communities import services as communities
from essaim.communities.models import Community, Membership, Role, Visibility
from essaim.content import services as content
from essaim.http import CLI
from essaim.notifications import mail, services, tasks
from essaim.notifications.models import Notification, Preferences
from essaim.realtime import presence
from essaim.settings import email_settings
from essaim.worker import TaskWorker
from tests.conftest import Personas, free_port

# The worker closes its connections: real transactions (the e-mail is queued on commit).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp(smtp_server: Controller) -> Iterator[list[Message]]:
    with override_settings(
        **email_settings(f"smtp://127.0.0.1:{smtp_server.port}"), NOTIFICATION_EMAIL_DELAY=0
    ):
        yield smtp_server.received  # type: ignore[attr-defined]


def team(personas: Personas, *, confidential: bool = False, name: str = "Projet Lune") -> Community:
    community = communities.community_create(
        actor=personas.owner, origin=CLI, name=name, visibility=Visibility.PRIVATE
    )
    if confidential:
        Community.objects.filter(pk=community.pk).update(confidential=True)
        community.refresh_from_db()
    Membership.objects.create(community=community, user=personas.member, role=Role.MEMBER)
    return community


def mention(personas: Personas, community: Community, text: str) -> None:
    content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** {text}"
    )


def run_tasks() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    TaskWorker(batch=True, interval=0).run()


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message: Message) -> str:
    part = message.get_payload(decode=True) if not message.is_multipart() else None
    return (part or b"").decode()


def test_an_urgent_notification_is_emailed_once_in_the_persons_language(
    personas: Personas, smtp: list[Message]
) -> None:
    personas.member.language = "fr"
    personas.member.save(update_fields=["language"])
    mention(personas, team(personas), "la revue de mardi")
    run_tasks()
    [sent] = smtp
    assert sent["To"] == personas.member.email
    assert "Owner vous a mentionné" in subject(sent)
    assert "la revue de mardi" in body(sent)
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/stop/" in sent["List-Unsubscribe"]
    assert Notification.objects.get().emailed_at is not None
    # The task run again, or queued twice: nothing more.
    tasks.send_now.enqueue(notification_ids=list(Notification.objects.values_list("pk", flat=True)))
    run_tasks()
    assert len(smtp) == 1


def test_no_email_for_who_is_online_who_read_it_or_lost_access(
    personas: Personas, smtp: list[Message]
) -> None:
    community = team(personas)
    presence.seen([personas.member.pk])
    mention(personas, community, "online")
    run_tasks()
    presence.gone(personas.member.pk)
    mention(personas, community, "read it already")
    services.mark_all_read(actor=personas.member)
    run_tasks()
    mention(personas, community, "secret plans")
    communities.member_remove(
        actor=personas.owner, origin=CLI, community=community, person=personas.member
    )
    run_tasks()
    assert smtp == []


def test_by_email_only_is_emailed_and_not_shown_in_the_app(
    personas: Personas, smtp: list[Message]
) -> None:
    services.preferences_set(actor=personas.member, channels={"mention": ["email"]})
    mention(personas, team(personas), "mail only")
    services.mark_all_read(actor=personas.member)  # the centre's, which does not hold it
    run_tasks()
    [sent] = smtp
    assert "mail only" in subject(sent)


def test_a_confidential_community_sends_no_content(personas: Personas, smtp: list[Message]) -> None:
    mention(personas, team(personas, confidential=True), "X-42")
    run_tasks()
    [sent] = smtp
    text = subject(sent) + body(sent)
    assert "X-42" not in text and "Projet Lune" not in text and "Owner" not in text
    assert "confidential community" in text


def test_quiet_hours_hold_the_email_until_they_end(personas: Personas, smtp: list[Message]) -> None:
    now = timezone.localtime()
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    services.preferences_set(actor=personas.member, quiet_hours=(start, end))
    mention(personas, team(personas), "late")
    TaskWorker(batch=True, interval=0).run()
    assert smtp == []
    held = DBTaskResult.objects.filter(status="READY").get()
    assert held.run_after > timezone.now() + timedelta(minutes=50)
    # Outside quiet hours it goes.
    services.preferences_set(actor=personas.member, quiet_hours=(None, None))
    run_tasks()
    assert len(smtp) == 1


def test_a_server_down_loses_nothing_and_sends_once(
    personas: Personas, smtp_server: Controller
) -> None:
    down = email_settings(f"smtp://127.0.0.1:{free_port()}?timeout=1")
    with override_settings(**down, NOTIFICATION_EMAIL_DELAY=0):
        mention(personas, team(personas), "retry me")
        TaskWorker(batch=True, interval=0).run()
    row = Notification.objects.get()
    assert row.emailed_at is None  # released for the next attempt
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # queued again
    with override_settings(**email_settings(f"smtp://127.0.0.1:{smtp_server.port}")):
        run_tasks()
        run_tasks()
    assert len(smtp_server.received) == 1  # type: ignore[attr-defined]


def test_the_digest_tells_what_was_not_seen_and_never_repeats(
    personas: Personas, smtp: list[Message]
) -> None:
    community = team(personas)
    mention(personas, community, "urgent one")
    run_tasks()  # e-mailed at once
    assert len(smtp) == 1
    post = content.post_create(actor=personas.member, community=community, body="Mon rapport")
    content.react(actor=personas.owner, post=post, kind="like")
    other = content.post_create(actor=personas.member, community=community, body="Déjà lu")
    content.react(actor=personas.owner, post=other, kind="like")
    services.mark_read(
        actor=personas.member, notification=Notification.objects.get(target_id=other.pk)
    )
    assert tasks.digests.call() == 1  # the member alone has something to say
    run_tasks()
    assert len(smtp) == 2
    digest = smtp[1]
    text = body(digest)
    assert "1 thing you have not seen" in subject(digest)
    assert "Mon rapport" in text and "urgent one" not in text and "Déjà lu" not in text
    assert Preferences.objects.get(user=personas.member).digest_sent_at is not None
    # The next digest has nothing to say: nobody gets one.
    assert tasks.digests.call() == 0
    # Someone who chose weekly digests is not in the daily ones (today is not Monday).
    Membership.objects.create(community=community, user=personas.hr, role=Role.MEMBER)
    content.react(actor=personas.hr, post=post, kind="like")
    services.preferences_set(actor=personas.member, digest="weekly")
    monday = tasks.digest_due(timezone.now()) == ["daily", "weekly"]
    assert (tasks.digests.call() == 1) == monday


def test_the_digest_leaves_out_what_was_lost_and_keeps_confidential_content_in(
    personas: Personas, smtp: list[Message]
) -> None:
    kept, left = team(personas), team(personas, name="Projet Soleil")
    secret = team(personas, confidential=True, name="Projet Mars")
    for community, text in ((kept, "Mon rapport"), (left, "Plan social"), (secret, "X-42")):
        post = content.post_create(actor=personas.member, community=community, body=text)
        content.react(actor=personas.owner, post=post, kind="like")
    communities.member_remove(
        actor=personas.owner, origin=CLI, community=left, person=personas.member
    )
    assert tasks.digests.call() == 1
    run_tasks()
    [digest] = smtp
    text = subject(digest) + body(digest)
    assert "Mon rapport" in text and "confidential community" in text
    assert "Plan social" not in text and "X-42" not in text and "Projet Mars" not in text


def test_who_is_deactivated_before_the_send_gets_nothing(
    personas: Personas, smtp: list[Message]
) -> None:
    mention(personas, team(personas), "queued")
    other = team(personas, name="Projet Soleil")
    post = content.post_create(actor=personas.member, community=other, body="Mine")
    content.react(actor=personas.owner, post=post, kind="like")
    user_deactivate(actor=personas.admin, origin=CLI, user=personas.member)
    run_tasks()  # the urgent e-mail queued before
    assert tasks.digests.call() == 0
    run_tasks()
    assert smtp == []


def test_the_unsubscribe_link_is_signed_expires_and_works_once(
    personas: Personas, smtp: list[Message]
) -> None:
    mention(personas, team(personas), "hello")
    run_tasks()
    link = smtp[0]["List-Unsubscribe"].strip("<>")
    path = "/" + link.split("/", 3)[3]
    client = Client(enforce_csrf_checks=True)  # signed out, as from a mail client
    assert client.get(path).status_code == 200  # a confirmation, nothing changed
    assert not Preferences.objects.filter(channels__has_key="mention").exists()
    # Forged and changed tokens change nothing.
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps({"u": personas.member.pk, "k": "mention", "v": 0}, salt="other")
    for bad in (forged, token[:-2] + "xx"):
        assert client.post(f"/notifications/stop/{bad}/").status_code == 400
    assert services.preferences_of(personas.member).wants("mention", "email")
    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    prefs = Preferences.objects.get(user=personas.member)
    assert not prefs.wants("mention", "email") and prefs.wants("mention", "app")
    # Replayed after turning it back on: refused, the choice stands.
    services.preferences_set(actor=personas.member, channels={"mention": ["app", "email"]})
    assert client.post(path).status_code == 400
    assert Preferences.objects.get(user=personas.member).wants("mention", "email")
    # An old link has expired.
    fresh = mail.unsubscribe_token(
        personas.member, Preferences.objects.get(user=personas.member), "mention"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mail, "UNSUBSCRIBE_DAYS", -1)
        assert client.post(f"/notifications/stop/{fresh}/").status_code == 400
    assert Preferences.objects.get(user=personas.member).wants("mention", "email")


def test_quiet_hours_across_midnight() -> None:
    prefs = Preferences(quiet_from=time(22), quiet_until=time(7))
    user = Preferences._meta.get_field("user").related_model(pk=0)
    late = timezone.make_aware(timezone.datetime(2026, 11, 30, 23, 30))
    early = timezone.make_aware(timezone.datetime(2026, 11, 30, 6, 0))
    noon = timezone.make_aware(timezone.datetime(2026, 11, 30, 12, 0))
    assert mail.held_until(user, prefs, late) == timezone.make_aware(
        timezone.datetime(2026, 12, 1, 7, 0)
    )
    assert mail.held_until(user, prefs, early) == timezone.make_aware(
        timezone.datetime(2026, 11, 30, 7, 0)
    )
    assert mail.held_until(user, prefs, noon) is None
