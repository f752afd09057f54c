"""The directory in a real browser: find a colleague by a misspelled name, filter by site
and skill, open the profile, follow them, open the org chart; at desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from essaim.accounts.models import User
from essaim.directory import services
from essaim.directory.models import TopicKind
from essaim.http import CLI
from tests.browser.test_shell_browser import fits_the_width, sign_in
from tests.conftest import Personas, make_user

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]


def colleague(hr: User, key: str, name: str, **changes: object) -> User:
    person = make_user(key)
    person.display_name = name
    person.save()
    services.profile_update(actor=hr, person=person, origin=CLI, changes=changes)
    return person


@pytest.fixture
def company(personas: Personas) -> dict[str, User]:
    hr = personas.hr
    direction = services.org_unit_save(actor=hr, origin=CLI, name="Direction", parent=None)
    data = services.org_unit_save(actor=hr, origin=CLI, name="Data", parent=direction)
    lyon = services.site_save(actor=hr, origin=CLI, name="Lyon", city="Lyon", country="FR")
    paris = services.site_save(actor=hr, origin=CLI, name="Paris", city="Paris", country="FR")
    boss = colleague(hr, "boss", "Hélène Marchand", job_title="Head of data", site=paris,
                     org_unit=data)  # fmt: skip
    people = {"boss": boss}
    for key, name, site, skill in [
        ("eloise", "Éloïse Fontaine", lyon, "Python"),
        ("elodie", "Élodie Fontanet", paris, "Python"),
        ("eliott", "Eliott Fontaine", lyon, "Excel"),
    ]:
        person = colleague(hr, key, name, job_title="Data analyst", site=site, org_unit=data,
                           manager=boss)  # fmt: skip
        services.topics_set(actor=person, person=person, origin=CLI, kind=TopicKind.SKILL,
                            items=[(skill, 3)])  # fmt: skip
        people[key] = person
    return people


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_find_filter_open_follow_and_see_the_org_chart(
    new_page: NewPage,
    personas: Personas,
    company: dict[str, User],
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    page = new_page(width, height)
    sign_in(page, personas.member.email)
    page.get_by_role("link", name="Directory").click()
    expect(page.get_by_role("heading", name="Directory")).to_be_visible()

    # A misspelled name, typed as a person types: results follow without a click.
    page.get_by_label("Search people by name, job, skill or place").press_sequentially(
        "fontiane", delay=20
    )
    results = page.locator("#people-results")
    expect(results.get_by_text("Showing results for")).to_be_visible()
    # One typo away ranks before two typos away ("Fontanet").
    expect(results.locator(".person-name")).to_have_text(
        ["Eliott Fontaine", "Éloïse Fontaine", "Élodie Fontanet"]
    )
    assert fits_the_width(page)
    screenshot(page, f"directory-typo-{width}")

    # Filters: on a phone they fold away behind a button.
    if width < 600:
        page.get_by_text("Filters", exact=True).click()
    page.get_by_role("checkbox", name=re.compile(r"^Lyon")).check()
    expect(results.get_by_text("2 people")).to_be_visible()  # Fontanet works in Paris
    page.get_by_role("checkbox", name=re.compile(r"^Python")).check()
    expect(results.get_by_text("1 person")).to_be_visible()
    expect(page).to_have_url(re.compile(r"site=\d+.*skill=\d+|skill=\d+.*site=\d+"))
    screenshot(page, f"directory-filtered-{width}")

    results.get_by_role("link", name="Éloïse Fontaine").click()
    expect(page.get_by_role("heading", name="Éloïse Fontaine")).to_be_visible()
    expect(page.locator(".skill-name")).to_have_text(["Python"])
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("button", name=re.compile("Following"))).to_be_visible()
    expect(page.get_by_role("link", name="1 follower")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"profile-{width}")

    page.get_by_role("link", name="Org chart").click()
    expect(page.get_by_role("heading", name="Org chart of Éloïse Fontaine")).to_be_visible()
    chain = page.locator(".chain")
    expect(chain.get_by_text("Hélène Marchand")).to_be_visible()
    expect(page.locator(".chart-grid").get_by_text("Eliott Fontaine")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"org-chart-{width}")
    # Up the chain: the manager's chart lists her three reports.
    chain.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="3 direct reports")).to_be_visible()
    assert console_errors == [], "\n".join(console_errors)


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_an_administrator_adds_a_profile_field_and_a_unit(
    new_page: NewPage,
    personas: Personas,
    company: dict[str, User],
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    page = new_page(width, height)
    sign_in(page, personas.admin.email)
    page.goto("/manage/profile-fields/")
    page.get_by_label("Key").fill("badge")
    page.get_by_label("Label").fill("Badge number")
    page.get_by_label("Visible to").select_option(label="Administrators and HR only")
    page.get_by_role("button", name="Save the field").click()
    expect(page.get_by_text("The field “Badge number” is saved.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Badge number"))
    expect(row).to_contain_text("Administrators and HR only")
    assert fits_the_width(page)
    screenshot(page, f"profile-fields-admin-{width}")
    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Label")).to_have_value("Badge number")

    page.goto("/manage/organisation/")
    page.get_by_label("Name").first.fill("Data science")
    page.get_by_role("button", name="Save the unit").click()
    expect(page.get_by_role("link", name="Data science", exact=True)).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"organisation-admin-{width}")
    assert console_errors == [], "\n".join(console_errors)
