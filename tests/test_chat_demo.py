"""The demo organisation's conversations (essaim/chat/demo.py): direct, group and channel
conversations whose writers access.py allows, messages in time order in both languages,
threads whose counters match their replies, a help line with requests in every state."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.models import Count
from pytest_django import Settings

from essaim import access
from essaim.accounts.models import User
from essaim.chat import selectors
from essaim.chat.demo import LINES
from essaim.chat.models import Conversation, HelpRequest, IncomingWebhook, Message
from essaim.demo import DEMO_ADMIN_EMAIL, DemoSummary, build_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: Settings, tmp_path: Path) -> DemoSummary:
    settings.FILES_DIR = tmp_path / "files"
    return build_organisation(users=60)


def test_conversations_threads_and_a_help_line(demo: DemoSummary) -> None:
    assert demo.chat["messages"] == Message.objects.count() > 2000
    kinds = dict(Conversation.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds["direct"] == 6 and kinds["group"] == 3 and kinds["channel"] >= 2
    assert kinds["help"] == HelpRequest.objects.count() == demo.chat["help_requests"]
    # Every message was written by someone who may write there (help requests aside:
    # resolved ones are closed now), in order within its conversation.
    for conversation in Conversation.objects.exclude(kind="help"):
        found = list(conversation.messages.filter(parent__isnull=True).order_by("id"))
        assert found == sorted(found, key=lambda m: m.created_at)
        for author in {m.author for m in found}:
            assert access.can(author, "post", conversation), (conversation, author)
    for parent in Message.objects.filter(reply_count__gt=0):
        assert parent.replies.count() == parent.reply_count
        assert all(r.created_at > parent.created_at for r in parent.replies.all())
    for language in ("fr", "en"):  # each author writes in their own language
        assert Message.objects.filter(body__in=LINES[language]).exists(), language
    states = set(HelpRequest.objects.values_list("state", flat=True))
    assert states == {"waiting", "claimed", "resolved"}
    assert not HelpRequest.objects.filter(state="resolved", rating__isnull=True).exists()
    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    listed = list(selectors.conversations(admin))
    unread = {c.title: c.unread for c in listed if c.kind != "channel" and c.unread}
    assert len(listed) >= 9 and unread == {"Projet CRM": 1}  # the standup bot's question
    # A build server's webhook and a bot, made through the services.
    assert demo.chat["integrations"] == 2
    assert IncomingWebhook.objects.get().name == "Build server"
    bots = Message.objects.filter(author__kind="bot")
    assert bots.count() == 5 and bots.filter(html__contains="<strong>passed</strong>").exists()
