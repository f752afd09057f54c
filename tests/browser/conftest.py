"""Browser fixtures: Debian's Chromium driven by Playwright, one browser for the whole run
of the browser tests and a fresh context (cookies, storage) per test. No browser is ever
downloaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP", e.violatedDirective, `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
  e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : String(e.target)));
"""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Package scope, not session: while Playwright runs, its asyncio loop stays current in this
# thread, and Django refuses database calls from a thread with a running loop. Stopping it
# after the last browser test keeps the tests that run afterwards unaffected.
@pytest.fixture(scope="package")
def browser(django_db_setup: None) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            "BROWSER TESTS SKIPPED: Debian's chromium is not installed (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Meanwhile the tests and their fixtures may use the database from this thread: the
    # server they talk to runs in its own thread, so nothing here is really concurrent.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught exceptions (CSP violations included) of every page."""
    return []


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, transactional_db: None, console_errors: list[str]
) -> Iterator[Callable[..., Page]]:
    """new_page(width, height, javascript=True): a page in a fresh context."""
    contexts: list[BrowserContext] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"console: {message.text}")

    def on_page_error(error: Exception) -> None:
        console_errors.append(f"pageerror: {error}")

    def make(width: int = 1280, height: int = 800, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            locale="en-US",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(5000)
        # Name the element and script behind any CSP violation in the console errors.
        context.add_init_script(CSP_REPORTER)
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """screenshot(page, name): a full-page PNG in test-artifacts/ at the repository root."""

    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
