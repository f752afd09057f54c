"""Chat's incoming webhooks and bots: a webhook posts Slack's JSON into its channel as its
own bot (and reads nothing); a bot with a token reads and posts where it was invited and
nowhere else; neither is in the directory; bad input and outsiders change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django import Settings

from essaim import access
from essaim.accounts.models import User, UserKind
from essaim.chat import services, slack
from essaim.chat.models import BODY_MAX, Conversation, IncomingWebhook, Message
from essaim.communities import services as community_services
from essaim.communities.models import Membership, Visibility
from essaim.content.markdown import render, sanitise
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from essaim.realtime import events
from tests.conftest import Personas
from tests.test_chat import MISSING, send
from tests.test_communities import build
from tests.test_markdown import assert_safe

pytestmark = pytest.mark.django_db
TokenClient = Callable[..., Client]


def hook(client: Client, url: str, payload: Any, content_type: str = "application/json") -> Any:
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(url, body, content_type=content_type)


def new_webhook(
    personas: Personas, token_client: TokenClient, visibility: Visibility = Visibility.PRIVATE
) -> tuple[Conversation, str]:
    channel = services.channel_of(actor=personas.owner, community=build(personas, visibility))
    created = send(
        token_client(personas.animator),
        "post",
        f"/conversations/{channel.pk}/webhooks",
        {"name": "CI builds"},
    )
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    assert url.startswith("http://testserver/hooks/")
    return channel, url.removeprefix("http://testserver")


def test_a_webhook_posts_slack_json_into_its_channel(
    personas: Personas, token_client: TokenClient
) -> None:
    channel, url = new_webhook(personas, token_client)
    start = events.head_now()
    slack = {
        "text": "Build *passed* on <https://ci.example.com/42|#42> &lt;main&gt;",
        "attachments": [{"title": "Changes", "text": "3 commits"}],
    }
    answer = hook(Client(), url, slack)
    assert (answer.status_code, answer.content) == (200, b"ok")
    message = Message.objects.get()
    assert message.conversation == channel and message.author.kind == UserKind.BOT
    assert message.author.display_name == "CI builds"
    assert "<strong>passed</strong>" in message.html
    assert '<a href="https://ci.example.com/42"' in message.html and "&lt;main&gt;" in message.html
    events.publish()
    assert "chat.message" in [e.type for e in events.after(personas.member, start).events]
    # Slack's form encoding: the JSON in a "payload" field.
    form = hook(
        Client(),
        url,
        urlencode({"payload": json.dumps({"text": "From a form"})}),
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 200 and Message.objects.filter(body="From a form").exists()
    # The members read it with its author marked as a bot.
    listed = send(token_client(personas.member), "get", f"/conversations/{channel.pk}/messages")
    assert listed.json()[0]["author"]["bot"] is True
    webhooks = send(token_client(personas.owner), "get", f"/conversations/{channel.pk}/webhooks")
    assert webhooks.json()[0]["last_used_at"] is not None and "url" not in webhooks.json()[0]


def test_bad_webhook_calls_change_nothing(
    personas: Personas, token_client: TokenClient, settings: Settings
) -> None:
    _channel, url = new_webhook(personas, token_client)
    client = Client()
    cases: list[tuple[Any, int, bytes]] = [
        ("{not json", 400, b"invalid_payload"),
        (b"\xff\xfe", 400, b"invalid_payload"),
        ([1, 2], 400, b"no_text"),
        ({}, 400, b"no_text"),
        ({"text": "   "}, 400, b"no_text"),
        ({"text": 42}, 400, b"no_text"),
        ({"text": "x" * (BODY_MAX + 1)}, 400, b"invalid_payload"),
    ]
    for payload, status, text in cases:
        answer = hook(client, url, payload)
        assert (answer.status_code, answer.content) == (status, text), payload
    for form in ({"text": "x"}, {"payload": "{not json"}):  # a form without Slack's JSON
        answer = client.post(url, form)
        assert (answer.status_code, answer.content) == (400, b"invalid_payload"), form
    assert client.get(url).status_code == 405
    assert hook(client, "/hooks/not-a-secret", {"text": "x"}).status_code == 404
    assert not Message.objects.exists()
    settings.CHAT_MESSAGES_PER_WINDOW = 2
    codes = [hook(client, url, {"text": f"m{n}"}).status_code for n in range(3)]
    assert codes == [200, 200, 429] and Message.objects.count() == 2
    assert hook(client, url, {"text": "again"})["Retry-After"] == str(settings.CHAT_FLOOD_WINDOW)
    # Revoked: the URL is dead at once, for anyone.
    webhook = IncomingWebhook.objects.get()
    owner = token_client(personas.owner)
    assert (
        send(token_client(personas.member), "delete", f"/webhooks/{webhook.pk}").status_code == 404
    )
    assert send(owner, "delete", f"/webhooks/{webhook.pk}").status_code == 204
    logged = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"webhook.create", "webhook.revoke"} <= logged  # a secret way in: audited
    settings.CHAT_MESSAGES_PER_WINDOW = 60
    answer = hook(client, url, {"text": "after"})
    assert (answer.status_code, answer.content) == (404, b"no_service")
    # An archived community's channel takes no more posts.
    live, live_url = new_webhook(personas, token_client, Visibility.PUBLIC)
    community = live.community
    assert community is not None
    community_services.community_archive(actor=personas.owner, origin=CLI, community=community)
    assert hook(client, live_url, {"text": "late"}).status_code == 403
    assert Message.objects.count() == 2


def test_who_manages_webhooks_and_what_their_bot_reads(
    personas: Personas, token_client: TokenClient
) -> None:
    channel, _url = new_webhook(personas, token_client)
    path = f"/conversations/{channel.pk}/webhooks"
    member, outsider = token_client(personas.member), token_client(personas.outsider)
    assert send(member, "post", path, {"name": "x"}).status_code == 403  # writes, runs nothing
    assert send(member, "get", path).status_code == 403
    for route in (path, path.replace(str(channel.pk), str(MISSING))):
        assert send(outsider, "post", route, {"name": "x"}).status_code == 404
        assert send(outsider, "get", route).status_code == 404
    direct, _ = services.direct_open(actor=personas.member, person=personas.hr)
    group = services.group_create(actor=personas.member, title="G", people=[personas.hr.pk])
    for conversation in (direct, group):
        assert not access.can(personas.member, "webhooks", conversation)
    assert (
        send(member, "post", f"/conversations/{direct.pk}/webhooks", {"name": "x"}).status_code
        == 403
    )
    assert send(token_client(personas.owner), "post", path, {"name": ""}).status_code == 422
    assert IncomingWebhook.objects.count() == 1
    # Its bot posts in its channel and reads nothing, not even there.
    bot = IncomingWebhook.objects.get().bot
    assert access.can(bot, "post", channel) and not access.can(bot, "view", channel)
    assert not access.visible(bot, Conversation.objects.all()).exists()
    other = services.channel_of(actor=personas.owner, community=build(personas, Visibility.PUBLIC))
    assert not access.can(bot, "post", other)
    assert not Membership.objects.filter(user=bot).exists()


def test_a_bot_reads_and_posts_where_it_is_invited(
    personas: Personas, token_client: TokenClient
) -> None:
    created = send(
        token_client(personas.admin), "post", "/bots", {"name": "Deploy bot", "description": "x"}
    )
    assert created.status_code == 201
    bot_id, secret = created.json()["id"], created.json()["token"]
    bot_user = User.objects.get(pk=bot_id)
    assert bot_user.kind == UserKind.BOT and not bot_user.has_usable_password()
    bot = Client(headers={"Authorization": f"Bearer {secret}"})
    assert send(bot, "get", "/conversations").json() == []
    # Invited to a group: it reads the conversation and posts in it.
    group = services.group_create(actor=personas.member, title="Ops", people=[personas.hr.pk])
    services.message_send(actor=personas.member, conversation=group, body="Deploy please")
    services.group_add(actor=personas.member, conversation=group, people=[bot_id])
    assert [c["id"] for c in send(bot, "get", "/conversations").json()] == [group.pk]
    read = send(bot, "get", f"/conversations/{group.pk}/messages").json()
    assert [m["body"] for m in read] == ["Deploy please"]
    posted = send(bot, "post", f"/conversations/{group.pk}/messages", {"body": "Deployed"})
    assert posted.status_code == 201 and posted.json()["author"]["bot"] is True
    # Invited to a community: a member at once, of its channel only.
    community = build(personas, Visibility.PRIVATE)
    owner = token_client(personas.owner)
    invited = send(
        owner, "post", f"/communities/{community.pk}/invitations", {"user_ids": [bot_id]}
    )
    assert invited.status_code == 201, invited.content
    channel = services.channel_of(actor=personas.owner, community=community)
    assert (
        send(bot, "post", f"/conversations/{channel.pk}/messages", {"body": "Hi"}).status_code
        == 201
    )
    assert send(bot, "get", f"/communities/{community.pk}").status_code == 404
    assert send(bot, "get", f"/communities/{community.pk}/posts").status_code == 404
    # Never an animator; nowhere else; not in the directory.
    other = build(personas, Visibility.PUBLIC)
    as_animator = send(
        owner,
        "post",
        f"/communities/{other.pk}/invitations",
        {"user_ids": [bot_id], "role": "animator"},
    )
    assert as_animator.status_code == 422 and not other.memberships.filter(user=bot_user).exists()
    other_channel = services.channel_of(actor=personas.owner, community=other)
    assert send(bot, "get", f"/conversations/{other_channel.pk}/messages").status_code == 404
    colleague = token_client(personas.member)
    assert send(colleague, "get", "/people?q=deploy").json()["total"] == 0
    everyone = send(colleague, "get", "/people").json()
    assert everyone["total"] == User.objects.filter(is_active=True).exclude(kind="bot").count()
    assert bot_id not in [p["id"] for p in everyone["results"]]
    # Administrators only make bots; a deactivated bot's token is dead.
    assert send(token_client(personas.member), "post", "/bots", {"name": "x"}).status_code == 403
    assert send(token_client(personas.member), "get", "/bots").status_code == 403
    assert [b["id"] for b in send(token_client(personas.admin), "get", "/bots").json()] == [bot_id]
    off = send(token_client(personas.admin), "post", f"/users/{bot_id}/deactivate")
    assert off.status_code == 200
    assert send(bot, "get", "/conversations").status_code == 401


def test_the_three_forms_agree_for_a_bot(personas: Personas) -> None:
    bot, _secret = services.bot_create(actor=personas.admin, origin=CLI, name="Helper")
    group = services.group_create(actor=personas.member, title="G", people=[bot.pk])
    alone = services.group_create(actor=personas.member, title="H", people=[personas.hr.pk])
    communities = [build(personas, v) for v in Visibility]
    community_services.invite(
        actor=personas.owner, origin=CLI, community=communities[0], people=[bot]
    )
    channels = [services.channel_of(actor=personas.owner, community=c) for c in communities]
    for conversation in [group, alone, *channels]:
        allowed = access.can(bot, "view", conversation)
        listed = access.visible(bot, Conversation.objects.filter(pk=conversation.pk)).exists()
        receives = access.audience(conversation).filter(pk=bot.pk).exists()
        assert allowed == listed == receives, conversation
    assert access.can(bot, "view", group) and access.can(bot, "view", channels[0])
    assert not access.can(bot, "view", alone) and not access.can(bot, "view", channels[1])
    # It sees the people it works with, not the company's directory.
    assert access.can(bot, "view", personas.member) and not access.can(
        bot, "view", personas.outsider
    )


@pytest.mark.parametrize(
    ("payload", "markdown"),
    [
        ({"text": "*Deploy* ~v1~ _now_ <!here> <@U1|ana>"}, "**Deploy** ~~v1~~ _now_ @here @ana"),
        (
            {"text": "<https://a.example/x?y=1&amp;z=2|docs> and <https://b.example>"},
            "[docs](https://a.example/x?y=1&z=2) and https://b.example",
        ),
        ({"text": "2*3*4 and snake_case_name stay"}, "2*3*4 and snake_case_name stay"),
        (
            {
                "text": "fallback only",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "Incident"}},
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": "DB down"},
                        "fields": [{"type": "mrkdwn", "text": "*Sev*: 1"}],
                    },
                    {"type": "divider"},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": "by ops"}]},
                ],
            },
            "**Incident**\n\nDB down\n\n**Sev**: 1\n\nby ops",
        ),
        (
            {
                "attachments": [
                    {
                        "pretext": "New lead",
                        "title": "ACME",
                        "title_link": "https://crm.example/1",
                        "fallback": "ACME, 5 seats",
                    }
                ]
            },
            "New lead\n\n**[ACME](https://crm.example/1)**\n\nACME, 5 seats",
        ),
        ({"text": {"nested": True}, "blocks": "x", "attachments": [None, 3]}, ""),
    ],
)
def test_slack_markup_becomes_markdown(payload: Any, markdown: str) -> None:
    assert slack.message_text(payload) == markdown


# Slack's payloads as any tool might send them: JSON of any shape, strings full of markup.
MARKUP = [*"ab <>|*_~`!@#&;\n", "<!here>", "<https://x.example|", "&lt;", "javascript:"]
SLACKISH = st.lists(st.sampled_from(MARKUP), max_size=60).map("".join)
KEYS = ["text", "blocks", "attachments", "type", "fields", "elements", "title", "title_link"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | SLACKISH,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from([*KEYS, "pretext", "fallback"]), inner, max_size=5)
    ),
    max_leaves=20,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_webhook_payload_reads_without_error_and_renders_safely(payload: Any) -> None:
    text = slack.message_text(payload)
    assert isinstance(text, str)
    output = render(text)
    assert_safe(output)
    assert sanitise(output) == output
