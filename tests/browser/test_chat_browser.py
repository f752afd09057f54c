"""Chat in two real browsers, at desktop and phone widths: Alice writes to Bob from his
profile, Bob sees it arrive live with an unread badge, opens it and replies in a thread,
Alice sees him typing and his reply; Bob goes away, Alice's messages wait, and Bob finds
them all, in order, when he comes back."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from essaim.chat import services
from essaim.chat.models import Conversation, Message
from essaim.communities.models import Visibility
from tests.browser.test_shell_browser import fits_the_width, sign_in
from tests.conftest import Personas
from tests.test_communities import build

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]
LIVE = 15_000  # ms


def connected(page: Page) -> None:
    expect(page.locator("[data-events-state]").first).to_have_attribute(
        "data-events-state", "open", timeout=LIVE
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_alice_writes_bob_answers_in_a_thread_and_nothing_is_lost(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    alice, bob = personas.member, personas.hr
    bob_page = new_page(width, height)
    sign_in(bob_page, bob.email)
    bob_page.goto("/chat/")
    connected(bob_page)

    alice_page = new_page(width, height)
    sign_in(alice_page, alice.email)
    alice_page.goto(f"/people/{bob.pk}/")
    alice_page.get_by_role("button", name="Send a message").click()
    connected(alice_page)
    box = alice_page.get_by_label("Message", exact=True)
    box.fill("Hello **Bob**, lunch at noon?")
    box.press("Enter")
    expect(alice_page.locator(".chat-message").last).to_contain_text("Hello Bob, lunch at noon?")

    # Bob's open list shows the new conversation with its unread badge, without a reload.
    link = bob_page.get_by_role("link", name=alice.display_name)
    expect(link).to_be_visible(timeout=LIVE)
    expect(link.locator("[data-unread]")).to_have_text("1 unread")
    assert fits_the_width(bob_page)
    screenshot(bob_page, f"chat-unread-{width}")
    link.click()
    connected(bob_page)
    expect(bob_page.locator(".chat-message").last).to_contain_text("lunch at noon?")

    # Bob types: Alice sees it; then he replies in the thread and she sees the reply.
    bob_page.get_by_label("Message", exact=True).press_sequentially("Sure")
    expect(alice_page.locator("[data-typing]")).to_contain_text("Hr", timeout=LIVE)
    bob_page.get_by_label("Message", exact=True).fill("")
    bob_page.get_by_role("link", name="Reply in a thread").last.click()
    bob_page.get_by_label("Message", exact=True).fill("Yes, at the canteen.")
    bob_page.get_by_role("button", name="Send").click()
    expect(bob_page.locator(".chat-thread")).to_contain_text("Yes, at the canteen.")
    expect(alice_page.get_by_role("link", name="1 reply")).to_be_visible(timeout=LIVE)
    alice_page.get_by_role("link", name="1 reply").click()
    expect(alice_page.locator(".chat-thread")).to_contain_text("Yes, at the canteen.")
    assert fits_the_width(alice_page)
    screenshot(alice_page, f"chat-thread-{width}")

    # Bob goes away; Alice writes three more messages; Bob comes back and finds them all.
    conversation = Conversation.objects.get(kind="direct")
    bob_page.goto("about:blank")
    alice_page.goto(f"/chat/{conversation.pk}/")
    connected(alice_page)
    for n in (1, 2, 3):
        box = alice_page.get_by_label("Message", exact=True)
        box.fill(f"Follow-up {n}")
        box.press("Enter")
        expect(alice_page.locator(".chat-message").last).to_contain_text(f"Follow-up {n}")
    bob_page.goto("/chat/")
    expect(
        bob_page.get_by_role("link", name=alice.display_name).locator("[data-unread]")
    ).to_have_text("3 unread")
    bob_page.get_by_role("link", name=alice.display_name).click()
    texts = bob_page.locator(".chat-message .prose").all_inner_texts()
    assert texts[-4:] == ["Hello Bob, lunch at noon?", "Follow-up 1", "Follow-up 2", "Follow-up 3"]
    assert fits_the_width(bob_page)
    screenshot(bob_page, f"chat-conversation-{width}")
    top = Message.objects.filter(parent__isnull=True).order_by("id")
    assert [m.body for m in top][-3:] == ["Follow-up 1", "Follow-up 2", "Follow-up 3"]
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_the_help_line_in_the_browser(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    services.desk_save(actor=personas.admin, name="IT help", helpers=[personas.hr.pk])
    asker = new_page(width, height)
    sign_in(asker, personas.member.email)
    asker.goto("/chat/help/")
    asker.get_by_label("Your question").fill("My badge stopped working")
    asker.get_by_role("button", name="Ask the help line").click()
    expect(asker.locator(".help-status")).to_contain_text("Waiting")
    connected(asker)

    helper = new_page(width, height)
    sign_in(helper, personas.hr.email)
    helper.goto("/chat/help/")
    assert fits_the_width(helper)
    screenshot(helper, f"help-queue-{width}")
    helper.get_by_role("button", name="Take it").click()
    expect(helper.locator(".help-status")).to_contain_text("taken by Hr")
    box = helper.get_by_label("Message", exact=True)
    box.fill("Come to desk 3.")
    box.press("Enter")
    expect(asker.locator(".chat-message").last).to_contain_text("Come to desk 3.", timeout=LIVE)
    helper.get_by_role("button", name="Mark as resolved").click()
    asker.reload()
    asker.get_by_label("How was the help?").select_option("5")
    asker.get_by_role("button", name="Rate").click()
    expect(asker.get_by_label("How was the help?")).to_have_value("5")
    assert fits_the_width(asker)
    screenshot(asker, f"help-rated-{width}")
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_a_webhook_message_appears_live_in_the_channel(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    channel = services.channel_of(
        actor=personas.owner, community=build(personas, Visibility.PRIVATE)
    )
    reader = new_page(width, height)
    sign_in(reader, personas.member.email)
    reader.goto(f"/chat/{channel.pk}/")
    connected(reader)

    animator = new_page(width, height)
    sign_in(animator, personas.animator.email)
    animator.goto(f"/chat/{channel.pk}/")
    animator.get_by_role("link", name="Webhooks").click()
    animator.get_by_label("Name (shown as the author of its messages)").fill("Build server")
    animator.get_by_role("button", name="Create the webhook").click()
    url = animator.get_by_role("textbox", name="Address").input_value()
    assert fits_the_width(animator)
    screenshot(animator, f"chat-webhook-{width}")

    # What a tool made for Slack sends.
    slack = {"text": "Build *passed* on <https://ci.example.com/7|main>", "username": "ci"}
    request = urllib.request.Request(
        url, json.dumps(slack).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.read() == b"ok"
    last = reader.locator(".chat-message").last
    expect(last).to_contain_text("Build passed on main", timeout=LIVE)
    expect(last.locator("strong")).to_have_text("passed")
    expect(last.get_by_role("link", name="main")).to_have_attribute(
        "href", "https://ci.example.com/7"
    )
    expect(last.locator(".chat-message-head")).to_contain_text("Build server")
    assert fits_the_width(reader)
    screenshot(reader, f"chat-webhook-live-{width}")
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_presence_receipts_and_quotes_live(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    alice, bob = personas.member, personas.hr
    direct, _new = services.direct_open(actor=alice, person=bob)
    services.message_send(actor=alice, conversation=direct, body="Did you see the figures?")
    bob_page = new_page(width, height)
    sign_in(bob_page, bob.email)
    bob_page.goto("/chat/")
    connected(bob_page)

    alice_page = new_page(width, height)
    sign_in(alice_page, alice.email)
    alice_page.goto(f"/chat/{direct.pk}/")
    connected(alice_page)
    line = alice_page.locator("[data-presence]")
    # Connected (a background page may show him away).
    expect(line).to_have_attribute("data-status", re.compile("online|away"), timeout=LIVE)
    expect(alice_page.locator("[data-seen]")).to_have_count(0)

    # Bob opens it: Alice sees that he read it.
    bob_page.get_by_role("link", name=alice.display_name).click()
    expect(alice_page.locator("[data-seen]")).to_have_text("Seen by Hr", timeout=LIVE)

    # Bob asks not to be disturbed (from the conversations list, as on a phone): Alice's
    # page says so, and why her message will wait.
    bob_page.goto("/chat/")
    bob_page.get_by_label("My availability").select_option("dnd")
    bob_page.get_by_role("button", name="Set", exact=True).click()
    expect(bob_page.get_by_label("My availability")).to_have_value("dnd")
    expect(line).to_have_attribute("data-status", "dnd", timeout=LIVE)
    expect(line).to_contain_text("Do not disturb")
    expect(alice_page.locator("[data-dnd-note]")).to_be_visible()

    # Bob quotes her message in his answer.
    bob_page.get_by_role("link", name=alice.display_name).click()
    bob_page.get_by_role("link", name="Quote").first.click()
    box = bob_page.get_by_label("Message", exact=True)
    expect(box).to_have_value("> Did you see the figures?\n> — Member\n\n")
    box.press("Control+End")
    box.press_sequentially("Yes, all good.")
    box.press("Enter")
    answer = alice_page.locator(".chat-message").last
    expect(answer.locator("blockquote")).to_contain_text("Did you see the figures?", timeout=LIVE)
    expect(answer).to_contain_text("Yes, all good.")
    assert fits_the_width(alice_page) and fits_the_width(bob_page)
    screenshot(alice_page, f"chat-presence-{width}")
    screenshot(bob_page, f"chat-quote-{width}")
    assert console_errors == []


def test_scrolling_up_brings_earlier_messages(
    new_page: NewPage, personas: Personas, console_errors: list[str], settings: Any
) -> None:
    settings.CHAT_MESSAGES_PER_WINDOW = 1000
    direct, _new = services.direct_open(actor=personas.member, person=personas.hr)
    for n in range(120):
        services.message_send(actor=personas.hr, conversation=direct, body=f"Note {n}")
    page = new_page(375, 740)
    sign_in(page, personas.member.email)
    page.goto(f"/chat/{direct.pk}/")
    messages = page.locator("#messages [data-message]")
    expect(messages).to_have_count(50)
    for shown in (100, 120):
        page.wait_for_timeout(600)  # the page first scrolls to its newest message
        page.locator("[data-earlier]").scroll_into_view_if_needed()
        expect(messages).to_have_count(shown)
    expect(page.locator("[data-earlier]")).to_have_count(0)
    ids = [int(i) for i in messages.evaluate_all("items => items.map(i => i.dataset.message)")]
    assert ids == sorted(ids) and len(set(ids)) == 120
    expect(messages.first).to_contain_text("Note 0")
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_followed_threads_and_bots_pages(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    channel = services.channel_of(
        actor=personas.owner, community=build(personas, Visibility.PRIVATE)
    )
    root, _ = services.message_send(
        actor=personas.member, conversation=channel, body="Who reviews the Q3 budget?"
    )
    services.message_send(actor=personas.owner, conversation=channel, body="Me", parent=root)
    page = new_page(width, height)
    sign_in(page, personas.member.email)
    page.goto("/chat/")
    page.get_by_role("link", name="Threads I follow").click()
    item = page.locator(".chat-thread-item")
    expect(item).to_contain_text("Who reviews the Q3 budget?")
    expect(item).to_contain_text("1 new reply")
    assert fits_the_width(page)
    screenshot(page, f"chat-threads-{width}")
    item.get_by_role("link").click()
    expect(page.get_by_role("button", name="Following")).to_be_visible()

    admin = new_page(width, height)
    sign_in(admin, personas.admin.email)
    admin.goto("/manage/bots/")
    admin.get_by_label("Name").fill("Standup bot")
    admin.get_by_label("What it does").fill("Asks the daily questions")
    admin.get_by_role("button", name="Create the bot").click()
    expect(admin.get_by_role("textbox", name="Token")).to_have_value(re.compile("^ess_"))
    expect(admin.get_by_role("row", name=re.compile("Standup bot"))).to_be_visible()
    assert fits_the_width(admin)
    screenshot(admin, f"chat-bots-{width}")
    assert console_errors == []
