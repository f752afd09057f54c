"""Notifications in a real browser, at desktop and phone widths: a mention shows up live
in the notification centre and on the badge of another page; reactions come grouped;
silencing a community from the settings keeps its mentions away."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from essaim.communities import services as community_services
from essaim.communities.models import Membership, Role, Visibility
from essaim.content import services as content
from essaim.http import CLI
from tests.browser.test_shell_browser import fits_the_width, sign_in
from tests.conftest import Personas

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]
LIVE = 15_000  # ms


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_live_mentions_grouped_reactions_and_a_silenced_community(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    team = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Équipe projet", visibility=Visibility.PRIVATE
    )
    Membership.objects.create(community=team, user=personas.member, role=Role.MEMBER)
    for person in (personas.animator, personas.hr):
        Membership.objects.create(community=team, user=person, role=Role.MEMBER)
    page = new_page(width, height)
    sign_in(page, personas.member.email)

    # The centre is open: a mention arrives live, the badge counts it.
    page.goto("/notifications/")
    expect(page.locator(".notification-list")).to_have_count(0)
    expect(page.locator("[data-events-from]").first).to_have_attribute("data-events-state", "open")
    mention = f"@**Member|{personas.member.pk}** peux-tu relire le planning ?"
    post = content.post_create(actor=personas.owner, community=team, body=mention)
    item = page.locator(".notification").first
    expect(item).to_contain_text("Owner mentioned you in", timeout=LIVE)
    expect(page.locator(".nav-count")).to_have_text("1 unread", timeout=LIVE)

    # On another page, the badge follows the reactions: three people, one notification.
    mine = content.post_create(actor=personas.member, community=team, body="Livraison vendredi")
    page.goto("/communities/")
    for person in (personas.owner, personas.animator, personas.hr):
        content.react(actor=person, post=mine, kind="like")
    expect(page.locator(".nav-count")).to_have_text("2 unread", timeout=LIVE)
    page.locator("[data-notification-badge]").click()
    grouped = page.locator(".notification-reaction")
    expect(grouped).to_have_count(1)
    expect(grouped).to_contain_text("Hr and 2 others reacted to Livraison vendredi")
    screenshot(page, f"notifications-centre-{width}")
    assert fits_the_width(page)

    # Opening it goes to the post and reads it.
    page.locator(".notification-mention a").click()
    expect(page).to_have_url(f"/posts/{post.pk}/")
    expect(page.locator(".nav-count")).to_have_text("1 unread")

    # Settings: silence the community; its next mention never shows.
    page.goto("/notifications/settings/")
    page.select_option(f"#level-{team.pk}", "nothing")
    page.locator(f"#level-{team.pk} ~ button").click()
    expect(page.locator(".message-success")).to_be_visible()
    expect(page.locator(f"#level-{team.pk}")).to_have_value("nothing")
    screenshot(page, f"notifications-settings-{width}")
    assert fits_the_width(page)
    page.goto("/notifications/")
    content.post_create(actor=personas.owner, community=team, body=f"{mention} (bis)")
    content.post_create(
        actor=personas.owner, community=None, body=f"@**Member|{personas.member.pk}** au fait"
    )
    # The profile post's mention arrives; the silenced community's never does.
    expect(page.locator(".notification").first).to_contain_text("au fait", timeout=LIVE)
    expect(page.locator(".notification-mention")).to_have_count(2)
    assert console_errors == []
