"""The live activity panel of the home page in a real browser, over the WebSocket of the
ASGI server: a colleague joining one of my communities shows up without a reload, a
community I am not in stays out until I join it, the server restarting under the open page
loses nothing and repeats nothing, and a session that ended stops the socket quietly. At
desktop and phone widths."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from essaim.communities import services
from essaim.communities.models import Visibility
from essaim.http import CLI
from tests.browser.conftest import AsgiServer
from tests.browser.test_shell_browser import fits_the_width, sign_in
from tests.conftest import Personas

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]

# What Chromium logs while the server is down, on purpose here: the socket's attempts.
OUTAGE = ("WebSocket connection to", "ERR_CONNECTION_REFUSED")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_live_activity_arrives_and_survives_a_server_restart(
    new_page: NewPage,
    asgi_live_server: AsgiServer,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    design = services.community_create(
        actor=personas.owner, origin=CLI, name="Design guild", visibility=Visibility.PUBLIC
    )
    sales = services.community_create(
        actor=personas.hr, origin=CLI, name="Sales club", visibility=Visibility.PUBLIC
    )
    services.join(actor=personas.member, community=design)

    page = new_page(width, height)
    sign_in(page, personas.member.email)
    panel = page.get_by_role("region", name="Live activity")
    expect(panel).to_be_visible()
    expect(panel.get_by_text("When people join or leave your communities")).to_be_visible()
    expect(panel).to_have_attribute("data-events-state", "open")
    expect(panel.get_by_text("Live", exact=True)).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"live-activity-empty-{width}")
    items = panel.get_by_role("listitem")

    # Live, without a reload; a public community I am not in does not show.
    services.join(actor=personas.animator, community=sales)
    services.join(actor=personas.animator, community=design)
    expect(items).to_have_text(["Animator joined Design guild 3 members"])
    expect(panel.get_by_role("link", name="Design guild")).to_have_attribute(
        "href", f"/c/{design.slug}/"
    )
    expect(panel.get_by_role("list")).to_have_attribute("aria-live", "polite")

    # The server restarts: the page waits, then resumes from the last event it received.
    asgi_live_server.stop()
    expect(panel).to_have_attribute("data-events-state", "retrying")
    expect(panel.get_by_text("Reconnecting…")).to_be_visible()
    screenshot(page, f"live-activity-reconnecting-{width}")
    services.leave(actor=personas.animator, community=design)
    services.join(actor=personas.hr, community=design)
    asgi_live_server.start()
    expect(panel).to_have_attribute("data-events-state", "open", timeout=10_000)
    expect(items).to_have_text(
        [
            "Hr joined Design guild 3 members",
            "Animator left Design guild 2 members",
            "Animator joined Design guild 3 members",
        ]
    )

    # I join a community elsewhere: the panel learns its name from the page, then shows it.
    # Events come in order, so a repeat of the ones above would show before this one.
    services.join(actor=personas.member, community=sales)
    expect(items.first).to_have_text("Member joined Sales club 3 members")
    expect(items).to_have_count(4)
    assert fits_the_width(page)
    screenshot(page, f"live-activity-{width}")

    # Signed out in another tab: the socket closes for good (4401), no retries, no alarm.
    other = page.context.new_page()
    other.goto("/")
    other.locator("details.usermenu summary").click()
    other.get_by_role("button", name="Sign out").click()
    expect(panel).to_have_attribute("data-events-state", "stopped")
    expect(panel.get_by_text("Reconnecting…")).to_be_hidden()
    expect(panel.get_by_text("Live", exact=True)).to_be_hidden()
    time.sleep(1.5)
    expect(panel).to_have_attribute("data-events-state", "stopped")

    unexpected = [e for e in console_errors if not any(o in e for o in OUTAGE)]
    assert unexpected == [], "\n".join(unexpected)


def test_a_session_that_died_while_the_server_was_down_stops_the_socket(
    new_page: NewPage,
    asgi_live_server: AsgiServer,
    personas: Personas,
    console_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, personas.member.email)
    panel = page.get_by_role("region", name="Live activity")
    expect(panel).to_have_attribute("data-events-state", "open")
    asgi_live_server.stop()
    expect(panel).to_have_attribute("data-events-state", "retrying")
    Session.objects.all().delete()  # signed out meanwhile
    asgi_live_server.start()
    # The server accepts the socket only to close it with 4401: the script stops instead
    # of retrying forever.
    expect(panel).to_have_attribute("data-events-state", "stopped", timeout=10_000)
    expect(panel.get_by_text("Reconnecting…")).to_be_hidden()
    unexpected = [e for e in console_errors if not any(o in e for o in OUTAGE)]
    assert unexpected == [], "\n".join(unexpected)


def test_a_community_page_counts_its_members_live(
    new_page: NewPage, asgi_live_server: AsgiServer, personas: Personas
) -> None:
    design = services.community_create(
        actor=personas.owner, origin=CLI, name="Design guild", visibility=Visibility.PUBLIC
    )
    page = new_page(375, 740)
    sign_in(page, personas.member.email)
    page.goto(f"/c/{design.slug}/")
    count = page.get_by_role("link", name="1 member", exact=True)
    expect(count).to_be_visible()
    expect(count).to_have_attribute("data-events-state", "open")
    services.join(actor=personas.animator, community=design)
    expect(page.get_by_role("link", name="2 members", exact=True)).to_be_visible()
    services.leave(actor=personas.animator, community=design)
    expect(count).to_be_visible()
