"""Communities in a real browser: create a secret project community with an end date,
invite a colleague, who sees it; a third person gets "not found" for its address; archive
it; an external customer signs in and sees only their external community. At desktop and
phone widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from essaim.communities import services
from essaim.communities.models import Visibility
from essaim.http import CLI
from tests.browser.test_shell_browser import fits_the_width, sign_in
from tests.conftest import Personas

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_a_secret_project_community_from_creation_to_archive(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    services.community_create(
        actor=personas.hr, origin=CLI, name="Internal news", visibility=Visibility.PUBLIC
    )
    customers = services.community_create(
        actor=personas.owner, origin=CLI, name="Customer club", visibility=Visibility.EXTERNAL
    )
    services.invite(
        actor=personas.owner, origin=CLI, community=customers, people=[personas.external]
    )

    page = new_page(width, height)
    sign_in(page, personas.owner.email)
    page.get_by_role("link", name="Communities").first.click()
    page.get_by_role("link", name="Create a community").click()
    page.get_by_label("Name").fill("Project Apollo")
    page.get_by_label("Secret: only its members know it exists").check()
    page.get_by_label("Confidential").check()
    page.get_by_label("Type").select_option(label="Project")
    page.get_by_label("End date").fill("2027-06-30")
    page.get_by_label("Description").fill("Landing on the moon, quietly.")
    assert fits_the_width(page)
    screenshot(page, f"community-new-{width}")
    page.get_by_role("button", name="Create the community").click()
    expect(page.get_by_role("heading", name="Project Apollo")).to_be_visible()
    expect(page.get_by_text("What is shared here stays here")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"community-home-{width}")

    page.get_by_role("link", name="1 member").click()
    page.get_by_label("People").fill(personas.member.email)
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.get_by_text("1 invitation sent.")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"community-members-{width}")
    address = page.url.replace("/members/", "/")

    # The colleague sees the invitation and the community, and accepts.
    colleague = new_page(width, height)
    sign_in(colleague, personas.member.email)
    colleague.goto("/communities/")
    expect(colleague.get_by_role("heading", name="Invitations")).to_be_visible()
    colleague.get_by_role("link", name="Project Apollo").click()
    colleague.get_by_role("button", name="Accept the invitation").click()
    expect(colleague.get_by_role("button", name="Leave")).to_be_visible()

    # A third person: not found, like an address that never existed.
    third = new_page(width, height)
    sign_in(third, personas.outsider.email)
    response = third.goto(address)
    assert response is not None and response.status == 404
    missing = third.goto(re.sub(r"/c/[^/]+/", "/c/no-such-community/", address))
    assert missing is not None and missing.status == 404
    expected = "the server responded with a status of 404"
    console_errors[:] = [e for e in console_errors if expected not in e]  # those two, meant
    third.goto("/communities/?scope=all&q=apollo")
    expect(third.get_by_text("No community here.")).to_be_visible()

    # A cover image, cut to a band.
    cover = tmp_path / "cover.png"
    Image.linear_gradient("L").resize((1600, 900)).convert("RGB").save(cover)
    page.goto(address + "settings/")
    page.get_by_label("Image", exact=True).set_input_files(cover)
    page.get_by_role("button", name="Upload the cover").click()
    page.goto(address)
    expect(page.locator("img.community-cover")).to_be_visible()
    assert page.evaluate("document.querySelector('img.community-cover').naturalWidth") > 0
    assert fits_the_width(page)
    screenshot(page, f"community-cover-{width}")

    # The owner archives it: read-only, and it leaves the list of live communities.
    page.goto(address + "settings/")
    page.get_by_role("button", name="Archive the community").click()
    expect(page.get_by_text(re.compile("Archived on .*: read-only"))).to_be_visible()
    colleague.goto(address)
    expect(colleague.get_by_text(re.compile("Archived on"))).to_be_visible()

    # The customer sees their external community and nothing else.
    customer = new_page(width, height)
    sign_in(customer, personas.external.email)
    customer.goto("/communities/")
    customer.get_by_role("button", name="Accept").click()
    customer.goto("/communities/?scope=all")
    listed = customer.get_by_role("region", name="Communities")
    expect(listed.get_by_role("link", name="Customer club")).to_be_visible()
    expect(customer.get_by_text("Internal news")).to_have_count(0)
    expect(customer.get_by_text("Project Apollo")).to_have_count(0)
    assert fits_the_width(customer)
    screenshot(customer, f"community-external-{width}")
    assert console_errors == [], "\n".join(console_errors)
