"""The web shell in a real browser: sign-in, language switch, keyboard, CSP, phone widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.conftest import PASSWORD, Personas

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def dialogs_of(page: Page) -> list[str]:
    """The messages of every dialog the page opens from now on (each dismissed): an
    injected alert() that ran."""
    opened: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def probe_for_scripts(page: Page, path: str) -> None:
    """Open ``path`` and stir it (mouse-over, focus): no injected script may have run."""
    page.goto(path)
    page.mouse.move(200, 300)  # mouse-over handlers, had any survived
    page.keyboard.press("Tab")
    assert page.evaluate("typeof window.__xss") == "undefined", path


def fits_the_width(page: Page) -> bool:
    # A click may have started a navigation: measure the new page once it has loaded,
    # not the empty document it begins with.
    page.wait_for_load_state()
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_member_signs_in_and_switches_to_french(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    page = new_page(width, height)
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to Essaim")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"login-en-{width}")

    sign_in(page, personas.member.email)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Hello, Member")).to_be_visible()
    expect(page.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    assert fits_the_width(page)
    screenshot(page, f"home-en-{width}")

    # Choosing with the pointer sends the form at once (app.js).
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Bonjour, Member")).to_be_visible()
    expect(page.get_by_role("link", name="Accueil")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.reload()
    expect(page.get_by_role("link", name="Accueil")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert fits_the_width(page)
    screenshot(page, f"home-fr-{width}")
    assert console_errors == []


def test_wrong_password_shows_the_error_and_stays_on_sign_in(
    new_page: NewPage, personas: Personas, console_errors: list[str]
) -> None:
    page = new_page()
    sign_in(page, personas.member.email, password="not the password")
    expect(page.get_by_role("alert")).to_contain_text(
        "This e-mail and password do not match an active account."
    )
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Sign in to Essaim")).to_be_visible()
    assert console_errors == []


def test_language_switch_works_without_javascript(
    new_page: NewPage, transactional_db: None
) -> None:
    page = new_page(375, 740, javascript=False)
    page.goto("/accounts/login/")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="Connexion à Essaim")).to_be_visible()
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()


def test_first_tab_focuses_the_skip_link(new_page: NewPage, personas: Personas) -> None:
    page = new_page()
    sign_in(page, personas.member.email)
    expect(page.get_by_role("heading", name="Hello, Member")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_pages_raise_no_console_error_or_csp_violation(
    new_page: NewPage, personas: Personas, console_errors: list[str]
) -> None:
    page = new_page()
    sign_in(page, personas.admin.email)
    expect(page.get_by_role("heading", name="Hello, Admin")).to_be_visible()

    page.get_by_text("Admin", exact=True).click()  # opens the user menu
    page.get_by_role("link", name="API tokens", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Reporting script")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create the token").click()
    expect(page.get_by_label("Token", exact=True)).to_have_value(re.compile(r"\S{20,}"))

    for path in ["/settings/", "/manage/people/", "/manage/audit/", "/accounts/password-reset/"]:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_member_changes_the_password_from_the_settings(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    page = new_page(width, height)
    sign_in(page, personas.member.email)
    page.goto("/settings/")
    page.get_by_role("link", name="Password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a fresh passphrase 314")
    page.get_by_label("New password confirmation").fill("a fresh passphrase 314")
    assert fits_the_width(page)
    screenshot(page, f"password-change-{width}")
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/settings/$"))  # still signed in
    screenshot(page, f"password-changed-{width}")
    assert console_errors == []
